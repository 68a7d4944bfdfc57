import * as fs from "node:fs";
import * as path from "node:path";
import { ensureBank } from "../bank/ensure";
import type { Bank } from "../bank/open";
import { ArtifactError } from "../errors";
import { readShapesEvalSet, type ShapesEvalSet } from "../eval/annotations";
import { openBundle, type Bundle } from "../model/bundle";

/** The vislens checkout this code runs from (dist/repro/ or src/repro/ -> two levels up). */
export const VISLENS_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The cache for banks and results: $VISLENS_CACHE_DIR, else `.cache/` in the checkout (shared by
 * `npm start`, the CLI and the notebooks, so a bank is built once).
 */
export function cacheDir(): string {
  return process.env.VISLENS_CACHE_DIR || path.join(VISLENS_ROOT, ".cache");
}

/** One model of the fixture grid. */
export interface GridModel {
  name: string;
  dir: string;
}

/**
 * The shipped fixture grid (models/README.md) as the reproduction notebooks use it: the bundles,
 * the corpus and held-out set they share, where banks and results are cached, and how many held-out
 * images an evaluation uses.
 */
export interface FixtureGrid {
  models: GridModel[];
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
  /** Where results (CSV, figures) go: <cache>/results/ (created by fixtureGrid). */
  resultsDir: string;
  /** A model's bank directory in the cache; `variant` names a non-default bank (e.g. "corpus-1pct"). */
  bankDir(model: string, variant?: string): string;
  /** Opens a model's bundle and its bank (built once into the cache from `corpus`, default: the grid's). */
  open(model: string, corpus?: string, variant?: string): Promise<{ bundle: Bundle; bank: Bank }>;
}

const SHARED = "shapes-llava";

export function fixtureGrid(modelsDir = path.join(VISLENS_ROOT, "models")): FixtureGrid {
  const names = fs.existsSync(modelsDir) ? fs.readdirSync(modelsDir).filter((n) => fs.existsSync(path.join(modelsDir, n, "manifest.json"))).sort() : [];
  if (!names.includes(SHARED)) throw new ArtifactError(modelsDir, `the fixture grid needs ${SHARED}/ (it holds the shared corpus and held-out set)`);
  // The first fixture first (the notebooks' single-model examples use it), then the grid's order.
  const models = [SHARED, ...names.filter((n) => n !== SHARED)].map((name) => ({ name, dir: path.join(modelsDir, name) }));
  const evalSet = readShapesEvalSet(path.join(modelsDir, SHARED, "eval"));
  const images = imagesFromEnv("VISLENS_EVAL_IMAGES", evalSet.annotations.length);
  const conceptImages = imagesFromEnv("VISLENS_CONCEPT_IMAGES", Infinity);
  const cache = cacheDir();
  const bankDir = (model: string, variant?: string) => path.join(cache, "banks", variant ? path.join(variant, model) : model);
  const corpus = path.join(modelsDir, SHARED, "corpus.txt");
  const resultsDir = path.join(cache, "results");
  fs.mkdirSync(resultsDir, { recursive: true });
  return {
    models,
    corpus,
    evalSet,
    images,
    full: images === evalSet.annotations.length,
    conceptDir: path.join(modelsDir, SHARED, "concepts"),
    conceptImages: Number.isFinite(conceptImages) ? conceptImages : undefined,
    resultsDir,
    bankDir,
    async open(model, bankCorpus = corpus, variant) {
      const entry = models.find((m) => m.name === model);
      if (!entry) throw new RangeError(`fixture grid: no model "${model}"; it has ${models.map((m) => m.name).join(", ")}`);
      const bundle = await openBundle(entry.dir);
      try {
        return { bundle, bank: (await ensureBank(bundle, bankCorpus, bankDir(model, variant))).bank };
      } catch (error) {
        await bundle.close();
        throw error;
      }
    },
  };
}

function imagesFromEnv(variable: string, available: number): number {
  const text = process.env[variable];
  if (text === undefined || text === "" || text === "all") return available;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${variable} must be a positive integer or "all", got ${JSON.stringify(text)}`);
  return Math.min(n, available);
}
