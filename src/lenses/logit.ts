import type { BundleWeights } from "../model/bundle";
import type { FinalNorm } from "../model/manifest";
import type { TextTokenizer } from "../model/tokenizer";
import { applyFinalNorm } from "../model/norm";
import { checkQueries, type Lens, type Neighbour } from "./types";

/**
 * LogitLens: read a hidden state as if it were the last layer's: final norm, then the unembedding;
 * the top-k tokens by logit, with their softmax probability over the whole vocabulary.
 */
export function logitLens(weights: BundleWeights, finalNorm: FinalNorm, tokenizer: TextTokenizer, vocabSize: number): Lens {
  const D = weights.finalNormWeight.length;
  const V = vocabSize;
  return {
    name: "logit",
    dim: D,
    async interpret(queries, k) {
      const Q = checkQueries("LogitLens", queries, D);
      if (!Number.isInteger(k) || k < 1) throw new RangeError(`LogitLens: k must be a positive integer, got ${k}`);
      const kk = Math.min(k, V);
      const normed = new Float32Array(D);
      const logits = new Float64Array(V);
      const results: Neighbour[][] = [];
      for (let q = 0; q < Q; q++) {
        applyFinalNorm(finalNorm, weights.finalNormWeight, weights.finalNormBias, queries.subarray(q * D, (q + 1) * D), normed);
        let max = -Infinity;
        for (let v = 0; v < V; v++) {
          let s = 0;
          const row = v * D;
          for (let d = 0; d < D; d++) s += weights.unembedding[row + d] * normed[d];
          logits[v] = s;
          if (s > max) max = s;
        }
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(logits[v] - max);
        const top = topIndices(logits, kk);
        results.push(
          top.map((id, i) => {
            const token = tokenizer.display(id);
            return { rank: i + 1, tokenId: id, token, word: token, logit: logits[id], probability: Math.exp(logits[id] - max) / z };
          }),
        );
      }
      return results;
    },
  };
}

/** Indices of the k largest values, largest first, ties by lower index. */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (idx.length === k && !(v > values[idx[k - 1]])) continue;
    let j = idx.length === k ? k - 1 : idx.length;
    while (j > 0 && v > values[idx[j - 1]]) j--;
    idx.splice(j, 0, i);
    if (idx.length > k) idx.pop();
  }
  return idx;
}
