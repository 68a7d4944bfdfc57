import { openHnsw, type HnswIndex } from "../bank/hnsw";
import type { Bank } from "../bank/open";
import { mergeTopK, searchSegments, type LayerTopK } from "../bank/search";
import { normaliseRows } from "./normalise";
import { checkQueries, type Lens, type Neighbour } from "./types";
import { wordAt } from "./words";

/**
 * LatentLens: the nearest text tokens *in context*. For every contextual layer of the bank take the
 * top-k rows by cosine, then the global top-k over all layers (each neighbour records its layer);
 * the neighbour's sub-word token is expanded to the whole word of its sentence.
 */
export interface LatentLensOptions {
  /** Search each layer with its HNSW index (built with the bank) instead of exactly. */
  approximate?: boolean;
}

export function latentLens(bank: Bank, options: LatentLensOptions = {}): Lens {
  const D = bank.manifest.dim;
  const layers = [...bank.matrices.values()];
  const indexes = options.approximate ? layers.map((m) => openHnsw(bank.dir, m.layer, D, bank.manifest.hnsw?.[m.layer]?.efSearch ?? 64)) : undefined;
  return {
    name: "latent",
    dim: D,
    async interpret(queries, k) {
      const Q = checkQueries("LatentLens", queries, D);
      if (Q === 0) return [];
      const unit = { shape: [Q, D], data: normaliseRows(queries, D) };
      const perLayer: LayerTopK[] = [];
      for (const [i, m] of layers.entries()) {
        const result = indexes
          ? approximateTopK(indexes[i], unit.data, Q, D, Math.min(k, m.rows))
          : await searchSegments(unit, m, { k }); // in place: a mapped layer is never copied
        perLayer.push({ layer: m.layer, result });
      }
      const merged = mergeTopK(perLayer, k);
      const out: Neighbour[][] = [];
      for (let q = 0; q < Q; q++) {
        const list: Neighbour[] = [];
        for (let j = 0; j < merged.k; j++) {
          const row = merged.indices[q * merged.k + j];
          if (row < 0) continue;
          const tokenId = bank.tokenId[row];
          const sentence = bank.sentences[bank.sentence[row]];
          const span: [number, number] = [bank.charSpan[row * 2], bank.charSpan[row * 2 + 1]];
          const token = bank.tokens[tokenId] ?? "";
          list.push({
            rank: list.length + 1,
            tokenId,
            token,
            word: wordAt(sentence, span) || token,
            similarity: merged.scores[q * merged.k + j],
            layer: merged.layers[q * merged.k + j],
            sentence,
            span,
          });
        }
        out.push(list);
      }
      return out;
    },
  };
}

/** Per-query HNSW search, shaped like an exact search result (missing places: index -1, NaN). */
function approximateTopK(index: HnswIndex, queries: Float32Array, Q: number, D: number, k: number): LayerTopK["result"] {
  const indices = new Int32Array(Q * k).fill(-1);
  const scores = new Float32Array(Q * k).fill(NaN);
  for (let q = 0; q < Q; q++) {
    const found = index.search(queries.subarray(q * D, (q + 1) * D), k);
    indices.set(found.indices, q * k);
    scores.set(found.scores, q * k);
  }
  return { queries: Q, k, indices, scores };
}
