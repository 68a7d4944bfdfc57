/**
 * The target word t of a concept dictionary, checked against the model's vocabulary.
 *
 * t must be one word (letters, digits, "'" or "-"; no spaces). It is looked up the two ways it can
 * appear in a caption, after a space (" circle") and at a line start ("circle"), as given and in
 * lower case (matching is case-insensitive).
 * - If either form is one token, t is used as is.
 * - If t only splits into several tokens (a word the vocabulary does not hold whole), it is refused
 *   by default, naming the pieces: a dictionary on the step that predicts a word's first piece mixes
 *   in every other word that starts with that piece. With `multiToken: "first-token"` it is accepted,
 *   and the sample's representation is the step that predicts the first token of the word's
 *   occurrence in the caption (the reference code's behaviour for multi-token words).
 * - If a piece is a special token (an unknown-token placeholder in WordPiece / Unigram
 *   vocabularies), t is not in the vocabulary at all and is refused.
 * Samples are matched on the caption's text as whole words, case-insensitively, whatever the
 * tokenisation (see samples.ts).
 */
import { describeValue } from "../errors";
import type { TextTokenizer } from "../model/tokenizer";

export type MultiTokenPolicy = "refuse" | "first-token";

export interface ConceptToken {
  /** The word as given (matched case-insensitively). */
  word: string;
  /** Token ids of " word" and "word" (of the lower-case word when only that is one token). */
  pieces: { spaced: number[]; bare: number[] };
  /** Whether one of the two forms is a single token. */
  singleToken: boolean;
}

const WORD = /^[\p{L}\p{N}][\p{L}\p{N}'’-]*$/u;

export function resolveConceptToken(tokenizer: TextTokenizer, word: string, multiToken: MultiTokenPolicy = "refuse"): ConceptToken {
  if (typeof word !== "string") throw new TypeError(`concepts: token must be a string, got ${describeValue(word)}`);
  if (!WORD.test(word)) throw new RangeError(`concepts: token must be one word (letters or digits, no spaces), got ${describeValue(word)}`);
  if (multiToken !== "refuse" && multiToken !== "first-token") throw new RangeError(`concepts: multiToken must be "refuse" or "first-token", got ${describeValue(multiToken)}`);
  // Matching is case-insensitive, so the lower-case forms count too ("Circle" -> "circle").
  const forms = [...new Set([word, word.toLowerCase()])];
  const encoded = forms.map((w) => ({ spaced: tokenizer.encode(` ${w}`), bare: tokenizer.encode(w) }));
  const { spaced, bare } = encoded.find((e) => e.spaced.length === 1 || e.bare.length === 1) ?? encoded[0];
  const show = (ids: number[]) => `[${ids.map((id) => JSON.stringify(tokenizer.idToToken(id) ?? `#${id}`)).join(", ")}]`;
  const special = [...spaced, ...bare].find((id) => tokenizer.isSpecial(id));
  if (special !== undefined) {
    throw new RangeError(`concepts: token ${describeValue(word)} is not in the vocabulary: it tokenises to ${show(spaced)} with the special token ${JSON.stringify(tokenizer.idToToken(special))}`);
  }
  const singleToken = spaced.length === 1 || bare.length === 1;
  if (!singleToken && multiToken === "refuse") {
    throw new RangeError(
      `concepts: token ${describeValue(word)} is not one token of the vocabulary: " ${word}" -> ${show(spaced)}, "${word}" -> ${show(bare)}; ` +
        `pick a single-token word, or accept the step that predicts its first token (multiToken: "first-token", CLI --multi-token)`,
    );
  }
  return { word, pieces: { spaced, bare }, singleToken };
}
