import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { conceptComparison } from "../../src/concepts/comparison";
import { fitDictionary } from "../../src/concepts/dictionary";
import { generateImages, generationCacheFile } from "../../src/concepts/generation-cache";
import { decodeDirections } from "../../src/concepts/grounding";
import { readConceptImages, type ConceptImage } from "../../src/concepts/images";
import { interpretConceptImage, interpretRepresentations } from "../../src/concepts/interpret";
import { learnConcepts, type ConceptDictionary } from "../../src/concepts/learn";
import { conceptSamples, findWholeWord, type ConceptSamples } from "../../src/concepts/samples";
import { conceptUsefulness } from "../../src/concepts/usefulness";
import { tokenWord } from "../../src/concepts/words";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { generate } from "../../src/model/generate";
import { prepareImageInput, runSequence } from "../../src/model/hidden";
import { FIXTURE_BUNDLE, maxAbsDiff } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

// Concept dictionaries end to end on the shipped fixture: the first 300 images of its concept split
// for training, the first 100 held-out images for testing. Greedy captions come from the shared
// generation cache (.cache/generations), so only a fresh checkout generates them (about 40 s).
const TRAIN = 300;
const TEST = 100;

let bundle: Bundle;
let train: ConceptImage[];
let held: ConceptImage[];
let circle: ConceptSamples;
let snmf: ConceptDictionary;

before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  train = readConceptImages(path.join(FIXTURE_BUNDLE, "concepts"), { limit: TRAIN });
  held = readConceptImages(path.join(FIXTURE_BUNDLE, "eval"), { limit: TEST });
  circle = await conceptSamples(bundle, train, "circle");
  snmf = await learnConcepts(bundle, circle, { method: "snmf", k: 8 });
});
after(async () => {
  await bundle.close();
});

test("readConceptImages reads an annotated set with reference captions, or a plain folder of images", () => {
  assert.equal(train.length, TRAIN);
  assert.equal(path.basename(train[0].file), "0000.png");
  assert.ok(train[0].caption && train[0].annotation?.objects.length);
  const plain = tempDir();
  fs.copyFileSync(train[1].file, path.join(plain, "b.png"));
  fs.copyFileSync(train[0].file, path.join(plain, "a.png"));
  fs.writeFileSync(path.join(plain, "notes.txt"), "not an image");
  assert.deepEqual(readConceptImages(plain).map((i) => path.basename(i.file)), ["a.png", "b.png"]);
  assert.equal(readConceptImages(plain)[0].caption, undefined);
  assert.throws(() => readConceptImages(path.join(plain, "missing")), /missing: no such image directory/);
});

test("conceptSamples: generated and reference captions contain the word; the step predicts its token", async () => {
  const { counts, samples, z } = circle;
  assert.equal(counts.images, TRAIN);
  assert.equal(samples.length + counts.notGenerated + counts.notInReference, TRAIN);
  assert.ok(samples.length > 50, `${samples.length} samples`);
  assert.deepEqual([z.rows, z.cols], [samples.length, bundle.manifest.llm.hidden_size]);
  for (const s of samples) {
    assert.ok(findWholeWord(s.generated, "circle") >= 0 && findWholeWord(s.image.caption!, "circle") >= 0, s.image.file);
    assert.equal(bundle.tokenizer.decode([s.tokenId]).trim(), "circle");
  }
  // The representation is generate()'s final-norm output at that step (an independent run).
  for (const s of samples.slice(0, 3)) {
    const g = await generate(bundle, s.image.file, "", { layers: [3], finalNorm: true });
    assert.equal(g.text, s.generated);
    assert.equal(g.ids[s.step], s.tokenId, "step s outputs the word's token");
    const D = z.cols;
    const row = z.data.subarray(samples.indexOf(s) * D, (samples.indexOf(s) + 1) * D);
    assert.ok(maxAbsDiff(row, g.finalNorm!.data.subarray(s.step * D, (s.step + 1) * D)) < 1e-4);
  }
  const mid = await conceptSamples(bundle, train.slice(0, 40), "circle", { layer: 3 });
  const s = mid.samples[0];
  const g = await generate(bundle, s.image.file, "", { layers: [3] });
  const D = mid.z.cols;
  assert.ok(maxAbsDiff(mid.z.data.subarray(0, D), g.hidden.data.subarray(s.step * D, (s.step + 1) * D)) < 1e-4, "layer 3 row");
});

test("decodeDirections applies the final norm once: pre-norm (layer N) and final-norm rows decode to the model's own top tokens", async () => {
  const N = bundle.manifest.llm.num_layers;
  const V = bundle.manifest.llm.vocab_size;
  const few = circle.samples.slice(0, 10);
  const pre = await conceptSamples(bundle, few.map((s) => s.image), "circle", { layer: N });
  const normed = { rows: few.length, cols: circle.z.cols, data: circle.z.data.slice(0, few.length * circle.z.cols) };
  // The model's logits at the step that predicts "circle": its top 5 tokens, best first.
  const expected: number[] = [];
  for (const s of few) {
    const g = await generate(bundle, s.image.file, "", { layers: [] });
    const input = await prepareImageInput(bundle, s.image.file, "");
    const run = await runSequence(bundle, [...input.ids, ...g.ids.slice(0, s.step)], input.imageTokens, input.imageTokenPositions);
    const row = Array.from(run.logits.data.subarray((run.ids.length - 1) * V, run.ids.length * V));
    expected.push(...row.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, i]) => i));
  }
  for (const [z, layer] of [[pre.z, N], [normed, "final-norm"]] as const) {
    const { ids, k } = await decodeDirections(bundle, z, layer, 5);
    assert.equal(k, 5);
    assert.deepEqual(Array.from(ids), expected, `layer ${layer}`);
  }
});

test("learnConcepts: K concepts, each with real words and its 5 most activated samples", () => {
  assert.equal(snmf.concepts.length, 8);
  assert.equal(snmf.dictionary.k, 8);
  for (const c of snmf.concepts) {
    assert.ok(c.words.length > 0 && c.words.length <= 10);
    assert.equal(new Set(c.words).size, c.words.length, "no duplicate words");
    for (const w of c.words) assert.equal(w, w.toLowerCase());
    assert.equal(c.images.length, 5);
    for (let i = 1; i < 5; i++) assert.ok(c.images[i - 1].activation >= c.images[i].activation);
    const column = circle.samples.map((_, i) => snmf.dictionary.codes.data[i * 8 + c.index]);
    assert.equal(c.images[0].activation, Math.max(...column));
    assert.equal(c.images[0].file, circle.samples[c.images[0].sample].image.file);
  }
  // Every kept word passes the word filter as some token of the vocabulary.
  const vocabWords = new Set<string>();
  for (let id = 0; id < bundle.tokenizer.size; id++) {
    const v = tokenWord(bundle.tokenizer, id);
    if ("word" in v) vocabWords.add(v.word);
  }
  for (const c of snmf.concepts) for (const w of c.words) assert.ok(vocabWords.has(w), w);
  assert.ok(snmf.overlap.score >= 0 && snmf.overlap.score <= 1);
});

test("interpretRepresentations: activations by the dictionary's encoder (semi-NMF: its lasso), top concepts first", () => {
  const rows = 5;
  const z = { rows, cols: circle.z.cols, data: circle.z.data.slice(0, rows * circle.z.cols) };
  const local = interpretRepresentations(snmf, z, { top: 3 });
  for (let i = 0; i < rows; i++) {
    assert.ok(maxAbsDiff(local[i].activations, snmf.dictionary.codes.data.subarray(i * 8, (i + 1) * 8)) < 1e-3, "training codes reproduced");
    const acts = local[i].top.map((t) => t.activation);
    assert.deepEqual(acts, [...acts].sort((a, b) => b - a));
    assert.deepEqual(local[i].top[0].words, snmf.concepts[local[i].top[0].concept].words);
  }
  const lasso = interpretRepresentations(snmf, z, { encoder: "lasso" });
  assert.ok(maxAbsDiff(lasso[0].activations, local[0].activations) < 1e-9, "semi-NMF's encoder is the lasso");
  assert.throws(() => interpretRepresentations(snmf, z, { top: 9 }), /top must be an integer in 1\.\.8, got 9/);
});

test("interpretConceptImage: a new image's concepts, or a clear error when its caption lacks the word", async () => {
  const withCircle = held.find((h) => h.caption!.includes("circle"))!;
  const result = await interpretConceptImage(bundle, snmf, withCircle.file);
  assert.equal(result.top.length, 3);
  assert.equal(bundle.tokenizer.decode([result.sample.tokenId]).trim(), "circle");
  const without = held.find((h) => !h.caption!.includes("circle") && !h.caption!.includes("square"))!;
  await assert.rejects(interpretConceptImage(bundle, snmf, without.file), /no sample for token "circle"/);
});

test("conceptUsefulness: shares of top-1 / top-3 words naming the test image's objects, against random directions", async () => {
  const test = await conceptSamples(bundle, held, "circle");
  const use = await conceptUsefulness(bundle, snmf, test);
  assert.equal(use.images, test.samples.length);
  for (const v of [use.top1, use.top3, use.random.top1, use.random.top3]) assert.ok(v >= 0 && v <= 1, String(v));
  assert.equal(use.perConcept.reduce((n, p) => n + p.images, 0), use.images);
  // "circle" is in every test image, and the concepts are mostly made of world words.
  assert.ok(use.top1 > 0);
});

test("conceptComparison: one row per token and method, K capped by the samples", async () => {
  const { rows, dictionaries } = await conceptComparison(bundle, { tokens: ["cross"], train: train.slice(0, 120), test: held.slice(0, 40), k: 6, methods: ["simple", "pca", "kmeans", "snmf"] });
  assert.deepEqual(rows.map((r) => r.method), ["simple", "pca", "kmeans", "snmf"]);
  assert.equal(dictionaries.length, 4);
  for (const r of rows) {
    assert.equal(r.token, "cross");
    assert.equal(r.k, 6);
    assert.ok(r.samples >= 6 && r.testSamples > 0);
    for (const v of [r.overlap, r.top1, r.top3, r.randomTop1, r.randomTop3]) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${r.method} ${v}`);
  }
  const few = await conceptComparison(bundle, { tokens: ["cross"], train: train.slice(0, 12), test: held.slice(0, 10), k: 20, methods: ["kmeans"] });
  assert.equal(few.rows[0].k, few.rows[0].samples, "K = min(k, samples)");
  // No held-out sample (no reference caption says "cross", or no test images at all): the dictionaries and their overlap, usefulness NaN.
  const noCross = held.filter((i) => !/\bcross\b/.test(i.caption ?? "cross")).slice(0, 6);
  assert.equal(noCross.length, 6);
  for (const test of [noCross, []]) {
    const messages: string[] = [];
    const none = await conceptComparison(bundle, { tokens: ["cross"], train: train.slice(0, 40), test, k: 4, methods: ["simple", "snmf"], onMessage: (m) => messages.push(m) });
    assert.deepEqual(none.rows.map((r) => r.method), ["simple", "snmf"]);
    for (const r of none.rows) {
      assert.equal(r.testSamples, 0);
      assert.ok(Number.isFinite(r.overlap) && r.overlap >= 0 && r.overlap <= 1);
      assert.ok([r.top1, r.top3, r.randomTop1, r.randomTop3].every(Number.isNaN));
    }
    assert.match(messages[0], new RegExp(`^cross: \\d+ training samples, 0 held-out samples, K = 4 \\(overlap only: no caption of the ${test.length} held-out images`));
  }
});

test("bad input: an unknown or multi-token word, no sample, fewer samples than K, a non-finite matrix, a bad layer", async () => {
  await assert.rejects(conceptSamples(bundle, train, "dog"), /token "dog" is not one token of the vocabulary/);
  await assert.rejects(conceptSamples(bundle, train, "nothing"), /no sample for token "nothing": none of the 300 images' generated captions contains it/);
  await assert.rejects(conceptSamples(bundle, train, "circle", { layer: 7 }), /layer must be an integer in 0\.\.6 .* or "final-norm", got 7/);
  await assert.rejects(learnConcepts(bundle, circle, { k: 5000 }), new RegExp(`only ${circle.z.rows} samples of "circle" for k = 5000 concepts`));
  const broken = { ...circle, z: { ...circle.z, data: circle.z.data.slice() } };
  broken.z.data[3 * circle.z.cols + 5] = Number.NaN;
  await assert.rejects(learnConcepts(bundle, broken, { k: 4 }), /snmf: z has a non-finite value \(NaN\) at row 3, column 5/);
  assert.throws(() => fitDictionary({ rows: 2, cols: 2, data: Float64Array.of(1, Infinity, 0, 1) }, "pca", { k: 1 }), /pca: z has a non-finite value \(Infinity\) at row 0, column 1/);
  // A multi-token word is accepted on request and then matched nowhere here.
  await assert.rejects(conceptSamples(bundle, train.slice(0, 5), "dog", { multiToken: "first-token" }), /no sample for token "dog"/);
});

test("generateImages caches by bundle and image content, and regenerates only what changed", async () => {
  const cache = tempDir();
  const dir = tempDir();
  for (const i of [0, 1, 2]) fs.copyFileSync(held[i].file, path.join(dir, `${i}.png`));
  const files = [0, 1, 2].map((i) => path.join(dir, `${i}.png`));
  const progress: number[] = [];
  const first = await generateImages(bundle, files, { cache, onProgress: (d, n) => progress.push(n) });
  assert.deepEqual(progress, [3, 3, 3]);
  const file = generationCacheFile(bundle, "", 50, cache);
  assert.ok(file.includes(bundle.fingerprint));
  const stored = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.equal(stored.format, "vislens-generation-cache");
  assert.equal(Object.keys(stored.entries).length, 3);
  for (const [i, f] of files.entries()) {
    const g = await generate(bundle, f, "", { layers: [] });
    assert.deepEqual(first[i], { ids: g.ids, text: g.text, stop: g.stop });
  }
  progress.length = 0;
  assert.deepEqual(await generateImages(bundle, files, { cache, onProgress: (d, n) => progress.push(n) }), first);
  assert.equal(progress.length, 0, "all from the cache");
  fs.copyFileSync(held[5].file, files[1]);
  const changed = await generateImages(bundle, files, { cache, onProgress: (d, n) => progress.push(n) });
  assert.deepEqual(progress, [1], "only the changed image");
  assert.equal(changed[1].text, (await generate(bundle, files[1], "", { layers: [] })).text);
  assert.equal((await generateImages(bundle, files, { cache, maxNewTokens: 2 }))[0].ids.length, 2, "other settings: another cache file");
});

test("readConceptImages reads the open-vocabulary world's split: captions, its annotation, and the words naming its objects", () => {
  const images = readConceptImages(path.join(FIXTURE_BUNDLE, "..", "objects-llava", "concepts"), { limit: 12 });
  assert.equal(images.length, 12);
  const targets = ["dog", "cat", "banana", "apple", "bus", "train"];
  images.forEach((im, i) => {
    assert.equal(path.basename(im.file), `${String(i).padStart(4, "0")}.png`);
    assert.ok(im.world && !im.annotation, "a world annotation, not a shapes one");
    assert.ok(im.caption && new RegExp(`\\b${targets[i % 6]}\\b`).test(im.caption), `${im.file}: ${im.caption}`);
    // The target's name and its categories (a dog is an animal) are among the words naming the objects.
    const target = im.world!.objects.find((o) => o.name === targets[i % 6])!;
    for (const w of [target.name, ...target.categories]) assert.ok(im.objectWords!.includes(w), `${w} in ${im.objectWords}`);
  });
  const shapes = readConceptImages(path.join(FIXTURE_BUNDLE, "concepts"), { limit: 2 });
  assert.deepEqual(shapes[0].objectWords, shapes[0].annotation!.objects.flatMap((o) => [o.colour, o.shape]));
});
