import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError, describeValue } from "../errors";
import { readShapesEvalSet } from "../eval/annotations";
import type { ShapesAnnotation } from "../eval/shapes-judge";

/** One image a concept dictionary may draw samples from. */
export interface ConceptImage {
  /** Path of the image file. */
  file: string;
  /** Its reference caption, when the set is annotated. */
  caption?: string;
  /** Its shapes-world annotation (objects, patch labels), when the set has one. */
  annotation?: ShapesAnnotation;
}

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"]);

export interface ReadConceptImagesOptions {
  /** Use only the first `limit` images (in file-name or annotation order). */
  limit?: number;
}

/**
 * The images of a set: a directory with `annotations.json` (the shapes-world format the fixture
 * recipe writes, with reference captions), that annotations file itself, or a plain directory of
 * image files (no reference captions; taken in file-name order).
 */
export function readConceptImages(where: string, options: ReadConceptImagesOptions = {}): ConceptImage[] {
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`readConceptImages: limit must be a positive integer, got ${describeValue(limit)}`);
  if (!fs.existsSync(where)) throw new ArtifactError(where, "no such image directory or annotations file");
  const isDir = fs.statSync(where).isDirectory();
  let images: ConceptImage[];
  if (!isDir || fs.existsSync(path.join(where, "annotations.json"))) {
    const set = readShapesEvalSet(where);
    images = set.annotations.map((a) => ({ file: path.join(set.dir, a.file), ...(a.caption !== undefined ? { caption: a.caption } : {}), annotation: a }));
  } else {
    images = fs
      .readdirSync(where)
      .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
      .sort()
      .map((name) => ({ file: path.join(where, name) }));
    if (images.length === 0) throw new ArtifactError(where, `no image files (${[...IMAGE_EXTENSIONS].join(", ")}) and no annotations.json`);
  }
  return limit === undefined ? images : images.slice(0, limit);
}
