/**
 * The ground-truth judge for the open-vocabulary world (`exporter/vislens_world`): whether a lens's
 * word describes a patch, decided from the image's annotation (world-annotations.ts), in the
 * paper's three kinds of match. For a word at patch (row, col), with the object under the patch
 * being `objects[patch_labels[row][col] - 1]` (none on a background patch):
 *
 * | verdict | rule |
 * |---|---|
 * | **concrete** | a word of the object's name, or its plural ("truck", "trucks" for a fire truck); on a background patch, the background's colour or pattern word (`background: false` turns this off) |
 * | **abstract** | otherwise, a word of the object's category or of a parent category, or its plural ("fruit", "food" for a banana; "sea", "animal" for a whale), or one of its keywords ("potassium") |
 * | **global** | otherwise, a word of the name of another object in the image (on a background patch: of any object) |
 * | **none** | anything else: function words, relations, objects not in the image, ... |
 *
 * Words match after normalisation (word-forms.ts). A patch is interpretable when any of its top-k
 * words matches; its best match is the strongest (concrete > abstract > global).
 */

import * as path from "node:path";
import { verdictFrom, type JudgeRequest, type JudgeVerdict, type PatchJudge } from "./judge";
import type { WorldAnnotation, WorldEvalSet, WorldObject } from "./world-annotations";
import { WordSet } from "./word-forms";

export const WORLD_VERDICTS = ["concrete", "abstract", "global", "none"] as const;
export type WorldVerdict = (typeof WORLD_VERDICTS)[number];

/** Pattern words a caption says ("on a striped blue background"); plain and gradient say none. */
const PATTERN_WORDS: ReadonlySet<string> = new Set(["striped", "checked", "dotted", "speckled"]);

export interface WorldJudgeOptions {
  /** Background patches: their colour and pattern words are concrete (default true). */
  background?: boolean;
  /** The judge's name in evaluation tables (default "world-ground-truth"). */
  name?: string;
}

/** The words that count at one patch, by kind. */
export interface PatchWords {
  concrete: WordSet;
  abstract: WordSet;
  global: WordSet;
}

/** The reference words of patch (row, col) of an annotated image. */
export function patchWords(annotation: WorldAnnotation, row: number, col: number, options: WorldJudgeOptions = {}): PatchWords {
  const labels = annotation.patch_labels;
  if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || row >= labels.length || col < 0 || col >= (labels[row]?.length ?? 0)) {
    throw new RangeError(`patch (${row}, ${col}) is outside the ${labels.length}x${labels[0]?.length ?? 0} grid of ${annotation.file}`);
  }
  const label = labels[row][col];
  const under: WorldObject | undefined = label > 0 ? annotation.objects[label - 1] : undefined;
  if (label > 0 && !under) throw new RangeError(`${annotation.file}: patch (${row}, ${col}) is labelled ${label}, but the image has ${annotation.objects.length} objects`);
  const concrete = new WordSet();
  const abstract = new WordSet();
  if (under) {
    concrete.add(under.name);
    for (const c of under.categories) abstract.add(c);
    for (const k of under.keywords) abstract.add(k);
  } else if (options.background ?? true) {
    concrete.add(annotation.background.colour);
    if (PATTERN_WORDS.has(annotation.background.pattern)) concrete.add(annotation.background.pattern);
  }
  const global = new WordSet(annotation.objects.filter((o) => o !== under).map((o) => o.name));
  return { concrete, abstract, global };
}

/** The verdict for one word at one patch of an annotated image. */
export function judgeWorldWord(word: string, annotation: WorldAnnotation, row: number, col: number, options: WorldJudgeOptions = {}): WorldVerdict {
  return verdictOf(word, patchWords(annotation, row, col, options));
}

function verdictOf(word: string, words: PatchWords): WorldVerdict {
  if (words.concrete.has(word)) return "concrete";
  if (words.abstract.has(word)) return "abstract";
  return words.global.has(word) ? "global" : "none";
}

/** The verdicts of a patch's top-k words and the best of them. */
export function judgeWorldPatch(
  words: readonly string[],
  annotation: WorldAnnotation,
  row: number,
  col: number,
  options: WorldJudgeOptions = {},
): { verdicts: WorldVerdict[]; best: WorldVerdict; interpretable: boolean } {
  const ref = patchWords(annotation, row, col, options);
  const verdicts = words.map((w) => verdictOf(w, ref));
  const best = WORLD_VERDICTS.find((v) => verdicts.includes(v)) ?? "none";
  return { verdicts, best, interpretable: best !== "none" };
}

/**
 * The ground-truth judge of a world evaluation set as a PatchJudge. It finds each request's
 * annotation by its image file (a path as given, or a name relative to the set's directory), so
 * requests need not carry one; an image that is not in the set is a RangeError naming it.
 */
export function worldJudge(set: WorldEvalSet, options: WorldJudgeOptions = {}): PatchJudge {
  const byFile = new Map(set.annotations.map((a) => [path.resolve(set.dir, a.file), a]));
  return {
    name: options.name ?? "world-ground-truth",
    async judge(request: JudgeRequest): Promise<JudgeVerdict> {
      const annotation = byFile.get(path.resolve(request.image)) ?? byFile.get(path.resolve(set.dir, request.image));
      if (!annotation) throw new RangeError(`the world judge has no annotation for ${request.image} (its set is ${set.dir}, ${set.annotations.length} images)`);
      const { row, col } = request.patch;
      const ref = patchWords(annotation, row, col, options);
      const verdicts = request.words.map((w) => verdictOf(w, ref));
      const pick = (v: WorldVerdict) => request.words.filter((_, i) => verdicts[i] === v);
      return verdictFrom({ concrete: pick("concrete"), abstract: pick("abstract"), global: pick("global") });
    },
  };
}
