import type { AttributionResult } from "vislens";
import { round, toCSV } from "../data/csv";
import { baseConfig, VEGALITE_SCHEMA, type VegaLiteSpec } from "../spec";
import { createWidget, type Widget } from "../widget";
import { checkResult } from "./common";

const PARTS = { attention: "#4c78a8", FFN: "#f58518" };

/** Per-layer bars: how much each block's attention and FFN output raised log p(ŷ) at T. */
export function attributionLayers(r: AttributionResult, options: { title?: string; step?: number } = {}): Widget {
  checkResult("attributionLayers", r);
  const step = options.step ?? Math.max(8, Math.min(24, Math.floor(480 / (2 * r.layerScores.length))));
  const rows = r.layerScores.flatMap((l) => [
    [l.layer, "attention", round(l.attention, 5)],
    [l.layer, "FFN", round(l.ffn, 5)],
  ]);
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens attribution layers: attention and FFN scores of ${r.layerScores.length} blocks`,
    title: options.title ?? `${r.model}: log p(${r.target.token}) increase by block`,
    config: baseConfig(),
    data: { values: toCSV(["layer", "part", "score"], rows), format: { type: "csv", parse: { layer: "number", score: "number" } } },
    width: { step },
    mark: { type: "bar" },
    encoding: {
      x: { field: "layer", type: "ordinal", title: "block", axis: { labelAngle: 0 } },
      xOffset: { field: "part", type: "nominal", sort: Object.keys(PARTS) },
      y: { field: "score", type: "quantitative", title: "Δ log p" },
      color: { field: "part", type: "nominal", title: null, sort: Object.keys(PARTS), scale: { domain: Object.keys(PARTS), range: Object.values(PARTS) } },
      tooltip: [
        { field: "layer", type: "quantitative", title: "block" },
        { field: "part", type: "nominal" },
        { field: "score", type: "quantitative", title: "Δ log p", format: ".4f" },
      ],
    },
  };
  const fmt = (v: number) => (v >= 0 ? "+" : "") + v.toFixed(3);
  const lines = [`Block scores for "${r.target.token}" (${r.model}), attention / FFN:`, ...r.layerScores.map((l) => `  block ${l.layer}: ${fmt(l.attention)} / ${fmt(l.ffn)}`)];
  return createWidget({ spec, summary: lines.join("\n") });
}
