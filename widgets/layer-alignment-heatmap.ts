import type { LayerAlignment } from "vislens";
import { baseConfig, VEGALITE_SCHEMA, type VegaLiteSpec } from "./spec";
import { createWidget, type Widget } from "./widget";

/**
 * Layer-alignment heatmap (the "mid-layer leap"): for each visual layer (row), the share of its
 * top-k LatentLens neighbours that come from each contextual layer (column); column 0 holds the
 * EmbeddingLens neighbours when they were merged in. Shares of 5% and more are printed in the cell.
 */
export interface LayerAlignmentHeatmapOptions {
  title?: string;
  /** Pixels per cell (default 34). */
  cell?: number;
}

export function layerAlignmentHeatmap(alignment: LayerAlignment, options: LayerAlignmentHeatmapOptions = {}): Widget {
  const where = "layerAlignmentHeatmap";
  if (!alignment || !Array.isArray(alignment.visualLayers) || !Array.isArray(alignment.contextualLayers) || !Array.isArray(alignment.shares)) {
    throw new TypeError(`${where}: expected a LayerAlignment {visualLayers, contextualLayers, shares, counts} (from layerAlignmentFromRecords)`);
  }
  const { visualLayers: V, contextualLayers: C, shares, counts } = alignment;
  if (V.length === 0 || C.length === 0) throw new RangeError(`${where}: the alignment is empty (${V.length} visual, ${C.length} contextual layers)`);
  if (shares.length !== V.length) throw new RangeError(`${where}: shares has ${shares.length} rows, visualLayers has ${V.length}`);
  shares.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== C.length) throw new RangeError(`${where}: shares[${i}] has ${row?.length} columns, contextualLayers has ${C.length}`);
    row.forEach((s, j) => {
      if (!(s >= 0 && s <= 1)) throw new RangeError(`${where}: shares[${i}][${j}] is ${s}, expected a share in 0..1`);
    });
  });
  const cell = options.cell ?? 34;
  const values = V.flatMap((v, i) => C.map((c, j) => ({ visual: v, contextual: c, share: shares[i][j], count: counts?.[i] ?? null })));
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens layer alignment: visual layers ${V.join(",")} x contextual layers ${C.join(",")}`,
    ...(options.title ? { title: options.title } : {}),
    config: baseConfig(),
    data: { values },
    width: { step: cell },
    height: { step: cell },
    encoding: {
      x: { field: "contextual", type: "ordinal", title: "contextual layer (where the neighbours come from)", sort: C, axis: { labelAngle: 0 } },
      y: { field: "visual", type: "ordinal", title: "visual layer", sort: V },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          fill: { field: "share", type: "quantitative", title: "share of top-k", scale: { scheme: "blues", domain: [0, 1] }, legend: { format: "%" } },
          tooltip: [
            { field: "visual", type: "ordinal", title: "visual layer" },
            { field: "contextual", type: "ordinal", title: "contextual layer" },
            { field: "share", type: "quantitative", format: ".1%" },
            { field: "count", type: "quantitative", title: "neighbours in row" },
          ],
        },
      },
      {
        transform: [{ filter: "datum.share >= 0.05" }],
        mark: { type: "text", fontSize: 10 },
        encoding: {
          text: { field: "share", type: "quantitative", format: ".0%" },
          color: { condition: { test: "datum.share > 0.55", value: "white" }, value: "black" },
        },
      },
    ],
  };
  const lines = [`Layer alignment: ${V.length} visual x ${C.length} contextual layers (share of each visual layer's top-k neighbours by contextual layer).`];
  V.forEach((v, i) => {
    const j = shares[i].reduce((best, s, jj) => (s > shares[i][best] ? jj : best), 0);
    lines.push(`  visual ${v}: mostly contextual ${C[j]} (${(shares[i][j] * 100).toFixed(0)}%)${counts ? `, ${counts[i]} neighbours` : ""}`);
  });
  return createWidget({ spec, summary: lines.join("\n") });
}
