/**
 * Every notebook in notebooks/ runs headless, top to bottom, in the vislens kernel (nbclient from
 * .venv), without a cell error, and leaves the widgets' MIME bundles in its outputs.
 *
 * The notebooks run as copies in a temp directory outside the checkout (which is also the test
 * that `vislens` resolves from any directory); the committed notebooks are never written. The
 * contextual bank goes to a fresh temp directory (VISLENS_BANK_DIR), so the quickstart's build
 * path — with its progress bar — runs too, and 02 opens what 01 built.
 *
 * The reproduction notebooks (03-07) evaluate the fixture grid on the first REPRO_IMAGES held-out
 * images, with banks and results in a fresh cache (VISLENS_CACHE_DIR), so the default run stays
 * short; `VISLENS_NOTEBOOKS=full npm test` runs them on every held-out image, as a user's
 * JupyterLab does. Notebook 09 (concept dictionaries) fits on the first CONCEPT_IMAGES images of the
 * concept split (VISLENS_CONCEPT_IMAGES; all 2,000 in the full run), their captions generated afresh.
 * Notebook 10 (the reproductions on the open-vocabulary objects world) evaluates the same number of
 * held-out images, with banks built from a seeded subset of WORLD_CORPUS_SENTENCES sentences of the
 * world's corpus (VISLENS_CORPUS_SENTENCES; the whole corpus in the full run). Notebook 12 (concept
 * dictionaries on that world) fits on the first CONCEPT_IMAGES images of the world's concept split and
 * tests on the first REPRO_IMAGES of the split's held-out tail.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CONCEPT_TEST_IMAGES } from "../../src/repro/world-grid";
import {
  KERNEL_NAME, NOTEBOOKS, PYTHON, REPO, SVG_MIME, VEGALITE_MIME, copyNotebooks, isolatedJupyterEnv, joinText, notebookNames,
  readNotebook, requireKernel, tempDir, type Notebook, type NotebookOutput,
} from "./jupyter";

const EXECUTE = path.join(__dirname, "execute.py");
const FULL = process.env.VISLENS_NOTEBOOKS === "full";
const REPRO_IMAGES = FULL ? "all" : "40";
/** Concept-split images notebook 09 fits on (captions are generated afresh in the test's cache: about 0.1 s each). */
const CONCEPT_IMAGES = FULL ? "all" : "200";
/** Sentences of the objects world's corpus (56,977) that notebook 10's banks are built from. */
const WORLD_CORPUS_SENTENCES = FULL ? "all" : "3000";
/** Held-out images notebook 11 attributes (each answer is checked by ablating all 64 patches: about 1 s an image). */
const WORLD_ATTRIBUTION_IMAGES = FULL ? "all" : "16";
/** Environment a notebook gets on top of the shared one. */
const NOTEBOOK_ENV: Record<string, Record<string, string>> = { "11-objects-attribution.ipynb": { VISLENS_EVAL_IMAGES: WORLD_ATTRIBUTION_IMAGES } };
/** An executed notebook stays well inside this (the budget is 2 MB for a much larger explorer). */
const MAX_EXECUTED_BYTES = 4 << 20;

interface Run { status: number | null; stdout: string; stderr: string; wallSeconds: number }

function execute(src: string, dst: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [EXECUTE, src, dst, "--timeout", FULL ? "1200" : "300"], { env, cwd: path.dirname(src), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr, wallSeconds: (Date.now() - started) / 1000 }));
  });
}

/** The evaluated images per row of a reproduction's results (the subset, or the whole held-out set). */
const imagesPerRow = () => (FULL ? heldOutImages() : Number(REPRO_IMAGES));
function heldOutImages(): number {
  return (JSON.parse(fs.readFileSync(path.join(REPO, "models", "shapes-llava", "eval", "annotations.json"), "utf8")) as { images: unknown[] }).images.length;
}
function conceptSplitImages(): number {
  return (JSON.parse(fs.readFileSync(path.join(REPO, "models", "shapes-llava", "concepts", "annotations.json"), "utf8")) as { images: unknown[] }).images.length;
}
/** The bundles in models/ whose names start with `family`, as the grids take them (fixtureGrid: shapes-*, worldGrid: objects-*). */
const bundlesOf = (family: string) => fs.readdirSync(path.join(REPO, "models")).filter((n) => n.startsWith(family) && fs.existsSync(path.join(REPO, "models", n, "manifest.json")));
/** The shapes grid that notebooks 03-07 evaluate. */
const GRID = bundlesOf("shapes-");
/** The open-vocabulary world's grid that notebook 10 evaluates. */
const WORLD_GRID = bundlesOf("objects-");
const layersOf = (model: string) => (JSON.parse(fs.readFileSync(path.join(REPO, "models", model, "manifest.json"), "utf8")) as { llm: { num_layers: number } }).llm.num_layers + 1;
/** The evaluated images per row of notebook 10's results, and the sentences its banks come from (readCorpus skips blank lines). */
const worldImagesPerRow = () =>
  FULL ? (JSON.parse(fs.readFileSync(path.join(REPO, "models", "objects-llava", "eval", "annotations.json"), "utf8")) as { images: unknown[] }).images.length : Number(REPRO_IMAGES);
/** Concept-split images notebook 12 fits on (the first CONCEPT_IMAGES of models/objects-llava/concepts, or all before its held-out tail) and tests on (the first REPRO_IMAGES of that tail). */
function worldConceptImages(): { train: number; test: number } {
  const fit = (JSON.parse(fs.readFileSync(path.join(REPO, "models", "objects-llava", "concepts", "annotations.json"), "utf8")) as { images: unknown[] }).images.length - CONCEPT_TEST_IMAGES;
  return FULL ? { train: fit, test: CONCEPT_TEST_IMAGES } : { train: Math.min(Number(CONCEPT_IMAGES), fit), test: Math.min(Number(REPRO_IMAGES), CONCEPT_TEST_IMAGES) };
}
function worldCorpusSentences(): number {
  const all = fs.readFileSync(path.join(REPO, "models", "objects-llava", "corpus.txt"), "utf8").split("\n").filter((l) => l.trim() !== "").length;
  return FULL ? all : Math.min(Number(WORLD_CORPUS_SENTENCES), all);
}

function csvRows(file: string): Record<string, string>[] {
  const [header, ...lines] = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  const columns = header.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [columns[i], v])));
}

function writtenSince(file: string, started: number): void {
  assert.ok(fs.existsSync(file), `${file} was not written`);
  assert.ok(fs.statSync(file).mtimeMs >= started, `${file} is older than this run`);
}

/** What each reproduction notebook must leave behind in the results directory, checked against the grid. */
const REPRODUCTIONS: Record<string, (results: string, text: string, started: number) => void> = {
  "03-fig3-interpretability.ipynb": (results, text, started) => {
    const file = path.join(results, "fig3-interpretability.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    // Every grid model x 3 lenses x each of its layers, judged on its own image and in the control.
    const layers = GRID.map((m) => (JSON.parse(fs.readFileSync(path.join(REPO, "models", m, "manifest.json"), "utf8")) as { llm: { num_layers: number } }).llm.num_layers + 1);
    assert.equal(rows.length, 2 * 3 * layers.reduce((a, b) => a + b, 0));
    assert.deepEqual(new Set(rows.map((r) => r.model)), new Set(GRID));
    for (const r of rows) {
      assert.equal(Number(r.total), imagesPerRow());
      assert.equal(Number(r.concrete) + Number(r.abstract) + Number(r.global), Number(r.interpretable));
    }
    assert.match(text, /ranking by % interpretable: \w+ [\d.]+ > \w+ [\d.]+ > \w+ [\d.]+ +\(paper: latent 68 > embedding 32 > logit 24\)/);
    writtenSince(path.join(results, "fig3-curves.svg"), started);
  },
  "04-fig4-layer-alignment.ipynb": (_results, text) => {
    for (const model of GRID) assert.match(text, new RegExp(`ours, ${model}: visual L0 -> contextual L\\d+ \\([\\d.]+%\\)`));
  },
  "05-qualitative.ipynb": (results, text, started) => {
    writtenSince(path.join(results, "qualitative.svg"), started);
    assert.match(text, /ours \(6 patches\)  latent +interpretable at layers 0-1: \d+\/12/);
  },
  "06-table1-corpus-size.ipynb": (results, _text, started) => {
    const file = path.join(results, "table1-corpus-size.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    assert.deepEqual(rows.map((r) => [r.corpus, r.sentences, r.paper]), [["0.1%", "6", "58.4"], ["1%", "60", "67.3"], ["10%", "600", "72.5"], ["100%", "6000", "71.6"]]);
    for (const r of rows) assert.ok(Number(r.ours) >= 0 && Number(r.ours) <= 100, `ours = ${r.ours}`);
  },
  "07-why-visual-tokens.ipynb": (results, _text, started) => {
    const file = path.join(results, "why-drift.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    assert.deepEqual(new Set(rows.map((r) => r.model)), new Set(GRID));
    // Every token's layer-0 state is itself: cosine 1 at layer 0, below 1 after it.
    for (const r of rows.filter((x) => x.layer === "0")) assert.ok(Math.abs(Number(r.cosine) - 1) < 1e-6, `layer-0 cosine ${r.cosine}`);
    assert.ok(rows.filter((x) => x.layer !== "0").every((r) => Number(r.cosine) < 1));
  },
  "10-objects-world.ipynb": (results, text, started) => {
    // Fig. 3: every world model x 3 lenses x each of its layers, judged on its own image and in the control.
    const file = path.join(results, "fig3-world-interpretability.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    assert.equal(rows.length, 2 * 3 * WORLD_GRID.map(layersOf).reduce((a, b) => a + b, 0));
    assert.deepEqual(new Set(rows.map((r) => r.model)), new Set(WORLD_GRID));
    assert.deepEqual(new Set(rows.map((r) => r.judge)), new Set(["world-ground-truth", "world-ground-truth/control"]));
    assert.equal(new Set(rows.map((r) => `${r.model}/${r.judge}/${r.lens}/${r.layer}`)).size, rows.length);
    for (const r of rows) {
      assert.equal(Number(r.total), worldImagesPerRow());
      assert.equal(Number(r.concrete) + Number(r.abstract) + Number(r.global), Number(r.interpretable));
    }
    // The printed numbers are the CSV's: per lens, the mean over the models of each model's mean over layers.
    const round1 = (x: number) => Math.round(10 * x) / 10;
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const share = (judge: string, lens: string, of: (r: Record<string, string>) => number) =>
      round1(avg(WORLD_GRID.map((m) => round1(avg(rows.filter((r) => r.model === m && r.judge === judge && r.lens === lens).map(of))))));
    const near = (printed: string, expected: number, what: string) => assert.ok(Math.abs(Number(printed) - expected) < 0.051, `${what}: printed ${printed}, CSV ${expected}`);
    const ranking = /ranking by % interpretable: (\w+) ([\d.]+) > (\w+) ([\d.]+) > (\w+) ([\d.]+) +\(paper: latent 68 > embedding 32 > logit 24\)/.exec(text);
    assert.ok(ranking, "the notebook states its lens ranking beside the paper's");
    assert.deepEqual(new Set([ranking[1], ranking[3], ranking[5]]), new Set(["latent", "embedding", "logit"]));
    for (const i of [1, 3, 5]) near(ranking[i + 1], share("world-ground-truth", ranking[i], (r) => Number(r.percent)), `${ranking[i]} % interpretable`);
    assert.ok(Number(ranking[2]) >= Number(ranking[4]) && Number(ranking[4]) >= Number(ranking[6]), "the ranking is in order");
    for (const lens of ["latent", "embedding", "logit"]) {
      const m = new RegExp(`${lens} +own: concrete ([\\d.]+) abstract ([\\d.]+) global ([\\d.]+) \\| control: concrete ([\\d.]+) abstract ([\\d.]+) global ([\\d.]+)`).exec(text);
      assert.ok(m, `the notebook states ${lens}'s concrete, abstract and global shares, own and control`);
      ["world-ground-truth", "world-ground-truth/control"].forEach((judge, j) =>
        ["concrete", "abstract", "global"].forEach((kind, k) => near(m[1 + 3 * j + k], share(judge, lens, (r) => (100 * Number(r[kind])) / Number(r.total)), `${lens} ${judge} ${kind}`)),
      );
    }
    // The same patches split by kind: per (model, judge, lens, layer) the object and background rows add up to the whole row.
    const kindFile = path.join(results, "fig3-world-by-patch-kind.csv");
    writtenSince(kindFile, started);
    const kindRows = csvRows(kindFile);
    assert.equal(kindRows.length, 2 * rows.length);
    for (const r of rows) {
      const parts = kindRows.filter((k) => k.model === r.model && k.lens === r.lens && k.layer === r.layer && k.judge.startsWith(`${r.judge}/`) && !k.judge.slice(r.judge.length + 1).includes("/"));
      assert.deepEqual(parts.map((k) => k.judge).sort(), [`${r.judge}/background patches`, `${r.judge}/object patches`]);
      for (const field of ["total", "interpretable", "concrete", "abstract", "global"]) {
        assert.equal(Number(parts[0][field]) + Number(parts[1][field]), Number(r[field]), `${r.model} ${r.judge} ${r.lens} L${r.layer} ${field}`);
      }
    }
    for (const model of WORLD_GRID) {
      const patches = ["object", "background"].map((kind) => {
        const m = new RegExp(`ours, ${model}, ${kind} patches \\((\\d+) of (\\d+)\\): latent [\\d.]+ \\(control [\\d.]+\\), embedding [\\d.]+ \\(control [\\d.]+\\), logit [\\d.]+ \\(control [\\d.]+\\)`).exec(text);
        assert.ok(m, `the notebook states ${model}'s shares on ${kind} patches`);
        assert.equal(Number(m[2]), worldImagesPerRow());
        return Number(m[1]);
      });
      assert.equal(patches[0] + patches[1], worldImagesPerRow());
    }
    // Fig. 4: the leap, per model.
    for (const model of WORLD_GRID) assert.match(text, new RegExp(`ours, ${model}: visual L0 -> contextual L\\d+ \\([\\d.]+%\\)`));
    // The qualitative figure.
    const svg = path.join(results, "world-qualitative.svg");
    writtenSince(svg, started);
    assert.match(fs.readFileSync(svg, "utf8"), /^(<\?xml[^>]*>\s*)?<svg[\s\S]*<\/svg>\s*$/);
    // Table 1: the four fractions of the notebook's corpus, the paper's numbers beside ours.
    const t1File = path.join(results, "table1-world-corpus-size.csv");
    writtenSince(t1File, started);
    const t1 = csvRows(t1File);
    const sentences = worldCorpusSentences();
    assert.deepEqual(
      t1.map((r) => [r.corpus, r.sentences, r.paper]),
      [["0.1%", 0.001, "58.4"], ["1%", 0.01, "67.3"], ["10%", 0.1, "72.5"], ["100%", 1, "71.6"]].map(([c, f, p]) => [c, String(Math.max(1, Math.round((f as number) * sentences))), p]),
    );
    for (const r of t1) for (const k of ["ours", "control"]) assert.ok(Number(r[k]) >= 0 && Number(r[k]) <= 100, `${r.corpus}: ${k} = ${r[k]}`);
    // Why: visual and text tokens of every model, cosine 1 at layer 0 and below 1 after it.
    const driftFile = path.join(results, "why-world-drift.csv");
    writtenSince(driftFile, started);
    const drift = csvRows(driftFile);
    assert.deepEqual(new Set(drift.map((r) => `${r.model}/${r.tokens}`)), new Set(WORLD_GRID.flatMap((m) => [`${m}/visual`, `${m}/text`])));
    for (const r of drift) assert.ok(r.layer !== "0" || Math.abs(Number(r.cosine) - 1) < 1e-6, `layer-0 cosine ${r.cosine}`);
    assert.ok(drift.filter((x) => x.layer !== "0").every((r) => Number(r.cosine) < 1));
  },
};

/** Notebooks of the other papers, and what they must leave behind. */
const METHODS: Record<string, (results: string, text: string, started: number) => void> = {
  "08-attribution.ipynb": (results, text, started) => {
    const file = path.join(results, "attribution-ablation.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    // The causal check runs on at least 50 held-out images, whatever VISLENS_EVAL_IMAGES says.
    assert.equal(rows.length, Math.max(50, imagesPerRow()));
    for (const r of rows) {
      assert.ok(Number(r.objectPatches) > 0, `${r.file}: the drawn object covers no patch`);
      for (const k of ["top3Positions", "top3Attention", "top3Ablation"]) assert.ok(Number(r[k]) >= 0 && Number(r[k]) <= 1, `${r.file} ${k} = ${r[k]}`);
    }
    const m = /ours: mean Spearman vs single-patch ablation (-?[\d.]+) \(position scores\) vs (-?[\d.]+) \(attention\) over (\d+) images/.exec(text);
    assert.ok(m, "the notebook states the Spearman of both maps");
    assert.equal(Number(m[3]), rows.length);
  },
  "11-objects-attribution.ipynb": (results, text, started) => {
    const file = path.join(results, "attribution-world-ablation.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    assert.equal(rows.length, FULL ? worldImagesPerRow() : Number(WORLD_ATTRIBUTION_IMAGES));
    for (const r of rows) {
      assert.ok(Number(r.objectPatches) > 0, `${r.file}: the drawn object covers no patch`);
      for (const k of ["top3Positions", "top3Attention", "top3Ablation"]) assert.ok(Number(r[k]) >= 0 && Number(r[k]) <= 1, `${r.file} ${k} = ${r[k]}`);
    }
    const mean = (key: string) => rows.reduce((a, r) => a + Number(r[key]), 0) / rows.length;
    const m = /ours: top-3 patches on the object: position scores ([\d.]+)%, attention ([\d.]+)%, ablation ([\d.]+)%, chance ([\d.]+)%/.exec(text);
    assert.ok(m, "the notebook states the top-3 shares beside chance");
    for (const [i, key] of [[1, "top3Positions"], [2, "top3Attention"], [3, "top3Ablation"]] as const) assert.ok(Math.abs(Number(m[i]) - 100 * mean(key)) < 0.051, `${key}: printed ${m[i]}, CSV ${100 * mean(key)}`);
    const s = /ours: mean Spearman vs single-patch ablation (-?[\d.]+) \(position scores\) vs (-?[\d.]+) \(attention\) over (\d+) images/.exec(text);
    assert.ok(s, "the notebook states the Spearman of both maps");
    assert.equal(Number(s[3]), rows.length);
  },
  "09-concepts.ipynb": (results, text, started) => {
    const file = path.join(results, "concepts-comparison.csv");
    writtenSince(file, started);
    const rows = csvRows(file);
    // The paper's table: every token with the four methods, in the paper's order.
    const methods = ["simple", "pca", "kmeans", "snmf"];
    const tokens = [...new Set(rows.map((r) => r.token))];
    assert.ok(tokens.length >= 4, `only ${tokens.length} tokens: ${tokens.join(", ")}`);
    for (const t of tokens) assert.deepEqual(rows.filter((r) => r.token === t).map((r) => r.method), methods, t);
    for (const r of rows) {
      assert.equal(Number(r.trainImages), FULL ? conceptSplitImages() : Number(CONCEPT_IMAGES));
      assert.equal(Number(r.testImages), imagesPerRow());
      assert.ok(Number(r.k) >= 2 && Number(r.k) <= Math.min(20, Number(r.samples)), `${r.token} ${r.method}: K = ${r.k} for ${r.samples} samples`);
      assert.ok(Number(r.testSamples) > 0, `${r.token}: no held-out sample`);
      for (const k of ["overlap", "top1", "top3", "randomTop1", "randomTop3"]) assert.ok(Number(r[k]) >= 0 && Number(r[k]) <= 1, `${r.token} ${r.method} ${k} = ${r[k]}`);
    }
    // The paper's numbers beside ours: mean overlap per method, and top-1 usefulness.
    const mean = (method: string, key: string) => rows.filter((r) => r.method === method).reduce((a, r) => a + Number(r[key]), 0) / tokens.length;
    for (const [method, title, paper] of [["simple", "Simple", "0.516"], ["pca", "PCA", "0.005"], ["kmeans", "K-means", "0.464"], ["snmf", "semi-NMF", "0.129"]]) {
      const m = new RegExp(`overlap, ${title}: ours ([\\d.]+) \\(mean of ${tokens.length} tokens\\), paper ${paper.replace(".", "\\.")} \\(mean of dog, bus, train, cat\\)`).exec(text);
      assert.ok(m, `the notebook states ${title}'s overlap beside the paper's ${paper}`);
      assert.ok(Math.abs(Number(m[1]) - mean(method, "overlap")) < 1e-3, `${title}: printed ${m[1]}, CSV mean ${mean(method, "overlap")}`);
    }
    const u = /usefulness top-1, ours \(mean of \d+ tokens\): Simple ([\d.]+), PCA [\d.]+, K-means [\d.]+, semi-NMF ([\d.]+), random directions ([\d.]+)/.exec(text);
    assert.ok(u, "the notebook states the test usefulness against random words");
    assert.ok(Math.abs(Number(u[2]) - mean("snmf", "top1")) < 1e-3 && Math.abs(Number(u[3]) - mean("snmf", "randomTop1")) < 1e-3);
    assert.match(text, /usefulness top-1, paper \(dog, CLIPScore\): semi-NMF \.610, Simple \.546, random \.519/);
    // The widgets: the grid, the local panel, the two scatters (their text/plain summaries).
    for (const w of [/Concept grid: "circle": \d+ concepts, semi-NMF/, /Local interpretation of \d+\.png/, /Grounded vs random words on \d+ test images/, /Test usefulness \(top-1\) vs random-direction words/]) assert.match(text, w);
  },
  "12-objects-concepts.ipynb": (results, text, started) => {
    const file = path.join(results, "concepts-world-comparison.csv");
    writtenSince(file, started);
    // Notebook 09's columns, written even when no word got a dictionary.
    const columns = ["token", "method", "layer", "k", "samples", "testSamples", "overlap", "emptyConcepts", "top1", "top3", "randomTop1", "randomTop3", "trainImages", "testImages"];
    assert.equal(fs.readFileSync(file, "utf8").split("\n")[0], columns.join(","));
    const rows = csvRows(file);
    // Every target word is accounted for: its sample counts and K, or one line saying why it has no dictionary.
    const words = ["dog", "cat", "banana", "apple", "bus", "train"];
    const printed = new Map<string, { samples: number; test: number; k: number }>();
    for (const w of words) {
      const fit = new RegExp(`^${w}: (\\d+) training samples, (\\d+) held-out samples, K = (\\d+)`, "m").exec(text);
      const skipped = new RegExp(`^${w}: skipped, `, "m").test(text);
      assert.ok(Boolean(fit) !== skipped, `${w}: the notebook prints either its samples and K or why it was skipped (samples line: ${Boolean(fit)}, skip line: ${skipped})`);
      if (fit) printed.set(w, { samples: Number(fit[1]), test: Number(fit[2]), k: Number(fit[3]) });
    }
    const tokens = [...new Set(rows.map((r) => r.token))];
    assert.deepEqual(tokens, words.filter((w) => printed.has(w)), "the CSV holds the words with a dictionary, in order");
    // The real model's case from here on (a bundle whose captions name none of the words gives no dictionary).
    assert.ok(tokens.length >= 1, `no target word got a dictionary: ${words.join(", ")} all skipped`);
    const methods = ["simple", "pca", "kmeans", "snmf"];
    for (const t of tokens) assert.deepEqual(rows.filter((r) => r.token === t).map((r) => r.method), methods, t);
    const usefulness = ["top1", "top3", "randomTop1", "randomTop3"];
    for (const r of rows) {
      const p = printed.get(r.token)!;
      assert.deepEqual([Number(r.samples), Number(r.testSamples), Number(r.k)], [p.samples, p.test, p.k], `${r.token} ${r.method}: CSV samples, held-out samples and K vs the printed line`);
      assert.equal(Number(r.trainImages), worldConceptImages().train);
      assert.equal(Number(r.testImages), worldConceptImages().test);
      // K = min(20, samples), and a word needs 3 samples for a dictionary.
      assert.equal(Number(r.k), Math.min(20, Number(r.samples)), `${r.token} ${r.method}: K = ${r.k} for ${r.samples} samples`);
      assert.ok(Number(r.k) >= 3, `${r.token} ${r.method}: K = ${r.k}`);
      assert.ok(Number(r.overlap) >= 0 && Number(r.overlap) <= 1, `${r.token} ${r.method} overlap = ${r.overlap}`);
      // Usefulness only where the word has held-out samples; empty otherwise.
      if (Number(r.testSamples) > 0) for (const k of usefulness) assert.ok(r[k] !== "" && Number(r[k]) >= 0 && Number(r[k]) <= 1, `${r.token} ${r.method} ${k} = ${r[k]}`);
      else for (const k of usefulness) assert.equal(r[k], "", `${r.token} ${r.method} ${k} without held-out samples`);
    }
    // The paper's numbers beside ours: mean overlap per method over the words with a dictionary.
    const mean = (of: string[], method: string, key: string) => rows.filter((r) => r.method === method && of.includes(r.token)).reduce((a, r) => a + Number(r[key]), 0) / of.length;
    for (const [method, title, paper] of [["simple", "Simple", "0.516"], ["pca", "PCA", "0.005"], ["kmeans", "K-means", "0.464"], ["snmf", "semi-NMF", "0.129"]]) {
      const m = new RegExp(`overlap, ${title}: ours ([\\d.]+) \\(mean of ${tokens.length} tokens\\), paper ${paper.replace(".", "\\.")} \\(mean of dog, bus, train, cat\\)`).exec(text);
      assert.ok(m, `the notebook states ${title}'s overlap beside the paper's ${paper}`);
      assert.ok(Math.abs(Number(m[1]) - mean(tokens, method, "overlap")) < 1e-3, `${title}: printed ${m[1]}, CSV mean ${mean(tokens, method, "overlap")}`);
    }
    // Test usefulness, over the words with held-out samples (the world's held-out set shows the six classes rarely: there may be none).
    const scored = tokens.filter((t) => rows.some((r) => r.token === t && Number(r.testSamples) > 0));
    if (scored.length > 0) {
      const u = new RegExp(`usefulness top-1, ours \\(mean of ${scored.length} tokens\\): Simple ([\\d.]+), PCA [\\d.]+, K-means [\\d.]+, semi-NMF ([\\d.]+), random directions ([\\d.]+)`).exec(text);
      assert.ok(u, "the notebook states the test usefulness against random words");
      assert.ok(Math.abs(Number(u[1]) - mean(scored, "simple", "top1")) < 1e-3 && Math.abs(Number(u[2]) - mean(scored, "snmf", "top1")) < 1e-3 && Math.abs(Number(u[3]) - mean(scored, "snmf", "randomTop1")) < 1e-3);
      for (const w of [/Test usefulness \(top-1\) vs random-direction words/, /Grounded vs random words on \d+ test images/]) assert.match(text, w);
    } else {
      assert.match(text, /usefulness top-1, ours: no held-out sample for any word with a dictionary/);
      assert.match(text, /no \(word, method\) row has held-out samples: no usefulness scatter/);
      assert.match(text, /grounded vs random per concept: no word with a dictionary has a held-out sample/);
    }
    assert.match(text, /usefulness top-1, paper \(dog, CLIPScore\): semi-NMF \.610, Simple \.546, random \.519/);
    // The world's check: how many of each word's semi-NMF grounding words name an object (or a category) of its samples, and of the world.
    for (const t of tokens) {
      const c = new RegExp(`^${t}, semi-NMF: (\\d+) of (\\d+) grounding words \\((\\d+) concepts, (\\d+) with at least one\\) are a word of the name or a category of an object in ${t}'s (\\d+) training images .*; (\\d+) are a word of a name or category of any of the world's (\\d+) classes`, "m").exec(text);
      assert.ok(c, `the notebook counts ${t}'s object words`);
      const [inSamples, all, concepts, withOne, samples, inWorld, classes] = c.slice(1).map(Number);
      const r = rows.find((x) => x.token === t && x.method === "snmf")!;
      assert.deepEqual([concepts, samples, classes], [Number(r.k), Number(r.samples), 277], `${t}: concepts, samples, classes`);
      assert.ok(inSamples <= inWorld && inWorld <= all && withOne <= concepts && all <= 10 * concepts, `${t}: ${c[0]}`);
    }
    // The widgets: the grid of "dog" (or the first word with a dictionary), and a local interpretation unless no held-out caption says such a word.
    assert.match(text, new RegExp(`Concept grid: "${tokens.includes("dog") ? "dog" : tokens[0]}": \\d+ concepts, semi-NMF`));
    assert.ok(/Local interpretation of \d+\.png/.test(text) !== /^local interpretation: no caption of the first \d+ held-out images says/m.test(text), "a local interpretation, or the line saying why there is none");
  },
};

function outputsOf(nb: Notebook): NotebookOutput[] {
  return nb.cells.flatMap((c) => c.outputs ?? []);
}

describe("notebooks/ (committed)", () => {
  it("holds the quickstart and the probe notebook", () => {
    const names = notebookNames();
    for (const name of ["01-quickstart.ipynb", "02-probe.ipynb", ...Object.keys(REPRODUCTIONS), ...Object.keys(METHODS)]) assert.ok(names.includes(name), `no ${name} in notebooks/: ${names.join(", ")}`);
  });

  // (They are committed without outputs, but a notebook saved from Lab after running it — Lab
  // autosaves — is no test failure: nbclient clears each cell's outputs before running it.)
  for (const name of notebookNames()) {
    it(`${name} uses the vislens kernel`, () => {
      const nb = readNotebook(path.join(NOTEBOOKS, name));
      assert.equal(nb.metadata.kernelspec?.name, KERNEL_NAME);
      assert.equal(nb.metadata.kernelspec?.display_name, "vislens (TypeScript)");
      assert.ok(nb.cells.some((c) => c.cell_type === "code"));
    });
  }
});

describe("notebooks/ executed headless (nbclient, vislens kernel)", () => {
  let tmp = "";
  let work = "";
  let env: NodeJS.ProcessEnv = {};
  const before_ = new Map<string, string>();

  before(() => {
    requireKernel();
    tmp = tempDir("vislens-notebooks-");
    work = copyNotebooks(path.join(tmp, "notebooks"));
    env = isolatedJupyterEnv(tmp, { VISLENS_BANK_DIR: path.join(tmp, "bank"), VISLENS_CACHE_DIR: path.join(tmp, "cache"), VISLENS_EVAL_IMAGES: REPRO_IMAGES, VISLENS_CONCEPT_IMAGES: CONCEPT_IMAGES, VISLENS_CORPUS_SENTENCES: WORLD_CORPUS_SENTENCES });
    for (const name of notebookNames()) before_.set(name, fs.readFileSync(path.join(NOTEBOOKS, name), "utf8"));
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    // The originals are untouched.
    for (const [name, text] of before_) assert.equal(fs.readFileSync(path.join(NOTEBOOKS, name), "utf8"), text, `${name} was modified`);
  });

  for (const name of notebookNames()) {
    it(`${name} runs without errors and shows vega-lite + SVG`, async () => {
      const src = path.join(work, name);
      const dst = path.join(tmp, name.replace(/\.ipynb$/, ".executed.ipynb"));
      const started = Date.now() - 1000;
      const run = await execute(src, dst, { ...env, ...NOTEBOOK_ENV[name] });
      const summary = run.stdout.trim().split("\n").pop() ?? "";
      assert.equal(run.status, 0, `${name} failed (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
      const timing = JSON.parse(summary) as { kernel: string; seconds: number; cells: (number | null)[] };
      assert.equal(timing.kernel, KERNEL_NAME);
      console.log(`# ${name}: ${timing.seconds} s in the kernel (${run.wallSeconds.toFixed(1)} s wall); per code cell: ${timing.cells.join(", ")}`);

      const nb = readNotebook(dst);
      const code = nb.cells.filter((c) => c.cell_type === "code");
      code.forEach((c, i) => assert.equal(typeof c.execution_count, "number", `code cell ${i} did not run`));
      const outputs = outputsOf(nb);
      const errors = outputs.filter((o) => o.output_type === "error");
      assert.deepEqual(errors.map((o) => `${o.ename}: ${o.evalue}`), []);

      // Each widget is ONE display_data carrying the whole bundle.
      const widgets = outputs.filter((o) => o.data && VEGALITE_MIME in o.data);
      assert.ok(widgets.length >= 2, `${name}: ${widgets.length} vega-lite outputs`);
      for (const w of widgets) {
        const data = w.data!;
        assert.ok(SVG_MIME in data, "a vega-lite output without its SVG");
        assert.ok("text/plain" in data, "a vega-lite output without its text/plain");
        const spec = data[VEGALITE_MIME] as { $schema?: string };
        assert.match(String(spec.$schema), /vega-lite\/v5(\.\d+)*\.json$/);
        const svg = joinText(data[SVG_MIME]);
        assert.match(svg, /^<svg[\s>]/);
        assert.match(svg, /<\/svg>\s*$/);
      }
      const size = fs.statSync(dst).size;
      assert.ok(size < MAX_EXECUTED_BYTES, `${name}: executed notebook is ${size} bytes`);

      if (name in METHODS) {
        const text = outputs.map((o) => joinText(o.text) + joinText(o.data?.["text/plain"])).join("\n");
        assert.match(text, /paper/i, `${name} never states the paper's findings`);
        METHODS[name](path.join(tmp, "cache", "results"), text, started);
      }

      if (name in REPRODUCTIONS) {
        const text = outputs.map((o) => joinText(o.text) + joinText(o.data?.["text/plain"])).join("\n");
        // Each reproduction states the paper's number next to ours.
        assert.match(text, /paper/i, `${name} never mentions the paper's numbers`);
        REPRODUCTIONS[name](path.join(tmp, "cache", "results"), text, started);
      }

      if (name === "01-quickstart.ipynb") {
        // Built the bank in the (fresh) bank dir, showing progress in the notebook.
        const progress = outputs.filter((o) => o.data && /<progress /.test(joinText(o.data["text/html"])));
        assert.equal(progress.length, 1, "the bank build shows one progress display");
        assert.match(joinText(progress[0].data!["text/html"]), /building the bank: (\d+)\/\1 batches/);
        assert.ok(fs.existsSync(path.join(tmp, "bank", "bank.json")));
        // The figures it saved: an SVG document and a real PNG, written by this run.
        const figures = path.join(REPO, ".cache", "figures");
        const svg = path.join(figures, "quickstart-heatmap.svg");
        const png = path.join(figures, "quickstart-explorer.png");
        for (const f of [svg, png]) assert.ok(fs.statSync(f).mtimeMs >= started, `${f} was not written by this run`);
        assert.match(fs.readFileSync(svg, "utf8"), /^(<\?xml[^>]*>\s*)?<svg[\s\S]*<\/svg>\s*$/);
        const head = fs.readFileSync(png).subarray(0, 24);
        assert.deepEqual([...head.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        assert.ok(head.readUInt32BE(16) > 300 && head.readUInt32BE(20) > 300, "PNG is too small to be the explorer");
      }
    });
  }
});
