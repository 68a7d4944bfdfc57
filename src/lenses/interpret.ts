import type { ImageHiddenStates } from "../model/hidden";
import type { Lens, LensName, Neighbour } from "./types";

/** One lens's answer for one visual token at one LLM layer. */
export interface PatchInterpretation {
  lens: LensName;
  /** The visual token's layer (0 = LLM input). */
  layer: number;
  patch: { index: number; row: number; col: number };
  neighbours: Neighbour[];
}

export interface InterpretOptions {
  /** Visual layers to read (default: every layer 0..N). */
  layers?: number[];
  /** Visual token indices (row-major) to read (default: all). */
  patches?: number[];
  /** Neighbours per query (default 5). */
  k?: number;
}

/** Queries per lens call: several layers' patches go together, up to this many. */
const QUERIES_PER_CALL = 2048;

/**
 * Runs lenses over an image's visual tokens. Each lens gets the chosen patches of several layers
 * at once (up to 2,048 queries per call): one image's patches at once is what the search kernel
 * is fastest at, and more rows per call make each GEMM (LogitLens's unembedding, the searches of
 * EmbeddingLens and LatentLens) more efficient.
 */
export async function interpretImage(states: ImageHiddenStates, lenses: readonly Lens[], options: InterpretOptions = {}): Promise<PatchInterpretation[]> {
  const [L, T, D] = states.visual.shape;
  const layers = options.layers ?? Array.from({ length: L }, (_, i) => i);
  const patches = options.patches ?? Array.from({ length: T }, (_, i) => i);
  const k = options.k ?? 5;
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l >= L) throw new RangeError(`layer ${l} is outside 0..${L - 1}`);
  for (const p of patches) if (!Number.isInteger(p) || p < 0 || p >= T) throw new RangeError(`patch ${p} is outside 0..${T - 1}`);
  const out: PatchInterpretation[] = [];
  const perCall = Math.max(1, Math.floor(QUERIES_PER_CALL / Math.max(1, patches.length)));
  for (const lens of lenses) {
    if (lens.dim !== D) throw new RangeError(`lens ${lens.name} reads vectors of width ${lens.dim}, the hidden states have width ${D}`);
    for (let start = 0; start < layers.length; start += perCall) {
      const group = layers.slice(start, start + perCall);
      const queries = new Float32Array(group.length * patches.length * D);
      group.forEach((layer, g) =>
        patches.forEach((p, i) => queries.set(states.visual.data.subarray((layer * T + p) * D, (layer * T + p + 1) * D), (g * patches.length + i) * D)),
      );
      const answers = await lens.interpret(queries, k);
      group.forEach((layer, g) =>
        patches.forEach((p, i) => {
          const { row, col } = states.patches[p];
          out.push({ lens: lens.name, layer, patch: { index: p, row, col }, neighbours: answers[g * patches.length + i] });
        }),
      );
    }
  }
  return out;
}
