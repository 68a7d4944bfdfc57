import type { Bundle } from "./bundle";
import type { Tensor } from "./tensor";

/**
 * The LLM input of one sequence, `[S, D]` row-major: each id's input-embedding row (times
 * `llm.embedding_scale` when the manifest has one), with the visual tokens (`[T, D]`, in visual-token order) spliced in at `visualPositions`.
 */
export function embedTokens(bundle: Bundle, ids: readonly number[], visual?: Tensor, visualPositions: readonly number[] = []): Float32Array {
  const D = bundle.manifest.llm.hidden_size;
  const V = bundle.manifest.llm.vocab_size;
  const scale = bundle.manifest.llm.embedding_scale ?? 1;
  const out = new Float32Array(ids.length * D);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`token id ${id} at position ${i} is outside the vocabulary (0..${V - 1})`);
    const row = bundle.weights.embedding.subarray(id * D, (id + 1) * D);
    if (scale === 1) out.set(row, i * D);
    // float32 x float32, rounded once to float32 on store: the product the HF embedding layer computes.
    else for (let d = 0; d < D; d++) out[i * D + d] = row[d] * scale;
  });
  if (visualPositions.length && (!visual || visual.shape[0] !== visualPositions.length)) {
    throw new RangeError(`embedTokens: ${visualPositions.length} visual positions but ${visual ? visual.shape[0] : "no"} visual tokens`);
  }
  visualPositions.forEach((p, t) => out.set(visual!.data.subarray(t * D, (t + 1) * D), p * D));
  return out;
}
