/**
 * The K leading singular triplets of a data matrix, Z ≈ Σ_k s_k u_k v_kᵀ, from the symmetric
 * eigen-decomposition (ml-matrix) of the smaller Gram matrix: ZᵀZ [D, D] when D ≤ M, else
 * ZZᵀ [M, M]. The other side's vectors follow as u_k = Z v_k / s_k (or v_k = Zᵀ u_k / s_k).
 * Only leading components are asked for, where this is as accurate as a direct SVD; a component
 * whose singular value is below 1e-12 · s_1 (a rank-deficient Z) gets s_k = 0 and zero vectors.
 * Signs are the decomposition's; callers fix their own convention.
 */
import { EigenvalueDecomposition, Matrix as MlMatrix } from "ml-matrix";
import { productTransposed } from "./matrix";

export interface SingularTriplets {
  /** [K]: s_1 ≥ s_2 ≥ … ≥ 0. */
  values: Float64Array;
  /** [M, K]: column k is u_k. */
  left: Float64Array;
  /** [K, D]: row k is v_k. */
  right: Float64Array;
}

function transpose(data: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
  return t;
}

/** The `k` leading singular triplets of `z` [rows, cols]; k ≤ min(rows, cols). */
export function topSingular(z: Float64Array, rows: number, cols: number, k: number): SingularTriplets {
  const byColumns = cols <= rows; // eigen-decompose ZᵀZ (the small side is D)
  const n = byColumns ? cols : rows;
  const a = byColumns ? transpose(z, rows, cols) : z; // [n, other]: the rows whose Gram we take
  const other = byColumns ? rows : cols;
  const evd = new EigenvalueDecomposition(MlMatrix.from1DArray(n, n, productTransposed(a, n, a, n, other)), { assumeSymmetric: true });
  const eigenvalues = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = eigenvalues.map((_, i) => i).sort((p, q) => eigenvalues[q] - eigenvalues[p] || p - q);

  const values = new Float64Array(k);
  const left = new Float64Array(rows * k);
  const right = new Float64Array(k * cols);
  const near = new Float64Array(n); // eigenvector on the small side
  const far = new Float64Array(other); // the matching vector on the other side
  const top = Math.sqrt(Math.max(eigenvalues[order[0]], 0));
  for (let c = 0; c < k; c++) {
    const s = Math.sqrt(Math.max(eigenvalues[order[c]], 0));
    if (!(s > 1e-12 * top)) continue; // rank-deficient: s = 0, zero vectors
    values[c] = s;
    for (let i = 0; i < n; i++) near[i] = vectors.get(i, order[c]);
    // far = aᵀ near / s, with a [n, other]
    far.fill(0);
    for (let i = 0; i < n; i++) {
      const w = near[i] / s;
      if (w === 0) continue;
      for (let j = 0, o = i * other; j < other; j++) far[j] += w * a[o + j];
    }
    const u = byColumns ? far : near; // [rows]
    const v = byColumns ? near : far; // [cols]
    for (let i = 0; i < rows; i++) left[i * k + c] = u[i];
    right.set(v, c * cols);
  }
  return { values, left, right };
}
