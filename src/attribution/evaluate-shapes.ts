import * as path from "node:path";
import { ArtifactError } from "../errors";
import type { ShapesAnnotation } from "../eval/shapes-judge";
import type { Bundle } from "../model/bundle";
import { seededRandom } from "../util/random";
import type { AblationBaseline } from "./ablation";
import { attributeAnswer } from "./attribute";
import { topShare } from "./top-share";

/**
 * The causal check on the shapes world, where the ground truth is known. For each image one object
 * is drawn (seeded); the prompt is the image's caption up to that object's colour ("a big yellow
 * triangle left of a small blue"), so the answer is the object's shape ("circle") and the patches
 * it covers are known from the annotation. Per image: Spearman's ρ of the position map and of
 * the attention map against the patch-ablation drops, and the share of each map's top-3 patches
 * (and of the ablation's own top 3) that lie on the object. (A type, not an interface, so that
 * rows are plain records for the CSV and table helpers.)
 */
export type AttributionEvalRow = {
  file: string;
  prompt: string;
  /** The reference answer (the object's shape word) and the model's answer ŷ (its argmax). */
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

export async function evaluateAttributionShapes(
  bundle: Bundle,
  annotations: readonly ShapesAnnotation[],
  imageDir: string,
  options: AttributionEvalOptions = {},
): Promise<AttributionEvalRow[]> {
  const rnd = seededRandom(options.seed ?? 0);
  const rows: AttributionEvalRow[] = [];
  for (const [i, a] of annotations.entries()) {
    const k = Math.floor(rnd() * a.objects.length);
    const { prompt, answer } = shapePrompt(a, k);
    const r = await attributeAnswer(bundle, path.join(imageDir, a.file), { prompt, heads: options.heads ?? 10, topPositions: 0, ablate: { baseline: options.baseline ?? "mean", heads: 0 } });
    const labels = a.patch_labels.flat();
    if (labels.length !== r.patches.length) {
      throw new ArtifactError(path.join(imageDir, "annotations.json"), `${labels.length} patch labels for a model with ${r.patches.length} visual tokens`, `${a.file}.patch_labels`);
    }
    const onObject = labels.map((label) => label === k + 1);
    const padding = r.patches.map((p) => p.isPadding);
    const ablation = r.ablation!;
    rows.push({
      file: a.file,
      prompt,
      answer,
      predicted: r.target.predicted,
      correct: r.target.predicted === answer,
      object: k,
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
    options.onImage?.(i + 1, annotations.length);
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
