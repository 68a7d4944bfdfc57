import type { RgbImage } from "./image";
import type { HW, Preprocess } from "./manifest";
import { resizeRgb } from "./resize";

/**
 * Turns a decoded image into the `pixel_values` the vision graph takes, following the manifest's
 * `vision.preprocess` in the documented order (docs/bundle-format.md): pad to square, resize,
 * center crop, rescale, normalise, pad. It also returns the affine map from pixel-value
 * coordinates back to the original image, from which patch geometry is derived.
 */

/** Per axis: `original = (pixel - offset) / scale`. */
export interface AxisMap {
  scale: number;
  offset: number;
}

export interface Preprocessed {
  /** Normalised values, `[3, H, W]` channel-major (the batch dimension is added at run time). */
  pixelValues: Float32Array;
  height: number;
  width: number;
  /** Original image size. */
  original: { width: number; height: number };
  /** Map from pixel-value coordinates to original-image coordinates. */
  x: AxisMap;
  y: AxisMap;
  /**
   * A tiled image (`preprocess.tiles`): `pixelValues` is cut into `grid` tiles of `size`, after
   * `base` (`[3, size[0], size[1]]`, the original image resized exactly to one tile).
   */
  tiles?: { grid: HW; size: HW; base: Float32Array };
}

/** vision.onnx's pixel_values: `[1, 3, H, W]`, or `[1 + tiles, 3, h, w]` for a tiled image (base first, then row-major). */
export function visionPixelValues(pre: Preprocessed): { data: Float32Array; dims: number[] } {
  if (!pre.tiles) return { data: pre.pixelValues, dims: [1, 3, pre.height, pre.width] };
  const { grid: [R, C], size: [h, w], base } = pre.tiles;
  const tile = 3 * h * w;
  const out = new Float32Array((1 + R * C) * tile);
  out.set(base, 0);
  for (let tr = 0; tr < R; tr++) {
    for (let tc = 0; tc < C; tc++) {
      const dst = (1 + tr * C + tc) * tile;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < h; y++) {
          const src = (c * pre.height + tr * h + y) * pre.width + tc * w;
          out.set(pre.pixelValues.subarray(src, src + w), dst + (c * h + y) * w);
        }
      }
    }
  }
  return { data: out, dims: [1 + R * C, 3, h, w] };
}

/** `(v * rescale - mean) / std`, channel-major `[3, H, W]`, in transformers' operation order. */
function normalise(img: RgbImage, spec: Preprocess): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = (img.data[i * 3 + c] * spec.rescale_factor - spec.mean[c]) / spec.std[c];
  return out;
}

function padToSquare(img: RgbImage, fill: readonly number[]): { image: RgbImage; left: number; top: number } {
  const side = Math.max(img.width, img.height);
  if (img.width === img.height) return { image: img, left: 0, top: 0 };
  // LLaVA's expand2square pastes at ((side - w) // 2, (side - h) // 2) on a background of the mean colour.
  const left = Math.floor((side - img.width) / 2);
  const top = Math.floor((side - img.height) / 2);
  const data = new Uint8Array(side * side * 3);
  const rgb = fill.map((v) => Math.max(0, Math.min(255, Math.round(v))));
  for (let i = 0; i < side * side; i++) data.set(rgb, i * 3);
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * side + left) * 3);
  }
  return { image: { width: side, height: side, data }, left, top };
}

/** Output size of the resize step, with transformers' integer rounding. */
export function resizeTarget(resize: Preprocess["resize"], width: number, height: number): { width: number; height: number } {
  switch (resize.mode) {
    case "exact":
      return { width: resize.width ?? width, height: resize.height ?? height };
    case "shortest_edge": {
      // transformers get_resize_output_image_size(default_to_square=False): long = int(size * long / short).
      const size = resize.size!;
      if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
      return { width: Math.trunc((size * width) / height), height: size };
    }
    case "longest_edge": {
      const size = resize.size!;
      if (width >= height) return { width: size, height: Math.max(1, Math.trunc((size * height) / width)) };
      return { width: Math.max(1, Math.trunc((size * width) / height)), height: size };
    }
  }
}

export function preprocessImage(image: RgbImage, spec: Preprocess, imageSize: HW): Preprocessed {
  const original = { width: image.width, height: image.height };
  let img = image;
  let padLeft = 0;
  let padTop = 0;
  if (spec.pad_to_square) {
    const padded = padToSquare(img, spec.pad_to_square.fill);
    img = padded.image;
    padLeft = padded.left;
    padTop = padded.top;
  }
  const target = resizeTarget(spec.resize, img.width, img.height);
  const sx = target.width / img.width;
  const sy = target.height / img.height;
  img = resizeRgb(img, target.width, target.height, spec.resample);

  // Center crop (transformers: top = (h - crop_h) // 2); a crop larger than the image pads with 0.
  let cropLeft = 0;
  let cropTop = 0;
  let cw = img.width;
  let ch = img.height;
  if (spec.center_crop) {
    [ch, cw] = spec.center_crop;
    cropTop = Math.floor((img.height - ch) / 2);
    cropLeft = Math.floor((img.width - cw) / 2);
  }

  const [H, W] = spec.pad_to ?? [ch, cw];
  if (H !== imageSize[0] || W !== imageSize[1]) {
    throw new RangeError(
      `preprocessing yields ${H}x${W} pixel values but the vision graph takes ${imageSize[0]}x${imageSize[1]} (check vision.preprocess against vision.image_size)`,
    );
  }
  const out = new Float32Array(3 * H * W); // zeros: the pad_to area is 0 in normalised space
  const plane = H * W;
  for (let y = 0; y < ch; y++) {
    const sy0 = y + cropTop;
    for (let x = 0; x < cw; x++) {
      const sx0 = x + cropLeft;
      const inside = sy0 >= 0 && sy0 < img.height && sx0 >= 0 && sx0 < img.width;
      const p = (sy0 * img.width + sx0) * 3;
      for (let c = 0; c < 3; c++) {
        const v = inside ? img.data[p + c] : 0;
        // Same operation order as transformers: (v * rescale - mean) / std.
        out[c * plane + y * W + x] = (v * spec.rescale_factor - spec.mean[c]) / spec.std[c];
      }
    }
  }
  let tiles: Preprocessed["tiles"];
  if (spec.tiles) {
    const { grid, size } = spec.tiles;
    if (grid[0] * size[0] !== H || grid[1] * size[1] !== W) throw new RangeError(`preprocess.tiles: ${grid.join("x")} tiles of ${size.join("x")} px do not cut a ${H}x${W} image`);
    tiles = { grid, size, base: normalise(resizeRgb(image, size[1], size[0], spec.resample), spec) };
  }
  return {
    pixelValues: out,
    height: H,
    width: W,
    original,
    ...(tiles ? { tiles } : {}),
    // pixel = (orig + pad) * s - crop  =>  orig = (pixel + crop) / s - pad = (pixel - offset) / scale
    x: { scale: sx, offset: padLeft * sx - cropLeft },
    y: { scale: sy, offset: padTop * sy - cropTop },
  };
}
