import type { BundleWeights } from "../model/bundle";
import type { FinalNorm } from "../model/manifest";
import { applyFinalNorm } from "../model/norm";
import { unembed } from "../model/runtime-graphs";
import type { SessionOptions } from "../model/session";
import type { TextTokenizer } from "../model/tokenizer";
import { checkQueries, type Lens, type Neighbour } from "./types";

/**
 * LogitLens: read a hidden state as if it were the last layer's: final norm, then the unembedding;
 * the top-k tokens by logit, with their softmax probability over the whole vocabulary. All queries
 * go through one batched unembedding (graphs/unembed.onnx: a GEMM against the unembedding fused
 * with the log-sum-exp and a top-k in onnxruntime), never a loop over vocabulary × width in
 * JavaScript.
 */
export function logitLens(weights: BundleWeights, finalNorm: FinalNorm, tokenizer: TextTokenizer, vocabSize: number, session: SessionOptions = {}): Lens {
  const D = weights.finalNormWeight.length;
  const V = vocabSize;
  if (weights.unembedding.length !== V * D) throw new RangeError(`LogitLens: the unembedding has ${weights.unembedding.length} values, expected ${V} x ${D}`);
  return {
    name: "logit",
    dim: D,
    async interpret(queries, k) {
      const Q = checkQueries("LogitLens", queries, D);
      if (!Number.isInteger(k) || k < 1) throw new RangeError(`LogitLens: k must be a positive integer, got ${k}`);
      if (Q === 0) return [];
      const kk = Math.min(k, V);
      const normed = new Float32Array(Q * D);
      for (let q = 0; q < Q; q++) applyFinalNorm(finalNorm, weights.finalNormWeight, weights.finalNormBias, queries.subarray(q * D, (q + 1) * D), normed.subarray(q * D, (q + 1) * D));
      const stats = await unembed(normed, weights.unembedding, D, { ...session, k: kk });
      return Array.from({ length: Q }, (_, q): Neighbour[] =>
        Array.from({ length: kk }, (_, i) => {
          const id = stats.topIds[q * kk + i];
          const logit = stats.topLogits[q * kk + i];
          const token = tokenizer.display(id);
          return { rank: i + 1, tokenId: id, token, word: token, logit, probability: Math.exp(logit - stats.lse[q]) };
        }),
      );
    },
  };
}
