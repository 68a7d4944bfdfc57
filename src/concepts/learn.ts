/**
 * A grounded concept dictionary for one target word: fit the dictionary on the samples'
 * representations (dictionary/), ground every concept in words and images (grounding.ts) and score
 * the words' overlap (overlap.ts). What the CLI's `vislens concepts` prints and a notebook shows.
 */
import { describeValue } from "../errors";
import type { Bundle } from "../model/bundle";
import { DEFAULT_K } from "./dictionary/matrix";
import { fitDictionary, type Dictionary, type DictionaryMethodName } from "./dictionary";
import { DEFAULT_TOP_IMAGES, textGrounding, visualGrounding, type GroundingImage } from "./grounding";
import { conceptOverlap, type Overlap } from "./overlap";
import type { ConceptLayer, ConceptSample, ConceptSamples } from "./samples";

export interface LearnConceptsOptions {
  /** Default "snmf" (the paper's semi-NMF). */
  method?: DictionaryMethodName;
  /** Number of concepts K (default 20). */
  k?: number;
  /** L1 penalty λ of semi-NMF (default 1). */
  lambda?: number;
  /** Seed of the dictionary's random choices (default 0). */
  seed?: number;
  /** Most outer iterations of the fit (method defaults). */
  maxIter?: number;
  /** Grounding words kept per concept (default 10) among its top tokens (default 50). */
  words?: number;
  topTokens?: number;
  /** Grounding images per concept (default 5). */
  images?: number;
}

export interface Concept {
  /** 0..K-1. */
  index: number;
  /** Grounding words, best first. */
  words: string[];
  /** The samples with the largest activation, largest first. */
  images: GroundingImage[];
}

export interface ConceptDictionary {
  token: string;
  layer: ConceptLayer;
  method: DictionaryMethodName;
  /** The bundle the samples came from. */
  fingerprint: string;
  dictionary: Dictionary;
  samples: ConceptSample[];
  concepts: Concept[];
  overlap: Overlap;
}

/** Fits, grounds and scores a dictionary of K concepts on `samples` (from `conceptSamples`). */
export async function learnConcepts(bundle: Bundle, samples: ConceptSamples, options: LearnConceptsOptions = {}): Promise<ConceptDictionary> {
  if (samples.fingerprint !== bundle.fingerprint) throw new RangeError(`learnConcepts: the samples come from another model (fingerprint ${samples.fingerprint.slice(0, 12)}…, this bundle ${bundle.fingerprint.slice(0, 12)}…)`);
  const method = options.method ?? "snmf";
  const k = options.k ?? DEFAULT_K;
  if (Number.isInteger(k) && k > samples.z.rows) {
    throw new RangeError(`concepts: only ${samples.z.rows} samples of ${describeValue(samples.token)} for k = ${k} concepts; lower k (at most ${samples.z.rows}) or add images`);
  }
  const dictionary = fitDictionary(samples.z, method, {
    k,
    ...(options.lambda !== undefined ? { lambda: options.lambda } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.maxIter !== undefined ? { maxIter: options.maxIter } : {}),
  });
  const words = await textGrounding(bundle, dictionary.atoms, samples.layer, { words: options.words, topTokens: options.topTokens });
  const images = visualGrounding(dictionary, samples.samples, options.images ?? DEFAULT_TOP_IMAGES);
  return {
    token: samples.token,
    layer: samples.layer,
    method,
    fingerprint: samples.fingerprint,
    dictionary,
    samples: samples.samples,
    concepts: words.map((w, index) => ({ index, words: w, images: images[index] })),
    overlap: conceptOverlap(words),
  };
}
