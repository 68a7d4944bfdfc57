/**
 * The cross-layer merge of LatentLens search (reference: "for every contextual layer take the top-k
 * by cosine, then merge the C x k candidates and take the global top-k; each neighbour records its
 * contextual layer; no de-duplication across layers").
 *
 * With every per-layer list holding at least k neighbours (or all of that layer's rows), the merge
 * equals the top-k over the union of all layers' rows.
 */
import { describeValue } from "../../errors";
import type { TopKResult } from "./topk";

/** One contextual layer's search result for the same queries. */
export interface LayerTopK {
  /** The contextual layer the rows belong to (recorded on every neighbour). */
  layer: number;
  result: Pick<TopKResult, "queries" | "k" | "indices" | "scores">;
}

export interface MergedTopK {
  /** Number of queries. */
  queries: number;
  /** Neighbours per query: min(k, sum of the layers' k). */
  k: number;
  /** [queries, k] contextual layer of each neighbour; -1 pads. */
  layers: Int32Array;
  /** [queries, k] row index within that layer's rows; -1 pads. */
  indices: Int32Array;
  /** [queries, k] scores, best first; NaN pads. */
  scores: Float32Array;
}

/**
 * Global top-k over per-layer top-k lists. Order: score descending, then lower layer, then lower
 * row index. Padding entries of the inputs (index -1) and NaN scores are skipped; a query with
 * fewer than k real neighbours is padded with layer -1, index -1, score NaN.
 */
export function mergeTopK(perLayer: readonly LayerTopK[], k: number): MergedTopK {
  if (!Array.isArray(perLayer)) throw new TypeError(`perLayerResults must be an array of {layer, result}, got ${describeValue(perLayer)}`);
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer >= 1, got ${describeValue(k)}`);
  if (perLayer.length === 0) throw new RangeError("perLayerResults is empty: nothing to merge");
  const nq = perLayer[0].result?.queries;
  const seen = new Set<number>();
  let total = 0;
  perLayer.forEach((entry, i) => {
    const { layer, result } = entry ?? ({} as LayerTopK);
    if (typeof layer !== "number" || !Number.isInteger(layer) || layer < 0) {
      throw new RangeError(`perLayerResults[${i}].layer must be an integer >= 0, got ${describeValue(layer)}`);
    }
    if (seen.has(layer)) throw new RangeError(`perLayerResults[${i}].layer ${layer} appears twice; merge each layer once`);
    seen.add(layer);
    if (!result || !(result.indices instanceof Int32Array) || !(result.scores instanceof Float32Array)) {
      throw new TypeError(`perLayerResults[${i}].result must hold indices (Int32Array) and scores (Float32Array)`);
    }
    if (result.queries !== nq) {
      throw new RangeError(`perLayerResults[${i}] (layer ${layer}) has ${describeValue(result.queries)} queries, perLayerResults[0] has ${describeValue(nq)}`);
    }
    if (!Number.isInteger(result.k) || result.k < 0 || result.indices.length !== nq * result.k || result.scores.length !== nq * result.k) {
      throw new RangeError(`perLayerResults[${i}] (layer ${layer}): k ${describeValue(result.k)} does not match indices/scores of length ${result.indices.length}/${result.scores.length} for ${nq} queries`);
    }
    total += result.k;
  });
  const kout = Math.min(k, total);
  const layers = new Int32Array(nq * kout).fill(-1);
  const indices = new Int32Array(nq * kout).fill(-1);
  const scores = new Float32Array(nq * kout).fill(NaN);
  const cl: number[] = [];
  const ci: number[] = [];
  const cs: number[] = [];
  const order: number[] = [];
  for (let q = 0; q < nq; q++) {
    cl.length = ci.length = cs.length = order.length = 0;
    for (const { layer, result } of perLayer) {
      for (let j = q * result.k; j < (q + 1) * result.k; j++) {
        const idx = result.indices[j];
        const s = result.scores[j];
        if (idx < 0 || Number.isNaN(s)) continue;
        order.push(cl.length);
        cl.push(layer);
        ci.push(idx);
        cs.push(s);
      }
    }
    order.sort((a, b) => cs[b] - cs[a] || cl[a] - cl[b] || ci[a] - ci[b]);
    const n = Math.min(kout, order.length);
    for (let j = 0; j < n; j++) {
      const c = order[j];
      layers[q * kout + j] = cl[c];
      indices[q * kout + j] = ci[c];
      scores[q * kout + j] = cs[c];
    }
  }
  return { queries: nq, k: kout, layers, indices, scores };
}
