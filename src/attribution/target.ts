import type { TextTokenizer } from "../model/tokenizer";

/** The answer token ŷ whose log-probability the scores explain. */
export interface AnswerTarget {
  tokenId: number;
  /** The token as displayed ("square"). */
  token: string;
  /** The model's own prediction at T (argmax of the logits). */
  predictedId: number;
  predicted: string;
  /** log p(ŷ) at T under the model's real final norm. */
  logProb: number;
  /** How ŷ was chosen. */
  source: "argmax" | "token" | "id";
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function logSoftmaxAt(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let z = 0;
  for (const v of logits) z += Math.exp(v - max);
  return logits[id] - max - Math.log(z);
}

/**
 * The token id a named answer stands for, as it would follow `prompt`: the text is tokenised as
 * the prompt's continuation, and must add exactly one token. A word without leading whitespace is
 * also tried with one (" square" after "... a blue"), because byte-level BPE vocabularies hold
 * words with their leading space. Anything else is refused, naming the tokens it became.
 */
export function targetTokenId(tokenizer: TextTokenizer, prompt: string, answer: string): number {
  if (typeof answer !== "string" || answer.length === 0) throw new TypeError(`target must be a non-empty string or a token id, got ${JSON.stringify(answer)}`);
  const base = tokenizer.encode(prompt);
  const tried: string[] = [];
  const variants = /^\s/.test(answer) || prompt === "" || /\s$/.test(prompt) ? [answer] : [` ${answer}`, answer];
  for (const variant of variants) {
    const ids = tokenizer.encode(prompt + variant);
    const prefixKept = base.every((id, i) => ids[i] === id);
    const added = ids.slice(base.length);
    if (prefixKept && added.length === 1) return added[0];
    const pieces = prefixKept ? added : tokenizer.encode(variant);
    tried.push(`${JSON.stringify(variant)} -> [${pieces.map((id) => JSON.stringify(tokenizer.idToToken(id) ?? `#${id}`)).join(", ")}]`);
  }
  throw new RangeError(`target ${JSON.stringify(answer)} is not one token after the prompt: ${tried.join("; ")}; name a single token or pass its id`);
}

/** ŷ: the argmax at T, or the answer the caller names (text or token id). */
export function resolveTarget(tokenizer: TextTokenizer, logits: Float32Array, prompt: string, answer?: string | number): AnswerTarget {
  const V = logits.length;
  const predictedId = argmax(logits);
  let tokenId = predictedId;
  let source: AnswerTarget["source"] = "argmax";
  if (typeof answer === "number") {
    if (!Number.isInteger(answer) || answer < 0 || answer >= V) throw new RangeError(`target token id ${answer} is outside the vocabulary 0..${V - 1}`);
    tokenId = answer;
    source = "id";
  } else if (answer !== undefined) {
    tokenId = targetTokenId(tokenizer, prompt, answer);
    source = "token";
  }
  return {
    tokenId,
    token: tokenizer.display(tokenId),
    predictedId,
    predicted: tokenizer.display(predictedId),
    logProb: logSoftmaxAt(logits, tokenId),
    source,
  };
}
