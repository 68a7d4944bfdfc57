import { Resvg } from "@resvg/resvg-js";

/**
 * SVG -> PNG with resvg (no browser, no network). Text uses the machine's fonts; the generic
 * families the charts name fall back to DejaVu, which Debian and most Linux images ship.
 */
export interface PngOptions {
  /** Pixels per SVG unit (default 2: sharp enough for a paper at column width). */
  scale?: number;
  /** Background colour (default white; the charts draw their own white background anyway). */
  background?: string;
}

export function svgToPNG(svg: string, options: PngOptions = {}): Uint8Array {
  const scale = options.scale ?? 2;
  if (!(typeof scale === "number" && Number.isFinite(scale) && scale > 0 && scale <= 16)) {
    throw new RangeError(`svgToPNG: scale must be a number in (0, 16], got ${String(options.scale)}`);
  }
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: options.background ?? "white",
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      monospaceFamily: "DejaVu Sans Mono",
    },
  });
  return resvg.render().asPng();
}
