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
export { openSafetensors } from "./io/safetensors";
