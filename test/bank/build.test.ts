import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { BANK_FILES } from "../../src/bank/format";
import { openBank } from "../../src/bank/open";
import { ArtifactError } from "../../src/errors";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { python, REPO, tempDir } from "../helpers/python";

const work = tempDir("vislens-bank-");
const corpus = path.join(work, "corpus.txt");
const CLI = path.join(REPO, "bin", "vislens.js");
// Small batches make many durable checkpoints, so the kill below lands mid-build.
const ARGS = ["--corpus", corpus, "--layers", "1,2,4", "--max-contexts", "4", "--batch-size", "4"];

function build(out: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [CLI, "bank", "build", FIXTURE_BUNDLE, ...ARGS, "--out", out, ...extra], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

/** Every file but the verification record (it holds each file's mtime and inode, which differ by design). */
function filesOf(dir: string): Map<string, Buffer> {
  const names = fs.readdirSync(dir).sort().filter((name) => name !== BANK_FILES.verified);
  return new Map(names.map((name) => [name, fs.readFileSync(path.join(dir, name))]));
}

before(() => {
  const lines = fs.readFileSync(path.join(FIXTURE_BUNDLE, "corpus.txt"), "utf8").split("\n").slice(0, 400);
  fs.writeFileSync(corpus, lines.join("\n") + "\n");
});

test("a bank build killed mid-way resumes with the same command into a byte-identical bank", async () => {
  const whole = path.join(work, "whole");
  build(whole);

  const killed = path.join(work, "killed");
  const child = spawn(process.execPath, [CLI, "bank", "build", FIXTURE_BUNDLE, ...ARGS, "--out", killed], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  await new Promise<void>((resolve) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      // Kill at the first progress line past 0%: some batches are durable, most are not.
      if (/bank build [1-9]\d?% /.test(stderr) && child.exitCode === null) child.kill("SIGKILL");
    });
    child.on("exit", () => resolve());
  });
  assert.equal(child.signalCode, "SIGKILL", `the build should have been killed mid-way; stderr: ${stderr}`);
  assert.ok(!fs.existsSync(path.join(killed, BANK_FILES.manifest)), "no bank.json after a kill");
  const state = JSON.parse(fs.readFileSync(path.join(killed, BANK_FILES.buildState), "utf8"));
  assert.ok(state.batches_done > 0, "some batches were durable before the kill");
  assert.throws(() => openBank(killed), /did not finish; re-run the same build command to resume/);

  const resumed = build(killed);
  assert.match(resumed.stderr, /resumed/);
  const a = filesOf(whole);
  const b = filesOf(killed);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs`);
});

test("a bank's rows are unit-norm float16 that numpy reads directly, with consistent metadata", () => {
  const dir = path.join(work, "whole");
  const bank = openBank(dir);
  assert.deepEqual(bank.manifest.layers, [1, 2, 4]);
  assert.equal(bank.manifest.policy.kind, "reservoir");
  const check = JSON.parse(
    python(
      `import sys, json, numpy as np
d = sys.argv[1]
m = np.load(d + "/layer_04.npy", mmap_mode="r")
norms = np.linalg.norm(np.asarray(m, dtype=np.float64), axis=1)
sent = open(d + "/sentences.txt").read().split("\\n")
sid = np.load(d + "/rows.sentence.npy"); span = np.load(d + "/rows.char_span.npy")
tokens = json.load(open(d + "/tokens.json")); tid = np.load(d + "/rows.token_id.npy")
ok = sum(sent[s][a:b] == tokens[str(t)] for s, (a, b), t in zip(sid, span, tid))
print(json.dumps({"dtype": m.dtype.str, "shape": list(m.shape), "min": norms.min(), "max": norms.max(), "spans_ok": int(ok)}))`,
      [dir],
    ),
  );
  assert.equal(check.dtype, "<f2");
  assert.deepEqual(check.shape, [bank.manifest.rows, bank.manifest.dim]);
  assert.ok(check.min > 0.998 && check.max < 1.002, `row norms ${check.min}..${check.max}`);
  // The character span of (nearly) every row spells its token inside its sentence.
  assert.ok(check.spans_ok >= 0.99 * bank.manifest.rows, `${check.spans_ok} of ${bank.manifest.rows} spans match`);
});

test("openBank refuses another model's bank, a truncated layer file and a modified one", () => {
  const dir = path.join(work, "whole");
  assert.throws(() => openBank(dir, { fingerprint: "f".repeat(64), modelName: "other" }), /built with model .* not with "other"/);
  const copy = path.join(work, "damaged");
  fs.cpSync(dir, copy, { recursive: true });
  const layer = path.join(copy, BANK_FILES.layer(2));
  const bytes = fs.readFileSync(layer);
  bytes[bytes.length - 3] ^= 0x40;
  fs.writeFileSync(layer, bytes);
  assert.throws(() => openBank(copy), (e: unknown) => e instanceof ArtifactError && e.file === layer && /checksum mismatch/.test(e.message));
  fs.truncateSync(layer, 1000);
  assert.throws(() => openBank(copy), (e: unknown) => e instanceof ArtifactError && e.file === layer && /truncated: 1000 bytes/.test(e.message));
});

test("bank build refuses to overwrite a finished bank, and an empty corpus leaves nothing behind", () => {
  const r = spawnSync(process.execPath, [CLI, "bank", "build", FIXTURE_BUNDLE, ...ARGS, "--out", path.join(work, "whole")], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /a finished bank is already here/);
  const empty = path.join(work, "empty-corpus.txt");
  fs.writeFileSync(empty, "\n\n");
  const e = spawnSync(process.execPath, [CLI, "bank", "build", FIXTURE_BUNDLE, "--corpus", empty, "--out", path.join(work, "e")], { encoding: "utf8" });
  assert.equal(e.status, 1);
  assert.match(e.stderr, /empty-corpus.txt: the corpus has no sentences/);
  assert.ok(!fs.existsSync(path.join(work, "e")));
});

test("an int8 bank stores unit rows with per-row scales, and an over-long line is cut and counted", async () => {
  const long = path.join(work, "long.txt");
  const text = fs.readFileSync(corpus, "utf8").split("\n").slice(0, 60);
  text.push(Array.from({ length: 200 }, (_, i) => (i % 2 ? "red" : "circle")).join(" "));
  fs.writeFileSync(long, text.join("\n"));
  const out = path.join(work, "int8");
  const r = spawnSync(process.execPath, [CLI, "bank", "build", FIXTURE_BUNDLE, "--corpus", long, "--out", out, "--dtype", "i8", "--layers", "2", "--max-tokens", "32", "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const bank = openBank(out);
  assert.equal(bank.manifest.dtype, "i8");
  assert.equal(bank.manifest.corpus.truncated, 1);
  assert.equal(bank.manifest.corpus.max_tokens, 32);
  assert.ok(Math.max(...Array.from(bank.position)) < 32, "no row beyond the cut");
  const m = bank.matrices.get(2)!;
  for (let row = 0; row < m.rows; row++) {
    let sq = 0;
    for (let d = 0; d < m.dim; d++) sq += ((m.data as Int8Array)[row * m.dim + d] * m.scales![row]) ** 2;
    assert.ok(Math.abs(Math.sqrt(sq) - 1) < 0.02, `row ${row} norm ${Math.sqrt(sq)}`);
  }
});
