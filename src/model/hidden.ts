import { ArtifactError } from "../errors";
import type { Bundle } from "./bundle";
import { embedTokens } from "./embed";
import { imageTokenGeometry, patchGeometry, type ImageTokenGeometry, type PatchGeometry } from "./geometry";
import { patchTokenIndices } from "./layout";
import { decodeImage, type RgbImage } from "./image";
import { positionIds } from "./positions";
import { preprocessImage, visionPixelValues, type Preprocessed } from "./preprocess";
import { buildImagePrompt, buildTextPrompt } from "./prompt";
import type { Feed } from "./session";
import { selectRows, type Tensor } from "./tensor";

/**
 * Hidden states of one forward pass. Layer convention (docs/bundle-format.md): index 0 is the LLM
 * input embedding, index i the output of decoder block i, index N block N's output before the
 * final norm.
 */
export interface SequenceHiddenStates {
  /** Token ids of the whole sequence (visual positions hold the image placeholder id). */
  ids: number[];
  /** `[N + 1, S, D]` for every position of the sequence. */
  hidden: Tensor;
  /** `[S, V]` next-token logits at every position. */
  logits: Tensor;
}

export interface ImageHiddenStates extends SequenceHiddenStates {
  /** Sequence positions of the grid patches' tokens, in row-major grid order (see `ImageInput`). */
  visualPositions: number[];
  /** `[N + 1, P, D]`: the grid patches' hidden states at every layer. */
  visual: Tensor;
  /** Sequence positions of the text tokens (template and prompt, BOS included), in order. */
  textPositions: number[];
  /** `[N + 1, S - T, D]`: the text tokens' hidden states at every layer (T: every visual token). */
  text: Tensor;
  /** `[P, D]`: vision graph output for the grid patches (equals `visual` at layer 0). */
  visualTokens: Tensor;
  /** Every visual token (a tiled image's base tile and newlines too): positions and geometry. */
  imageTokenPositions: number[];
  imageTokenGeometry: ImageTokenGeometry[];
  /** Grid `[rows, cols]` and per-patch geometry in original-image pixels. */
  grid: [number, number];
  patches: PatchGeometry[];
  /** The preprocessed input, for displays that show what the model saw. */
  preprocessed: Preprocessed;
}

/** `[1, 3, H, W]` pixel values -> `[T, D]` visual tokens as the LLM receives them. */
export async function encodeImage(bundle: Bundle, pre: Preprocessed): Promise<Tensor> {
  const { visual_tokens } = await bundle.vision.run({ pixel_values: { type: "float32", ...visionPixelValues(pre) } });
  const [, T, D] = visual_tokens.shape;
  const { num_tokens } = bundle.manifest.vision;
  if (T !== num_tokens || D !== bundle.manifest.llm.hidden_size) {
    throw new ArtifactError(bundle.vision.file, `vision graph returned [${visual_tokens.shape}], the manifest promises [1, ${num_tokens}, ${bundle.manifest.llm.hidden_size}]`);
  }
  return { shape: [T, D], data: visual_tokens.data };
}

/**
 * `token_type_ids` `[B, S]` for LLM graphs that take it (Gemma 3: 1 at visual tokens, whose image
 * block attends in both directions; 0 at text and padding), the same visual positions in every
 * row; nothing for the others.
 */
function tokenTypeFeed(bundle: Bundle, B: number, S: number, visualPositions: readonly number[]): Record<string, Feed> {
  if (!("token_type_ids" in bundle.manifest.onnx.llm.inputs)) return {};
  const data = new BigInt64Array(B * S);
  for (let b = 0; b < B; b++) for (const p of visualPositions) data[b * S + p] = 1n;
  return { token_type_ids: { type: "int64", data, dims: [B, S] } };
}

/** Runs the LLM over one sequence of ids, visual tokens spliced in at `visualPositions`. */
export async function runSequence(
  bundle: Bundle,
  ids: readonly number[],
  visual?: Tensor,
  visualPositions: readonly number[] = [],
): Promise<SequenceHiddenStates> {
  const { num_layers: N, hidden_size: D, vocab_size: V } = bundle.manifest.llm;
  const S = ids.length;
  if (S === 0) throw new RangeError("runSequence: the sequence is empty");
  const positions = positionIds(bundle.manifest, S, visualPositions);
  const posData = BigInt64Array.from(positions.flat(), (v) => BigInt(v));
  const posDims = bundle.manifest.llm.rope.type === "mrope" ? [3, 1, S] : [1, S];
  const { hidden_states, logits } = await bundle.llm.run({
    inputs_embeds: { type: "float32", data: embedTokens(bundle, ids, visual, visualPositions), dims: [1, S, D] },
    attention_mask: { type: "int64", data: new BigInt64Array(S).fill(1n), dims: [1, S] },
    position_ids: { type: "int64", data: posData, dims: posDims },
    ...tokenTypeFeed(bundle, 1, S, visualPositions),
  });
  if (hidden_states.shape.join() !== [N + 1, 1, S, D].join()) {
    throw new ArtifactError(bundle.llm.file, `hidden_states has shape [${hidden_states.shape}], expected [${[N + 1, 1, S, D]}]`);
  }
  return {
    ids: [...ids],
    hidden: { shape: [N + 1, S, D], data: hidden_states.data },
    logits: { shape: [S, V], data: logits.data },
  };
}

export interface ImageRunOptions {
  /** Text substituted for `{prompt}` in the bundle's template. Default: empty. */
  prompt?: string;
}

/**
 * One image + prompt, ready for the LLM: the sequence, its visual tokens and their geometry.
 *
 * `visualPositions`, `visualTokens` and `patches` are the grid's patches, row-major: what lenses,
 * maps and ablations work on. `imageTokenPositions` and `imageTokens` are every token the vision
 * graph emits, in its order: what the LLM receives at the image placeholders. They are the same
 * for a plain bundle; a tiled image (`vision.layout`) also has its base tile's tokens and newlines.
 */
export interface ImageInput {
  /** Token ids of the whole sequence (visual positions hold the image placeholder id). */
  ids: number[];
  /** Sequence positions of the grid patches' tokens, in row-major grid order. */
  visualPositions: number[];
  /** `[P, D]`: the vision graph's output for the grid patches. */
  visualTokens: Tensor;
  /** Sequence positions of every visual token (the image placeholders), in vision-graph order. */
  imageTokenPositions: number[];
  /** `[T, D]`: the vision graph's whole output, spliced in at `imageTokenPositions`. */
  imageTokens: Tensor;
  /** What each visual token is (patch, base tile, newline) and where it lies in the image. */
  imageTokenGeometry: ImageTokenGeometry[];
  grid: [number, number];
  /** Per grid patch: grid cell and box in original-image pixels. */
  patches: PatchGeometry[];
  preprocessed: Preprocessed;
}

/** `[P, D]`: rows `indices` of `[T, D]`. */
function patchRows(tokens: Tensor, indices: readonly number[]): Tensor {
  const picked = selectRows({ shape: [1, ...tokens.shape], data: tokens.data }, indices);
  return { shape: picked.shape.slice(1), data: picked.data };
}

/** Decodes, preprocesses and encodes an image and builds the prompt around it (no LLM run yet). */
export async function prepareImageInput(bundle: Bundle, image: string | RgbImage, prompt = ""): Promise<ImageInput> {
  const { manifest } = bundle;
  const rgb = typeof image === "string" ? await decodeImage(image) : image;
  const pre = preprocessImage(rgb, manifest.vision.preprocess, manifest.vision.image_size);
  const imageTokens = await encodeImage(bundle, pre);
  const built = buildImagePrompt(manifest, bundle.tokenizer, prompt);
  const patchTokens = patchTokenIndices(manifest.vision);
  return {
    ids: built.ids,
    visualPositions: patchTokens.map((t) => built.visualPositions[t]),
    visualTokens: manifest.vision.layout ? patchRows(imageTokens, patchTokens) : imageTokens,
    imageTokenPositions: built.visualPositions,
    imageTokens,
    imageTokenGeometry: imageTokenGeometry(manifest, pre),
    grid: [...manifest.vision.grid] as [number, number],
    patches: patchGeometry(manifest, pre),
    preprocessed: pre,
  };
}

/**
 * The hidden states of an image's visual tokens at every LLM layer (and of the prompt's text
 * tokens), with the patch geometry: the starting point of every lens.
 */
export async function imageHiddenStates(bundle: Bundle, image: string | RgbImage, options: ImageRunOptions = {}): Promise<ImageHiddenStates> {
  const input = await prepareImageInput(bundle, image, options.prompt ?? "");
  const run = await runSequence(bundle, input.ids, input.imageTokens, input.imageTokenPositions);
  const isVisual = new Set(input.imageTokenPositions);
  const textPositions = input.ids.map((_, i) => i).filter((i) => !isVisual.has(i));
  return {
    ...run,
    visualPositions: input.visualPositions,
    visual: selectRows(run.hidden, input.visualPositions),
    textPositions,
    text: selectRows(run.hidden, textPositions),
    visualTokens: input.visualTokens,
    imageTokenPositions: input.imageTokenPositions,
    imageTokenGeometry: input.imageTokenGeometry,
    grid: input.grid,
    patches: input.patches,
    preprocessed: input.preprocessed,
  };
}

/** Hidden states of a text (BOS added when the model expects it): `[N + 1, S, D]`. */
export async function textHiddenStates(bundle: Bundle, text: string): Promise<SequenceHiddenStates> {
  return runSequence(bundle, buildTextPrompt(bundle.manifest, bundle.tokenizer, text));
}

/** Hidden states of a batch of text sequences, each cut back to its own length. */
export interface BatchHiddenStates {
  /** Per sequence: `[N + 1, S_i, D]`. */
  hidden: Tensor[];
}

/**
 * Runs several text-only sequences in one LLM call, right-padded to the longest (padded positions
 * are masked; in a causal model they cannot change the real positions). Only default RoPE models
 * batch text this way; M-RoPE text positions are (i, i, i), which the same padding rule covers.
 */
export async function runTextBatch(bundle: Bundle, sequences: readonly (readonly number[])[]): Promise<BatchHiddenStates> {
  const { num_layers: N, hidden_size: D } = bundle.manifest.llm;
  const B = sequences.length;
  if (B === 0) return { hidden: [] };
  const S = Math.max(...sequences.map((s) => s.length));
  if (S === 0) throw new RangeError("runTextBatch: every sequence is empty");
  const embeds = new Float32Array(B * S * D);
  const mask = new BigInt64Array(B * S);
  const mrope = bundle.manifest.llm.rope.type === "mrope";
  const pos = new BigInt64Array((mrope ? 3 : 1) * B * S);
  sequences.forEach((ids, b) => {
    if (ids.length === 0) throw new RangeError(`runTextBatch: sequence ${b} is empty`);
    embeds.set(embedTokens(bundle, ids), b * S * D);
    for (let s = 0; s < S; s++) {
      const real = s < ids.length;
      mask[b * S + s] = real ? 1n : 0n;
      for (let axis = 0; axis < (mrope ? 3 : 1); axis++) pos[(axis * B + b) * S + s] = BigInt(real ? s : 0);
    }
  });
  const { hidden_states } = await bundle.llm.run({
    inputs_embeds: { type: "float32", data: embeds, dims: [B, S, D] },
    attention_mask: { type: "int64", data: mask, dims: [B, S] },
    position_ids: { type: "int64", data: pos, dims: mrope ? [3, B, S] : [B, S] },
    ...tokenTypeFeed(bundle, B, S, []),
  });
  if (hidden_states.shape.join() !== [N + 1, B, S, D].join()) {
    throw new ArtifactError(bundle.llm.file, `hidden_states has shape [${hidden_states.shape}], expected [${[N + 1, B, S, D]}]`);
  }
  const hidden = sequences.map((ids, b) => {
    const len = ids.length;
    const out = new Float32Array((N + 1) * len * D);
    for (let l = 0; l <= N; l++) {
      const src = ((l * B + b) * S) * D;
      out.set(hidden_states.data.subarray(src, src + len * D), l * len * D);
    }
    return { shape: [N + 1, len, D], data: out };
  });
  return { hidden };
}
