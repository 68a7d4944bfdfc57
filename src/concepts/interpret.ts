/**
 * Local interpretation of a new sample (Parekh et al. 2024, step 4): its concept activations on a
 * learned dictionary, and its top concepts with their words and images.
 *
 * Activations come from the dictionary's own encoder (`encodeDictionary`): for semi-NMF that is the
 * paper's non-negative lasso v = argmin_{v ≥ 0} ½‖z − Uᵀv‖² + λ‖v‖₁ with the λ it was fitted with;
 * for the baselines their activation (K-means and Simple 1 / (1 + distance), PCA the projection).
 * `encoder: "lasso"` uses the non-negative lasso on any method's atoms instead.
 */
import { describeValue } from "../errors";
import type { Bundle } from "../model/bundle";
import { encodeDictionary, lassoEncode, type Matrix } from "./dictionary";
import type { GenerateImagesOptions } from "./generation-cache";
import type { GroundingImage } from "./grounding";
import type { ConceptImage } from "./images";
import type { ConceptDictionary } from "./learn";
import { conceptSamples, type ConceptSample } from "./samples";

export interface ConceptActivation {
  concept: number;
  activation: number;
  words: string[];
  images: GroundingImage[];
}

export interface LocalInterpretation {
  /** `[K]`: every concept's activation. */
  activations: Float64Array;
  /** The `top` concepts by activation, largest first (ties: lower index). */
  top: ConceptActivation[];
}

export interface InterpretOptions {
  /** How many top concepts to report (default 3). */
  top?: number;
  /** "dictionary" (default): the method's own encoder; "lasso": non-negative lasso on the atoms. */
  encoder?: "dictionary" | "lasso";
}

/** Local interpretations of representations `z` `[n, D]` (rows of the dictionary's layer). */
export function interpretRepresentations(concepts: ConceptDictionary, z: Matrix, options: InterpretOptions = {}): LocalInterpretation[] {
  const top = options.top ?? 3;
  const K = concepts.dictionary.k;
  if (!Number.isInteger(top) || top < 1 || top > K) throw new RangeError(`interpret: top must be an integer in 1..${K}, got ${describeValue(top)}`);
  const encoder = options.encoder ?? "dictionary";
  if (encoder !== "dictionary" && encoder !== "lasso") throw new RangeError(`interpret: encoder must be "dictionary" or "lasso", got ${describeValue(encoder)}`);
  const codes = encoder === "lasso" ? lassoEncode(concepts.dictionary.atoms, z, { lambda: concepts.dictionary.settings.lambda }) : encodeDictionary(concepts.dictionary, z);
  return Array.from({ length: z.rows }, (_, i) => {
    const activations = codes.data.slice(i * K, (i + 1) * K);
    const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => activations[b] - activations[a] || a - b);
    return {
      activations,
      top: order.slice(0, top).map((k) => ({ concept: k, activation: activations[k], words: concepts.concepts[k].words, images: concepts.concepts[k].images })),
    };
  });
}

/**
 * Local interpretation of a new image: its greedy caption must contain the dictionary's word (the
 * reference caption is not required); its representation is read at the step that predicts it, at
 * the dictionary's layer.
 */
export async function interpretConceptImage(
  bundle: Bundle,
  concepts: ConceptDictionary,
  image: string | ConceptImage,
  options: InterpretOptions & GenerateImagesOptions = {},
): Promise<LocalInterpretation & { sample: ConceptSample; representation: Float32Array }> {
  if (concepts.fingerprint !== bundle.fingerprint) throw new RangeError("interpretConceptImage: the dictionary was learned on another model");
  const img = typeof image === "string" ? { file: image } : image;
  const s = await conceptSamples(bundle, [img], concepts.token, { ...options, layer: concepts.layer, requireReference: false, multiToken: "first-token" });
  const [result] = interpretRepresentations(concepts, s.z, options);
  return { ...result, sample: s.samples[0], representation: s.z.data };
}
