/**
 * K-means baseline concept dictionary (Parekh et al. 2024): the atoms are the K centroids of
 * Lloyd's algorithm on the uncentred data; a sample's activation of concept k is
 * 1 / (1 + ‖z − c_k‖₂).
 *
 * Initial centres: `options.init` [K, D], else greedy k-means++ (seeded; 2 + ⌊ln K⌋ candidates per
 * centre, the one that lowers the potential most is kept, as scikit-learn does). Lloyd's
 * iterations stop, as scikit-learn's `KMeans(algorithm="lloyd")`: when no label changes, or when
 * the summed squared centre shift is ≤ tol × the mean per-column variance of Z, or after maxIter
 * (default 300, tol 1e-4). An emptied cluster takes the point farthest from its centre. The
 * final labels are those of the final centres; the report's objective is the inertia
 * Σ_i min_k ‖z_i − c_k‖².
 */
import { seededRandom } from "../../util/random";
import { distanceActivations, squaredDistance } from "./distance";
import { checkEncode, checkMatrix, resolveOptions } from "./matrix";
import type { Dictionary, DictionaryMethod, DictionaryOptions, Matrix } from "./types";

/** Greedy k-means++ centres [K, D] of `z` [m, D]. */
export function kmeansPlusPlus(z: Float64Array, m: number, dim: number, k: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const centres = new Float64Array(k * dim);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.min(m - 1, Math.floor(random() * m));
  centres.set(z.subarray(first * dim, (first + 1) * dim));
  const closest = new Float64Array(m);
  for (let i = 0; i < m; i++) closest[i] = squaredDistance(z, i, centres, 0, dim);
  const candidate = new Float64Array(m);
  const best = new Float64Array(m);
  for (let c = 1; c < k; c++) {
    const potential = closest.reduce((s, v) => s + v, 0);
    let bestPotential = Infinity;
    let bestId = 0;
    for (let t = 0; t < trials; t++) {
      let target = random() * potential; // sample ∝ squared distance to the nearest centre
      let id = 0;
      while (id < m - 1 && target >= closest[id]) target -= closest[id++];
      let pot = 0;
      for (let i = 0; i < m; i++) {
        candidate[i] = Math.min(closest[i], squaredDistance(z, i, z, id, dim));
        pot += candidate[i];
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestId = id;
        best.set(candidate);
      }
    }
    centres.set(z.subarray(bestId * dim, (bestId + 1) * dim), c * dim);
    closest.set(best);
  }
  return centres;
}

/** Labels of each sample (nearest centre, ties to the lower index) and their squared distances. */
function assign(z: Float64Array, m: number, dim: number, centres: Float64Array, k: number, labels: Int32Array, dist: Float64Array): void {
  for (let i = 0; i < m; i++) {
    let bestK = 0;
    let bestD = Infinity;
    for (let p = 0; p < k; p++) {
      const d = squaredDistance(z, i, centres, p, dim);
      if (d < bestD) {
        bestD = d;
        bestK = p;
      }
    }
    labels[i] = bestK;
    dist[i] = bestD;
  }
}

/** New centres: the mean of each cluster; an empty cluster takes the farthest point still unmoved. */
function recentre(z: Float64Array, m: number, dim: number, k: number, labels: Int32Array, dist: Float64Array, out: Float64Array): void {
  const counts = new Float64Array(k);
  out.fill(0);
  for (let i = 0; i < m; i++) {
    counts[labels[i]]++;
    for (let d = 0, o = labels[i] * dim, zi = i * dim; d < dim; d++) out[o + d] += z[zi + d];
  }
  const empty = [];
  for (let p = 0; p < k; p++) if (counts[p] === 0) empty.push(p);
  if (empty.length > 0) {
    const far = Array.from({ length: m }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b);
    empty.forEach((p, n) => {
      const i = far[n];
      const from = labels[i];
      counts[from]--;
      for (let d = 0; d < dim; d++) out[from * dim + d] -= z[i * dim + d];
      counts[p] = 1;
      out.set(z.subarray(i * dim, (i + 1) * dim), p * dim);
      labels[i] = p;
    });
  }
  for (let p = 0; p < k; p++) if (counts[p] > 0) for (let d = 0; d < dim; d++) out[p * dim + d] /= counts[p];
}

function fit(z: Matrix, options?: DictionaryOptions): Dictionary {
  const x = checkMatrix("kmeans", "z", z);
  const { settings, init } = resolveOptions("kmeans", z, options, { maxIter: 300, tol: 1e-4, init: "k-means++", acceptsInit: true });
  const { k, maxIter } = settings;
  const m = z.rows;
  const dim = z.cols;
  let centres: Float64Array = init ? Float64Array.from(init) : kmeansPlusPlus(x, m, dim, k, settings.seed);
  let next: Float64Array = new Float64Array(k * dim);

  let meanVariance = 0; // scikit-learn scales tol by the mean per-column variance
  for (let d = 0; d < dim; d++) {
    let mean = 0;
    for (let i = 0; i < m; i++) mean += x[i * dim + d] / m;
    for (let i = 0; i < m; i++) meanVariance += (x[i * dim + d] - mean) ** 2 / m / dim;
  }
  const tol = settings.tol * meanVariance;

  const labels = new Int32Array(m).fill(-1);
  const previous = new Int32Array(m).fill(-1);
  const dist = new Float64Array(m);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    assign(x, m, dim, centres, k, labels, dist);
    recentre(x, m, dim, k, labels, dist, next);
    let shift = 0;
    for (let j = 0; j < centres.length; j++) shift += (next[j] - centres[j]) ** 2;
    [centres, next] = [next, centres];
    iterations++;
    if (labels.every((l, i) => l === previous[i])) {
      converged = true;
      break;
    }
    if (shift <= tol) {
      converged = true;
      break;
    }
    previous.set(labels);
  }
  assign(x, m, dim, centres, k, labels, dist); // labels and distances of the final centres
  return {
    method: "kmeans",
    k,
    dim,
    atoms: { rows: k, cols: dim, data: centres },
    codes: { rows: m, cols: k, data: distanceActivations(centres, k, dim, x, m) },
    center: null,
    settings,
    report: { iterations, converged, objective: dist.reduce((s, v) => s + v, 0) },
  };
}

function encode(dictionary: Dictionary, z: Matrix): Matrix<Float64Array> {
  const x = checkEncode("kmeans", dictionary, z);
  return { rows: z.rows, cols: dictionary.k, data: distanceActivations(dictionary.atoms.data, dictionary.k, dictionary.dim, x, z.rows) };
}

export const kmeans: DictionaryMethod = { name: "kmeans", fit, encode };
