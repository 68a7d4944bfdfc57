/**
 * The two pictures an LLM judge sees for one patch, as in the LatentLens paper: the whole image
 * with a red frame around the 3x3 patch block, and an enlarged close-up of the block.
 *
 * Pixels come from {@link decodeImage}, the decoder the model's preprocessing uses, so the block's
 * coordinates (original-image pixels, see PatchGeometry) land on the same pixels here: no EXIF
 * rotation (the model does not apply it either), alpha flattened over white, 8-bit sRGB.
 */

import sharp from "sharp";
import { describeValue } from "../errors";
import { decodeImage, type RgbImage } from "../model/image";
import type { JudgeRequest } from "./judge";

export interface JudgeImageOptions {
  /** Longest side, in pixels, of either picture; larger ones are shrunk (default 1024: enough to see a 3x3 block of a 24x24 grid at 128 px, and cheap in image tokens). */
  maxSide?: number;
  /** The close-up is enlarged by a whole factor until its short side reaches this (default 224). */
  minCropSide?: number;
}

export const JUDGE_IMAGE_DEFAULTS: Readonly<Required<JudgeImageOptions>> = { maxSide: 1024, minCropSide: 224 };

/** A box of whole pixels `[x0, y0, x1, y1]`, x1 and y1 exclusive. */
export type PixelBox = [number, number, number, number];

export interface JudgeImages {
  /** The whole image with the red frame around the block, PNG. */
  full: Buffer;
  /** The block with a margin around it that holds the red frame, enlarged, PNG. */
  crop: Buffer;
  fullSize: { width: number; height: number };
  /** The block in the full picture's pixels (the frame lies just outside it). */
  fullBlock: PixelBox;
  /** Width of the frame in the full picture, in pixels. */
  frame: number;
  /** The region of the original image that the close-up shows. */
  cropRegion: PixelBox;
  /** Close-up pixels per original pixel (a whole number when enlarged). */
  cropScale: number;
  cropSize: { width: number; height: number };
  /** The block in the close-up's pixels. */
  cropBlock: PixelBox;
}

const RED = "#ff0000";

/** Decodes the request's image file and renders both pictures. */
export async function renderJudgeImages(request: Pick<JudgeRequest, "image" | "block">, options: JudgeImageOptions = {}): Promise<JudgeImages> {
  return renderJudgeImagesFrom(await decodeImage(request.image), request.block, options, request.image);
}

/** As {@link renderJudgeImages}, for an image already decoded; `name` is used in error messages. */
export async function renderJudgeImagesFrom(
  image: RgbImage,
  block: readonly [number, number, number, number],
  options: JudgeImageOptions = {},
  name = "<image>",
): Promise<JudgeImages> {
  const { maxSide, minCropSide } = { ...JUDGE_IMAGE_DEFAULTS, ...options };
  if (!(maxSide >= 16) || !(minCropSide >= 1)) {
    throw new RangeError(`renderJudgeImages: maxSide must be >= 16 and minCropSide >= 1, got ${describeValue({ maxSide, minCropSide })}`);
  }
  const px = blockPixels(image, block, name);

  // The full picture: shrunk only when it is too large to send, frame drawn at the final size so
  // its width is in proportion to what the judge sees.
  const fullScale = Math.min(1, maxSide / Math.max(image.width, image.height));
  const fullImage = fullScale < 1 ? await resize(image, Math.round(image.width * fullScale), Math.round(image.height * fullScale), "lanczos3") : image;
  const fullBlock = scaleBox(px, fullImage, image);
  const frame = frameWidth(fullImage.width, fullImage.height);
  const full = await drawFrame(fullImage, fullBlock, frame);

  // The close-up: the block plus a margin (room for the frame and a little context), enlarged by a
  // whole factor with nearest neighbour so tiny synthetic images stay sharp and pixel-exact.
  const cropRegion = marginBox(px, image);
  const region = extract(image, cropRegion);
  const cropScale = closeUpScale(region.width, region.height, minCropSide, maxSide);
  const cropImage = cropScale === 1 ? region : await resize(region, Math.round(region.width * cropScale), Math.round(region.height * cropScale), cropScale > 1 ? "nearest" : "lanczos3");
  const shifted: PixelBox = [px[0] - cropRegion[0], px[1] - cropRegion[1], px[2] - cropRegion[0], px[3] - cropRegion[1]];
  const cropBlock = scaleBox(shifted, cropImage, region);
  const crop = await drawFrame(cropImage, cropBlock, frameWidth(cropImage.width, cropImage.height));

  return {
    full,
    crop,
    fullSize: { width: fullImage.width, height: fullImage.height },
    fullBlock,
    frame,
    cropRegion,
    cropScale,
    cropSize: { width: cropImage.width, height: cropImage.height },
    cropBlock,
  };
}

/** The block as whole pixels (rounded outwards), after checking that it lies inside the image. */
function blockPixels(image: RgbImage, block: readonly number[], name: string): PixelBox {
  const [x0, y0, x1, y1] = block;
  const ok = block.length === 4 && block.every(Number.isFinite) && x0 >= 0 && y0 >= 0 && x1 <= image.width && y1 <= image.height && x0 < x1 && y0 < y1;
  if (!ok) {
    throw new RangeError(`${name}: block ${describeValue(block)} is not a box [x0, y0, x1, y1] inside the ${image.width}x${image.height} image`);
  }
  return [Math.floor(x0), Math.floor(y0), Math.min(image.width, Math.ceil(x1)), Math.min(image.height, Math.ceil(y1))];
}

/** A frame of about 2-3 px on typical images, thicker on large ones, never more than a quarter of the image. */
export function frameWidth(width: number, height: number): number {
  const wanted = Math.min(12, Math.max(2, Math.round(Math.max(width, height) / 300)));
  return Math.max(1, Math.min(wanted, Math.floor(Math.min(width, height) / 4)));
}

/** The block grown by an eighth of its size on every side (at least 1 px), clipped to the image. */
function marginBox(px: PixelBox, image: RgbImage): PixelBox {
  const margin = Math.max(1, Math.ceil(Math.max(px[2] - px[0], px[3] - px[1]) / 8));
  return [Math.max(0, px[0] - margin), Math.max(0, px[1] - margin), Math.min(image.width, px[2] + margin), Math.min(image.height, px[3] + margin)];
}

/** Whole-number enlargement up to `minSide` on the short side (without passing `maxSide`), or a shrink to `maxSide`. */
function closeUpScale(width: number, height: number, minSide: number, maxSide: number): number {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  if (short < minSide) return Math.max(1, Math.min(Math.ceil(minSide / short), Math.floor(maxSide / long)));
  return long > maxSide ? maxSide / long : 1;
}

type Size = { width: number; height: number };

/** A box in `from`'s pixels carried over to `to`'s (each axis by its own factor), rounded outwards and clipped. */
function scaleBox(box: PixelBox, to: Size, from: Size): PixelBox {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  return [
    Math.max(0, Math.floor(box[0] * sx)),
    Math.max(0, Math.floor(box[1] * sy)),
    Math.min(to.width, Math.ceil(box[2] * sx)),
    Math.min(to.height, Math.ceil(box[3] * sy)),
  ];
}

function extract(image: RgbImage, box: PixelBox): RgbImage {
  const width = box[2] - box[0];
  const height = box[3] - box[1];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((box[1] + y) * image.width + box[0]) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}

function rawInput(image: RgbImage): sharp.Sharp {
  const bytes = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return sharp(bytes, { raw: { width: image.width, height: image.height, channels: 3 } });
}

async function resize(image: RgbImage, width: number, height: number, kernel: "nearest" | "lanczos3"): Promise<RgbImage> {
  const { data, info } = await rawInput(image)
    .resize(Math.max(1, width), Math.max(1, height), { kernel, fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * The four bars of a red frame of width `t` just outside `box`, so the block's own pixels stay
 * visible; where the block touches the image's edge the bar moves inside the block instead of
 * vanishing.
 */
export function frameBars(box: PixelBox, t: number, width: number, height: number): PixelBox[] {
  const left = Math.max(0, Math.min(box[0] - t, width - t));
  const top = Math.max(0, Math.min(box[1] - t, height - t));
  const right = Math.max(0, Math.min(box[2], width - t));
  const bottom = Math.max(0, Math.min(box[3], height - t));
  return [
    [left, top, right + t, top + t],
    [left, bottom, right + t, bottom + t],
    [left, top, left + t, bottom + t],
    [right, top, right + t, bottom + t],
  ];
}

/** The image with the frame composed on top as an SVG overlay, encoded as PNG (RGB, no alpha). */
async function drawFrame(image: RgbImage, box: PixelBox, t: number): Promise<Buffer> {
  const rects = frameBars(box, t, image.width, image.height)
    .map(([x0, y0, x1, y1]) => `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}"/>`)
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}" shape-rendering="crispEdges"><g fill="${RED}">${rects}</g></svg>`;
  // Composite in one pipeline, then re-read as raw so the PNG has exactly three channels.
  const { data, info } = await rawInput(image)
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 3 | 4 } })
    .removeAlpha()
    .png()
    .toBuffer();
}
