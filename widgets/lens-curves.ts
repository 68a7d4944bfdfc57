import { baseConfig, LENS_COLOURS, LENS_TITLES, VEGALITE_SCHEMA, type VegaLiteSpec } from "./spec";
import { createWidget, type Widget } from "./widget";

/**
 * Lens curves: a metric by layer, one line per lens and model (colour = lens, dash = model), e.g.
 * "% interpretable" per layer for LatentLens, EmbeddingLens and LogitLens on two models.
 */
export interface LensCurveRow {
  model: string;
  /** A lens name ("latent", "embedding", "logit") or any label. */
  lens: string;
  layer: number;
  value: number;
}

export interface LensCurvesOptions {
  /** Y axis title (default "value"). */
  metric?: string;
  /** Show values as percentages (default: when the metric's name has a "%" and every value is in 0..1). */
  percent?: boolean;
  /** Fixed y range (default: from the data; [0, 1] for percentages). */
  yDomain?: [number, number];
  /** X axis title (default "layer"; the x field is still called layer, e.g. log10 corpus fraction). */
  xTitle?: string;
  title?: string;
  width?: number;
  height?: number;
}

export function lensCurves(rows: readonly LensCurveRow[], options: LensCurvesOptions = {}): Widget {
  const where = "lensCurves";
  if (!Array.isArray(rows)) throw new TypeError(`${where}: rows must be an array of {model, lens, layer, value}`);
  if (rows.length === 0) throw new RangeError(`${where}: rows is empty`);
  rows.forEach((r, i) => {
    if (!r || typeof r.model !== "string" || typeof r.lens !== "string") throw new TypeError(`${where}: rows[${i}] needs string model and lens, got ${JSON.stringify(r)}`);
    if (!Number.isFinite(r.layer)) throw new RangeError(`${where}: rows[${i}].layer is ${r.layer}, expected a number`);
    if (typeof r.value !== "number" || Number.isNaN(r.value)) throw new RangeError(`${where}: rows[${i}].value is ${r.value}, expected a number`);
  });
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const key = `${r.model}\u0000${r.lens}\u0000${r.layer}`;
    if (seen.has(key)) throw new RangeError(`${where}: rows[${i}] repeats model "${r.model}", lens "${r.lens}", layer ${r.layer}`);
    seen.add(key);
  });
  const metric = options.metric ?? "value";
  const inUnit = rows.every((r) => r.value >= 0 && r.value <= 1);
  const percent = options.percent ?? (metric.includes("%") && inUnit);
  const models = [...new Set(rows.map((r) => r.model))];
  const lenses = [...new Set(rows.map((r) => r.lens))];
  const lensLabel = (l: string) => LENS_TITLES[l] ?? l;
  const fallback = ["#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];
  const colours = lenses.map((l, i) => LENS_COLOURS[l] ?? fallback[i % fallback.length]);
  const layers = [...new Set(rows.map((r) => r.layer))].sort((a, b) => a - b);
  const integerLayers = layers.every((l) => Number.isInteger(l));

  const values = [...rows]
    .sort((a, b) => a.model.localeCompare(b.model) || a.lens.localeCompare(b.lens) || a.layer - b.layer)
    .map((r) => ({ model: r.model, lens: lensLabel(r.lens), layer: r.layer, value: r.value }));
  const yDomain = options.yDomain ?? (percent ? [0, 1] : undefined);
  const encoding: Record<string, unknown> = {
    x: {
      field: "layer",
      type: "quantitative",
      title: options.xTitle ?? "layer",
      scale: { domain: [layers[0], layers[layers.length - 1]], nice: false },
      axis: integerLayers ? { tickMinStep: 1, format: "d" } : {},
    },
    y: { field: "value", type: "quantitative", title: metric, ...(yDomain ? { scale: { domain: yDomain } } : {}), axis: percent ? { format: "%" } : {} },
    color: { field: "lens", type: "nominal", title: "lens", scale: { domain: lenses.map(lensLabel), range: colours } },
    tooltip: [
      { field: "model", type: "nominal" },
      { field: "lens", type: "nominal" },
      { field: "layer", type: "quantitative" },
      { field: "value", type: "quantitative", title: metric, format: percent ? ".1%" : ".3f" },
    ],
  };
  // Dash = model, on the line layer only: when the (filled, strokeless) points carry it too, the
  // legend draws its symbols like theirs, and the dash samples come out invisible.
  const dash = models.length > 1 ? { strokeDash: { field: "model", type: "nominal", title: "model", legend: { symbolType: "stroke", symbolStrokeColor: "#555", symbolStrokeWidth: 2, symbolSize: 300 } } } : {};
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens lens curves: ${metric} by layer for ${lenses.join(", ")} on ${models.join(", ")}`,
    ...(options.title ? { title: options.title } : {}),
    config: baseConfig(),
    width: options.width ?? 420,
    height: options.height ?? 260,
    data: { values },
    encoding,
    layer: [
      { mark: { type: "line", strokeWidth: 2 }, encoding: { detail: { field: "model", type: "nominal" }, ...dash } },
      { mark: { type: "point", filled: true, size: 40 } },
    ],
  };

  const fmt = (v: number) => (percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(3));
  const lines = [`Lens curves: ${metric} by layer (${layers[0]}..${layers[layers.length - 1]}), ${lenses.length} lens(es) x ${models.length} model(s).`];
  for (const model of models) {
    for (const lens of lenses) {
      const series = rows.filter((r) => r.model === model && r.lens === lens).sort((a, b) => a.layer - b.layer);
      if (series.length === 0) continue;
      const peak = series.reduce((a, b) => (b.value > a.value ? b : a));
      lines.push(`  ${model} / ${lensLabel(lens)}: ${series.map((r) => `${r.layer}:${fmt(r.value)}`).join(" ")}  (peak ${fmt(peak.value)} at layer ${peak.layer})`);
    }
  }
  return createWidget({ spec, summary: lines.join("\n") });
}
