import * as fs from "node:fs";
import type * as HfTokenizers from "@huggingface/tokenizers" with { "resolution-mode": "import" };
import { ArtifactError } from "../errors";

/**
 * The bundle's Hugging Face tokenizer.json, run by @huggingface/tokenizers (pure JS, offline, ids
 * identical to the Python `tokenizers` library for the BPE/Unigram/WordPiece models it supports).
 */
// The package ships a CommonJS build under its "require" export condition, but declares its types
// as ESM only; load the CommonJS build and borrow the ESM types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer } = require("@huggingface/tokenizers") as typeof HfTokenizers;

export interface TextTokenizer {
  /** Token ids of `text`, without any special tokens added (the prompt template decides those). */
  encode(text: string): number[];
  /** The vocabulary entry of an id (e.g. "Ġred" for byte-level BPE). */
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** Decodes ids to text, as the tokenizer's decoder does. */
  decode(ids: readonly number[]): string;
  /**
   * A token as a person should see it: decoded and trimmed, or, where that is empty (a whitespace
   * token) or not text on its own (one byte of a multi-byte character), its vocabulary entry.
   */
  display(id: number): string;
  /** True for added special tokens (BOS, EOS, padding, image placeholders, ...). */
  isSpecial(id: number): boolean;
  /** Vocabulary size including added tokens. */
  size: number;
}

export function loadTokenizer(file: string): TextTokenizer {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ArtifactError(file, `cannot read tokenizer: ${(error as Error).message}`);
  }
  let tok: HfTokenizers.Tokenizer;
  try {
    tok = new Tokenizer(json as object, {});
  } catch (error) {
    throw new ArtifactError(file, `unsupported or corrupt tokenizer: ${(error as Error).message}`);
  }
  const size = tok.get_vocab(true).size;
  const special = new Set<number>();
  for (const [id, added] of tok.get_added_tokens_decoder()) if (added.special) special.add(id);
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    idToToken: (id) => tok.id_to_token(id),
    tokenToId: (token) => tok.token_to_id(token),
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: false }),
    isSpecial: (id) => special.has(id),
    display(id) {
      const decoded = tok.decode([id], { skip_special_tokens: false }).trim();
      if (decoded && !decoded.includes("\uFFFD")) return decoded;
      return tok.id_to_token(id) ?? `#${id}`;
    },
    size,
  };
}
