import type { Bundle } from "../model/bundle";
import { imageHiddenStates, runTextBatch } from "../model/hidden";
import { buildTextPrompt } from "../model/prompt";
import type { Tensor } from "../model/tensor";

/**
 * How far tokens move through the LLM's layers (the LatentLens paper's explanation of the mid-layer
 * leap): per layer, the mean cosine between a token's hidden state and its own layer-0 state, and
 * the mean L2 norm. The paper finds visual tokens stay close to where they entered (cosine ~0.8-0.99
 * for many layers) with much larger norms, while text tokens drift away (~0.2).
 */
export interface LayerDriftRow {
  layer: number;
  /** Mean over tokens of cos(h_layer, h_0). */
  cosine: number;
  /** Mean over tokens of ||h_layer||. */
  norm: number;
  tokens: number;
}

/** Drift of every token of some `[L + 1, T, D]` hidden-state tensors (all with the same L and D). */
export function layerDrift(states: readonly Tensor[]): LayerDriftRow[] {
  if (states.length === 0) throw new RangeError("layerDrift: no hidden states");
  const [L1, , D] = states[0].shape;
  const cos = new Float64Array(L1);
  const norm = new Float64Array(L1);
  let tokens = 0;
  for (const t of states) {
    const [l1, T, d] = t.shape;
    if (l1 !== L1 || d !== D) throw new RangeError(`layerDrift: shapes [${t.shape}] and [${states[0].shape}] disagree`);
    for (let i = 0; i < T; i++) {
      const base = t.data.subarray(i * D, (i + 1) * D);
      const baseNorm = Math.hypot(...base);
      for (let l = 0; l < L1; l++) {
        const h = t.data.subarray((l * T + i) * D, (l * T + i + 1) * D);
        let dot = 0;
        let sq = 0;
        for (let j = 0; j < D; j++) {
          dot += h[j] * base[j];
          sq += h[j] * h[j];
        }
        const n = Math.sqrt(sq);
        cos[l] += n > 0 && baseNorm > 0 ? dot / (n * baseNorm) : 0;
        norm[l] += n;
      }
    }
    tokens += T;
  }
  if (tokens === 0) throw new RangeError("layerDrift: the hidden states hold no tokens");
  return Array.from({ length: L1 }, (_, layer) => ({ layer, cosine: cos[layer] / tokens, norm: norm[layer] / tokens, tokens }));
}

/** layerDrift of the visual tokens of some images. */
export async function visualTokenDrift(bundle: Bundle, images: readonly string[]): Promise<LayerDriftRow[]> {
  const states: Tensor[] = [];
  for (const image of images) states.push((await imageHiddenStates(bundle, image)).visual);
  return layerDrift(states);
}

/**
 * layerDrift of the text tokens of some sentences, run as the bank builder runs them. The BOS token
 * is left out: it is an attention sink whose state behaves like no word's.
 */
export async function textTokenDrift(bundle: Bundle, sentences: readonly string[], batchSize = 32): Promise<LayerDriftRow[]> {
  const skip = bundle.manifest.prompt.add_bos ? 1 : 0;
  const states: Tensor[] = [];
  for (let i = 0; i < sentences.length; i += batchSize) {
    const ids = sentences.slice(i, i + batchSize).map((s) => buildTextPrompt(bundle.manifest, bundle.tokenizer, s));
    for (const h of (await runTextBatch(bundle, ids)).hidden) {
      const [L1, S, D] = h.shape;
      if (S <= skip) continue;
      const out = new Float32Array(L1 * (S - skip) * D);
      for (let l = 0; l < L1; l++) out.set(h.data.subarray((l * S + skip) * D, (l + 1) * S * D), l * (S - skip) * D);
      states.push({ shape: [L1, S - skip, D], data: out });
    }
  }
  return layerDrift(states);
}
