import { ArtifactError } from "../errors";
import type { WorldAnnotation, WorldEvalSet } from "../eval/world-annotations";
import type { Bundle } from "../model/bundle";
import { attributeDrawnObjects, drawObjects, type AttributionEvalOptions, type AttributionEvalRow } from "./evaluate-objects";

/**
 * The caption prefix that ends with object k's article, and the first word of its name: for
 * "a dog to the left of a fire truck on a striped blue background" and k = 1, the prompt
 * "a dog to the left of a" and the answer "fire". Objects are named left to right, each as
 * "a <name>" or "an <name>" (exporter/vislens_world/caption.py).
 */
export function worldObjectPrompt(annotation: WorldAnnotation, k: number, file = "annotations.json"): { prompt: string; answer: string } {
  const words = (annotation.caption ?? "").split(" ");
  const object = annotation.objects[k];
  if (!object) throw new RangeError(`worldObjectPrompt: ${annotation.file} has ${annotation.objects.length} objects, no object ${k}`);
  let at = 0;
  for (const [j, o] of annotation.objects.slice(0, k + 1).entries()) {
    const name = o.name.split(" ");
    while (at < words.length && !((words[at] === "a" || words[at] === "an") && name.every((w, i) => words[at + 1 + i] === w))) at++;
    if (at >= words.length) {
      throw new ArtifactError(file, `caption ${JSON.stringify(annotation.caption)} does not name object ${j} (${o.name}) as "a/an ${o.name}" after the objects before it`, `${annotation.file}.caption`);
    }
    if (j < k) at += 1 + name.length;
  }
  return { prompt: words.slice(0, at + 1).join(" "), answer: object.name.split(" ")[0] };
}

/**
 * The causal check on the open-vocabulary world (attributeDrawnObjects): for each image one object is
 * drawn (seeded), the prompt is the caption up to that object's article, so the answer is the first
 * word of its name, and its annotated patches are the ground truth.
 */
export function evaluateAttributionWorld(bundle: Bundle, set: WorldEvalSet, options: AttributionEvalOptions & { images?: number } = {}): Promise<AttributionEvalRow[]> {
  const items = drawObjects(set.annotations.slice(0, options.images ?? set.annotations.length), set.dir, options.seed ?? 0, worldObjectPrompt);
  return attributeDrawnObjects(bundle, items, options);
}
