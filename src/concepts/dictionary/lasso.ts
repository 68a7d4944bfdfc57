/**
 * Non-negative lasso coding on fixed atoms, the "local interpretation" of a sample:
 *
 *   v = argmin_{v ≥ 0} 0.5‖z − Uᵀv‖² + λ‖v‖₁        (atoms U [K, D], sample z [D], code v [K])
 *
 * the problem scikit-learn's `sparse_encode(z, U, algorithm="lasso_cd", alpha=λ, positive=True)`
 * solves (its `Lasso` divides both terms by D, which leaves the minimiser unchanged). Solved by
 * cyclic coordinate descent on the Gram form (UUᵀ [K, K] and q = Uz [K]), stopped when the duality
 * gap is ≤ tol · ‖z‖² (scikit-learn's criterion and default tol; it is checked after every sweep,
 * which costs O(K) there). λ = 0 has no useful gap; it stops when the largest coordinate step is
 * ≤ tol × the largest coordinate.
 */
import { checkMatrix, productTransposed, rowDot, rowSquaredNorms } from "./matrix";
import type { Matrix } from "./types";
import { describeValue } from "../../errors";

/** scikit-learn's `sparse_encode` defaults for `lasso_cd`: `max_iter` 1000 and its fixed tol 1e-8. */
export const LASSO_MAX_ITER = 1000;
export const LASSO_TOL = 1e-8;

export interface LassoOptions {
  /** L1 penalty λ ≥ 0 (default 1). */
  lambda?: number;
  /** Most coordinate sweeps per sample (default 1000). */
  maxIter?: number;
  /** Duality-gap tolerance relative to ‖z‖² (default 1e-8). */
  tol?: number;
}

/** Duality gap of the non-negative lasso at w (formulation of scikit-learn's `gap_enet_gram`). */
function dualityGap(k: number, q: Float64Array, gw: Float64Array, w: Float64Array, off: number, zz: number, lambda: number): number {
  let wq = 0;
  let wgw = 0;
  let l1 = 0;
  let dualNorm = -Infinity; // max_j (q − Gw)_j: with v ≥ 0 only the positive side binds
  for (let j = 0; j < k; j++) {
    const wj = w[off + j];
    wq += wj * q[j];
    wgw += wj * gw[j];
    l1 += wj;
    const x = q[j] - gw[j];
    if (x > dualNorm) dualNorm = x;
  }
  const r2 = zz + wgw - 2 * wq; // ‖z − Uᵀw‖²
  const ry = zz - wq; // (z − Uᵀw)·z
  const scale = dualNorm > lambda ? lambda / dualNorm : 1;
  return 0.5 * r2 + lambda * l1 - (-0.5 * scale * scale * r2 + scale * ry);
}

/**
 * Solves one sample in place: `w[off .. off+K)` is the warm start (negative entries are
 * set to 0) and receives the code.
 * `gram` [K, K] = UUᵀ, `q` [K] = Uz, `zz` = ‖z‖², `gw` [K] scratch. Returns whether it converged.
 */
export function solveNonNegativeLasso(
  k: number,
  gram: Float64Array,
  q: Float64Array,
  zz: number,
  lambda: number,
  w: Float64Array,
  off: number,
  gw: Float64Array,
  maxIter: number,
  tol: number,
): boolean {
  gw.fill(0);
  for (let j = 0; j < k; j++) {
    if (w[off + j] < 0) w[off + j] = 0; // a warm start from outside the feasible set
    const wj = w[off + j];
    if (wj !== 0) for (let l = 0, g = j * k; l < k; l++) gw[l] += wj * gram[g + l];
  }
  const gapTol = tol * zz;
  if (lambda > 0 && dualityGap(k, q, gw, w, off, zz, lambda) <= gapTol) return true;
  for (let sweep = 0; sweep < maxIter; sweep++) {
    let wMax = 0;
    let stepMax = 0;
    for (let j = 0; j < k; j++) {
      const gjj = gram[j * k + j];
      const old = w[off + j];
      let next = 0;
      if (gjj > 0) {
        const t = q[j] - gw[j] + old * gjj;
        next = t > lambda ? (t - lambda) / gjj : 0;
      }
      if (next !== old) {
        const delta = next - old;
        for (let l = 0, g = j * k; l < k; l++) gw[l] += delta * gram[g + l];
        w[off + j] = next;
        if (Math.abs(delta) > stepMax) stepMax = Math.abs(delta);
      }
      if (next > wMax) wMax = next;
    }
    if (lambda > 0 ? dualityGap(k, q, gw, w, off, zz, lambda) <= gapTol : wMax === 0 || stepMax <= tol * wMax) return true;
  }
  return false;
}

/**
 * Codes of `z` [n, D] on `atoms` [K, D], warm-started from `codes` [n, K] and written back into
 * it. `zNorms2` [n] holds ‖z_i‖². Returns how many samples hit `maxIter` before converging.
 */
export function encodeInPlace(
  atoms: Float64Array,
  k: number,
  dim: number,
  z: Float64Array,
  n: number,
  zNorms2: Float64Array,
  lambda: number,
  codes: Float64Array,
  maxIter = LASSO_MAX_ITER,
  tol = LASSO_TOL,
): number {
  const gram = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) gram[a * k + b] = gram[b * k + a] = rowDot(atoms, a, atoms, b, dim);
  }
  const products = productTransposed(z, n, atoms, k, dim); // [n, K]: row i is q = U z_i
  const gw = new Float64Array(k);
  let unconverged = 0;
  for (let i = 0; i < n; i++) {
    const q = products.subarray(i * k, (i + 1) * k);
    if (!solveNonNegativeLasso(k, gram, q, zNorms2[i], lambda, codes, i * k, gw, maxIter, tol)) unconverged++;
  }
  return unconverged;
}

/**
 * Non-negative lasso codes [n, K] of new samples `z` [n, D] on fixed `atoms` [K, D], each row
 * v_i = argmin_{v ≥ 0} 0.5‖z_i − Uᵀv‖² + λ‖v‖₁, started from zero.
 */
export function lassoEncode(atoms: Matrix, z: Matrix, options: LassoOptions = {}): Matrix<Float64Array> {
  const u = checkMatrix("lassoEncode", "atoms", atoms);
  const x = checkMatrix("lassoEncode", "z", z);
  if (z.cols !== atoms.cols) throw new RangeError(`lassoEncode: z has ${z.cols} columns, the atoms have ${atoms.cols}`);
  const { lambda = 1, maxIter = LASSO_MAX_ITER, tol = LASSO_TOL } = options;
  for (const [name, value, min] of [["lambda", lambda, 0], ["maxIter", maxIter, 1], ["tol", tol, 0]] as const) {
    if (typeof value !== "number") throw new TypeError(`lassoEncode: options.${name} must be a number, got ${describeValue(value)}`);
    if (!Number.isFinite(value) || value < min || (name === "maxIter" && !Number.isInteger(value))) {
      throw new RangeError(`lassoEncode: options.${name} must be ${name === "maxIter" ? "an integer" : "a finite number"} ≥ ${min}, got ${describeValue(value)}`);
    }
  }
  const codes = new Float64Array(z.rows * atoms.rows);
  encodeInPlace(u, atoms.rows, atoms.cols, x, z.rows, rowSquaredNorms(x, z.rows, z.cols), lambda, codes, maxIter, tol);
  return { rows: z.rows, cols: atoms.rows, data: codes };
}
