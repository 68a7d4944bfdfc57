import * as path from "node:path";
import type { Bank } from "../bank/open";
import { readShapesEvalSet, type ShapesEvalSet } from "../eval/annotations";
import type { Bundle } from "../model/bundle";
import { gridBase, countFromEnv, VISLENS_ROOT, type GridBase } from "./grid";

export { cacheDir, VISLENS_ROOT, type GridModel } from "./grid";

/**
 * The shipped fixture grid (models/README.md) as the reproduction notebooks use it: the bundles,
 * the corpus and held-out set they share, where banks and results are cached, and how many held-out
 * images an evaluation uses.
 */
export interface FixtureGrid extends Omit<GridBase, "open"> {
  /** The shared corpus (models/shapes-llava/corpus.txt). */
  corpus: string;
  /** The shared annotated held-out set (models/shapes-llava/eval). */
  evalSet: ShapesEvalSet;
  /**
   * Held-out images per evaluation: $VISLENS_EVAL_IMAGES when set (the test suite runs the
   * notebooks on a subset this way), else all of them.
   */
  images: number;
  /** True when every held-out image is used. */
  full: boolean;
  /** The shared concept split (models/shapes-llava/concepts: 2,000 annotated images the model never saw; docs/concepts.md). */
  conceptDir: string;
  /**
   * Concept-split images a concept notebook fits on: $VISLENS_CONCEPT_IMAGES when set (the test
   * suite runs notebook 09 on a subset this way), else undefined: all of them.
   */
  conceptImages: number | undefined;
  /** Opens a model's bundle and its bank (built once into the cache from `corpus`, default: the grid's). */
  open(model: string, corpus?: string, variant?: string): Promise<{ bundle: Bundle; bank: Bank }>;
}

const SHARED = "shapes-llava";

/** The shapes world's bundles in `modelsDir`: those named `shapes-*`, shapes-llava first. */
export function fixtureGrid(modelsDir = path.join(VISLENS_ROOT, "models")): FixtureGrid {
  const base = gridBase(modelsDir, "shapes-", SHARED, "fixture grid");
  const evalSet = readShapesEvalSet(path.join(modelsDir, SHARED, "eval"));
  const images = countFromEnv("VISLENS_EVAL_IMAGES", evalSet.annotations.length);
  const conceptImages = countFromEnv("VISLENS_CONCEPT_IMAGES", Infinity);
  const corpus = path.join(modelsDir, SHARED, "corpus.txt");
  return {
    ...base,
    corpus,
    evalSet,
    images,
    full: images === evalSet.annotations.length,
    conceptDir: path.join(modelsDir, SHARED, "concepts"),
    conceptImages: Number.isFinite(conceptImages) ? conceptImages : undefined,
    open: (model, bankCorpus = corpus, variant) => base.open(model, bankCorpus, variant),
  };
}
