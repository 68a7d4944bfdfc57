import type { BundleWeights } from "../model/bundle";
import { normStatistics } from "../model/norm";
import type { FinalNorm } from "../model/manifest";

/**
 * The final norm frozen at the attributed position T (Yu & Ananiadou 2024): the normalising
 * statistics are taken once from the pre-norm final state x_T^N and reused for every vector, so
 * that φ(v) = W_U (g ⊙ v / sqrt(σ² + ε)) is linear and a component's effect on the answer can be
 * read on its own. RMSNorm: σ² = mean(x_T²). LayerNorm: σ² = var(x_T), each vector is centred on
 * its own mean (centring is linear), and the bias is added once. ε comes from the manifest.
 */
export interface FrozenNorm {
  type: FinalNorm["type"];
  /** 1 / sqrt(σ² + ε) of the final state at T. */
  scale: number;
  weight: Float32Array;
  bias?: Float32Array;
}

export function freezeFinalNorm(spec: FinalNorm, weights: BundleWeights, finalState: Float32Array): FrozenNorm {
  const D = finalState.length;
  if (weights.finalNormWeight.length !== D) throw new RangeError(`freezeFinalNorm: the final state has ${D} values, the norm weight ${weights.finalNormWeight.length}`);
  return {
    type: spec.type,
    scale: normStatistics(spec, finalState).scale,
    weight: weights.finalNormWeight,
    ...(spec.type === "layernorm" && weights.finalNormBias ? { bias: weights.finalNormBias } : {}),
  };
}

/** The frozen norm applied to every row of `vectors` (`[n, D]`); a new `[n, D]` array. */
export function applyFrozenNorm(norm: FrozenNorm, vectors: Float32Array): Float32Array {
  const D = norm.weight.length;
  if (vectors.length % D !== 0) throw new RangeError(`applyFrozenNorm: ${vectors.length} values are not rows of width ${D}`);
  const out = new Float32Array(vectors.length);
  for (let r = 0; r < vectors.length; r += D) {
    let mean = 0;
    if (norm.type === "layernorm") {
      for (let i = 0; i < D; i++) mean += vectors[r + i];
      mean /= D;
    }
    for (let i = 0; i < D; i++) out[r + i] = (vectors[r + i] - mean) * norm.scale * norm.weight[i] + (norm.bias ? norm.bias[i] : 0);
  }
  return out;
}
