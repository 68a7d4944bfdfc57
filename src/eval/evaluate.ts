import * as path from "node:path";
import type { Lens, LensName } from "../lenses/types";
import { interpretImage } from "../lenses/interpret";
import type { Bundle } from "../model/bundle";
import { imageHiddenStates } from "../model/hidden";
import { blockBox, type JudgeRequest, type JudgeVerdict, type PatchJudge } from "./judge";
import { sampleCentrePatch } from "./sample-patches";
import { shapesJudge, type ShapesAnnotation } from "./shapes-judge";

/** One cell of the paper's Fig. 3 table: how often a lens's top-k words describe the patch. */
export interface InterpretabilityRow {
  model: string;
  /** Which judge decided (numbers from different judges are not comparable). */
  judge: string;
  lens: LensName;
  /** The visual token's layer (0 = LLM input). */
  layer: number;
  /** Patches with at least one matching word. */
  interpretable: number;
  /** Of those, by the strongest match found: concrete, abstract, global (they sum to interpretable). */
  concrete: number;
  abstract: number;
  global: number;
  total: number;
  /** 100 × interpretable / total. */
  percent: number;
}

/** An image to evaluate: its file and, for the ground-truth judge, its annotation. */
export interface EvalImage {
  file: string;
  annotation?: ShapesAnnotation;
}

export interface EvaluateOptions {
  /** Words per patch given to the judge (default 5, as the paper). */
  k?: number;
  /** Evaluate only the first n images. */
  images?: number;
  /** Patch sampling seed; image i uses seed + i (default 42). */
  seed?: number;
  /** Visual layers (default: all). */
  layers?: number[];
  /** Judge requests in flight at once (default 4; an LLM judge behind an API benefits). */
  concurrency?: number;
  /** Called after each image with the images done and in all. */
  onProgress?: (done: number, total: number) => void;
}

/** One judgement of an evaluation: a judge and the images it judges (their annotations may differ between runs). */
export interface EvalRun {
  judge: PatchJudge;
  images: readonly EvalImage[];
  /**
   * Which sampled patches this run judges and counts (default: all), given the request and the image's
   * index: e.g. only those an object covers. Its rows' `total` is the patches it counted.
   */
  counts?: (request: JudgeRequest, image: number) => boolean;
}

/**
 * Interpretability of visual tokens by lens and layer, as the paper's Fig. 3: for every image, one
 * sampled patch (sampleCentrePatch: the centre of a seeded 3x3 block inside the unpadded image),
 * each lens's top-k words at every layer, a verdict from the judge. One row per (lens, layer).
 */
export async function evaluateInterpretability(
  bundle: Bundle,
  lenses: readonly Lens[],
  images: readonly EvalImage[],
  judge: PatchJudge,
  options: EvaluateOptions = {},
): Promise<InterpretabilityRow[]> {
  return (await evaluateInterpretabilityRuns(bundle, lenses, [{ judge, images }], options))[0];
}

/**
 * evaluateInterpretability for several judgements of the same images at once (e.g. the ground truth
 * and its chance control): each image is run through the model and the lenses once, and every run's
 * judge judges the same words on the same sampled patch, against its own image record. The runs must
 * list the same files in the same order. Returns one row list per run, in order.
 */
export async function evaluateInterpretabilityRuns(
  bundle: Bundle,
  lenses: readonly Lens[],
  runs: readonly EvalRun[],
  options: EvaluateOptions = {},
): Promise<InterpretabilityRow[][]> {
  const k = options.k ?? 5;
  const seed = options.seed ?? 42;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  if (runs.length === 0) throw new RangeError("evaluateInterpretabilityRuns: no judge to run");
  const chosen = runs[0].images.slice(0, options.images ?? runs[0].images.length);
  if (chosen.length === 0) throw new RangeError("evaluateInterpretability: no images to evaluate");
  if (lenses.length === 0) throw new RangeError("evaluateInterpretability: no lenses to evaluate");
  for (const run of runs) {
    const bad = chosen.findIndex((image, i) => run.images[i]?.file !== image.file);
    if (bad >= 0) throw new RangeError(`evaluateInterpretabilityRuns: run "${run.judge.name}" has ${JSON.stringify(run.images[bad]?.file)} as image ${bad}, the first run ${JSON.stringify(chosen[bad].file)}`);
  }
  type Cell = { lens: LensName; layer: number; hits: number; concrete: number; abstract: number; global: number; total: number };
  const tallies = runs.map(() => new Map<string, Cell>());
  for (const [i, image] of chosen.entries()) {
    const states = await imageHiddenStates(bundle, image.file);
    const patch = sampleCentrePatch(states.patches, states.grid, seed + i);
    const block = blockBox(states.patches, states.grid, patch);
    const records = await interpretImage(states, lenses, { patches: [patch], k, ...(options.layers ? { layers: options.layers } : {}) });
    for (const [r, run] of runs.entries()) {
      const annotation = run.images[i].annotation;
      const requests: JudgeRequest[] = records.map((rec) => ({
        image: image.file,
        patch: states.patches[patch],
        block,
        words: rec.neighbours.map((n) => n.word),
        ...(annotation ? { annotation } : {}),
      }));
      const counted = records.flatMap((_, j) => (run.counts === undefined || run.counts(requests[j], i) ? [j] : []));
      const verdicts = await mapLimited(counted.map((j) => requests[j]), concurrency, (req) => run.judge.judge(req));
      counted.forEach((j, c) => {
        const rec = records[j];
        const key = `${rec.lens}/${rec.layer}`;
        const cell = tallies[r].get(key) ?? tallies[r].set(key, { lens: rec.lens, layer: rec.layer, hits: 0, concrete: 0, abstract: 0, global: 0, total: 0 }).get(key)!;
        const v: JudgeVerdict = verdicts[c];
        cell.total++;
        if (v.best !== "none") {
          cell.hits++;
          cell[v.best]++;
        }
      });
    }
    options.onProgress?.(i + 1, chosen.length);
  }
  const order = new Map(lenses.map((l, i) => [l.name, i]));
  return tallies.map((tally, r) =>
    [...tally.values()]
      .sort((a, b) => order.get(a.lens)! - order.get(b.lens)! || a.layer - b.layer)
      .map((c) => ({
        model: bundle.manifest.name,
        judge: runs[r].judge.name,
        lens: c.lens,
        layer: c.layer,
        interpretable: c.hits,
        concrete: c.concrete,
        abstract: c.abstract,
        global: c.global,
        total: c.total,
        percent: (100 * c.hits) / c.total,
      })),
  );
}

/** An annotated set's images, each judged against `judgedAgainst[i]` (default: its own annotation). */
export function shapesImages(annotations: readonly ShapesAnnotation[], imageDir: string, judgedAgainst: readonly ShapesAnnotation[] = annotations): EvalImage[] {
  return annotations.map((a, i) => ({ file: path.join(imageDir, a.file), annotation: judgedAgainst[i] }));
}

/**
 * The ground-truth judge of the chance control, named "shapes-ground-truth/control" so its rows
 * are never mistaken for the real evaluation.
 */
export function shapesControlJudge(): PatchJudge {
  const truth = shapesJudge();
  return { ...truth, name: `${truth.name}/control` };
}

/**
 * evaluateInterpretability on an annotated shapes-world set with the ground-truth judge.
 * `imageDir` holds the annotated files.
 */
export function evaluateShapes(
  bundle: Bundle,
  lenses: readonly Lens[],
  annotations: readonly ShapesAnnotation[],
  imageDir: string,
  options: EvaluateOptions = {},
): Promise<InterpretabilityRow[]> {
  return evaluateInterpretability(bundle, lenses, shapesImages(annotations, imageDir), shapesJudge(), options);
}

/**
 * The chance control of evaluateShapes: the same images and sampled patches, each judged against
 * another image's annotation (mismatchedAnnotations), by shapesControlJudge.
 */
export function evaluateShapesControl(
  bundle: Bundle,
  lenses: readonly Lens[],
  annotations: readonly ShapesAnnotation[],
  imageDir: string,
  options: EvaluateOptions = {},
): Promise<InterpretabilityRow[]> {
  const images = shapesImages(annotations, imageDir, mismatchedAnnotations(annotations));
  return evaluateInterpretability(bundle, lenses, images, shapesControlJudge(), options);
}

/**
 * The chance control for the ground-truth judge: every image keeps its file but is judged against
 * the annotation of the image `offset` places later. Words that truly describe a patch should match
 * its own image far more often than another's; what still "matches" here is what the world's small
 * vocabulary gives away by chance.
 */
export function mismatchedAnnotations(annotations: readonly ShapesAnnotation[], offset = 7): ShapesAnnotation[] {
  if (annotations.length < 2) throw new RangeError("mismatchedAnnotations: needs at least two annotated images");
  const shift = ((offset % annotations.length) + annotations.length) % annotations.length || 1;
  return annotations.map((a, i) => ({ ...annotations[(i + shift) % annotations.length], file: a.file }));
}

/** Maps with at most `limit` calls in flight, keeping the input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
