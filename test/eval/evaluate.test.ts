import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { evaluateShapes } from "../../src/eval/evaluate";
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
    assert.equal(r.total, annotations.length);
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
  const shifted = annotations.map((a, i) => ({ ...annotations[(i + 7) % annotations.length], file: a.file }));
  const control = await evaluateShapes(bundle, lenses, shifted, EVAL);
  for (const lens of ["latent", "embedding"] as const) {
    const sum = (t: typeof rows) => t.filter((r) => r.lens === lens).reduce((s, r) => s + r.concrete, 0);
    assert.ok(sum(rows) > 1.3 * sum(control), `${lens}: ${sum(rows)} concrete matches vs ${sum(control)} in the control`);
  }
});
