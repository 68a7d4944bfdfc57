export { judgeWord, judgePatch, VERDICTS, type Verdict, type PatchJudgement, type ShapesAnnotation, type ShapesObject } from "./shapes-judge";
export { sampleCentrePatch } from "./sample-patches";
export { evaluateShapes, type InterpretabilityRow, type EvaluateOptions } from "./evaluate";
