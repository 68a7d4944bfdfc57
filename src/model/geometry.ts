import type { BundleManifest } from "./manifest";
import type { AxisMap, Preprocessed } from "./preprocess";

/** Where one visual token sits: its grid cell and the box it covers in the original image. */
export interface PatchGeometry {
  /** Index of the visual token (row-major). */
  index: number;
  row: number;
  col: number;
  /** Box `[x0, y0, x1, y1]` in original-image pixels, clipped to the image. */
  box: [number, number, number, number];
  /** Share (0..1) of the patch's area that shows real image content rather than padding. */
  coverage: number;
  /** True when the patch shows no image content at all (pure padding). */
  isPadding: boolean;
}

function toOriginal(v: number, map: AxisMap): number {
  return (v - map.offset) / map.scale;
}

/**
 * The geometry of every visual token, computed from the grid in the manifest (never a hard-coded
 * grid) and the coordinate map the preprocessing recorded.
 */
export function patchGeometry(manifest: BundleManifest, pre: Preprocessed): PatchGeometry[] {
  const [rows, cols] = manifest.vision.grid;
  const cellH = pre.height / rows;
  const cellW = pre.width / cols;
  const { width: ow, height: oh } = pre.original;
  const patches: PatchGeometry[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const x0 = toOriginal(col * cellW, pre.x);
      const x1 = toOriginal((col + 1) * cellW, pre.x);
      const y0 = toOriginal(row * cellH, pre.y);
      const y1 = toOriginal((row + 1) * cellH, pre.y);
      const cx0 = Math.max(0, Math.min(ow, x0));
      const cx1 = Math.max(0, Math.min(ow, x1));
      const cy0 = Math.max(0, Math.min(oh, y0));
      const cy1 = Math.max(0, Math.min(oh, y1));
      const area = (x1 - x0) * (y1 - y0);
      const coverage = area > 0 ? ((cx1 - cx0) * (cy1 - cy0)) / area : 0;
      patches.push({
        index: row * cols + col,
        row,
        col,
        box: [cx0, cy0, cx1, cy1],
        coverage,
        isPadding: coverage <= 0,
      });
    }
  }
  return patches;
}
