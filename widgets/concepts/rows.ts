import { round, toCSV, type Cell } from "../data/csv";
import { printable } from "../data/strings";
import { WORD_MAX_CHARS } from "../patch-words";
import { FONT, MONO_ADVANCE, MONO_FONT } from "../spec";
import { baseName } from "./common";
import type { Thumbnails } from "./thumbnails";

/**
 * The concept rows the grid and the local panel share: one row per concept — its label, its top
 * images as thumbnails and its grounding words as chips. Clicking a chip selects that word: every
 * chip with the same word, in every row, lights up (which concepts share it: the overlap, seen);
 * a double click clears it. Hovering an image or a chip shows its details. Everything is placed in
 * pixels (no scales), so the SVG rendered in Node is the same picture.
 */
export interface RowConcept {
  /** The concept's index in its dictionary. */
  concept: number;
  /** Row label ("concept 3", "#3 · 0.52"). */
  label: string;
  words: readonly string[];
  images: readonly { file: string; activation: number; caption?: string; field: string }[];
}

export interface ConceptRows {
  /** A layered view (width and height set). */
  view: Record<string, unknown>;
  /** Its datasets, to merge into the spec's top-level `datasets` (with `thumbs` from the Thumbnails). */
  datasets: Record<string, unknown>;
  width: number;
  height: number;
}

export interface ConceptRowsOptions {
  /** Prefix of the dataset names (one rows view per spec uses "rows"). */
  name: string;
  /** Name of the word selection (a spec-wide signal). */
  param: string;
  /** Word selected at first (its chips lit in the SVG too). */
  highlight?: string;
  /** Width the chips of a row wrap within (default 430 px). */
  wordsWidth?: number;
  /** Column headings above the rows (default true). */
  headings?: boolean;
  /** A selection elsewhere in the spec, with field `concept`, whose concepts' rows are shaded. */
  rowParam?: string;
}

export const HIGHLIGHT = "#ffc93c";
/** The band behind a row selected through `rowParam`. */
export const ROW_HIGHLIGHT = "#fff1c7";
const CHIP = "#eef2f7";
const CHIP_STROKE = "#c5cfdb";
const FONT_SIZE = 11;
const CHAR = FONT_SIZE * MONO_ADVANCE;
const LABEL_CHAR = 12 * 0.64;
const CHIP_H = 16;
const CHIP_PAD = 4;
const CHIP_GAP = 4;
const LINE_GAP = 4;
const IMAGE_GAP = 4;
const HEADING_H = 18;
const ROW_PAD = 5;
const COLUMN_GAP = 14;

const cut = (word: string) => {
  const w = printable(word);
  return w.length > WORD_MAX_CHARS ? `${w.slice(0, WORD_MAX_CHARS - 1)}…` : w;
};

export function conceptRows(concepts: readonly RowConcept[], thumbs: Thumbnails, options: ConceptRowsOptions): ConceptRows {
  const side = thumbs.side;
  const wordsWidth = options.wordsWidth ?? 430;
  const headings = options.headings ?? true;
  const nImages = Math.max(0, ...concepts.map((c) => c.images.length));
  const labelW = Math.ceil(Math.max(...concepts.map((c) => c.label.length)) * LABEL_CHAR) + COLUMN_GAP;
  const imagesX = labelW;
  const wordsX = imagesX + (nImages > 0 ? nImages * (side + IMAGE_GAP) - IMAGE_GAP + COLUMN_GAP : 0);

  const rows: Record<string, unknown>[] = [];
  const images: Record<string, unknown>[] = [];
  const words: Record<string, unknown>[] = [];
  let y = headings ? HEADING_H : 0;
  let right = wordsX;
  concepts.forEach((c, r) => {
    // Chips, wrapped into lines within wordsWidth.
    const chips: { word: string; text: string; rank: number; x: number; line: number; w: number }[] = [];
    let x = 0;
    let line = 0;
    c.words.forEach((word, rank) => {
      const text = cut(word);
      const w = Math.ceil(text.length * CHAR) + 2 * CHIP_PAD;
      if (x > 0 && x + w > wordsWidth) {
        line++;
        x = 0;
      }
      chips.push({ word: printable(word), text, rank, x, line, w });
      x += w + CHIP_GAP;
    });
    const lines = chips.length ? line + 1 : 1;
    const wordsH = lines * CHIP_H + (lines - 1) * LINE_GAP;
    const inner = Math.max(nImages > 0 ? side : 0, wordsH, CHIP_H);
    const y0 = y;
    const mid = y0 + ROW_PAD + inner / 2;
    rows.push({ concept: c.concept, row: r, label: printable(c.label), x0: 0, x1: 0, y0, y1: y0 + inner + 2 * ROW_PAD, ym: round(mid, 2), band: r % 2 === 0 ? "#f6f7f9" : "#ffffff" });
    c.images.forEach((img, rank) => {
      const t = thumbs.of(img.file, img.field);
      const x0 = imagesX + rank * (side + IMAGE_GAP) + (side - t.width) / 2;
      const top = mid - t.height / 2;
      images.push({
        concept: c.concept,
        rank: rank + 1,
        key: t.key,
        file: baseName(img.file),
        activation: round(img.activation, 4),
        ...(img.caption !== undefined ? { caption: printable(img.caption) } : {}),
        x0: round(x0, 2),
        x1: round(x0 + t.width, 2),
        y0: round(top, 2),
        y1: round(top + t.height, 2),
      });
    });
    const top = mid - wordsH / 2;
    for (const chip of chips) {
      const cy = top + chip.line * (CHIP_H + LINE_GAP);
      words.push({ concept: c.concept, rank: chip.rank + 1, word: chip.word, text: chip.text, x0: wordsX + chip.x, x1: wordsX + chip.x + chip.w, y0: round(cy, 2), y1: round(cy + CHIP_H, 2), ym: round(cy + CHIP_H / 2, 2) });
      right = Math.max(right, wordsX + chip.x + chip.w);
    }
    y = y0 + inner + 2 * ROW_PAD;
  });
  const width = Math.ceil(Math.max(right, wordsX + 120));
  const height = Math.ceil(y);
  for (const r of rows) r.x1 = width;

  const px = (field: string) => ({ field, type: "quantitative", scale: null });
  const n = options.name;
  const tables = { rows, images, words };
  const numeric: Record<keyof typeof tables, string[]> = {
    rows: ["concept", "row", "x0", "x1", "y0", "y1", "ym"],
    images: ["concept", "rank", "key", "activation", "x0", "x1", "y0", "y1"],
    words: ["concept", "rank", "x0", "x1", "y0", "y1", "ym"],
  };
  const data = (t: keyof typeof tables) => ({ name: `${n}_${t}`, format: { type: "csv", parse: Object.fromEntries(numeric[t].map((c) => [c, "number"])) } });
  const csv = (t: keyof typeof tables) => {
    const columns = [...new Set(tables[t].flatMap((row) => Object.keys(row)))];
    return toCSV(columns, tables[t].map((row) => columns.map((c) => row[c] as Cell)));
  };
  const layers: Record<string, unknown>[] = [
    {
      data: data("rows"),
      mark: { type: "rect" },
      encoding: {
        x: px("x0"),
        x2: { field: "x1" },
        y: px("y0"),
        y2: { field: "y1" },
        fill: { ...(options.rowParam ? { condition: { param: options.rowParam, empty: false, value: ROW_HIGHLIGHT } } : {}), field: "band", type: "nominal", scale: null },
      },
    },
    {
      data: data("rows"),
      mark: { type: "text", align: "left", baseline: "middle", x: 4, fontSize: 12, fontWeight: "bold", font: FONT },
      encoding: { y: px("ym"), text: { field: "label", type: "nominal" } },
    },
  ];
  if (images.length > 0) {
    layers.push(
      {
        data: data("images"),
        transform: [
          { lookup: "key", from: { data: { name: "thumbs" }, key: "key", fields: ["url"] } },
          // The ARIA label (written into the SVG) names the image; without it Vega would spell out the data URL.
          { calculate: "'concept ' + datum.concept + ', image ' + datum.rank + ': ' + datum.file + ', activation ' + format(datum.activation, '.3f')", as: "aria" },
        ],
        mark: { type: "image", aspect: false },
        encoding: {
          x: px("x0"),
          x2: { field: "x1" },
          y: px("y0"),
          y2: { field: "y1" },
          url: { field: "url", type: "nominal" },
          description: { field: "aria", type: "nominal" },
          tooltip: [
            { field: "concept", type: "quantitative" },
            { field: "rank", type: "quantitative", title: "image rank" },
            { field: "file", type: "nominal" },
            { field: "activation", type: "quantitative", format: ".4f" },
            ...(images.some((i) => "caption" in i) ? [{ field: "caption", type: "nominal", title: "generated caption" }] : []),
          ],
        },
      },
    );
  }
  if (words.length > 0) {
    layers.push(
      {
        data: data("words"),
        params: [{ name: options.param, select: { type: "point", fields: ["word"], on: "click" }, ...(options.highlight !== undefined ? { value: [{ word: printable(options.highlight) }] } : {}) }],
        mark: { type: "rect", cornerRadius: 3, stroke: CHIP_STROKE, strokeWidth: 0.8, cursor: "pointer" },
        encoding: {
          x: px("x0"),
          x2: { field: "x1" },
          y: px("y0"),
          y2: { field: "y1" },
          fill: { condition: { param: options.param, empty: false, value: HIGHLIGHT }, value: CHIP },
          tooltip: [
            { field: "word", type: "nominal" },
            { field: "concept", type: "quantitative" },
            { field: "rank", type: "quantitative", title: "word rank" },
          ],
        },
      },
      {
        data: data("words"),
        mark: { type: "text", align: "left", baseline: "middle", dx: CHIP_PAD, fontSize: FONT_SIZE, font: MONO_FONT, fill: "#222222" },
        encoding: { x: px("x0"), y: px("ym"), text: { field: "text", type: "nominal" } },
      },
    );
  }
  if (headings) {
    const head = [{ text: "concept", x: 4 }, ...(nImages > 0 ? [{ text: `top ${nImages} images`, x: imagesX }] : []), { text: "words (click one to light it up in every concept)", x: wordsX }];
    layers.push({
      data: { values: head },
      mark: { type: "text", align: "left", baseline: "middle", y: HEADING_H / 2, fontSize: 11, fill: "#666666", font: FONT },
      encoding: { x: px("x"), text: { field: "text", type: "nominal" } },
    });
  }
  return {
    view: { width, height, layer: layers },
    datasets: Object.fromEntries((["rows", "images", "words"] as const).filter((t) => tables[t].length > 0).map((t) => [`${n}_${t}`, csv(t)])),
    width,
    height,
  };
}
