/**
 * The ground-truth judge for the shapes world (the fixtures' synthetic world): whether a lens's
 * neighbour word describes the patch, decided from the image's annotations instead of a VLM judge.
 *
 * Rules (the paper's categories, restricted to what the world's annotations can decide):
 * - **concrete**: the word names the colour or the shape of the object that covers the patch
 *   (`patch_labels[row][col] = k > 0`: object k covers at least a quarter of the patch);
 * - **global**: otherwise, the word names the colour or the shape of another object in the image;
 * - **none**: anything else (function words, sizes, relations, other colours and shapes).
 * Words are compared case-insensitively after trimming punctuation; a plural ("circles") counts as
 * its singular. A patch is *interpretable* when any of its top-k words is concrete or global, as the
 * paper counts concrete, abstract and global matches alike (abstract matches do not exist here).
 */

import { verdictFrom, type JudgeRequest, type JudgeVerdict, type PatchJudge } from "./judge";

export interface ShapesObject {
  colour: string;
  shape: string;
  size?: string;
  bbox?: [number, number, number, number];
}

export interface ShapesAnnotation {
  file: string;
  caption?: string;
  objects: ShapesObject[];
  /** `[rows][cols]`: 0 = background, k = objects[k - 1]. */
  patch_labels: number[][];
}

export const VERDICTS = ["concrete", "global", "none"] as const;
export type Verdict = (typeof VERDICTS)[number];

function normalise(word: string): string {
  const w = word.trim().toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
  return w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w;
}

function names(object: ShapesObject, word: string): boolean {
  return word === object.colour.toLowerCase() || word === object.shape.toLowerCase();
}

/** The verdict for one word at one patch of an annotated image. */
export function judgeWord(word: string, annotation: ShapesAnnotation, row: number, col: number): Verdict {
  const labels = annotation.patch_labels;
  if (row < 0 || row >= labels.length || col < 0 || col >= labels[row].length) {
    throw new RangeError(`patch (${row}, ${col}) is outside the ${labels.length}x${labels[0]?.length ?? 0} grid of ${annotation.file}`);
  }
  const w = normalise(word);
  if (w === "") return "none";
  const label = labels[row][col];
  const under = label > 0 ? annotation.objects[label - 1] : undefined;
  if (label > 0 && !under) throw new RangeError(`${annotation.file}: patch (${row}, ${col}) is labelled ${label}, but the image has ${annotation.objects.length} objects`);
  if (under && names(under, w)) return "concrete";
  return annotation.objects.some((o) => o !== under && names(o, w)) ? "global" : "none";
}

export interface PatchJudgement {
  verdicts: Verdict[];
  /** The best verdict among the words (concrete > global > none). */
  best: Verdict;
  interpretable: boolean;
}

/** Judges a patch's top-k words. */
export function judgePatch(words: readonly string[], annotation: ShapesAnnotation, row: number, col: number): PatchJudgement {
  const verdicts = words.map((w) => judgeWord(w, annotation, row, col));
  const best = verdicts.includes("concrete") ? "concrete" : verdicts.includes("global") ? "global" : "none";
  return { verdicts, best, interpretable: best !== "none" };
}

/**
 * The ground-truth judge as a PatchJudge: each request must carry its image's annotation. (This
 * world has no abstract matches, so `abstract` is always empty.)
 */
export function shapesJudge(): PatchJudge {
  return {
    name: "shapes-ground-truth",
    async judge(request: JudgeRequest): Promise<JudgeVerdict> {
      if (!request.annotation) throw new RangeError(`the shapes ground-truth judge needs an annotation for ${request.image}`);
      const { row, col } = request.patch;
      const verdicts = request.words.map((w) => judgeWord(w, request.annotation!, row, col));
      return verdictFrom({
        concrete: request.words.filter((_, i) => verdicts[i] === "concrete"),
        global: request.words.filter((_, i) => verdicts[i] === "global"),
      });
    },
  };
}
