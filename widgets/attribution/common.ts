import type { AttributionResult, HeadPositions } from "vislens";
import { preprocessedRgb, rgbDataURL } from "../data/image";

/** Validates the shape of an attribution result before a widget reads it. */
export function checkResult(where: string, r: AttributionResult): void {
  if (!r || typeof r !== "object" || !(r.headScores instanceof Float64Array) || !Array.isArray(r.patches)) {
    throw new TypeError(`${where}: expected the result of attributeAnswer(), got ${Object.prototype.toString.call(r)}`);
  }
  if (r.headScores.length !== r.numLayers * r.numHeads) throw new RangeError(`${where}: headScores has ${r.headScores.length} values for ${r.numLayers} x ${r.numHeads} heads`);
}

/** The head whose position map is asked for, among those that have one. */
export function pickHead(where: string, r: AttributionResult, head?: { layer: number; head: number }): HeadPositions | undefined {
  if (!head) return undefined;
  const found = r.headPositions.find((h) => h.layer === head.layer && h.head === head.head);
  if (!found) {
    const have = r.headPositions.map((h) => `${h.layer}.${h.head}`).join(", ") || "none";
    throw new RangeError(`${where}: head ${head.layer}.${head.head} has no position scores (computed for: ${have}); pass it in attributeAnswer's heads option`);
  }
  return found;
}

/** A per-patch series padded with NaN to the full grid (an attribution cut inside the image has fewer). */
export function fullGrid(r: AttributionResult, values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(r.grid[0] * r.grid[1]).fill(Number.NaN);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** Finite [min, max] of a series, widened when flat. */
export function extent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo > hi) return [0, 1];
  return lo === hi ? [lo, lo + 1e-6] : [lo, hi];
}

/** The model's input picture at display size, and the display geometry of the patch grid. */
export function displayImage(r: AttributionResult, side: number): { url: string; width: number; height: number; cellW: number; cellH: number } {
  const rgb = preprocessedRgb(r.preprocessed);
  const s = side / Math.max(rgb.width, rgb.height);
  const width = Math.round(rgb.width * s);
  const height = Math.round(rgb.height * s);
  // Never enlarge in the PNG (the browser scales the image mark); shrink big inputs.
  const { url } = rgbDataURL(rgb, Math.max(rgb.width, rgb.height) > side ? side : Math.max(rgb.width, rgb.height));
  return { url, width, height, cellW: width / r.grid[1], cellH: height / r.grid[0] };
}

export const headLabel = (h: { layer: number; head: number }) => `${h.layer}.${h.head}`;

/** A layer drawing the picture `url` at the view's top left, `width` x `height` pixels. */
export function imageLayer(url: string, width: number, height: number): Record<string, unknown> {
  return {
    data: { values: [{}] },
    mark: { type: "image", width, height, align: "left", baseline: "top", aspect: false },
    encoding: { url: { value: url }, x: { value: 0 }, y: { value: 0 } },
  };
}

/**
 * x/x2/y/y2 encodings placing a patch cell, given as pixel edges x0..x1, y0..y1 with y down, in a
 * view of `width` x `height` pixels (no axes: the picture is the reference).
 */
export function cellPosition(width: number, height: number): Record<string, unknown> {
  return {
    x: { field: "x0", type: "quantitative", scale: { domain: [0, width], nice: false, zero: false }, axis: null },
    x2: { field: "x1" },
    y: { field: "y0", type: "quantitative", scale: { domain: [0, height], nice: false, zero: false, reverse: true }, axis: null },
    y2: { field: "y1" },
  };
}
