import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { answerLogProbs, attributeAnswer, freezeFinalNorm, type AttributionResult } from "../../src/attribution";
import { runAttributionPass } from "../../src/model/attribution-pass";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { prepareImageInput } from "../../src/model/hidden";
import { FIXTURE_BUNDLE, maxAbsDiff } from "../helpers/fixture";
import { PYTHON, REPO, tempDir } from "../helpers/python";
import { PROBE_PROMPT, tinyBundle, writeProbeImage } from "../helpers/tiny";
import { execFileSync } from "node:child_process";

interface TorchReference {
  target: number;
  log_prob: number;
  head_scores: number[][];
  attention_scores: number[];
  ffn_scores: number[];
  heads: [number, number][];
  position_scores: number[][];
  visual_positions: number[];
  mean_attention: number[];
  patch_drops: number[];
  head_drops: number[];
}

/** The same attribution computed by exporter/vislens_export/attribution_reference.py in PyTorch eager. */
function torchReference(bundle: string, hf: string, image: string, prompt: string, heads: number): TorchReference {
  const out = path.join(tempDir(), "ref.json");
  execFileSync(PYTHON, ["-m", "vislens_export.attribution_reference", bundle, "--hf", hf, "--image", image, "--prompt", prompt, "--heads", String(heads), "--threads", "1", "--out", out], {
    cwd: path.join(REPO, "exporter"),
    stdio: ["ignore", "ignore", "inherit"],
  });
  return JSON.parse(fs.readFileSync(out, "utf8")) as TorchReference;
}

function compareWithTorch(r: AttributionResult, ref: TorchReference, tol: { scores: number; drops: number }): void {
  assert.equal(r.target.tokenId, ref.target, "ŷ = argmax");
  assert.ok(Math.abs(r.target.logProb - ref.log_prob) <= 1e-4, `log p(ŷ) ${r.target.logProb} vs ${ref.log_prob}`);
  assert.deepEqual(r.visualPositions, ref.visual_positions);
  assert.ok(maxAbsDiff(r.headScores, ref.head_scores.flat()) <= tol.scores, `head scores differ by ${maxAbsDiff(r.headScores, ref.head_scores.flat())}`);
  assert.ok(maxAbsDiff(r.layerScores.map((l) => l.attention), ref.attention_scores) <= tol.scores, "attention scores");
  assert.ok(maxAbsDiff(r.layerScores.map((l) => l.ffn), ref.ffn_scores) <= tol.scores, "FFN scores");
  assert.deepEqual(r.headPositions.map((h) => [h.layer, h.head]), ref.heads, "the same top heads, in the same order");
  r.headPositions.forEach((h, i) => assert.ok(maxAbsDiff(h.scores, ref.position_scores[i]) <= tol.scores, `position scores of head ${h.layer}.${h.head}`));
  assert.ok(maxAbsDiff(r.attentionMap, ref.mean_attention) <= 1e-5, "mean attention map");
  const a = r.ablation!;
  assert.ok(maxAbsDiff(a.patchDrops, ref.patch_drops) <= tol.drops, `patch ablation drops differ by ${maxAbsDiff(a.patchDrops, ref.patch_drops)}`);
  assert.ok(maxAbsDiff(a.heads.map((h) => h.drop), ref.head_drops) <= tol.drops, "head ablation drops");
  // Not vacuous: the scores and drops are far from zero somewhere.
  assert.ok(Math.max(...r.headScores.map(Math.abs)) > 0.01 && Math.max(...a.patchDrops.map(Math.abs)) > 0.01);
}

let fixture: Bundle;
before(async () => {
  fixture = await openBundle(FIXTURE_BUNDLE);
});
after(async () => {
  await fixture.close();
});

const EVAL = path.join(FIXTURE_BUNDLE, "eval");

for (const [file, prompt] of [
  ["0000.png", "a big yellow triangle left of a small blue"],
  ["0012.png", "a big green"],
] as const) {
  test(`shapes-llava ${file}: head, layer and position scores and both ablations equal PyTorch eager on the HF checkpoint`, async () => {
    const image = path.join(EVAL, file);
    const r = await attributeAnswer(fixture, image, { prompt, heads: 6, ablate: true });
    const ref = torchReference(FIXTURE_BUNDLE, path.join(FIXTURE_BUNDLE, "hf"), image, prompt, 6);
    compareWithTorch(r, ref, { scores: 1e-4, drops: 1e-3 });
  });
}

test("qwen2vl (M-RoPE, merged grid, GQA): attribution equals PyTorch eager on the tiny random model", async () => {
  const image = await writeProbeImage(path.join(tempDir(), "probe.png"));
  const { bundle: dir, hf } = tinyBundle("qwen2vl", image, PROBE_PROMPT);
  const bundle = await openBundle(dir);
  try {
    const r = await attributeAnswer(bundle, image, { prompt: PROBE_PROMPT, heads: 4, ablate: true });
    assert.deepEqual(r.grid, bundle.manifest.vision.grid);
    assert.equal(r.positionMap.length, bundle.manifest.vision.num_tokens);
    const ref = torchReference(dir, hf, image, PROBE_PROMPT, 4);
    compareWithTorch(r, ref, { scores: 1e-4, drops: 1e-3 });
  } finally {
    await bundle.close();
  }
});

test("onevision (tiled image: base tile and newlines spliced in, the grid's patches scored and ablated): attribution equals PyTorch eager", async () => {
  const image = await writeProbeImage(path.join(tempDir(), "probe.png"));
  const { bundle: dir, hf } = tinyBundle("onevision", image, PROBE_PROMPT);
  const bundle = await openBundle(dir);
  try {
    const r = await attributeAnswer(bundle, image, { prompt: PROBE_PROMPT, heads: 4, ablate: true });
    const [rows, cols] = bundle.manifest.vision.grid;
    assert.equal(r.positionMap.length, rows * cols);
    assert.ok(rows * cols < bundle.manifest.vision.num_tokens, "the base tile and the newlines are not scored");
    const ref = torchReference(dir, hf, image, PROBE_PROMPT, 4);
    compareWithTorch(r, ref, { scores: 1e-4, drops: 1e-3 });
  } finally {
    await bundle.close();
  }
});

test("the frozen norm read at the final state gives the model's own log p(ŷ); the stream's parts add up", async () => {
  const input = await prepareImageInput(fixture, path.join(EVAL, "0003.png"), "a big");
  const pass = await runAttributionPass(fixture, input.ids, input.imageTokens, input.imageTokenPositions);
  const { num_layers: N, hidden_size: D } = fixture.manifest.llm;
  const S = input.ids.length;
  const T = S - 1;
  const at = (l: number) => pass.hidden.data.subarray((l * S + T) * D, (l * S + T + 1) * D);
  const norm = freezeFinalNorm(fixture.manifest.llm.final_norm, fixture.weights, at(N));
  let best = 0;
  for (let v = 1; v < pass.logits.length; v++) if (pass.logits[v] > pass.logits[best]) best = v;
  const r = await attributeAnswer(fixture, path.join(EVAL, "0003.png"), { prompt: "a big", heads: 0 });
  const [phiFinal] = await answerLogProbs(fixture, norm, Float32Array.from(at(N)), best);
  assert.ok(Math.abs(phiFinal - r.target.logProb) <= 1e-4, `φ(x_N) gives ${phiFinal}, the model ${r.target.logProb}`);
  // hidden[0] + Σ_l (attention_l + FFN_l) = hidden[N] at T.
  const sum = Float32Array.from(at(0));
  for (let l = 0; l < N; l++) for (let d = 0; d < D; d++) sum[d] += pass.attentionOutput.data[l * D + d] + pass.ffnOutput.data[l * D + d];
  assert.ok(maxAbsDiff(sum, at(N)) <= 1e-4);
  assert.equal(r.headPositions.length, 0);
  assert.equal(r.ablation, undefined);
});

test("a named target is scored instead of the argmax; text that is not one token is refused by name", async () => {
  const image = path.join(EVAL, "0000.png");
  const prompt = "a big yellow triangle left of a small blue";
  const r = await attributeAnswer(fixture, image, { prompt, target: "square", heads: 2 });
  assert.equal(r.target.token, "square");
  assert.equal(r.target.source, "token");
  assert.equal(r.target.predicted, "circle");
  assert.ok(r.target.logProb < -1, "the model does not expect square here");
  const byId = await attributeAnswer(fixture, image, { prompt, target: r.target.tokenId, heads: 2 });
  assert.ok(maxAbsDiff(byId.headScores, r.headScores) === 0);
  await assert.rejects(attributeAnswer(fixture, image, { prompt, target: "big square" }), (e: Error) => e instanceof RangeError && /"big square" is not one token/.test(e.message) && /Ġbig/.test(e.message));
  await assert.rejects(attributeAnswer(fixture, image, { prompt, target: 99999 }), /target token id 99999 is outside the vocabulary 0\.\.408/);
});

test("bad input is refused with the value named: heads out of range, no image, a position before the image, no attribution graph", async () => {
  const image = path.join(EVAL, "0000.png");
  await assert.rejects(attributeAnswer(fixture, image, { heads: [{ layer: 6, head: 0 }] }), /layer 6 is out of range 0\.\.5/);
  await assert.rejects(attributeAnswer(fixture, image, { heads: [{ layer: 0, head: 4 }] }), /head 4 \(layer 0\) is out of range 0\.\.3/);
  await assert.rejects(attributeAnswer(fixture, "", {}), (e: Error) => e instanceof TypeError && /an image is required/.test(e.message));
  await assert.rejects(attributeAnswer(fixture, image, { position: 0 }), /position 0 comes before the image \(its first visual token is at 1\)/);
  await assert.rejects(attributeAnswer(fixture, image, { position: 500 }), /position 500 is outside the sequence 0\.\.65/);
  const old = await openBundle(path.join(REPO, "models", "shapes-lm6-patchcls"));
  try {
    await assert.rejects(attributeAnswer(old, image, {}), /shapes-lm6-patchcls.*no attribution graph/s);
  } finally {
    await old.close();
  }
});

test("an earlier position T is attributed on the sequence cut after it (a causal model cannot see later tokens)", async () => {
  const image = path.join(EVAL, "0000.png");
  const full = await attributeAnswer(fixture, image, { prompt: "a big yellow triangle", heads: 3 });
  const cut = await attributeAnswer(fixture, image, { prompt: "a big yellow triangle left of", position: full.position, heads: 3 });
  assert.equal(cut.position, full.position);
  assert.deepEqual(cut.ids, full.ids);
  assert.ok(maxAbsDiff(cut.headScores, full.headScores) <= 1e-5);
});
