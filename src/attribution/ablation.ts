import type { Bundle } from "../model/bundle";
import { attributionLogits, headMask } from "../model/attribution-pass";
import { embedTokens } from "../model/embed";
import type { Tensor } from "../model/tensor";
import type { HeadScore } from "./types";

/** What replaces an ablated visual token's input embedding. */
export const ABLATION_BASELINES = ["mean", "zero"] as const;
export type AblationBaseline = (typeof ABLATION_BASELINES)[number];

export function isAblationBaseline(value: unknown): value is AblationBaseline {
  return (ABLATION_BASELINES as readonly unknown[]).includes(value);
}

function logSoftmaxAt(logits: Float32Array, offset: number, V: number, id: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[offset + v] > max) max = logits[offset + v];
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[offset + v] - max);
  return logits[offset + id] - max - Math.log(z);
}

/**
 * The causal check, by ablation. Each visual token in turn has its LLM input embedding replaced
 * by the baseline ("mean": the mean of the image's visual tokens, which keeps the input in
 * distribution; "zero": zeros); each listed head in turn is silenced (its output zeroed at every
 * position before the output projection). Returns the drop in log p(ŷ) at T for each, through
 * the model's real final norm: positive means the patch or head supported ŷ.
 */
export async function ablate(
  bundle: Bundle,
  ids: readonly number[],
  image: { tokens: Tensor; positions: readonly number[] },
  patchPositions: readonly number[],
  target: number,
  heads: readonly HeadScore[],
  baseline: AblationBaseline,
  batchSize = 16,
): Promise<{ logProb: number; patchDrops: Float64Array; headDrops: Float64Array }> {
  if (!isAblationBaseline(baseline)) throw new RangeError(`ablation baseline must be one of ${ABLATION_BASELINES.join(", ")}, got ${JSON.stringify(baseline)}`);
  const D = bundle.manifest.llm.hidden_size;
  const V = bundle.manifest.llm.vocab_size;
  const P = patchPositions.length;
  // `image`: every visual token the sequence holds, spliced in; the patches ablated are those at
  // `patchPositions` (the same tokens for a plain bundle; a tiled image's base tile and newlines stay).
  const clean = embedTokens(bundle, ids, image.tokens, image.positions);
  const fill = new Float32Array(D);
  if (baseline === "mean") {
    for (const p of patchPositions) for (let d = 0; d < D; d++) fill[d] += clean[p * D + d] / P;
  }
  const keepAll = headMask(bundle);
  const embeds: Float32Array[] = [clean];
  const masks: Float32Array[] = [keepAll];
  for (let t = 0; t < P; t++) {
    const e = clean.slice();
    e.set(fill, patchPositions[t] * D);
    embeds.push(e);
    masks.push(keepAll);
  }
  for (const { layer, head } of heads) {
    embeds.push(clean);
    masks.push(headMask(bundle, [[layer, head]]));
  }
  const logits = await attributionLogits(bundle, embeds, masks, image.positions, batchSize);
  const logp = Float64Array.from({ length: embeds.length }, (_, r) => logSoftmaxAt(logits, r * V, V, target));
  return {
    logProb: logp[0],
    patchDrops: Float64Array.from({ length: P }, (_, t) => logp[0] - logp[1 + t]),
    headDrops: Float64Array.from(heads, (_, i) => logp[0] - logp[1 + P + i]),
  };
}
