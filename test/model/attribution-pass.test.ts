import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { readNpy } from "../../src/io/npy";
import { attentionSpec, headMask, runAttributionPass } from "../../src/model/attribution-pass";
import { openBundle } from "../../src/model/bundle";
import { headOutputs, headWrites, readOutputProjections } from "../../src/model/heads";
import { prepareImageInput } from "../../src/model/hidden";
import { FIXTURE_BUNDLE, maxAbsDiff } from "../helpers/fixture";
import { REPO, tempDir } from "../helpers/python";
import { ATTRIBUTION_ARCHS, PROBE_PROMPT, tinyBundle, writeProbeImage } from "../helpers/tiny";

const IMAGE = path.join(tempDir(), "probe.png");
const PROMPT = PROBE_PROMPT;

before(async () => {
  await writeProbeImage(IMAGE);
});

const npy = (dir: string, name: string) => readNpy(path.join(dir, `${name}.npy`));

for (const arch of ATTRIBUTION_ARCHS) {
  test(`${arch}: every head's write at T equals a PyTorch eager computation within 1e-4 (grouped-query attention)`, async () => {
    const { bundle: dir, reference } = tinyBundle(arch, IMAGE, PROMPT);
    const bundle = await openBundle(dir);
    try {
      const spec = attentionSpec(bundle);
      assert.ok(spec.num_kv_heads < spec.num_heads, "the tiny models use grouped-query attention");
      const input = await prepareImageInput(bundle, IMAGE, PROMPT);
      const pass = await runAttributionPass(bundle, input.ids, input.imageTokens, input.imageTokenPositions);
      const proj = readOutputProjections(bundle);
      const writes = npy(reference, "head_writes"); // [N, H, S, D]
      const [N, H, S, D] = writes.shape;
      assert.deepEqual([N, H, S, D], [bundle.manifest.llm.num_layers, spec.num_heads, input.ids.length, bundle.manifest.llm.hidden_size]);
      let scale = 0;
      for (let l = 0; l < N; l++) {
        for (let h = 0; h < H; h++) {
          const ours = await headWrites(pass, proj, l, h);
          const ref = (writes.data as Float32Array).subarray((l * H + h) * S * D, (l * H + h + 1) * S * D);
          const diff = maxAbsDiff(ours.data, ref);
          assert.ok(diff <= 1e-4, `layer ${l} head ${h}: max |TS - torch| = ${diff}`);
          for (const v of ref) scale = Math.max(scale, Math.abs(v));
        }
      }
      assert.ok(scale > 0.05, "writes are not tiny, so the tolerance means something");
      assert.ok(maxAbsDiff(pass.attention.data, npy(reference, "attn_weights_last").data as Float32Array) <= 1e-5, "attention rows");
      assert.ok(maxAbsDiff(pass.attentionOutput.data, npy(reference, "attn_output_last").data as Float32Array) <= 1e-4, "attention outputs");
      assert.ok(maxAbsDiff(pass.ffnOutput.data, npy(reference, "mlp_output_last").data as Float32Array) <= 1e-4, "FFN outputs");
      // The heads' outputs add up to the attention output (these models have no o_proj bias).
      const outputs = await headOutputs(pass, proj);
      const summed = new Float32Array(N * D);
      for (let l = 0; l < N; l++) for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) summed[l * D + d] += outputs.data[(l * H + h) * D + d];
      assert.ok(maxAbsDiff(summed, pass.attentionOutput.data) <= 1e-4, "sum of head outputs = attention output");
    } finally {
      await bundle.close();
    }
  });
}

test("a silenced head changes its block's attention output by exactly its own output", async () => {
  const bundle = await openBundle(FIXTURE_BUNDLE);
  try {
    const input = await prepareImageInput(bundle, path.join(FIXTURE_BUNDLE, "eval", "0003.png"), "a big");
    const full = await runAttributionPass(bundle, input.ids, input.imageTokens, input.imageTokenPositions);
    const outputs = await headOutputs(full, readOutputProjections(bundle));
    const [N, H, D] = outputs.shape;
    const layer = 2;
    const head = 1;
    const masked = await runAttributionPass(bundle, input.ids, input.imageTokens, input.imageTokenPositions, headMask(bundle, [[layer, head]]));
    const expected = Float32Array.from({ length: D }, (_, d) => full.attentionOutput.data[layer * D + d] - outputs.data[(layer * H + head) * D + d]);
    assert.ok(maxAbsDiff(masked.attentionOutput.data.subarray(layer * D, (layer + 1) * D), expected) <= 1e-4);
    assert.ok(maxAbsDiff(masked.attentionOutput.data.subarray(0, layer * D), full.attentionOutput.data.subarray(0, layer * D)) <= 1e-6, "earlier blocks unchanged");
    assert.ok(maxAbsDiff(masked.logits, full.logits) > 1e-3, "silencing a head changed the prediction's logits");
    assert.equal(N, bundle.manifest.llm.num_layers);
    assert.throws(() => headMask(bundle, [[N, 0]]), /layer 6 is outside 0\.\.5/);
    assert.throws(() => headMask(bundle, [[0, H]]), /head 4 is outside 0\.\.3/);
  } finally {
    await bundle.close();
  }
});

test("a bundle exported without attribution opens, runs, and says it cannot attribute", async () => {
  const dir = path.join(REPO, "models", "shapes-lm8-clip");
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")).onnx.attribution, undefined);
  const bundle = await openBundle(dir);
  try {
    assert.equal(bundle.attribution, null);
    const input = await prepareImageInput(bundle, path.join(FIXTURE_BUNDLE, "eval", "0000.png"));
    assert.equal(input.visualPositions.length, 64);
    await assert.rejects(runAttributionPass(bundle, input.ids, input.imageTokens, input.imageTokenPositions), /shapes-lm8-clip.*no attribution graph.*re-export/s);
  } finally {
    await bundle.close();
  }
});

test("gemma3: a family the exporter cannot attribute runs, and its refusal gives the exporter's reason, not a re-export", async () => {
  const { bundle: dir } = tinyBundle("gemma3", IMAGE, PROMPT);
  const bundle = await openBundle(dir);
  try {
    assert.equal(bundle.attribution, null);
    const input = await prepareImageInput(bundle, IMAGE, PROMPT);
    await assert.rejects(
      runAttributionPass(bundle, input.ids, input.imageTokens, input.imageTokenPositions),
      (e: Error) => /Gemma3ForConditionalGeneration none: Gemma 3's sandwich norms/.test(e.message) && !/re-export/.test(e.message),
    );
  } finally {
    await bundle.close();
  }
});
