import type { AttributionResult } from "vislens";
import { round, toCSV, type Cell } from "../data/csv";
import { baseConfig, VEGALITE_SCHEMA, type VegaLiteSpec } from "../spec";
import { createWidget, type Widget } from "../widget";
import { cellPosition, checkResult, extent, fullGrid, headLabel, imageLayer, pickHead } from "./common";
import { heatImage } from "./heat-image";

export interface AttributionMapsOptions {
  /** One head's position map instead of the sum over the result's chosen heads. */
  head?: { layer: number; head: number };
  /** Add the ablation drops as a third panel when the result has them (default true). */
  ablation?: boolean;
  /** Longer side of each picture on screen (default 192). */
  side?: number;
  /** Opacity of the map over the image (default 0.6). */
  alpha?: number;
  title?: string;
}

const WHERE = "attributionMaps";

/**
 * The position scores upsampled over the image the model saw, side by side with the plain
 * attention map (the paper's baseline) and, when the result has them, the ablation drops: the
 * causal check shown as a picture. Each panel has its own colour scale; hover a patch for its value.
 */
export function attributionMaps(r: AttributionResult, options: AttributionMapsOptions = {}): Widget {
  checkResult(WHERE, r);
  const side = options.side ?? 192;
  if (!(Number.isInteger(side) && side >= 32 && side <= 1024)) throw new RangeError(`${WHERE}: side must be an integer 32..1024, got ${side}`);
  const head = pickHead(WHERE, r, options.head);
  const panels: { name: string; title: string; values: Float64Array }[] = [
    {
      name: "positions",
      title: head ? `head ${headLabel(head)}: position scores` : `position scores, Σ of ${r.headPositions.length} top heads`,
      values: fullGrid(r, head ? head.patches : r.positionMap),
    },
    { name: "attention", title: "attention of T (mean over layers and heads)", values: fullGrid(r, r.attentionMap) },
  ];
  if (r.ablation && options.ablation !== false) {
    panels.push({ name: "ablation", title: `ablation: drop in log p(${r.target.token}) (${r.ablation.baseline} token)`, values: fullGrid(r, r.ablation.patchDrops) });
  }
  const [rows, cols] = r.grid;
  const views = panels.map((p, i) => {
    const domain = extent(p.values);
    const img = heatImage(r.preprocessed, r.grid, p.values, domain, { side, alpha: options.alpha });
    const cw = img.width / cols;
    const ch = img.height / rows;
    const cells: Cell[][] = [];
    for (let k = 0; k < rows * cols; k++) {
      const row = Math.floor(k / cols);
      const col = k % cols;
      cells.push([row, col, round(col * cw, 2), round((col + 1) * cw, 2), round(row * ch, 2), round((row + 1) * ch, 2), Number.isFinite(p.values[k]) ? round(p.values[k], 5) : ""]);
    }
    return {
      title: { text: p.title, fontSize: 11 },
      width: img.width,
      height: img.height,
      layer: [
        imageLayer(img.url, img.width, img.height),
        {
          data: { name: `cells_${p.name}`, format: { type: "csv", parse: { row: "number", col: "number", x0: "number", x1: "number", y0: "number", y1: "number", v: "number" } } },
          mark: { type: "rect", fillOpacity: 0, strokeOpacity: 0 },
          encoding: {
            ...cellPosition(img.width, img.height),
            fill: { field: "v", type: "quantitative", title: p.name === "ablation" ? "drop" : "score", scale: { scheme: "viridis", domain, clamp: true }, legend: { orient: "bottom", direction: "horizontal", gradientLength: Math.min(160, img.width - 20) } },
            tooltip: [
              { field: "row", type: "quantitative" },
              { field: "col", type: "quantitative" },
              { field: "v", type: "quantitative", title: p.name, format: ".4f" },
            ],
          },
        },
      ],
      _cells: toCSV(["row", "col", "x0", "x1", "y0", "y1", "v"], cells),
      _i: i,
    };
  });
  const datasets = Object.fromEntries(views.map((v, i) => [`cells_${panels[i].name}`, v._cells]));
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens attribution maps: ${panels.map((p) => p.name).join(", ")} over a ${rows}x${cols} grid`,
    title: options.title ?? `${r.model}: where "${r.target.token}" came from`,
    config: baseConfig(),
    datasets,
    hconcat: views.map(({ _cells, _i, ...v }) => v),
    resolve: { scale: { fill: "independent", x: "independent", y: "independent" }, legend: { fill: "independent" } },
  };
  const best = (values: Float64Array) => {
    let k = -1;
    for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && (k < 0 || values[i] > values[k])) k = i;
    return k < 0 ? "none" : `patch (${Math.floor(k / cols)}, ${k % cols}) ${values[k].toFixed(3)}`;
  };
  const lines = [`Attribution maps for "${r.target.token}" (${r.model}), ${rows}x${cols} patches:`, ...panels.map((p) => `  ${p.title}: top ${best(p.values)}`)];
  if (r.ablation) lines.push(`  Spearman with the ablation drops: position map ${r.ablation.spearmanPositions.toFixed(3)}, attention map ${r.ablation.spearmanAttention.toFixed(3)}`);
  return createWidget({ spec, summary: lines.join("\n") });
}
