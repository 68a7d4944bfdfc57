/**
 * vislens: what do the visual tokens of a vision-language model mean at every LLM layer?
 *
 * The pipeline, one way only:
 *   bundle (model/bundle)  ->  hidden states (model/hidden)  ->  lens  ->  result table  ->  widget
 *
 * This file is the one public entry point; the CLI (src/cli) and the notebooks call the same
 * functions.
 */
export { ArtifactError, ImageError } from "./errors";
export { openBundle, verifyBundleFiles, type Bundle, type BundleWeights, type OpenBundleOptions } from "./model/bundle";
export { readManifest, parseManifest, BUNDLE_FORMAT_VERSION, type BundleManifest, type Preprocess } from "./model/manifest";
export { decodeImage, decodeImageBuffer, MAX_IMAGE_PIXELS, type RgbImage } from "./model/image";
export { resizeRgb, type Resample } from "./model/resize";
export { preprocessImage, type Preprocessed } from "./model/preprocess";
export { patchGeometry, type PatchGeometry } from "./model/geometry";
export { buildImagePrompt, buildTextPrompt, type PromptIds } from "./model/prompt";
export { positionIds } from "./model/positions";
export { loadTokenizer, type TextTokenizer } from "./model/tokenizer";
export {
  encodeImage,
  runSequence,
  imageHiddenStates,
  textHiddenStates,
  type ImageHiddenStates,
  type SequenceHiddenStates,
  type ImageRunOptions,
  runTextBatch,
  type BatchHiddenStates,
} from "./model/hidden";
export { type Tensor, selectRows } from "./model/tensor";
export { readNpy, writeNpy, type NpyArray } from "./io/npy";
export { writeFileAtomic } from "./io/atomic";
export { openSafetensors } from "./io/safetensors";

// Contextual banks (LatentLens) and search.
export { buildBank, DEFAULT_POLICY, type BuildBankOptions, type BuildProgress } from "./bank/build";
export { openBank, verifyBank, type Bank, type BankMatrix, type BankSegment, type OpenBankOptions } from "./bank/open";
export { type BankVerification } from "./bank/verify";
export { mapNpy, mapNpySegments, isMapped, type MapAdvice } from "./bank/mapped";
export { readBankManifest, BANK_FORMAT_VERSION, type BankManifest, type BankDtype } from "./bank/format";
export { defaultContextualLayers, parseLayerList } from "./bank/layers";
export { readCorpus, subsampleCorpus, type Corpus } from "./bank/corpus";
export { ensureBank, type EnsureBankResult } from "./bank/ensure";
export { selectContexts, type ContextPolicy, type SelectedContext } from "./bank/select";
export { searchTopK, searchTopKSync, searchSegments, mergeTopK, type RowMatrix, type RowSegment, type TopKResult, type MergedTopK } from "./bank/search";

// Lenses.
export {
  LENS_NAMES,
  isLensName,
  latentLens,
  embeddingLens,
  logitLens,
  interpretImage,
  layerAlignment,
  layerAlignmentFromRecords,
  wordAt,
  type Lens,
  type LensName,
  type Neighbour,
  type PatchInterpretation,
  type InterpretOptions,
  type LayerAlignment,
} from "./lenses";
export { createLenses } from "./lenses/create";

// Evaluation.
export {
  judgeWord,
  judgePatch,
  shapesJudge,
  blockBox,
  verdictFrom,
  sampleCentrePatch,
  evaluateInterpretability,
  evaluateInterpretabilityRuns,
  evaluateShapes,
  evaluateShapesControl,
  shapesImages,
  shapesControlJudge,
  mismatchedAnnotations,
  readShapesEvalSet,
  readWorldEvalSet,
  worldJudge,
  judgeWorldWord,
  judgeWorldPatch,
  evaluateWorld,
  evaluateWorldControl,
  evaluateWorldWithControl,
  WORLD_PATCH_KINDS,
  type WorldPatchKind,
  worldImages,
  worldControlSet,
  worldControlJudge,
  WORLD_VERDICTS,
  llmJudge,
  parseJudgeAnswer,
  LlmJudgeError,
  LLM_JUDGE_PROMPT_VERSION,
  renderJudgeImages,
  layerDrift,
  visualTokenDrift,
  textTokenDrift,
  interpretabilityTable,
  interpretabilitySummary,
  summariseInterpretability,
  layerTable,
  tableToCSV,
  writeCSV,
  VERDICTS,
  MATCH_KINDS,
  type InterpretabilityRow,
  type EvaluateOptions,
  type EvalImage,
  type EvalRun,
  type ShapesEvalSet,
  type LlmJudgeOptions,
  type JudgeLists,
  type JudgeImages,
  type JudgeImageOptions,
  type LayerDriftRow,
  type InterpretabilitySummaryRow,
  type Verdict,
  type MatchKind,
  type JudgeRequest,
  type JudgeVerdict,
  type PatchJudge,
  type PatchJudgement,
  type ShapesAnnotation,
  type ShapesObject,
  type WorldEvalSet,
  type WorldAnnotation,
  type WorldObject,
  type WorldVerdict,
  type WorldJudgeOptions,
} from "./eval";

// The danfojs DataFrame type the evaluation tables return, so a notebook can name it from vislens.
export type { DataFrame } from "danfojs-node";

// The shipped fixture grid, as the reproduction notebooks use it.
export { fixtureGrid, cacheDir, VISLENS_ROOT, type FixtureGrid, type GridModel } from "./repro/fixture-grid";
export { worldGrid, CONCEPT_TEST_IMAGES, type WorldGrid } from "./repro/world-grid";

// Answer attribution (which heads and patches raised the answer's log-probability) and its runtime.
export * from "./attribution";
export { runAttributionPass, attributionLogits, headMask, attentionSpec, type AttributionPass } from "./model/attribution-pass";
export { readOutputProjections, headOutputs, headWrites, type OutputProjections } from "./model/heads";
export { prepareImageInput, type ImageInput } from "./model/hidden";
export { unembed, batchedMatmul, type UnembedStats, type UnembedOptions } from "./model/runtime-graphs";

// Greedy generation, and concept dictionaries (Parekh et al. 2024) over it: docs/concepts.md.
export { generate, generatedStepStates, eosTokenIds, DEFAULT_MAX_NEW_TOKENS, type Generation, type GenerateOptions, type StopReason } from "./model/generate";
export {
  DICTIONARY_METHODS,
  isDictionaryMethodName,
  dictionaryMethod,
  fitDictionary,
  encodeDictionary,
  lassoEncode,
  readConceptImages,
  generateImages,
  generationCacheDir,
  conceptSamples,
  resolveConceptToken,
  findWholeWord,
  DEFAULT_CONCEPT_LAYER,
  tokenWord,
  wordsFromTokens,
  decodeDirections,
  textGrounding,
  visualGrounding,
  conceptOverlap,
  learnConcepts,
  interpretRepresentations,
  interpretConceptImage,
  conceptUsefulness,
  randomDirectionWords,
  conceptComparison,
  PAPER_METHOD_ORDER,
  type Matrix,
  type Dictionary,
  type DictionaryMethodName,
  type DictionaryOptions,
  type ConceptImage,
  type CachedGeneration,
  type GenerateImagesOptions,
  type ConceptLayer,
  type ConceptSample,
  type ConceptSamples,
  type ConceptSampleOptions,
  type MultiTokenPolicy,
  type GroundingImage,
  type Overlap,
  type Concept,
  type ConceptDictionary,
  type LearnConceptsOptions,
  type LocalInterpretation,
  type ConceptActivation,
  type Usefulness,
  type ConceptComparisonRow,
  type ConceptComparisonOptions,
} from "./concepts";
