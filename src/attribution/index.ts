/**
 * Answer attribution (Yu & Ananiadou 2024): which heads and which image patches raised the
 * log-probability of an answer, read through the frozen final norm, and checked by ablation.
 * Pipeline: attribution pass (src/model) -> head outputs and writes -> Imp scores (one batched
 * unembedding) -> position maps -> ablation -> AttributionResult. See docs/attribution.md.
 */
export { attributeAnswer, type AttributeOptions } from "./attribute";
export { ablate, ABLATION_BASELINES, isAblationBaseline, type AblationBaseline } from "./ablation";
export { freezeFinalNorm, applyFrozenNorm, type FrozenNorm } from "./frozen-norm";
export { importance, answerLogProbs, decodeThroughNorm } from "./importance";
export { resolveTarget, targetTokenId, type AnswerTarget } from "./target";
export { spearman, averageRanks } from "./spearman";
export { selectHeads, parseHeadSelection, type HeadSelection } from "./select-heads";
export { topShare } from "./top-share";
export type { AttributionResult, AblationResult, HeadRef, HeadScore, LayerScore, HeadPositions, DecodedPosition } from "./types";
export {
  attributeDrawnObjects,
  drawObjects,
  summariseAttribution,
  type AttributionEvalRow,
  type AttributionEvalSummary,
  type AttributionEvalOptions,
  type DrawnObject,
  type DrawableAnnotation,
} from "./evaluate-objects";
export { evaluateAttributionShapes, shapePrompt } from "./evaluate-shapes";
export { evaluateAttributionWorld, worldObjectPrompt } from "./evaluate-world";
export { attributionToJSON, toGrid } from "./to-json";
