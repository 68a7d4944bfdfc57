/**
 * Exact top-k inner-product search of query vectors against a table of rows (one contextual
 * layer of the bank), on the native addon.
 *
 * Result definition: for each query, the min(k, rows) rows with the largest float64 inner product
 * between the float32 query and the row's decoded float32 values (float16 widened exactly; int8
 * decoded as float32(value * scale)), summed in dimension order; sorted by score descending, ties
 * broken by the lower row index; scores are those float64 sums rounded to float32. The native
 * kernel selects candidates in float32 and rescores them in float64 with a proven error band, so
 * the answer is the same on every CPU, for every batch size and thread count.
 *
 * NaN: a row whose score is NaN (e.g. it holds a NaN) never enters the top-k; a query with fewer
 * than min(k, rows) non-NaN scores gets index -1 and score NaN in the missing places. Queries must be
 * finite (checked). Rows whose squared norm overflows float32 (norm > 1.8e19) are outside the
 * exactness guarantee.
 */
import { describeValue } from "../../errors";
import type { Tensor } from "../../model/tensor";
import { loadNative, type NativeRows, type NativeSearchResult } from "./native";

/** How rows are stored: float32, IEEE float16 bits, or int8 with one float32 scale per row. */
export type RowDType = "f32" | "f16" | "i8";

/** Instruction-set path of the native kernel; "auto" picks the best the CPU supports. */
export type SearchIsa = "auto" | "avx512" | "avx2" | "scalar";

/**
 * A table of rows, `shape: [rows, dim]`, row-major. `data` is a Float32Array (dtype "f32"), a
 * Uint16Array of IEEE half bits ("f16") or an Int8Array ("i8", with `scales: [rows]`).
 */
export interface RowMatrix {
  shape: readonly [number, number] | number[];
  data: NativeRows;
  /** [rows]: int8 rows only; row r decodes to float32(data[r, j] * scales[r]). */
  scales?: Float32Array;
}

export interface SearchOptions {
  /** Neighbours per query, >= 1. More than the number of rows returns every row. */
  k: number;
  /** Storage type of the rows; when given it must match the typed array of `rows.data`. */
  dtype?: RowDType;
  /** Worker threads for one search (default: all hardware threads). */
  threads?: number;
  /** Force a kernel path (tests, benchmarks); default "auto". */
  isa?: SearchIsa;
}

export interface TopKResult {
  /** Number of queries. */
  queries: number;
  /** Neighbours per query: min(k, rows). */
  k: number;
  /** [queries, k] row indices, best first; -1 where a query has fewer non-NaN scores. */
  indices: Int32Array;
  /** [queries, k] scores (float64 inner products rounded to float32); NaN where index is -1. */
  scores: Float32Array;
  /** How the search ran (diagnostics; the result does not depend on it). */
  stats: {
    isa: NativeSearchResult["isa"];
    path: NativeSearchResult["path"];
    threads: number;
    /** 2 when the row-norm estimate was too low and the scan ran again (unnormalised rows). */
    passes: number;
    /** Rows rescored in float64, over all queries (about queries x k). */
    candidates: number;
    /** False only when thousands of near-tied rows overflowed the candidate band (see docs/performance.md). */
    exact: boolean;
  };
}

const DTYPE_ARRAYS = { f32: Float32Array, f16: Uint16Array, i8: Int8Array } as const;

function dtypeOf(data: unknown): RowDType | undefined {
  if (data instanceof Float32Array) return "f32";
  if (data instanceof Uint16Array) return "f16";
  if (data instanceof Int8Array) return "i8";
  return undefined;
}

function checkPositiveInt(name: string, value: unknown, max = 2 ** 31 - 1): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer in [1, ${max}], got ${describeValue(value)}`);
  }
  return value;
}

function shape2(name: string, t: { shape?: unknown }): [number, number] {
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new TypeError(`${name}.shape must be [count, dim], got ${describeValue(shape)}`);
  }
  const [n, d] = shape as unknown[];
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new RangeError(`${name}.shape[0] must be an integer >= 0, got ${describeValue(n)}`);
  }
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1) {
    throw new RangeError(`${name}.shape[1] (dim) must be an integer >= 1, got ${describeValue(d)}`);
  }
  return [n, d];
}

interface Validated {
  q: Float32Array;
  dim: number;
  nq: number;
  rows: NativeRows;
  nrows: number;
  dtype: RowDType;
  scales: Float32Array | null;
  k: number;
  threads: number;
  isa: SearchIsa;
}

/** Checks every argument; throws TypeError / RangeError naming the parameter and the bad value. */
function validate(queries: Tensor, rows: RowMatrix, options: SearchOptions): Validated {
  if (queries === null || typeof queries !== "object") throw new TypeError(`queries must be a {shape, data} tensor, got ${describeValue(queries)}`);
  if (rows === null || typeof rows !== "object") throw new TypeError(`rows must be a {shape, data} matrix, got ${describeValue(rows)}`);
  if (options === null || typeof options !== "object") throw new TypeError(`options must be an object like {k: 5}, got ${describeValue(options)}`);
  if (!(queries.data instanceof Float32Array)) {
    throw new TypeError(`queries.data must be a Float32Array, got ${queries.data === undefined ? "undefined" : Object.prototype.toString.call(queries.data)}`);
  }
  const [nq, dim] = shape2("queries", queries);
  if (queries.data.length !== nq * dim) {
    throw new RangeError(`queries.data has ${queries.data.length} elements, shape [${nq}, ${dim}] needs ${nq * dim}`);
  }
  const actual = dtypeOf(rows.data);
  if (actual === undefined) {
    throw new TypeError(`rows.data must be a Float32Array (f32), Uint16Array (f16) or Int8Array (i8), got ${Object.prototype.toString.call(rows.data)}`);
  }
  const dtype = options.dtype ?? actual;
  if (!Object.prototype.hasOwnProperty.call(DTYPE_ARRAYS, dtype)) {
    throw new RangeError(`options.dtype must be "f32", "f16" or "i8", got ${describeValue(dtype)}`);
  }
  if (dtype !== actual) {
    throw new TypeError(`options.dtype is ${JSON.stringify(dtype)} but rows.data is a ${DTYPE_ARRAYS[actual].name} (dtype ${JSON.stringify(actual)}); dtype ${JSON.stringify(dtype)} needs a ${DTYPE_ARRAYS[dtype].name}`);
  }
  const [nrows, rdim] = shape2("rows", rows);
  if (rdim !== dim) throw new RangeError(`dimension mismatch: queries have dim ${dim}, rows have dim ${rdim}`);
  if (rows.data.length !== nrows * dim) {
    throw new RangeError(`rows.data has ${rows.data.length} elements, shape [${nrows}, ${dim}] needs ${nrows * dim}`);
  }
  if (nrows > 2 ** 31 - 1) throw new RangeError(`rows.shape[0] must be < 2^31, got ${nrows}`);
  let scales: Float32Array | null = null;
  if (dtype === "i8") {
    if (!(rows.scales instanceof Float32Array)) {
      throw new TypeError(`rows.scales must be a Float32Array of ${nrows} per-row scales for int8 rows, got ${describeValue(rows.scales)}`);
    }
    if (rows.scales.length !== nrows) throw new RangeError(`rows.scales has ${rows.scales.length} elements, expected one per row (${nrows})`);
    scales = rows.scales;
  } else if (rows.scales !== undefined) {
    throw new TypeError(`rows.scales is only used with int8 rows, but dtype is ${JSON.stringify(dtype)}`);
  }
  const k = checkPositiveInt("options.k", options.k);
  const threads = options.threads === undefined ? loadNative().isaInfo().hardwareThreads : checkPositiveInt("options.threads", options.threads, 1024);
  const isa = options.isa ?? "auto";
  if (!["auto", "avx512", "avx2", "scalar"].includes(isa)) {
    throw new RangeError(`options.isa must be "auto", "avx512", "avx2" or "scalar", got ${describeValue(isa)}`);
  }
  // Non-finite queries would make every score NaN or infinite: name the first offender.
  const q = queries.data;
  for (let i = 0; i < q.length; i++) {
    if (!Number.isFinite(q[i])) {
      const which = Math.floor(i / dim);
      throw new RangeError(`queries row ${which} (of ${nq}) holds a non-finite value ${q[i]} at column ${i - which * dim}`);
    }
  }
  if (nq * Math.min(k, nrows) > 2 ** 31) throw new RangeError(`result too large: ${nq} queries x k ${Math.min(k, nrows)}`);
  return { q, dim, nq, rows: rows.data, nrows, dtype, scales, k, threads, isa };
}

function wrap(nq: number, r: NativeSearchResult): TopKResult {
  return {
    queries: nq,
    k: r.k,
    indices: r.indices,
    scores: r.scores,
    stats: { isa: r.isa, path: r.path, threads: r.threads, passes: r.passes, candidates: r.candidates, exact: r.exact },
  };
}

/**
 * Top-k rows by inner product for every query, on a worker thread (the JS thread stays free). The
 * typed arrays are read in place: do not modify or transfer them until the promise settles.
 *
 * @param queries `[queries, dim]` float32, finite.
 * @param rows `[rows, dim]` float32, float16 bits or int8 + scales.
 */
export async function searchTopK(queries: Tensor, rows: RowMatrix, options: SearchOptions): Promise<TopKResult> {
  const v = validate(queries, rows, options);
  const r = await loadNative().search(v.q, v.dim, v.rows, v.dtype, v.scales, v.k, v.threads, v.isa);
  return wrap(v.nq, r);
}

/** Same as {@link searchTopK}, on the calling thread: for small searches (a few ms) where a worker hop costs more. */
export function searchTopKSync(queries: Tensor, rows: RowMatrix, options: SearchOptions): TopKResult {
  const v = validate(queries, rows, options);
  return wrap(v.nq, loadNative().searchSync(v.q, v.dim, v.rows, v.dtype, v.scales, v.k, v.threads, v.isa));
}

/** Instruction sets the native kernel can use on this CPU, best first, and the hardware thread count. */
export function searchCapabilities(): { best: string; supported: string[]; hardwareThreads: number } {
  return loadNative().isaInfo();
}
