/**
 * The open-vocabulary world's annotated evaluation sets (`exporter/vislens_world`, written by
 * `python -m vislens_world images` and by the world model's recipe into `<model>/eval/`).
 *
 * `annotations.json` holds `grid: [rows, cols]` (the bundle's patch grid) and `images`, one per image:
 * - `file`: the PNG's name beside the annotations file;
 * - `objects`: numbered `id` 1..n left to right, each with `name` ("fire truck"), `category`
 *   ("vehicle"), `categories` (the category and its parents, nearest first: ["bird", "animal"]) and
 *   `keywords` (its CLDR keywords: ["cab", "taxi"]), plus `colour`, `box`, `size`, ... not read here;
 * - `background`: `colour` and `pattern` ("plain", "gradient", "striped", "checked", "dotted", "speckled");
 * - `patch_labels[row][col]`: 0 for background, k for the object with id k (the object covering the
 *   most of the patch, if at least a quarter of it).
 * A patch's annotation is therefore `objects[patch_labels[row][col] - 1]`: its id, name, category,
 * parents and keywords. Other fields (caption, relations, questions, ...) are kept but not checked.
 */

import * as path from "node:path";
import { ArtifactError, describeValue } from "../errors";
import { readAnnotationsJson } from "./annotations";

export interface WorldObject {
  /** 1..n, left to right; `patch_labels` refer to objects by it. */
  id: number;
  name: string;
  category: string;
  /** The category and its parents, nearest first. */
  categories: string[];
  keywords: string[];
}

export interface WorldBackground {
  colour: string;
  pattern: string;
}

export interface WorldAnnotation {
  file: string;
  caption?: string;
  background: WorldBackground;
  /** By id: `objects[k - 1].id === k`. */
  objects: WorldObject[];
  /** `[rows][cols]`: 0 = background, k = the object with id k. */
  patch_labels: number[][];
}

/** An annotated world evaluation set: the images' directory, its patch grid and the annotations. */
export interface WorldEvalSet {
  dir: string;
  /** `[rows, cols]`, the grid every image's `patch_labels` has. */
  grid: [number, number];
  annotations: WorldAnnotation[];
}

/**
 * Reads and checks a world evaluation set. Every image's objects, background and patch labels are
 * checked, so a broken annotation fails here naming the file, the image and the field.
 *
 * @param where the annotations file, or the directory that holds `annotations.json`
 */
export function readWorldEvalSet(where: string): WorldEvalSet {
  const { file, data } = readAnnotationsJson(where);
  return checkWorldEvalSet(data, file);
}

/** Checks parsed `annotations.json` content (`file` names it in errors). */
export function checkWorldEvalSet(data: { images?: unknown; grid?: unknown }, file: string): WorldEvalSet {
  const grid = data.grid as [number, number];
  if (!Array.isArray(grid) || grid.length !== 2 || !grid.every((g) => Number.isInteger(g) && g > 0)) {
    throw new ArtifactError(file, `expected [rows, cols] of positive integers, got ${describeValue(grid)}`, "grid");
  }
  if (!Array.isArray(data.images) || data.images.length === 0) throw new ArtifactError(file, `expected a non-empty array of images, got ${describeValue(data.images)}`, "images");
  const annotations = data.images.map((image, i) => checkWorldAnnotation(image, file, `images[${i}]`, grid));
  return { dir: path.dirname(file), grid: [grid[0], grid[1]], annotations };
}

function checkWorldAnnotation(value: unknown, file: string, at: string, grid: readonly [number, number]): WorldAnnotation {
  const a = value as WorldAnnotation;
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new ArtifactError(file, `expected ${expected}, got ${describeValue(got)}`, `${at}${field ? `.${field}` : ""}`);
  };
  const isStrings = (xs: unknown) => Array.isArray(xs) && xs.every((x) => typeof x === "string");
  if (typeof a !== "object" || a === null || Array.isArray(a)) fail("", "an object", a);
  if (typeof a.file !== "string" || a.file === "") fail("file", "an image file name", a.file);
  if (typeof a.background?.colour !== "string") fail("background.colour", "a colour word", a.background?.colour);
  if (typeof a.background.pattern !== "string") fail("background.pattern", "a pattern word", a.background.pattern);
  if (!Array.isArray(a.objects)) fail("objects", "an array", a.objects);
  a.objects.forEach((o, j) => {
    if (o?.id !== j + 1) fail(`objects[${j}].id`, `${j + 1} (objects are listed by id)`, o?.id);
    if (typeof o.name !== "string" || o.name.trim() === "") fail(`objects[${j}].name`, "a name", o.name);
    if (typeof o.category !== "string" || o.category === "") fail(`objects[${j}].category`, "a category", o.category);
    if (!isStrings(o.categories) || o.categories[0] !== o.category) fail(`objects[${j}].categories`, `strings beginning with the category ${describeValue(o.category)}`, o.categories);
    if (!isStrings(o.keywords)) fail(`objects[${j}].keywords`, "an array of strings", o.keywords);
  });
  const labels = a.patch_labels;
  if (!Array.isArray(labels) || labels.length !== grid[0]) fail("patch_labels", `${grid[0]} rows (the set's grid is ${grid[0]}x${grid[1]})`, labels);
  labels.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== grid[1]) fail(`patch_labels[${r}]`, `a row of ${grid[1]} labels`, row);
    row.forEach((k, c) => {
      if (!Number.isInteger(k) || k < 0 || k > a.objects.length) fail(`patch_labels[${r}][${c}]`, `0..${a.objects.length} (0 = background, k = the object with id k)`, k);
    });
  });
  return a;
}
