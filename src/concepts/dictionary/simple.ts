/**
 * "Simple" baseline concept dictionary (Parekh et al. 2024): the atoms are the K training samples
 * of largest L2 norm, in decreasing order of norm (ties: the earlier row first, as a stable
 * argsort of −‖z_i‖). A sample's activation of concept k is 1 / (1 + ‖z − u_k‖₂). Nothing is
 * random and nothing iterates: the seed, λ, maxIter and tol are recorded but unused.
 */
import { distanceActivations } from "./distance";
import { checkEncode, checkMatrix, resolveOptions, rowSquaredNorms } from "./matrix";
import type { Dictionary, DictionaryMethod, DictionaryOptions, Matrix } from "./types";

/** Row indices of the `k` largest-norm rows of `z` [m, dim], largest first, ties by index. */
export function largestNormRows(z: Float64Array, m: number, dim: number, k: number): number[] {
  const norms = rowSquaredNorms(z, m, dim);
  const order = Array.from({ length: m }, (_, i) => i);
  order.sort((a, b) => norms[b] - norms[a] || a - b);
  return order.slice(0, k);
}

function fit(z: Matrix, options?: DictionaryOptions): Dictionary {
  const x = checkMatrix("simple", "z", z);
  const { settings } = resolveOptions("simple", z, options, { maxIter: 1, tol: 0, init: "none", acceptsInit: false });
  const { k } = settings;
  const dim = z.cols;
  const atoms = new Float64Array(k * dim);
  largestNormRows(x, z.rows, dim, k).forEach((row, p) => atoms.set(x.subarray(row * dim, (row + 1) * dim), p * dim));
  return {
    method: "simple",
    k,
    dim,
    atoms: { rows: k, cols: dim, data: atoms },
    codes: { rows: z.rows, cols: k, data: distanceActivations(atoms, k, dim, x, z.rows) },
    center: null,
    settings,
    report: { iterations: 0, converged: true },
  };
}

function encode(dictionary: Dictionary, z: Matrix): Matrix<Float64Array> {
  const x = checkEncode("simple", dictionary, z);
  return { rows: z.rows, cols: dictionary.k, data: distanceActivations(dictionary.atoms.data, dictionary.k, dictionary.dim, x, z.rows) };
}

export const simple: DictionaryMethod = { name: "simple", fit, encode };
