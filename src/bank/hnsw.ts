import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import { halfArrayToFloat } from "../io/float16";
import { seededRandom } from "../util/random";
import type { BankMatrix } from "./open";
import { searchTopKSync } from "./search";

/**
 * Approximate nearest-neighbour indexes (HNSW, hnswlib-node) per bank layer, saved next to the
 * bank. When an index is built its recall@k against exact search is measured on held-out queries
 * and recorded, so a user knows what the speed costs in accuracy.
 */

// hnswlib-node is a native addon, loaded only when an index is built or searched.
type HnswModule = typeof import("hnswlib-node");
let hnswModule: HnswModule | undefined;
function hnswlib(): HnswModule {
  if (!hnswModule) hnswModule = require("hnswlib-node") as HnswModule;
  return hnswModule;
}

export interface HnswParams {
  /** Graph degree (hnswlib's M). */
  M: number;
  efConstruction: number;
  /** Search breadth used at query time (≥ k). */
  efSearch: number;
  seed: number;
}

export const DEFAULT_HNSW: HnswParams = { M: 16, efConstruction: 200, efSearch: 64, seed: 42 };

export interface HnswRecord extends HnswParams {
  file: string;
  /**
   * Recall@k against exact search on `queries` held-out queries: the share of returned neighbours
   * that score at least the exact k-th score (the ann-benchmarks definition, which does not count
   * a tie with the exact k-th row as a miss; banks hold many near-identical rows).
   */
  recall: number;
  k: number;
  queries: number;
}

export function hnswFileName(layer: number): string {
  return `layer_${String(layer).padStart(2, "0")}.hnsw`;
}

/** The rows an index is built from: one layer of a bank as one typed array. */
export type HnswSource = Pick<BankMatrix, "layer" | "dtype" | "rows" | "dim" | "data" | "scales">;

/** Row r of a bank matrix as float32 (f16 widened exactly, int8 scaled). */
export function decodeRows(m: HnswSource): Float32Array {
  if (m.dtype === "f16") return halfArrayToFloat(m.data as Uint16Array);
  const out = new Float32Array(m.rows * m.dim);
  const q = m.data as Int8Array;
  for (let r = 0; r < m.rows; r++) for (let d = 0; d < m.dim; d++) out[r * m.dim + d] = q[r * m.dim + d] * m.scales![r];
  return out;
}

/**
 * Held-out queries for measuring recall: bank rows with Gaussian noise of the same scale as the
 * typical distance between neighbours, renormalised, so a query is near, but never equal to, a row.
 */
function recallQueries(rows: Float32Array, n: number, dim: number, count: number, seed: number): Float32Array {
  const random = seededRandom(seed ^ 0x5eed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const r = Math.floor(random() * n);
    let sq = 0;
    for (let d = 0; d < dim; d++) {
      const v = rows[r * dim + d] + gauss() * (0.5 / Math.sqrt(dim));
      out[i * dim + d] = v;
      sq += v * v;
    }
    const inv = 1 / Math.sqrt(sq);
    for (let d = 0; d < dim; d++) out[i * dim + d] *= inv;
  }
  return out;
}

/** Builds, measures and saves the HNSW index of one layer. */
export function buildHnsw(m: HnswSource, dir: string, params: HnswParams = DEFAULT_HNSW, k = 5, recallQueryCount = 200): HnswRecord {
  const { HierarchicalNSW } = hnswlib();
  const rows = decodeRows(m);
  const index = new HierarchicalNSW("ip", m.dim);
  index.initIndex(m.rows, params.M, params.efConstruction, params.seed);
  for (let r = 0; r < m.rows; r++) index.addPoint(Array.from(rows.subarray(r * m.dim, (r + 1) * m.dim)), r);
  index.setEf(Math.max(params.efSearch, k));
  const queries = recallQueries(rows, m.rows, m.dim, recallQueryCount, params.seed);
  const exact = searchTopKSync({ shape: [recallQueryCount, m.dim], data: queries }, { shape: [m.rows, m.dim], data: rows }, { k });
  let hits = 0;
  const kk = exact.k;
  for (let q = 0; q < recallQueryCount; q++) {
    const query = queries.subarray(q * m.dim, (q + 1) * m.dim);
    const kth = exact.scores[q * kk + kk - 1];
    for (const r of index.searchKnn(Array.from(query), kk).neighbors) {
      let s = 0;
      for (let d = 0; d < m.dim; d++) s += rows[r * m.dim + d] * query[d];
      if (s >= kth - 1e-6) hits++;
    }
  }
  const file = hnswFileName(m.layer);
  const tmp = path.join(dir, `.${file}.tmp`);
  index.writeIndexSync(tmp);
  fs.renameSync(tmp, path.join(dir, file));
  return { ...params, file, recall: hits / (recallQueryCount * kk), k: kk, queries: recallQueryCount };
}

/** An opened HNSW index: top-k row indices and inner products for one query at a time. */
export interface HnswIndex {
  layer: number;
  search(query: Float32Array, k: number): { indices: Int32Array; scores: Float32Array };
}

export function openHnsw(dir: string, layer: number, dim: number, efSearch: number): HnswIndex {
  const { HierarchicalNSW } = hnswlib();
  const file = path.join(dir, hnswFileName(layer));
  if (!fs.existsSync(file)) throw new ArtifactError(file, "missing: this bank has no approximate index for the layer; build the bank with --hnsw");
  const index = new HierarchicalNSW("ip", dim);
  try {
    index.readIndexSync(file);
  } catch (error) {
    throw new ArtifactError(file, `cannot read the HNSW index: ${(error as Error).message}`);
  }
  return {
    layer,
    search(query, k) {
      index.setEf(Math.max(efSearch, k));
      const kk = Math.min(k, index.getCurrentCount());
      const { neighbors, distances } = index.searchKnn(Array.from(query), kk);
      // hnswlib returns nearest first with distance = 1 - inner product.
      return { indices: Int32Array.from(neighbors), scores: Float32Array.from(distances, (d) => 1 - d) };
    },
  };
}
