import * as path from "node:path";
import type { Lens, LensName } from "../lenses/types";
import { interpretImage } from "../lenses/interpret";
import type { Bundle } from "../model/bundle";
import { imageHiddenStates } from "../model/hidden";
import { sampleCentrePatch } from "./sample-patches";
import { judgePatch, type ShapesAnnotation } from "./shapes-judge";

/** One cell of the paper's Fig. 3 table: how often a lens's top-k words describe the patch. */
export interface InterpretabilityRow {
  model: string;
  lens: LensName;
  /** The visual token's layer (0 = LLM input). */
  layer: number;
  interpretable: number;
  /** Of those, patches whose best word is a concrete match (names the object under the patch). */
  concrete: number;
  total: number;
  /** 100 × interpretable / total. */
  percent: number;
}

export interface EvaluateOptions {
  /** Words per patch given to the judge (default 5, as the paper). */
  k?: number;
  /** Evaluate only the first n annotated images. */
  images?: number;
  /** Patch sampling seed; image i uses seed + i (default 42). */
  seed?: number;
  /** Visual layers (default: all). */
  layers?: number[];
  onProgress?: (done: number, total: number) => void;
}

/**
 * Interpretability of visual tokens by lens and layer on an annotated shapes-world set, judged by
 * the ground-truth judge: one sampled patch per image (sampleCentrePatch), each lens's top-k words
 * at every layer, a patch counted interpretable when any word is a concrete or global match.
 */
export async function evaluateShapes(
  bundle: Bundle,
  lenses: readonly Lens[],
  annotations: readonly ShapesAnnotation[],
  imageDir: string,
  options: EvaluateOptions = {},
): Promise<InterpretabilityRow[]> {
  const k = options.k ?? 5;
  const seed = options.seed ?? 42;
  const chosen = annotations.slice(0, options.images ?? annotations.length);
  if (chosen.length === 0) throw new RangeError("evaluateShapes: no annotated images to evaluate");
  const tally = new Map<string, { lens: LensName; layer: number; hits: number; concrete: number; total: number }>();
  for (const [i, ann] of chosen.entries()) {
    const states = await imageHiddenStates(bundle, path.join(imageDir, ann.file));
    const patch = sampleCentrePatch(states.patches, states.grid, seed + i);
    const records = await interpretImage(states, lenses, { patches: [patch], k, ...(options.layers ? { layers: options.layers } : {}) });
    for (const r of records) {
      const key = `${r.lens}/${r.layer}`;
      const cell = tally.get(key) ?? tally.set(key, { lens: r.lens, layer: r.layer, hits: 0, concrete: 0, total: 0 }).get(key)!;
      const judged = judgePatch(r.neighbours.map((n) => n.word), ann, r.patch.row, r.patch.col);
      cell.total++;
      if (judged.interpretable) cell.hits++;
      if (judged.best === "concrete") cell.concrete++;
    }
    options.onProgress?.(i + 1, chosen.length);
  }
  const order = new Map(lenses.map((l, i) => [l.name, i]));
  return [...tally.values()]
    .sort((a, b) => order.get(a.lens)! - order.get(b.lens)! || a.layer - b.layer)
    .map((c) => ({ model: bundle.manifest.name, lens: c.lens, layer: c.layer, interpretable: c.hits, concrete: c.concrete, total: c.total, percent: (100 * c.hits) / c.total }));
}
