import type { AttributionResult } from "vislens";
import { round, toCSV, type Cell } from "../data/csv";
import { baseConfig, VEGALITE_SCHEMA, type VegaLiteSpec } from "../spec";
import { createWidget, type Widget } from "../widget";
import { cellPosition, checkResult, displayImage, extent, headLabel, imageLayer } from "./common";

export interface AttributionHeadsOptions {
  /** Size of one heatmap cell in pixels (default: fits 360 px). */
  cell?: number;
  /** Longer side of the position-map picture (default 192). */
  side?: number;
  title?: string;
}

const WHERE = "attributionHeads";

/**
 * The layers × heads heatmap of head scores (log-prob increase of ŷ from each head's output at T).
 * Heads with position scores are outlined; click one to see its position map over the image on
 * the right (the top head at first). Other heads say how to get theirs.
 */
export function attributionHeads(r: AttributionResult, options: AttributionHeadsOptions = {}): Widget {
  checkResult(WHERE, r);
  const { numLayers: N, numHeads: H } = r;
  const cell = options.cell ?? Math.max(8, Math.min(28, Math.floor(360 / Math.max(N, H))));
  if (!(Number.isInteger(cell) && cell >= 4 && cell <= 60)) throw new RangeError(`${WHERE}: cell must be an integer 4..60, got ${cell}`);
  const mapped = new Set(r.headPositions.map(headLabel));
  const heads: Cell[][] = [];
  let bound = 1e-6;
  for (let l = 0; l < N; l++) {
    for (let h = 0; h < H; h++) {
      const score = r.headScores[l * H + h];
      if (Number.isFinite(score)) bound = Math.max(bound, Math.abs(score));
      heads.push([l, h, Number.isFinite(score) ? round(score, 5) : "", mapped.has(`${l}.${h}`) ? 1 : 0]);
    }
  }
  const img = displayImage(r, options.side ?? 192);
  const [rows, cols] = r.grid;
  const positions: Cell[][] = [];
  for (const hp of r.headPositions) {
    hp.patches.forEach((v, k) => {
      const row = Math.floor(k / cols);
      const col = k % cols;
      positions.push([hp.layer, hp.head, row, col, round(col * img.cellW, 2), round((col + 1) * img.cellW, 2), round(row * img.cellH, 2), round((row + 1) * img.cellH, 2), Number.isFinite(v) ? round(v, 5) : ""]);
    });
  }
  const domain = extent(r.headPositions.flatMap((h) => Array.from(h.patches)));
  const first = r.headPositions[0] ?? r.rankedHeads[0];
  const pick = { name: "pick", select: { type: "point", fields: ["layer", "head"], on: "click", clear: false }, value: [{ layer: first.layer, head: first.head }] };
  const heatmap = {
    title: { text: `head scores: log p(${r.target.token}) increase`, fontSize: 11 },
    width: { step: cell },
    height: { step: cell },
    data: { name: "heads", format: { type: "csv", parse: { layer: "number", head: "number", score: "number", mapped: "number" } } },
    params: [pick],
    mark: { type: "rect", invalid: null, cursor: "pointer" },
    encoding: {
      x: { field: "head", type: "ordinal", title: "head" },
      y: { field: "layer", type: "ordinal", title: "layer", sort: "descending" },
      fill: { field: "score", type: "quantitative", title: "Δ log p", scale: { scheme: "redblue", reverse: true, domain: [-bound, bound] } },
      stroke: { condition: { param: "pick", empty: false, value: "black" }, value: { expr: "datum.mapped ? '#555555' : null" } },
      strokeWidth: { condition: { param: "pick", empty: false, value: 2.5 }, value: 1 },
      tooltip: [
        { field: "layer", type: "quantitative" },
        { field: "head", type: "quantitative" },
        { field: "score", type: "quantitative", title: "Δ log p", format: ".4f" },
      ],
    },
  };
  const map = {
    title: { text: "position scores of the picked head", fontSize: 11 },
    width: img.width,
    height: img.height,
    layer: [
      imageLayer(img.url, img.width, img.height),
      {
        data: { name: "positions", format: { type: "csv", parse: { layer: "number", head: "number", row: "number", col: "number", x0: "number", x1: "number", y0: "number", y1: "number", v: "number" } } },
        transform: [{ filter: { param: "pick", empty: false } }],
        mark: { type: "rect", opacity: 0.65 },
        encoding: {
          ...cellPosition(img.width, img.height),
          fill: { field: "v", type: "quantitative", title: "position score", scale: { scheme: "viridis", domain, clamp: true }, legend: { orient: "bottom", direction: "horizontal" } },
          tooltip: [
            { field: "layer", type: "quantitative" },
            { field: "head", type: "quantitative" },
            { field: "row", type: "quantitative" },
            { field: "col", type: "quantitative" },
            { field: "v", type: "quantitative", title: "position score", format: ".4f" },
          ],
        },
      },
      {
        data: { name: "heads", format: { type: "csv", parse: { layer: "number", head: "number", score: "number", mapped: "number" } } },
        transform: [{ filter: { param: "pick", empty: false } }, { calculate: "datum.mapped ? 'head ' + datum.layer + '.' + datum.head : 'head ' + datum.layer + '.' + datum.head + ':|no position scores|(add it to heads)'", as: "label" }],
        mark: { type: "text", align: "left", baseline: "top", dx: 4, dy: 4, fontSize: 11, lineBreak: "|", color: "white", stroke: "black", strokeWidth: 0.3 },
        encoding: { text: { field: "label" }, x: { value: 0 }, y: { value: 0 } },
      },
    ],
  };
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens attribution heads: ${N} layers x ${H} heads, position maps for ${r.headPositions.length} heads over a ${rows}x${cols} grid`,
    title: options.title ?? `${r.model}: which heads raised "${r.target.token}"`,
    config: baseConfig(),
    datasets: {
      heads: toCSV(["layer", "head", "score", "mapped"], heads),
      positions: toCSV(["layer", "head", "row", "col", "x0", "x1", "y0", "y1", "v"], positions),
    },
    hconcat: [heatmap, map],
    resolve: { scale: { fill: "independent" }, legend: { fill: "independent" } },
  };
  const top = r.rankedHeads.slice(0, 5).map((h) => `${headLabel(h)} ${h.score.toFixed(3)}`);
  const summary = [
    `Head scores for "${r.target.token}" (${r.model}): ${N} layers x ${H} heads; top: ${top.join(", ")}.`,
    `Position maps for ${r.headPositions.length} heads (${r.headPositions.map(headLabel).join(", ")}); click a head to see its map.`,
  ].join("\n");
  return createWidget({ spec, summary });
}
