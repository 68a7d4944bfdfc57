import * as path from "node:path";
import { ArtifactError } from "../errors";
import { openSafetensors } from "../io/safetensors";
import type { AttributionPass } from "./attribution-pass";
import { attentionSpec } from "./attribution-pass";
import type { Bundle } from "./bundle";
import { batchedMatmul } from "./runtime-graphs";
import type { Tensor } from "./tensor";

/**
 * Each head's share of the attention output at the attributed position T. With a_{T,j} the
 * attention of T on position j, v_j the value vector of the head's key/value group and W_O^h the
 * head's `head_dim` columns of the output projection, head h writes a_{T,j} · W_O^h v_j into the
 * residual stream for each source position j; its output at T is the sum over j. The heads'
 * outputs plus the projection's bias (if any) are the attention output.
 */

/** The output projections, one per block, split by head: `[H, D, head_dim]` each (W_O^h stacked). */
export interface OutputProjections {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  dim: number;
  /** Per block: `[H, D, head_dim]`. */
  perHead: Float32Array[];
  /** Per block: `[D]`, when the projection has a bias. */
  bias?: Float32Array[];
}

const cache = new WeakMap<Bundle, OutputProjections>();

/**
 * W_O of every block from weights.safetensors (named by llm.attention), split by head. Read once
 * per opened bundle and kept with it.
 */
export function readOutputProjections(bundle: Bundle): OutputProjections {
  let proj = cache.get(bundle);
  if (!proj) cache.set(bundle, (proj = loadOutputProjections(bundle)));
  return proj;
}

function loadOutputProjections(bundle: Bundle): OutputProjections {
  const spec = attentionSpec(bundle);
  const D = bundle.manifest.llm.hidden_size;
  const { num_heads: H, head_dim: hd } = spec;
  const file = openSafetensors(path.join(bundle.dir, "weights.safetensors"));
  const read = (name: string, shape: number[]): Float32Array => {
    const info = file.tensors.get(name);
    if (!info) throw new ArtifactError(file.file, `tensor ${JSON.stringify(name)} named by llm.attention is missing`);
    if (info.shape.join() !== shape.join()) throw new ArtifactError(file.file, `tensor ${name} has shape [${info.shape}], expected [${shape}] from llm.hidden_size and llm.attention`);
    return file.readFloat32(name);
  };
  const perHead = spec.o_proj.map((name) => {
    const w = read(name, [D, H * hd]);
    const out = new Float32Array(H * D * hd);
    for (let d = 0; d < D; d++) {
      for (let h = 0; h < H; h++) out.set(w.subarray(d * H * hd + h * hd, d * H * hd + (h + 1) * hd), (h * D + d) * hd);
    }
    return out;
  });
  const bias = spec.o_proj_bias?.map((name) => read(name, [D]));
  return { numHeads: H, numKvHeads: spec.num_kv_heads, headDim: hd, dim: D, perHead, ...(bias ? { bias } : {}) };
}

function checkHead(pass: AttributionPass, proj: OutputProjections, layer: number, head: number): void {
  const N = pass.attention.shape[0];
  if (!Number.isInteger(layer) || layer < 0 || layer >= N) throw new RangeError(`layer ${layer} is outside 0..${N - 1}`);
  if (!Number.isInteger(head) || head < 0 || head >= proj.numHeads) throw new RangeError(`head ${head} is outside 0..${proj.numHeads - 1}`);
}

/** `[N, H, D]`: every head's output at T, Σ_j a_{T,j} W_O^h v_j (one batched product per block). */
export async function headOutputs(pass: AttributionPass, proj: OutputProjections): Promise<Tensor> {
  const [N, H, S] = pass.attention.shape;
  const { headDim: hd, dim: D, numKvHeads: KVH } = proj;
  const group = H / KVH;
  const out = new Float32Array(N * H * D);
  for (let l = 0; l < N; l++) {
    // The heads' attention-weighted value sums at T: [H, hd, 1].
    const ctx = new Float64Array(H * hd);
    for (let h = 0; h < H; h++) {
      const a = pass.attention.data.subarray((l * H + h) * S, (l * H + h + 1) * S);
      const v = pass.values.data.subarray((l * KVH + Math.floor(h / group)) * S * hd, (l * KVH + Math.floor(h / group) + 1) * S * hd);
      for (let j = 0; j < S; j++) {
        const w = a[j];
        if (w === 0) continue;
        for (let k = 0; k < hd; k++) ctx[h * hd + k] += w * v[j * hd + k];
      }
    }
    const o = await batchedMatmul(proj.perHead[l], Float32Array.from(ctx), { batch: H, m: D, k: hd, n: 1 });
    out.set(o, l * H * D);
  }
  return { shape: [N, H, D], data: out };
}

/** `[S, D]`: head (layer, head)'s write a_{T,j} W_O^h v_j into the residual at T, for every position j. */
export async function headWrites(pass: AttributionPass, proj: OutputProjections, layer: number, head: number): Promise<Tensor> {
  return (await headWritesMany(pass, proj, [{ layer, head }]))[0];
}

/** headWrites for several heads in one batched product: `[S, D]` each, in the order given. */
export async function headWritesMany(pass: AttributionPass, proj: OutputProjections, heads: readonly { layer: number; head: number }[]): Promise<Tensor[]> {
  for (const { layer, head } of heads) checkHead(pass, proj, layer, head);
  if (heads.length === 0) return [];
  const [, H, S] = pass.attention.shape;
  const { headDim: hd, dim: D, numKvHeads: KVH } = proj;
  const n = heads.length;
  const wo = new Float32Array(n * D * hd); // [n, D, hd]
  const vt = new Float32Array(n * hd * S); // [n, hd, S]
  heads.forEach(({ layer, head }, i) => {
    wo.set(proj.perHead[layer].subarray(head * D * hd, (head + 1) * D * hd), i * D * hd);
    const kv = Math.floor(head / (H / KVH));
    const v = pass.values.data.subarray((layer * KVH + kv) * S * hd, (layer * KVH + kv + 1) * S * hd); // [S, hd]
    for (let j = 0; j < S; j++) for (let k = 0; k < hd; k++) vt[(i * hd + k) * S + j] = v[j * hd + k];
  });
  const wv = await batchedMatmul(wo, vt, { batch: n, m: D, k: hd, n: S }); // [n, D, S]
  return heads.map(({ layer, head }, i) => {
    const a = pass.attention.data.subarray((layer * H + head) * S, (layer * H + head + 1) * S);
    const out = new Float32Array(S * D);
    for (let d = 0; d < D; d++) {
      const row = (i * D + d) * S;
      for (let j = 0; j < S; j++) out[j * D + d] = a[j] * wv[row + j];
    }
    return { shape: [S, D], data: out };
  });
}
