import type { PatchInterpretation } from "./interpret";
import type { Neighbour } from "./types";

/**
 * The "mid-layer leap" statistic (LatentLens paper, Fig. 4): for each visual layer, the share of
 * the top-k neighbours that come from each contextual layer. Column 0 is filled the paper's way:
 * EmbeddingLens neighbours count as layer 0, merged with the LatentLens neighbours by similarity
 * before re-taking the top k.
 */
export interface LayerAlignment {
  visualLayers: number[];
  contextualLayers: number[];
  /** `shares[i][j]`: share of visual layer i's top-k neighbours from contextual layer j (rows sum to 1). */
  shares: number[][];
  /** How many neighbours each row counted. */
  counts: number[];
}

/**
 * @param latent per visual layer, per query: LatentLens neighbours (each with `layer` and `similarity`)
 * @param embedding optional, same shape: EmbeddingLens neighbours (layer 0)
 */
export function layerAlignment(latent: Map<number, Neighbour[][]>, k: number, embedding?: Map<number, Neighbour[][]>): LayerAlignment {
  const visualLayers = [...latent.keys()].sort((a, b) => a - b);
  const perRow = new Map<number, Map<number, number>>();
  const contextual = new Set<number>(embedding ? [0] : []);
  for (const v of visualLayers) {
    const tally = new Map<number, number>();
    latent.get(v)!.forEach((neighbours, q) => {
      const merged = [...neighbours, ...(embedding?.get(v)?.[q] ?? []).map((n) => ({ ...n, layer: 0 }))]
        .sort((a, b) => (b.similarity ?? -Infinity) - (a.similarity ?? -Infinity))
        .slice(0, k);
      for (const n of merged) {
        if (n.layer === undefined) throw new RangeError("layerAlignment: a LatentLens neighbour has no contextual layer");
        contextual.add(n.layer);
        tally.set(n.layer, (tally.get(n.layer) ?? 0) + 1);
      }
    });
    perRow.set(v, tally);
  }
  const contextualLayers = [...contextual].sort((a, b) => a - b);
  const counts = visualLayers.map((v) => [...perRow.get(v)!.values()].reduce((a, b) => a + b, 0));
  const shares = visualLayers.map((v, i) => contextualLayers.map((c) => (counts[i] ? (perRow.get(v)!.get(c) ?? 0) / counts[i] : 0)));
  return { visualLayers, contextualLayers, shares, counts };
}

/**
 * The same statistic from interpretImage records: LatentLens records give the contextual layers,
 * EmbeddingLens records (when present) fill column 0.
 */
export function layerAlignmentFromRecords(records: readonly PatchInterpretation[], k: number): LayerAlignment {
  const group = (lens: "latent" | "embedding") => {
    const byLayer = new Map<number, Neighbour[][]>();
    for (const r of records) {
      if (r.lens !== lens) continue;
      (byLayer.get(r.layer) ?? byLayer.set(r.layer, []).get(r.layer)!).push(r.neighbours);
    }
    return byLayer;
  };
  const latent = group("latent");
  if (latent.size === 0) throw new RangeError("layerAlignmentFromRecords: no LatentLens records");
  const embedding = group("embedding");
  return layerAlignment(latent, k, embedding.size > 0 ? embedding : undefined);
}
