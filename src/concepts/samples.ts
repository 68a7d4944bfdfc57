/**
 * Samples for a target word t (Parekh et al. 2024, step 1-2): the images whose generated caption
 * contains t as a whole word (and whose reference caption does too, when the set has one), each
 * represented by the hidden state at the generation step that *predicts* t's first occurrence.
 *
 * - Matching is on the caption's text, as a whole word, case-insensitively: letters and digits on
 *   either side end a match, so "cross" does not match "crossing" (the reference matches substrings,
 *   so its "train" also matched "training").
 * - Only generated positions count: the step whose output is the first token of t's first whole-word
 *   occurrence in the *generated* caption (step s is read at the position that predicts generated
 *   token s; the reference also searched the prompt's positions unless a flag said otherwise).
 * - The layer is any of 0..N (hidden_states index; N is block N's output before the final norm) or
 *   "final-norm", the final norm's output (the paper's default, and ours).
 */
import { describeValue } from "../errors";
import type { Bundle } from "../model/bundle";
import { generatedStepStates } from "../model/generate";
import { prepareImageInput } from "../model/hidden";
import type { TextTokenizer } from "../model/tokenizer";
import type { Matrix } from "./dictionary";
import { generateImages, type CachedGeneration, type GenerateImagesOptions } from "./generation-cache";
import type { ConceptImage } from "./images";
import { resolveConceptToken, type MultiTokenPolicy } from "./token";

/** Where a sample's representation is read: a hidden-state layer 0..N, or the final norm's output. */
export type ConceptLayer = number | "final-norm";
export const DEFAULT_CONCEPT_LAYER: ConceptLayer = "final-norm";

export interface ConceptSample {
  /** Position of the image in the list given to `conceptSamples`. */
  index: number;
  image: ConceptImage;
  /** The generated caption. */
  generated: string;
  /** The generation step whose output is the first token of t's first whole-word occurrence. */
  step: number;
  /** That token's id. */
  tokenId: number;
}

export interface ConceptSamples {
  token: string;
  layer: ConceptLayer;
  /** The bundle's fingerprint (SHA-256 of its manifest). */
  fingerprint: string;
  samples: ConceptSample[];
  /** `[M, D]`: row i is the representation of samples[i]. */
  z: Matrix<Float32Array>;
  /** Images looked at; of those, how many lacked t in the generated caption, or (generated yes) in the reference one. */
  counts: { images: number; notGenerated: number; notInReference: number };
}

export interface ConceptSampleOptions extends GenerateImagesOptions {
  /** Default "final-norm". */
  layer?: ConceptLayer;
  /** How a word that is not one token is handled (default "refuse"; see token.ts). */
  multiToken?: MultiTokenPolicy;
  /** Also require t in the reference caption when an image has one (default true). */
  requireReference?: boolean;
  /** Return zero samples (z with 0 rows) instead of throwing when no image qualifies (default false). */
  allowNone?: boolean;
}

const NOT_WORD = "[^\\p{L}\\p{N}]";

/** Character index of the first whole-word, case-insensitive occurrence of `word` in `text`, or -1. */
export function findWholeWord(text: string, word: string): number {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`(?:^|(?<=${NOT_WORD}))${escaped}(?=${NOT_WORD}|$)`, "iu").exec(text);
  return match ? match.index : -1;
}

/** Index of the generated token whose decoded text covers character `char` of the decoded `ids`. */
export function tokenAtChar(tokenizer: TextTokenizer, ids: readonly number[], char: number): number {
  for (let i = 0; i < ids.length; i++) if (tokenizer.decode(ids.slice(0, i + 1)).length > char) return i;
  return -1;
}

/** Checks a layer: an integer in 0..N or "final-norm". */
export function checkConceptLayer(bundle: Bundle, layer: unknown): ConceptLayer {
  const N = bundle.manifest.llm.num_layers;
  if (layer === "final-norm") return layer;
  if (typeof layer !== "number" || !Number.isInteger(layer) || layer < 0 || layer > N) {
    throw new RangeError(`concepts: layer must be an integer in 0..${N} (0 = input embeddings, ${N} = last block before the final norm) or "final-norm", got ${describeValue(layer)}`);
  }
  return layer;
}

/** The step that predicts t in one generation, or null when t is not in it (as a whole word). */
export function sampleStep(tokenizer: TextTokenizer, generation: CachedGeneration, word: string): { step: number; tokenId: number } | null {
  const at = findWholeWord(generation.text, word);
  if (at < 0) return null;
  const textIds = generation.stop === "eos" ? generation.ids.slice(0, -1) : generation.ids;
  const step = tokenAtChar(tokenizer, textIds, at);
  return step < 0 ? null : { step, tokenId: textIds[step] };
}

/**
 * The samples of `images` for word `token` and their representations `z` `[M, D]` at `layer`.
 * Generations come from the cache (generation-cache.ts). Throws a RangeError naming the token when
 * no image qualifies, unless `allowNone`.
 */
export async function conceptSamples(bundle: Bundle, images: readonly ConceptImage[], token: string, options: ConceptSampleOptions = {}): Promise<ConceptSamples> {
  const word = resolveConceptToken(bundle.tokenizer, token, options.multiToken).word;
  const layer = checkConceptLayer(bundle, options.layer ?? DEFAULT_CONCEPT_LAYER);
  if (images.length === 0) throw new RangeError(`concepts: no images to draw samples of ${describeValue(token)} from`);
  const generations = await generateImages(bundle, images.map((i) => i.file), options);
  const requireReference = options.requireReference ?? true;
  const samples: ConceptSample[] = [];
  let notGenerated = 0;
  let notInReference = 0;
  generations.forEach((g, index) => {
    const found = sampleStep(bundle.tokenizer, g, word);
    if (!found) return void notGenerated++;
    const image = images[index];
    if (requireReference && image.caption !== undefined && findWholeWord(image.caption, word) < 0) return void notInReference++;
    samples.push({ index, image, generated: g.text, ...found });
  });
  if (samples.length === 0 && !options.allowNone) {
    const why = notInReference > 0 ? `; ${notInReference} generated it but their reference caption lacks it` : "";
    throw new RangeError(`concepts: no sample for token ${describeValue(token)}: none of the ${images.length} images' generated captions contains it as a whole word${why}`);
  }
  const D = bundle.manifest.llm.hidden_size;
  const z = new Float32Array(samples.length * D);
  for (const [i, s] of samples.entries()) {
    const input = await prepareImageInput(bundle, s.image.file, options.prompt ?? "");
    const ids = generations[s.index].ids.slice(0, s.step + 1);
    const states = await generatedStepStates(bundle, input, ids, layer === "final-norm" ? { layers: [], finalNorm: true } : { layers: [layer] });
    const source = layer === "final-norm" ? states.finalNorm! : states.hidden;
    const row = source.data.subarray(s.step * D, (s.step + 1) * D);
    const bad = row.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`concepts: the representation of ${s.image.file} (step ${s.step}, layer ${layer}) has a non-finite value (${row[bad]}) at dimension ${bad}`);
    z.set(row, i * D);
  }
  return { token: word, layer, fingerprint: bundle.fingerprint, samples, z: { rows: samples.length, cols: D, data: z }, counts: { images: images.length, notGenerated, notInReference } };
}
