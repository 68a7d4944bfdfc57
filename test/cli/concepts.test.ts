import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { REPO } from "../helpers/python";

/** Runs the real CLI binary (bin/vislens.js over dist/), as `npx vislens` does. */
function vislens(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, "bin", "vislens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The first 300 images of the concept split: their captions are in the shared generation cache
// after test/concepts (or are generated here once, about 30 s).
const SUBSET = ["--max-images", "300"];

test("vislens concepts --json prints K concepts, each with grounding words and its top-5 images, and the overlap", () => {
  const r = vislens("concepts", FIXTURE_BUNDLE, "--token", "circle", "--k", "6", ...SUBSET, "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.token, "circle");
  assert.equal(out.layer, "final-norm");
  assert.equal(out.method, "snmf");
  assert.equal(out.concepts.length, 6);
  for (const c of out.concepts) {
    assert.ok(Array.isArray(c.words) && c.words.length > 0);
    assert.equal(c.images.length, 5);
    assert.match(c.images[0].file, /concepts\/\d{4}\.png$/);
    assert.equal(typeof c.images[0].activation, "number");
  }
  assert.ok(out.overlap >= 0 && out.overlap <= 1);
  assert.equal(out.counts.images, 300);
  assert.match(r.stderr, /samples of "circle" in 300 images/, "progress goes to stderr");
});

test("vislens concepts: other methods and layers, and a plain text table", () => {
  const r = vislens("concepts", FIXTURE_BUNDLE, "--token", "square", "--method", "kmeans", "--layer", "4", "--k", "3", ...SUBSET);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^3 kmeans concepts of "square" at layer 4/);
  assert.equal(r.stdout.trim().split("\n").length, 5, "header, 3 concepts, overlap");
  assert.match(r.stdout, /overlap \d\.\d{3}/);
});

test("vislens concepts: usage mistakes exit 2 with the usage", () => {
  for (const args of [["--k", "3"], ["--token", "circle", "--method", "nmf"], ["--token", "circle", "--k", "0"], ["--token", "circle", "--layer", "middle"], ["--token", "circle", "--lambda", "-1"]]) {
    const r = vislens("concepts", FIXTURE_BUNDLE, ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /usage: vislens concepts <bundle> --token <word>/);
  }
});

test("vislens concepts: bad input exits 1 with one line naming the value", () => {
  const cases: [string[], RegExp][] = [
    [["--token", "dog"], /token "dog" is not one token of the vocabulary/],
    [["--token", "nothing"], /no sample for token "nothing"/],
    [["--token", "circle", "--k", "5000"], /only \d+ samples of "circle" for k = 5000 concepts/],
    [["--token", "circle", "--layer", "9"], /layer must be an integer in 0\.\.6 .* got 9/],
    [["--token", "circle", "--images", path.join(REPO, "no-such-dir")], /no-such-dir: no such image directory/],
  ];
  for (const [args, pattern] of cases) {
    const r = vislens("concepts", FIXTURE_BUNDLE, ...args, ...SUBSET);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("generate "));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  }
});
