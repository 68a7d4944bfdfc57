import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { summariseAttribution } from "../../src/attribution/evaluate-objects";
import { evaluateAttributionWorld, worldObjectPrompt } from "../../src/attribution/evaluate-world";
import { readWorldEvalSet } from "../../src/eval/world-annotations";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { REPO } from "../helpers/python";

const FIXTURE = readWorldEvalSet(path.join(REPO, "test", "eval", "data", "world-annotations.json"));
const MODEL = path.join(REPO, "models", "objects-llava");

test("worldObjectPrompt ends each object's prompt with its article; the answer is its name's first word", () => {
  let objects = 0;
  for (const a of FIXTURE.annotations) {
    for (const [k, o] of a.objects.entries()) {
      const { prompt, answer } = worldObjectPrompt(a, k);
      assert.equal(answer, o.name.split(" ")[0]);
      assert.match(prompt, /(^| )an?$/, `${a.file} object ${k}: ${prompt}`);
      assert.ok(a.caption!.startsWith(`${prompt} ${o.name} `), `${a.file} object ${k}: "${prompt}" + "${o.name}" vs "${a.caption}"`);
      // The objects before it are named in the prompt, in order.
      const named = a.objects.slice(0, k).map((p) => ` ${p.name} `);
      let at = 0;
      for (const n of named) {
        const i = ` ${prompt} `.indexOf(n, at);
        assert.ok(i >= at, `${a.file}: "${n.trim()}" not named before object ${k}`);
        at = i + n.length - 1;
      }
      objects++;
    }
  }
  assert.ok(objects > FIXTURE.annotations.length, `${objects} objects in ${FIXTURE.annotations.length} images`);
  const broken = { ...FIXTURE.annotations[0], caption: "a cat on a red background" };
  assert.throws(() => worldObjectPrompt(broken, 0, "set/annotations.json"), (e: Error) => /set\/annotations\.json/.test(e.message) && /does not name object 0/.test(e.message));
  assert.throws(() => worldObjectPrompt(FIXTURE.annotations[0], 9), /no object 9/);
});

let bundle: Bundle;
before(async () => {
  bundle = await openBundle(MODEL);
});
after(async () => bundle?.close());

test("evaluateAttributionWorld scores the drawn object's patches on the shipped world model", async () => {
  const set = readWorldEvalSet(path.join(MODEL, "eval"));
  let seen = 0;
  const rows = await evaluateAttributionWorld(bundle, set, { images: 4, onImage: (done) => (seen = done) });
  assert.equal(rows.length, 4);
  assert.equal(seen, 4);
  for (const [i, r] of rows.entries()) {
    const a = set.annotations[i];
    assert.equal(r.file, a.file);
    assert.deepEqual(worldObjectPrompt(a, r.object), { prompt: r.prompt, answer: r.answer });
    assert.equal(r.objectPatches, a.patch_labels.flat().filter((l) => l === r.object + 1).length);
    assert.ok(r.logProb <= 0);
    for (const k of ["top3Positions", "top3Attention", "top3Ablation"] as const) assert.ok(r[k] >= 0 && r[k] <= 1, `${k} = ${r[k]}`);
    assert.match(r.topHead, /^\d+\.\d+$/);
  }
  assert.deepEqual(await evaluateAttributionWorld(bundle, set, { images: 4 }), rows, "seeded: the same objects and scores again");
  assert.equal(summariseAttribution(rows).images, 4);
});
