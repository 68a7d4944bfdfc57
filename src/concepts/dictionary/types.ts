/**
 * The concept-dictionary interface (Parekh et al., NeurIPS 2024): a method factors a matrix Z of
 * M representations × D dims into K concept atoms and per-sample concept activations,
 * Z ≈ V U with atoms U [K, D] and codes V [M, K]. Adding a method means adding one file that
 * exports a `DictionaryMethod` and listing it in `index.ts`.
 */

export const DICTIONARY_METHODS = ["snmf", "kmeans", "pca", "simple"] as const;
export type DictionaryMethodName = (typeof DICTIONARY_METHODS)[number];

export function isDictionaryMethodName(value: unknown): value is DictionaryMethodName {
  return typeof value === "string" && (DICTIONARY_METHODS as readonly string[]).includes(value);
}

/** A dense row-major matrix: entry (i, j) is `data[i * cols + j]`. */
export interface Matrix<T extends Float32Array | Float64Array = Float32Array | Float64Array> {
  rows: number;
  cols: number;
  data: T;
}

export interface DictionaryOptions {
  /** Number of concepts K (default 20, as in the paper). */
  k?: number;
  /** Seed of every random choice the method makes (default 0). */
  seed?: number;
  /** L1 penalty λ on the codes (snmf only; default 1, scikit-learn's `alpha`). */
  lambda?: number;
  /** Most outer iterations (snmf default 1000, kmeans default 300). */
  maxIter?: number;
  /** Convergence tolerance (snmf: relative objective decrease, default 1e-8; kmeans: relative centre shift, default 1e-4). */
  tol?: number;
  /** Initial atoms [K, D] (snmf: initial dictionary; kmeans: initial centres). pca and simple take none. */
  init?: Matrix;
}

/**
 * The settings a dictionary was fitted with, every default filled in, for provenance. Settings a
 * method does not use (λ outside snmf; seed, maxIter and tol for pca and simple) are recorded as given.
 */
export interface DictionarySettings {
  k: number;
  seed: number;
  lambda: number;
  maxIter: number;
  tol: number;
  /** Where the atoms started: "svd" (snmf), "k-means++" (kmeans), "given" (`init`), "none". */
  init: "svd" | "k-means++" | "given" | "none";
}

/** How the fit went; each method fills the fields that mean something for it. */
export interface FitReport {
  /** Outer iterations run (0 for the closed-form methods). */
  iterations: number;
  /** Whether the tolerance was met before `maxIter` (true for closed-form methods). */
  converged: boolean;
  /** snmf: 0.5‖Z − V U‖²_F + λ‖V‖₁,₁ for the returned codes and atoms; kmeans: the inertia. */
  objective?: number;
  /** snmf: the objective after each iteration, as scikit-learn's `error_`. */
  history?: number[];
  /** snmf: atoms that fell out of use and were re-drawn from the data. */
  resampledAtoms?: number;
  /** pca: variance along each component [K] (divided by M − 1) and its share of the total. */
  explainedVariance?: Float64Array;
  explainedVarianceRatio?: Float64Array;
}

export interface Dictionary {
  method: DictionaryMethodName;
  /** Number of concepts K. */
  k: number;
  /** Width D of the representations. */
  dim: number;
  /** [K, D]: atom u_k is row k. */
  atoms: Matrix<Float64Array>;
  /** [M, K]: activation of each concept for each training sample. */
  codes: Matrix<Float64Array>;
  /** [D]: the mean subtracted from a sample before encoding (pca); null when nothing is. */
  center: Float64Array | null;
  settings: DictionarySettings;
  report: FitReport;
}

export interface DictionaryMethod {
  name: DictionaryMethodName;
  /** Learns K concepts from `z` [M, D]. */
  fit(z: Matrix, options?: DictionaryOptions): Dictionary;
  /** Activations [n, K] of new samples `z` [n, D] on a dictionary this method fitted. */
  encode(dictionary: Dictionary, z: Matrix): Matrix<Float64Array>;
}
