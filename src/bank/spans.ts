import type { TextTokenizer } from "../model/tokenizer";

/**
 * Character span `[start, end)` of every token of a tokenised sentence inside the sentence text,
 * found by decoding growing prefixes (the tokenizer library reports no offsets). Leading
 * whitespace that a token carries ("Ġred") is not part of its span. Special tokens, and tokens
 * whose decoded prefix does not line up with the text (a multi-byte character split across
 * tokens), get an empty span where the previous token ended.
 */
export function tokenSpans(tokenizer: TextTokenizer, ids: readonly number[], sentence: string): [number, number][] {
  let first = 0;
  while (first < ids.length && tokenizer.isSpecial(ids[first])) first++;
  const spans: [number, number][] = [];
  let prev = 0;
  for (let i = 0; i < ids.length; i++) {
    let end = prev;
    if (i >= first) {
      const decoded = tokenizer.decode(ids.slice(first, i + 1));
      if (sentence.startsWith(decoded)) end = decoded.length;
    }
    let start = prev;
    while (start < end && /\s/.test(sentence[start])) start++;
    spans.push([start, end]);
    prev = end;
  }
  return spans;
}
