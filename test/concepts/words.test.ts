import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { conceptOverlap } from "../../src/concepts/overlap";
import { findWholeWord, sampleStep } from "../../src/concepts/samples";
import { resolveConceptToken } from "../../src/concepts/token";
import { englishWordList, stopWordList, tokenWord, wordsFromTokens } from "../../src/concepts/words";
import { loadTokenizer } from "../../src/model/tokenizer";
import { FIXTURE_BUNDLE } from "../helpers/fixture";

// Word filtering, target-word checks, whole-word matching and the overlap metric, on the shipped
// fixture's tokenizer (409 tokens; every world word is one token bare and after a space).
const tokenizer = loadTokenizer(path.join(FIXTURE_BUNDLE, "tokenizer.json"));
const id = (token: string) => tokenizer.tokenToId(token)!;

const COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"];
const SHAPES = ["circle", "square", "triangle", "cross"];

test("tokenWord keeps the shapes world's words, bare and after a space, in lower case", () => {
  for (const w of [...COLOURS, ...SHAPES, "big", "small", "above", "below", "left", "right", "top", "bottom", "picture"]) {
    for (const token of [w, `Ġ${w}`]) {
      if (tokenizer.tokenToId(token) === undefined) continue; // not every word exists in both forms
      assert.deepEqual(tokenWord(tokenizer, id(token)), { word: w }, token);
    }
  }
});

test("tokenWord rejects sub-word pieces, stop words, short tokens, punctuation and special tokens, saying why", () => {
  // "quare" (s+quare), "range" (o+range), "mall" (s+mall), "yell" (yell+ow) are English words but only pieces here.
  for (const piece of ["quare", "range", "mall", "yell", "ircle"]) assert.deepEqual(tokenWord(tokenizer, id(piece)), { rejected: "sub-word" }, piece);
  assert.deepEqual(tokenWord(tokenizer, id("Ġthe")), { rejected: "stop-word" });
  assert.deepEqual(tokenWord(tokenizer, id("Ġalso")), { rejected: "stop-word" });
  assert.deepEqual(tokenWord(tokenizer, id("Ġof")), { rejected: "too-short" });
  assert.deepEqual(tokenWord(tokenizer, id("Ġ.")), { rejected: "not-letters" });
  assert.deepEqual(tokenWord(tokenizer, id("</s>")), { rejected: "special" });
  assert.ok(englishWordList().size > 200_000, "the an-array-of-english-words list");
  assert.ok(stopWordList().has("the") && !stopWordList().has("circle"), "the stopword package's English list");
});

test("wordsFromTokens merges case and space variants, keeps rank order, and stops at the limit", () => {
  const ranked = [id("Ġred"), id("quare"), id("red"), id("Ġthe"), id("Ġcircle"), id("circle"), id("Ġblue"), id("Ġsquare")];
  assert.deepEqual(wordsFromTokens(tokenizer, ranked, 10), ["red", "circle", "blue", "square"]);
  assert.deepEqual(wordsFromTokens(tokenizer, ranked, 2), ["red", "circle"]);
  const cache = new Map<number, string | null>();
  wordsFromTokens(tokenizer, ranked, 10, cache);
  assert.equal(cache.get(id("quare")), null);
  assert.throws(() => wordsFromTokens(tokenizer, ranked, 0), /limit must be a positive integer, got 0/);
});

test("resolveConceptToken accepts single-token words (any case), refuses multi-token and malformed ones naming the value", () => {
  assert.deepEqual(resolveConceptToken(tokenizer, "circle").pieces, { spaced: [id("Ġcircle")], bare: [id("circle")] });
  assert.equal(resolveConceptToken(tokenizer, "Circle").singleToken, true, "matched case-insensitively, so its lower case counts");
  assert.throws(() => resolveConceptToken(tokenizer, "dog"), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /token "dog" is not one token of the vocabulary: " dog" -> \["Ġ", "d", "o", "g"\]/);
    assert.match(e.message, /multiToken: "first-token"/);
    return true;
  });
  const dog = resolveConceptToken(tokenizer, "dog", "first-token");
  assert.equal(dog.singleToken, false);
  assert.throws(() => resolveConceptToken(tokenizer, "red circle"), /must be one word .* got "red circle"/);
  assert.throws(() => resolveConceptToken(tokenizer, ""), /must be one word/);
  assert.throws(() => resolveConceptToken(tokenizer, "circle", "all" as never), /multiToken must be "refuse" or "first-token", got "all"/);
});

test("findWholeWord matches whole words case-insensitively, never inside another word", () => {
  assert.equal(findWholeWord("a big red cross", "cross"), 10);
  assert.equal(findWholeWord("a crossing, then a Cross.", "cross"), 19);
  assert.equal(findWholeWord("crossing", "cross"), -1);
  assert.equal(findWholeWord("squares", "square"), -1);
  assert.equal(findWholeWord("Circle", "circle"), 0);
  assert.equal(findWholeWord("a small red circle", "red"), 8);
});

test("sampleStep is the generated step whose output is the word's first occurrence (not a later one, not the EOS)", () => {
  const ids = tokenizer.encode("a big red circle left of a small red square");
  const g = { ids: [...ids, 1], text: tokenizer.decode(ids), stop: "eos" as const };
  assert.deepEqual(sampleStep(tokenizer, g, "red"), { step: 2, tokenId: id("Ġred") });
  assert.deepEqual(sampleStep(tokenizer, g, "square"), { step: ids.length - 1, tokenId: id("Ġsquare") });
  assert.deepEqual(sampleStep(tokenizer, g, "a"), { step: 0, tokenId: id("a") });
  assert.equal(sampleStep(tokenizer, g, "blue"), null);
  assert.equal(sampleStep(tokenizer, g, "squ"), null, "no partial words");
});

test("conceptOverlap is the mean over k ≠ l of |T_l ∩ T_k| / |T_k|, leaving out empty concepts", () => {
  // T0 = {a, b}, T1 = {b, c, d}, T2 = {e}: O01 = 1/2, O02 = 0, O10 = 1/3, O12 = 0, O20 = 0, O21 = 0.
  const o = conceptOverlap([["a", "b"], ["b", "c", "d"], ["e"]]);
  assert.ok(Math.abs(o.score - (1 / 2 + 1 / 3) / 6) < 1e-12);
  assert.deepEqual(o.matrix[0], [1, 0.5, 0]);
  assert.equal(o.emptyConcepts, 0);
  const withEmpty = conceptOverlap([["a", "b"], ["a"], []]);
  assert.equal(withEmpty.emptyConcepts, 1);
  assert.ok(Number.isNaN(withEmpty.matrix[2][0]));
  assert.ok(Math.abs(withEmpty.score - (0.5 + 0 + 1 + 0) / 4) < 1e-12);
  assert.equal(conceptOverlap([["a", "b"], ["a", "b"]]).score, 1, "identical concepts overlap fully");
  assert.ok(Number.isNaN(conceptOverlap([["a"], []]).score), "fewer than two concepts with words: undefined");
});
