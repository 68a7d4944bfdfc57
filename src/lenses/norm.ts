import type { FinalNorm } from "../model/manifest";

/**
 * The LLM's final normalisation, applied to one vector in float64 then rounded to float32, as the
 * models compute it in float32 (RMSNorm: x / sqrt(mean(x²) + eps) * w; LayerNorm: (x - mean) /
 * sqrt(var + eps) * w + b).
 */
export function applyFinalNorm(spec: FinalNorm, weight: Float32Array, bias: Float32Array | undefined, x: Float32Array, out = new Float32Array(x.length)): Float32Array {
  const D = x.length;
  let mean = 0;
  if (spec.type === "layernorm") {
    for (let i = 0; i < D; i++) mean += x[i];
    mean /= D;
  }
  let sq = 0;
  for (let i = 0; i < D; i++) sq += (x[i] - mean) ** 2;
  const inv = 1 / Math.sqrt(sq / D + spec.eps);
  for (let i = 0; i < D; i++) out[i] = (x[i] - mean) * inv * weight[i] + (bias ? bias[i] : 0);
  return out;
}
