/**
 * Expands a token's character span to the whole word around it in its sentence, as the paper does
 * for LatentLens neighbours ("ing" in "a shining star" -> "shining"). Word characters are letters,
 * digits, apostrophes and hyphens inside a word.
 */
const WORD_CHAR = /[\p{L}\p{N}_'’-]/u;

export function wordAt(sentence: string, span: readonly [number, number]): string {
  let [start, end] = span;
  start = Math.max(0, Math.min(start, sentence.length));
  end = Math.max(start, Math.min(end, sentence.length));
  while (start > 0 && WORD_CHAR.test(sentence[start - 1])) start--;
  while (end < sentence.length && WORD_CHAR.test(sentence[end])) end++;
  return sentence.slice(start, end).replace(/^['’-]+|['’-]+$/g, "");
}
