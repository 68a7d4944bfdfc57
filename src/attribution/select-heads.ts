import type { HeadRef, HeadScore } from "./types";

/**
 * Which heads get position scores (and ablations): the top `n` by head score, every head, or an
 * explicit list of (layer, head) pairs.
 */
export type HeadSelection = number | "all" | readonly HeadRef[];

/** The selected heads with their scores, in the order given (top-n and "all": best first). */
export function selectHeads(selection: HeadSelection, ranked: readonly HeadScore[], numLayers: number, numHeads: number): HeadScore[] {
  if (selection === "all") return [...ranked];
  if (typeof selection === "number") {
    if (!Number.isInteger(selection) || selection < 0) throw new RangeError(`heads: expected a count of top heads >= 0, got ${selection}`);
    return ranked.slice(0, selection);
  }
  if (!Array.isArray(selection)) throw new TypeError(`heads: expected a count, "all" or a list of {layer, head}, got ${JSON.stringify(selection)}`);
  const byKey = new Map(ranked.map((h) => [`${h.layer}.${h.head}`, h]));
  return selection.map(({ layer, head }) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) throw new RangeError(`heads: layer ${layer} is out of range 0..${numLayers - 1}`);
    if (!Number.isInteger(head) || head < 0 || head >= numHeads) throw new RangeError(`heads: head ${head} (layer ${layer}) is out of range 0..${numHeads - 1}`);
    return byKey.get(`${layer}.${head}`)!;
  });
}

/**
 * The command-line form: `top:N`, `all`, or `L.H[,L.H...]` (block L, head H, both from 0).
 * Malformed text is a RangeError naming it; ranges are checked once the model is known.
 */
export function parseHeadSelection(text: string): HeadSelection {
  const t = text.trim();
  if (t === "all") return "all";
  const top = /^top:(\d+)$/.exec(t);
  if (top) return Number(top[1]);
  const pairs = t.split(",").map((part) => /^(\d+)\.(\d+)$/.exec(part.trim()));
  if (pairs.length && pairs.every((m) => m)) return pairs.map((m) => ({ layer: Number(m![1]), head: Number(m![2]) }));
  throw new RangeError(`heads: ${JSON.stringify(text)} is not top:N, all, or a list like 3.1,4.0 (block.head)`);
}
