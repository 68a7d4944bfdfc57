/**
 * Which decoded tokens count as grounding *words* for a concept, and the word lists behind it.
 *
 * A token, decoded alone and trimmed, is kept when it is
 *   1. letters only, at least 3 of them (the reference's "> 2 characters");
 *   2. not a sub-word piece: its vocabulary entry starts with a word-start marker (byte-level BPE
 *      "Ġ", SentencePiece "▁"), or the word with a space before it is itself one token, so the
 *      tokenizer has it as a word of its own ("circle" at a line start passes, "quare" from
 *      "s" + "quare" does not);
 *   3. an English word: in the `an-array-of-english-words` list (~275,000 words, MIT, from the
 *      Letterpress word list), compared in lower case;
 *   4. not a stop word: not in the English list of the `stopword` package (108 words, MIT);
 * and duplicates are merged: case and leading-space variants ("Red", "red", " red") count once, in
 * the rank of the first. The reference keeps such duplicates, which inflates its word lists.
 */
import { describeValue } from "../errors";
import type { TextTokenizer } from "../model/tokenizer";

let englishWords: Set<string> | undefined;
let stopWords: Set<string> | undefined;

/** The dictionary of English words (lower case), loaded once. */
export function englishWordList(): Set<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  englishWords ??= new Set(require("an-array-of-english-words") as string[]);
  return englishWords;
}

/** The English stop words (lower case), loaded once. */
export function stopWordList(): Set<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  stopWords ??= new Set((require("stopword") as { eng: string[] }).eng.map((w) => w.toLowerCase()));
  return stopWords;
}

const LETTERS = /^\p{L}+$/u;
const WORD_START = /^[Ġ▁ ]/u;

/** Why a token was not kept as a word, or null when it is one. */
export type WordRejection = "not-letters" | "too-short" | "sub-word" | "not-english" | "stop-word" | "special";

/** The lower-case word a token stands for, or why it is not one. */
export function tokenWord(tokenizer: TextTokenizer, id: number): { word: string } | { rejected: WordRejection } {
  if (tokenizer.isSpecial(id)) return { rejected: "special" };
  const text = tokenizer.decode([id]).trim();
  if (!LETTERS.test(text)) return { rejected: "not-letters" };
  if ([...text].length < 3) return { rejected: "too-short" };
  const entry = tokenizer.idToToken(id) ?? "";
  if (!WORD_START.test(entry) && !/^\s/u.test(tokenizer.decode([id])) && tokenizer.encode(` ${text}`).length !== 1) return { rejected: "sub-word" };
  const word = text.toLowerCase();
  if (!englishWordList().has(word)) return { rejected: "not-english" };
  if (stopWordList().has(word)) return { rejected: "stop-word" };
  return { word };
}

/**
 * The first `limit` distinct words among token ids in rank order (best first), by the rules above.
 * `cache` memoises per-token verdicts across calls (the same tokenizer only).
 */
export function wordsFromTokens(tokenizer: TextTokenizer, ids: ArrayLike<number>, limit: number, cache?: Map<number, string | null>): string[] {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`wordsFromTokens: limit must be a positive integer, got ${describeValue(limit)}`);
  const words: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < ids.length && words.length < limit; i++) {
    const id = ids[i];
    let word = cache?.get(id);
    if (word === undefined) {
      const verdict = tokenWord(tokenizer, id);
      word = "word" in verdict ? verdict.word : null;
      cache?.set(id, word);
    }
    if (word !== null && !seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}
