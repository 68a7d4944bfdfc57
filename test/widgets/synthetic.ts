import type { ImageHiddenStates, LensName, Neighbour, PatchInterpretation } from "vislens";

/**
 * Synthetic interpretImage output and image geometry of any size, for the size budget and the
 * unit tests (no model needed). Deterministic: a small LCG drives every choice.
 */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SYLLABLES = ["ka", "lo", "mi", "ne", "tor", "shi", "va", "rum", "bel", "qui", "dra", "pen", "sto", "ex", "ium", "ol"];

/** A vocabulary of `n` distinct made-up words (2–4 syllables). */
export function vocabulary(n: number, rand: () => number): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    const len = 2 + Math.floor(rand() * 3);
    out.add(Array.from({ length: len }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join(""));
  }
  return [...out];
}

export interface SyntheticOptions {
  rows: number;
  cols: number;
  layers: number[];
  lenses?: LensName[];
  k?: number;
  /** Distinct words the neighbours draw from (a real vocabulary's worth by default). */
  words?: number;
  /** Distinct bank sentences (6–16 words each). */
  sentences?: number;
  /** Bank entries (a sentence, one of its tokens, a contextual layer) the LatentLens neighbours are drawn from. */
  entries?: number;
  seed?: number;
  /** Original image size (default: 14 px per patch, square). */
  width?: number;
  height?: number;
}

export interface Synthetic {
  states: Pick<ImageHiddenStates, "grid" | "patches" | "preprocessed">;
  records: PatchInterpretation[];
}

export function synthetic(options: SyntheticOptions): Synthetic {
  const { rows, cols, layers } = options;
  const lenses = options.lenses ?? ["latent", "embedding", "logit"];
  const k = options.k ?? 5;
  const rand = lcg(options.seed ?? 7);
  const vocab = vocabulary(options.words ?? 4000, rand);
  const sentences = Array.from({ length: options.sentences ?? 2500 }, () => {
    const n = 6 + Math.floor(rand() * 11);
    return Array.from({ length: n }, () => vocab[Math.floor(rand() * vocab.length)]).join(" ");
  });
  // A bank: entries are (sentence, token, contextual layer); neighbours are entries.
  const bank = Array.from({ length: options.entries ?? 6000 }, () => {
    const sentence = sentences[Math.floor(rand() * sentences.length)];
    const words = sentence.split(" ");
    const w = Math.floor(rand() * words.length);
    const start = words.slice(0, w).join(" ").length + (w > 0 ? 1 : 0);
    return { sentence, span: [start, start + words[w].length] as [number, number], word: words[w], layer: 1 + Math.floor(rand() * 8) };
  });
  const width = options.width ?? cols * 14;
  const height = options.height ?? rows * 14;
  const patches = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const box: [number, number, number, number] = [(col * width) / cols, (row * height) / rows, ((col + 1) * width) / cols, ((row + 1) * height) / rows];
      patches.push({ index: row * cols + col, row, col, box, coverage: 1, isPadding: false });
    }
  }
  const pre = {
    pixelValues: new Float32Array(3 * width * height).map((_, i) => Math.sin(i * 0.01)),
    width,
    height,
    original: { width, height },
    x: { scale: 1, offset: 0 },
    y: { scale: 1, offset: 0 },
  };
  const records: PatchInterpretation[] = [];
  for (const lens of lenses) {
    for (const layer of layers) {
      for (const p of patches) {
        const neighbours: Neighbour[] = [];
        let sim = 0.2 + rand() * 0.6;
        for (let r = 1; r <= k; r++) {
          const word = vocab[Math.floor(rand() * vocab.length)];
          const n: Neighbour = { rank: r, tokenId: Math.floor(rand() * 32000), token: word, word };
          if (lens === "logit") {
            n.logit = 20 * sim;
            n.probability = sim / (r + 1);
          } else {
            n.similarity = sim;
          }
          if (lens === "latent") {
            const e = bank[Math.floor(rand() * bank.length)];
            n.sentence = e.sentence;
            n.span = e.span;
            n.word = e.word;
            n.token = e.word;
            n.layer = e.layer;
          }
          if (lens === "embedding") n.layer = 0;
          neighbours.push(n);
          sim -= rand() * 0.05;
        }
        records.push({ lens, layer, patch: { index: p.index, row: p.row, col: p.col }, neighbours });
      }
    }
  }
  return { states: { grid: [rows, cols], patches, preprocessed: pre }, records };
}
