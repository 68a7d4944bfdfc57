import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError, describeValue } from "../errors";
import type { ShapesAnnotation } from "./shapes-judge";

/** An annotated shapes-world evaluation set: the images' directory and their annotations. */
export interface ShapesEvalSet {
  /** The directory holding the images (the annotation file's directory). */
  dir: string;
  annotations: ShapesAnnotation[];
}

/**
 * Reads an evaluation set's `annotations.json` (the fixture recipe writes it beside the held-out
 * images). Every image's objects and patch labels are checked, so a broken annotation fails here,
 * naming the image and field, rather than as a wrong verdict deep inside an evaluation.
 *
 * @param where the annotations file, or the directory that holds `annotations.json`
 */
export function readShapesEvalSet(where: string): ShapesEvalSet {
  const { file, data } = readAnnotationsJson(where);
  return checkShapesEvalSet(data, file);
}

/**
 * Reads an eval set's `annotations.json` (`where` is the file or the directory that holds it) as
 * parsed JSON, for the checker of its world (shapes or open-vocabulary; see readEvalSet).
 */
export function readAnnotationsJson(where: string): { file: string; data: { images?: unknown; grid?: unknown; world?: unknown } } {
  const file = fs.existsSync(where) && fs.statSync(where).isDirectory() ? path.join(where, "annotations.json") : where;
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArtifactError(file, code === "ENOENT" ? "annotations file not found" : `cannot read annotations: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ArtifactError(file, `expected a JSON object, got ${describeValue(data)}`);
  return { file, data: data as { images?: unknown; grid?: unknown; world?: unknown } };
}

/** Checks parsed shapes-world `annotations.json` content (`file` names it in errors). */
export function checkShapesEvalSet(data: { images?: unknown }, file: string): ShapesEvalSet {
  if (!Array.isArray(data.images) || data.images.length === 0) throw new ArtifactError(file, `expected a non-empty array of images, got ${describeValue(data.images)}`, "images");
  const annotations = data.images.map((image, i) => checkAnnotation(image, file, `images[${i}]`));
  return { dir: path.dirname(file), annotations };
}

function checkAnnotation(value: unknown, file: string, at: string): ShapesAnnotation {
  const a = value as ShapesAnnotation;
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new ArtifactError(file, `expected ${expected}, got ${describeValue(got)}`, `${at}.${field}`);
  };
  if (typeof a !== "object" || a === null) fail("", "an object", a);
  if (typeof a.file !== "string" || a.file === "") fail("file", "an image file name", a.file);
  if (!Array.isArray(a.objects)) fail("objects", "an array", a.objects);
  a.objects.forEach((o, j) => {
    if (typeof o?.colour !== "string") fail(`objects[${j}].colour`, "a string", o?.colour);
    if (typeof o?.shape !== "string") fail(`objects[${j}].shape`, "a string", o?.shape);
  });
  const labels = a.patch_labels;
  if (!Array.isArray(labels) || labels.length === 0) fail("patch_labels", "a rows x cols array", labels);
  labels.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== labels[0].length) fail(`patch_labels[${r}]`, `a row of ${labels[0].length} labels`, row);
    row.forEach((k, c) => {
      if (!Number.isInteger(k) || k < 0 || k > a.objects.length) fail(`patch_labels[${r}][${c}]`, `0..${a.objects.length} (0 = background, k = objects[k-1])`, k);
    });
  });
  return a;
}
