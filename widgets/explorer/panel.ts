import { LENS_COLOURS, LENS_TITLES, MONO_ADVANCE, MONO_FONT } from "../spec";
import { lensDataset, lensFormat, named, PACKED_FIELDS, type LensTable, type PackedField } from "./tables";

/**
 * One lens's neighbour list for the selected patch at the slider's layer: a text table
 * (rank, word, score columns, contextual-layer badge, the sentence with the token highlighted).
 * Its data is the lens's table: filtered to the layer and the clicked patch (one row), the packed
 * `n1…nk` cells unfolded into k rows and unpacked, words and sentences joined by lookup.
 */

export const ROW_HEIGHT = 18;
export const FONT_SIZE = 11;
const HEADER = 16;
const CHAR = FONT_SIZE * MONO_ADVANCE;

export interface PanelNames {
  /** The layer param (the slider). */
  layer: string;
  /** The patch selection param (the click). */
  patch: string;
}

interface Column {
  header: string;
  x: number;
  align: "left" | "right";
}

/** A text column at pixel `x` (null: the encoding positions it), one line per neighbour. */
function textLayer(x: number | null, align: "left" | "right", encoding: Record<string, unknown>, mark: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mark: { type: "text", align, baseline: "middle", fontSize: FONT_SIZE, ...(x === null ? {} : { x }), ...mark },
    encoding: { y: { field: "y", type: "quantitative", scale: null }, ...encoding },
  };
}

export function lensPanel(table: LensTable, k: number, contextChars: number, names: PanelNames): Record<string, unknown> {
  const { lens, fields } = table;
  const at = (f: PackedField) => fields.indexOf(f);
  const int = (f: PackedField) => `parseInt(datum.f[${at(f)}], 36)`;
  const slots = Array.from({ length: k }, (_, r) => `n${r + 1}`);

  const transform: Record<string, unknown>[] = [
    { filter: `datum.l == ${names.layer}` },
    { filter: { param: names.patch, empty: false } },
    { fold: slots, as: ["slot", "packed"] },
    { filter: "isValid(datum.packed) && datum.packed != ''" },
    { calculate: "split(datum.packed, ':')", as: "f" },
    { calculate: "toNumber(substring(datum.slot, 1))", as: "rank" },
    { calculate: `${HEADER} + (datum.rank - 0.5) * ${ROW_HEIGHT}`, as: "y" },
    { calculate: "datum.y - 7", as: "y_top" },
    { calculate: "datum.y + 7", as: "y_bottom" },
  ];
  if (at("e") >= 0) {
    // A contextual neighbour: its bank entry gives word, sentence, token span and layer.
    transform.push(
      { calculate: `datum.f[${at("e")}]`, as: "ei" },
      { lookup: "ei", from: { data: named("entries"), key: "i", fields: ["w", "x", "a", "b", "c"] }, as: ["wi", "xi", "a36", "b36", "c36"] },
      { calculate: "parseInt(datum.a36, 36)", as: "a" },
      { calculate: "parseInt(datum.b36, 36)", as: "b" },
      { calculate: "datum.c36 == '' ? null : parseInt(datum.c36, 36)", as: "context_layer" },
    );
  } else {
    transform.push({ calculate: `datum.f[${at("w")}]`, as: "wi" });
  }
  transform.push({ lookup: "wi", from: { data: named("words"), key: "i", fields: ["s"] }, as: ["word"] });
  const scores = { s: "similarity", g: "logit", p: "probability" } as const;
  for (const f of ["s", "g", "p"] as const) {
    if (at(f) >= 0) transform.push({ calculate: `datum.f[${at(f)}] == '' ? null : ${int(f)} / ${PACKED_FIELDS[f].scale}`, as: scores[f] });
  }

  const columns: Column[] = [];
  const layers: Record<string, unknown>[] = [];
  const column = (header: string, x: number, align: "left" | "right", layer?: Record<string, unknown>) => {
    columns.push({ header, x, align });
    if (layer) layers.push(layer);
  };
  let x = 18;
  column("#", x, "right", textLayer(x, "right", { text: { field: "rank", type: "quantitative" } }, { fill: "#888" }));
  x += 8;
  column("word", x, "left", textLayer(x, "left", { text: { field: "word", type: "nominal" } }, { limit: 92, fontWeight: "bold" }));
  x += 96;
  if (at("s") >= 0) {
    x += 42;
    column("cos", x, "right", textLayer(x, "right", { text: { field: "similarity", type: "quantitative", format: ".3f" } }));
  }
  if (at("g") >= 0) {
    x += 46;
    column("logit", x, "right", textLayer(x, "right", { text: { field: "logit", type: "quantitative", format: ".2f" } }));
  }
  if (at("p") >= 0) {
    x += 54;
    column("prob", x, "right", textLayer(x, "right", { text: { field: "probability", type: "quantitative", format: ".1%" } }));
  }
  let width = x + 8;

  if (at("e") >= 0) {
    const C = contextChars;
    transform.push(
      { lookup: "xi", from: { data: named("sentences"), key: "i", fields: ["s"] }, as: ["sentence"] },
      { calculate: "isValid(datum.context_layer) ? 'L' + datum.context_layer : ''", as: "badge" },
      // The window shown: contextChars each side of the token, "…" where the sentence goes on.
      { calculate: `isValid(datum.sentence) ? (datum.a > ${C} ? '…' : '') + substring(datum.sentence, max(0, datum.a - ${C}), datum.a) : ''`, as: "left" },
      { calculate: "isValid(datum.sentence) ? substring(datum.sentence, datum.a, datum.a + datum.b) : ''", as: "token" },
      {
        calculate: `isValid(datum.sentence) ? substring(datum.sentence, datum.a + datum.b, datum.a + datum.b + ${C}) + (datum.a + datum.b + ${C} < length(datum.sentence) ? '…' : '') : ''`,
        as: "right",
      },
      { calculate: `datum.b * ${CHAR}`, as: "token_width" },
    );
    // Contextual-layer badge.
    const bx = x + 8;
    column("ctx", bx, "left");
    layers.push(
      {
        mark: { type: "rect", x: bx, x2: bx + 26, cornerRadius: 3, fill: LENS_COLOURS[lens] ?? "#4c78a8", opacity: 0.85 },
        encoding: { y: { field: "y_top", type: "quantitative", scale: null }, y2: { field: "y_bottom" } },
        transform: [{ filter: "datum.badge != ''" }],
      },
      textLayer(bx + 13, "left", { text: { field: "badge", type: "nominal" } }, { align: "center", fill: "white", fontWeight: "bold", fontSize: 10 }),
    );
    // Keyword in context: the left context right-aligned to the token, the token highlighted, the rest.
    const kwic = bx + 34 + (C + 1) * CHAR;
    column("context", bx + 34, "left");
    layers.push(
      {
        mark: { type: "rect", fill: "#ffe08a" },
        encoding: {
          x: { field: "token_start", type: "quantitative", scale: null },
          x2: { field: "token_end" },
          y: { field: "y_top", type: "quantitative", scale: null },
          y2: { field: "y_bottom" },
        },
        transform: [
          { filter: "datum.b > 0" },
          { calculate: `${kwic - 1}`, as: "token_start" },
          { calculate: `${kwic + 1} + datum.token_width`, as: "token_end" },
        ],
      },
      // Vega trims the spaces at a text's ends: each context moves by the spaces it loses there.
      {
        ...textLayer(null, "right", { text: { field: "left", type: "nominal" }, x: { field: "left_x", type: "quantitative", scale: null } }, { font: MONO_FONT, fill: "#555" }),
        transform: [{ calculate: `${kwic} - (length(datum.left) - length(replace(datum.left, regexp(' +$'), ''))) * ${CHAR}`, as: "left_x" }],
      },
      textLayer(kwic, "left", { text: { field: "token", type: "nominal" } }, { font: MONO_FONT, fontWeight: "bold" }),
      {
        ...textLayer(null, "left", { text: { field: "right", type: "nominal" }, x: { field: "right_x", type: "quantitative", scale: null } }, { font: MONO_FONT, fill: "#555" }),
        transform: [{ calculate: `${kwic} + datum.token_width + (length(datum.right) - length(replace(datum.right, regexp('^ +'), ''))) * ${CHAR}`, as: "right_x" }],
      },
    );
    width = kwic + table.maxRight * CHAR + 8;
  }

  // Column headers, from data of their own (one layer per alignment).
  for (const align of ["left", "right"] as const) {
    const values = columns.filter((c) => c.align === align).map((c) => ({ header: c.header, hx: c.x }));
    if (values.length === 0) continue;
    layers.push({
      data: { values },
      mark: { type: "text", align, baseline: "middle", fontSize: 10, fill: "#888", y: HEADER / 2 - 2 },
      encoding: { x: { field: "hx", type: "quantitative", scale: null }, text: { field: "header", type: "nominal" } },
    });
  }

  return {
    title: { text: LENS_TITLES[lens] ?? lens, color: LENS_COLOURS[lens], fontSize: 12 },
    width: Math.round(width),
    height: HEADER + k * ROW_HEIGHT,
    data: { name: lensDataset(lens), format: lensFormat(k) },
    transform,
    layer: layers,
  };
}
