import * as fs from "node:fs";
import sharp from "sharp";
import { ImageError } from "../errors";

/** An 8-bit sRGB image, channels interleaved (RGBRGB...), rows top to bottom. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The most pixels vislens decodes. Decoding is exact (no shrink-on-load, so preprocessing matches
 * the Python side bit for bit), and a 100-megapixel image already needs ~300 MB as raw RGB plus
 * the float buffers of the resize; anything larger is refused with a clear message.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

/**
 * Decodes an image file (PNG, JPEG, WebP, TIFF, GIF: whatever libvips reads) to 8-bit sRGB.
 * Grayscale is expanded to RGB, CMYK and 16-bit images are converted to 8-bit sRGB, and an alpha
 * channel is composited over white, as transformers' `convert_to_rgb` does. EXIF orientation is
 * *not* applied, because PIL (and so the model's own training pipeline) does not apply it either.
 */
export async function decodeImage(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageError(file, code === "ENOENT" ? "no such file" : `cannot read: ${(error as Error).message}`);
  }
  return decodeImageBuffer(bytes, file);
}

/** As {@link decodeImage}, for bytes already in memory; `name` is used in error messages. */
export async function decodeImageBuffer(bytes: Uint8Array, name = "<buffer>"): Promise<RgbImage> {
  if (bytes.length === 0) throw new ImageError(name, "the file is empty");
  let meta: sharp.Metadata;
  try {
    // No pixel limit for reading the header: the size check below gives the clearer message.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageError(name, `not a readable image (${(error as Error).message}); expected PNG, JPEG, WebP, TIFF or GIF`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new ImageError(name, "the image has no width or height");
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageError(name, `image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} megapixels); the limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels: downscale it first`);
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "error" })
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw new ImageError(name, `cannot decode (${(error as Error).message}); the file may be truncated or corrupt`);
  }
}
