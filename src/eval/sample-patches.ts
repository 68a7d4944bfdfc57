import type { PatchGeometry } from "../model/geometry";
import { seededRandom } from "../util/random";

/**
 * The paper's patch sampling: a random 3x3 block of patches that lies wholly inside the real
 * (unpadded) image, whose centre patch is the one interpreted. Seeded, so an evaluation is
 * repeatable; the grid comes from the geometry, never a constant.
 *
 * @returns the index (row-major) of the centre patch
 */
export function sampleCentrePatch(patches: readonly PatchGeometry[], grid: readonly [number, number], seed: number): number {
  const [rows, cols] = grid;
  if (patches.length !== rows * cols) throw new RangeError(`sampleCentrePatch: ${patches.length} patches for a ${rows}x${cols} grid`);
  const inside = (r: number, c: number) => patches[r * cols + c].coverage >= 1;
  const centres: number[] = [];
  for (let r = 1; r < rows - 1; r++) {
    for (let c = 1; c < cols - 1; c++) {
      let ok = true;
      for (let dr = -1; dr <= 1 && ok; dr++) for (let dc = -1; dc <= 1 && ok; dc++) ok = inside(r + dr, c + dc);
      if (ok) centres.push(r * cols + c);
    }
  }
  if (centres.length === 0) throw new RangeError(`sampleCentrePatch: no 3x3 block of the ${rows}x${cols} grid lies inside the unpadded image`);
  return centres[Math.floor(seededRandom(seed)() * centres.length)];
}
