import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError, describeValue } from "../errors";
import { readEvalSet } from "../eval/eval-set";
import type { ShapesAnnotation } from "../eval/shapes-judge";
import type { WorldAnnotation } from "../eval/world-annotations";

/** One image a concept dictionary may draw samples from. */
export interface ConceptImage {
  /** Path of the image file. */
  file: string;
  /** Its reference caption, when the set is annotated. */
  caption?: string;
  /** Its shapes-world annotation (objects, patch labels), when the set is of the shapes world. */
  annotation?: ShapesAnnotation;
  /** Its open-vocabulary world annotation (objects with names and categories, patch labels), when the set is of that world. */
  world?: WorldAnnotation;
  /**
   * Lower-case words that name the image's objects, from its annotation (what conceptUsefulness
   * scores grounding words against): shapes world, each object's colour and shape; open-vocabulary
   * world, the words of each object's name and of its categories ("fire", "truck", "vehicle"; "sea",
   * "animal").
   */
  objectWords?: string[];
}

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"]);

export interface ReadConceptImagesOptions {
  /** Use only the first `limit` images (in file-name or annotation order). */
  limit?: number;
}

/**
 * The images of a set: a directory with `annotations.json` (either shipped world's format, with
 * reference captions), that annotations file itself, or a plain directory of image files (no
 * reference captions; taken in file-name order).
 */
export function readConceptImages(where: string, options: ReadConceptImagesOptions = {}): ConceptImage[] {
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`readConceptImages: limit must be a positive integer, got ${describeValue(limit)}`);
  if (!fs.existsSync(where)) throw new ArtifactError(where, "no such image directory or annotations file");
  const isDir = fs.statSync(where).isDirectory();
  let images: ConceptImage[];
  if (!isDir || fs.existsSync(path.join(where, "annotations.json"))) {
    const read = readEvalSet(where);
    const dir = read.set.dir;
    const caption = (a: { caption?: string }) => (a.caption !== undefined ? { caption: a.caption } : {});
    images =
      read.kind === "shapes"
        ? read.set.annotations.map((a) => ({ file: path.join(dir, a.file), ...caption(a), annotation: a, objectWords: a.objects.flatMap((o) => [o.colour.toLowerCase(), o.shape.toLowerCase()]) }))
        : read.set.annotations.map((a) => ({ file: path.join(dir, a.file), ...caption(a), world: a, objectWords: a.objects.flatMap((o) => [o.name, ...o.categories].flatMap((phrase) => phrase.toLowerCase().split(" "))) }));
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
