import type { AttributionPass } from "../model/attribution-pass";
import type { Bundle } from "../model/bundle";
import { headWritesMany, type OutputProjections } from "../model/heads";
import type { FrozenNorm } from "./frozen-norm";
import { importance } from "./importance";
import type { HeadPositions, HeadRef } from "./types";

/**
 * Position scores of the given heads: for head (l, h) and every position j,
 * Imp(a_{T,j} W_O^h v_j | x^l_T), and the same read at the visual tokens in patch order. All the
 * heads' writes go through one batched unembedding.
 */
export async function headPositionScores(
  bundle: Bundle,
  pass: AttributionPass,
  proj: OutputProjections,
  norm: FrozenNorm,
  heads: readonly (HeadRef & { score: number })[],
  visualPositions: readonly number[],
  target: number,
): Promise<HeadPositions[]> {
  const [N, H, S] = pass.attention.shape;
  const D = proj.dim;
  const T = pass.position;
  const bases = new Float32Array(N * D);
  for (let l = 0; l < N; l++) bases.set(pass.hidden.data.subarray((l * S + T) * D, (l * S + T + 1) * D), l * D);
  const components = new Float32Array(heads.length * S * D);
  const baseOf = new Int32Array(heads.length * S);
  const writes = await headWritesMany(pass, proj, heads);
  for (let i = 0; i < heads.length; i++) {
    components.set(writes[i].data, i * S * D);
    baseOf.fill(heads[i].layer, i * S, (i + 1) * S);
  }
  const imp = await importance(bundle, norm, bases, components, baseOf, target);
  return heads.map(({ layer, head, score }, i) => {
    const scores = imp.slice(i * S, (i + 1) * S);
    const row = (layer * H + head) * S;
    return {
      layer,
      head,
      headScore: score,
      scores,
      patches: Float64Array.from(visualPositions, (p) => scores[p]),
      attention: Float64Array.from(visualPositions, (p) => pass.attention.data[row + p]),
    };
  });
}

/** `[P]`: T's attention to each visual token, averaged over every layer and head (the baseline map). */
export function meanAttentionMap(pass: AttributionPass, visualPositions: readonly number[]): Float64Array {
  const [N, H, S] = pass.attention.shape;
  const out = new Float64Array(visualPositions.length);
  for (let lh = 0; lh < N * H; lh++) visualPositions.forEach((p, i) => (out[i] += pass.attention.data[lh * S + p]));
  for (let i = 0; i < out.length; i++) out[i] /= N * H;
  return out;
}
