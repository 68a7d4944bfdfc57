import * as path from "node:path";
import type { LensName, Neighbour, PatchInterpretation } from "vislens";
import { embedImage, type ImageSource } from "./data/image";
import { indexRecords, LENS_ORDER, type RecordIndex } from "./data/records";
import { printable } from "./data/strings";
import { baseConfig, FONT, LENS_COLOURS, LENS_TITLES, MONO_ADVANCE, MONO_FONT, VEGALITE_SCHEMA, type VegaLiteSpec } from "./spec";
import { createWidget, type Widget } from "./widget";

/**
 * The paper's qualitative figure: a few example patches, one row each — the image with the patch
 * (or its 3x3 block) outlined, and beside it a table of each lens's top words at a few layers
 * (columns = lenses, rows = layers), so a reader sees which lens's words describe the patch.
 * A static chart: no interaction, everything drawn in the SVG too.
 */
export interface PatchWordsExample {
  /** The picture: a file path or its bytes (PNG/JPEG/GIF, embedded as is, at most 400 kB) or a decoded RgbImage (shrunk to `size`). */
  image: ImageSource;
  /** Caption above the row (default: the file name, if any, and the patch's index, row and column). */
  label?: string;
  /** The outlined region `[x0, y0, x1, y1]` in original-image pixels (a patch's `box`, or `blockBox(...)`). */
  box: readonly [number, number, number, number];
  /** interpretImage records of this one patch: any lenses, any layers. */
  records: readonly PatchInterpretation[];
}

export interface PatchWordsOptions {
  /** Table columns, in this order (default: every lens present, as LatentLens, EmbeddingLens, LogitLens). */
  lenses?: LensName[];
  /** Table rows, in this order (default: every layer present; with more than 6, five spread over them). */
  layers?: number[];
  /** Neighbours listed per cell (default 3). Repeated words are shown as they come. */
  k?: number;
  /** Longer side of each image on screen, in pixels (default 120). */
  size?: number;
  /** Append LatentLens neighbours' contextual layer to their words ("circle@L2"). Default false. */
  contextLayers?: boolean;
  title?: string;
}

/** A word longer than this is cut (with "…") in the chart; the summary keeps it whole. */
export const WORD_MAX_CHARS = 20;

const WHERE = "patchWords";
const FONT_SIZE = 11;
const CHAR = FONT_SIZE * MONO_ADVANCE;
/** Rough advance of the proportional (bold) font, in ems, for sizing the view. */
const PROP_ADVANCE = 0.66;
const LABEL_HEIGHT = 20;
const HEADER_HEIGHT = 20;
const ROW_HEIGHT = 17;
const GAP = 16;
const COLUMN_GAP = 18;
const OUTLINE = "#ff2d55";

interface Example {
  url: string;
  label: string;
  /** Displayed image size. */
  dw: number;
  dh: number;
  /** The outlined region in original-image pixels, and in the view's pixels. */
  box: [number, number, number, number];
  outline: [number, number, number, number];
  index: RecordIndex;
  patch: number;
}

function cut(word: string): string {
  return word.length > WORD_MAX_CHARS ? `${word.slice(0, WORD_MAX_CHARS - 1)}…` : word;
}

function score(n: Neighbour): string {
  const v = n.similarity ?? n.probability ?? n.logit;
  return typeof v === "number" ? ` (${v.toFixed(3)})` : "";
}

/** Five layers spread over `layers` (first, quarters, last) when there are more than six. */
function defaultLayers(layers: number[]): number[] {
  if (layers.length <= 6) return layers;
  return [...new Set([0, 1, 2, 3, 4].map((q) => layers[Math.round((q * (layers.length - 1)) / 4)]))];
}

function checkBox(box: unknown, i: number, width: number, height: number): [number, number, number, number] {
  const b = box as number[];
  if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new TypeError(`${WHERE}: examples[${i}].box must be [x0, y0, x1, y1] (four finite numbers, original-image pixels), got ${JSON.stringify(box)}`);
  }
  const [x0, y0, x1, y1] = b;
  if (!(x0 < x1 && y0 < y1)) throw new RangeError(`${WHERE}: examples[${i}].box [${b.join(", ")}] is empty (needs x0 < x1 and y0 < y1)`);
  const eps = 1e-6 * Math.max(width, height);
  if (x0 < -eps || y0 < -eps || x1 > width + eps || y1 > height + eps) {
    throw new RangeError(`${WHERE}: examples[${i}].box [${b.join(", ")}] reaches outside the ${width}x${height} image`);
  }
  return [x0, y0, x1, y1];
}

/**
 * One row per example: the image with `box` outlined, and a words table — columns = lenses, rows =
 * layers, each cell the top-k words of that lens at that layer.
 */
export function patchWords(examples: readonly PatchWordsExample[], options: PatchWordsOptions = {}): Widget {
  if (!Array.isArray(examples)) throw new TypeError(`${WHERE}: examples must be an array of {image, box, records, label?}, got ${Object.prototype.toString.call(examples)}`);
  if (examples.length === 0) throw new RangeError(`${WHERE}: examples is empty`);
  const size = options.size ?? 120;
  if (!(Number.isFinite(size) && size >= 16 && size <= 1024)) throw new RangeError(`${WHERE}: size must be 16..1024 pixels, got ${size}`);
  const k = options.k ?? 3;
  if (!(Number.isInteger(k) && k >= 1 && k <= 20)) throw new RangeError(`${WHERE}: k must be an integer 1..20, got ${options.k}`);

  // Records first (cheap), images after.
  const indexes = examples.map((ex, i) => {
    if (!ex || typeof ex !== "object") throw new TypeError(`${WHERE}: examples[${i}] must be {image, box, records, label?}, got ${JSON.stringify(ex)}`);
    if (ex.label !== undefined && typeof ex.label !== "string") throw new TypeError(`${WHERE}: examples[${i}].label must be a string, got ${JSON.stringify(ex.label)}`);
    if (ex.records === undefined) throw new TypeError(`${WHERE}: examples[${i}].records is missing (the interpretImage records of its patch)`);
    const index = indexRecords(ex.records, `${WHERE}: examples[${i}]`);
    if (index.patches.length !== 1) {
      throw new RangeError(
        `${WHERE}: examples[${i}].records cover ${index.patches.length} patches (${index.patches.slice(0, 5).join(", ")}${index.patches.length > 5 ? ", …" : ""}); ` +
          `pass one patch's records (records.filter((r) => r.patch.index === ${index.patches[0]}))`,
      );
    }
    return index;
  });

  let lenses: LensName[];
  if (options.lenses !== undefined) {
    if (!Array.isArray(options.lenses) || options.lenses.length === 0) throw new RangeError(`${WHERE}: lenses must be a non-empty array of lens names`);
    options.lenses.forEach((l, j) => {
      if (!LENS_ORDER.includes(l)) throw new RangeError(`${WHERE}: lenses[${j}] is ${JSON.stringify(l)}, expected one of ${LENS_ORDER.join(", ")}`);
      if (options.lenses!.indexOf(l) !== j) throw new RangeError(`${WHERE}: lenses[${j}] repeats ${l}`);
    });
    lenses = [...options.lenses];
  } else {
    lenses = LENS_ORDER.filter((l) => indexes.some((ix) => ix.lenses.includes(l)));
  }
  let layers: number[];
  if (options.layers !== undefined) {
    if (!Array.isArray(options.layers) || options.layers.length === 0) throw new RangeError(`${WHERE}: layers must be a non-empty array of layer indices`);
    options.layers.forEach((l, j) => {
      if (!Number.isInteger(l) || l < 0) throw new RangeError(`${WHERE}: layers[${j}] is ${l}, expected a layer index >= 0`);
      if (options.layers!.indexOf(l) !== j) throw new RangeError(`${WHERE}: layers[${j}] repeats layer ${l}`);
    });
    layers = [...options.layers];
  } else {
    layers = defaultLayers([...new Set(indexes.flatMap((ix) => ix.layers))].sort((a, b) => a - b));
  }
  indexes.forEach((ix, i) => {
    const p = ix.patches[0];
    for (const layer of layers) {
      for (const lens of lenses) {
        if (!ix.get(lens, layer, p)) {
          throw new RangeError(
            `${WHERE}: examples[${i}].records has no ${LENS_TITLES[lens]} record at layer ${layer}` +
              ` (it has ${ix.lenses.map((l) => LENS_TITLES[l]).join(", ")} at layers ${ix.layers.join(", ")}; choose with the lenses and layers options)`,
          );
        }
      }
    }
  });

  const prepared: Example[] = examples.map((ex, i) => {
    let embedded;
    try {
      embedded = embedImage(ex.image, size);
    } catch (error) {
      const e = error as Error;
      const message = `${WHERE}: examples[${i}].${e.message.startsWith("image") ? e.message : `image: ${e.message}`}`;
      throw e instanceof TypeError ? new TypeError(message) : new RangeError(message);
    }
    const { width, height } = embedded;
    if (width === undefined || height === undefined || !(width > 0 && height > 0)) {
      throw new RangeError(`${WHERE}: examples[${i}].image: its pixel size cannot be read from the file (WebP); pass the decoded image instead (image: await decodeImage(path))`);
    }
    const box = checkBox(ex.box, i, width, height);
    const scale = size / Math.max(width, height);
    const dw = Math.max(1, Math.round(width * scale));
    const dh = Math.max(1, Math.round(height * scale));
    const sx = dw / width;
    const sy = dh / height;
    const index = indexes[i];
    const patch = index.patches[0];
    const cell = index.cell.get(patch)!;
    const where = `patch ${patch} (row ${cell.row}, col ${cell.col})`;
    const label = printable(ex.label ?? (typeof ex.image === "string" ? `${path.basename(ex.image)} · ${where}` : where));
    const r = (v: number) => Math.round(v * 100) / 100;
    return {
      url: embedded.url,
      label,
      box,
      dw,
      dh,
      outline: [r(box[0] * sx), r(LABEL_HEIGHT + box[1] * sy), r(box[2] * sx), r(LABEL_HEIGHT + box[3] * sy)],
      index,
      patch,
    };
  });

  const wordOf = (lens: LensName, n: Neighbour) => {
    const w = printable(n.word);
    return options.contextLayers && lens === "latent" && typeof n.layer === "number" ? `${w}@L${n.layer}` : w;
  };
  const listOf = (ex: Example, lens: LensName, layer: number) => ex.index.get(lens, layer, ex.patch)!.slice(0, k);
  const cellText = (ex: Example, lens: LensName, layer: number) => {
    const list = listOf(ex, lens, layer);
    return list.length === 0 ? "–" : list.map((n) => cut(wordOf(lens, n))).join(", ");
  };

  // The table's geometry, shared by every example so that the columns line up.
  const tableX = size + GAP;
  const layerLabel = (l: number) => `layer ${l}`;
  const layerColumn = Math.ceil(Math.max(...layers.map((l) => layerLabel(l).length)) * FONT_SIZE * PROP_ADVANCE) + COLUMN_GAP;
  const columns: { lens: LensName; x: number }[] = [];
  let x = tableX + layerColumn;
  for (const lens of lenses) {
    columns.push({ lens, x });
    const longest = Math.max(...prepared.flatMap((ex) => layers.map((l) => cellText(ex, lens, l).length)));
    x += Math.ceil(Math.max(longest * CHAR, LENS_TITLES[lens].length * 12 * PROP_ADVANCE)) + COLUMN_GAP;
  }
  const tableRight = x - COLUMN_GAP;
  const tableHeight = HEADER_HEIGHT + layers.length * ROW_HEIGHT;
  const rowY = (j: number) => LABEL_HEIGHT + HEADER_HEIGHT + j * ROW_HEIGHT + ROW_HEIGHT / 2;
  const width = Math.ceil(Math.max(tableRight, ...prepared.map((ex) => ex.label.length * 12 * PROP_ADVANCE)));

  const datasets = {
    boxes: prepared.map((ex, e) => ({ example: e, x0: ex.outline[0], y0: ex.outline[1], x1: ex.outline[2], y1: ex.outline[3] })),
    headers: columns.map((c) => ({ text: LENS_TITLES[c.lens], x: c.x, colour: LENS_COLOURS[c.lens] })),
    layers: layers.map((l, j) => ({ text: layerLabel(l), y: rowY(j) })),
    words: prepared.flatMap((ex, e) =>
      layers.flatMap((layer, j) => columns.map((c) => ({ example: e, lens: c.lens, layer, text: cellText(ex, c.lens, layer), x: c.x, y: rowY(j) }))),
    ),
  };
  const px = (field: string) => ({ field, type: "quantitative", scale: null });
  const text = { field: "text", type: "nominal" };

  const rows = prepared.map((ex, e) => ({
    width,
    height: LABEL_HEIGHT + Math.max(ex.dh, tableHeight) + 4,
    layer: [
      {
        data: { values: [{ text: ex.label }] },
        mark: { type: "text", align: "left", baseline: "top", fontSize: 12, fontWeight: "bold", x: 0, y: 2, font: FONT },
        encoding: { text },
      },
      {
        data: { values: [{}] },
        mark: { type: "image", width: ex.dw, height: ex.dh, align: "left", baseline: "top", aspect: false },
        encoding: { url: { value: ex.url }, x: { value: 0 }, y: { value: LABEL_HEIGHT } },
      },
      {
        data: { name: "boxes" },
        transform: [{ filter: `datum.example == ${e}` }],
        mark: { type: "rect", fill: null, stroke: OUTLINE, strokeWidth: 2 },
        encoding: { x: px("x0"), x2: { field: "x1" }, y: px("y0"), y2: { field: "y1" } },
      },
      {
        data: { name: "headers" },
        mark: { type: "text", align: "left", baseline: "middle", fontSize: 12, fontWeight: "bold", y: LABEL_HEIGHT + HEADER_HEIGHT / 2, font: FONT },
        encoding: { x: px("x"), text, color: { field: "colour", type: "nominal", scale: null } },
      },
      {
        data: { name: "layers" },
        mark: { type: "text", align: "left", baseline: "middle", fontSize: FONT_SIZE, fill: "#666666", x: tableX, font: FONT },
        encoding: { y: px("y"), text },
      },
      {
        data: { name: "words" },
        transform: [{ filter: `datum.example == ${e}` }],
        mark: { type: "text", align: "left", baseline: "middle", fontSize: FONT_SIZE, font: MONO_FONT },
        encoding: {
          x: px("x"),
          y: px("y"),
          text,
        },
      },
    ],
  }));

  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens patch words: ${examples.length} example(s), lenses ${lenses.join(",")}, layers ${layers.join(",")}, top-${k}`,
    ...(options.title ? { title: options.title } : {}),
    config: baseConfig(),
    usermeta: { vislens: { widget: "patchWords", lenses, layers, k } },
    datasets,
    vconcat: rows,
    spacing: 14,
  };

  const lines = [
    `Patch words: ${examples.length} example(s); lenses ${lenses.map((l) => LENS_TITLES[l]).join(", ")}; layers ${layers.join(", ")}; top-${k}.`,
  ];
  prepared.forEach((ex, e) => {
    lines.push(`[${e + 1}] ${ex.label}, box [${ex.box.map((v) => Math.round(v * 100) / 100).join(", ")}]`);
    for (const lens of lenses) {
      for (const layer of layers) {
        const list = listOf(ex, lens, layer).map((n) => `${wordOf(lens, n)}${score(n)}`);
        lines.push(`  ${LENS_TITLES[lens]}, layer ${layer}: ${list.join(", ") || "-"}`);
      }
    }
  });
  return createWidget({ spec, summary: lines.join("\n") });
}
