import type { AttributionResult } from "./types";

const list = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));

/** `[rows][cols]` of a per-patch series, row-major over the grid (null where the value is not finite). */
export function toGrid(values: ArrayLike<number>, grid: readonly [number, number]): (number | null)[][] {
  const [rows, cols] = grid;
  if (values.length !== rows * cols) throw new RangeError(`toGrid: ${values.length} values for a ${rows}x${cols} grid`);
  return Array.from({ length: rows }, (_, r) => list(Array.prototype.slice.call(values, r * cols, (r + 1) * cols) as number[]));
}

/**
 * The result as plain JSON (what `vislens attribute --json` prints): typed arrays become arrays,
 * per-patch maps become `[rows][cols]` grids, NaN becomes null, and the image pixels are left out.
 */
export function attributionToJSON(r: AttributionResult): Record<string, unknown> {
  const { numLayers: N, numHeads: H } = r;
  const full = r.patches.length === r.grid[0] * r.grid[1];
  const map = (values: ArrayLike<number>) => (full ? toGrid(values, r.grid) : list(values));
  return {
    model: r.model,
    prompt: r.prompt,
    tokens: r.tokens,
    position: r.position,
    target: r.target,
    layers: N,
    heads: H,
    headScores: Array.from({ length: N }, (_, l) => list(r.headScores.subarray(l * H, (l + 1) * H))),
    topHeads: r.rankedHeads.slice(0, 10),
    layerScores: r.layerScores,
    grid: r.grid,
    patches: r.patches.map(({ row, col, box, isPadding }) => ({ row, col, box, isPadding })),
    positionMap: map(r.positionMap),
    attentionMap: map(r.attentionMap),
    headPositions: r.headPositions.map((h) => ({ layer: h.layer, head: h.head, headScore: h.headScore, patches: map(h.patches) })),
    topPositions: r.topPositions,
    ...(r.ablation
      ? {
          ablation: {
            baseline: r.ablation.baseline,
            logProb: r.ablation.logProb,
            patchDrops: map(r.ablation.patchDrops),
            heads: r.ablation.heads,
            spearman: {
              positions: list([r.ablation.spearmanPositions])[0],
              attention: list([r.ablation.spearmanAttention])[0],
              heads: list([r.ablation.spearmanHeads])[0],
            },
          },
        }
      : {}),
  };
}
