import * as path from "node:path";
import { runtimeGraph, type Float64Tensor, type Int64Tensor, type SessionOptions } from "./session";
import type { Tensor } from "./tensor";

/**
 * The model-independent graphs in graphs/ (built by `python -m vislens_export.runtime_graphs`):
 * GEMM-speed building blocks the engine runs on its own arrays through onnxruntime, so that no
 * caller loops over vocabulary x width in JavaScript.
 */

/** Repository root: this file is src/model/runtime-graphs.ts, or dist/model/runtime-graphs.js. */
export const GRAPHS_DIR = path.resolve(__dirname, "..", "..", "graphs");

/** Rows per onnxruntime call are chosen so the `[rows, V]` float32 logits stay under this many bytes (twice that in float64 for the log-sum-exp). */
const LOGIT_BYTES = 64 * 2 ** 20;

/** Next-token statistics of n vectors. Shapes: `[n]`, `[n]`, `[n, k]`, `[n, k]`. */
export interface UnembedStats {
  n: number;
  k: number;
  /** log Σ_v exp(logit_v), summed in float64, so log softmax(logits)[t] = logit_t − lse. */
  lse: Float64Array;
  /** The logit of each row's target token (0 where no target was given). */
  targetLogit: Float32Array;
  /** The k largest logits of each row, largest first, and their token ids. */
  topLogits: Float32Array;
  topIds: Int32Array;
}

export interface UnembedOptions extends SessionOptions {
  /** Top tokens to return per row; default 1. */
  k?: number;
  /** One token id for every row, or one for all rows: whose logit to report. */
  targets?: ArrayLike<number> | number;
}

/**
 * logits = vectors · unembeddingᵀ for `vectors` `[n, D]` and `unembedding` `[V, D]`, reduced to
 * the log-sum-exp, the targets' logits and the top k, in blocks of rows (one GEMM each).
 */
export async function unembed(vectors: Float32Array, unembedding: Float32Array, dim: number, options: UnembedOptions = {}): Promise<UnembedStats> {
  if (vectors.length % dim !== 0) throw new RangeError(`unembed: vectors has ${vectors.length} values, not a multiple of the width ${dim}`);
  if (unembedding.length % dim !== 0 || unembedding.length === 0) {
    throw new RangeError(`unembed: unembedding has ${unembedding.length} values, not a non-empty multiple of the width ${dim}`);
  }
  const n = vectors.length / dim;
  const V = unembedding.length / dim;
  const k = options.k ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > V) throw new RangeError(`unembed: k must be an integer in 1..${V}, got ${k}`);
  const targetOf = (i: number): number => {
    const t = typeof options.targets === "number" ? options.targets : options.targets ? options.targets[i] : 0;
    if (!Number.isInteger(t) || t < 0 || t >= V) throw new RangeError(`unembed: target token id ${t} (row ${i}) is outside the vocabulary 0..${V - 1}`);
    return t;
  };
  if (options.targets !== undefined && typeof options.targets !== "number" && options.targets.length !== n) {
    throw new RangeError(`unembed: ${options.targets.length} targets for ${n} vectors`);
  }
  const out: UnembedStats = {
    n,
    k,
    lse: new Float64Array(n),
    targetLogit: new Float32Array(n),
    topLogits: new Float32Array(n * k),
    topIds: new Int32Array(n * k),
  };
  const graph = runtimeGraph(path.join(GRAPHS_DIR, "unembed.onnx"), options);
  const w = { type: "float32" as const, data: unembedding, dims: [V, dim] };
  const kFeed = { type: "int64" as const, data: BigInt64Array.of(BigInt(k)), dims: [1] };
  const block = Math.max(1, Math.floor(LOGIT_BYTES / (4 * V)));
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    const targets = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) targets[i] = BigInt(targetOf(start + i));
    const r = await graph.run({
      x: { type: "float32", data: vectors.subarray(start * dim, (start + rows) * dim), dims: [rows, dim] },
      w,
      k: kFeed,
      target: { type: "int64", data: targets, dims: [rows, 1] },
    });
    out.lse.set((r.lse as Float64Tensor).data, start);
    out.targetLogit.set((r.target_logit as Tensor).data, start);
    out.topLogits.set((r.top_logits as Tensor).data, start * k);
    const ids = (r.top_ids as Int64Tensor).data;
    for (let i = 0; i < ids.length; i++) out.topIds[start * k + i] = Number(ids[i]);
  }
  return out;
}

/**
 * Below this many multiply-adds a product is cheaper in a plain loop than the round trip of an
 * onnxruntime call (about 0.1–0.3 ms from Node); above it, MLAS's GEMM wins by far.
 */
const SMALL_PRODUCT = 1 << 17;

/** `[b, m, n]` = `a` `[b, m, k]` × `b` `[b, k, n]`: one onnxruntime MatMul (a loop when tiny). */
export async function batchedMatmul(a: Float32Array, b: Float32Array, dims: { batch: number; m: number; k: number; n: number }, options: SessionOptions = {}): Promise<Float32Array> {
  const { batch, m, k, n } = dims;
  if (a.length !== batch * m * k) throw new RangeError(`batchedMatmul: a has ${a.length} values, expected ${batch}x${m}x${k}`);
  if (b.length !== batch * k * n) throw new RangeError(`batchedMatmul: b has ${b.length} values, expected ${batch}x${k}x${n}`);
  if (batch * m * k * n <= SMALL_PRODUCT) {
    const c = new Float32Array(batch * m * n);
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < m; i++) {
        const row = (s * m + i) * n;
        for (let t = 0; t < k; t++) {
          const av = a[(s * m + i) * k + t];
          if (av === 0) continue;
          const bt = (s * k + t) * n;
          for (let j = 0; j < n; j++) c[row + j] += av * b[bt + j];
        }
      }
    }
    return c;
  }
  const graph = runtimeGraph(path.join(GRAPHS_DIR, "matmul.onnx"), options);
  const r = await graph.run({
    a: { type: "float32", data: a, dims: [batch, m, k] },
    b: { type: "float32", data: b, dims: [batch, k, n] },
  });
  return (r.c as Tensor).data;
}
