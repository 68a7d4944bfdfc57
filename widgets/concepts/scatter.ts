import type { ConceptComparisonRow, Usefulness } from "vislens";
import { round, toCSV, type Cell } from "../data/csv";
import { printable } from "../data/strings";
import { baseConfig, VEGALITE_SCHEMA, type VegaLiteSpec } from "../spec";
import { createWidget, type Widget } from "../widget";
import { checkDictionary, METHOD_COLOURS, METHOD_TITLES, type ConceptGridInput } from "./common";

/** What `conceptScatter` plots: `conceptUsefulness`'s result (one point per concept), or `conceptComparison`'s rows (one per token and method). */
export type ScatterInput = Pick<Usefulness, "perConcept" | "top1" | "top3" | "random" | "images"> | readonly ConceptComparisonRow[] | { rows: readonly ConceptComparisonRow[] };

export interface ConceptScatterOptions {
  /** The dictionary the usefulness was measured on: its words go into the tooltips and the summary. */
  dictionary?: ConceptGridInput;
  /** For comparison rows: the top-1 (default) or top-3 scores. */
  metric?: "top1" | "top3";
  /** Side of the square plot (default 320 px). */
  size?: number;
  title?: string;
}

const WHERE = "conceptScatter";
const POINT = "#4c78a8";

function isComparison(x: ScatterInput): x is readonly ConceptComparisonRow[] | { rows: readonly ConceptComparisonRow[] } {
  return Array.isArray(x) || (typeof x === "object" && x !== null && Array.isArray((x as { rows?: unknown }).rows));
}

function share(v: unknown, field: string): number {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new RangeError(`${WHERE}: ${field} must be a share in 0..1, got ${JSON.stringify(v)}`);
  return v;
}

/** A shared 0..hi position scale, the same on both axes so that y = x is the diagonal. */
const axisOf = (field: string, title: string, hi: number) => ({ field, type: "quantitative", title, scale: { domain: [0, round(hi, 4)], nice: false, zero: true } });

/** The y = x line over [0, hi], labelled at its top end. */
function diagonal(hi: number): Record<string, unknown>[] {
  const px = (field: string) => ({ field, type: "quantitative" });
  return [
    {
      data: { values: [{ v: 0 }, { v: hi }] },
      mark: { type: "line", color: "#888888", strokeDash: [5, 4], strokeWidth: 1.2 },
      encoding: { x: px("v"), y: px("v") },
    },
    {
      data: { values: [{ v: hi, text: "y = x: no better than random" }] },
      mark: { type: "text", align: "right", baseline: "bottom", dx: -4, dy: -2, angle: 0, fontSize: 10, fill: "#777777" },
      encoding: { x: px("v"), y: px("v"), text: { field: "text", type: "nominal" } },
    },
  ];
}

/**
 * Per concept, its grounded score against the random-direction baseline on the same test images
 * (the share of words naming the image's objects, our stand-in for the paper's CLIPScore): points
 * above the dashed y = x line are concepts whose words describe their images better than random
 * words do. Point area = test images on which the concept is the top-1 concept. Given
 * `conceptComparison` rows instead, one point per (token, method): the top-1 (or top-3) score
 * against the random words' (click a method in the legend to single it out).
 */
export function conceptScatter(input: ScatterInput, options: ConceptScatterOptions = {}): Widget {
  if (!input || typeof input !== "object") throw new TypeError(`${WHERE}: expected conceptUsefulness()'s result or conceptComparison()'s rows, got ${JSON.stringify(input)}`);
  const size = options.size ?? 320;
  if (!(Number.isInteger(size) && size >= 120 && size <= 1000)) throw new RangeError(`${WHERE}: size must be an integer 120..1000, got ${JSON.stringify(options.size)}`);
  if (options.dictionary !== undefined) checkDictionary(WHERE, options.dictionary, "options.dictionary");
  return isComparison(input) ? comparisonScatter(Array.isArray(input) ? input : (input as { rows: readonly ConceptComparisonRow[] }).rows, options, size) : usefulnessScatter(input as Usefulness, options, size);
}

function usefulnessScatter(u: Usefulness, options: ConceptScatterOptions, size: number): Widget {
  if (!Array.isArray(u.perConcept)) throw new TypeError(`${WHERE}: expected conceptUsefulness()'s result ({perConcept, top1, random, ...}), got an object without perConcept`);
  const dict = options.dictionary;
  const wordsOf = (k: number) => dict?.concepts.find((c) => c.index === k)?.words;
  const points: Cell[][] = [];
  let unused = 0;
  u.perConcept.forEach((p, j) => {
    if (!p || typeof p !== "object" || !Number.isInteger(p.concept)) throw new TypeError(`${WHERE}: perConcept[${j}] must be {concept, images, score, random}, got ${JSON.stringify(p)}`);
    if (!Number.isInteger(p.images) || p.images < 0) throw new RangeError(`${WHERE}: perConcept[${j}].images must be a count, got ${JSON.stringify(p.images)}`);
    if (p.images === 0) {
      unused++;
      return;
    }
    const score = share(p.score, `perConcept[${j}].score`);
    const random = share(p.random, `perConcept[${j}].random`);
    const words = wordsOf(p.concept);
    points.push([p.concept, `#${p.concept}`, p.images, round(score, 4), round(random, 4), round(score - random, 4), words ? printable(words.join(", ")) : ""]);
  });
  if (points.length === 0) throw new RangeError(`${WHERE}: no concept is the top-1 concept of any test image (perConcept has ${u.perConcept.length} entries, all with images = 0)`);
  const hasMean = Number.isFinite(u.top1) && Number.isFinite(u.random?.top1);
  const values = points.flatMap((p) => [p[3] as number, p[4] as number]).concat(hasMean ? [u.top1, u.random.top1] : []);
  const hi = Math.min(1, Math.max(0.05, ...values) * 1.1);
  const x = axisOf("random", "random words: share naming objects", hi);
  const y = axisOf("score", "concept words: share naming objects", hi);
  const layers: Record<string, unknown>[] = [
    ...diagonal(round(hi, 4)),
    {
      data: { name: "points", format: { type: "csv", parse: { concept: "number", images: "number", score: "number", random: "number", gain: "number" } } },
      mark: { type: "circle", opacity: 0.75, stroke: "white", strokeWidth: 0.8 },
      encoding: {
        x,
        y,
        size: { field: "images", type: "quantitative", title: "test images (top-1)", scale: { range: [30, 400], zero: false } },
        color: { value: POINT },
        tooltip: [
          { field: "concept", type: "quantitative" },
          { field: "images", type: "quantitative", title: "test images (top-1)" },
          { field: "score", type: "quantitative", title: "concept words", format: ".3f" },
          { field: "random", type: "quantitative", title: "random words", format: ".3f" },
          ...(dict ? [{ field: "words", type: "nominal" }] : []),
        ],
      },
    },
    {
      data: { name: "points", format: { type: "csv", parse: { concept: "number", score: "number", random: "number" } } },
      mark: { type: "text", align: "left", dx: 7, dy: -6, fontSize: 10, fill: "#333333" },
      encoding: { x, y, text: { field: "label", type: "nominal" } },
    },
  ];
  if (hasMean) {
    layers.push({
      data: { values: [{ score: round(u.top1, 4), random: round(u.random.top1, 4), text: "mean, top-1" }] },
      layer: [
        { mark: { type: "point", shape: "diamond", filled: true, size: 110, color: "#e45756" }, encoding: { x, y, tooltip: [{ field: "text", type: "nominal", title: "all test images" }, { field: "score", type: "quantitative", format: ".3f" }, { field: "random", type: "quantitative", format: ".3f" }] } },
        { mark: { type: "text", align: "left", dx: 8, dy: 10, fontSize: 10, fill: "#e45756" }, encoding: { x, y, text: { field: "text", type: "nominal" } } },
      ],
    });
  }
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens concept scatter: ${points.length} concepts, grounded score vs random-direction words`,
    title: options.title ?? `Grounded vs random words, per concept${dict ? ` ("${printable(dict.token)}")` : ""}`,
    config: baseConfig(),
    datasets: { points: toCSV(["concept", "label", "images", "score", "random", "gain", "words"], points) },
    width: size,
    height: size,
    layer: layers,
  };
  const above = points.filter((p) => (p[5] as number) > 0).length;
  const lines = [
    `Grounded vs random words on ${u.images} test images: ${above} of ${points.length} concepts score above their random baseline${unused ? ` (${unused} concept(s) are the top-1 concept of no test image)` : ""}.`,
    hasMean ? `Mean top-1 ${u.top1.toFixed(3)} vs random ${u.random.top1.toFixed(3)}; top-3 ${u.top3.toFixed(3)} vs ${u.random.top3.toFixed(3)}.` : "",
    ...points.map((p) => `  #${p[0]}: ${(p[3] as number).toFixed(3)} vs ${(p[4] as number).toFixed(3)} on ${p[2]} image(s)${p[6] ? `; ${p[6]}` : ""}`),
  ].filter(Boolean);
  return createWidget({ spec, summary: lines.join("\n") });
}

function comparisonScatter(rows: readonly ConceptComparisonRow[], options: ConceptScatterOptions, size: number): Widget {
  if (rows.length === 0) throw new RangeError(`${WHERE}: the comparison has no rows`);
  const metric = options.metric ?? "top1";
  if (metric !== "top1" && metric !== "top3") throw new RangeError(`${WHERE}: metric must be "top1" or "top3", got ${JSON.stringify(metric)}`);
  const randomKey = metric === "top1" ? "randomTop1" : "randomTop3";
  const points = rows.map((r, j) => {
    if (!r || typeof r !== "object" || typeof r.token !== "string" || typeof r.method !== "string") throw new TypeError(`${WHERE}: rows[${j}] must be a conceptComparison row {token, method, top1, randomTop1, ...}, got ${JSON.stringify(r)}`);
    const score = share(r[metric], `rows[${j}].${metric}`);
    const random = share(r[randomKey], `rows[${j}].${randomKey}`);
    return [printable(r.token), r.method, METHOD_TITLES[r.method] ?? r.method, round(score, 4), round(random, 4), r.k, r.samples, r.testSamples] as Cell[];
  });
  const methods = [...new Set(rows.map((r) => r.method))];
  const titles = methods.map((m) => METHOD_TITLES[m] ?? m);
  const hi = Math.min(1, Math.max(0.05, ...points.flatMap((p) => [p[3] as number, p[4] as number])) * 1.1);
  const label = metric === "top1" ? "top-1" : "top-3";
  const x = axisOf("random", `random-direction words (${label})`, hi);
  const y = axisOf("score", `concept words (${label})`, hi);
  const spec: VegaLiteSpec = {
    $schema: VEGALITE_SCHEMA,
    description: `vislens concept scatter: ${rows.length} (token, method) rows, ${label} usefulness vs random-direction words`,
    title: options.title ?? `Test usefulness (${label}) against random words, per token and method`,
    config: baseConfig(),
    datasets: { points: toCSV(["token", "method", "methodTitle", "score", "random", "k", "samples", "test"], points) },
    width: size,
    height: size,
    layer: [
      ...diagonal(round(hi, 4)),
      {
        data: { name: "points", format: { type: "csv", parse: { score: "number", random: "number", k: "number", samples: "number", test: "number" } } },
        params: [{ name: "method", select: { type: "point", fields: ["methodTitle"] }, bind: "legend" }],
        mark: { type: "point", filled: true, size: 90, strokeWidth: 0.8, stroke: "white" },
        encoding: {
          x,
          y,
          color: { field: "methodTitle", type: "nominal", title: "method", scale: { domain: titles, range: methods.map((m) => METHOD_COLOURS[m] ?? "#888888") } },
          shape: { field: "token", type: "nominal", title: "token" },
          opacity: { condition: { param: "method", value: 0.9 }, value: 0.12 },
          tooltip: [
            { field: "token", type: "nominal" },
            { field: "methodTitle", type: "nominal", title: "method" },
            { field: "score", type: "quantitative", title: `concept words (${label})`, format: ".3f" },
            { field: "random", type: "quantitative", title: `random words (${label})`, format: ".3f" },
            { field: "k", type: "quantitative", title: "K" },
            { field: "samples", type: "quantitative", title: "training samples" },
            { field: "test", type: "quantitative", title: "test images" },
          ],
        },
      },
    ],
  };
  const byMethod = methods.map((m) => {
    const mine = rows.filter((r) => r.method === m);
    const mean = (f: (r: ConceptComparisonRow) => number) => mine.reduce((a, r) => a + f(r), 0) / mine.length;
    return `  ${METHOD_TITLES[m] ?? m}: ${mean((r) => r[metric]).toFixed(3)} vs random ${mean((r) => r[randomKey]).toFixed(3)} (mean over ${mine.length} token(s))`;
  });
  const above = rows.filter((r) => r[metric] > r[randomKey]).length;
  const summary = [`Test usefulness (${label}) vs random-direction words: ${above} of ${rows.length} (token, method) rows above the y = x line.`, ...byMethod].join("\n");
  return createWidget({ spec, summary });
}
