import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { generate, generatedStepStates } from "../../src/model/generate";
import { prepareImageInput, runSequence } from "../../src/model/hidden";
import { applyFinalNorm } from "../../src/model/norm";
import { copyBundle, FIXTURE_BUNDLE, maxAbsDiff } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

/** Greedy captions of the HF checkpoint's own `generate` (python -m vislens_export.generate_reference). */
const REFERENCE = path.join(FIXTURE_BUNDLE, "eval", "greedy.json");
interface Reference {
  prompt: string;
  prompt_ids: number[];
  max_new_tokens: number;
  eos_token_ids: number[];
  images: { file: string; ids: number[]; text: string; stop: string }[];
}
const reference = JSON.parse(fs.readFileSync(REFERENCE, "utf8")) as Reference;

let bundle: Bundle;
before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
});
after(async () => {
  await bundle.close();
});

test("generate equals the HF checkpoint's greedy generate on all 250 held-out images (ids exactly)", async () => {
  assert.equal(reference.images.length, 250);
  assert.deepEqual(bundle.manifest.prompt.eos_token_ids, reference.eos_token_ids);
  const start = process.hrtime.bigint();
  let tokens = 0;
  const mismatches: string[] = [];
  for (const r of reference.images) {
    const g = await generate(bundle, path.join(path.dirname(REFERENCE), r.file), reference.prompt, { maxNewTokens: reference.max_new_tokens, layers: [] });
    tokens += g.ids.length;
    if (g.ids.join() !== r.ids.join() || g.text !== r.text || g.stop !== r.stop) mismatches.push(`${r.file}: vislens ${JSON.stringify(g.text)} [${g.ids}] (${g.stop}), HF ${JSON.stringify(r.text)} [${r.ids}] (${r.stop})`);
    if (r === reference.images[0]) assert.deepEqual(g.promptIds, reference.prompt_ids);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stderr.write(`generate: 250 images, ${tokens} tokens in ${seconds.toFixed(1)} s (${((1000 * seconds) / tokens).toFixed(1)} ms/token)\n`);
  assert.deepEqual(mismatches, []);
});

test("generate's hidden states at step s are those of the position predicting token s, at every layer, and its final norm", async () => {
  const r = reference.images[0];
  const image = path.join(path.dirname(REFERENCE), r.file);
  const g = await generate(bundle, image, "", { finalNorm: true });
  const N = bundle.manifest.llm.num_layers;
  const D = bundle.manifest.llm.hidden_size;
  assert.deepEqual(g.layers, Array.from({ length: N + 1 }, (_, i) => i));
  assert.deepEqual(g.hidden.shape, [r.ids.length, N + 1, D]);
  assert.deepEqual(g.finalNorm!.shape, [r.ids.length, D]);
  // One independent forward pass over the prompt and the generated ids: position P - 1 + s predicts ids[s].
  const input = await prepareImageInput(bundle, image, "");
  const P = input.ids.length;
  const full = await runSequence(bundle, [...input.ids, ...r.ids], input.imageTokens, input.imageTokenPositions);
  const V = bundle.manifest.llm.vocab_size;
  const S = full.ids.length;
  for (let s = 0; s < r.ids.length; s++) {
    const p = P - 1 + s;
    const row = full.logits.data.subarray(p * V, (p + 1) * V);
    assert.equal(row.indexOf(Math.max(...row)), r.ids[s], `step ${s} predicts ids[${s}]`);
    for (let l = 0; l <= N; l++) {
      const expected = full.hidden.data.subarray((l * S + p) * D, (l * S + p + 1) * D);
      const got = g.hidden.data.subarray((s * (N + 1) + l) * D, (s * (N + 1) + l + 1) * D);
      assert.ok(maxAbsDiff(got, expected) < 1e-4, `step ${s} layer ${l}`);
    }
    const normed = applyFinalNorm(bundle.manifest.llm.final_norm, bundle.weights.finalNormWeight, bundle.weights.finalNormBias, full.hidden.data.subarray((N * S + p) * D, (N * S + p + 1) * D));
    assert.ok(maxAbsDiff(g.finalNorm!.data.subarray(s * D, (s + 1) * D), normed) < 1e-4, `final norm at step ${s}`);
  }
  // Chosen layers, in the order asked; the same states from known ids in one pass.
  const some = await generate(bundle, image, "", { layers: [N, 0] });
  assert.deepEqual(some.layers, [N, 0]);
  assert.deepEqual(some.hidden.shape, [r.ids.length, 2, D]);
  assert.deepEqual(Array.from(some.hidden.data.subarray(0, D)), Array.from(g.hidden.data.subarray(N * D, (N + 1) * D)));
  const again = await generatedStepStates(bundle, input, r.ids, { layers: [N, 0] });
  assert.ok(maxAbsDiff(again.hidden.data, some.hidden.data) < 1e-4);
});

test("generate stops at maxNewTokens, and only there for a bundle without eos_token_ids (with a warning)", async () => {
  const image = path.join(path.dirname(REFERENCE), reference.images[0].file);
  const short = await generate(bundle, image, "", { maxNewTokens: 3, layers: [] });
  assert.deepEqual(short.ids, reference.images[0].ids.slice(0, 3));
  assert.equal(short.stop, "max-new-tokens");
  assert.equal(short.text, bundle.tokenizer.decode(short.ids));

  const dir = copyBundle(path.join(tempDir(), "old"));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
  delete manifest.prompt.eos_token_ids;
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
  const old = await openBundle(dir);
  try {
    const warnings: string[] = [];
    const g = await generate(old, image, "", { maxNewTokens: 20, layers: [], onWarning: (m) => warnings.push(m) });
    await generate(old, image, "", { maxNewTokens: 2, layers: [], onWarning: (m) => warnings.push(m) });
    assert.equal(g.ids.length, 20, "no EOS known: runs to the limit");
    assert.equal(g.stop, "max-new-tokens");
    assert.deepEqual(g.ids.slice(0, reference.images[0].ids.length), reference.images[0].ids, "same tokens up to the (unrecognised) EOS");
    assert.equal(warnings.length, 1, "warned once per bundle");
    assert.match(warnings[0], /no prompt\.eos_token_ids.*stops only at maxNewTokens/);
  } finally {
    await old.close();
  }
});

test("generate refuses a bad maxNewTokens or layer, naming the value", async () => {
  const image = path.join(path.dirname(REFERENCE), reference.images[0].file);
  await assert.rejects(generate(bundle, image, "", { maxNewTokens: 0 }), /options\.maxNewTokens must be an integer ≥ 1, got 0/);
  await assert.rejects(generate(bundle, image, "", { maxNewTokens: 2.5 }), RangeError);
  await assert.rejects(generate(bundle, image, "", { layers: [7] }), /layer 7 is outside 0\.\.6/);
});
