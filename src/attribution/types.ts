import type { PatchGeometry } from "../model/geometry";
import type { Preprocessed } from "../model/preprocess";
import type { AnswerTarget } from "./target";

/**
 * The values answer attribution returns: plain data, shapes in the doc comments. Layers are
 * numbered by decoder block, 0 .. N − 1; block l reads the residual stream `hidden[l]` and writes
 * `hidden[l + 1]` (docs/bundle-format.md). Heads are query heads, 0 .. H − 1. "Patch" indexes the
 * visual tokens in row-major grid order; "position" indexes the whole token sequence.
 */

export interface HeadRef {
  layer: number;
  head: number;
}

/** Imp(o_{l,h} | x^l_T): how much the head's output at T raises log p(ŷ). */
export interface HeadScore extends HeadRef {
  score: number;
}

/** Imp(attention output | x^l_T) and Imp(FFN output | x^l_T + attention output). */
export interface LayerScore {
  layer: number;
  attention: number;
  ffn: number;
}

/** One head's position scores: Imp(a_{T,j} W_O^h v_j | x^l_T) for every position j. */
export interface HeadPositions extends HeadRef {
  headScore: number;
  /** `[S]`: per sequence position. */
  scores: Float64Array;
  /** `[P]`: the visual tokens' scores, in patch order. */
  patches: Float64Array;
  /** `[P]`: the head's attention from T to each visual token. */
  attention: Float64Array;
}

/** A top position of the top head, decoded through the frozen final norm. */
export interface DecodedPosition {
  position: number;
  /** The visual token index, or null for a text position. */
  patch: number | null;
  /** The token at that position (a patch shows as "patch (row, col)"). */
  label: string;
  /** Its position score under the top head. */
  score: number;
  /** Top words of the residual stream entering the top head's block, at that position. */
  residualWords: string[];
  /** Top words of the top head's write from that position. */
  writeWords: string[];
}

/** The causal check: replace one visual token at a time, silence one head at a time. */
export interface AblationResult {
  /** What replaces a visual token's input embedding: the mean of the image's visual tokens, or zeros. */
  baseline: "mean" | "zero";
  /** log p(ŷ) of the unablated run (through the model's real final norm). */
  logProb: number;
  /** `[P]`: log p(ŷ) drop when that patch is ablated (positive: the patch supported ŷ). */
  patchDrops: Float64Array;
  /** log p(ŷ) drop when each listed head is silenced (output zeroed at every position). */
  heads: (HeadScore & { drop: number })[];
  /** Spearman's ρ over the non-padding patches: position map vs drops, attention map vs drops. */
  spearmanPositions: number;
  spearmanAttention: number;
  /** Spearman's ρ between the ablated heads' scores and their drops (NaN under 3 heads). */
  spearmanHeads: number;
}

export interface AttributionResult {
  model: string;
  prompt: string;
  /** Token ids up to and including the attributed position T (its last entry). */
  ids: number[];
  /** Each token as displayed. */
  tokens: string[];
  position: number;
  target: AnswerTarget;
  numLayers: number;
  numHeads: number;
  /** `[N, H]` row-major: head scores. */
  headScores: Float64Array;
  /** Every head by score, highest first. */
  rankedHeads: HeadScore[];
  layerScores: LayerScore[];
  /** The visual tokens: sequence positions, grid, and geometry in original-image pixels. */
  visualPositions: number[];
  grid: [number, number];
  patches: PatchGeometry[];
  /** The image as the model saw it. */
  preprocessed: Preprocessed;
  /** Position scores of the chosen heads (the top heads by default), best head first. */
  headPositions: HeadPositions[];
  /** `[P]`: the position map, Σ over the chosen heads of their patch scores. */
  positionMap: Float64Array;
  /** `[P]`: the baseline map, T's attention to each patch averaged over every layer and head. */
  attentionMap: Float64Array;
  /** The top positions of the top head, decoded. */
  topPositions: DecodedPosition[];
  ablation?: AblationResult;
}
