import type { AttributionPass } from "../model/attribution-pass";
import type { Bundle } from "../model/bundle";
import type { Tensor } from "../model/tensor";
import type { FrozenNorm } from "./frozen-norm";
import { importance } from "./importance";
import type { HeadScore, LayerScore } from "./types";

/**
 * Head scores and layer scores at T, in one batched unembedding:
 * - head (l, h): Imp(o_{l,h} | x^l), x^l = hidden[l][T] the residual entering block l;
 * - attention of block l: Imp(attention output | x^l);
 * - FFN of block l: Imp(FFN output | x^l + attention output), the residual the FFN reads.
 */
export async function componentScores(
  bundle: Bundle,
  pass: AttributionPass,
  outputs: Tensor,
  norm: FrozenNorm,
  target: number,
): Promise<{ headScores: Float64Array; layerScores: LayerScore[]; rankedHeads: HeadScore[] }> {
  const [N, H, D] = outputs.shape;
  const S = pass.hidden.shape[1];
  const T = pass.position;
  // Bases: x^l for every block, then x^l + attention output (the FFN's input residual).
  const bases = new Float32Array(2 * N * D);
  for (let l = 0; l < N; l++) {
    const x = pass.hidden.data.subarray((l * S + T) * D, (l * S + T + 1) * D);
    bases.set(x, l * D);
    for (let d = 0; d < D; d++) bases[(N + l) * D + d] = x[d] + pass.attentionOutput.data[l * D + d];
  }
  const components = new Float32Array((N * H + 2 * N) * D);
  const baseOf = new Int32Array(N * H + 2 * N);
  components.set(outputs.data);
  for (let l = 0; l < N; l++) {
    for (let h = 0; h < H; h++) baseOf[l * H + h] = l;
    components.set(pass.attentionOutput.data.subarray(l * D, (l + 1) * D), (N * H + l) * D);
    baseOf[N * H + l] = l;
    components.set(pass.ffnOutput.data.subarray(l * D, (l + 1) * D), (N * H + N + l) * D);
    baseOf[N * H + N + l] = N + l;
  }
  const imp = await importance(bundle, norm, bases, components, baseOf, target);
  const headScores = imp.slice(0, N * H);
  const layerScores = Array.from({ length: N }, (_, l) => ({ layer: l, attention: imp[N * H + l], ffn: imp[N * H + N + l] }));
  const rankedHeads = Array.from(headScores, (score, i) => ({ layer: Math.floor(i / H), head: i % H, score })).sort(
    (a, b) => b.score - a.score || a.layer - b.layer || a.head - b.head,
  );
  return { headScores, layerScores, rankedHeads };
}
