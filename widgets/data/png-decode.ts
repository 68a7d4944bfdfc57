import { inflateSync } from "node:zlib";
import type { RgbImage } from "vislens";
import { PNG_SIGNATURE } from "./png";

/**
 * A minimal synchronous PNG decoder, the encoder's counterpart (png.ts), so that a widget can shrink
 * image files to thumbnails and stay a plain synchronous function: greyscale, RGB, palette,
 * grey + alpha and RGBA, bit depths 1-16, all five row filters; alpha is composited over white.
 * A tRNS colour key of a greyscale or RGB file is ignored. Interlaced (Adam7) files are refused
 * with a RangeError (callers embed those as they are).
 */
export function decodePNG(bytes: Uint8Array): RgbImage {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8 || !PNG_SIGNATURE.every((v, i) => b[i] === v)) throw new RangeError("decodePNG: not a PNG file (bad signature)");
  let width = 0;
  let height = 0;
  let depth = 0;
  let colour = -1;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= b.length; ) {
    const length = b.readUInt32BE(at);
    const type = b.toString("ascii", at + 4, at + 8);
    if (at + 12 + length > b.length) throw new RangeError(`decodePNG: truncated ${type} chunk`);
    const data = b.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colour = data[9];
      if (data[12] !== 0) throw new RangeError("decodePNG: interlaced PNGs are not supported");
    } else if (type === "PLTE") {
      palette = data;
    } else if (type === "tRNS") {
      transparency = data;
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "IEND") {
      break;
    }
    at += 12 + length;
  }
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth) || width < 1 || height < 1) throw new RangeError(`decodePNG: unsupported PNG (colour type ${colour}, bit depth ${depth}, ${width}x${height})`);
  if (colour === 3 && !palette) throw new RangeError("decodePNG: palette PNG without a PLTE chunk");
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw new RangeError(`decodePNG: corrupt image data (${(error as Error).message})`);
  }
  if (raw.length < (stride + 1) * height) throw new RangeError(`decodePNG: image data holds ${raw.length} bytes, ${(stride + 1) * height} expected`);
  // Undo the row filters in place.
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = rows.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : undefined;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const u = up ? up[i] : 0;
      const c = up && i >= bpp ? up[i - bpp] : 0;
      let v = src[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += u;
      else if (filter === 3) v += (a + u) >> 1;
      else if (filter === 4) {
        const p = a + u - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - u);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
      } else if (filter !== 0) throw new RangeError(`decodePNG: unknown row filter ${filter} in row ${y}`);
      row[i] = v & 0xff;
    }
  }
  // Sample s (0-based, in channel units) of row y, scaled to 0..255 (palette indices unscaled).
  const max = (1 << Math.min(depth, 8)) - 1;
  const sample = (y: number, s: number): number => {
    const row = y * stride;
    if (depth === 8) return rows[row + s];
    if (depth === 16) return rows[row + 2 * s];
    const bit = s * depth;
    const v = (rows[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
    return colour === 3 ? v : Math.round((v * 255) / max);
  };
  const out = new Uint8Array(width * height * 3);
  const put = (i: number, r: number, g: number, bl: number, alpha: number) => {
    const k = alpha / 255;
    out[i * 3] = Math.round(r * k + 255 * (1 - k));
    out[i * 3 + 1] = Math.round(g * k + 255 * (1 - k));
    out[i * 3 + 2] = Math.round(bl * k + 255 * (1 - k));
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const s = x * channels;
      if (colour === 0) {
        const v = sample(y, s);
        put(i, v, v, v, 255);
      } else if (colour === 2) {
        put(i, sample(y, s), sample(y, s + 1), sample(y, s + 2), 255);
      } else if (colour === 3) {
        const p = sample(y, s);
        if (3 * p + 2 >= palette!.length) throw new RangeError(`decodePNG: palette index ${p} outside the ${palette!.length / 3}-colour palette`);
        put(i, palette![3 * p], palette![3 * p + 1], palette![3 * p + 2], transparency && p < transparency.length ? transparency[p] : 255);
      } else if (colour === 4) {
        const v = sample(y, s);
        put(i, v, v, v, sample(y, s + 1));
      } else {
        put(i, sample(y, s), sample(y, s + 1), sample(y, s + 2), sample(y, s + 3));
      }
    }
  }
  return { width, height, data: out };
}
