import type { AttributionPass } from "../model/attribution-pass";
import type { Bundle } from "../model/bundle";
import { headWrites, type OutputProjections } from "../model/heads";
import type { FrozenNorm } from "./frozen-norm";
import { decodeThroughNorm } from "./importance";
import type { DecodedPosition, HeadPositions } from "./types";

/**
 * The top positions of one head (by position score), each decoded through the frozen final norm
 * to words: the residual stream entering the head's block at that position, and the head's write
 * from it into T (the paper's "what does the top patch say": dog / brown / fur).
 */
export async function decodeTopPositions(
  bundle: Bundle,
  pass: AttributionPass,
  proj: OutputProjections,
  norm: FrozenNorm,
  head: HeadPositions,
  labels: readonly string[],
  patchOf: ReadonlyMap<number, number>,
  count: number,
  words: number,
): Promise<DecodedPosition[]> {
  const S = pass.hidden.shape[1];
  const D = proj.dim;
  const order = Array.from(head.scores.keys()).sort((a, b) => head.scores[b] - head.scores[a] || a - b).slice(0, count);
  if (order.length === 0) return [];
  const writes = await headWrites(pass, proj, head.layer, head.head);
  const vectors = new Float32Array(2 * order.length * D);
  order.forEach((j, i) => {
    vectors.set(pass.hidden.data.subarray((head.layer * S + j) * D, (head.layer * S + j + 1) * D), i * D);
    vectors.set(writes.data.subarray(j * D, (j + 1) * D), (order.length + i) * D);
  });
  const decoded = await decodeThroughNorm(bundle, norm, vectors, words);
  const wordsOf = (row: number) => Array.from(decoded.ids.subarray(row * decoded.k, (row + 1) * decoded.k), (id) => bundle.tokenizer.display(id));
  return order.map((j, i) => ({
    position: j,
    patch: patchOf.get(j) ?? null,
    label: labels[j],
    score: head.scores[j],
    residualWords: wordsOf(i),
    writeWords: wordsOf(order.length + i),
  }));
}
