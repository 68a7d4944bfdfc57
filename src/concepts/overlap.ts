/**
 * Overlap of concepts' grounding words (Parekh et al. 2024, disentanglement; lower is better):
 * O[k][l] = |T_l ∩ T_k| / |T_k| for concepts k ≠ l with word sets T, and the score is the mean of the
 * off-diagonal entries. A concept with no words has no row (its ratios are undefined): such rows
 * are left out of the mean and counted in `emptyConcepts`. Words are compared as given (the
 * grounding already lower-cases and merges variants).
 */

export interface Overlap {
  /** Mean of O[k][l] over k ≠ l with T_k non-empty; NaN when fewer than two concepts have words. */
  score: number;
  /** `[K][K]`: O[k][l] (NaN on rows of empty concepts; 1 on the diagonal of the others). */
  matrix: number[][];
  /** How many concepts have no words. */
  emptyConcepts: number;
}

export function conceptOverlap(words: readonly (readonly string[])[]): Overlap {
  const sets = words.map((w) => new Set(w));
  const K = sets.length;
  let sum = 0;
  let n = 0;
  const matrix = sets.map((tk, k) =>
    sets.map((tl, l) => {
      if (tk.size === 0) return NaN;
      let shared = 0;
      for (const w of tk) if (tl.has(w)) shared++;
      const ratio = shared / tk.size;
      if (k !== l) {
        sum += ratio;
        n++;
      }
      return ratio;
    }),
  );
  const emptyConcepts = sets.filter((s) => s.size === 0).length;
  return { score: K - emptyConcepts >= 2 && n > 0 ? sum / n : NaN, matrix, emptyConcepts };
}
