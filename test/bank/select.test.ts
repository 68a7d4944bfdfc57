import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultContextualLayers, parseLayerList } from "../../src/bank/layers";
import { selectContexts } from "../../src/bank/select";

// A toy vocabulary: id 0 is BOS (special), id v > 0 is the word `w${v % 5}` so that several ids
// share one token string, as " red" and "red" would.
const key = (id: number) => (id === 0 ? null : `w${id % 5}`);

function corpus(n: number, seed = 1): number[][] {
  let s = seed;
  const next = () => ((s = (s * 48271) % 2147483647), s);
  return Array.from({ length: n }, () => [0, ...Array.from({ length: 3 + (next() % 6) }, () => 1 + (next() % 12))]);
}

test("defaultContextualLayers follows the paper's rule {1,2,4,8,16,24 below N} ∪ {N-2, N-1}", () => {
  assert.deepEqual(defaultContextualLayers(32), [1, 2, 4, 8, 16, 24, 30, 31]);
  assert.deepEqual(defaultContextualLayers(6), [1, 2, 4, 5]);
  assert.deepEqual(defaultContextualLayers(2), [1]);
  assert.deepEqual(parseLayerList("4, 1,4", 6), [1, 4]);
  assert.deepEqual(parseLayerList("all", 3), [1, 2, 3]);
  assert.throws(() => parseLayerList("1,9", 6), /layer "9" in "1,9" is not an integer in 0..6/);
});

test("reservoir keeps at most maxContexts per token string, never a special token, sorted by sentence then position", () => {
  const sentences = corpus(400);
  const rows = selectContexts(sentences, key, { kind: "reservoir", maxContexts: 7, seed: 42 });
  const perKey = new Map<string, number>();
  for (const r of rows) {
    assert.notEqual(r.tokenId, 0);
    assert.equal(sentences[r.sentence][r.position], r.tokenId);
    perKey.set(key(r.tokenId)!, (perKey.get(key(r.tokenId)!) ?? 0) + 1);
  }
  assert.deepEqual([...perKey.values()], [7, 7, 7, 7, 7]);
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    assert.ok(a.sentence < b.sentence || (a.sentence === b.sentence && a.position < b.position));
  }
});

test("reservoir is reproducible for a seed, differs across seeds, and samples the whole corpus uniformly", () => {
  const sentences = corpus(400);
  const a = selectContexts(sentences, key, { kind: "reservoir", maxContexts: 7, seed: 42 });
  assert.deepEqual(selectContexts(sentences, key, { kind: "reservoir", maxContexts: 7, seed: 42 }), a);
  assert.notDeepEqual(selectContexts(sentences, key, { kind: "reservoir", maxContexts: 7, seed: 43 }), a);
  // Over many seeds, the kept occurrences are spread over the corpus: mean sentence index ≈ middle.
  let sum = 0;
  let n = 0;
  for (let seed = 0; seed < 200; seed++) {
    for (const r of selectContexts(sentences, key, { kind: "reservoir", maxContexts: 3, seed })) {
      sum += r.sentence;
      n++;
    }
  }
  assert.ok(Math.abs(sum / n - 200) < 15, `mean sentence ${sum / n}`);
});

test("first keeps the first maxContexts occurrences, skipping positions 0-1 and repeated prefixes", () => {
  const sentences = [
    [0, 1, 2, 3], // positions 2, 3 eligible: w2, w3
    [0, 1, 2, 3], // same prefixes: nothing new
    [0, 1, 2, 8], // prefix 0,1,2 seen; 8 (w3) is new -> counts for w3
    [0, 6, 7, 3], // 7 (w2) new prefix, 3 (w3) new prefix but w3 is full at cap 2
  ];
  const rows = selectContexts(sentences, key, { kind: "first", maxContexts: 2 });
  assert.deepEqual(
    rows.map((r) => [r.sentence, r.position]),
    [[0, 2], [0, 3], [2, 3], [3, 2]],
  );
});

test("selectContexts rejects a cap below 1", () => {
  assert.throws(() => selectContexts([[1, 2]], key, { kind: "first", maxContexts: 0 }), RangeError);
});
