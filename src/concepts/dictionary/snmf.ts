/**
 * "Semi-NMF" concept dictionary (Parekh et al. 2024, as their code runs it): sparse dictionary
 * learning with non-negative codes on uncentred data,
 *
 *   min over V ≥ 0 [M, K], U [K, D] with ‖u_k‖₂ ≤ 1 of  0.5‖Z − V U‖²_F + λ‖V‖₁,₁
 *
 * the problem of scikit-learn's `DictionaryLearning(n_components=K, alpha=λ, positive_code=True,
 * fit_algorithm="cd", transform_algorithm="lasso_cd")`. Alternating minimisation, one step each per
 * iteration:
 *   codes: non-negative lasso per sample by coordinate descent, warm-started (lasso.ts);
 *   atoms: one pass of block coordinate descent, u_k += (Vᵀ Z − VᵀV U)_k / (VᵀV)_kk, then the
 *          projection u_k /= max(‖u_k‖, 1). An atom no sample uses ((VᵀV)_kk ≤ 1e-6) is re-drawn:
 *          a random sample (seeded) plus Gaussian noise of 1% of that sample's std, and its codes
 *          are zeroed.
 * It stops when the objective decreases by less than tol × the objective, or after maxIter.
 * Initialisation (as scikit-learn): Z's SVD, codes = leading left singular vectors (each with its
 * largest-|·| entry positive), atoms = s_k v_kᵀ; zero atoms when K > rank(Z). With `init` atoms
 * the first code step starts from zero codes. The seed is used only for re-drawn atoms.
 */
import { seededRandom } from "../../util/random";
import { encodeInPlace, LASSO_MAX_ITER, LASSO_TOL } from "./lasso";
import { checkEncode, checkMatrix, resolveOptions, rowDot, rowSquaredNorms } from "./matrix";
import { topSingular } from "./svd";
import type { Dictionary, DictionaryMethod, DictionaryOptions, Matrix } from "./types";

/** scikit-learn's threshold below which an atom counts as unused. */
const UNUSED_ATOM = 1e-6;

/** Standard normal draws from a uniform stream (Box-Muller). */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A = VᵀV [K, K] and Bt = VᵀZ [K, D] for codes V [M, K] and data Z [M, D]; skips zero codes. */
function codeStatistics(codes: Float64Array, z: Float64Array, m: number, k: number, dim: number): { a: Float64Array; bt: Float64Array } {
  const a = new Float64Array(k * k);
  const bt = new Float64Array(k * dim);
  for (let i = 0; i < m; i++) {
    const ci = i * k;
    const zi = i * dim;
    for (let p = 0; p < k; p++) {
      const v = codes[ci + p];
      if (v === 0) continue;
      for (let r = p; r < k; r++) a[p * k + r] += v * codes[ci + r];
      const bp = p * dim;
      for (let d = 0; d < dim; d++) bt[bp + d] += v * z[zi + d];
    }
  }
  for (let p = 0; p < k; p++) for (let r = 0; r < p; r++) a[p * k + r] = a[r * k + p];
  return { a, bt };
}

/**
 * One block-coordinate pass over the atoms [K, D] in place, given A = VᵀV and Bt = VᵀZ (zeroed
 * for a re-drawn atom, whose codes are zeroed too). Returns how many atoms were re-drawn.
 */
function updateAtoms(
  atoms: Float64Array, codes: Float64Array, a: Float64Array, bt: Float64Array,
  z: Float64Array, m: number, k: number, dim: number, random: () => number, normal: () => number,
): number {
  const step = new Float64Array(dim);
  let redrawn = 0;
  for (let p = 0; p < k; p++) {
    const up = p * dim;
    if (a[p * k + p] > UNUSED_ATOM) {
      step.set(bt.subarray(up, up + dim));
      for (let r = 0; r < k; r++) {
        const arp = a[p * k + r];
        if (arp === 0) continue;
        for (let d = 0, ur = r * dim; d < dim; d++) step[d] -= arp * atoms[ur + d];
      }
      const inv = 1 / a[p * k + p];
      for (let d = 0; d < dim; d++) atoms[up + d] += step[d] * inv;
    } else {
      const zi = Math.min(m - 1, Math.floor(random() * m)) * dim;
      let mean = 0;
      for (let d = 0; d < dim; d++) mean += z[zi + d] / dim;
      let variance = 0;
      for (let d = 0; d < dim; d++) variance += (z[zi + d] - mean) ** 2 / dim;
      const level = 0.01 * (Math.sqrt(variance) || 1);
      for (let d = 0; d < dim; d++) atoms[up + d] = z[zi + d] + level * normal();
      for (let i = 0; i < m; i++) codes[i * k + p] = 0;
      for (let r = 0; r < k; r++) a[p * k + r] = a[r * k + p] = 0;
      bt.fill(0, up, up + dim);
      redrawn++;
    }
    const norm = Math.sqrt(rowDot(atoms, p, atoms, p, dim));
    if (norm > 1) for (let d = 0; d < dim; d++) atoms[up + d] /= norm;
  }
  return redrawn;
}

/** 0.5‖Z − VU‖² + λ‖V‖₁ from A = VᵀV, Bt = VᵀZ, ‖Z‖² and the atoms: O(K²D), no pass over Z. */
function objectiveFromStatistics(atoms: Float64Array, a: Float64Array, bt: Float64Array, zz: number, l1: number, lambda: number, k: number, dim: number): number {
  let cross = 0;
  let quad = 0;
  for (let p = 0; p < k; p++) {
    cross += rowDot(bt, p, atoms, p, dim);
    for (let r = p; r < k; r++) {
      const arp = a[p * k + r];
      if (arp !== 0) quad += (r === p ? 1 : 2) * arp * rowDot(atoms, p, atoms, r, dim);
    }
  }
  return 0.5 * Math.max(zz - 2 * cross + quad, 0) + lambda * l1;
}

/** 0.5‖Z − VU‖² + λ‖V‖₁ computed from the residuals directly. */
export function snmfObjective(z: Float64Array, codes: Float64Array, atoms: Float64Array, m: number, k: number, dim: number, lambda: number): number {
  const residual = new Float64Array(dim);
  let squares = 0;
  let l1 = 0;
  for (let i = 0; i < m; i++) {
    residual.set(z.subarray(i * dim, (i + 1) * dim));
    for (let p = 0; p < k; p++) {
      const v = codes[i * k + p];
      if (v === 0) continue;
      l1 += Math.abs(v);
      for (let d = 0, up = p * dim; d < dim; d++) residual[d] -= v * atoms[up + d];
    }
    for (let d = 0; d < dim; d++) squares += residual[d] * residual[d];
  }
  return 0.5 * squares + lambda * l1;
}

function fit(z: Matrix, options?: DictionaryOptions): Dictionary {
  const x = checkMatrix("snmf", "z", z);
  const { settings, init } = resolveOptions("snmf", z, options, { maxIter: 1000, tol: 1e-8, init: "svd", acceptsInit: true });
  const { k, lambda, maxIter, tol } = settings;
  const m = z.rows;
  const dim = z.cols;
  const atoms = new Float64Array(k * dim);
  const codes = new Float64Array(m * k);
  if (init) {
    atoms.set(init);
  } else {
    const r = Math.min(k, m, dim);
    const svd = topSingular(x, m, dim, r);
    for (let c = 0; c < r; c++) {
      let best = 0; // the largest-|·| entry of u_c decides its sign (scikit-learn's svd_flip)
      for (let i = 1; i < m; i++) if (Math.abs(svd.left[i * r + c]) > Math.abs(svd.left[best * r + c])) best = i;
      const sign = svd.left[best * r + c] < 0 ? -1 : 1;
      for (let i = 0; i < m; i++) codes[i * k + c] = sign * svd.left[i * r + c];
      for (let d = 0; d < dim; d++) atoms[c * dim + d] = sign * svd.values[c] * svd.right[c * dim + d];
    }
  }

  const zNorms2 = rowSquaredNorms(x, m, dim);
  const zz = zNorms2.reduce((s, v) => s + v, 0);
  const random = seededRandom(settings.seed);
  const normal = gaussian(random);
  const history: number[] = [];
  let resampledAtoms = 0;
  let converged = false;
  let iterations = 0;
  while (iterations < maxIter) {
    encodeInPlace(atoms, k, dim, x, m, zNorms2, lambda, codes, LASSO_MAX_ITER, LASSO_TOL);
    const { a, bt } = codeStatistics(codes, x, m, k, dim);
    resampledAtoms += updateAtoms(atoms, codes, a, bt, x, m, k, dim, random, normal);
    let l1 = 0;
    for (let i = 0; i < codes.length; i++) l1 += codes[i];
    history.push(objectiveFromStatistics(atoms, a, bt, zz, l1, lambda, k, dim));
    iterations++;
    const n = history.length;
    if (n > 1 && history[n - 2] - history[n - 1] <= tol * history[n - 1]) {
      converged = true;
      break;
    }
  }
  return {
    method: "snmf",
    k,
    dim,
    atoms: { rows: k, cols: dim, data: atoms },
    codes: { rows: m, cols: k, data: codes },
    center: null,
    settings,
    report: { iterations, converged, objective: snmfObjective(x, codes, atoms, m, k, dim, lambda), history, resampledAtoms },
  };
}

/** Codes [n, K] of new samples: the non-negative lasso on the atoms with the dictionary's λ. */
function encode(dictionary: Dictionary, z: Matrix): Matrix<Float64Array> {
  const x = checkEncode("snmf", dictionary, z);
  const { k, dim } = dictionary;
  const codes = new Float64Array(z.rows * k);
  encodeInPlace(dictionary.atoms.data, k, dim, x, z.rows, rowSquaredNorms(x, z.rows, dim), dictionary.settings.lambda, codes);
  return { rows: z.rows, cols: k, data: codes };
}

export const snmf: DictionaryMethod = { name: "snmf", fit, encode };
