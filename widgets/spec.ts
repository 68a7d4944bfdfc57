/**
 * The Vega-Lite side of every widget: the MIME type a spec travels under, the schema it declares,
 * and the plain JSON type a spec has. Specs are written for vega-lite 5.6 — the version that
 * JupyterLab 4.6 bundles — so they use nothing newer (no v6 features).
 */

/** The MIME type JupyterLab's bundled vega-lite 5.6 renders. */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

/** The `$schema` every spec declares. */
export const VEGALITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** A Vega-Lite v5 spec as plain JSON (the widgets build them as data, tests read them as data). */
export interface VegaLiteSpec {
  $schema: string;
  [key: string]: unknown;
}

/** The display bundle of one widget, as one Jupyter `display_data` message carries it. */
export interface MimeBundle {
  "application/vnd.vegalite.v5+json": VegaLiteSpec;
  /** The same chart rendered in Node (for front ends without Vega, and for no-JS viewers). */
  "image/svg+xml": string;
  /** A plain-text summary of what the chart shows. */
  "text/plain": string;
  /** Only widgets with a natural HTML form (the DataFrame table) carry it. */
  "text/html"?: string;
}

/** Shared look: fonts and the lens colours, so every widget names a lens the same way. */
export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
export const MONO_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/** Advance width of a monospace character, in ems (DejaVu Sans Mono, Menlo and Consolas: ~0.6). */
export const MONO_ADVANCE = 0.602;

export const LENS_TITLES: Record<string, string> = { latent: "LatentLens", embedding: "EmbeddingLens", logit: "LogitLens" };
export const LENS_COLOURS: Record<string, string> = { latent: "#4c78a8", embedding: "#f58518", logit: "#54a24b" };

/** The config block every widget starts from. */
export function baseConfig(): Record<string, unknown> {
  return {
    font: FONT,
    view: { stroke: null },
    axis: { labelFont: FONT, titleFont: FONT },
    legend: { labelFont: FONT, titleFont: FONT },
    title: { font: FONT, anchor: "start", fontSize: 13 },
  };
}
