/**
 * A dense float32 tensor in row-major order. Shapes are stated in the doc comment of every field
 * that holds one, e.g. `[layers, tokens, dim]`.
 */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function tensorSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The given positions of the second axis of a `[A, B, C]` tensor, as a new `[A, positions.length, C]` tensor. */
export function selectRows(t: Tensor, positions: readonly number[]): Tensor {
  const [a, b, c] = t.shape;
  const out = new Float32Array(a * positions.length * c);
  for (let i = 0; i < a; i++) {
    positions.forEach((p, j) => {
      if (p < 0 || p >= b) throw new RangeError(`selectRows: position ${p} outside 0..${b - 1}`);
      out.set(t.data.subarray((i * b + p) * c, (i * b + p + 1) * c), (i * positions.length + j) * c);
    });
  }
  return { shape: [a, positions.length, c], data: out };
}
