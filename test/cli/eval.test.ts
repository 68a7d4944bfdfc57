import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { test } from "node:test";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { REPO, tempDir } from "../helpers/python";

/** Runs the real CLI binary (bin/vislens.js over dist/), as `npx vislens eval` does. */
function vislens(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, "bin", "vislens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const work = tempDir("vislens-eval-cli-");
const EVAL = path.join(FIXTURE_BUNDLE, "eval");
const CORPUS = path.join(FIXTURE_BUNDLE, "corpus.txt");
const GRID_MODEL = path.join(REPO, "models", "shapes-lm8-clip");

test("vislens eval: rows for two models x three lenses x every layer, a control, CSV files and a progress bar", () => {
  const csv = path.join(work, "rows.csv");
  const summaryCsv = path.join(work, "summary.csv");
  const banks = path.join(work, "banks");
  const r = vislens("eval", FIXTURE_BUNDLE, GRID_MODEL, "--corpus", CORPUS, "--eval-set", EVAL, "--banks", banks, "--images", "12", "--control", "--csv", csv, "--summary-csv", summaryCsv, "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { images: number; rows: { model: string; judge: string; lens: string; layer: number; total: number; interpretable: number; concrete: number; global: number; abstract: number; percent: number }[]; summary: { model: string; judge: string; lens: string; layers: number; percent: number }[] };
  assert.equal(out.images, 12);
  // shapes-llava has 6 LLM layers (7 visual layers), shapes-lm8-clip 8 (9): 3 lenses x (7 + 9) x 2 judges.
  assert.equal(out.rows.length, 3 * (7 + 9) * 2);
  for (const row of out.rows) {
    assert.equal(row.total, 12);
    assert.equal(row.concrete + row.abstract + row.global, row.interpretable);
  }
  assert.deepEqual([...new Set(out.rows.map((x) => x.judge))], ["shapes-ground-truth", "shapes-ground-truth/control"]);
  assert.equal(out.summary.length, 2 * 3 * 2);
  // Each model's bank was built once, into its own cache directory.
  for (const name of ["shapes-llava", "shapes-lm8-clip"]) assert.ok(fs.existsSync(path.join(banks, name, "bank.json")), `no bank for ${name}`);
  // The CSV holds exactly the rows the JSON printed.
  const lines = fs.readFileSync(csv, "utf8").trimEnd().split("\n");
  assert.equal(lines[0], "model,judge,lens,layer,interpretable,concrete,abstract,global,total,percent");
  assert.equal(lines.length, out.rows.length + 1);
  const first = out.rows[0];
  assert.equal(lines[1], [first.model, first.judge, first.lens, first.layer, first.interpretable, first.concrete, first.abstract, first.global, first.total, first.percent].join(","));
  assert.match(fs.readFileSync(summaryCsv, "utf8"), /^model,judge,lens,layers,percent,concrete_percent,abstract_percent,global_percent,interpretable,total\n/);
  // Progress on stderr (a line per 10% when stderr is not a terminal), ending at 100%: each of the
  // 2 x 12 images runs through its model once, judged by the ground truth and the control together.
  assert.match(r.stderr, /eval 100% 24\/24 shapes-lm8-clip/);
});

test("vislens eval prints per-layer tables and the summary; seeded runs repeat exactly", () => {
  const banks = path.join(work, "banks-text");
  const a = vislens("eval", FIXTURE_BUNDLE, "--banks", banks, "--images", "6", "--lens", "embedding,logit");
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /% of 6 sampled patches \(one per image\) with a top-5 word the judge accepts, by layer:\n\n\[shapes-ground-truth\]/);
  assert.match(a.stdout, /^model\tlens\tL0\tL1\tL2\tL3\tL4\tL5\tL6\tmean$/m);
  assert.match(a.stdout, /^shapes-llava\tembedding(\t[\d.]+){8}$/m);
  assert.doesNotMatch(a.stdout, /latent/, "LatentLens was not asked for");
  assert.ok(!fs.existsSync(banks), "no bank is built when LatentLens is not evaluated");
  const b = vislens("eval", FIXTURE_BUNDLE, "--banks", banks, "--images", "6", "--lens", "embedding,logit");
  assert.equal(b.stdout, a.stdout);
  const c = vislens("eval", FIXTURE_BUNDLE, "--banks", banks, "--images", "6", "--lens", "embedding,logit", "--seed", "3");
  assert.notEqual(c.stdout, a.stdout, "another seed samples other patches");
});

test("vislens eval on the open-vocabulary world's eval set: the world's judge and its control, abstract matches counted", () => {
  const world = path.join(REPO, "models", "objects-llava");
  const r = vislens("eval", world, "--lens", "embedding,logit", "--images", "8", "--control", "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { world: string; images: number; rows: { judge: string; lens: string; total: number; interpretable: number; concrete: number; abstract: number; global: number }[]; summary: { judge: string; abstract_percent: number }[] };
  assert.equal(out.world, "world");
  assert.equal(out.images, 8);
  const layers = (JSON.parse(fs.readFileSync(path.join(world, "manifest.json"), "utf8")) as { llm: { num_layers: number } }).llm.num_layers + 1;
  assert.equal(out.rows.length, 2 * 2 * layers);
  assert.deepEqual([...new Set(out.rows.map((x) => x.judge))], ["world-ground-truth", "world-ground-truth/control"]);
  for (const x of out.rows) {
    assert.equal(x.total, 8);
    assert.equal(x.concrete + x.abstract + x.global, x.interpretable);
  }
  assert.ok(out.summary.every((x) => Number.isFinite(x.abstract_percent)));
});

test("vislens eval: bad input is named", () => {
  const noCorpus = vislens("eval", GRID_MODEL, "--eval-set", EVAL, "--images", "2");
  assert.equal(noCorpus.code, 2);
  assert.match(noCorpus.stderr, /shapes-lm8-clip has no corpus\.txt for its LatentLens bank; pass --corpus/);
  const noSet = vislens("eval", GRID_MODEL, "--lens", "logit");
  assert.equal(noSet.code, 1);
  assert.match(noSet.stderr, /shapes-lm8-clip\/eval\/annotations\.json: annotations file not found/);
  const badLens = vislens("eval", FIXTURE_BUNDLE, "--lens", "tuned");
  assert.equal(badLens.code, 2);
  assert.match(badLens.stderr, /--lens must be latent, logit, embedding or all, got "tuned"/);
  const broken = path.join(work, "broken.json");
  const ann = JSON.parse(fs.readFileSync(path.join(EVAL, "annotations.json"), "utf8"));
  ann.images[3].patch_labels[2][5] = 9;
  fs.writeFileSync(broken, JSON.stringify(ann));
  const bad = vislens("eval", FIXTURE_BUNDLE, "--eval-set", broken, "--lens", "logit");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /broken\.json \(images\[3\]\.patch_labels\[2\]\[5\]\): expected 0\.\.\d \(0 = background, k = objects\[k-1\]\), got 9/);
});

test("vislens eval --judge llm asks an OpenAI-compatible server, caches its answers, never writes the key", async () => {
  const KEY = "sk-cli-test-0c6f2e9a41b7d358";
  const requests: { auth?: string; words: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const parsed = JSON.parse(body) as { messages: { content: string | { type: string; text?: string }[] }[] };
      const text = parsed.messages.flatMap((m) => (typeof m.content === "string" ? [m.content] : m.content.map((p) => p.text ?? ""))).join("\n");
      requests.push({ auth: req.headers.authorization, words: text });
      // Accept every word that is "circle" as concrete: LogitLens says it sometimes.
      const content = JSON.stringify({ concrete: /"circle"/.test(text) ? ["circle"] : [], abstract: [], global: [] });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const cache = path.join(work, "judge-cache");
  const run = () =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(REPO, "bin", "vislens.js"), "eval", FIXTURE_BUNDLE, "--lens", "logit", "--images", "3", "--layers", "0,6",
        "--judge", "llm", "--llm-url", url, "--llm-model", "judge-1", "--llm-key-env", "VISLENS_CLI_TEST_KEY", "--llm-cache", cache, "--json"], {
        env: { ...process.env, VISLENS_CLI_TEST_KEY: KEY },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  try {
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(requests.length, 3 * 2, "one request per image and layer");
    assert.ok(requests.every((r) => r.auth === `Bearer ${KEY}`));
    const out = JSON.parse(first.stdout) as { rows: { judge: string; layer: number; concrete: number; interpretable: number }[] };
    assert.deepEqual(out.rows.map((r) => r.judge), ["llm:judge-1", "llm:judge-1"]);
    // The server's rule, counted back: patches whose words included "circle".
    const circles = requests.filter((r) => /"circle"/.test(r.words)).length;
    assert.equal(out.rows.reduce((s, r) => s + r.concrete, 0), circles);
    // Answers are cached: a second run asks nothing, and says the same.
    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    assert.equal(requests.length, 6, "the second run was answered from the cache");
    assert.deepEqual(JSON.parse(second.stdout).rows, out.rows);
    const files = fs.readdirSync(cache, { recursive: true }).map(String).filter((f) => f.endsWith(".json"));
    assert.equal(files.length, 6);
    for (const f of files) assert.ok(!fs.readFileSync(path.join(cache, f), "utf8").includes(KEY), `${f} holds the API key`);
  } finally {
    server.close();
  }
  const noUrl = vislens("eval", FIXTURE_BUNDLE, "--judge", "llm", "--llm-model", "x");
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /--judge llm needs --llm-url/);
  const control = vislens("eval", FIXTURE_BUNDLE, "--judge", "llm", "--llm-url", "http://127.0.0.1:9/v1", "--llm-model", "x", "--control");
  assert.equal(control.code, 2);
  assert.match(control.stderr, /--control .* needs --judge ground-truth/);
});
