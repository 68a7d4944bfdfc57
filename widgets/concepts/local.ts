import type { ConceptSample, LocalInterpretation } from "vislens";
import { round, toCSV } from "../data/csv";
import { printable } from "../data/strings";
import { baseConfig, FONT, VEGALITE_SCHEMA, type VegaLiteSpec } from "../spec";
import { createWidget, type Widget } from "../widget";
import { baseName, checkConcept, checkDictionary, describeDictionary, type ConceptGridInput } from "./common";
import { conceptRows, type RowConcept } from "./rows";
import { thumbnail, Thumbnails } from "./thumbnails";

/** What `conceptLocal` reads: `interpretConceptImage`'s result, or one of `interpretRepresentations`'. */
export type LocalInput = Pick<LocalInterpretation, "activations" | "top"> & { sample?: Pick<ConceptSample, "image" | "generated"> };

export interface ConceptLocalOptions {
  /** The dictionary the interpretation is on: names every bar with its words, and gives the title the token and method. */
  dictionary?: ConceptGridInput;
  /** The test image file (default: `interpretation.sample.image.file`). */
  image?: string;
  /** Its caption under it (default: the generated caption of `interpretation.sample`). */
  caption?: string;
  /** Bars: the concepts with the largest activations (default min(K, 10)). */
  bars?: number;
  /** Images per top concept (default 5). */
  images?: number;
  /** Side of the test image on screen (default 160 px). */
  size?: number;
  /** Thumbnail side (default 40 px). */
  thumb?: number;
  title?: string;
}

const WHERE = "conceptLocal";
const TOP = "#4c78a8";
const OTHER = "#c7ccd3";
const BAR_STEP = 18;

function checkCount(name: string, value: unknown, lo: number, hi: number): number {
  if (!(typeof value === "number" && Number.isInteger(value) && value >= lo && value <= hi)) throw new RangeError(`${WHERE}: ${name} must be an integer ${lo}..${hi}, got ${JSON.stringify(value)}`);
  return value;
}

/** Greedy word wrap to lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The local-interpretation panel (Parekh et al. 2024, step 4): a test image, a bar chart of its
 * strongest concept activations (its top concepts in colour), and each top concept's words and
 * images. Click a bar of a top concept: its row below is shaded; click a word: it lights up in
 * every row that has it.
 */
export function conceptLocal(interpretation: LocalInput, options: ConceptLocalOptions = {}): Widget {
  const r = interpretation;
  const activations: unknown = r?.activations;
  if (!r || typeof r !== "object" || !Array.isArray(r.top) || !(activations instanceof Float64Array || activations instanceof Float32Array || Array.isArray(activations))) {
    throw new TypeError(`${WHERE}: expected the result of interpretConceptImage() or an element of interpretRepresentations() ({activations, top}), got ${Object.prototype.toString.call(r)}`);
  }
  const K = r.activations.length;
  if (K === 0) throw new RangeError(`${WHERE}: interpretation.activations is empty`);
  if (r.top.length === 0) throw new RangeError(`${WHERE}: interpretation.top is empty`);
  r.top.forEach((t, j) => {
    if (!t || typeof t !== "object" || !Number.isInteger(t.concept) || t.concept < 0 || t.concept >= K) {
      throw new RangeError(`${WHERE}: interpretation.top[${j}].concept must be a concept index 0..${K - 1}, got ${JSON.stringify(t?.concept)}`);
    }
    checkConcept(WHERE, { index: t.concept, words: t.words, images: t.images }, `interpretation.top[${j}]`);
  });
  const dict = options.dictionary;
  if (dict !== undefined) {
    checkDictionary(WHERE, dict, "options.dictionary");
    if (dict.concepts.length !== K) throw new RangeError(`${WHERE}: options.dictionary has ${dict.concepts.length} concepts, the interpretation ${K} activations: not the same dictionary`);
  }
  const file = options.image ?? r.sample?.image.file;
  if (typeof file !== "string") throw new TypeError(`${WHERE}: no test image: pass interpretConceptImage()'s result (it carries .sample) or options.image (a file path)`);
  const caption = options.caption ?? r.sample?.generated;
  const nBars = options.bars === undefined ? Math.min(K, 10) : checkCount("bars", options.bars, 1, K);
  const nImages = options.images === undefined ? 5 : checkCount("images", options.images, 0, 20);
  const size = options.size === undefined ? 160 : checkCount("size", options.size, 32, 512);
  const thumb = options.thumb === undefined ? 40 : checkCount("thumb", options.thumb, 16, 128);

  // The test image.
  const picture = thumbnail(file, size, `${WHERE}: ${options.image !== undefined ? "options.image" : "interpretation.sample.image.file"}`);
  const s = size / Math.max(picture.width, picture.height);
  const dw = Math.round(picture.width * s);
  const dh = Math.round(picture.height * s);
  const captionLines = caption ? wrap(`"${printable(caption)}"`, Math.max(12, Math.floor(size / 6.2))) : [];
  const imageView = {
    title: { text: "test image", fontSize: 12 },
    width: size,
    height: dh + 6 + captionLines.length * 14,
    layer: [
      {
        data: { values: [{}] },
        mark: { type: "image", width: dw, height: dh, align: "left", baseline: "top", aspect: false },
        encoding: { url: { value: picture.url }, x: { value: 0 }, y: { value: 0 } },
      },
      ...(captionLines.length
        ? [
            {
              data: { values: [{ text: captionLines.join("\n") }] },
              mark: { type: "text", align: "left", baseline: "top", lineBreak: "\n", fontSize: 11, fontStyle: "italic", fill: "#444444", x: 0, y: dh + 6, font: FONT },
              encoding: { text: { field: "text", type: "nominal" } },
            },
          ]
        : []),
    ],
  };

  // Bars: the strongest activations.
  const tops = new Set(r.top.map((t) => t.concept));
  const wordsOf = (k: number) => dict?.concepts.find((c) => c.index === k)?.words ?? r.top.find((t) => t.concept === k)?.words;
  const token = dict?.token;
  const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => r.activations[b] - r.activations[a] || a - b);
  const barRows = order.slice(0, nBars).map((k) => {
    const words = wordsOf(k);
    const telling = words?.filter((w) => w !== token).slice(0, 2) ?? [];
    return [k, `#${k}${telling.length ? ` ${telling.map(printable).join(", ")}` : ""}`, round(r.activations[k], 5), tops.has(k) ? "top" : "other", words ? printable(words.join(", ")) : ""];
  });
  const bars = {
    title: { text: `${nBars} strongest of ${K} concept activations`, fontSize: 12 },
    width: 240,
    height: { step: BAR_STEP },
    data: { name: "bars", format: { type: "csv", parse: { concept: "number", activation: "number" } } },
    params: [{ name: "bar", select: { type: "point", fields: ["concept"], on: "click" } }],
    mark: { type: "bar", cursor: "pointer" },
    encoding: {
      y: { field: "label", type: "nominal", sort: { field: "activation", order: "descending" }, title: null, axis: { labelLimit: 200 } },
      x: { field: "activation", type: "quantitative", title: "activation" },
      color: { field: "kind", type: "nominal", scale: { domain: ["top", "other"], range: [TOP, OTHER] }, legend: null },
      strokeWidth: { condition: { param: "bar", empty: false, value: 2 }, value: 0 },
      stroke: { value: "#222222" },
      tooltip: [
        { field: "concept", type: "quantitative" },
        { field: "activation", type: "quantitative", format: ".4f" },
        { field: "words", type: "nominal" },
      ],
    },
  };

  // The top concepts' rows.
  const thumbs = new Thumbnails(WHERE, thumb);
  const sampleCaption = (sample: number | undefined) => (sample !== undefined && dict?.samples?.[sample] ? dict.samples[sample].generated : undefined);
  const rowConcepts: RowConcept[] = r.top.map((t, j) => ({
    concept: t.concept,
    label: `#${t.concept} · ${t.activation.toFixed(3)}`,
    words: t.words,
    images: t.images.slice(0, nImages).map((img, i) => ({ file: img.file, activation: img.activation, caption: sampleCaption(img.sample), field: `interpretation.top[${j}].images[${i}].file` })),
  }));
  const rows = conceptRows(rowConcepts, thumbs, { name: "top", param: "word", rowParam: "bar" });

  const what = dict ? describeDictionary(dict) : `${K} concepts`;
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens concept local interpretation: ${baseName(file)}, ${r.top.length} top concepts of ${K}`,
    title: options.title ?? `Local interpretation of ${baseName(file)}${token !== undefined ? ` for "${printable(token)}"` : ""}`,
    config: baseConfig(),
    usermeta: { vislens: { widget: "conceptLocal", image: baseName(file), top: r.top.map((t) => t.concept), bars: nBars } },
    datasets: {
      bars: toCSV(["concept", "label", "activation", "kind", "words"], barRows),
      ...(thumbs.list.length ? { thumbs: thumbs.dataset() } : {}),
      ...rows.datasets,
    },
    vconcat: [{ hconcat: [imageView, bars], spacing: 28 }, { title: { text: `its top ${r.top.length} concepts: activation, top images, words`, fontSize: 12 }, ...rows.view }],
    spacing: 18,
  };
  const lines = [
    `Local interpretation of ${baseName(file)}${caption ? ` ("${caption}")` : ""} on ${what}.`,
    `Top concepts: ${r.top.map((t) => `#${t.concept} ${t.activation.toFixed(3)}`).join(", ")}.`,
    ...r.top.map((t) => `  #${t.concept}: ${t.words.join(", ") || "(no words)"}; images ${t.images.slice(0, nImages).map((i) => baseName(i.file)).join(", ")}`),
    `Strongest ${nBars} activations: ${order.slice(0, nBars).map((k) => `#${k} ${r.activations[k].toFixed(3)}`).join(", ")}.`,
  ];
  return createWidget({ spec, summary: lines.join("\n") });
}
