import { searchTopK } from "../bank/search";
import type { TextTokenizer } from "../model/tokenizer";
import { normaliseRows } from "./normalise";
import { checkQueries, type Lens, type Neighbour } from "./types";

/** EmbeddingLens: the input-embedding rows nearest to a hidden state by cosine. */
export function embeddingLens(embedding: Float32Array, dim: number, tokenizer: TextTokenizer): Lens {
  const V = embedding.length / dim;
  const rows = { shape: [V, dim], data: normaliseRows(embedding, dim) };
  return {
    name: "embedding",
    dim,
    async interpret(queries, k) {
      const Q = checkQueries("EmbeddingLens", queries, dim);
      if (Q === 0) return [];
      const result = await searchTopK({ shape: [Q, dim], data: normaliseRows(queries, dim) }, rows, { k });
      const out: Neighbour[][] = [];
      for (let q = 0; q < Q; q++) {
        const list: Neighbour[] = [];
        for (let j = 0; j < result.k; j++) {
          const id = result.indices[q * result.k + j];
          if (id < 0) continue;
          const token = tokenizer.display(id);
          list.push({ rank: list.length + 1, tokenId: id, token, word: token, similarity: result.scores[q * result.k + j], layer: 0 });
        }
        out.push(list);
      }
      return out;
    },
  };
}
