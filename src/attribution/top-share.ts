/**
 * The share of the `k` highest-scoring patches that lie on the object (`onObject[p]`), padding
 * patches excluded from the ranking. Ties are broken by the lower patch index, so the answer does
 * not depend on sort stability.
 */
export function topShare(scores: ArrayLike<number>, onObject: readonly boolean[], k = 3, isPadding?: readonly boolean[]): number {
  if (scores.length !== onObject.length) throw new RangeError(`topShare: ${scores.length} scores but ${onObject.length} object flags`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topShare: k must be a positive integer, got ${k}`);
  const order = Array.from({ length: scores.length }, (_, i) => i)
    .filter((i) => !isPadding?.[i])
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
  if (order.length === 0) return Number.NaN;
  return order.filter((i) => onObject[i]).length / order.length;
}
