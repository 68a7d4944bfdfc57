import { imageTokenLayout, type ImageToken } from "./layout";
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

/**
 * One visual token as the LLM receives it: a grid patch, a token of a tiled image's base tile, or a
 * newline token (not a patch: no box).
 */
export interface ImageTokenGeometry {
  /** Index among the visual tokens (the vision graph's output order). */
  index: number;
  kind: ImageToken["kind"];
  /** Tiled images: 0 for the base tile, 1 + (tile row x tile cols + tile col) for the others; plain bundles: 0. */
  tile: number;
  /** Row and column in the grid of its kind (the base tile's own grid for `base`); a newline's row, and col -1. */
  row: number;
  col: number;
  /** Box `[x0, y0, x1, y1]` in original-image pixels; null for a newline. */
  box: [number, number, number, number] | null;
  isPatch: boolean;
}

/**
 * The geometry of every visual token, in order (docs/bundle-format.md, `vision.layout`). Grid
 * patches map through the preprocessing's coordinate map, as in `patchGeometry`; a base tile's
 * tokens cover the whole original image, which the base tile shows resized exactly.
 */
export function imageTokenGeometry(manifest: BundleManifest, pre: Preprocessed): ImageTokenGeometry[] {
  const patches = patchGeometry(manifest, pre);
  const [rows, cols] = manifest.vision.grid;
  const tiles = manifest.vision.preprocess.tiles;
  const perTile = tiles ? [rows / tiles.grid[0], cols / tiles.grid[1]] : [rows, cols];
  const { width: ow, height: oh } = pre.original;
  return imageTokenLayout(manifest.vision).map((t, index) => {
    if (t.kind === "newline") return { index, kind: t.kind, tile: 0, row: t.row, col: -1, box: null, isPatch: false };
    if (t.kind === "base") {
      const [br, bc] = manifest.vision.layout!.base_grid;
      const box: [number, number, number, number] = [(t.col * ow) / bc, (t.row * oh) / br, ((t.col + 1) * ow) / bc, ((t.row + 1) * oh) / br];
      return { index, kind: t.kind, tile: 0, row: t.row, col: t.col, box, isPatch: false };
    }
    const tile = tiles ? 1 + Math.floor(t.row / perTile[0]) * tiles.grid[1] + Math.floor(t.col / perTile[1]) : 0;
    return { index, kind: t.kind, tile, row: t.row, col: t.col, box: patches[t.row * cols + t.col].box, isPatch: true };
  });
}
