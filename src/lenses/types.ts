/**
 * The lens interface: a lens turns hidden states (any layer; visual or text tokens, or any vector
 * of the model's width) into ranked neighbours. A lens neither loads models nor draws; it gets
 * plain arrays (bank rows, weight matrices) when it is made.
 */

export const LENS_NAMES = ["latent", "embedding", "logit"] as const;
export type LensName = (typeof LENS_NAMES)[number];

export function isLensName(value: string): value is LensName {
  return (LENS_NAMES as readonly string[]).includes(value);
}

/** One ranked answer of a lens for one query vector. */
export interface Neighbour {
  /** 1-based rank. */
  rank: number;
  tokenId: number;
  /** The token as decoded on its own, trimmed ("red", "ing"). */
  token: string;
  /** LatentLens: the whole word of the sentence that contains the token; else the token. */
  word: string;
  /** Cosine similarity (LatentLens, EmbeddingLens). */
  similarity?: number;
  /** LogitLens: the logit and the softmax probability over the whole vocabulary. */
  logit?: number;
  probability?: number;
  /** Which layer's representation matched: the contextual layer (LatentLens), 0 (EmbeddingLens). */
  layer?: number;
  /** LatentLens: the sentence the contextual token came from, and the token's character span in it. */
  sentence?: string;
  span?: [number, number];
}

export interface Lens {
  name: LensName;
  /** Width of the vectors it reads. */
  dim: number;
  /**
   * Top-k neighbours of each query. `queries` is `[Q, dim]` row-major; queries need not be
   * normalised. Returns Q lists of at most k neighbours, best first.
   */
  interpret(queries: Float32Array, k: number): Promise<Neighbour[][]>;
}

/** Checks a query block's size and values once, for every lens. */
export function checkQueries(lens: string, queries: Float32Array, dim: number): number {
  if (!(queries instanceof Float32Array)) throw new TypeError(`${lens}: queries must be a Float32Array, got ${Object.prototype.toString.call(queries)}`);
  if (queries.length % dim !== 0) throw new RangeError(`${lens}: queries has ${queries.length} values, not a multiple of the model width ${dim}`);
  for (let i = 0; i < queries.length; i++) {
    if (!Number.isFinite(queries[i])) {
      throw new RangeError(`${lens}: query ${Math.floor(i / dim)} has a non-finite value (${queries[i]}) at dimension ${i % dim}`);
    }
  }
  return queries.length / dim;
}
