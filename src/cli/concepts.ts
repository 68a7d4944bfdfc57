import * as fs from "node:fs";
import * as path from "node:path";
import { DICTIONARY_METHODS, isDictionaryMethodName } from "../concepts/dictionary";
import { readConceptImages } from "../concepts/images";
import { learnConcepts } from "../concepts/learn";
import { conceptSamples, type ConceptLayer } from "../concepts/samples";
import { openBundle } from "../model/bundle";
import { parse, positiveInt, UsageError } from "./args";
import { progressBar } from "./progress";

export const CONCEPTS_USAGE =
  "vislens concepts <bundle> --token <word> [--layer final-norm|0..N] [--method snmf|kmeans|pca|simple] [--k 20] [--lambda 1] [--images <dir>] [--max-images N] [--words 10] [--seed 0] [--max-new-tokens 50] [--multi-token] [--cache <dir> | --no-cache] [--json]";

function layerOption(text: string | undefined): ConceptLayer {
  if (text === undefined || text === "final-norm") return "final-norm";
  if (!/^\d+$/.test(text)) throw new UsageError(`--layer must be "final-norm" or a layer number 0..N, got ${JSON.stringify(text)}`);
  return Number(text);
}

function numberOption(name: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a non-negative ${integer ? "integer" : "number"}, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * `vislens concepts`: a concept dictionary for one word (Parekh et al. 2024) on a bundle: the
 * images whose greedy caption contains the word, their representation at the step that predicts
 * it, K concepts, each with grounding words and its top-5 images, and the words' overlap.
 */
export async function conceptsCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, {
    token: { type: "string" },
    layer: { type: "string" },
    method: { type: "string" },
    k: { type: "string" },
    lambda: { type: "string" },
    images: { type: "string" },
    "max-images": { type: "string" },
    words: { type: "string" },
    seed: { type: "string" },
    "max-new-tokens": { type: "string" },
    "multi-token": { type: "boolean" },
    cache: { type: "string" },
    "no-cache": { type: "boolean" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one bundle directory, got ${positionals.length}`);
  if (values.token === undefined) throw new UsageError("--token <word> is required");
  const method = values.method ?? "snmf";
  if (!isDictionaryMethodName(method)) throw new UsageError(`--method must be one of ${DICTIONARY_METHODS.join(", ")}, got ${JSON.stringify(method)}`);
  const layer = layerOption(values.layer);
  const k = positiveInt("k", values.k, 20);
  const lambda = numberOption("lambda", values.lambda, 1);
  const words = positiveInt("words", values.words, 10);
  const seed = numberOption("seed", values.seed, 0, true);
  const maxNewTokens = positiveInt("max-new-tokens", values["max-new-tokens"], 50);
  if (values.cache !== undefined && values["no-cache"]) throw new UsageError("--cache and --no-cache exclude each other");
  const [dir] = positionals;
  const imagesDir = values.images ?? path.join(dir, "concepts");
  if (values.images === undefined && !fs.existsSync(imagesDir)) throw new UsageError(`${dir} has no concepts/ image set; pass --images <dir> (a directory of images, with or without annotations.json)`);
  const images = readConceptImages(imagesDir, values["max-images"] !== undefined ? { limit: positiveInt("max-images", values["max-images"], 1) } : {});

  const bundle = await openBundle(dir);
  try {
    const bar = progressBar("generate");
    const start = process.hrtime.bigint();
    const samples = await conceptSamples(bundle, images, values.token, {
      layer,
      maxNewTokens,
      multiToken: values["multi-token"] ? "first-token" : "refuse",
      cache: values["no-cache"] ? false : values.cache,
      onProgress: (done, total) => bar(done, total, "images not in the cache"),
    });
    const concepts = await learnConcepts(bundle, samples, { method, k, lambda, seed, words });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    process.stderr.write(`concepts: ${samples.z.rows} samples of ${JSON.stringify(samples.token)} in ${images.length} images, ${method} with K = ${k}, ${seconds.toFixed(1)} s\n`);
    const { report, settings } = concepts.dictionary;
    if (values.json) {
      out(JSON.stringify({
        bundle: dir,
        token: samples.token,
        layer,
        method,
        k,
        lambda: settings.lambda,
        seed,
        images: imagesDir,
        samples: samples.z.rows,
        counts: samples.counts,
        overlap: concepts.overlap.score,
        empty_concepts: concepts.overlap.emptyConcepts,
        fit: { iterations: report.iterations, converged: report.converged, ...(report.objective !== undefined ? { objective: report.objective } : {}) },
        concepts: concepts.concepts.map((c) => ({ index: c.index, words: c.words, images: c.images.map((i) => ({ file: i.file, activation: i.activation })) })),
        seconds,
      }));
      return;
    }
    out(`${k} ${method} concepts of ${JSON.stringify(samples.token)} at layer ${layer}, from ${samples.z.rows} samples (${images.length} images in ${imagesDir})`);
    for (const c of concepts.concepts) {
      out(`  ${String(c.index).padStart(2)}  ${(c.words.join(" ") || "(no words)").padEnd(48)}  ${c.images.map((i) => path.basename(i.file)).join(" ")}`);
    }
    out(`overlap ${concepts.overlap.score.toFixed(3)} (mean share of a concept's words found in another's; lower = more disentangled)`);
  } finally {
    await bundle.close();
  }
}
