import type { BundleManifest } from "./manifest";

/**
 * What each visual token is, in the order the vision graph emits them. A plain bundle has only
 * grid patches, row-major. A tiled image (LLaVA-OneVision, `vision.layout`) has the base tile's
 * tokens first (the whole image at one tile's size), then the grid of its tiles' tokens row by row,
 * each row closed by a newline token, which is not a patch.
 */
export type ImageToken =
  | { kind: "patch"; row: number; col: number }
  | { kind: "base"; row: number; col: number }
  | { kind: "newline"; row: number };

type Vision = Pick<BundleManifest["vision"], "grid" | "layout">;

/** How many visual tokens the vision graph emits for this layout. */
export function layoutTokenCount(vision: Vision): number {
  const [rows, cols] = vision.grid;
  if (!vision.layout) return rows * cols;
  const [br, bc] = vision.layout.base_grid;
  return br * bc + rows * (cols + (vision.layout.newline ? 1 : 0));
}

/** Every visual token's role, in visual-token order. */
export function imageTokenLayout(vision: Vision): ImageToken[] {
  const [rows, cols] = vision.grid;
  const out: ImageToken[] = [];
  if (vision.layout) {
    const [br, bc] = vision.layout.base_grid;
    for (let row = 0; row < br; row++) for (let col = 0; col < bc; col++) out.push({ kind: "base", row, col });
  }
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) out.push({ kind: "patch", row, col });
    if (vision.layout?.newline) out.push({ kind: "newline", row });
  }
  return out;
}

/** For each grid patch (row-major), the index of its visual token. The identity for plain bundles. */
export function patchTokenIndices(vision: Vision): number[] {
  const out: number[] = [];
  imageTokenLayout(vision).forEach((t, i) => {
    if (t.kind === "patch") out.push(i);
  });
  return out;
}
