import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { buildBank } from "../../src/bank/build";
import { openBank, type Bank } from "../../src/bank/open";
import { halfToFloat } from "../../src/io/float16";
import { readNpy } from "../../src/io/npy";
import { layerAlignment, layerAlignmentFromRecords } from "../../src/lenses/alignment";
import { createLenses } from "../../src/lenses/create";
import { interpretImage } from "../../src/lenses/interpret";
import type { Neighbour } from "../../src/lenses/types";
import { wordAt } from "../../src/lenses/words";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { FIXTURE_BUNDLE, FIXTURE_REFERENCE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

let bundle: Bundle;
let bank: Bank;
before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  const corpus = path.join(tempDir(), "corpus.txt");
  fs.writeFileSync(corpus, fs.readFileSync(path.join(FIXTURE_BUNDLE, "corpus.txt"), "utf8").split("\n").slice(0, 1500).join("\n"));
  const dir = path.join(tempDir(), "bank");
  await buildBank(bundle, corpus, dir, { layers: [1, 2, 4], policy: { kind: "reservoir", maxContexts: 8, seed: 42 } });
  bank = openBank(dir, { fingerprint: bundle.fingerprint });
});
after(async () => bundle?.close());

function referenceHidden() {
  const h = readNpy(path.join(FIXTURE_REFERENCE, "hidden_states.npy"));
  const [L, S, D] = h.shape;
  return { L, S, D, at: (l: number, s: number) => (h.data as Float32Array).slice((l * S + s) * D, (l * S + s + 1) * D) };
}

test("LogitLens on the last layer's pre-norm state reproduces the model's own logits (HF reference)", async () => {
  const [logit] = createLenses(bundle, ["logit"]);
  const h = referenceHidden();
  const [top] = await logit.interpret(h.at(h.L - 1, h.S - 1), 5);
  const ref = readNpy(path.join(FIXTURE_REFERENCE, "logits_last.npy")).data as Float32Array;
  const order = Array.from(ref.keys()).sort((a, b) => ref[b] - ref[a]).slice(0, 5);
  assert.deepEqual(top.map((n) => n.tokenId), order);
  top.forEach((n) => assert.ok(Math.abs(n.logit! - ref[n.tokenId]) < 1e-4, `logit of ${n.token}`));
  const z = Array.from(ref).reduce((s, v) => s + Math.exp(v - ref[order[0]]), 0);
  assert.ok(Math.abs(top[0].probability! - 1 / z) < 1e-6);
});

test("EmbeddingLens ranks embedding rows by cosine, as a float64 brute force does", async () => {
  const [lens] = createLenses(bundle, ["embedding"]);
  const h = referenceHidden();
  const q = h.at(2, 10);
  const [top] = await lens.interpret(q, 5);
  const E = bundle.weights.embedding;
  const D = h.D;
  const cos = Array.from({ length: E.length / D }, (_, v) => {
    let dot = 0, a = 0, b = 0;
    for (let d = 0; d < D; d++) {
      dot += E[v * D + d] * q[d];
      a += E[v * D + d] ** 2;
      b += q[d] ** 2;
    }
    return a === 0 ? 0 : dot / Math.sqrt(a * b); // a zero row (the padding token) has cosine 0
  });
  const order = cos.map((_, i) => i).sort((a, b) => cos[b] - cos[a]).slice(0, 5);
  assert.deepEqual(top.map((n) => n.tokenId), order);
  top.forEach((n) => assert.ok(Math.abs(n.similarity! - cos[n.tokenId]) < 1e-5));
  assert.ok(top.every((n) => n.layer === 0));
});

test("LatentLens returns the global top-k over every bank layer, with sentence, span and whole word", async () => {
  const [lens] = createLenses(bundle, ["latent"], bank);
  const h = referenceHidden();
  const q = h.at(3, 12);
  const [top] = await lens.interpret(q, 6);
  const D = bank.manifest.dim;
  const qn = Math.hypot(...q);
  const all: { layer: number; row: number; s: number }[] = [];
  for (const m of bank.matrices.values()) {
    for (let r = 0; r < m.rows; r++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += halfToFloat((m.data as Uint16Array)[r * D + d]) * q[d];
      all.push({ layer: m.layer, row: r, s: s / qn });
    }
  }
  all.sort((a, b) => b.s - a.s || a.layer - b.layer || a.row - b.row);
  assert.deepEqual(top.map((n) => [n.layer, n.similarity!.toFixed(4)]), all.slice(0, 6).map((a) => [a.layer, a.s.toFixed(4)]));
  for (const n of top) {
    assert.equal(n.sentence!.slice(n.span![0], n.span![1]), n.token, "span spells the token in its sentence");
    assert.ok(n.sentence!.includes(n.word));
  }
});

test("interpretImage gives one record per lens x layer x patch, in grid geometry", async () => {
  const lenses = createLenses(bundle, ["latent", "embedding", "logit"], bank);
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8"));
  const states = await imageHiddenStates(bundle, path.join(FIXTURE_REFERENCE, meta.image));
  const records = await interpretImage(states, lenses, { layers: [0, 3, 6], patches: [0, 9, 63], k: 3 });
  assert.equal(records.length, 3 * 3 * 3);
  assert.deepEqual(records.filter((r) => r.patch.index === 9)[0].patch, { index: 9, row: 1, col: 1 });
  assert.ok(records.every((r) => r.neighbours.length === 3 && r.neighbours[0].rank === 1));
  await assert.rejects(interpretImage(states, lenses, { layers: [7] }), /layer 7 is outside 0..6/);
  await assert.rejects(lenses[0].interpret(new Float32Array(bank.manifest.dim).fill(NaN), 3), /query 0 has a non-finite value/);
});

test("layerAlignment counts the contextual layers of the top-k, with EmbeddingLens merged in as layer 0", () => {
  const n = (layer: number, similarity: number): Neighbour => ({ rank: 0, tokenId: 0, token: "", word: "", layer, similarity });
  const latent = new Map([[0, [[n(4, 0.9), n(4, 0.8)], [n(2, 0.7), n(4, 0.6)]]], [5, [[n(5, 0.9), n(5, 0.8)], [n(5, 0.9), n(2, 0.1)]]]]);
  const embedding = new Map([[0, [[n(0, 0.85)], [n(0, 0.1)]]], [5, [[n(0, 0.2)], [n(0, 0.5)]]]]);
  const a = layerAlignment(latent, 2, embedding);
  assert.deepEqual(a.contextualLayers, [0, 2, 4, 5]);
  assert.deepEqual(a.shares, [[0.25, 0.25, 0.5, 0], [0.25, 0, 0, 0.75]]);
  assert.deepEqual(a.counts, [4, 4]);
});

test("wordAt expands a sub-word span to its whole word", () => {
  assert.equal(wordAt("a shining star", [6, 9]), "shining");
  assert.equal(wordAt("the red-ish circle.", [4, 7]), "red-ish");
  assert.equal(wordAt("circle", [0, 6]), "circle");
});

test("layerAlignmentFromRecords on a real image: every visual layer's shares sum to 1 over contextual layers 0 and the bank's", async () => {
  const lenses = createLenses(bundle, ["latent", "embedding"], bank);
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8"));
  const states = await imageHiddenStates(bundle, path.join(FIXTURE_REFERENCE, meta.image));
  const records = await interpretImage(states, lenses, { k: 5 });
  const a = layerAlignmentFromRecords(records, 5);
  assert.deepEqual(a.visualLayers, [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(a.contextualLayers.filter((l) => l !== 0), bank.manifest.layers.filter((l) => a.contextualLayers.includes(l)));
  assert.ok(a.contextualLayers.every((l) => l === 0 || bank.manifest.layers.includes(l)));
  a.shares.forEach((row, i) => {
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-9, `row ${i}`);
    assert.equal(a.counts[i], 64 * 5);
  });
});
