import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { judgePatch, judgeWord, type ShapesAnnotation } from "../../src/eval/shapes-judge";
import { sampleCentrePatch } from "../../src/eval/sample-patches";
import type { PatchGeometry } from "../../src/model/geometry";
import { FIXTURE_BUNDLE } from "../helpers/fixture";

const annotations = (JSON.parse(fs.readFileSync(path.join(FIXTURE_BUNDLE, "eval", "annotations.json"), "utf8")) as { images: ShapesAnnotation[] }).images;

/** An annotated held-out image with at least two objects of different colour and shape. */
function twoObjectImage(): { ann: ShapesAnnotation; a: [number, number]; bg: [number, number] } {
  for (const ann of annotations) {
    const [o1, o2] = ann.objects;
    if (!o2 || o1.colour === o2.colour || o1.shape === o2.shape) continue;
    const cells = (k: number) => ann.patch_labels.flatMap((row, r) => row.map((l, c) => [l, r, c] as const)).filter(([l]) => l === k);
    const a = cells(1)[0];
    const bg = cells(0)[0];
    if (a && bg) return { ann, a: [a[1], a[2]], bg: [bg[1], bg[2]] };
  }
  throw new Error("no suitable image in the evaluation set");
}

test("judgeWord: the colour or shape of the object under the patch is concrete, of another object global, else none", () => {
  const { ann, a, bg } = twoObjectImage();
  const [o1, o2] = ann.objects;
  assert.equal(judgeWord(o1.colour, ann, ...a), "concrete");
  assert.equal(judgeWord(` ${o1.shape.toUpperCase()}s.`, ann, ...a), "concrete", "case, plural and punctuation are ignored");
  assert.equal(judgeWord(o2.shape, ann, ...a), "global");
  assert.equal(judgeWord(o1.colour, ann, ...bg), "global", "on the background every object is elsewhere");
  for (const w of ["the", "above", "big", ""]) assert.equal(judgeWord(w, ann, ...a), "none", w);
  const absent = ["red", "green", "blue", "yellow", "purple", "orange"].find((c) => !ann.objects.some((o) => o.colour === c))!;
  assert.equal(judgeWord(absent, ann, ...a), "none");
  assert.throws(() => judgeWord("red", ann, 99, 0), /outside the 8x8 grid of \d+\.png/);
});

test("judgePatch: interpretable when any top-k word is concrete or global; best verdict wins", () => {
  const { ann, a } = twoObjectImage();
  const [o1, o2] = ann.objects;
  assert.deepEqual(judgePatch(["the", o2.colour, o1.shape], ann, ...a), { verdicts: ["none", "global", "concrete"], best: "concrete", interpretable: true });
  assert.deepEqual(judgePatch(["the", o2.colour], ann, ...a).best, "global");
  assert.equal(judgePatch(["the", "and", "of"], ann, ...a).interpretable, false);
});

function geometry(rows: number, cols: number, padded: (r: number, c: number) => boolean): PatchGeometry[] {
  return Array.from({ length: rows * cols }, (_, i) => {
    const row = Math.floor(i / cols);
    const col = i % cols;
    const pad = padded(row, col);
    return { index: i, row, col, box: [0, 0, 1, 1], coverage: pad ? 0 : 1, isPadding: pad };
  });
}

test("sampleCentrePatch picks, reproducibly per seed, the centre of a 3x3 block wholly inside the unpadded image", () => {
  const full = geometry(8, 8, () => false);
  const seen = new Set<number>();
  for (let seed = 0; seed < 1000; seed++) {
    const p = sampleCentrePatch(full, [8, 8], seed);
    assert.equal(p, sampleCentrePatch(full, [8, 8], seed));
    const [r, c] = [Math.floor(p / 8), p % 8];
    assert.ok(r >= 1 && r <= 6 && c >= 1 && c <= 6, `centre ${r},${c}`);
    seen.add(p);
  }
  assert.equal(seen.size, 36, "every valid centre is reachable");
  // Letterboxed: the top 3 rows are padding, so the block's top row must be at least row 3.
  const boxed = geometry(8, 8, (r) => r < 3);
  for (let seed = 0; seed < 100; seed++) assert.ok(Math.floor(sampleCentrePatch(boxed, [8, 8], seed) / 8) >= 4);
  assert.throws(() => sampleCentrePatch(geometry(8, 8, (r) => r % 3 === 0), [8, 8], 1), /no 3x3 block/);
});
