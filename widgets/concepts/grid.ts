import { printable } from "../data/strings";
import { baseConfig, VEGALITE_SCHEMA, type VegaLiteSpec } from "../spec";
import { createWidget, type Widget } from "../widget";
import { baseName, checkDictionary, describeDictionary, type ConceptGridInput } from "./common";
import { conceptRows, type RowConcept } from "./rows";
import { Thumbnails } from "./thumbnails";

export interface ConceptGridOptions {
  /** Concepts to show, by index, in this order (default: all, in index order). */
  concepts?: number[];
  /** Images per concept (default 5; at most what the result has). */
  images?: number;
  /** Words per concept (default: all the result has). */
  words?: number;
  /** Thumbnail side in pixels (default 40; images are shrunk to it, never enlarged in the file). */
  thumb?: number;
  /** A word lit up at first (as if clicked), e.g. "red": shows at a glance which concepts share it. */
  highlight?: string;
  /** Width the words of a row wrap within (default 430 px). */
  wordsWidth?: number;
  title?: string;
}

const WHERE = "conceptGrid";

function checkCount(name: string, value: unknown, lo: number, hi: number): number {
  if (!(typeof value === "number" && Number.isInteger(value) && value >= lo && value <= hi)) throw new RangeError(`${WHERE}: ${name} must be an integer ${lo}..${hi}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The concept grid (Parekh et al. 2024, their Fig. 1-style dictionary view): one row per concept
 * with its top images (largest activation) and its grounding words. Click a word: it lights up in
 * every concept that has it (a double click clears); hover an image for its file, activation and
 * generated caption.
 */
export function conceptGrid(result: ConceptGridInput, options: ConceptGridOptions = {}): Widget {
  checkDictionary(WHERE, result);
  const thumb = options.thumb === undefined ? 40 : checkCount("thumb", options.thumb, 16, 128);
  const nImages = options.images === undefined ? 5 : checkCount("images", options.images, 0, 20);
  const nWords = options.words === undefined ? Infinity : checkCount("words", options.words, 1, 50);
  if (options.highlight !== undefined && typeof options.highlight !== "string") throw new TypeError(`${WHERE}: highlight must be a word, got ${JSON.stringify(options.highlight)}`);
  const byIndex = new Map(result.concepts.map((c, k) => [c.index, k]));
  let chosen: number[];
  if (options.concepts !== undefined) {
    if (!Array.isArray(options.concepts) || options.concepts.length === 0) throw new RangeError(`${WHERE}: concepts must be a non-empty array of concept indices`);
    chosen = options.concepts.map((index, j) => {
      const k = byIndex.get(index);
      if (k === undefined) throw new RangeError(`${WHERE}: concepts[${j}] is ${JSON.stringify(index)}; the dictionary has concepts ${[...byIndex.keys()].sort((a, b) => a - b).join(", ")}`);
      if (options.concepts!.indexOf(index) !== j) throw new RangeError(`${WHERE}: concepts[${j}] repeats concept ${index}`);
      return k;
    });
  } else {
    chosen = result.concepts.map((_, k) => k).sort((a, b) => result.concepts[a].index - result.concepts[b].index);
  }

  const thumbs = new Thumbnails(WHERE, thumb);
  const caption = (sample: number | undefined) => (sample !== undefined && result.samples?.[sample] ? result.samples[sample].generated : undefined);
  const rowConcepts: RowConcept[] = chosen.map((k) => {
    const c = result.concepts[k];
    return {
      concept: c.index,
      label: `concept ${c.index}`,
      words: c.words.slice(0, nWords),
      images: c.images.slice(0, nImages).map((img, j) => ({ file: img.file, activation: img.activation, caption: caption(img.sample), field: `result.concepts[${k}].images[${j}].file` })),
    };
  });
  const rows = conceptRows(rowConcepts, thumbs, { name: "grid", param: "word", highlight: options.highlight, wordsWidth: options.wordsWidth });
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens concept grid: ${rowConcepts.length} concepts of "${printable(result.token)}", ${nImages} images each`,
    title: options.title ?? `Concepts of ${describeDictionary(result)}`,
    config: baseConfig(),
    usermeta: { vislens: { widget: "conceptGrid", token: result.token, concepts: rowConcepts.map((c) => c.concept), images: nImages, thumb } },
    datasets: { ...(thumbs.list.length ? { thumbs: thumbs.dataset() } : {}), ...rows.datasets },
    ...rows.view,
  };
  const lines = [`Concept grid: ${describeDictionary(result)}; ${rowConcepts.length} shown, each with its top ${nImages} images (largest activation) and its grounding words.`];
  for (const c of rowConcepts) {
    lines.push(`  concept ${c.concept}: ${c.words.join(", ") || "(no words)"}`);
    if (c.images.length) lines.push(`    images: ${c.images.map((i) => `${baseName(i.file)} (${i.activation.toFixed(3)})`).join(", ")}`);
  }
  if (options.highlight !== undefined) {
    const having = rowConcepts.filter((c) => c.words.includes(options.highlight!)).map((c) => c.concept);
    lines.push(`"${options.highlight}" is a word of ${having.length} concept(s)${having.length ? `: ${having.join(", ")}` : ""}.`);
  }
  return createWidget({ spec, summary: lines.join("\n") });
}
