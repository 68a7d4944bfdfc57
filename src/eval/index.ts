export { judgeWord, judgePatch, shapesJudge, VERDICTS, type Verdict, type PatchJudgement, type ShapesAnnotation, type ShapesObject } from "./shapes-judge";
export { blockBox, verdictFrom, MATCH_KINDS, type MatchKind, type JudgeRequest, type JudgeVerdict, type PatchJudge } from "./judge";
export { sampleCentrePatch } from "./sample-patches";
export {
  evaluateInterpretability,
  evaluateInterpretabilityRuns,
  evaluateShapes,
  evaluateShapesControl,
  shapesImages,
  shapesControlJudge,
  mismatchedAnnotations,
  type InterpretabilityRow,
  type EvaluateOptions,
  type EvalImage,
  type EvalRun,
} from "./evaluate";
export { readShapesEvalSet, type ShapesEvalSet } from "./annotations";
export {
  interpretabilityTable,
  interpretabilitySummary,
  summariseInterpretability,
  layerTable,
  tableToCSV,
  writeCSV,
  type InterpretabilitySummaryRow,
} from "./tables";
export { layerDrift, visualTokenDrift, textTokenDrift, type LayerDriftRow } from "./drift";
export { llmJudge, parseJudgeAnswer, LlmJudgeError, LLM_JUDGE_PROMPT_VERSION, type LlmJudgeOptions, type JudgeLists } from "./llm-judge";
export { renderJudgeImages, type JudgeImages, type JudgeImageOptions } from "./judge-images";
export { readWorldEvalSet, checkWorldEvalSet, type WorldEvalSet, type WorldAnnotation, type WorldObject, type WorldBackground } from "./world-annotations";
export { worldJudge, judgeWorldWord, judgeWorldPatch, patchWords, WORLD_VERDICTS, type WorldVerdict, type WorldJudgeOptions, type PatchWords } from "./world-judge";
export {
  evaluateWorld, evaluateWorldControl, evaluateWorldWithControl, worldImages, worldControlSet, worldControlJudge,
  WORLD_PATCH_KINDS, type WorldPatchKind,
} from "./world-evaluate";
export { normaliseWord, wordForms, WordSet } from "./word-forms";
