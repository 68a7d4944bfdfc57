import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { readNpy } from "../../src/io/npy";
import { FIXTURE_BUNDLE, FIXTURE_REFERENCE } from "../helpers/fixture";
import { REPO, tempDir } from "../helpers/python";

/** Runs the real CLI binary (bin/vislens.js over dist/), as `npx vislens` does. */
function vislens(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, "bin", "vislens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE_BUNDLE, "manifest.json"), "utf8"));
const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8")) as { image: string; prompt: string };
const image = path.join(FIXTURE_REFERENCE, meta.image);

test("vislens info --json summarises the bundle's manifest", () => {
  const r = vislens("info", FIXTURE_BUNDLE, "--json");
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.architecture, "LlavaForConditionalGeneration");
  assert.equal(info.llm.layers, manifest.llm.num_layers);
  assert.deepEqual(info.vision.grid, manifest.vision.grid);
  assert.match(info.fingerprint, /^[0-9a-f]{64}$/);
  assert.deepEqual(info.attribution, { heads: manifest.llm.attention.num_heads, kv_heads: manifest.llm.attention.num_kv_heads, head_dim: manifest.llm.attention.head_dim });
});

test("vislens hidden --json prints layers = LLM layers + 1, tokens, dim, grid and per-layer mean norms", () => {
  const r = vislens("hidden", FIXTURE_BUNDLE, "--image", image, "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const [rows, cols] = manifest.vision.grid;
  assert.equal(out.layers, manifest.llm.num_layers + 1);
  assert.equal(out.tokens, rows * cols);
  assert.equal(out.dim, manifest.llm.hidden_size);
  assert.deepEqual(out.grid, [rows, cols]);
  assert.equal(out.norms.length, 1, "one row of norms per image");
  assert.equal(out.norms[0].length, out.layers);
  // Cross-check against the reference hidden states: the image precedes the prompt in the template,
  // so in a causal model the visual tokens' states do not depend on the prompt text.
  const ref = readNpy(path.join(FIXTURE_REFERENCE, "hidden_states.npy"));
  const [L, S, D] = ref.shape;
  const positions = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8")).image_token_positions as number[];
  for (let l = 0; l < L; l++) {
    let sum = 0;
    for (const p of positions) {
      let sq = 0;
      for (let d = 0; d < D; d++) sq += (ref.data as Float32Array)[(l * S + p) * D + d] ** 2;
      sum += Math.sqrt(sq);
    }
    assert.ok(Math.abs(out.norms[0][l] - sum / positions.length) < 1e-3, `layer ${l}`);
  }
});

test("vislens hidden reports a non-image file in one line naming it, exit code 1", () => {
  const bad = path.join(tempDir(), "notes.png");
  fs.writeFileSync(bad, "not an image");
  const r = vislens("hidden", FIXTURE_BUNDLE, "--image", bad, "--json");
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, new RegExp(`^vislens hidden: ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not a readable image`));
  assert.equal(r.stderr.trim().split("\n").length, 1, "no stack trace");
});

test("vislens reports usage mistakes with exit code 2", () => {
  assert.equal(vislens("hidden", FIXTURE_BUNDLE).code, 2);
  assert.equal(vislens("frobnicate").code, 2);
  assert.match(vislens("info", FIXTURE_BUNDLE, "--bogus").stderr, /usage: vislens info/);
});

test("vislens info says whether a bundle can attribute answers", () => {
  const yes = vislens("info", FIXTURE_BUNDLE);
  assert.equal(yes.code, 0, yes.stderr);
  assert.match(yes.stdout, /attribution {2}yes: 4 heads \(4 key\/value\) x 32 per block/);
  const old = vislens("info", path.join(REPO, "models", "shapes-lm8-clip"));
  assert.equal(old.code, 0, old.stderr);
  assert.match(old.stdout, /attribution {2}no: it was exported before answer attribution existed or with --no-attribution; re-export/);
  assert.equal(JSON.parse(vislens("info", path.join(REPO, "models", "shapes-lm8-clip"), "--json").stdout).attribution, null);
});

test("--device: cuda without its provider exits 1 naming the library; an unknown device is a usage error", () => {
  const image = path.join(FIXTURE_BUNDLE, "eval", "0000.png");
  const cuda = vislens("hidden", FIXTURE_BUNDLE, "--image", image, "--device", "cuda", "--json");
  if (cuda.code === 0) return void assert.equal(JSON.parse(cuda.stdout).layers, manifest.llm.num_layers + 1); // a machine with the CUDA provider installed
  assert.equal(cuda.code, 1);
  assert.match(cuda.stderr, /CUDA execution provider is not installed \(.*libonnxruntime_providers_cuda\.so is missing\)/);
  const tpu = vislens("interpret", FIXTURE_BUNDLE, "--image", image, "--device", "tpu");
  assert.equal(tpu.code, 2);
  assert.match(tpu.stderr, /--device must be cpu or cuda, got "tpu"/);
  const corpus = path.join(FIXTURE_BUNDLE, "corpus.txt");
  const bank = vislens("bank", "build", FIXTURE_BUNDLE, "--corpus", corpus, "--out", path.join(tempDir(), "bank"), "--device", "cuda");
  assert.equal(bank.code, 1);
  assert.match(bank.stderr, /CUDA execution provider is not installed/);
  assert.match(vislens("bank", "build", FIXTURE_BUNDLE, "--corpus", corpus, "--out", "x", "--device", "tpu").stderr, /--device must be cpu or cuda, got "tpu"/);
});
