import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { readCorpus, subsampleCorpus } from "../../src/bank/corpus";
import { ensureBank } from "../../src/bank/ensure";
import { BANK_FILES } from "../../src/bank/format";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { REPO, tempDir } from "../helpers/python";

const work = tempDir("vislens-ensure-");
const corpus = path.join(work, "corpus.txt");
const OPTIONS = { layers: [1, 2], policy: { kind: "reservoir" as const, maxContexts: 3, seed: 42 } };
let bundle: Bundle;
let other: Bundle;

before(async () => {
  const lines = fs.readFileSync(path.join(FIXTURE_BUNDLE, "corpus.txt"), "utf8").split("\n").slice(0, 200);
  fs.writeFileSync(corpus, lines.join("\n") + "\n");
  bundle = await openBundle(FIXTURE_BUNDLE);
  other = await openBundle(path.join(REPO, "models", "shapes-lm8-clip"));
});
after(async () => {
  await bundle?.close();
  await other?.close();
});

test("ensureBank builds a missing bank, then opens it without rebuilding", async () => {
  const dir = path.join(work, "a");
  const first = await ensureBank(bundle, corpus, dir, OPTIONS);
  assert.equal(first.action, "built");
  const mtime = fs.statSync(path.join(dir, BANK_FILES.manifest)).mtimeMs;
  const second = await ensureBank(bundle, corpus, dir, OPTIONS);
  assert.equal(second.action, "opened");
  assert.equal(fs.statSync(path.join(dir, BANK_FILES.manifest)).mtimeMs, mtime, "the bank was rewritten");
  assert.equal(second.bank.manifest.rows, first.bank.manifest.rows);
});

test("ensureBank rebuilds a bank from another model, corpus or settings, and says why", async () => {
  const dir = path.join(work, "b");
  await ensureBank(bundle, corpus, dir, OPTIONS);

  const otherModel = await ensureBank(other, corpus, dir, OPTIONS);
  assert.equal(otherModel.action, "rebuilt");
  assert.match(otherModel.reason!, /another model \(shapes-llava\)/);
  assert.equal(otherModel.bank.manifest.model.name, "shapes-lm8-clip");

  const smaller = path.join(work, "smaller.txt");
  fs.writeFileSync(smaller, fs.readFileSync(corpus, "utf8").split("\n").slice(0, 50).join("\n") + "\n");
  const otherCorpus = await ensureBank(other, smaller, dir, OPTIONS);
  assert.equal(otherCorpus.action, "rebuilt");
  assert.match(otherCorpus.reason!, /another corpus/);

  const otherLayers = await ensureBank(other, smaller, dir, { ...OPTIONS, layers: [1, 3] });
  assert.match(otherLayers.reason!, /layers 1,2, not 1,3/);
  assert.deepEqual(otherLayers.bank.manifest.layers, [1, 3]);
});

test("ensureBank starts over when an interrupted build with other settings is in the directory", async () => {
  const dir = path.join(work, "c");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, BANK_FILES.buildState), JSON.stringify({ config: "something else", batches_done: 1 }));
  const r = await ensureBank(bundle, corpus, dir, OPTIONS);
  assert.equal(r.action, "rebuilt");
  assert.match(r.reason!, /interrupted build/);
  assert.ok(!fs.existsSync(path.join(dir, BANK_FILES.buildState)));
});

test("subsampleCorpus keeps a seeded fraction of the sentences in file order", () => {
  const all = readCorpus(corpus).sentences;
  const a = subsampleCorpus(corpus, 0.1, path.join(work, "sub", "a.txt"));
  const b = subsampleCorpus(corpus, 0.1, path.join(work, "sub", "b.txt"));
  const c = subsampleCorpus(corpus, 0.1, path.join(work, "sub", "c.txt"), 7);
  assert.equal(a.sentences, Math.round(0.1 * all.length));
  const kept = readCorpus(a.file).sentences;
  assert.equal(fs.readFileSync(a.file, "utf8"), fs.readFileSync(b.file, "utf8"), "same seed, same sample");
  assert.notEqual(fs.readFileSync(a.file, "utf8"), fs.readFileSync(c.file, "utf8"), "another seed, another sample");
  const positions = kept.map((s) => all.indexOf(s));
  assert.ok(positions.every((p) => p >= 0), "a kept sentence is not in the corpus");
  assert.deepEqual(positions, [...positions].sort((x, y) => x - y), "file order is kept");
  assert.equal(subsampleCorpus(corpus, 0.0001, path.join(work, "sub", "tiny.txt")).sentences, 1, "at least one sentence");
  assert.equal(subsampleCorpus(corpus, 1, path.join(work, "sub", "all.txt")).sentences, all.length);
  assert.throws(() => subsampleCorpus(corpus, 0, path.join(work, "sub", "zero.txt")), /fraction must be in \(0, 1\], got 0/);
});
