import type { Concept, ConceptDictionary } from "vislens";
import { printable } from "../data/strings";

/**
 * What the concept widgets read from a `learnConcepts` result: the target word and the grounded
 * concepts; method, layer, overlap and samples (for captions in tooltips) when present. A plain
 * object of that shape works too (the tests build them).
 */
export type ConceptGridInput = Pick<ConceptDictionary, "token" | "concepts"> & Partial<Pick<ConceptDictionary, "method" | "layer" | "overlap" | "samples">>;

/** The paper's names of the dictionary methods. */
export const METHOD_TITLES: Record<string, string> = { snmf: "semi-NMF", kmeans: "K-means", pca: "PCA", simple: "Simple" };
/** Their colours in charts comparing methods (the paper's table order). */
export const METHOD_COLOURS: Record<string, string> = { simple: "#bab0ac", pca: "#f58518", kmeans: "#54a24b", snmf: "#4c78a8" };

export const methodTitle = (m: string | undefined) => (m === undefined ? undefined : (METHOD_TITLES[m] ?? m));

const kind = (v: unknown) => (Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? Object.prototype.toString.call(v) : JSON.stringify(v));

/** Checks one concept (`field` names it: `result.concepts[3]`). */
export function checkConcept(where: string, c: Concept, field: string): void {
  if (!c || typeof c !== "object") throw new TypeError(`${where}: ${field} must be a concept {index, words, images}, got ${kind(c)}`);
  if (!Number.isInteger(c.index) || c.index < 0) throw new TypeError(`${where}: ${field}.index must be an integer >= 0, got ${kind(c.index)}`);
  if (!Array.isArray(c.words) || !c.words.every((w) => typeof w === "string")) throw new TypeError(`${where}: ${field}.words must be an array of strings, got ${kind(c.words)}`);
  if (!Array.isArray(c.images)) throw new TypeError(`${where}: ${field}.images must be an array of {file, sample, activation}, got ${kind(c.images)}`);
  c.images.forEach((img, j) => {
    if (!img || typeof img !== "object" || typeof img.file !== "string") throw new TypeError(`${where}: ${field}.images[${j}] must be {file, sample, activation} with a file path, got ${kind(img)}`);
    if (typeof img.activation !== "number" || Number.isNaN(img.activation)) throw new TypeError(`${where}: ${field}.images[${j}].activation must be a number, got ${kind(img.activation)}`);
  });
}

/** Checks a learnConcepts result (or an object of its shape) before a widget reads it. */
export function checkDictionary(where: string, r: ConceptGridInput, field = "result"): void {
  if (!r || typeof r !== "object" || !Array.isArray(r.concepts)) {
    throw new TypeError(`${where}: ${field} must be the result of learnConcepts() ({token, concepts, ...}), got ${kind(r)}`);
  }
  if (typeof r.token !== "string") throw new TypeError(`${where}: ${field}.token must be the target word, got ${kind(r.token)}`);
  if (r.concepts.length === 0) throw new RangeError(`${where}: ${field}.concepts is empty`);
  const seen = new Set<number>();
  r.concepts.forEach((c, k) => {
    checkConcept(where, c, `${field}.concepts[${k}]`);
    if (seen.has(c.index)) throw new RangeError(`${where}: ${field}.concepts[${k}] repeats concept index ${c.index}`);
    seen.add(c.index);
  });
}

/** A one-line description of a dictionary: `"circle": 20 concepts, semi-NMF, final-norm, overlap 0.716`. */
export function describeDictionary(r: ConceptGridInput): string {
  const parts = [`"${printable(r.token)}": ${r.concepts.length} concepts`];
  if (r.method) parts.push(methodTitle(r.method)!);
  if (r.layer !== undefined) parts.push(r.layer === "final-norm" ? "final-norm features" : `layer ${r.layer}`);
  if (r.overlap && Number.isFinite(r.overlap.score)) parts.push(`overlap ${r.overlap.score.toFixed(3)}`);
  return parts.join(", ");
}

/** The file's last path component. */
export const baseName = (file: string) => file.split(/[\\/]/).pop() ?? file;
