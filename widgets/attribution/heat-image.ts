import type * as VegaModule from "vega";
import type { Preprocessed } from "vislens";
import { preprocessedRgb } from "../data/image";
import { encodePNG } from "../data/png";

// The self-contained vega build (see render/svg.ts), here for its colour schemes: the overlay's
// colours are the same function of the value as the legend's.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vega: typeof VegaModule = require("vega/build/vega.js");

export interface HeatImage {
  /** `data:image/png` of the model's input with the map blended over it. */
  url: string;
  width: number;
  height: number;
}

/** "rgb(r, g, b)" (what vega's scheme interpolators return) or "#rrggbb". */
function parseColour(css: string): [number, number, number] {
  const rgb = /^rgb\(\s*(\d+),\s*(\d+),\s*(\d+)\s*\)$/.exec(css);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css);
  if (hex) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  throw new RangeError(`heatImage: cannot read the colour ${JSON.stringify(css)}`);
}

/**
 * A per-patch map (`values` `[rows * cols]`, row-major; NaN = no value) upsampled bilinearly to the
 * picture the model saw (the preprocessed input, rebuilt from its pixel values) and blended over
 * it, as the paper's figures do; the overlay's opacity grows with the value (up to `alpha`), so
 * the picture stays readable where the map is low. Colours follow the vega scheme over `domain`, so a Vega-Lite
 * legend on the same scheme and domain reads the overlay.
 */
export function heatImage(pre: Preprocessed, grid: readonly [number, number], values: ArrayLike<number>, domain: readonly [number, number], options: { side?: number; alpha?: number; scheme?: string } = {}): HeatImage {
  const [rows, cols] = grid;
  if (values.length !== rows * cols) throw new RangeError(`heatImage: ${values.length} values for a ${rows}x${cols} grid`);
  const side = options.side ?? 192;
  const alpha = options.alpha ?? 0.6;
  const interpolate = vega.scheme(options.scheme ?? "viridis") as (t: number) => string;
  if (typeof interpolate !== "function") throw new RangeError(`heatImage: unknown colour scheme ${JSON.stringify(options.scheme)}`);
  const base = preprocessedRgb(pre);
  const scale = side / Math.max(base.width, base.height);
  const W = Math.max(1, Math.round(base.width * scale));
  const H = Math.max(1, Math.round(base.height * scale));
  const [lo, hi] = domain;
  const span = hi > lo ? hi - lo : 1;
  const palette = Array.from({ length: 256 }, (_, i) => parseColour(interpolate(i / 255)));
  const at = (r: number, c: number) => values[Math.min(rows - 1, Math.max(0, r)) * cols + Math.min(cols - 1, Math.max(0, c))];
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    // Cell centres sit at (i + 0.5) cells; interpolate between the four nearest centres.
    const gy = ((y + 0.5) / H) * rows - 0.5;
    const r0 = Math.floor(gy);
    const fy = gy - r0;
    const sy = Math.min(base.height - 1, Math.floor((y + 0.5) / scale));
    for (let x = 0; x < W; x++) {
      const gx = ((x + 0.5) / W) * cols - 0.5;
      const c0 = Math.floor(gx);
      const fx = gx - c0;
      const v = (1 - fy) * ((1 - fx) * at(r0, c0) + fx * at(r0, c0 + 1)) + fy * ((1 - fx) * at(r0 + 1, c0) + fx * at(r0 + 1, c0 + 1));
      const sx = Math.min(base.width - 1, Math.floor((x + 0.5) / scale));
      const src = (sy * base.width + sx) * 3;
      const dst = (y * W + x) * 3;
      if (!Number.isFinite(v)) {
        out.set(base.data.subarray(src, src + 3), dst);
        continue;
      }
      const t = Math.min(1, Math.max(0, (v - lo) / span));
      const colour = palette[Math.round(t * 255)];
      // Low values let the image through: opacity grows with the value, up to `alpha`.
      const a = alpha * (0.15 + 0.85 * t);
      for (let ch = 0; ch < 3; ch++) out[dst + ch] = Math.round((1 - a) * base.data[src + ch] + a * colour[ch]);
    }
  }
  return { url: `data:image/png;base64,${encodePNG(W, H, out).toString("base64")}`, width: W, height: H };
}
