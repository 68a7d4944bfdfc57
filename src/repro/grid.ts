/**
 * What every shipped model grid has in common (the shapes grid of `fixtureGrid`, the open-vocabulary
 * world's of `worldGrid`): which bundles in `models/` belong to it, where their banks and results are
 * cached, how many held-out images an evaluation uses, and opening a model with its bank.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { ensureBank } from "../bank/ensure";
import type { Bank } from "../bank/open";
import { ArtifactError } from "../errors";
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

/** One model of a grid. */
export interface GridModel {
  name: string;
  dir: string;
}

/** The parts of a grid that do not depend on its world. */
export interface GridBase {
  /** The shared model first (single-model examples use it), then the others by name. */
  models: GridModel[];
  /** Where results (CSV, figures) go: <cache>/results/ (created when the grid is made). */
  resultsDir: string;
  /** A model's bank directory in the cache; `variant` names a non-default bank (e.g. "corpus-1pct"). */
  bankDir(model: string, variant?: string): string;
  /** Opens a model's bundle and its bank (built once into the cache from `corpus`). */
  open(model: string, corpus: string, variant?: string): Promise<{ bundle: Bundle; bank: Bank }>;
}

/**
 * The bundles of `modelsDir` whose names start with `family` ("shapes-", "objects-"), `shared` first:
 * the model whose folder holds the grid's corpus and held-out set.
 */
export function gridBase(modelsDir: string, family: string, shared: string, what: string): GridBase {
  const names = fs.existsSync(modelsDir)
    ? fs.readdirSync(modelsDir).filter((n) => n.startsWith(family) && fs.existsSync(path.join(modelsDir, n, "manifest.json"))).sort()
    : [];
  if (!names.includes(shared)) throw new ArtifactError(modelsDir, `the ${what} needs ${shared}/ with its bundle (it holds the shared corpus and held-out set)`);
  const models = [shared, ...names.filter((n) => n !== shared)].map((name) => ({ name, dir: path.join(modelsDir, name) }));
  const cache = cacheDir();
  const bankDir = (model: string, variant?: string) => path.join(cache, "banks", variant ? path.join(variant, model) : model);
  const resultsDir = path.join(cache, "results");
  fs.mkdirSync(resultsDir, { recursive: true });
  return {
    models,
    resultsDir,
    bankDir,
    async open(model, corpus, variant) {
      const entry = models.find((m) => m.name === model);
      if (!entry) throw new RangeError(`${what}: no model "${model}"; it has ${models.map((m) => m.name).join(", ")}`);
      const bundle = await openBundle(entry.dir);
      try {
        return { bundle, bank: (await ensureBank(bundle, corpus, bankDir(model, variant))).bank };
      } catch (error) {
        await bundle.close();
        throw error;
      }
    },
  };
}

/** A count (of images, sentences, ...) from an environment variable: a positive integer (capped at `available`), "all" or unset = all. */
export function countFromEnv(variable: string, available: number): number {
  const text = process.env[variable];
  if (text === undefined || text === "" || text === "all") return available;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${variable} must be a positive integer or "all", got ${JSON.stringify(text)}`);
  return Math.min(n, available);
}
