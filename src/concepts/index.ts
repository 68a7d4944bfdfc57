/**
 * Multimodal concept dictionaries (Parekh et al., NeurIPS 2024), for one target word t:
 *
 *   images (images.ts) ──► greedy captions, cached (generation-cache.ts)
 *     ──► samples: captions with t, representation at the step predicting t (samples.ts, token.ts)
 *     ──► dictionary Z ≈ V U (dictionary/) ──► grounding: words + images (grounding.ts, words.ts)
 *     ──► overlap (overlap.ts), local interpretation (interpret.ts), test usefulness (usefulness.ts)
 *
 * `learnConcepts` runs fit + grounding + overlap; `conceptComparison` the paper's method table.
 * docs/concepts.md describes the method as implemented and where it differs from the reference code.
 */
export * from "./dictionary";
export { readConceptImages, type ConceptImage, type ReadConceptImagesOptions } from "./images";
export { generateImages, generationCacheDir, generationCacheFile, GENERATION_CACHE_FORMAT, type CachedGeneration, type GenerateImagesOptions } from "./generation-cache";
export { resolveConceptToken, type ConceptToken, type MultiTokenPolicy } from "./token";
export {
  conceptSamples,
  checkConceptLayer,
  findWholeWord,
  sampleStep,
  DEFAULT_CONCEPT_LAYER,
  type ConceptLayer,
  type ConceptSample,
  type ConceptSamples,
  type ConceptSampleOptions,
} from "./samples";
export { englishWordList, stopWordList, tokenWord, wordsFromTokens, type WordRejection } from "./words";
export { decodeDirections, textGrounding, visualGrounding, DEFAULT_TOP_TOKENS, DEFAULT_WORDS, DEFAULT_TOP_IMAGES, type GroundingImage } from "./grounding";
export { conceptOverlap, type Overlap } from "./overlap";
export { learnConcepts, type LearnConceptsOptions, type Concept, type ConceptDictionary } from "./learn";
export { interpretRepresentations, interpretConceptImage, type LocalInterpretation, type ConceptActivation, type InterpretOptions } from "./interpret";
export { conceptUsefulness, randomDirectionWords, type Usefulness, type UsefulnessOptions } from "./usefulness";
export { conceptComparison, PAPER_METHOD_ORDER, type ConceptComparisonRow, type ConceptComparisonOptions } from "./comparison";
