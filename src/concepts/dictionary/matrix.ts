/**
 * Argument checks and small matrix helpers shared by the dictionary methods. Wrong kinds throw
 * `TypeError`, out-of-range values `RangeError`; each message starts with the method and quotes
 * the parameter and the value.
 */
import { describeValue } from "../../errors";
import type { Dictionary, DictionaryMethodName, DictionaryOptions, DictionarySettings, Matrix } from "./types";

/** The paper's default number of concepts. */
export const DEFAULT_K = 20;

function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? Object.prototype.toString.call(value) : typeof value;
}

/**
 * Checks that `value` is a `Matrix` of finite numbers and returns its values as a Float64Array
 * (the caller's array when it already is one: never written to).
 */
export function checkMatrix(where: string, name: string, value: unknown): Float64Array {
  const m = value as Matrix;
  if (typeof value !== "object" || value === null || !(m.data instanceof Float32Array || m.data instanceof Float64Array)) {
    throw new TypeError(`${where}: ${name} must be a {rows, cols, data: Float32Array | Float64Array} matrix, got ${kindOf(value)}`);
  }
  for (const field of ["rows", "cols"] as const) {
    if (!Number.isInteger(m[field]) || m[field] < 1) throw new RangeError(`${where}: ${name}.${field} must be a positive integer, got ${describeValue(m[field])}`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new RangeError(`${where}: ${name}.data has ${m.data.length} values, ${name}.rows × ${name}.cols = ${m.rows} × ${m.cols} needs ${m.rows * m.cols}`);
  }
  const data = m.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(`${where}: ${name} has a non-finite value (${data[i]}) at row ${Math.floor(i / m.cols)}, column ${i % m.cols}`);
    }
  }
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

function checkNumber(where: string, name: string, value: unknown, integer: boolean, min: number, minText: string): number {
  if (typeof value !== "number") throw new TypeError(`${where}: options.${name} must be a number, got ${kindOf(value)} ${describeValue(value)}`);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    throw new RangeError(`${where}: options.${name} must be ${integer ? "an integer" : "a finite number"} ${minText}, got ${describeValue(value)}`);
  }
  return value;
}

export interface ResolvedOptions {
  settings: DictionarySettings;
  /** The checked `init` atoms [K, D], or null. */
  init: Float64Array | null;
}

/**
 * Fills the defaults of `options` and checks them against `z` [M, D]: 1 ≤ K ≤ M (and K ≤ D when
 * `maxK` says so), λ ≥ 0, maxIter ≥ 1, tol ≥ 0, `init` [K, D] only for the methods that take one.
 */
export function resolveOptions(
  method: DictionaryMethodName,
  z: Matrix,
  options: DictionaryOptions | undefined,
  defaults: { maxIter: number; tol: number; init: DictionarySettings["init"]; acceptsInit: boolean; kAtMostDim?: boolean },
): ResolvedOptions {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`${method}: options must be an object, got ${kindOf(options)}`);
  }
  const o = options ?? {};
  const k = checkNumber(method, "k", o.k ?? DEFAULT_K, true, 1, "≥ 1");
  if (k > z.rows) throw new RangeError(`${method}: options.k = ${k} concepts need at least ${k} samples, z has ${z.rows} rows`);
  if (defaults.kAtMostDim && k > z.cols) throw new RangeError(`${method}: options.k = ${k} components exceed the ${z.cols} columns of z`);
  const seed = checkNumber(method, "seed", o.seed ?? 0, true, -Infinity, "");
  const lambda = checkNumber(method, "lambda", o.lambda ?? 1, false, 0, "≥ 0");
  const maxIter = checkNumber(method, "maxIter", o.maxIter ?? defaults.maxIter, true, 1, "≥ 1");
  const tol = checkNumber(method, "tol", o.tol ?? defaults.tol, false, 0, "≥ 0");
  let init: Float64Array | null = null;
  if (o.init !== undefined) {
    if (!defaults.acceptsInit) throw new RangeError(`${method}: options.init is not used by this method, got a ${o.init?.rows} × ${o.init?.cols} matrix`);
    init = checkMatrix(method, "options.init", o.init);
    if (o.init.rows !== k || o.init.cols !== z.cols) {
      throw new RangeError(`${method}: options.init must be [k, D] = [${k}, ${z.cols}], got [${o.init.rows}, ${o.init.cols}]`);
    }
  }
  return { settings: { k, seed, lambda, maxIter, tol, init: init ? "given" : defaults.init }, init };
}

/** Checks that `dictionary` was fitted by `method` and that `z` [n, D] matches its width; returns z's values. */
export function checkEncode(method: DictionaryMethodName, dictionary: Dictionary, z: Matrix): Float64Array {
  if (typeof dictionary !== "object" || dictionary === null || !dictionary.atoms) {
    throw new TypeError(`${method}.encode: dictionary must be a Dictionary, got ${kindOf(dictionary)}`);
  }
  if (dictionary.method !== method) throw new RangeError(`${method}.encode: dictionary.method must be "${method}", got ${describeValue(dictionary.method)}`);
  const data = checkMatrix(`${method}.encode`, "z", z);
  if (z.cols !== dictionary.dim) throw new RangeError(`${method}.encode: z has ${z.cols} columns, the dictionary's atoms have ${dictionary.dim}`);
  return data;
}

/** A zero-filled [rows, cols] Float64 matrix. */
export function zeros(rows: number, cols: number): Matrix<Float64Array> {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** ‖row i‖² for each row of `data` [rows, cols]. */
export function rowSquaredNorms(data: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = i * cols, end = j + cols; j < end; j++) s += data[j] * data[j];
    out[i] = s;
  }
  return out;
}

/** Dot product of row `i` of `a` and row `j` of `b`, both `cols` wide. */
export function rowDot(a: Float64Array, i: number, b: Float64Array, j: number, cols: number): number {
  let s = 0;
  const ai = i * cols;
  const bj = j * cols;
  for (let d = 0; d < cols; d++) s += a[ai + d] * b[bj + d];
  return s;
}

/**
 * A Bᵀ [n, k] for `a` [n, dim] and `b` [k, dim]: every row of a dotted with every row of b. The
 * hot product of the iterative methods (Z Uᵀ), blocked 2 rows × 4 rows so each load feeds 2-4
 * multiply-adds.
 */
export function productTransposed(a: Float64Array, n: number, b: Float64Array, k: number, dim: number): Float64Array {
  const out = new Float64Array(n * k);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const a0 = i * dim;
    const a1 = a0 + dim;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const b0 = p * dim;
      const b1 = b0 + dim;
      const b2 = b1 + dim;
      const b3 = b2 + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let d = 0; d < dim; d++) {
        const x = a[a0 + d];
        const y = a[a1 + d];
        const u0 = b[b0 + d];
        const u1 = b[b1 + d];
        const u2 = b[b2 + d];
        const u3 = b[b3 + d];
        s0 += x * u0;
        s1 += x * u1;
        s2 += x * u2;
        s3 += x * u3;
        t0 += y * u0;
        t1 += y * u1;
        t2 += y * u2;
        t3 += y * u3;
      }
      const o = i * k + p;
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
      out[o + k] = t0;
      out[o + k + 1] = t1;
      out[o + k + 2] = t2;
      out[o + k + 3] = t3;
    }
    for (; p < k; p++) {
      out[i * k + p] = rowDot(a, i, b, p, dim);
      out[(i + 1) * k + p] = rowDot(a, i + 1, b, p, dim);
    }
  }
  for (; i < n; i++) for (let p = 0; p < k; p++) out[i * k + p] = rowDot(a, i, b, p, dim);
  return out;
}
