/**
 * The open-vocabulary world's shipped models (models/objects-llava, `python -m vislens_world train`, and
 * objects-llava-clip, the grid's second tower on its LM): each bundle opens, verifies and runs; the
 * runtime's greedy captions are the recipe's own (HF `generate` on the HF checkpoint, eval/metrics.json);
 * each README states what metrics.json measured; the second model's LM is the first's; and the three
 * lenses interpret objects-llava's visual tokens and the world's judge reads their words.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { readWorldEvalSet } from "../../src/eval/world-annotations";
import { evaluateWorldWithControl } from "../../src/eval/world-evaluate";
import { judgeWorldPatch } from "../../src/eval/world-judge";
import { createLenses } from "../../src/lenses/create";
import { interpretImage } from "../../src/lenses/interpret";
import { LENS_NAMES } from "../../src/lenses/types";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { generate } from "../../src/model/generate";
import { imageHiddenStates } from "../../src/model/hidden";
import { REPO, tempDir } from "../helpers/python";

/** The world's shipped models: objects-llava, and the grid's second tower on the same LM. */
const MODELS = [
  { name: "objects-llava", tower: "contrastive+patchcls" },
  { name: "objects-llava-clip", tower: "contrastive" },
] as const;
const DIR = path.join(REPO, "models", "objects-llava");
const EVAL = readWorldEvalSet(path.join(DIR, "eval"));
interface Metrics {
  heldout: Record<string, number | null>;
  shuffled_image_baseline: Record<string, number | null>;
  predictions: { file: string; truth: string; pred: string }[];
  training: { spec: { lm: { layers: number; hidden: number }; vision: { kind: string } }; stages: Record<string, Record<string, unknown>> };
}
const metricsOf = (name: string) => JSON.parse(fs.readFileSync(path.join(REPO, "models", name, "eval", "metrics.json"), "utf8")) as Metrics;
/** Images whose runtime caption is compared with the recipe's (0.1-0.3 s each). */
const CAPTIONS = 16;

const bundles = new Map<string, Bundle>();
before(async () => {
  for (const m of MODELS) bundles.set(m.name, await openBundle(path.join(REPO, "models", m.name)));
});
after(async () => {
  for (const b of bundles.values()) await b.close();
});

for (const { name, tower } of MODELS) {
  const dir = path.join(REPO, "models", name);

  test(`${name} opens, verifies, and is the recipe's 8-layer width-256 LLaVA with an 8x8 grid and a ${tower} tower`, () => {
    const m = bundles.get(name)!.manifest;
    const metrics = metricsOf(name);
    assert.equal(m.llm.num_layers, 8);
    assert.equal(m.llm.hidden_size, 256);
    assert.deepEqual(m.vision.grid, [8, 8]);
    assert.equal(m.vision.num_tokens, 64);
    assert.deepEqual(EVAL.grid, [8, 8], "the eval set is annotated at the bundle's grid");
    assert.equal(metrics.training.spec.lm.layers, 8);
    assert.equal(metrics.training.spec.vision.kind, tower);
    // The exporter ran HF vs ONNX on random inputs before shipping; its record must be tight.
    const check = m.source!.check as { max_abs_diff: Record<string, number> };
    for (const [what, diff] of Object.entries(check.max_abs_diff)) assert.ok(diff <= 1e-4, `${what}: ${diff}`);
    const config = JSON.parse(fs.readFileSync(path.join(dir, "hf", "config.json"), "utf8"));
    assert.equal(config.text_config.num_hidden_layers, 8);
    // Its eval set is objects-llava's (same seed), which the world grid judges every model on.
    assert.deepEqual(readWorldEvalSet(path.join(dir, "eval")).annotations, EVAL.annotations);
  });

  test(`${name}: the runtime's greedy captions equal the recipe's (HF generate) on the first ${CAPTIONS} held-out images`, async () => {
    const metrics = metricsOf(name);
    assert.equal(metrics.predictions.length, EVAL.annotations.length);
    const mismatches: string[] = [];
    for (const p of metrics.predictions.slice(0, CAPTIONS)) {
      const g = await generate(bundles.get(name)!, path.join(dir, "eval", p.file), "", { maxNewTokens: 48, layers: [] });
      if (g.text.trim() !== p.pred) mismatches.push(`${p.file}: vislens ${JSON.stringify(g.text.trim())}, HF ${JSON.stringify(p.pred)}`);
    }
    assert.deepEqual(mismatches, []);
  });

  test(`models/${name}/README.md states the held-out caption accuracy that eval/metrics.json measured`, () => {
    const metrics = metricsOf(name);
    const readme = fs.readFileSync(path.join(dir, "README.md"), "utf8");
    const pct = (v: number | null) => (v === null ? "n/a" : `${(100 * v).toFixed(1)} %`);
    for (const key of ["object_name", "exact_caption", "object_name_anywhere", "object_category", "object_count", "relation", "background_colour"]) {
      const row = readme.split("\n").find((line) => line.startsWith("|") && line.includes(`\`${key}\``));
      assert.ok(row, `README has no table row for \`${key}\``);
      assert.ok(row.includes(`| ${pct(metrics.heldout[key])} | ${pct(metrics.shuffled_image_baseline[key])} |`), `${key}: README row ${row}, metrics ${pct(metrics.heldout[key])} / ${pct(metrics.shuffled_image_baseline[key])}`);
    }
    assert.ok(readme.includes(`${metrics.heldout.images} held-out images`));
  });
}

test("objects-llava-clip's LM is objects-llava's, tensor for tensor (trained with --lm-from), and its tower is its own", () => {
  const [a, b] = MODELS.map((m) => bundles.get(m.name)!);
  const lm = metricsOf("objects-llava-clip").training.stages.lm;
  assert.match(String(lm.from_checkpoint), /objects-llava\/hf$/);
  assert.equal(lm.markup_to_caption_exact, metricsOf("objects-llava").training.stages.lm.markup_to_caption_exact);
  const bytes = (bundle: Bundle, file: string) => fs.readFileSync(path.join(bundle.dir, file));
  assert.ok(bytes(a, "llm.onnx").equals(bytes(b, "llm.onnx")), "llm.onnx differs");
  assert.ok(!bytes(a, "vision.onnx").equals(bytes(b, "vision.onnx")), "vision.onnx is the same file");
});

test("the three lenses interpret every patch at every layer of objects-llava, and the world's judge reads their words", async () => {
  const bundle = bundles.get("objects-llava")!;
  // A bank from the first 400 corpus sentences (the shipped bank uses all 56,977; this is about the plumbing).
  const tmp = tempDir();
  const corpus = path.join(tmp, "corpus.txt");
  fs.writeFileSync(corpus, fs.readFileSync(path.join(DIR, "corpus.txt"), "utf8").split("\n").slice(0, 400).join("\n") + "\n");
  await buildBank(bundle, corpus, path.join(tmp, "bank"), { layers: [1, 4, 7], policy: { kind: "reservoir", maxContexts: 8, seed: 42 } });
  const bank = openBank(path.join(tmp, "bank"), { fingerprint: bundle.fingerprint });
  const annotation = EVAL.annotations[0];
  const states = await imageHiddenStates(bundle, path.join(EVAL.dir, annotation.file));
  assert.deepEqual(states.visual.shape, [9, 64, 256]);
  assert.ok(states.visual.data.every(Number.isFinite));
  const records = await interpretImage(states, createLenses(bundle, [...LENS_NAMES], bank), { k: 5 });
  assert.equal(records.length, LENS_NAMES.length * 9 * 64);
  const kinds = new Set<string>();
  for (const r of records) {
    assert.equal(r.neighbours.length, 5, `${r.lens} L${r.layer} patch ${r.patch.index}`);
    const words = r.neighbours.map((n) => n.word);
    assert.ok(words.every((w) => typeof w === "string"));
    kinds.add(judgeWorldPatch(words, annotation, r.patch.row, r.patch.col).best);
  }
  // Over 1,728 judged (lens, layer, patch) triples the judge gives more than one verdict.
  assert.ok(kinds.size >= 2, `verdicts: ${[...kinds].join(", ")}`);
});

test("evaluateWorldWithControl with byPatchKind splits each judge's rows by the sampled patch's kind in the same pass, and the two kinds add up to the whole", async () => {
  const bundle = bundles.get("objects-llava")!;
  const lenses = createLenses(bundle, ["embedding", "logit"]);
  const options = { images: 12, layers: [0, 4, 8] };
  const whole = await evaluateWorldWithControl(bundle, lenses, EVAL, options);
  const both = await evaluateWorldWithControl(bundle, lenses, EVAL, { ...options, byPatchKind: true });
  assert.deepEqual([both.rows, both.control], [whole.rows, whole.control], "the split leaves the whole rows as they are");
  assert.equal(whole.byPatchKind, undefined);
  const split = {
    rows: both.byPatchKind!.filter((r) => !r.judge.startsWith("world-ground-truth/control/")),
    control: both.byPatchKind!.filter((r) => r.judge.startsWith("world-ground-truth/control/")),
  };
  for (const [wholeRows, splitRows, judge] of [[whole.rows, split.rows, "world-ground-truth"], [whole.control, split.control, "world-ground-truth/control"]] as const) {
    assert.deepEqual(new Set(splitRows.map((r) => r.judge)), new Set([`${judge}/object patches`, `${judge}/background patches`]));
    for (const w of wholeRows) {
      const parts = splitRows.filter((r) => r.lens === w.lens && r.layer === w.layer);
      assert.equal(parts.length, 2, `${judge} ${w.lens} L${w.layer}`);
      for (const field of ["total", "interpretable", "concrete", "abstract", "global"] as const) {
        assert.equal(parts[0][field] + parts[1][field], w[field], `${judge} ${w.lens} L${w.layer} ${field}`);
      }
    }
  }
  // Every layer of a lens sees the same sampled patches, so the kinds' totals agree across lenses and layers, and both kinds occur.
  const objectTotals = new Set(split.rows.filter((r) => r.judge.endsWith("/object patches")).map((r) => r.total));
  assert.equal(objectTotals.size, 1);
  const [objects] = objectTotals;
  assert.ok(objects > 0 && objects < 12, `object patches: ${objects} of 12`);
});
