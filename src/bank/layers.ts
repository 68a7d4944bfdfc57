/**
 * Which LLM layers a contextual bank stores. Layer indices follow the hidden-state convention
 * (docs/bundle-format.md): 0 = input embeddings, i = output of block i.
 */

/**
 * The paper's rule: {1, 2, 4, 8, 16, 24} below N, plus N-2 and N-1 (for a 32-layer LLM:
 * 1,2,4,8,16,24,30,31). Layer 0 is left out because it is the static input embedding, which
 * EmbeddingLens already covers.
 */
export function defaultContextualLayers(numLayers: number): number[] {
  if (!Number.isInteger(numLayers) || numLayers < 1) throw new RangeError(`numLayers must be a positive integer, got ${numLayers}`);
  const layers = new Set([1, 2, 4, 8, 16, 24].filter((l) => l < numLayers));
  for (const l of [numLayers - 2, numLayers - 1]) if (l >= 1) layers.add(l);
  return [...layers].sort((a, b) => a - b);
}

/** Parses "1,2,4" or "all" (every block output 1..N) against a model with `numLayers` blocks. */
export function parseLayerList(spec: string, numLayers: number): number[] {
  if (spec.trim() === "all") return Array.from({ length: numLayers }, (_, i) => i + 1);
  const layers = spec.split(",").map((part) => {
    const text = part.trim();
    const n = Number(text);
    if (text === "" || !Number.isInteger(n) || n < 0 || n > numLayers) {
      throw new RangeError(`layer ${JSON.stringify(text)} in ${JSON.stringify(spec)} is not an integer in 0..${numLayers}`);
    }
    return n;
  });
  return [...new Set(layers)].sort((a, b) => a - b);
}
