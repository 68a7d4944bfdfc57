import type { FinalNorm } from "./manifest";

/**
 * The LLM's final normalisation, applied to one vector in float64 then rounded to float32, as the
 * models compute it in float32 (RMSNorm: x / sqrt(mean(x²) + eps) * w; LayerNorm: (x - mean) /
 * sqrt(var + eps) * w + b).
 */
export function applyFinalNorm(spec: FinalNorm, weight: Float32Array, bias: Float32Array | undefined, x: Float32Array, out = new Float32Array(x.length)): Float32Array {
  const D = x.length;
  const { mean, scale: inv } = normStatistics(spec, x);
  for (let i = 0; i < D; i++) out[i] = (x[i] - mean) * inv * weight[i] + (bias ? bias[i] : 0);
  return out;
}

/**
 * The norm's statistics of one vector, in float64: the mean it subtracts (0 for RMSNorm) and the
 * scale 1 / sqrt(σ² + eps) it multiplies by (σ² = mean(x²) for RMSNorm, the variance for LayerNorm).
 */
export function normStatistics(spec: FinalNorm, x: ArrayLike<number>): { mean: number; scale: number } {
  const D = x.length;
  let mean = 0;
  if (spec.type === "layernorm") {
    for (let i = 0; i < D; i++) mean += x[i];
    mean /= D;
  }
  let sq = 0;
  for (let i = 0; i < D; i++) sq += (x[i] - mean) ** 2;
  return { mean, scale: 1 / Math.sqrt(sq / D + spec.eps) };
}
