import { ArtifactError } from "../errors";
import type { Bundle } from "./bundle";
import { embedTokens } from "./embed";
import type { AttentionSpec, BundleManifest } from "./manifest";
import { positionIds } from "./positions";
import type { Feed } from "./session";
import type { Tensor } from "./tensor";

/**
 * One forward pass of attribution.onnx (docs/bundle-format.md): what answer attribution reads at
 * the attributed position T, the last position of the sequence. Layer index l below is the
 * decoder block l + 1, whose residual input is `hidden[l]` and output `hidden[l + 1]`.
 */
export interface AttributionPass {
  /** Token ids of the sequence; the attributed position T is the last. */
  ids: number[];
  /** T = ids.length − 1. */
  position: number;
  /** `[N + 1, S, D]`: hidden states of every position (0 = input embeddings, N = before the final norm). */
  hidden: Tensor;
  /** `[V]`: next-token logits at T. */
  logits: Float32Array;
  /** `[N, H, S]`: attention probabilities of T over every position, per block and query head. */
  attention: Tensor;
  /** `[N, KVH, S, head_dim]`: value vectors of every position, per block and key/value head. */
  values: Tensor;
  /** `[N, D]`: what each block's attention adds to the residual stream at T. */
  attentionOutput: Tensor;
  /** `[N, D]`: what each block's FFN adds at T. */
  ffnOutput: Tensor;
}

/**
 * Why a bundle without an attribution graph has none: the exporter's note for families it cannot
 * attribute (`source.attribution`, e.g. Gemma 3), else an older or --no-attribution export.
 */
export function missingAttributionReason(manifest: BundleManifest): string {
  const note = manifest.source?.attribution;
  if (typeof note === "string") return `the exporter gives ${manifest.architecture} none: ${note}`;
  return "it was exported before answer attribution existed or with --no-attribution; re-export it with `python -m vislens_export <hf-dir> <bundle> --force` to attribute answers";
}

/** The bundle's attention layout, or a clear error for a bundle exported without attribution. */
export function attentionSpec(bundle: Bundle): AttentionSpec {
  const spec = bundle.manifest.llm.attention;
  if (!spec || !bundle.attribution) {
    throw new ArtifactError(
      `${bundle.dir}/manifest.json`,
      `bundle ${JSON.stringify(bundle.manifest.name)} has no attribution graph (onnx.attribution): ${missingAttributionReason(bundle.manifest)}`,
      "onnx.attribution",
    );
  }
  return spec;
}

/** A head mask `[N, H]`, 1 = keep: every head, or every head but the listed `[layer, head]` pairs. */
export function headMask(bundle: Bundle, silenced: readonly (readonly [number, number])[] = []): Float32Array {
  const { num_heads: H } = attentionSpec(bundle);
  const N = bundle.manifest.llm.num_layers;
  const mask = new Float32Array(N * H).fill(1);
  for (const [layer, head] of silenced) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= N) throw new RangeError(`head mask: layer ${layer} is outside 0..${N - 1}`);
    if (!Number.isInteger(head) || head < 0 || head >= H) throw new RangeError(`head mask: head ${head} is outside 0..${H - 1}`);
    mask[layer * H + head] = 0;
  }
  return mask;
}

function feeds(bundle: Bundle, embeds: Float32Array, rows: number, S: number, visualPositions: readonly number[], masks: Float32Array): Record<string, Feed> {
  const D = bundle.manifest.llm.hidden_size;
  const mrope = bundle.manifest.llm.rope.type === "mrope";
  const one = positionIds(bundle.manifest, S, visualPositions).flat();
  const pos = new BigInt64Array(one.length * rows);
  // Position ids are [B, S], or [3, B, S] for M-RoPE: the same row repeated for every batch row.
  const axes = mrope ? 3 : 1;
  for (let a = 0; a < axes; a++) for (let b = 0; b < rows; b++) for (let s = 0; s < S; s++) pos[(a * rows + b) * S + s] = BigInt(one[a * S + s]);
  return {
    inputs_embeds: { type: "float32", data: embeds, dims: [rows, S, D] },
    attention_mask: { type: "int64", data: new BigInt64Array(rows * S).fill(1n), dims: [rows, S] },
    position_ids: { type: "int64", data: pos, dims: mrope ? [3, rows, S] : [rows, S] },
    head_mask: { type: "float32", data: masks, dims: [rows, bundle.manifest.llm.num_layers, masks.length / rows / bundle.manifest.llm.num_layers] },
  };
}

/**
 * Runs attribution.onnx once on a sequence (visual tokens `[T, D]` spliced in at
 * `visualPositions`); the last id is the attributed position. `mask` (`[N, H]`, see headMask)
 * silences heads.
 */
export async function runAttributionPass(
  bundle: Bundle,
  ids: readonly number[],
  visual?: Tensor,
  visualPositions: readonly number[] = [],
  mask?: Float32Array,
): Promise<AttributionPass> {
  const spec = attentionSpec(bundle);
  const { num_layers: N, hidden_size: D, vocab_size: V } = bundle.manifest.llm;
  const S = ids.length;
  if (S === 0) throw new RangeError("runAttributionPass: the sequence is empty");
  const m = mask ?? headMask(bundle);
  const out = await bundle.attribution!.run(feeds(bundle, embedTokens(bundle, ids, visual, visualPositions), 1, S, visualPositions, m));
  const expect = (name: string, shape: number[]) => {
    if (out[name].shape.join() !== shape.join()) {
      throw new ArtifactError(bundle.attribution!.file, `${name} has shape [${out[name].shape}], expected [${shape}]`);
    }
    return out[name].data;
  };
  const H = spec.num_heads;
  return {
    ids: [...ids],
    position: S - 1,
    hidden: { shape: [N + 1, S, D], data: expect("hidden_states", [N + 1, 1, S, D]) },
    logits: expect("logits_last", [1, V]),
    attention: { shape: [N, H, S], data: expect("attn_weights_last", [N, 1, H, S]) },
    values: { shape: [N, spec.num_kv_heads, S, spec.head_dim], data: expect("values", [N, 1, spec.num_kv_heads, S, spec.head_dim]) },
    attentionOutput: { shape: [N, D], data: expect("attn_output_last", [N, 1, D]) },
    ffnOutput: { shape: [N, D], data: expect("mlp_output_last", [N, 1, D]) },
  };
}

/**
 * Next-token logits `[B, V]` at the last position of B variants of one sequence: row b feeds
 * `embeds[b]` (`[S, D]` each, e.g. with one visual token ablated) under `masks[b]` (`[N, H]`).
 * The rows run in batches of `batchSize`.
 */
export async function attributionLogits(
  bundle: Bundle,
  embeds: readonly Float32Array[],
  masks: readonly Float32Array[],
  visualPositions: readonly number[],
  batchSize = 16,
): Promise<Float32Array> {
  attentionSpec(bundle);
  const { hidden_size: D, vocab_size: V } = bundle.manifest.llm;
  if (embeds.length !== masks.length) throw new RangeError(`attributionLogits: ${embeds.length} inputs but ${masks.length} head masks`);
  const B = embeds.length;
  const out = new Float32Array(B * V);
  if (B === 0) return out;
  const S = embeds[0].length / D;
  for (let start = 0; start < B; start += batchSize) {
    const rows = Math.min(batchSize, B - start);
    const e = new Float32Array(rows * S * D);
    const mk = new Float32Array(rows * masks[0].length);
    for (let r = 0; r < rows; r++) {
      if (embeds[start + r].length !== S * D) throw new RangeError(`attributionLogits: input ${start + r} has ${embeds[start + r].length} values, expected ${S * D}`);
      e.set(embeds[start + r], r * S * D);
      mk.set(masks[start + r], r * masks[0].length);
    }
    const result = await bundle.attribution!.run(feeds(bundle, e, rows, S, visualPositions, mk), ["logits_last"]);
    out.set(result.logits_last.data, start * V);
  }
  return out;
}
