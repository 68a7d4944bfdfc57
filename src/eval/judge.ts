import type { PatchGeometry } from "../model/geometry";
import type { ShapesAnnotation } from "./shapes-judge";

/**
 * What a judge decides about one interpreted patch, in the paper's categories: the top-k words that
 * are concrete matches (name what is under the patch), abstract matches (a property or idea the
 * patch shows) and global matches (something elsewhere in the image). A patch is interpretable when
 * any word matches; `best` is the strongest category found (concrete > abstract > global).
 */
export interface JudgeVerdict {
  concrete: string[];
  abstract: string[];
  global: string[];
  best: MatchKind | "none";
  interpretable: boolean;
}

export const MATCH_KINDS = ["concrete", "abstract", "global"] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

/** One patch to judge: the image, where the patch and its 3x3 block lie, and the lens's words. */
export interface JudgeRequest {
  /** The original image file (the judge sees it as the user has it, not the model's resized copy). */
  image: string;
  /** The interpreted (centre) patch, with its box in original-image pixels. */
  patch: PatchGeometry;
  /** The 3x3 block around it, `[x0, y0, x1, y1]` in original-image pixels (the paper's red box). */
  block: [number, number, number, number];
  /** The lens's top-k words, best first (for LatentLens: whole words of the neighbours' sentences). */
  words: string[];
  /** The image's shapes-world annotation, when it has one (the ground-truth judge needs it). */
  annotation?: ShapesAnnotation;
}

/** A judge of lens answers: the ground-truth judge of the shapes world, or an LLM behind an API. */
export interface PatchJudge {
  /** Recorded in evaluation tables so numbers from different judges are never mixed. */
  readonly name: string;
  judge(request: JudgeRequest): Promise<JudgeVerdict>;
}

/** Builds a verdict from the three match lists (de-duplicated, order kept). */
export function verdictFrom(lists: { concrete?: readonly string[]; abstract?: readonly string[]; global?: readonly string[] }): JudgeVerdict {
  const uniq = (xs: readonly string[] | undefined) => [...new Set(xs ?? [])];
  const v = { concrete: uniq(lists.concrete), abstract: uniq(lists.abstract), global: uniq(lists.global) };
  const best = MATCH_KINDS.find((k) => v[k].length > 0) ?? "none";
  return { ...v, best, interpretable: best !== "none" };
}

/** The box `[x0, y0, x1, y1]` covering the 3x3 block of patches centred on `centre`. */
export function blockBox(patches: readonly PatchGeometry[], grid: readonly [number, number], centre: number): [number, number, number, number] {
  const [rows, cols] = grid;
  const r = Math.floor(centre / cols);
  const c = centre % cols;
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let dr = -1; dr <= 1; dr++) {
    for (let dc = -1; dc <= 1; dc++) {
      const rr = r + dr;
      const cc = c + dc;
      if (rr < 0 || rr >= rows || cc < 0 || cc >= cols) continue;
      const b = patches[rr * cols + cc].box;
      box[0] = Math.min(box[0], b[0]);
      box[1] = Math.min(box[1], b[1]);
      box[2] = Math.max(box[2], b[2]);
      box[3] = Math.max(box[3], b[3]);
    }
  }
  return box;
}
