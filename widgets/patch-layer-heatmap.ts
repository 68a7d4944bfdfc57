import type { LensName, PatchInterpretation } from "vislens";
import { round, toCSV, type Cell } from "./data/csv";
import { indexRecords } from "./data/records";
import { StringTable } from "./data/strings";
import { b36 } from "./explorer/tables";
import { resolveScore, ScoreRange, type PatchScore } from "./score";
import { baseConfig, LENS_TITLES, VEGALITE_SCHEMA, type VegaLiteSpec } from "./spec";
import { createWidget, type Widget } from "./widget";

/**
 * Patch × layer heatmap: a per-patch score at every layer. Two layouts:
 *  - "strip" (default): rows = layers, columns = patches (row-major index);
 *  - "grid": small multiples, one image-shaped grid of patches per layer.
 * The tooltip lists each lens's top neighbours for the cell.
 */
export interface PatchLayerHeatmapOptions {
  /** What colours a cell: a lens name (its top-1 similarity / probability) or a PatchScore. Default: LatentLens top-1 similarity. */
  score?: PatchScore | LensName;
  layout?: "strip" | "grid";
  /** Top neighbours per lens in the tooltip (default 3). */
  tooltipK?: number;
  /** Grid layout: layers per row of small multiples (default 5). */
  columns?: number;
  title?: string;
}

const LAYOUTS = ["strip", "grid"] as const;

export function patchLayerHeatmap(records: readonly PatchInterpretation[], options: PatchLayerHeatmapOptions = {}): Widget {
  const where = "patchLayerHeatmap";
  const index = indexRecords(records, where);
  const score = resolveScore(options.score, index.lenses);
  const layout = options.layout ?? "strip";
  if (!LAYOUTS.includes(layout)) throw new RangeError(`${where}: layout must be one of ${LAYOUTS.join(", ")}, got ${JSON.stringify(layout)}`);
  const tooltipK = options.tooltipK ?? 3;
  if (!(Number.isInteger(tooltipK) && tooltipK >= 0 && tooltipK <= 10)) throw new RangeError(`${where}: tooltipK must be an integer 0..10, got ${tooltipK}`);
  const columns = options.columns ?? 5;
  if (!(Number.isInteger(columns) && columns >= 1)) throw new RangeError(`${where}: columns must be a positive integer, got ${columns}`);

  // One row per (layer, patch); each lens's top words as base-36 keys into the words table.
  const words = new StringTable();
  const rows: Cell[][] = [];
  const range = new ScoreRange();
  let gridRows = 0;
  let gridCols = 0;
  for (const layer of index.layers) {
    for (const patch of index.patches) {
      const at = index.at(layer, patch);
      if (Object.keys(at).length === 0) continue;
      const v = range.add(score.of(at));
      const { row, col } = index.cell.get(patch)!;
      gridRows = Math.max(gridRows, row + 1);
      gridCols = Math.max(gridCols, col + 1);
      const tops = index.lenses.map((lens) => (at[lens] ?? []).slice(0, tooltipK).map((n) => b36(words.intern(n.word))).join(":"));
      rows.push([layer, patch, row, col, v !== undefined ? round(v, 4) : "", ...tops]);
    }
  }
  const [lo, hi] = range.domain();
  const lensFields = index.lenses.map((l) => `t_${l}`);
  const transform: Record<string, unknown>[] = [];
  for (const lens of index.lenses) {
    const parts: string[] = [];
    for (let r = 0; r < tooltipK; r++) {
      transform.push(
        { calculate: `split(datum.t_${lens}, ':')[${r}]`, as: `k_${lens}_${r}` },
        { lookup: `k_${lens}_${r}`, from: { data: { name: "words", format: { type: "csv", parse: { i: "string", s: "string" } } }, key: "i", fields: ["s"] }, as: [`w_${lens}_${r}`] },
      );
      parts.push(`(isValid(datum.w_${lens}_${r}) ? ${r > 0 ? "', ' + " : ""}datum.w_${lens}_${r} : '')`);
    }
    if (tooltipK > 0) transform.push({ calculate: parts.join(" + "), as: `top_${lens}` });
  }

  const fill = {
    condition: { test: "!isValid(datum.v)", value: "#bbbbbb" },
    field: "v",
    type: "quantitative",
    title: score.title,
    scale: { scheme: "viridis", domain: [lo, hi], clamp: true },
    legend: { titleLimit: 300 },
  };
  const tooltip = [
    { field: "l", type: "ordinal", title: "layer" },
    { field: "patch", type: "quantitative" },
    { field: "row", type: "quantitative" },
    { field: "col", type: "quantitative" },
    { field: "v", type: "quantitative", title: score.title, format: ".3f" },
    ...(tooltipK > 0 ? index.lenses.map((lens) => ({ field: `top_${lens}`, type: "nominal", title: `${LENS_TITLES[lens]} top-${tooltipK}` })) : []),
  ];
  const P = index.patches.length;
  let view: Record<string, unknown>;
  if (layout === "strip") {
    const step = Math.max(1, Math.min(14, Math.floor(900 / Math.max(1, P))));
    view = {
      width: { step },
      height: { step: 18 },
      mark: { type: "rect", invalid: null },
      encoding: {
        x: {
          field: "patch",
          type: "ordinal",
          title: `patch (row-major, ${gridCols} per row)`,
          axis: { labelExpr: `datum.value % ${gridCols} == 0 ? datum.value : ''`, labelAngle: 0, ticks: false, labelOverlap: true },
        },
        y: { field: "l", type: "ordinal", title: "layer" },
        fill,
        tooltip,
      },
    };
  } else {
    const step = Math.max(2, Math.min(14, Math.floor(160 / Math.max(gridRows, gridCols))));
    view = {
      facet: { field: "l", type: "ordinal", title: "layer", header: { labelFontSize: 11 } },
      columns,
      spec: {
        width: { step },
        height: { step },
        mark: { type: "rect", invalid: null },
        encoding: {
          x: { field: "col", type: "ordinal", axis: null },
          y: { field: "row", type: "ordinal", axis: null },
          fill,
          tooltip,
        },
      },
    };
  }
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens patch x layer heatmap (${layout}): ${P} patches, layers ${index.layers.join(",")}`,
    ...(options.title ? { title: options.title } : {}),
    config: baseConfig(),
    datasets: { cells: toCSV(["l", "patch", "row", "col", "v", ...lensFields], rows), words: toCSV(["i", "s"], words.values.map((s, i) => [b36(i), s])) },
    data: { name: "cells", format: { type: "csv", parse: { l: "number", patch: "number", row: "number", col: "number", v: "number", ...Object.fromEntries(lensFields.map((f) => [f, "string"])) } } },
    transform,
    ...view,
  };

  // Summary: the best patch per layer.
  const lines = [`Patch x layer heatmap (${layout}): ${P} patches x ${index.layers.length} layers; colour = ${score.title} (${lo.toFixed(3)}..${hi.toFixed(3)}).`];
  for (const layer of index.layers) {
    let best: { patch: number; v: number } | undefined;
    for (const patch of index.patches) {
      const v = score.of(index.at(layer, patch));
      if (typeof v === "number" && Number.isFinite(v) && (!best || v > best.v)) best = { patch, v };
    }
    if (best) {
      const top = index.lenses.map((lens) => index.get(lens, layer, best!.patch)?.[0]?.word).filter((w) => w !== undefined);
      lines.push(`  layer ${layer}: best patch ${best.patch} (${best.v.toFixed(3)}): ${top.join(" / ")}`);
    }
  }
  return createWidget({ spec, summary: lines.join("\n") });
}
