/**
 * Test usefulness of concepts on an annotated world (our stand-in for the paper's CLIPScore, which
 * needs a CLIP model): for each held-out sample, its top-1 and top-3 concepts (interpret.ts) give a
 * set of grounding words (the union over those concepts); the score is the share of those words that
 * name one of the image's objects (ConceptImage.objectWords: in the shapes world an object's colour
 * or shape word, in the open-vocabulary world a word of its name or one of its categories), averaged
 * over the held-out samples. A concept set without words scores 0 for that image.
 *
 * Baseline, as the paper's: words of random directions. `count` directions are drawn once
 * (Gaussian, seeded) in the dictionary's representation space and grounded exactly as atoms are;
 * each held-out sample gets 1 (top-1) or 3 distinct (top-3) of them at random (seeded).
 */
import type { Bundle } from "../model/bundle";
import { seededRandom } from "../util/random";
import type { Matrix } from "./dictionary";
import { textGrounding } from "./grounding";
import { interpretRepresentations, type InterpretOptions } from "./interpret";
import type { ConceptDictionary } from "./learn";
import type { ConceptLayer, ConceptSamples } from "./samples";

export interface Usefulness {
  /** Held-out samples scored (those with an annotation). */
  images: number;
  /** Mean share of the top-1 / top-3 concepts' words naming the image's objects. */
  top1: number;
  top3: number;
  /** The same with random-direction words. */
  random: { top1: number; top3: number };
  /** Per concept: held-out samples where it is the top-1 concept, their mean share, and the random words' mean share on them. */
  perConcept: { concept: number; images: number; score: number; random: number }[];
}

/** Grounding words of `count` seeded random directions in the space of `layer`. */
export async function randomDirectionWords(bundle: Bundle, layer: ConceptLayer, count: number, seed = 0, options: { words?: number; topTokens?: number } = {}): Promise<string[][]> {
  const D = bundle.manifest.llm.hidden_size;
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const directions: Matrix<Float32Array> = { rows: count, cols: D, data: Float32Array.from({ length: count * D }, normal) };
  return textGrounding(bundle, directions, layer, options);
}

function share(words: Iterable<string>, objects: Set<string>): number {
  const set = new Set(words);
  if (set.size === 0) return 0;
  let hits = 0;
  for (const w of set) if (objects.has(w)) hits++;
  return hits / set.size;
}

export interface UsefulnessOptions extends Pick<InterpretOptions, "encoder"> {
  /** Random directions' words (from `randomDirectionWords`); drawn here (K of them, seed 0) when absent. */
  randomWords?: string[][];
  /** Seed of the random choice of directions per image (default 0). */
  seed?: number;
}

/** Usefulness of `concepts` on held-out `test` samples (same token and layer; annotated images). */
export async function conceptUsefulness(bundle: Bundle, concepts: ConceptDictionary, test: ConceptSamples, options: UsefulnessOptions = {}): Promise<Usefulness> {
  if (test.layer !== concepts.layer || test.token !== concepts.token) {
    throw new RangeError(`conceptUsefulness: test samples are for ${JSON.stringify(test.token)} at layer ${test.layer}, the dictionary for ${JSON.stringify(concepts.token)} at layer ${concepts.layer}`);
  }
  const K = concepts.dictionary.k;
  const randomWords = options.randomWords ?? (await randomDirectionWords(bundle, concepts.layer, K, 0));
  if (randomWords.length < 3) throw new RangeError(`conceptUsefulness: need at least 3 random directions, got ${randomWords.length}`);
  const local = interpretRepresentations(concepts, test.z, { top: Math.min(3, K), encoder: options.encoder });
  const random = seededRandom(options.seed ?? 0);
  const pick = (n: number): number[] => {
    const chosen: number[] = [];
    while (chosen.length < n) {
      const j = Math.floor(random() * randomWords.length);
      if (!chosen.includes(j)) chosen.push(j);
    }
    return chosen;
  };
  const sums = { top1: 0, top3: 0, r1: 0, r3: 0 };
  const per = concepts.concepts.map((c) => ({ concept: c.index, images: 0, score: 0, random: 0 }));
  let images = 0;
  test.samples.forEach((s, i) => {
    if (!s.image.objectWords) return;
    images++;
    const objects = new Set(s.image.objectWords);
    const top = local[i].top;
    const s1 = share(top[0].words, objects);
    sums.top1 += s1;
    sums.top3 += share(top.slice(0, 3).flatMap((t) => t.words), objects);
    const [r] = pick(1);
    const r1 = share(randomWords[r], objects);
    sums.r1 += r1;
    sums.r3 += share(pick(3).flatMap((j) => randomWords[j]), objects);
    const p = per[top[0].concept];
    p.images++;
    p.score += s1;
    p.random += randomWords.reduce((acc, w) => acc + share(w, objects), 0) / randomWords.length;
  });
  const mean = (x: number) => (images > 0 ? x / images : NaN);
  return {
    images,
    top1: mean(sums.top1),
    top3: mean(sums.top3),
    random: { top1: mean(sums.r1), top3: mean(sums.r3) },
    perConcept: per.map((p) => ({ ...p, score: p.images ? p.score / p.images : NaN, random: p.images ? p.random / p.images : NaN })),
  };
}
