import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { evaluateInterpretability, evaluateInterpretabilityRuns, evaluateShapes, evaluateShapesControl, mismatchedAnnotations, shapesControlJudge, shapesImages } from "../../src/eval/evaluate";
import { shapesJudge } from "../../src/eval/shapes-judge";
import { blockBox, verdictFrom, type JudgeRequest, type PatchJudge } from "../../src/eval/judge";
import type { ShapesAnnotation } from "../../src/eval/shapes-judge";
import { createLenses } from "../../src/lenses/create";
import type { Lens } from "../../src/lenses/types";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

const EVAL = path.join(FIXTURE_BUNDLE, "eval");
const annotations = (JSON.parse(fs.readFileSync(path.join(EVAL, "annotations.json"), "utf8")) as { images: ShapesAnnotation[] }).images.slice(0, 40);

let bundle: Bundle;
let lenses: Lens[];
before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  const dir = path.join(tempDir(), "bank");
  await buildBank(bundle, path.join(FIXTURE_BUNDLE, "corpus.txt"), dir);
  lenses = createLenses(bundle, ["latent", "embedding", "logit"], openBank(dir, { fingerprint: bundle.fingerprint }));
});
after(async () => bundle?.close());

test("evaluateShapes gives model x lens x layer rows with counts, one sampled patch per image", async () => {
  let progress = 0;
  const rows = await evaluateShapes(bundle, lenses, annotations, EVAL, { onProgress: (done) => (progress = done) });
  const L = bundle.manifest.llm.num_layers + 1;
  assert.equal(rows.length, 3 * L);
  assert.deepEqual([...new Set(rows.map((r) => r.lens))], ["latent", "embedding", "logit"]);
  for (const r of rows) {
    assert.equal(r.model, "shapes-llava");
    assert.equal(r.judge, "shapes-ground-truth");
    assert.equal(r.total, annotations.length);
    assert.equal(r.concrete + r.abstract + r.global, r.interpretable);
    assert.equal(r.abstract, 0, "the shapes world has no abstract matches");
    assert.ok(Math.abs(r.percent - (100 * r.interpretable) / r.total) < 1e-12);
  }
  assert.equal(progress, annotations.length);
  assert.deepEqual(await evaluateShapes(bundle, lenses, annotations, EVAL), rows, "seeded: the same table again");
});

test("the judge measures real signal: concrete matches beat the same words judged against another image's annotations", async () => {
  const rows = await evaluateShapes(bundle, lenses, annotations, EVAL);
  // Control: the same images and sampled patches, judged against a different image's objects.
  // (The "global" rule is generous in a 6-colour, 4-shape world, so the control is compared on
  // concrete matches: words naming the object under the patch.)
  const control = await evaluateShapesControl(bundle, lenses, annotations, EVAL);
  assert.ok(control.every((r) => r.judge === "shapes-ground-truth/control"));
  for (const lens of ["latent", "embedding"] as const) {
    const sum = (t: typeof rows) => t.filter((r) => r.lens === lens).reduce((s, r) => s + r.concrete, 0);
    assert.ok(sum(rows) > 1.3 * sum(control), `${lens}: ${sum(rows)} concrete matches vs ${sum(control)} in the control`);
  }
});

test("evaluateInterpretabilityRuns judges the same words with several judges in one pass: the rows of separate calls", async () => {
  const subset = annotations.slice(0, 12);
  const [own, control] = await evaluateInterpretabilityRuns(bundle, lenses, [
    { judge: shapesJudge(), images: shapesImages(subset, EVAL) },
    { judge: shapesControlJudge(), images: shapesImages(subset, EVAL, mismatchedAnnotations(subset)) },
  ]);
  assert.deepEqual(own, await evaluateShapes(bundle, lenses, subset, EVAL));
  assert.deepEqual(control, await evaluateShapesControl(bundle, lenses, subset, EVAL));
  await assert.rejects(
    evaluateInterpretabilityRuns(bundle, lenses, [
      { judge: shapesJudge(), images: shapesImages(subset, EVAL) },
      { judge: shapesControlJudge(), images: shapesImages(subset.slice(1), EVAL) },
    ]),
    /run "shapes-ground-truth\/control" has ".*0001\.png" as image 0, the first run ".*0000\.png"/,
  );
});

test("mismatchedAnnotations keeps each file but takes another image's objects", () => {
  const m = mismatchedAnnotations(annotations, 7);
  m.forEach((a, i) => {
    assert.equal(a.file, annotations[i].file);
    assert.deepEqual(a.objects, annotations[(i + 7) % annotations.length].objects);
  });
  assert.deepEqual(mismatchedAnnotations(annotations, annotations.length)[0].objects, annotations[1].objects, "a full-circle shift still mismatches");
});

test("evaluateInterpretability sends every judge the image, the sampled patch, its 3x3 block and the top-k words", async () => {
  const seen: JudgeRequest[] = [];
  // A judge that accepts exactly the first word and calls it abstract.
  const judge: PatchJudge = { name: "first-word", judge: async (req) => (seen.push(req), verdictFrom({ abstract: req.words.slice(0, 1) })) };
  const few = annotations.slice(0, 3).map((a) => ({ file: path.join(EVAL, a.file) }));
  const rows = await evaluateInterpretability(bundle, lenses, few, judge, { k: 4, layers: [0, 3], concurrency: 3 });
  assert.equal(seen.length, 3 * 3 * 2, "3 images x 3 lenses x 2 layers");
  assert.ok(rows.every((r) => r.judge === "first-word" && r.abstract === 3 && r.interpretable === 3 && r.percent === 100));
  for (const req of seen) {
    assert.equal(req.words.length, 4);
    assert.equal(req.annotation, undefined);
    const [x0, y0, x1, y1] = req.block;
    const [px0, py0, px1, py1] = req.patch.box;
    // The block is three patches wide and tall, centred on the patch.
    assert.ok(Math.abs((x1 - x0) - 3 * (px1 - px0)) < 1e-9 && Math.abs((y1 - y0) - 3 * (py1 - py0)) < 1e-9, `block ${req.block} for patch ${req.patch.box}`);
    assert.ok(Math.abs((x0 + x1) / 2 - (px0 + px1) / 2) < 1e-9 && Math.abs((y0 + y1) / 2 - (py0 + py1) / 2) < 1e-9);
  }
  // The same patch for every lens and layer of one image.
  assert.equal(new Set(seen.filter((r) => r.image === few[0].file).map((r) => r.patch.index)).size, 1);
});

test("verdictFrom ranks concrete > abstract > global; blockBox clips at the grid's edge", () => {
  assert.equal(verdictFrom({ global: ["red"], abstract: ["round"] }).best, "abstract");
  assert.equal(verdictFrom({ global: ["red"], concrete: ["circle", "circle"] }).concrete.length, 1);
  assert.deepEqual(verdictFrom({}), { concrete: [], abstract: [], global: [], best: "none", interpretable: false });
  const patches = Array.from({ length: 4 }, (_, i) => ({ index: i, row: i >> 1, col: i & 1, box: [(i & 1) * 10, (i >> 1) * 10, (i & 1) * 10 + 10, (i >> 1) * 10 + 10] as [number, number, number, number], coverage: 1, isPadding: false }));
  assert.deepEqual(blockBox(patches, [2, 2], 0), [0, 0, 20, 20]);
});
