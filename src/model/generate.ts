import type { Bundle } from "./bundle";
import { prepareImageInput, runSequence, type ImageInput } from "./hidden";
import type { RgbImage } from "./image";
import { applyFinalNorm } from "./norm";
import type { Tensor } from "./tensor";
import { describeValue } from "../errors";

/**
 * Greedy decoding in the runtime: at each step the LLM runs over the whole sequence so far (no key /
 * value cache: the first version recomputes every position), the argmax of the last position's
 * logits is appended, and decoding stops at one of the manifest's `prompt.eos_token_ids` or after
 * `maxNewTokens`. Ties go to the lowest id, as torch.argmax does.
 *
 * Step s is the forward pass whose output is generated token s; its hidden state is that of the
 * last input position (for s = 0 the last prompt position, where the first new token is predicted).
 * The hidden states of every step come from the last step's forward pass, which covers every
 * earlier step's position (the model is causal, so they equal what each step computed, up to
 * float rounding).
 */

/** The paper's (and its reference code's) generation length. */
export const DEFAULT_MAX_NEW_TOKENS = 50;

export interface GenerateOptions {
  /** Most tokens to generate, the EOS token included (default 50). */
  maxNewTokens?: number;
  /** Layers 0..N whose hidden states to keep at every step, in this order; default all (0..N). */
  layers?: readonly number[];
  /** Also keep the final-norm output of layer N at every step (what the logits are read from). */
  finalNorm?: boolean;
  /** Receives warnings (default: `process.emitWarning`), e.g. a bundle without EOS ids. */
  onWarning?: (message: string) => void;
}

export type StopReason = "eos" | "max-new-tokens";

export interface Generation {
  /** The generated token ids in order; the last is the EOS id when `stop` is "eos" (as HF returns them). */
  ids: number[];
  /** `ids` decoded, without a final EOS (special tokens elsewhere are kept). */
  text: string;
  stop: StopReason;
  /** The prompt's ids (visual positions hold the image placeholder id). */
  promptIds: number[];
  /** The layers held in `hidden`, in order (0 = input embeddings, N = block N before the final norm). */
  layers: number[];
  /** `[steps, layers.length, D]`: at step s, the hidden state of the position whose output is ids[s]. */
  hidden: Tensor;
  /** `[steps, D]`: the final norm of layer N at every step; null unless `finalNorm` was asked for. */
  finalNorm: Tensor | null;
}

const warnedBundles = new WeakSet<object>();

/** The manifest's EOS ids; warns once per bundle when it has none (bundles exported before the field). */
export function eosTokenIds(bundle: Bundle, onWarning: (message: string) => void = defaultWarning): Set<number> {
  const ids = bundle.manifest.prompt.eos_token_ids;
  if (!ids || ids.length === 0) {
    if (!warnedBundles.has(bundle)) {
      warnedBundles.add(bundle);
      onWarning(`${bundle.dir}: the manifest has no prompt.eos_token_ids (exported before vislens recorded them); generation stops only at maxNewTokens. Re-export the bundle to record them.`);
    }
    return new Set();
  }
  return new Set(ids);
}

function defaultWarning(message: string): void {
  process.emitWarning(message, "VislensWarning");
}

/** Checks `maxNewTokens` and `layers` and fills their defaults. */
export function resolveGenerateOptions(bundle: Bundle, options: GenerateOptions): { maxNewTokens: number; layers: number[] } {
  const N = bundle.manifest.llm.num_layers;
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (typeof maxNewTokens !== "number") throw new TypeError(`generate: options.maxNewTokens must be a number, got ${describeValue(maxNewTokens)}`);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new RangeError(`generate: options.maxNewTokens must be an integer ≥ 1, got ${describeValue(maxNewTokens)}`);
  const layers = options.layers ? [...options.layers] : Array.from({ length: N + 1 }, (_, i) => i);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l > N) throw new RangeError(`generate: layer ${describeValue(l)} is outside 0..${N} (0 = input embeddings, ${N} = last block)`);
  }
  return { maxNewTokens, layers };
}

/** Index of the largest of `data[from, from + n)`, the first one on ties. */
function argmax(data: Float32Array, from: number, n: number): number {
  let best = 0;
  let max = -Infinity;
  for (let v = 0; v < n; v++) {
    const x = data[from + v];
    if (x > max) {
      max = x;
      best = v;
    }
  }
  return best;
}

/** The generated ids of one prepared input, by greedy decoding. */
export async function greedyIds(bundle: Bundle, input: ImageInput, maxNewTokens: number, eos: Set<number>): Promise<{ ids: number[]; stop: StopReason; last: Tensor }> {
  const V = bundle.manifest.llm.vocab_size;
  const sequence = [...input.ids];
  const ids: number[] = [];
  let last: Tensor = { shape: [0], data: new Float32Array(0) };
  for (let step = 0; step < maxNewTokens; step++) {
    const run = await runSequence(bundle, sequence, input.imageTokens, input.imageTokenPositions);
    last = run.hidden;
    const next = argmax(run.logits.data, (sequence.length - 1) * V, V);
    ids.push(next);
    if (eos.has(next)) return { ids, stop: "eos", last };
    sequence.push(next);
  }
  return { ids, stop: "max-new-tokens", last };
}

/**
 * The per-step hidden states `[steps, layers, D]` (and the final norm `[steps, D]`) from a forward
 * pass `hidden` `[N + 1, S, D]` over the prompt and all generated ids but the last.
 */
export function stepStates(bundle: Bundle, hidden: Tensor, promptLength: number, steps: number, layers: readonly number[], finalNorm: boolean): { hidden: Tensor; finalNorm: Tensor | null } {
  const [L, S, D] = hidden.shape;
  if (promptLength + steps - 1 > S) throw new RangeError(`stepStates: ${steps} steps after a ${promptLength}-token prompt need ${promptLength + steps - 1} positions, the forward pass has ${S}`);
  const out = new Float32Array(steps * layers.length * D);
  const normed = finalNorm ? new Float32Array(steps * D) : null;
  const { final_norm } = bundle.manifest.llm;
  const { finalNormWeight, finalNormBias } = bundle.weights;
  for (let s = 0; s < steps; s++) {
    const p = promptLength - 1 + s;
    layers.forEach((l, j) => out.set(hidden.data.subarray((l * S + p) * D, (l * S + p + 1) * D), (s * layers.length + j) * D));
    if (normed) {
      const x = hidden.data.subarray(((L - 1) * S + p) * D, ((L - 1) * S + p + 1) * D);
      applyFinalNorm(final_norm, finalNormWeight, finalNormBias, x, normed.subarray(s * D, (s + 1) * D));
    }
  }
  return { hidden: { shape: [steps, layers.length, D], data: out }, finalNorm: normed ? { shape: [steps, D], data: normed } : null };
}

/**
 * Hidden states at every step of a generation already known (e.g. from a cache): one forward pass
 * over the prompt and `generated` but its last id. Equal to what `generate` returns for those ids.
 */
export async function generatedStepStates(bundle: Bundle, input: ImageInput, generated: readonly number[], options: Pick<GenerateOptions, "layers" | "finalNorm"> = {}): Promise<{ layers: number[]; hidden: Tensor; finalNorm: Tensor | null }> {
  const { layers } = resolveGenerateOptions(bundle, { layers: options.layers });
  if (generated.length === 0) throw new RangeError("generatedStepStates: no generated ids");
  const run = await runSequence(bundle, [...input.ids, ...generated.slice(0, -1)], input.imageTokens, input.imageTokenPositions);
  return { layers, ...stepStates(bundle, run.hidden, input.ids.length, generated.length, layers, options.finalNorm ?? false) };
}

/** Decoded text of generated ids, without a final EOS. */
export function generatedText(bundle: Bundle, ids: readonly number[], stop: StopReason): string {
  return bundle.tokenizer.decode(stop === "eos" ? ids.slice(0, -1) : ids);
}

/**
 * Greedy generation from an image and a prompt (substituted for `{prompt}` in the bundle's
 * template): the new token ids, their text, and the hidden states at every step.
 */
export async function generate(bundle: Bundle, image: string | RgbImage, prompt = "", options: GenerateOptions = {}): Promise<Generation> {
  const { maxNewTokens, layers } = resolveGenerateOptions(bundle, options);
  const eos = eosTokenIds(bundle, options.onWarning);
  const input = await prepareImageInput(bundle, image, prompt);
  const { ids, stop, last } = await greedyIds(bundle, input, maxNewTokens, eos);
  const states = stepStates(bundle, last, input.ids.length, ids.length, layers, options.finalNorm ?? false);
  return { ids, text: generatedText(bundle, ids, stop), stop, promptIds: input.ids, layers, ...states };
}
