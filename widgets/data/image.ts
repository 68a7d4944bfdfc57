import * as fs from "node:fs";
import type { Preprocessed, RgbImage } from "vislens";
import { encodePNG } from "./png";

/**
 * The picture a patch explorer draws its grid on, as a `data:` URL (the spec needs no network and
 * no file next to the notebook). Three sources:
 *  - an encoded file or its bytes (PNG, JPEG, GIF, WebP) is embedded as it is;
 *  - a decoded `RgbImage` (from `decodeImage`) is shrunk to the display size and encoded as PNG;
 *  - nothing: the model's own input is rebuilt from the preprocessed pixel values, each channel
 *    stretched to 0..255 (colours are approximate: the normalisation's mean and std are not kept).
 */
export type ImageSource = string | Uint8Array | RgbImage;

export interface EmbeddedImage {
  url: string;
  /** Pixel size of the picture, when known. */
  width?: number;
  height?: number;
}

/** Encoded files bigger than this are refused (they would be stored twice: spec and SVG). */
export const MAX_EMBEDDED_BYTES = 400_000;

function isRgbImage(value: unknown): value is RgbImage {
  const v = value as RgbImage;
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array) && Number.isInteger(v.width) && Number.isInteger(v.height) && v.data instanceof Uint8Array;
}

/** Mime type and pixel size read from the file's header (size only for PNG, GIF and JPEG). */
export function sniffImage(bytes: Uint8Array): { mime: string; width?: number; height?: number } | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { mime: "image/png", width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString("ascii", 0, 4) === "GIF8") return { mime: "image/gif", width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (b.length >= 12 && b.toString("ascii", 0, 4) === "RIFF" && b.toString("ascii", 8, 12) === "WEBP") return { mime: "image/webp" };
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // Walk the JPEG segments to the first start-of-frame marker.
    let i = 2;
    while (i + 9 < b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      const length = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { mime: "image/jpeg", height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      }
      i += 2 + length;
    }
    return { mime: "image/jpeg" };
  }
  return undefined;
}

/** Area-average shrink so that the longer side is at most `maxSide` (never enlarges). */
export function shrinkRgb(image: RgbImage, maxSide: number): RgbImage {
  const s = Math.min(1, maxSide / Math.max(image.width, image.height));
  if (s >= 1) return image;
  const w = Math.max(1, Math.round(image.width * s));
  const h = Math.max(1, Math.round(image.height * s));
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * image.height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * image.height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * image.width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * image.width) / w));
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += image.data[(yy * image.width + xx) * 3 + c];
        out[(y * w + x) * 3 + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { width: w, height: h, data: out };
}

export function rgbDataURL(image: RgbImage, maxSide: number): EmbeddedImage {
  const small = shrinkRgb(image, maxSide);
  return { url: `data:image/png;base64,${encodePNG(small.width, small.height, small.data).toString("base64")}`, width: image.width, height: image.height };
}

/** The preprocessed input `[3, H, W]` as an RGB picture, each channel stretched to 0..255. */
export function preprocessedRgb(pre: Preprocessed): RgbImage {
  const { width: W, height: H, pixelValues } = pre;
  if (pixelValues.length !== 3 * W * H) throw new RangeError(`preprocessed pixel values hold ${pixelValues.length} numbers, expected 3x${H}x${W}`);
  const data = new Uint8Array(W * H * 3);
  for (let c = 0; c < 3; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < W * H; i++) {
      const v = pixelValues[c * W * H + i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < W * H; i++) data[i * 3 + c] = Math.round(((pixelValues[c * W * H + i] - lo) / span) * 255);
  }
  return { width: W, height: H, data };
}

export function embedImage(source: ImageSource, maxSide: number, maxBytes = MAX_EMBEDDED_BYTES): EmbeddedImage {
  if (isRgbImage(source)) {
    if (source.data.length !== source.width * source.height * 3) {
      throw new RangeError(`image: an RgbImage of ${source.width}x${source.height} needs ${source.width * source.height * 3} bytes, got ${source.data.length}`);
    }
    return rgbDataURL(source, maxSide);
  }
  let bytes: Uint8Array;
  let name: string;
  if (typeof source === "string") {
    name = source;
    try {
      bytes = fs.readFileSync(source);
    } catch (error) {
      throw new RangeError(`image: cannot read "${source}": ${(error as Error).message}`);
    }
  } else if (source instanceof Uint8Array) {
    name = "<bytes>";
    bytes = source;
  } else {
    throw new TypeError(`image must be a file path, the file's bytes or an RgbImage, got ${Object.prototype.toString.call(source)}`);
  }
  const kind = sniffImage(bytes);
  if (!kind) throw new RangeError(`image: ${name} is not a PNG, JPEG, GIF or WebP file`);
  if (bytes.length > maxBytes) {
    throw new RangeError(
      `image: ${name} is ${bytes.length} bytes, more than the ${maxBytes} a notebook output should embed (twice: spec and SVG); ` +
        "pass the decoded image instead (image: await decodeImage(path)), which is shrunk to the display size",
    );
  }
  return { url: `data:${kind.mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}`, width: kind.width, height: kind.height };
}
