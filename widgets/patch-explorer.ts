import type { ImageHiddenStates, LensName, PatchInterpretation } from "vislens";
import { embedImage, preprocessedRgb, rgbDataURL, type ImageSource } from "./data/image";
import { indexRecords } from "./data/records";
import { lensPanel } from "./explorer/panel";
import { buildTables, named, PACKED_FIELDS } from "./explorer/tables";
import { resolveScore, type PatchScore } from "./score";
import { baseConfig, LENS_TITLES, VEGALITE_SCHEMA, type VegaLiteSpec } from "./spec";
import { createWidget, type Widget } from "./widget";

/**
 * The patch explorer: the image with its patch grid, patches coloured by a per-patch score, a layer
 * slider, and — for the clicked patch at the slider's layer — each lens's neighbour list side by
 * side. Interaction (slider, click) runs in the front end's Vega; the SVG fallback shows the
 * initial layer and patch.
 */
export interface PatchExplorerOptions {
  /**
   * The picture under the grid: the image file (PNG/JPEG/GIF/WebP, embedded as is), its bytes, or
   * a decoded RgbImage (shrunk to the display size). Default: the model's preprocessed input,
   * rebuilt from `states.preprocessed` (approximate colours).
   */
  image?: ImageSource;
  /** What colours a patch: a lens name (its top-1 similarity / probability) or a PatchScore. Default: LatentLens top-1 similarity. */
  score?: PatchScore | LensName;
  /** Layer shown first (default: the middle one of the layers interpreted). */
  layer?: number;
  /** Patch selected first (default: the highest-scoring patch at that layer). */
  patch?: number;
  /** Neighbours listed per lens (default: all the records carry). */
  k?: number;
  /** Longer side of the image on screen, in pixels (default 320). */
  size?: number;
  /** Characters of sentence shown each side of a LatentLens token (default 24). */
  contextChars?: number;
  /** Fill opacity of the coloured patches (default 0.55). */
  opacity?: number;
  title?: string;
}

/** The parts of interpretImage's input the explorer reads. */
export type ExplorerStates = Pick<ImageHiddenStates, "grid" | "patches" | "preprocessed">;

const LAYER = "layer";
const GEOMETRY = ["row", "col", "x0", "y0", "x1", "y1"];
const PATCH = "patch";

function layerBinding(layers: readonly number[]): Record<string, unknown> | undefined {
  if (layers.length < 2) return undefined;
  const step = layers[1] - layers[0];
  const even = layers.every((l, i) => i === 0 || l - layers[i - 1] === step);
  return even
    ? { input: "range", min: layers[0], max: layers[layers.length - 1], step, name: "layer " }
    : { input: "select", options: [...layers], name: "layer " };
}

export function patchExplorer(states: ExplorerStates, records: readonly PatchInterpretation[], options: PatchExplorerOptions = {}): Widget {
  const where = "patchExplorer";
  if (!states || !Array.isArray(states.patches) || !states.preprocessed) throw new TypeError(`${where}: states must be imageHiddenStates(...)'s result (with patches and preprocessed)`);
  const index = indexRecords(records, where);
  const geometry = states.patches;
  for (const p of index.patches) {
    if (p >= geometry.length) throw new RangeError(`${where}: records name patch ${p}, the states have ${geometry.length} patches`);
  }
  const size = options.size ?? 320;
  if (!(Number.isFinite(size) && size >= 32 && size <= 2048)) throw new RangeError(`${where}: size must be 32..2048 pixels, got ${size}`);
  const contextChars = options.contextChars ?? 24;
  if (!(Number.isInteger(contextChars) && contextChars >= 0 && contextChars <= 200)) throw new RangeError(`${where}: contextChars must be an integer 0..200, got ${contextChars}`);
  const k = Math.min(options.k ?? index.k, index.k);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`${where}: k must be a positive integer, got ${options.k}`);
  const opacity = options.opacity ?? 0.55;
  if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`${where}: opacity must be in 0..1, got ${options.opacity}`);
  const score = resolveScore(options.score, index.lenses);

  // The frame: original-image pixels when the image is given (patch boxes are in those), else
  // the preprocessed input's pixels (a regular grid).
  const pre = states.preprocessed;
  const [rows, cols] = states.grid;
  let frame: { width: number; height: number };
  let image: { url: string };
  const boxes = new Map<number, [number, number, number, number]>();
  if (options.image !== undefined) {
    frame = pre.original;
    const embedded = embedImage(options.image, size);
    if (embedded.width !== undefined && (embedded.width !== frame.width || embedded.height !== frame.height)) {
      throw new RangeError(`${where}: the image is ${embedded.width}x${embedded.height}, the states were computed from a ${frame.width}x${frame.height} image`);
    }
    image = embedded;
  } else {
    frame = { width: pre.width, height: pre.height };
    image = rgbDataURL(preprocessedRgb(pre), size);
  }
  const scale = size / Math.max(frame.width, frame.height);
  const dw = Math.round(frame.width * scale);
  const dh = Math.round(frame.height * scale);
  for (const g of geometry) {
    if (options.image !== undefined) {
      if (g.coverage <= 0) continue;
      boxes.set(g.index, [g.box[0] * scale, g.box[1] * scale, g.box[2] * scale, g.box[3] * scale]);
    } else {
      const ch = pre.height / rows;
      const cw = pre.width / cols;
      boxes.set(g.index, [g.col * cw * scale, g.row * ch * scale, (g.col + 1) * cw * scale, (g.row + 1) * ch * scale]);
    }
  }

  const tables = buildTables(index, score, { k, contextChars, boxes, geometry });
  if (tables.drawn.length === 0) throw new RangeError(`${where}: none of the records' patches shows any of the image`);

  const layers = index.layers;
  const layer0 = options.layer ?? layers[Math.floor((layers.length - 1) / 2)];
  if (!layers.includes(layer0)) throw new RangeError(`${where}: layer ${layer0} has no records (layers: ${layers.join(", ")})`);
  let patch0 = options.patch;
  if (patch0 === undefined) {
    let best = -Infinity;
    for (const p of tables.drawn) {
      const v = score.of(index.at(layer0, p));
      if (typeof v === "number" && v > best) {
        best = v;
        patch0 = p;
      }
    }
    patch0 ??= tables.drawn[0];
  } else if (!tables.drawn.includes(patch0)) {
    throw new RangeError(`${where}: patch ${patch0} has no records or shows no image`);
  }

    const grid = {
    width: dw,
    height: dh + 24,
    title: options.title ? { text: options.title } : undefined,
    layer: [
      {
        data: { values: [{}] },
        mark: { type: "image", width: dw, height: dh, align: "left", baseline: "top", aspect: false },
        encoding: { url: { value: image.url }, x: { value: 0 }, y: { value: 0 } },
      },
      {
        // Scores at the slider's layer, joined with the patch geometry and each lens's top-1 word;
        // the patches (clickable) and the caption naming the selected one share this data.
        data: { name: "scores", format: { type: "csv", parse: { l: "number", patch: "number", v: "number", ...Object.fromEntries(index.lenses.map((l) => [`t_${l}`, "string"])) } } },
        transform: [
          { filter: `datum.l == ${LAYER}` },
          { lookup: PATCH, from: { data: named("patches"), key: PATCH, fields: GEOMETRY } },
          // vega-lite 5.6 drops the `parse` of a lookup's secondary data: its fields arrive as strings.
          ...GEOMETRY.map((f) => ({ calculate: `toNumber(datum.${f})`, as: f })),
          ...index.lenses.map((lens) => ({ lookup: `t_${lens}`, from: { data: named("words"), key: "i", fields: ["s"] }, as: [`top_${lens}`] })),
        ],
        layer: [
          {
            params: [
              {
                name: PATCH,
                select: { type: "point", fields: [PATCH], on: "click", clear: false, toggle: false },
                value: [{ [PATCH]: patch0 }],
              },
            ],
            mark: { type: "rect", cursor: "pointer", invalid: null, aria: false },
            encoding: {
              x: { field: "x0", type: "quantitative", scale: null },
              x2: { field: "x1" },
              y: { field: "y0", type: "quantitative", scale: null },
              y2: { field: "y1" },
              fill: {
                condition: { test: "!isValid(datum.v)", value: "#bbbbbb" },
                field: "v",
                type: "quantitative",
                title: score.title,
                scale: { scheme: "viridis", domain: tables.scoreDomain, clamp: true },
                legend: { orient: "right", gradientLength: Math.max(60, dh - 40), titleLimit: 300 },
              },
              fillOpacity: { value: opacity },
              stroke: { condition: { param: PATCH, empty: false, value: "#ff2d55" }, value: "white" },
              strokeWidth: { condition: { param: PATCH, empty: false, value: 3 }, value: 0.4 },
              tooltip: [
                { field: PATCH, type: "quantitative", title: "patch" },
                { field: "row", type: "quantitative" },
                { field: "col", type: "quantitative" },
                { field: "v", type: "quantitative", title: score.title, format: ".3f" },
                ...index.lenses.map((lens) => ({ field: `top_${lens}`, type: "nominal", title: `${LENS_TITLES[lens]} top-1` })),
              ],
            },
          },
          {
            // The selected patch drawn again on top, so its outline is never hidden by a neighbour's.
            transform: [{ filter: { param: PATCH, empty: false } }],
            mark: { type: "rect", fill: null, stroke: "#ff2d55", strokeWidth: 3, aria: false },
            encoding: {
              x: { field: "x0", type: "quantitative", scale: null },
              x2: { field: "x1" },
              y: { field: "y0", type: "quantitative", scale: null },
              y2: { field: "y1" },
            },
          },
          {
            transform: [
              { filter: { param: PATCH, empty: false } },
              { calculate: `'patch ' + datum.patch + ' (row ' + datum.row + ', col ' + datum.col + ') at layer ' + ${LAYER}`, as: "label" },
            ],
            mark: { type: "text", align: "left", baseline: "top", fontSize: 12, fontWeight: "bold", x: 0, y: dh + 6 },
            encoding: { text: { field: "label", type: "nominal" } },
          },
        ],
      },
    ],
  };
  if (grid.title === undefined) delete grid.title;

  const panels = tables.lensTables.map((t) => lensPanel(t, k, contextChars, { layer: LAYER, patch: PATCH }));
  const bind = layerBinding(layers);
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens patch explorer: ${rows}x${cols} patches, layers ${layers.join(",")}, lenses ${index.lenses.join(",")}`,
    config: baseConfig(),
    // How to read the datasets without this code (docs/widgets.md, "Data layout").
    usermeta: {
      vislens: {
        widget: "patchExplorer",
        layers,
        lenses: index.lenses,
        k,
        contextChars,
        packed: Object.fromEntries(tables.lensTables.map((t) => [t.lens, t.fields])),
        scales: Object.fromEntries(Object.entries(PACKED_FIELDS).map(([f, d]) => [f, d.scale])),
        score: score.title,
      },
    },
    params: [{ name: LAYER, value: layer0, ...(bind ? { bind } : {}) }],
    // Every table once, as CSV text (see explorer/tables.ts); views and lookups refer to them by name.
    datasets: tables.datasets,
    vconcat: [grid, { hconcat: panels, spacing: 24 }],
    // The colour legend beside the image, not beside the whole (wide) explorer.
    resolve: { legend: { fill: "independent" } },
    spacing: 16,
  };

  return createWidget({ spec, summary: explorerSummary(index, score, rows, cols, layer0, patch0!, k) });
}

function explorerSummary(index: ReturnType<typeof indexRecords>, score: PatchScore, rows: number, cols: number, layer: number, patch: number, k: number): string {
  const cell = index.cell.get(patch)!;
  const lines = [
    `Patch explorer: ${rows}x${cols} patches, layers ${index.layers[0]}..${index.layers[index.layers.length - 1]} (${index.layers.length}), lenses ${index.lenses.map((l) => LENS_TITLES[l]).join(", ")}, top-${k}; colour = ${score.title}.`,
    `Patch ${patch} (row ${cell.row}, col ${cell.col}) at layer ${layer}:`,
  ];
  const at = index.at(layer, patch);
  for (const lens of index.lenses) {
    const list = (at[lens] ?? []).slice(0, k).map((n) => {
      const v = n.similarity ?? n.probability ?? n.logit;
      return `${n.word}${typeof v === "number" ? ` (${v.toFixed(3)})` : ""}`;
    });
    lines.push(`  ${LENS_TITLES[lens]}: ${list.join(", ") || "-"}`);
  }
  return lines.join("\n");
}
