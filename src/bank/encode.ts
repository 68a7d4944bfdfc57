import { floatToHalf } from "../io/float16";
import type { BankDtype } from "./format";

/**
 * Row encodings of a bank layer matrix. Every row is L2-normalised first (so inner product is
 * cosine similarity), then stored as IEEE float16, or as int8 with one float32 scale per row
 * (value = q * scale, scale = max|x| / 127).
 */

/** Normalises `src` into a float64 copy; throws (with `where` in the message) on NaN/Inf or a zero vector. */
export function l2Normalise(src: Float32Array, where: string): Float64Array {
  let sq = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!Number.isFinite(v)) throw new RangeError(`${where}: the hidden state contains ${v} at dimension ${i}`);
    sq += v * v;
  }
  if (sq === 0) throw new RangeError(`${where}: the hidden state is all zeros and cannot be normalised`);
  const inv = 1 / Math.sqrt(sq);
  // A plain loop: Float64Array.from with a map function was 60% of a 100k-sentence build.
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] * inv;
  return out;
}

/** Writes one normalised row into `out` (Uint16Array for f16, Int8Array for i8) at row `row`. */
export function encodeRow(dtype: BankDtype, unit: Float64Array, out: Uint16Array | Int8Array, row: number, scales?: Float32Array): void {
  const D = unit.length;
  if (dtype === "f16") {
    for (let d = 0; d < D; d++) (out as Uint16Array)[row * D + d] = floatToHalf(unit[d]);
    return;
  }
  let max = 0;
  for (let d = 0; d < D; d++) max = Math.max(max, Math.abs(unit[d]));
  const scale = max / 127;
  for (let d = 0; d < D; d++) (out as Int8Array)[row * D + d] = Math.max(-127, Math.min(127, Math.round(unit[d] / scale)));
  scales![row] = scale;
}
