/**
 * Grounding a concept (Parekh et al. 2024, step 5).
 *
 * Text: decode the atom u_k through the unembedding and keep the words among its top tokens
 * (words.ts). Where the representation is pre-norm (any layer 0..N), the final norm is applied to
 * the atom first, as the model does before its unembedding (LogitLens); for "final-norm"
 * representations the atom already lives after the norm and goes straight to the unembedding. The
 * reference decodes every atom without the norm, which is right only for final-norm features.
 *
 * Visual: the samples with the largest activation of concept k (5 by default).
 */
import type { Bundle } from "../model/bundle";
import { unembed } from "../model/runtime-graphs";
import { applyFinalNorm } from "../model/norm";
import { describeValue } from "../errors";
import type { Dictionary, Matrix } from "./dictionary";
import type { ConceptLayer, ConceptSample } from "./samples";
import { wordsFromTokens } from "./words";

/** The reference's number of decoded tokens per atom, and its number of words kept. */
export const DEFAULT_TOP_TOKENS = 50;
export const DEFAULT_WORDS = 10;
export const DEFAULT_TOP_IMAGES = 5;

/**
 * Top-`k` token ids `[n, k]` of directions `vectors` `[n, D]` in the space of `layer`: final norm
 * first for layers 0..N, none for "final-norm"; then one batched GEMM with the unembedding.
 */
export async function decodeDirections(bundle: Bundle, vectors: Matrix, layer: ConceptLayer, k = DEFAULT_TOP_TOKENS): Promise<{ ids: Int32Array; k: number }> {
  const D = bundle.manifest.llm.hidden_size;
  if (vectors.cols !== D) throw new RangeError(`decodeDirections: vectors have ${vectors.cols} columns, the model's width is ${D}`);
  const kk = Math.min(k, bundle.manifest.llm.vocab_size);
  const x = Float32Array.from(vectors.data);
  if (layer !== "final-norm") {
    const { final_norm } = bundle.manifest.llm;
    for (let i = 0; i < vectors.rows; i++) {
      const row = x.subarray(i * D, (i + 1) * D);
      applyFinalNorm(final_norm, bundle.weights.finalNormWeight, bundle.weights.finalNormBias, Float32Array.from(row), row);
    }
  }
  const stats = await unembed(x, bundle.weights.unembedding, D, { ...bundle.session, k: kk });
  return { ids: stats.topIds, k: kk };
}

/** Per direction, its first `words` grounding words (see words.ts) among its top `topTokens` tokens. */
export async function textGrounding(bundle: Bundle, vectors: Matrix, layer: ConceptLayer, options: { words?: number; topTokens?: number } = {}): Promise<string[][]> {
  const words = options.words ?? DEFAULT_WORDS;
  const { ids, k } = await decodeDirections(bundle, vectors, layer, options.topTokens ?? DEFAULT_TOP_TOKENS);
  const cache = new Map<number, string | null>();
  return Array.from({ length: vectors.rows }, (_, i) => wordsFromTokens(bundle.tokenizer, ids.subarray(i * k, (i + 1) * k), words, cache));
}

export interface GroundingImage {
  /** The image file. */
  file: string;
  /** Index into the dictionary's samples. */
  sample: number;
  /** The concept's activation for that sample. */
  activation: number;
}

/** Per concept, the `n` samples with its largest activation (largest first; ties: earlier sample). */
export function visualGrounding(dictionary: Dictionary, samples: readonly ConceptSample[], n = DEFAULT_TOP_IMAGES): GroundingImage[][] {
  const { rows, cols, data } = dictionary.codes;
  if (rows !== samples.length) throw new RangeError(`visualGrounding: the dictionary has codes for ${rows} samples, ${samples.length} samples given`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`visualGrounding: n must be a positive integer, got ${describeValue(n)}`);
  return Array.from({ length: cols }, (_, k) => {
    const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => data[b * cols + k] - data[a * cols + k] || a - b);
    return order.slice(0, n).map((i) => ({ file: samples[i].image.file, sample: i, activation: data[i * cols + k] }));
  });
}
