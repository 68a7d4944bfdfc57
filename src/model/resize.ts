import type { RgbImage } from "./image";

/**
 * Resampling that reproduces Pillow's `Image.resize` on 8-bit RGB images bit for bit, because
 * the models were trained on Pillow-resized images and a different resampler (libvips, canvas)
 * shifts every pixel value a little. Follows Pillow's Resample.c: separable convolution with an
 * antialiasing support that widens with the downscale factor, 22-bit fixed-point coefficients, a
 * horizontal pass, rounding to 8 bits, then a vertical pass.
 */

export type Resample = "nearest" | "bilinear" | "bicubic";

const PRECISION_BITS = 32 - 8 - 2;

interface Filter {
  support: number;
  weight(x: number): number;
}

const FILTERS: Record<Exclude<Resample, "nearest">, Filter> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const t = Math.abs(x);
      return t < 1 ? 1 - t : 0;
    },
  },
  bicubic: {
    support: 2,
    // Keys' cubic convolution with a = -0.5, as Pillow.
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

interface Coefficients {
  ksize: number;
  /** Per output pixel: first input index and how many inputs contribute. */
  bounds: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  weights: Int32Array;
}

function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.weight((x + xmin - center + 0.5) * ss);
      total += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x] / total : k[x];
      // (int)(w * 2^22 ± 0.5) in C truncates toward zero.
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

/**
 * One separable pass along `axis` ("x": each row is resampled to `outSize` columns; "y": each column
 * to `outSize` rows), rounding to 8 bits afterwards as Pillow does between its two passes.
 */
function resamplePass(src: RgbImage, outSize: number, c: Coefficients, axis: "x" | "y"): RgbImage {
  const width = axis === "x" ? outSize : src.width;
  const height = axis === "y" ? outSize : src.height;
  const out = new Uint8Array(width * height * 3);
  const tapStride = axis === "x" ? 3 : src.width * 3; // bytes between neighbouring input taps
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = axis === "x" ? x : y; // output index along the axis
      const line = axis === "x" ? y * src.width * 3 : x * 3; // where the input line starts
      const first = c.bounds[o * 2];
      const taps = c.bounds[o * 2 + 1];
      const kOff = o * c.ksize;
      let s0 = 1 << (PRECISION_BITS - 1);
      let s1 = s0;
      let s2 = s0;
      for (let t = 0; t < taps; t++) {
        const w = c.weights[kOff + t];
        const p = line + (first + t) * tapStride;
        s0 += src.data[p] * w;
        s1 += src.data[p + 1] * w;
        s2 += src.data[p + 2] * w;
      }
      const q = (y * width + x) * 3;
      out[q] = clip8(s0);
      out[q + 1] = clip8(s1);
      out[q + 2] = clip8(s2);
    }
  }
  return { width, height, data: out };
}

/** Pillow's NEAREST: the input pixel under each output pixel's centre. */
function resizeNearest(src: RgbImage, outWidth: number, outHeight: number): RgbImage {
  const out = new Uint8Array(outWidth * outHeight * 3);
  const sx = src.width / outWidth;
  const sy = src.height / outHeight;
  for (let y = 0; y < outHeight; y++) {
    const iy = Math.min(Math.floor((y + 0.5) * sy), src.height - 1);
    for (let x = 0; x < outWidth; x++) {
      const ix = Math.min(Math.floor((x + 0.5) * sx), src.width - 1);
      const i = (iy * src.width + ix) * 3;
      const o = (y * outWidth + x) * 3;
      out[o] = src.data[i];
      out[o + 1] = src.data[i + 1];
      out[o + 2] = src.data[i + 2];
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Resizes like Pillow's `img.resize((width, height), resample)`. */
export function resizeRgb(src: RgbImage, width: number, height: number, resample: Resample): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resizeRgb: target size must be positive integers, got ${width}x${height}`);
  }
  if (width === src.width && height === src.height) return src;
  if (resample === "nearest") return resizeNearest(src, width, height);
  const filter = FILTERS[resample];
  let image = src;
  if (width !== src.width) image = resamplePass(image, width, coefficients(src.width, width, filter), "x");
  if (height !== src.height) image = resamplePass(image, height, coefficients(src.height, height, filter), "y");
  return image;
}
