import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { ArtifactError } from "../../src/errors";
import { readWorldEvalSet, type WorldAnnotation } from "../../src/eval/world-annotations";
import { judgeWorldPatch, judgeWorldWord, worldJudge } from "../../src/eval/world-judge";
import { worldControlJudge, worldControlSet, worldImages } from "../../src/eval/world-evaluate";
import type { PatchGeometry } from "../../src/model/geometry";
import { tempDir } from "../helpers/python";

// The first 12 images of the world model's held-out set (seed 271828, 96 px, 8x8 grid), as
// vislens_world writes them; exporter/tests/test_world_recipe.py checks the file equals a regeneration.
const FIXTURE = path.join(__dirname, "data", "world-annotations.json");
const set = readWorldEvalSet(FIXTURE);
const byFile = (file: string) => set.annotations.find((a) => a.file === file)!;

/** The first patch (row, col) labelled k in an annotation. */
function patchOf(a: WorldAnnotation, k: number): [number, number] {
  for (const [r, row] of a.patch_labels.entries()) for (const [c, l] of row.entries()) if (l === k) return [r, c];
  throw new Error(`${a.file} has no patch labelled ${k}`);
}

function request(a: WorldAnnotation, [row, col]: [number, number], words: string[]) {
  const patch: PatchGeometry = { index: row * set.grid[1] + col, row, col, box: [col * 12, row * 12, col * 12 + 12, row * 12 + 12], coverage: 1, isPadding: false };
  return { image: path.join(set.dir, a.file), patch, block: [0, 0, 96, 96] as [number, number, number, number], words };
}

test("readWorldEvalSet reads the generator's annotations: grid, objects by id, names, categories with parents, keywords", () => {
  assert.deepEqual(set.grid, [8, 8]);
  assert.equal(set.annotations.length, 12);
  assert.equal(set.dir, path.dirname(FIXTURE));
  const a = byFile("0009.png");
  assert.deepEqual(a.objects.map((o) => [o.id, o.name, o.categories]), [
    [1, "cake", ["dessert", "food"]],
    [2, "battery", ["device"]],
    [3, "sailboat", ["boat", "vehicle"]],
    [4, "pepper", ["vegetable", "food"]],
  ]);
  assert.ok(a.objects[2].keywords.includes("sailing"));
});

test("judgeWorldWord: the object's name is concrete, its category, parent or keyword abstract, another object's name global", () => {
  const a = byFile("0009.png"); // a cake above a battery below a sailboat above a pepper on a speckled purple background
  const boat = patchOf(a, 3);
  for (const w of ["sailboat", "Sailboats.", " SAILBOAT "]) assert.equal(judgeWorldWord(w, a, ...boat), "concrete", w);
  for (const w of ["boat", "boats", "vehicle", "vehicles", "sailing", "sea"]) assert.equal(judgeWorldWord(w, a, ...boat), "abstract", w);
  for (const w of ["cake", "battery", "peppers"]) assert.equal(judgeWorldWord(w, a, ...boat), "global", w);
  for (const w of ["the", "above", "dog", "food", "dessert", "purple", ""]) assert.equal(judgeWorldWord(w, a, ...boat), "none", JSON.stringify(w));
  // the category of another object is not a global match; only its name is
  const pepper = patchOf(a, 4);
  assert.equal(judgeWorldWord("food", a, ...pepper), "abstract", "a parent category");
  assert.equal(judgeWorldWord("vegetable", a, ...pepper), "abstract");
  assert.equal(judgeWorldWord("sailboat", a, ...pepper), "global");
});

test("judgeWorldWord: each word of a two-word name is concrete; plural forms count; a word is never matched by a prefix", () => {
  const a = byFile("0007.png"); // a cap below a soccer ball to the left of a melon on a pink background
  const ball = patchOf(a, 2);
  for (const w of ["soccer", "ball", "balls"]) assert.equal(judgeWorldWord(w, a, ...ball), "concrete", w);
  for (const w of ["sports", "gear", "football"]) assert.equal(judgeWorldWord(w, a, ...ball), "abstract", w);
  for (const w of ["melons", "cap", "caps"]) assert.equal(judgeWorldWord(w, a, ...ball), "global", w);
  for (const w of ["bal", "socce", "melo"]) assert.equal(judgeWorldWord(w, a, ...ball), "none", w);
});

test("judgeWorldWord: on a background patch, its colour and pattern words are concrete and every object is global (background: false turns the first off)", () => {
  const a = byFile("0009.png");
  const bg = patchOf(a, 0);
  assert.equal(judgeWorldWord("purple", a, ...bg), "concrete");
  assert.equal(judgeWorldWord("speckled", a, ...bg), "concrete");
  assert.equal(judgeWorldWord("sailboat", a, ...bg), "global");
  assert.equal(judgeWorldWord("boat", a, ...bg), "none", "categories belong to the object under the patch only");
  assert.equal(judgeWorldWord("purple", a, ...bg, { background: false }), "none");
  const plain = byFile("0007.png"); // a plain pink background names no pattern
  assert.equal(judgeWorldWord("pink", plain, ...patchOf(plain, 0)), "concrete");
  assert.equal(judgeWorldWord("plain", plain, ...patchOf(plain, 0)), "none");
  assert.throws(() => judgeWorldWord("cake", a, 8, 0), /outside the 8x8 grid of 0009\.png/);
});

test("judgeWorldPatch: concrete beats abstract beats global; a word naming the object under the patch and another object is concrete", () => {
  const a = byFile("0009.png");
  const boat = patchOf(a, 3);
  assert.deepEqual(judgeWorldPatch(["the", "cake", "vehicle", "sailboat"], a, ...boat), { verdicts: ["none", "global", "abstract", "concrete"], best: "concrete", interpretable: true });
  assert.equal(judgeWorldPatch(["the", "cake", "vehicle"], a, ...boat).best, "abstract");
  assert.equal(judgeWorldPatch(["the", "cake"], a, ...boat).best, "global");
  assert.deepEqual(judgeWorldPatch(["the", "of"], a, ...boat), { verdicts: ["none", "none"], best: "none", interpretable: false });
  // two objects sharing a name word: "ball" on the soccer ball is concrete even with a tennis ball beside it
  const b = byFile("0007.png");
  const twoBalls: WorldAnnotation = { ...b, objects: b.objects.map((o) => (o.id === 3 ? { ...o, name: "tennis ball" } : o)) };
  assert.equal(judgeWorldWord("ball", twoBalls, ...patchOf(b, 2)), "concrete");
  assert.equal(judgeWorldWord("ball", twoBalls, ...patchOf(b, 1)), "global");
});

test("worldJudge finds each image's annotation by file and answers in the PatchJudge form; an image outside its set is named", async () => {
  const judge = worldJudge(set);
  assert.equal(judge.name, "world-ground-truth");
  const a = byFile("0009.png");
  const v = await judge.judge(request(a, patchOf(a, 3), ["sailboat", "boat", "cake", "the", "boat"]));
  assert.deepEqual(v, { concrete: ["sailboat"], abstract: ["boat"], global: ["cake"], best: "concrete", interpretable: true });
  const none = await judge.judge(request(a, patchOf(a, 3), ["the", "of"]));
  assert.equal(none.interpretable, false);
  await assert.rejects(judge.judge({ ...request(a, [1, 1], ["x"]), image: "/nowhere/0009.png" }), /no annotation for \/nowhere\/0009\.png/);
  // a set read through a relative path: the images evaluateWorld passes (dir + file) and bare names both resolve
  const relative = readWorldEvalSet(path.relative(process.cwd(), FIXTURE));
  assert.ok(!path.isAbsolute(relative.dir));
  const rel = worldJudge(relative);
  const boat = patchOf(a, 3);
  for (const image of [worldImages(relative)[9].file, "0009.png", path.join(set.dir, "0009.png")]) {
    assert.deepEqual((await rel.judge({ ...request(a, boat, ["sailboat"]), image })).concrete, ["sailboat"], image);
  }
  assert.deepEqual(worldImages(set).slice(0, 2), [{ file: path.join(set.dir, "0000.png") }, { file: path.join(set.dir, "0001.png") }]);
});

test("the chance control judges the same words against the image 7 places on, and matches far less often than the truth", async () => {
  const control = worldControlSet(set);
  assert.equal(control.annotations[0].file, "0000.png");
  assert.deepEqual(control.annotations[0].objects, set.annotations[7].objects);
  assert.equal(worldControlJudge(set).name, "world-ground-truth/control");
  // "oracle" words for every object patch: its name and its category; judged against the truth they
  // always match, against the control only when another image happens to hold the same class or category
  const truth = worldJudge(set);
  const chance = worldControlJudge(set);
  let n = 0;
  const hits = { truth: 0, truthConcrete: 0, control: 0, controlConcrete: 0 };
  for (const a of set.annotations) {
    for (const [r, row] of a.patch_labels.entries()) {
      for (const [c, k] of row.entries()) {
        if (k === 0) continue;
        const o = a.objects[k - 1];
        const req = request(a, [r, c], [o.name.split(" ").at(-1)!, o.category.split(" ").at(-1)!]);
        const [t, x] = [await truth.judge(req), await chance.judge(req)];
        n++;
        hits.truth += Number(t.interpretable);
        hits.truthConcrete += Number(t.best === "concrete");
        hits.control += Number(x.interpretable);
        hits.controlConcrete += Number(x.best === "concrete");
      }
    }
  }
  assert.ok(n > 100, `${n} object patches`);
  assert.equal(hits.truth, n);
  assert.equal(hits.truthConcrete, n);
  assert.ok(hits.controlConcrete / n < 0.1, `control concrete ${hits.controlConcrete}/${n}`);
  assert.ok(hits.control / n < 0.5, `control interpretable ${hits.control}/${n}`);
  assert.throws(() => worldControlSet({ ...set, annotations: set.annotations.slice(0, 1) }), /at least two/);
});

test("readWorldEvalSet names the file, the image and the field of a broken annotation", () => {
  const dir = tempDir();
  const good = JSON.parse(fs.readFileSync(FIXTURE, "utf8"));
  const broken = (edit: (d: any) => void) => {
    const d = structuredClone(good);
    edit(d);
    const f = path.join(dir, "annotations.json");
    fs.writeFileSync(f, JSON.stringify(d));
    return () => readWorldEvalSet(dir);
  };
  const fails = (fn: () => unknown, field: string, what: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof ArtifactError && e.field === field && what.test(e.message) && e.file.endsWith("annotations.json"));
  fails(broken((d) => (d.images[2].objects[1].id = 5)), "images[2].objects[1].id", /expected 2 \(objects are listed by id\), got 5/);
  fails(broken((d) => (d.images[0].patch_labels[3][4] = 9)), "images[0].patch_labels[3][4]", /expected 0\.\.4 .*got 9/);
  fails(broken((d) => d.images[1].patch_labels.pop()), "images[1].patch_labels", /expected 8 rows/);
  fails(broken((d) => (d.images[0].objects[0].categories = ["food"])), "images[0].objects[0].categories", /beginning with the category "stationery"/);
  fails(broken((d) => delete d.images[4].background), "images[4].background.colour", /expected a colour word, got undefined/);
  fails(broken((d) => delete d.grid), "grid", /expected \[rows, cols\]/);
  fails(broken((d) => (d.images = [])), "images", /non-empty array/);
  assert.throws(() => readWorldEvalSet(path.join(dir, "missing.json")), /missing\.json: annotations file not found/);
});
