import * as fs from "node:fs";
import * as path from "node:path";
import { ensureBank } from "../bank/ensure";
import { parseLayerList } from "../bank/layers";
import { readEvalSet, type AnyEvalSet } from "../eval/eval-set";
import { evaluateInterpretabilityRuns, mismatchedAnnotations, shapesControlJudge, shapesImages, type EvalRun, type InterpretabilityRow } from "../eval/evaluate";
import type { PatchJudge } from "../eval/judge";
import { shapesJudge } from "../eval/shapes-judge";
import { llmJudge } from "../eval/llm-judge";
import { worldControlJudge, worldImages } from "../eval/world-evaluate";
import { worldJudge } from "../eval/world-judge";
import { layerTable, summariseInterpretability, tableToCSV, writeCSV } from "../eval/tables";
import { createLenses } from "../lenses/create";
import { isLensName, LENS_NAMES, type LensName } from "../lenses/types";
import { openBundle } from "../model/bundle";
import { parse, positiveInt, UsageError } from "./args";
import { progressBar } from "./progress";
import { cacheDir } from "../repro/grid";

export const EVAL_USAGE =
  "vislens eval <bundle> [<bundle> ...] [--eval-set <dir|annotations.json> (shapes or open-vocabulary world)] [--corpus <txt>] [--banks <dir>] [--lens all|latent,embedding,logit] [--images N] [--seed 42] [--top-k 5] [--layers 0,2|all] [--control] [--judge ground-truth|llm --llm-url <base url> --llm-model <name> [--llm-key-env VAR] [--llm-cache <dir>]] [--csv <file>] [--summary-csv <file>] [--json]";


function lensList(text: string | undefined): LensName[] {
  if (text === undefined || text === "all") return [...LENS_NAMES];
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!isLensName(s)) throw new UsageError(`--lens must be latent, logit, embedding or all, got ${JSON.stringify(s)}`);
    return s;
  });
}

/**
 * An LLM judge behind an OpenAI-compatible endpoint for --judge llm (its API key is read from the
 * environment variable named by --llm-key-env, never from the command line, where it would land in
 * shell history and process lists); undefined for --judge ground-truth (the default).
 */
function chooseLlmJudge(values: { judge?: string; "llm-url"?: string; "llm-model"?: string; "llm-key-env"?: string; "llm-cache"?: string }): PatchJudge | undefined {
  const kind = values.judge ?? "ground-truth";
  if (kind === "ground-truth") return undefined;
  if (kind !== "llm") throw new UsageError(`--judge must be ground-truth or llm, got ${JSON.stringify(kind)}`);
  if (!values["llm-url"]) throw new UsageError("--judge llm needs --llm-url <base url>, e.g. http://127.0.0.1:8000/v1");
  if (!values["llm-model"]) throw new UsageError("--judge llm needs --llm-model <name>");
  return llmJudge({
    baseUrl: values["llm-url"],
    model: values["llm-model"],
    cacheDir: values["llm-cache"] ?? path.join(cacheDir(), "judge"),
    ...(values["llm-key-env"] ? { apiKeyEnv: values["llm-key-env"] } : {}),
  });
}

/**
 * The evaluations to run on the first `count` images: the LLM judge, or the eval set's world's
 * ground-truth judge on each image's own annotation and, with `control`, its chance control (the
 * same words judged against another image's annotation).
 */
function evalRuns(evalSet: AnyEvalSet, count: number, llm: PatchJudge | undefined, control: boolean): EvalRun[] {
  if (control && llm) throw new UsageError("--control judges against another image's annotations: it needs --judge ground-truth");
  if (evalSet.kind === "world") {
    const set = { ...evalSet.set, annotations: evalSet.set.annotations.slice(0, count) };
    const runs: EvalRun[] = [{ judge: llm ?? worldJudge(set), images: worldImages(set) }];
    if (control) runs.push({ judge: worldControlJudge(set), images: worldImages(set) });
    return runs;
  }
  const annotations = evalSet.set.annotations.slice(0, count);
  const runs: EvalRun[] = [{ judge: llm ?? shapesJudge(), images: shapesImages(annotations, evalSet.set.dir) }];
  if (control) runs.push({ judge: shapesControlJudge(), images: shapesImages(annotations, evalSet.set.dir, mismatchedAnnotations(annotations)) });
  return runs;
}

/** A bundle's corpus for its bank: --corpus, or the bundle's own corpus.txt. */
function corpusFor(bundleDir: string, corpus: string | undefined): string {
  if (corpus) return corpus;
  const own = path.join(bundleDir, "corpus.txt");
  if (!fs.existsSync(own)) throw new UsageError(`${bundleDir} has no corpus.txt for its LatentLens bank; pass --corpus <txt> (the fixture grid shares models/shapes-llava/corpus.txt)`);
  return own;
}

/**
 * `vislens eval`: % of interpretable visual tokens by model × lens × layer on an annotated set of
 * the shapes world or the open-vocabulary world (its annotations say which), with that world's
 * ground-truth judge (the paper's Fig. 3), printed as a per-layer table and a
 * per-model summary; --csv writes the full rows. Banks are built (once) into the cache as needed.
 */
export async function evalCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, {
    "eval-set": { type: "string" },
    corpus: { type: "string" },
    banks: { type: "string" },
    lens: { type: "string" },
    images: { type: "string" },
    seed: { type: "string" },
    "top-k": { type: "string" },
    layers: { type: "string" },
    control: { type: "boolean" },
    judge: { type: "string" },
    "llm-url": { type: "string" },
    "llm-model": { type: "string" },
    "llm-key-env": { type: "string" },
    "llm-cache": { type: "string" },
    csv: { type: "string" },
    "summary-csv": { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length === 0) throw new UsageError("expected at least one bundle directory");
  const lensNames = lensList(values.lens);
  const k = positiveInt("top-k", values["top-k"], 5);
  const seedText = values.seed ?? "42";
  if (!/^\d+$/.test(seedText)) throw new UsageError(`--seed must be a non-negative integer, got ${JSON.stringify(seedText)}`);
  const seed = Number(seedText);
  const evalSet = readEvalSet(values["eval-set"] ?? path.join(positionals[0], "eval"));
  const available = evalSet.set.annotations.length;
  const count = Math.min(positiveInt("images", values.images, available), available);
  const runs = evalRuns(evalSet, count, chooseLlmJudge(values), values.control === true);
  const corpora = positionals.map((dir) => (lensNames.includes("latent") ? corpusFor(dir, values.corpus) : undefined));

  const bar = progressBar("eval");
  const total = positionals.length * count;
  let done = 0;
  const rows: InterpretabilityRow[] = [];
  for (const [m, dir] of positionals.entries()) {
    const bundle = await openBundle(dir);
    try {
      let layers: number[] | undefined;
      try {
        layers = values.layers && values.layers !== "all" ? parseLayerList(values.layers, bundle.manifest.llm.num_layers) : undefined;
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const bank = corpora[m] ? (await ensureBank(bundle, corpora[m]!, path.join(values.banks ?? path.join(cacheDir(), "banks"), bundle.manifest.name))).bank : undefined;
      const lenses = createLenses(bundle, lensNames, bank);
      // Every judge of the run list reads the same words: each image runs through the model once.
      const base = done;
      const perRun = await evaluateInterpretabilityRuns(bundle, lenses, runs, {
        k,
        seed,
        ...(layers ? { layers } : {}),
        onProgress: (i) => bar((done = base + i), total, bundle.manifest.name),
      });
      rows.push(...perRun.flat());
    } finally {
      await bundle.close();
    }
  }
  const summary = summariseInterpretability(rows);
  if (values.csv) writeCSV(rows as unknown as Record<string, unknown>[], values.csv);
  if (values["summary-csv"]) writeCSV(summary as unknown as Record<string, unknown>[], values["summary-csv"]);
  if (values.json) {
    out(JSON.stringify({ images: count, k, seed, eval_set: evalSet.set.dir, world: evalSet.kind, rows, summary }));
    return;
  }
  out(`% of ${count} sampled patches (one per image) with a top-${k} word the judge accepts, by layer:`);
  for (const judge of runs.map((r) => r.judge.name)) {
    const part = rows.filter((r) => r.judge === judge);
    out(`\n[${judge}]\n${tableToCSV(layerTable(part)).trimEnd().replace(/,/g, "\t")}`);
  }
  out(`\nsummary (mean over layers):\n${tableToCSV(summary as unknown as Record<string, unknown>[]).trimEnd().replace(/,/g, "\t")}`);
  for (const f of [values.csv, values["summary-csv"]]) if (f) out(`wrote ${f}`);
}
