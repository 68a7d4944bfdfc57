import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, test } from "node:test";
import { readCorpus } from "../../src/bank/corpus";
import { fixtureGrid } from "../../src/repro/fixture-grid";
import { CONCEPT_TEST_IMAGES, worldGrid } from "../../src/repro/world-grid";
import { REPO, tempDir } from "../helpers/python";

/** A models/ folder with both worlds' shared models (real eval sets, a 100-sentence world corpus) and a second model each. */
function modelsDir(): string {
  const dir = tempDir();
  for (const name of ["shapes-llava", "shapes-second", "objects-llava", "objects-second", "unrelated"]) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, "manifest.json"), "{}");
  }
  fs.symlinkSync(path.join(REPO, "models", "shapes-llava", "eval"), path.join(dir, "shapes-llava", "eval"));
  fs.symlinkSync(path.join(REPO, "models", "objects-llava", "eval"), path.join(dir, "objects-llava", "eval"));
  fs.symlinkSync(path.join(REPO, "models", "objects-llava", "concepts"), path.join(dir, "objects-llava", "concepts"));
  const lines = fs.readFileSync(path.join(REPO, "models", "objects-llava", "corpus.txt"), "utf8").split("\n").slice(0, 100);
  fs.writeFileSync(path.join(dir, "objects-llava", "corpus.txt"), lines.join("\n") + "\n");
  return dir;
}

const saved = { ...process.env };
afterEach(() => {
  for (const k of ["VISLENS_CACHE_DIR", "VISLENS_CORPUS_SENTENCES", "VISLENS_EVAL_IMAGES", "VISLENS_CONCEPT_IMAGES"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

test("worldGrid takes the objects-* bundles, objects-llava first, and fixtureGrid only the shapes-* ones", () => {
  const dir = modelsDir();
  process.env.VISLENS_CACHE_DIR = path.join(dir, "cache");
  assert.deepEqual(worldGrid(dir).models.map((m) => m.name), ["objects-llava", "objects-second"]);
  assert.deepEqual(fixtureGrid(dir).models.map((m) => m.name), ["shapes-llava", "shapes-second"]);
  fs.rmSync(path.join(dir, "objects-llava", "manifest.json"));
  assert.throws(() => worldGrid(dir), /the world grid needs objects-llava\/ with its bundle/);
});

test("worldGrid uses the whole corpus and eval set by default, seeded subsets under VISLENS_CORPUS_SENTENCES / VISLENS_EVAL_IMAGES", () => {
  const dir = modelsDir();
  process.env.VISLENS_CACHE_DIR = path.join(dir, "cache");
  const whole = worldGrid(dir);
  assert.equal(whole.corpus, path.join(dir, "objects-llava", "corpus.txt"));
  assert.equal(whole.corpusSentences, 100);
  assert.equal(whole.images, 250);
  assert.equal(whole.full, true);
  assert.equal(whole.bankDir("objects-llava"), path.join(dir, "cache", "banks", "objects-llava"));

  process.env.VISLENS_CORPUS_SENTENCES = "10";
  process.env.VISLENS_EVAL_IMAGES = "20";
  const part = worldGrid(dir);
  assert.equal(part.corpusSentences, 10);
  assert.equal(part.images, 20);
  assert.equal(part.full, false);
  assert.notEqual(part.corpus, whole.corpus);
  const sentences = readCorpus(part.corpus).sentences;
  assert.equal(sentences.length, 10);
  const all = new Set(readCorpus(whole.corpus).sentences);
  assert.ok(sentences.every((s) => all.has(s)), "a subset of the world's corpus");
  assert.deepEqual(readCorpus(worldGrid(dir).corpus).sentences, sentences, "the same subset each time");

  process.env.VISLENS_CORPUS_SENTENCES = "0";
  assert.throws(() => worldGrid(dir), /VISLENS_CORPUS_SENTENCES must be a positive integer or "all", got "0"/);
});

test("worldGrid's concept split: fitted on its first images, tested on its held-out tail, each target in turn", () => {
  const dir = modelsDir();
  process.env.VISLENS_CACHE_DIR = path.join(dir, "cache");
  const whole = worldGrid(dir).conceptSplit();
  assert.equal(whole.train.length, 600 - CONCEPT_TEST_IMAGES);
  assert.equal(whole.test.length, CONCEPT_TEST_IMAGES);
  assert.equal(path.basename(whole.test[0].file), `${600 - CONCEPT_TEST_IMAGES}.png`.padStart(8, "0"));
  const names = (images: typeof whole.test) => images.map((im) => im.world!.objects.map((o) => o.name));
  const targets = ["dog", "cat", "banana", "apple", "bus", "train"];
  names(whole.test).forEach((objects, i) => assert.ok(objects.includes(targets[i % 6]), `test image ${i}: ${objects}`));
  const trainFiles = new Set(whole.train.map((im) => im.file));
  assert.ok(whole.test.every((im) => !trainFiles.has(im.file)), "no test image is fitted on");

  process.env.VISLENS_CONCEPT_IMAGES = "30";
  process.env.VISLENS_EVAL_IMAGES = "12";
  const part = worldGrid(dir);
  assert.equal(part.conceptImages, 30);
  const split = part.conceptSplit();
  assert.deepEqual(split.train.map((im) => im.file), whole.train.slice(0, 30).map((im) => im.file));
  assert.deepEqual(split.test.map((im) => im.file), whole.test.slice(0, 12).map((im) => im.file));
});
