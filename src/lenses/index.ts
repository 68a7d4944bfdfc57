export { LENS_NAMES, isLensName, type Lens, type LensName, type Neighbour } from "./types";
export { latentLens } from "./latent";
export { embeddingLens } from "./embedding";
export { logitLens } from "./logit";
export { interpretImage, type PatchInterpretation, type InterpretOptions } from "./interpret";
export { layerAlignment, layerAlignmentFromRecords, type LayerAlignment } from "./alignment";
export { wordAt } from "./words";
