/**
 * The paper's comparison table (its Table 2 and test-usefulness figure) on any bundle: for each
 * target word and each dictionary method, the overlap of the concepts' grounding words and their
 * test usefulness against random-direction words. Notebook 09 and the README's numbers call this.
 *
 * Per token: samples from `train` (the dictionaries are fitted there) and `test` (held out; only its
 * annotated samples are scored); K = min(k, samples) so a rare word still gets a dictionary (the
 * row records the K used). The random baseline is drawn once per token (K directions, seed `seed`)
 * and shared by all methods.
 */
import type { Bundle } from "../model/bundle";
import { DICTIONARY_METHODS, type DictionaryMethodName } from "./dictionary";
import type { GenerateImagesOptions } from "./generation-cache";
import type { ConceptImage } from "./images";
import { learnConcepts, type ConceptDictionary } from "./learn";
import { conceptSamples, DEFAULT_CONCEPT_LAYER, type ConceptLayer } from "./samples";
import { conceptUsefulness, randomDirectionWords } from "./usefulness";

export interface ConceptComparisonRow {
  token: string;
  method: DictionaryMethodName;
  layer: ConceptLayer;
  /** K used: min(k asked, training samples). */
  k: number;
  /** Training samples (fit) and scored held-out samples. */
  samples: number;
  testSamples: number;
  /** Mean pairwise overlap of grounding words (lower = more disentangled). */
  overlap: number;
  /** Concepts left without any grounding word. */
  emptyConcepts: number;
  /** Test usefulness: share of the top-1 / top-3 concepts' words naming the image's objects, and the random-words baseline (NaN for a word without held-out samples). */
  top1: number;
  top3: number;
  randomTop1: number;
  randomTop3: number;
  /** Fit + grounding time. */
  seconds: number;
}

export interface ConceptComparisonOptions extends GenerateImagesOptions {
  tokens: readonly string[];
  /** Images the dictionaries are fitted on, and held-out images they are tested on. */
  train: readonly ConceptImage[];
  test: readonly ConceptImage[];
  /** Default: all four (simple, pca, kmeans, snmf). */
  methods?: readonly DictionaryMethodName[];
  /** Default 20. */
  k?: number;
  lambda?: number;
  layer?: ConceptLayer;
  /** Seed of the dictionaries and of the random baseline (default 0). */
  seed?: number;
  words?: number;
  topTokens?: number;
  /** Progress messages (one line each). */
  onMessage?: (message: string) => void;
}

/** The table's method order, as the paper prints it. */
export const PAPER_METHOD_ORDER: readonly DictionaryMethodName[] = ["simple", "pca", "kmeans", "snmf"];

export async function conceptComparison(bundle: Bundle, options: ConceptComparisonOptions): Promise<{ rows: ConceptComparisonRow[]; dictionaries: ConceptDictionary[] }> {
  const methods = options.methods ?? PAPER_METHOD_ORDER;
  for (const m of methods) if (!(DICTIONARY_METHODS as readonly string[]).includes(m)) throw new RangeError(`conceptComparison: unknown method ${JSON.stringify(m)}; expected one of ${DICTIONARY_METHODS.join(", ")}`);
  const layer = options.layer ?? DEFAULT_CONCEPT_LAYER;
  const seed = options.seed ?? 0;
  const rows: ConceptComparisonRow[] = [];
  const dictionaries: ConceptDictionary[] = [];
  const say = options.onMessage ?? (() => {});
  for (const token of options.tokens) {
    const train = await conceptSamples(bundle, options.train, token, { ...options, layer });
    // A word with no held-out sample still gets its dictionaries and their overlap; its usefulness is NaN.
    const test = options.test.length > 0 ? await conceptSamples(bundle, options.test, token, { ...options, layer, allowNone: true }) : undefined;
    const testRows = test?.z.rows ?? 0;
    const k = Math.min(options.k ?? 20, train.z.rows);
    const randomWords = testRows > 0 ? await randomDirectionWords(bundle, layer, Math.max(k, 3), seed, { words: options.words, topTokens: options.topTokens }) : [];
    const overlapOnly = testRows === 0 ? ` (overlap only: no caption of the ${options.test.length} held-out images names it where it is drawn)` : "";
    say(`${token}: ${train.z.rows} training samples, ${testRows} held-out samples, K = ${k}${overlapOnly}`);
    for (const method of methods) {
      const start = process.hrtime.bigint();
      const concepts = await learnConcepts(bundle, train, { method, k, lambda: options.lambda, seed, words: options.words, topTokens: options.topTokens });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const use = test && testRows > 0 ? await conceptUsefulness(bundle, concepts, test, { randomWords, seed }) : undefined;
      dictionaries.push(concepts);
      rows.push({
        token: train.token,
        method,
        layer,
        k,
        samples: train.z.rows,
        testSamples: use?.images ?? 0,
        overlap: concepts.overlap.score,
        emptyConcepts: concepts.overlap.emptyConcepts,
        top1: use?.top1 ?? NaN,
        top3: use?.top3 ?? NaN,
        randomTop1: use?.random.top1 ?? NaN,
        randomTop3: use?.random.top3 ?? NaN,
        seconds,
      });
      const scored = use ? `, top-1 ${use.top1.toFixed(3)} (random ${use.random.top1.toFixed(3)}), top-3 ${use.top3.toFixed(3)} (random ${use.random.top3.toFixed(3)})` : "";
      say(`  ${method}: overlap ${concepts.overlap.score.toFixed(3)}${scored}, ${seconds.toFixed(1)} s`);
    }
  }
  return { rows, dictionaries };
}
