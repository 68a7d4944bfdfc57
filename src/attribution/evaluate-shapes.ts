import { ArtifactError } from "../errors";
import type { ShapesAnnotation } from "../eval/shapes-judge";
import type { Bundle } from "../model/bundle";
import { attributeDrawnObjects, drawObjects, type AttributionEvalOptions, type AttributionEvalRow } from "./evaluate-objects";

/** The caption prefix that ends just before object k's shape word, and that word. */
export function shapePrompt(annotation: ShapesAnnotation, k: number, file = "annotations.json"): { prompt: string; answer: string } {
  const words = (annotation.caption ?? "").split(" ");
  const starts = words.flatMap((w, i) => (w === "a" ? [i] : []));
  const at = starts[k];
  const object = annotation.objects[k];
  // Each object reads "a <size> <colour> <shape>".
  if (at === undefined || !object || words[at + 2] !== object.colour || words[at + 3] !== object.shape) {
    throw new ArtifactError(file, `caption ${JSON.stringify(annotation.caption)} does not name object ${k} (${object?.colour} ${object?.shape}) as "a <size> <colour> <shape>"`, `${annotation.file}.caption`);
  }
  return { prompt: words.slice(0, at + 3).join(" "), answer: object.shape };
}

/**
 * The causal check on the shapes world. For each image one object is drawn (seeded); the prompt is
 * the image's caption up to that object's colour ("a big yellow triangle left of a small blue"), so
 * the answer is the object's shape ("circle") and the patches it covers are known from the
 * annotation (attributeDrawnObjects).
 */
export function evaluateAttributionShapes(
  bundle: Bundle,
  annotations: readonly ShapesAnnotation[],
  imageDir: string,
  options: AttributionEvalOptions = {},
): Promise<AttributionEvalRow[]> {
  const items = drawObjects(annotations, imageDir, options.seed ?? 0, shapePrompt);
  return attributeDrawnObjects(bundle, items, options);
}
