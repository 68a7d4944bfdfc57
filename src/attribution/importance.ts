import type { Bundle } from "../model/bundle";
import { unembed } from "../model/runtime-graphs";
import { applyFrozenNorm, type FrozenNorm } from "./frozen-norm";

/**
 * Imp(c | x) = log softmax φ(x + c)[ŷ] − log softmax φ(x)[ŷ]: how much adding component c to the
 * residual x raises the log-probability of the answer ŷ, read through the frozen final norm φ.
 * All vectors of one call go through a single batched unembedding (graphs/unembed.onnx), never a
 * loop over the vocabulary in JavaScript.
 */

/** log p(ŷ) under φ for each row of `vectors` (`[n, D]`): `[n]`. */
export async function answerLogProbs(bundle: Bundle, norm: FrozenNorm, vectors: Float32Array, target: number): Promise<Float64Array> {
  const D = bundle.manifest.llm.hidden_size;
  const stats = await unembed(applyFrozenNorm(norm, vectors), bundle.weights.unembedding, D, { ...bundle.session, targets: target });
  return Float64Array.from(stats.targetLogit, (t, i) => t - stats.lse[i]);
}

/**
 * Imp(c_i | x_i) for pairs of residuals and components: `bases` `[m, D]`, `components` `[n, D]`,
 * and `baseOf[i]` the row of `bases` that component i is added to. Returns `[n]`.
 */
export async function importance(
  bundle: Bundle,
  norm: FrozenNorm,
  bases: Float32Array,
  components: Float32Array,
  baseOf: ArrayLike<number>,
  target: number,
): Promise<Float64Array> {
  const D = bundle.manifest.llm.hidden_size;
  const m = bases.length / D;
  const n = components.length / D;
  if (baseOf.length !== n) throw new RangeError(`importance: ${n} components but ${baseOf.length} base indices`);
  const rows = new Float32Array((m + n) * D);
  rows.set(bases);
  for (let i = 0; i < n; i++) {
    const b = baseOf[i];
    if (!Number.isInteger(b) || b < 0 || b >= m) throw new RangeError(`importance: base index ${b} of component ${i} is outside 0..${m - 1}`);
    for (let d = 0; d < D; d++) rows[(m + i) * D + d] = bases[b * D + d] + components[i * D + d];
  }
  const logp = await answerLogProbs(bundle, norm, rows, target);
  return Float64Array.from({ length: n }, (_, i) => logp[m + i] - logp[baseOf[i]]);
}

/** The top-k tokens of φ(v) for each row of `vectors` (`[n, D]`): ids and logits, best first. */
export async function decodeThroughNorm(bundle: Bundle, norm: FrozenNorm, vectors: Float32Array, k: number): Promise<{ ids: Int32Array; logits: Float32Array; k: number }> {
  const D = bundle.manifest.llm.hidden_size;
  const kk = Math.min(k, bundle.manifest.llm.vocab_size);
  const stats = await unembed(applyFrozenNorm(norm, vectors), bundle.weights.unembedding, D, { ...bundle.session, k: kk });
  return { ids: stats.topIds, logits: stats.topLogits, k: kk };
}
