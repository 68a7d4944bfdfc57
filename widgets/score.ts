import type { LensName, Neighbour } from "vislens";
import { LENS_TITLES } from "./spec";

/**
 * A per-patch score: what colours a patch in the explorer and the heatmap. It sees every lens's
 * neighbour list for one layer and patch and returns a number (or undefined: no score, drawn grey).
 */
export interface PatchScore {
  /** Legend and tooltip title ("LatentLens top-1 similarity"). */
  title: string;
  of(neighbours: Partial<Record<LensName, Neighbour[]>>): number | undefined;
}

export type ScoreField = "similarity" | "logit" | "probability";

/** Default field of each lens: similarity for LatentLens and EmbeddingLens, probability for LogitLens. */
export function defaultField(lens: LensName): ScoreField {
  return lens === "logit" ? "probability" : "similarity";
}

/** The `field` of a lens's rank-`rank` neighbour (default: top-1). */
export function topScore(lens: LensName, field: ScoreField = defaultField(lens), rank = 1): PatchScore {
  if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`topScore: rank must be a positive integer, got ${rank}`);
  return {
    title: `${LENS_TITLES[lens] ?? lens} ${rank === 1 ? "top-1" : `rank-${rank}`} ${field}`,
    of(neighbours) {
      const v = neighbours[lens]?.[rank - 1]?.[field];
      return typeof v === "number" && Number.isFinite(v) ? v : undefined;
    },
  };
}

/** LatentLens top-1 similarity when LatentLens ran, else the first lens present. */
export function defaultScore(lenses: readonly LensName[]): PatchScore {
  const lens = lenses.includes("latent") ? "latent" : lenses[0];
  if (!lens) throw new RangeError("defaultScore: no lens ran");
  return topScore(lens);
}

/** A score given as a PatchScore, a lens name (its top-1 default field) or undefined (default). */
export function resolveScore(score: PatchScore | LensName | undefined, lenses: readonly LensName[]): PatchScore {
  if (score === undefined) return defaultScore(lenses);
  if (typeof score === "string") {
    if (!lenses.includes(score)) throw new RangeError(`score: lens "${score}" has no records (lenses present: ${lenses.join(", ")})`);
    return topScore(score);
  }
  if (typeof score !== "object" || typeof score.of !== "function" || typeof score.title !== "string") {
    throw new TypeError("score must be a lens name or a PatchScore {title, of(neighbours)}");
  }
  return score;
}

/**
 * The colour domain of some patch scores: min..max of the finite ones, [0, 1] when there are
 * none, and widened a hair when all are equal (a colour scale needs a non-empty domain).
 */
export class ScoreRange {
  private lo = Infinity;
  private hi = -Infinity;

  /** The value when it is a finite score (and takes it into the range), else undefined. */
  add(value: number | undefined): number | undefined {
    if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
    this.lo = Math.min(this.lo, value);
    this.hi = Math.max(this.hi, value);
    return value;
  }

  domain(): [number, number] {
    if (this.lo > this.hi) return [0, 1];
    return this.lo === this.hi ? [this.lo, this.lo + 1e-6] : [this.lo, this.hi];
  }
}
