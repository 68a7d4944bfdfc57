import { seededRandom } from "../util/random";

/**
 * Which token occurrences of a corpus become bank rows. Two policies, both capping the contexts
 * kept per token string:
 * - `reservoir` (the paper): a uniform sample of at most `maxContexts` occurrences of each token
 *   string, by reservoir sampling with a seeded PRNG over the corpus in order. The selection does
 *   not depend on the layer, so every layer stores the same rows.
 * - `first` (the latentlens package): the first `maxContexts` occurrences of each token string,
 *   skipping sequence positions 0 and 1 and any occurrence whose full prefix (all token ids up to
 *   and including it) was already seen, so repeated sentence openings do not fill the cap.
 * Special tokens (BOS, the image placeholder, ...) are never selected.
 */

export type ContextPolicy = { kind: "reservoir"; maxContexts: number; seed: number } | { kind: "first"; maxContexts: number };

export const CONTEXT_POLICIES = ["reservoir", "first"] as const;

export interface SelectedContext {
  sentence: number;
  /** Position in the tokenised sentence (BOS, when the model uses one, is position 0). */
  position: number;
  tokenId: number;
}

/**
 * @param sentences token ids of each sentence, as fed to the LLM
 * @param tokenKey the string a token is capped by (its decoded text, trimmed), or null for a
 *   special token that is never selected
 * @returns the selected occurrences sorted by sentence, then position
 */
export function selectContexts(sentences: readonly (readonly number[])[], tokenKey: (id: number) => string | null, policy: ContextPolicy): SelectedContext[] {
  if (!Number.isInteger(policy.maxContexts) || policy.maxContexts < 1) {
    throw new RangeError(`maxContexts must be a positive integer, got ${policy.maxContexts}`);
  }
  const selected = policy.kind === "reservoir" ? reservoir(sentences, tokenKey, policy.maxContexts, policy.seed) : firstUnique(sentences, tokenKey, policy.maxContexts);
  return selected.sort((a, b) => a.sentence - b.sentence || a.position - b.position);
}

function reservoir(sentences: readonly (readonly number[])[], tokenKey: (id: number) => string | null, cap: number, seed: number): SelectedContext[] {
  const random = seededRandom(seed);
  const pools = new Map<string, { seen: number; kept: SelectedContext[] }>();
  sentences.forEach((ids, sentence) => {
    ids.forEach((tokenId, position) => {
      const key = tokenKey(tokenId);
      if (key === null) return;
      let pool = pools.get(key);
      if (!pool) pools.set(key, (pool = { seen: 0, kept: [] }));
      pool.seen++;
      const occurrence = { sentence, position, tokenId };
      if (pool.kept.length < cap) {
        pool.kept.push(occurrence);
      } else {
        // Algorithm R: the n-th occurrence replaces a kept one with probability cap / n.
        const j = Math.floor(random() * pool.seen);
        if (j < cap) pool.kept[j] = occurrence;
      }
    });
  });
  return [...pools.values()].flatMap((p) => p.kept);
}

function firstUnique(sentences: readonly (readonly number[])[], tokenKey: (id: number) => string | null, cap: number): SelectedContext[] {
  const counts = new Map<string, number>();
  const seenPrefixes = new Set<string>();
  const out: SelectedContext[] = [];
  sentences.forEach((ids, sentence) => {
    let prefix = "";
    ids.forEach((tokenId, position) => {
      prefix += `${tokenId},`;
      const fresh = !seenPrefixes.has(prefix);
      seenPrefixes.add(prefix);
      if (position < 2 || !fresh) return;
      const key = tokenKey(tokenId);
      if (key === null) return;
      const n = counts.get(key) ?? 0;
      if (n >= cap) return;
      counts.set(key, n + 1);
      out.push({ sentence, position, tokenId });
    });
  });
  return out;
}
