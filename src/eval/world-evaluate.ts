/**
 * Fig. 3 on the open-vocabulary world: evaluateInterpretability with the world's ground-truth judge,
 * and its chance control (the same images, patches and words, each judged against another image's
 * annotation, by a judge named "world-ground-truth/control" so its rows are never mistaken for the
 * real evaluation).
 */

import * as path from "node:path";
import type { Lens } from "../lenses/types";
import type { Bundle } from "../model/bundle";
import { evaluateInterpretability, evaluateInterpretabilityRuns, type EvalImage, type EvalRun, type EvaluateOptions, type InterpretabilityRow } from "./evaluate";
import type { JudgeRequest } from "./judge";
import type { WorldEvalSet } from "./world-annotations";
import { worldJudge, type WorldJudgeOptions } from "./world-judge";

/** The set's images, in order (the judge finds their annotations by file). */
export function worldImages(set: WorldEvalSet): EvalImage[] {
  return set.annotations.map((a) => ({ file: path.join(set.dir, a.file) }));
}

/**
 * The control set: every image keeps its file but carries the annotation of the image `offset`
 * places later (wrapping). What still matches is what the world gives away by chance.
 */
export function worldControlSet(set: WorldEvalSet, offset = 7): WorldEvalSet {
  const n = set.annotations.length;
  if (n < 2) throw new RangeError("worldControlSet: needs at least two annotated images");
  const shift = ((offset % n) + n) % n || 1;
  return { ...set, annotations: set.annotations.map((a, i) => ({ ...set.annotations[(i + shift) % n], file: a.file })) };
}

/** The world's ground-truth judge of the chance control. */
export function worldControlJudge(set: WorldEvalSet, options: WorldJudgeOptions = {}): ReturnType<typeof worldJudge> {
  return worldJudge(worldControlSet(set), { ...options, name: `${options.name ?? "world-ground-truth"}/control` });
}

/**
 * The set cut to the images an evaluation uses (`options.images`), so that the chance control pairs
 * each evaluated image with another evaluated image (as `vislens eval --images N --control` does).
 */
function evaluated(set: WorldEvalSet, options: EvaluateOptions): WorldEvalSet {
  return options.images === undefined ? set : { ...set, annotations: set.annotations.slice(0, options.images) };
}

/** evaluateInterpretability on an annotated world set with its ground-truth judge. */
export function evaluateWorld(
  bundle: Bundle,
  lenses: readonly Lens[],
  set: WorldEvalSet,
  options: EvaluateOptions & { judge?: WorldJudgeOptions } = {},
): Promise<InterpretabilityRow[]> {
  const cut = evaluated(set, options);
  return evaluateInterpretability(bundle, lenses, worldImages(cut), worldJudge(cut, options.judge), options);
}

/** The chance control of evaluateWorld: the same images and sampled patches, judged against worldControlSet of the evaluated images. */
export function evaluateWorldControl(
  bundle: Bundle,
  lenses: readonly Lens[],
  set: WorldEvalSet,
  options: EvaluateOptions & { judge?: WorldJudgeOptions } = {},
): Promise<InterpretabilityRow[]> {
  const cut = evaluated(set, options);
  return evaluateInterpretability(bundle, lenses, worldImages(cut), worldControlJudge(cut, options.judge), options);
}

/** The kinds of patch the world's evaluation can be split by: one an object covers, or the background. */
export const WORLD_PATCH_KINDS = ["object", "background"] as const;
export type WorldPatchKind = (typeof WORLD_PATCH_KINDS)[number];

/**
 * evaluateWorld and evaluateWorldControl in one pass: each image runs through the model and the
 * lenses once, and both judges read the same words (half the time of the two calls; equal rows).
 * With `byPatchKind`, the same pass also gives `byPatchKind`: both judges' rows split by what the
 * sampled patch shows in its own image (its annotation's patch label), under judge names ending in
 * "/object patches" or "/background patches" (e.g. "world-ground-truth/control/object patches"). On a
 * background patch a concrete match is its colour or pattern, on an object patch the object's name,
 * so the split shows how much of a lens's score is background colour.
 */
export async function evaluateWorldWithControl(
  bundle: Bundle,
  lenses: readonly Lens[],
  set: WorldEvalSet,
  options: EvaluateOptions & { judge?: WorldJudgeOptions; byPatchKind?: boolean } = {},
): Promise<{ rows: InterpretabilityRow[]; control: InterpretabilityRow[]; byPatchKind?: InterpretabilityRow[] }> {
  const cut = evaluated(set, options);
  const images = worldImages(cut);
  const kindOf = (request: JudgeRequest, image: number): WorldPatchKind =>
    cut.annotations[image].patch_labels[request.patch.row][request.patch.col] === 0 ? "background" : "object";
  const judges = [worldJudge(cut, options.judge), worldControlJudge(cut, options.judge)];
  const split: EvalRun[] = !options.byPatchKind
    ? []
    : judges.flatMap((judge) =>
        WORLD_PATCH_KINDS.map((kind) => ({
          judge: { name: `${judge.name}/${kind} patches`, judge: (request: JudgeRequest) => judge.judge(request) },
          images,
          counts: (request: JudgeRequest, image: number) => kindOf(request, image) === kind,
        })),
      );
  const [rows, control, ...kinds] = await evaluateInterpretabilityRuns(bundle, lenses, [...judges.map((judge) => ({ judge, images })), ...split], options);
  return { rows, control, ...(options.byPatchKind ? { byPatchKind: kinds.flat() } : {}) };
}
