/**
 * The open-vocabulary world's shipped models (models/objects-*, models/README.md) as the world's
 * reproduction notebooks use them: the bundles, the corpus, held-out set and concept split in
 * models/objects-llava, and where banks and results are cached.
 */

import * as path from "node:path";
import type { Bank } from "../bank/open";
import { readCorpus, subsampleCorpus } from "../bank/corpus";
import { readConceptImages, type ConceptImage } from "../concepts/images";
import { ArtifactError } from "../errors";
import { readWorldEvalSet, type WorldEvalSet } from "../eval/world-annotations";
import type { Bundle } from "../model/bundle";
import { gridBase, countFromEnv, VISLENS_ROOT, type GridBase } from "./grid";

export interface WorldGrid extends Omit<GridBase, "open"> {
  /**
   * The corpus the banks are built from: models/objects-llava/corpus.txt (56,977 sentences), or, when
   * $VISLENS_CORPUS_SENTENCES is set (the test suite runs the notebooks this way), a seeded subset of
   * that many sentences written into the cache.
   */
  corpus: string;
  /** Sentences in `corpus`. */
  corpusSentences: number;
  /** The held-out sentences (models/objects-llava/corpus-heldout.txt), never in a bank. */
  heldoutCorpus: string;
  /** The annotated held-out images (models/objects-llava/eval, 8×8 patch labels). */
  evalSet: WorldEvalSet;
  /** Held-out images per evaluation: $VISLENS_EVAL_IMAGES when set, else all of them. */
  images: number;
  /** True when every held-out image and the whole corpus are used. */
  full: boolean;
  /** The concept split (models/objects-llava/concepts: 600 images, image i showing dog, cat, banana, apple, bus, train in turn). */
  conceptDir: string;
  /**
   * Concept-split images to fit dictionaries on: the first $VISLENS_CONCEPT_IMAGES when set (the test
   * suite runs notebook 12 on a subset), else undefined: all of them up to the held-out tail
   * (CONCEPT_TEST_IMAGES).
   */
  conceptImages: number | undefined;
  /**
   * The concept split cut in two: `train`, its first `conceptImages`; `test`, the first `images` of its
   * last CONCEPT_TEST_IMAGES (20 of each target, never fitted on). The world's held-out eval set shows
   * each target in only 1-6 of its 250 images, too few to test a dictionary on.
   */
  conceptSplit(): { train: ConceptImage[]; test: ConceptImage[] };
  /** Opens a model's bundle and its bank (built once into the cache from `corpus`, default: the grid's). */
  open(model: string, corpus?: string, variant?: string): Promise<{ bundle: Bundle; bank: Bank }>;
}

/** The concept split's last images, held out as its test images (a multiple of its 6 targets). */
export const CONCEPT_TEST_IMAGES = 120;

const SHARED = "objects-llava";

/** The world's bundles in `modelsDir`: those named `objects-*`, objects-llava first. */
export function worldGrid(modelsDir = path.join(VISLENS_ROOT, "models")): WorldGrid {
  const base = gridBase(modelsDir, "objects-", SHARED, "world grid");
  const evalSet = readWorldEvalSet(path.join(modelsDir, SHARED, "eval"));
  const images = countFromEnv("VISLENS_EVAL_IMAGES", evalSet.annotations.length);
  const whole = path.join(modelsDir, SHARED, "corpus.txt");
  const total = readCorpus(whole).sentences.length;
  const wanted = countFromEnv("VISLENS_CORPUS_SENTENCES", total);
  // A subset gets a bank variant of its own, so it never stands in for the whole corpus's bank.
  const corpus = wanted === total ? whole : subsampleCorpus(whole, wanted / total, path.join(base.resultsDir, "corpora", `objects-${wanted}.txt`)).file;
  const variant = wanted === total ? undefined : `corpus-${wanted}`;
  const conceptDir = path.join(modelsDir, SHARED, "concepts");
  const conceptImages = countFromEnv("VISLENS_CONCEPT_IMAGES", Infinity);
  return {
    ...base,
    corpus,
    corpusSentences: wanted,
    heldoutCorpus: path.join(modelsDir, SHARED, "corpus-heldout.txt"),
    evalSet,
    images,
    full: images === evalSet.annotations.length && wanted === total,
    conceptDir,
    conceptImages: Number.isFinite(conceptImages) ? conceptImages : undefined,
    conceptSplit() {
      const all = readConceptImages(conceptDir);
      const fit = all.length - CONCEPT_TEST_IMAGES;
      if (fit < 1) throw new ArtifactError(path.join(conceptDir, "annotations.json"), `${all.length} images, expected more than the ${CONCEPT_TEST_IMAGES} held out for testing`, "images");
      return { train: all.slice(0, Math.min(conceptImages, fit)), test: all.slice(fit, fit + Math.min(images, CONCEPT_TEST_IMAGES)) };
    },
    open: (model, bankCorpus, bankVariant) =>
      base.open(model, bankCorpus ?? corpus, bankCorpus === undefined ? bankVariant ?? variant : bankVariant),
  };
}
