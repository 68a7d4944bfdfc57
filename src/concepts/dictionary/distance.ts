/**
 * The activation the distance-based baselines (kmeans, simple) give a sample for a concept:
 * a_k(z) = 1 / (1 + ‖z − u_k‖₂), in (0, 1], 1 when z is the atom itself.
 */

/** Activations [n, K] of samples `z` [n, D] for atoms [K, D]. */
export function distanceActivations(atoms: Float64Array, k: number, dim: number, z: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const zi = i * dim;
    for (let p = 0; p < k; p++) {
      const up = p * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) {
        const diff = z[zi + d] - atoms[up + d];
        s += diff * diff;
      }
      out[i * k + p] = 1 / (1 + Math.sqrt(s));
    }
  }
  return out;
}

/** ‖row i of `a` − row j of `b`‖², both `dim` wide. */
export function squaredDistance(a: Float64Array, i: number, b: Float64Array, j: number, dim: number): number {
  let s = 0;
  const ai = i * dim;
  const bj = j * dim;
  for (let d = 0; d < dim; d++) {
    const diff = a[ai + d] - b[bj + d];
    s += diff * diff;
  }
  return s;
}
