import * as path from "node:path";
import { ArtifactError } from "../errors";
import type { Bundle } from "../model/bundle";
import { seededRandom } from "../util/random";
import type { AblationBaseline } from "./ablation";
import { attributeAnswer } from "./attribute";
import { topShare } from "./top-share";

/**
 * The causal check on a world where the ground truth is known (the shapes world, the open-vocabulary
 * world): per image, one drawn object, a prompt whose next word names it, and the patches it covers
 * from the annotation. Per image: Spearman's ρ of the position map and of the attention map against
 * the patch-ablation drops, and the share of each map's top-3 patches (and of the ablation's own
 * top 3) that lie on the object. (A type, not an interface, so that rows are plain records for the
 * CSV and table helpers.)
 */
export type AttributionEvalRow = {
  file: string;
  prompt: string;
  /** The reference answer (the word that names the object) and the model's answer ŷ (its argmax). */
  answer: string;
  predicted: string;
  correct: boolean;
  /** Index of the object in the annotation, and how many patches it covers. */
  object: number;
  objectPatches: number;
  logProb: number;
  spearmanPositions: number;
  spearmanAttention: number;
  top3Positions: number;
  top3Attention: number;
  top3Ablation: number;
  /** The top head and its score. */
  topHead: string;
  topHeadScore: number;
};

export interface AttributionEvalOptions {
  /** Heads summed into the position map (default 10). */
  heads?: number;
  baseline?: AblationBaseline;
  /** Seed of the per-image object draw (default 0). */
  seed?: number;
  /** Called after each image. */
  onImage?: (done: number, total: number) => void;
}

/** One image of the check: the drawn object's prompt and answer, and which patches it covers. */
export interface DrawnObject {
  /** The image's path, and its name in the rows (the annotation's `file`). */
  image: string;
  file: string;
  prompt: string;
  answer: string;
  /** Index of the object in the annotation's objects (0-based). */
  object: number;
  /** Row-major patch labels: 0 = background, k = object index k - 1. */
  labels: readonly number[];
  /** The annotations file, named when the labels do not fit the model's grid. */
  annotations: string;
}

/** What drawObjects needs of an annotation, in either world. */
export interface DrawableAnnotation {
  file: string;
  objects: readonly unknown[];
  patch_labels: readonly (readonly number[])[];
}

/**
 * One object drawn per image (seeded: the same draw for a seed on every run), with the prompt that asks
 * for it (`prompt(annotation, k, annotationsFile)`, the world's own) and the patches it covers.
 */
export function drawObjects<A extends DrawableAnnotation>(
  annotations: readonly A[],
  imageDir: string,
  seed: number,
  prompt: (annotation: A, k: number, annotationsFile: string) => { prompt: string; answer: string },
): DrawnObject[] {
  const rnd = seededRandom(seed);
  const file = path.join(imageDir, "annotations.json");
  return annotations.map((a) => {
    const k = Math.floor(rnd() * a.objects.length);
    return { image: path.join(imageDir, a.file), file: a.file, ...prompt(a, k, file), object: k, labels: a.patch_labels.flat(), annotations: file };
  });
}

/** attributeAnswer with the ablation check on each drawn object, scored against the patches it covers. */
export async function attributeDrawnObjects(bundle: Bundle, items: readonly DrawnObject[], options: Omit<AttributionEvalOptions, "seed"> = {}): Promise<AttributionEvalRow[]> {
  const rows: AttributionEvalRow[] = [];
  for (const [i, item] of items.entries()) {
    const r = await attributeAnswer(bundle, item.image, { prompt: item.prompt, heads: options.heads ?? 10, topPositions: 0, ablate: { baseline: options.baseline ?? "mean", heads: 0 } });
    if (item.labels.length !== r.patches.length) {
      throw new ArtifactError(item.annotations, `${item.labels.length} patch labels for a model with ${r.patches.length} visual tokens`, `${item.file}.patch_labels`);
    }
    const onObject = item.labels.map((label) => label === item.object + 1);
    const padding = r.patches.map((p) => p.isPadding);
    const ablation = r.ablation!;
    rows.push({
      file: item.file,
      prompt: item.prompt,
      answer: item.answer,
      predicted: r.target.predicted,
      correct: r.target.predicted === item.answer,
      object: item.object,
      objectPatches: onObject.filter(Boolean).length,
      logProb: r.target.logProb,
      spearmanPositions: ablation.spearmanPositions,
      spearmanAttention: ablation.spearmanAttention,
      top3Positions: topShare(r.positionMap, onObject, 3, padding),
      top3Attention: topShare(r.attentionMap, onObject, 3, padding),
      top3Ablation: topShare(ablation.patchDrops, onObject, 3, padding),
      topHead: `${r.rankedHeads[0].layer}.${r.rankedHeads[0].head}`,
      topHeadScore: r.rankedHeads[0].score,
    });
    options.onImage?.(i + 1, items.length);
  }
  return rows;
}

/** Means over images (NaN correlations, from constant maps, left out and counted). */
export interface AttributionEvalSummary {
  images: number;
  answerAccuracy: number;
  spearmanPositions: number;
  spearmanAttention: number;
  /** Images where the position map ranks patches more like the ablation than the attention map does. */
  positionsBeatAttention: number;
  top3Positions: number;
  top3Attention: number;
  top3Ablation: number;
  undefinedCorrelations: number;
}

export function summariseAttribution(rows: readonly AttributionEvalRow[]): AttributionEvalSummary {
  const mean = (values: number[]) => {
    const ok = values.filter((v) => Number.isFinite(v));
    return ok.length ? ok.reduce((s, v) => s + v, 0) / ok.length : Number.NaN;
  };
  const pairs = rows.filter((r) => Number.isFinite(r.spearmanPositions) && Number.isFinite(r.spearmanAttention));
  return {
    images: rows.length,
    answerAccuracy: mean(rows.map((r) => (r.correct ? 1 : 0))),
    spearmanPositions: mean(rows.map((r) => r.spearmanPositions)),
    spearmanAttention: mean(rows.map((r) => r.spearmanAttention)),
    positionsBeatAttention: pairs.length ? pairs.filter((r) => r.spearmanPositions > r.spearmanAttention).length / pairs.length : Number.NaN,
    top3Positions: mean(rows.map((r) => r.top3Positions)),
    top3Attention: mean(rows.map((r) => r.top3Attention)),
    top3Ablation: mean(rows.map((r) => r.top3Ablation)),
    undefinedCorrelations: rows.length - pairs.length,
  };
}
