/**
 * Compact row encodings the search kernel reads directly: IEEE float16 (half the bytes of float32,
 * ~3 significant digits, plenty for cosine ranking of L2-normalised rows) and int8 with one float32
 * scale per row (a quarter of the bytes).
 */
import { floatToHalf, halfArrayToFloat } from "../../io/float16";
import { nativeAvailable, loadNative } from "./native";

/** float32 -> IEEE half bits, round to nearest even (F16C in the native addon when built, else JS). */
export function encodeFloat16(src: Float32Array, dst = new Uint16Array(src.length)): Uint16Array {
  if (dst.length !== src.length) throw new RangeError(`encodeFloat16: dst has ${dst.length} elements, src has ${src.length}`);
  if (nativeAvailable()) {
    loadNative().f32ToF16(src, dst);
  } else {
    for (let i = 0; i < src.length; i++) dst[i] = floatToHalf(src[i]);
  }
  return dst;
}

/** IEEE half bits -> float32 (exact). */
export function decodeFloat16(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  if (dst.length !== src.length) throw new RangeError(`decodeFloat16: dst has ${dst.length} elements, src has ${src.length}`);
  if (nativeAvailable()) loadNative().f16ToF32(src, dst);
  else halfArrayToFloat(src, dst);
  return dst;
}

/**
 * Symmetric per-row int8 quantisation of a `[rows, dim]` float32 matrix: scale = max |x| / 127,
 * value = round(x / scale). Row r decodes to float32(value * scale[r]) (what the kernel uses).
 */
export function quantizeInt8(src: Float32Array, dim: number): { data: Int8Array; scales: Float32Array } {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`quantizeInt8: dim must be an integer >= 1, got ${dim}`);
  if (src.length % dim !== 0) throw new RangeError(`quantizeInt8: ${src.length} elements are not a whole number of rows of dim ${dim}`);
  const n = src.length / dim;
  const data = new Int8Array(src.length);
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) m = Math.max(m, Math.abs(src[j]));
    const scale = Math.fround(m / 127);
    scales[r] = scale;
    if (scale === 0 || !Number.isFinite(scale)) continue;
    for (let j = r * dim; j < (r + 1) * dim; j++) data[j] = Math.max(-127, Math.min(127, Math.round(src[j] / scale)));
  }
  return { data, scales };
}

/** Decoded float32 value of int8 rows, as the kernel computes it. */
export function decodeInt8(data: Int8Array, scales: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * scales[Math.floor(i / dim)];
  return out;
}
