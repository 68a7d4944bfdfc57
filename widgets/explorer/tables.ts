import type { LensName, Neighbour, PatchGeometry } from "vislens";
import { round, toCSV, type Cell } from "../data/csv";
import type { RecordIndex } from "../data/records";
import { StringTable } from "../data/strings";
import { ScoreRange, type PatchScore } from "../score";

/**
 * The patch explorer's data, laid out for size (docs/widgets.md, "Data layout"). Every table is a
 * CSV string in the spec's top-level `datasets`, stored once and referenced by name. Keys and
 * packed integers are base 36 (joins compare the strings as they are; numbers are parsed with
 * `parseInt(…, 36)`):
 *
 *  words       `i,s`  every distinct word, once (all lenses, and the tooltips)
 *  sentences   `i,s`  every distinct LatentLens context sentence, once, cut to the part any
 *              neighbour shows (contextChars around its tokens; "…" where cut)
 *  entries     `i,w,x,a,b,c`  every distinct contextual neighbour (a bank entry): word, sentence,
 *              token start in the stored sentence, token length, contextual layer
 *  patches     `patch,row,col,x0,y0,x1,y1`  geometry in display pixels
 *  scores      `l,patch,v,t_<lens>…`  colour score and each lens's top-1 word per (layer, patch)
 *  lens_<name> `l,patch,n1,…,nk`  one row per (layer, patch); cell `nr` packs the rank-r neighbour
 *              as colon-separated integers in the lens's field order (PACKED_FIELDS)
 *
 * Why CSV: nbformat stores outputs pretty-printed, one JSON array element per line (indent=1), so
 * a numeric array costs ~10 bytes of indentation per number in the notebook; one CSV string costs
 * its characters only. Why entries: an image's neighbours repeat (adjacent patches and layers find
 * the same bank entries), so a neighbour is an entry id plus its similarity.
 */

/** Packed neighbour fields: meaning and the integer scale each is stored at. */
export const PACKED_FIELDS = {
  w: { meaning: "word (key into words)", scale: 1 },
  e: { meaning: "contextual neighbour (key into entries)", scale: 1 },
  s: { meaning: "similarity", scale: 1000 },
  g: { meaning: "logit", scale: 100 },
  p: { meaning: "probability", scale: 1000 },
} as const;
export type PackedField = keyof typeof PACKED_FIELDS;

/** Names and CSV column types of the datasets (one format per name: vega-lite merges by name). */
export const DATASET_FORMATS = {
  words: { type: "csv", parse: { i: "string", s: "string" } },
  sentences: { type: "csv", parse: { i: "string", s: "string" } },
  entries: { type: "csv", parse: { i: "string", w: "string", x: "string", a: "string", b: "string", c: "string" } },
  patches: { type: "csv", parse: { patch: "number", row: "number", col: "number", x0: "number", y0: "number", x1: "number", y1: "number" } },
} as const;

export function lensDataset(lens: LensName): string {
  return `lens_${lens}`;
}

export function lensFormat(k: number): Record<string, unknown> {
  return { type: "csv", parse: { l: "number", patch: "number", ...Object.fromEntries(Array.from({ length: k }, (_, r) => [`n${r + 1}`, "string"])) } };
}

/** `{name, format}` of a dataset, to use as a view's `data` or a lookup's `from.data`. */
export function named(name: keyof typeof DATASET_FORMATS): Record<string, unknown> {
  return { name, format: DATASET_FORMATS[name] };
}

export interface LensTable {
  lens: LensName;
  /** Fields packed in each `n<r>` cell, in order. */
  fields: PackedField[];
  /** Longest token plus right context shown (characters), for the context column's width. */
  maxRight: number;
}

export interface ExplorerTables {
  /** CSV text by dataset name. */
  datasets: Record<string, string>;
  lensTables: LensTable[];
  /** Min and max of the score over every layer (one colour scale for the whole slider). */
  scoreDomain: [number, number];
  /** Patches drawn (those showing some image and having records). */
  drawn: number[];
}

/** Base-36 integer ("" for a missing value). */
export function b36(value: number | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? Math.round(value).toString(36) : "";
}

/** Each whitespace character -> one space (lengths kept, so spans stay valid). */
function flatten(text: string): string {
  return text.replace(/\s/g, " ");
}

function checkSpan(sentence: string, span: [number, number]): void {
  const [s, e] = span;
  if (!(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= sentence.length)) {
    throw new RangeError(`neighbour span [${s}, ${e}] does not fit its sentence of ${sentence.length} characters: ${JSON.stringify(sentence.slice(0, 80))}`);
  }
}

/**
 * Sentences cut to the union of the windows their neighbours show: from `contextChars` before the
 * first token used to `contextChars` after the last one.
 */
export class SentenceWindows {
  private readonly extent = new Map<string, [number, number]>();
  private readonly stored = new Map<string, { from: number; text: string; lead: number }>();
  readonly table = new StringTable();

  constructor(private readonly contextChars: number) {}

  /** First pass: note a use. */
  note(sentence: string, span: [number, number]): void {
    checkSpan(sentence, span);
    const e = this.extent.get(sentence);
    if (e) {
      e[0] = Math.min(e[0], span[0]);
      e[1] = Math.max(e[1], span[1]);
    } else {
      this.extent.set(sentence, [span[0], span[1]]);
    }
  }

  /** Second pass: the stored sentence's index and the token's start in it. */
  place(sentence: string, span: [number, number]): { index: number; start: number } {
    let s = this.stored.get(sentence);
    if (!s) {
      const [lo, hi] = this.extent.get(sentence) ?? span;
      const from = Math.max(0, lo - this.contextChars);
      const to = Math.min(sentence.length, hi + this.contextChars);
      const lead = from > 0 ? 1 : 0;
      s = { from, lead, text: (lead ? "…" : "") + flatten(sentence.slice(from, to)) + (to < sentence.length ? "…" : "") };
      this.stored.set(sentence, s);
    }
    return { index: this.table.intern(s.text), start: span[0] - s.from + s.lead };
  }
}

function lensFields(index: RecordIndex, lens: LensName): PackedField[] {
  let s = false;
  let g = false;
  let p = false;
  let ctx = false;
  for (const layer of index.layers) {
    for (const patch of index.patches) {
      for (const n of index.get(lens, layer, patch) ?? []) {
        s ||= typeof n.similarity === "number";
        g ||= typeof n.logit === "number";
        p ||= typeof n.probability === "number";
        ctx ||= typeof n.sentence === "string" && Array.isArray(n.span);
      }
    }
  }
  return [ctx ? "e" : "w", ...(s ? (["s"] as const) : []), ...(g ? (["g"] as const) : []), ...(p ? (["p"] as const) : [])];
}

export interface TableOptions {
  k: number;
  contextChars: number;
  /** Patch boxes in display pixels, by patch index. */
  boxes: Map<number, [number, number, number, number]>;
  geometry: readonly PatchGeometry[];
}

export function buildTables(index: RecordIndex, score: PatchScore, options: TableOptions): ExplorerTables {
  const words = new StringTable();
  const { k, contextChars, boxes, geometry } = options;
  const drawn = index.patches.filter((p) => boxes.has(p));
  const windows = new SentenceWindows(contextChars);
  const hasContext = (n: Neighbour) => typeof n.sentence === "string" && Array.isArray(n.span);
  for (const lens of index.lenses) {
    for (const layer of index.layers) {
      for (const patch of drawn) for (const n of (index.get(lens, layer, patch) ?? []).slice(0, k)) if (hasContext(n)) windows.note(n.sentence!, n.span!);
    }
  }

  const patches = toCSV(
    ["patch", "row", "col", "x0", "y0", "x1", "y1"],
    drawn.map((p) => {
      const [x0, y0, x1, y1] = boxes.get(p)!;
      return [p, geometry[p].row, geometry[p].col, round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1)];
    }),
  );

  const range = new ScoreRange();
  const scoreRows: Cell[][] = [];
  for (const layer of index.layers) {
    for (const patch of drawn) {
      const all = index.at(layer, patch);
      if (Object.keys(all).length === 0) continue;
      const v = range.add(score.of(all));
      const top = index.lenses.map((lens) => {
        const n = all[lens]?.[0];
        return n ? b36(words.intern(n.word)) : "";
      });
      scoreRows.push([layer, patch, v !== undefined ? round(v, 3) : "", ...top]);
    }
  }
  const scores = toCSV(["l", "patch", "v", ...index.lenses.map((l) => `t_${l}`)], scoreRows);
  const [lo, hi] = range.domain();

  const datasets: Record<string, string> = {};
  const entries = new StringTable();
  const entryRows: Cell[][] = [];
  const entry = (n: Neighbour): string => {
    const { index: x, start } = windows.place(n.sentence!, n.span!);
    const row = [b36(words.intern(n.word)), b36(x), b36(start), b36(n.span![1] - n.span![0]), b36(n.layer)];
    const size = entries.size;
    const i = entries.intern(row.join(":"));
    if (i === size) entryRows.push([b36(i), ...row]);
    return b36(i);
  };
  const lensTables = index.lenses.map((lens): LensTable => {
    const fields = lensFields(index, lens);
    let maxRight = 1;
    const rows: Cell[][] = [];
    for (const layer of index.layers) {
      for (const patch of drawn) {
        const list = index.get(lens, layer, patch);
        if (!list) continue;
        const cells = list.slice(0, k).map((n: Neighbour) =>
          fields
            .map((f) => {
              switch (f) {
                case "w":
                  return b36(words.intern(n.word));
                case "e":
                  if (!hasContext(n)) return "";
                  maxRight = Math.max(maxRight, n.span![1] - n.span![0] + Math.min(contextChars, n.sentence!.length - n.span![1]) + 1);
                  return entry(n);
                case "s":
                  return b36(typeof n.similarity === "number" ? n.similarity * PACKED_FIELDS.s.scale : undefined);
                case "g":
                  return b36(typeof n.logit === "number" ? n.logit * PACKED_FIELDS.g.scale : undefined);
                case "p":
                  return b36(typeof n.probability === "number" ? n.probability * PACKED_FIELDS.p.scale : undefined);
              }
            })
            .join(":"),
        );
        rows.push([layer, patch, ...cells]);
      }
    }
    const header = ["l", "patch", ...Array.from({ length: k }, (_, r) => `n${r + 1}`)];
    datasets[lensDataset(lens)] = toCSV(header, rows);
    return { lens, fields, maxRight };
  });

  datasets.words = toCSV(
    ["i", "s"],
    words.values.map((s, i) => [b36(i), s]),
  );
  datasets.sentences = toCSV(
    ["i", "s"],
    windows.table.values.map((s, i) => [b36(i), s]),
  );
  datasets.entries = toCSV(["i", "w", "x", "a", "b", "c"], entryRows);
  datasets.patches = patches;
  datasets.scores = scores;
  return { datasets, lensTables, scoreDomain: [lo, hi], drawn };
}
