import assert from "node:assert/strict";
import { test } from "node:test";
import { averageRanks, parseHeadSelection, selectHeads, spearman, topShare } from "../../src/attribution";
import { seededRandom } from "../../src/util/random";
import { python } from "../helpers/python";

test("spearman equals scipy.stats.spearmanr, ties included", () => {
  const rnd = seededRandom(3);
  const cases: [number[], number[]][] = [];
  for (let c = 0; c < 6; c++) {
    const n = 5 + c * 7;
    const a = Array.from({ length: n }, () => Math.round(rnd() * (c % 2 ? 4 : 1000)) / 7);
    const b = a.map((v) => v * (c - 2.5) + Math.round(rnd() * 3));
    cases.push([a, b]);
  }
  const expected = JSON.parse(
    python(`import json, sys\nfrom scipy.stats import spearmanr, rankdata\ncases = json.loads(sys.argv[1])\nprint(json.dumps([[float(spearmanr(a, b).statistic), rankdata(a).tolist()] for a, b in cases]))`, [JSON.stringify(cases)]),
  ) as [number, number[]][];
  cases.forEach(([a, b], i) => {
    assert.ok(Math.abs(spearman(a, b) - expected[i][0]) <= 1e-12, `case ${i}: ${spearman(a, b)} vs scipy ${expected[i][0]}`);
    assert.deepEqual(Array.from(averageRanks(a)), expected[i][1]);
  });
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])), "a constant series has no rank correlation");
  assert.throws(() => spearman([1, 2], [1]), /2 and 1 values/);
  assert.throws(() => spearman([1, Number.NaN], [1, 2]), /non-finite value \(NaN\) at 1/);
});

test("topShare: the share of the k best patches on the object, padding excluded, ties by lower index", () => {
  const on = [false, true, true, false, false];
  assert.equal(topShare([5, 4, 3, 2, 1], on, 3), 2 / 3);
  assert.equal(topShare([0, 0, 0, 0, 0], on, 2), 0.5); // patches 0 and 1
  assert.equal(topShare([9, 4, 3, 2, 1], on, 2, [true, false, false, false, false]), 1);
  assert.throws(() => topShare([1], [true, false]), /1 scores but 2 object flags/);
});

test("head selection: top:N, all, explicit pairs; malformed text and out-of-range heads are named", () => {
  const ranked = [
    { layer: 1, head: 0, score: 3 },
    { layer: 0, head: 1, score: 2 },
    { layer: 0, head: 0, score: 1 },
    { layer: 1, head: 1, score: 0 },
  ];
  assert.deepEqual(selectHeads(parseHeadSelection("top:2"), ranked, 2, 2), ranked.slice(0, 2));
  assert.equal(selectHeads(parseHeadSelection("all"), ranked, 2, 2).length, 4);
  assert.deepEqual(selectHeads(parseHeadSelection("0.0, 1.1"), ranked, 2, 2), [ranked[2], ranked[3]]);
  assert.throws(() => parseHeadSelection("top10"), /"top10" is not top:N, all, or a list/);
  assert.throws(() => selectHeads([{ layer: 2, head: 0 }], ranked, 2, 2), /layer 2 is out of range 0\.\.1/);
  assert.throws(() => selectHeads([{ layer: 0, head: 7 }], ranked, 2, 2), /head 7 \(layer 0\) is out of range 0\.\.1/);
});
