/**
 * PCA baseline concept dictionary (Parekh et al. 2024): the atoms are the K leading principal
 * directions of the centred data Z − μ, sorted by explained variance; a sample's activations are
 * its signed projections (z − μ) · u_k. Needs K ≤ D.
 *
 * Sign convention (scikit-learn's `PCA`, `svd_flip(u_based_decision=False)`): each component's
 * largest-|·| entry is positive (the first such entry on a tie). Explained variance is s_k² / (M − 1),
 * its ratio s_k² / ‖Z − μ‖²_F. A component beyond the rank of Z − μ (at most M − 1) is a zero atom
 * with zero variance. Nothing is random and nothing iterates: the seed, λ, maxIter and tol
 * are recorded but unused.
 */
import { checkEncode, checkMatrix, resolveOptions } from "./matrix";
import { topSingular } from "./svd";
import type { Dictionary, DictionaryMethod, DictionaryOptions, Matrix } from "./types";

/** Projections [n, K] of `z` [n, D] minus `center` [D] onto `atoms` [K, D]. */
function project(atoms: Float64Array, k: number, dim: number, center: Float64Array, z: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * k);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) row[d] = z[i * dim + d] - center[d];
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let d = 0, up = p * dim; d < dim; d++) s += row[d] * atoms[up + d];
      out[i * k + p] = s;
    }
  }
  return out;
}

function fit(z: Matrix, options?: DictionaryOptions): Dictionary {
  const x = checkMatrix("pca", "z", z);
  const { settings } = resolveOptions("pca", z, options, { maxIter: 1, tol: 0, init: "none", acceptsInit: false, kAtMostDim: true });
  const { k } = settings;
  const m = z.rows;
  const dim = z.cols;
  const center = new Float64Array(dim);
  for (let i = 0; i < m; i++) for (let d = 0; d < dim; d++) center[d] += x[i * dim + d];
  for (let d = 0; d < dim; d++) center[d] /= m;
  const centred = new Float64Array(m * dim);
  let total = 0;
  for (let i = 0; i < m * dim; i++) {
    centred[i] = x[i] - center[i % dim];
    total += centred[i] * centred[i];
  }

  const svd = topSingular(centred, m, dim, k);
  const atoms = svd.right;
  for (let p = 0; p < k; p++) {
    let best = p * dim;
    for (let j = p * dim + 1; j < (p + 1) * dim; j++) if (Math.abs(atoms[j]) > Math.abs(atoms[best])) best = j;
    if (atoms[best] < 0) for (let j = p * dim; j < (p + 1) * dim; j++) atoms[j] = -atoms[j];
  }
  const explainedVariance = svd.values.map((s) => (s * s) / Math.max(m - 1, 1));
  const explainedVarianceRatio = svd.values.map((s) => (total > 0 ? (s * s) / total : 0));
  return {
    method: "pca",
    k,
    dim,
    atoms: { rows: k, cols: dim, data: atoms },
    codes: { rows: m, cols: k, data: project(atoms, k, dim, new Float64Array(dim), centred, m) },
    center,
    settings,
    report: { iterations: 0, converged: true, explainedVariance, explainedVarianceRatio },
  };
}

function encode(dictionary: Dictionary, z: Matrix): Matrix<Float64Array> {
  const x = checkEncode("pca", dictionary, z);
  const center = dictionary.center ?? new Float64Array(dictionary.dim);
  return { rows: z.rows, cols: dictionary.k, data: project(dictionary.atoms.data, dictionary.k, dictionary.dim, center, x, z.rows) };
}

export const pca: DictionaryMethod = { name: "pca", fit, encode };
