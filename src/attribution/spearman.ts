/** Ranks 1..n of `values`, ties sharing the mean of their ranks (as scipy.stats.rankdata "average"). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = rank;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation of two equally long series (Pearson's correlation of their average
 * ranks, as scipy.stats.spearmanr). NaN when either series is constant or shorter than 2; a
 * non-finite value is refused.
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: the series have ${a.length} and ${b.length} values`);
  for (const [name, s] of [["first", a], ["second", b]] as const) {
    for (let i = 0; i < s.length; i++) if (!Number.isFinite(s[i])) throw new RangeError(`spearman: the ${name} series has a non-finite value (${s[i]}) at ${i}`);
  }
  const n = a.length;
  if (n < 2) return Number.NaN;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - mean;
    const db = rb[i] - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? Number.NaN : sab / Math.sqrt(saa * sbb);
}
