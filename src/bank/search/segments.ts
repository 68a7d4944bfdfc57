/**
 * Exact top-k over a table of rows held in several segments (a memory-mapped bank layer larger
 * than one typed array can view: see src/bank/mapped.ts). Each segment is searched by the native
 * kernel in place; the per-segment lists are merged by their float64 scores, recomputed in
 * dimension order exactly as the kernel's rescoring does, so the answer is the one a single
 * `searchTopK` over all rows would give, bit for bit (ties to the lower global row index).
 */
import { describeValue } from "../../errors";
import { halfArrayToFloat } from "../../io/float16";
import type { Tensor } from "../../model/tensor";
import type { NativeRows } from "./native";
import { searchTopK, type SearchOptions, type TopKResult } from "./topk";

/** Rows [row0, row0 + rows) of a table: `data` `[rows, dim]`, int8 rows with `scales` `[rows]`. */
export interface RowSegment {
  row0: number;
  rows: number;
  data: NativeRows;
  scales?: Float32Array;
}

/** A table of `rows x dim` rows in consecutive segments (a bank layer: BankMatrix fits this). */
export interface SegmentedRows {
  rows: number;
  dim: number;
  segments: readonly RowSegment[];
}

/** Row r of a segment as float32 values, decoded as the kernel decodes them (into `out`). */
function decodeRow(seg: RowSegment, r: number, dim: number, out: Float32Array<ArrayBuffer>): Float32Array {
  const { data, scales } = seg;
  if (data instanceof Uint16Array) return halfArrayToFloat(data.subarray(r * dim, (r + 1) * dim), out);
  if (data instanceof Int8Array) {
    for (let p = 0; p < dim; p++) out[p] = data[r * dim + p] * scales![r]; // float32 store = float32(value * scale)
    return out;
  }
  out.set(data.subarray(r * dim, (r + 1) * dim));
  return out;
}

/**
 * Top-k rows by inner product for every query over a segmented table (the same result definition
 * as {@link searchTopK}, which handles each segment). Segments are searched one after another, each
 * with all `threads`; nothing is copied.
 */
export async function searchSegments(queries: Tensor, table: SegmentedRows, options: SearchOptions): Promise<TopKResult> {
  const { segments, dim } = table;
  if (!Array.isArray(segments) || segments.length === 0) throw new RangeError(`table.segments must be a non-empty array, got ${describeValue(segments)}`);
  let next = 0;
  segments.forEach((s, i) => {
    if (s.row0 !== next) throw new RangeError(`table.segments[${i}] starts at row ${describeValue(s.row0)}, expected ${next} (segments must be consecutive)`);
    next += s.rows;
  });
  if (next !== table.rows) throw new RangeError(`table.segments hold ${next} rows, table.rows is ${table.rows}`);
  const part = (s: RowSegment) => searchTopK(queries, { shape: [s.rows, dim], data: s.data, ...(s.scales ? { scales: s.scales } : {}) }, options);
  if (segments.length === 1) return part(segments[0]);

  const results: TopKResult[] = [];
  for (const s of segments) results.push(await part(s));
  const nq = results[0].queries;
  const kout = Math.min(options.k, table.rows);
  const indices = new Int32Array(nq * kout).fill(-1);
  const scores = new Float32Array(nq * kout).fill(NaN);
  const q = queries.data;
  const row = new Float32Array(dim);
  const rowsOut: number[] = [];
  const exact: number[] = [];
  const order: number[] = [];
  for (let qi = 0; qi < nq; qi++) {
    rowsOut.length = exact.length = order.length = 0;
    results.forEach((r, si) => {
      for (let j = qi * r.k; j < (qi + 1) * r.k; j++) {
        const local = r.indices[j];
        if (local < 0) continue;
        // The float64 score in dimension order, as native/src/search.cc's dot64.
        decodeRow(segments[si], local, dim, row);
        let s = 0;
        for (let p = 0; p < dim; p++) s += q[qi * dim + p] * row[p];
        order.push(order.length);
        rowsOut.push(segments[si].row0 + local);
        exact.push(s);
      }
    });
    order.sort((a, b) => (exact[b] > exact[a] ? 1 : exact[b] < exact[a] ? -1 : rowsOut[a] - rowsOut[b]));
    for (let j = 0; j < Math.min(kout, order.length); j++) {
      indices[qi * kout + j] = rowsOut[order[j]];
      scores[qi * kout + j] = exact[order[j]];
    }
  }
  const stats = { ...results[0].stats };
  for (const r of results.slice(1)) {
    stats.passes = Math.max(stats.passes, r.stats.passes);
    stats.candidates += r.stats.candidates;
    stats.exact &&= r.stats.exact;
  }
  return { queries: nq, k: kout, indices, scores, stats };
}
