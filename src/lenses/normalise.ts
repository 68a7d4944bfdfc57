/** A copy of `[n, dim]` rows, each divided by its L2 norm (zero rows stay zero). */
export function normaliseRows(data: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / dim; r++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += data[r * dim + d] ** 2;
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let d = 0; d < dim; d++) out[r * dim + d] = data[r * dim + d] * inv;
  }
  return out;
}
