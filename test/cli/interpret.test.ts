import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { REPO, tempDir } from "../helpers/python";

const CLI = path.join(REPO, "bin", "vislens.js");
const bank = path.join(tempDir(), "bank");

function vislens(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
}

interface Annotation {
  file: string;
  objects: { colour: string; shape: string }[];
  patch_labels: number[][];
}

/** The first held-out image with a red circle, and the patches it covers. */
function redCircle(): { image: string; patches: [number, number][] } {
  const ann = JSON.parse(fs.readFileSync(path.join(FIXTURE_BUNDLE, "eval", "annotations.json"), "utf8")) as { images: Annotation[] };
  for (const im of ann.images) {
    const k = im.objects.findIndex((o) => o.colour === "red" && o.shape === "circle");
    if (k < 0) continue;
    const patches: [number, number][] = [];
    im.patch_labels.forEach((row, r) => row.forEach((label, c) => label === k + 1 && patches.push([r, c])));
    if (patches.length > 0) return { image: path.join(FIXTURE_BUNDLE, "eval", im.file), patches };
  }
  throw new Error("no red circle in the evaluation set");
}

before(() => {
  const r = vislens("bank", "build", FIXTURE_BUNDLE, "--corpus", path.join(FIXTURE_BUNDLE, "corpus.txt"), "--out", bank);
  assert.equal(r.status, 0, r.stderr);
});

test("interpret --lens all --json: a patch on a red circle has LatentLens neighbours 'red' or 'circle' at some layer", () => {
  const { image, patches } = redCircle();
  const [r0, c0] = patches[Math.floor(patches.length / 2)];
  const r = vislens("interpret", FIXTURE_BUNDLE, "--bank", bank, "--image", image, "--lens", "all", "--patch", `${r0},${c0}`, "--json");
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE_BUNDLE, "manifest.json"), "utf8"));
  const L = manifest.llm.num_layers + 1;
  assert.equal(out.records.length, 3 * L, "one record per lens x visual layer x patch");
  const latent = out.records.filter((x: { lens: string }) => x.lens === "latent");
  assert.equal(latent.length, L);
  const words = new Set(latent.flatMap((x: { neighbours: { word: string }[] }) => x.neighbours.map((n) => n.word)));
  assert.ok(words.has("red") || words.has("circle"), `LatentLens words at patch ${r0},${c0}: ${[...words].join(", ")}`);
  for (const rec of latent) {
    assert.deepEqual(rec.patch, { index: r0 * manifest.vision.grid[1] + c0, row: r0, col: c0 });
    assert.equal(rec.neighbours.length, 5);
    for (const n of rec.neighbours) assert.ok(typeof n.sentence === "string" && typeof n.layer === "number" && n.similarity <= 1.0001);
  }
});

test("interpret without a bank refuses LatentLens and names the fix; with another model's bank it names both models", () => {
  const { image } = redCircle();
  const r = vislens("interpret", FIXTURE_BUNDLE, "--image", image, "--lens", "latent", "--json");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /LatentLens needs --bank/);
  const other = path.join(tempDir(), "other-bank");
  fs.cpSync(bank, other, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(other, "bank.json"), "utf8"));
  manifest.model.fingerprint = "0".repeat(64);
  manifest.model.name = "some-other-model";
  fs.writeFileSync(path.join(other, "bank.json"), JSON.stringify(manifest));
  const m = vislens("interpret", FIXTURE_BUNDLE, "--bank", other, "--image", image, "--json");
  assert.equal(m.status, 1);
  assert.match(m.stderr, /built with model "some-other-model"/);
});
