/**
 * Real-size benchmarks: a random-weight model at a published size (default SmolVLM-256M; also
 * llava-1b, a TinyLlama-1.1B-sized LLaVA with CLIP-L/336), built and exported once into
 * .cache/real-size/<model>/ (minutes), each timing printed as a ratio against PyTorch eager on the
 * same HF checkpoint in the same run (bench/torch_real_size.py):
 *   1. hidden states for one image (image file -> every layer);
 *   2. bank-build forward passes, tokens/s;
 *   3. interpret one image with all three lenses at every layer, with the lenses' own time beside
 *      the model's forward pass.
 *
 *   node --import tsx bench/real-size.ts [--model smolvlm-256m|llava-1b] [--quick]
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildBank } from "../src/bank/build";
import { readCorpus } from "../src/bank/corpus";
import { openBank } from "../src/bank/open";
import { createLenses } from "../src/lenses/create";
import { interpretImage } from "../src/lenses/interpret";
import { openBundle } from "../src/model/bundle";
import { imageHiddenStates, runTextBatch } from "../src/model/hidden";
import { buildTextPrompt } from "../src/model/prompt";

const REPO = path.resolve(__dirname, "..");
const PYTHON = path.join(REPO, ".venv", "bin", "python");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const MODEL = arg("model", "smolvlm-256m");
const quick = process.argv.includes("--quick");
const ROOT = path.join(REPO, ".cache", "real-size", MODEL);
const HF = path.join(ROOT, "hf");
const BUNDLE = path.join(ROOT, "bundle");
const IMAGE = path.join(REPO, "models", "shapes-llava", "eval", "0000.png");
const CORPUS = path.join(REPO, "models", "shapes-llava", "corpus.txt");
const SENTENCES = quick ? 64 : 256;
const BATCH = 16;
const THREADS = os.availableParallelism();
const K = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;

function python(args: string[], cwd = REPO): string {
  return execFileSync(PYTHON, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
}

function ensureModel(): void {
  if (fs.existsSync(path.join(BUNDLE, "manifest.json"))) return;
  console.log(`building a random ${MODEL} and exporting it to ${BUNDLE} (once; minutes)`);
  const exporter = path.join(REPO, "exporter");
  if (!fs.existsSync(path.join(HF, "config.json"))) python(["-m", "vislens_export.tiny", MODEL, HF], exporter);
  python(["-m", "vislens_export", HF, BUNDLE, "--no-check", "--force"], exporter);
}

async function main(): Promise<void> {
  ensureModel();
  const bundle = await openBundle(BUNDLE);
  const { num_layers: N, hidden_size: D, vocab_size: V } = bundle.manifest.llm;
  console.log(`${MODEL} (random weights, published size): ${N} layers x ${D}, vocab ${V}, ${bundle.manifest.vision.num_tokens} visual tokens; ${THREADS} threads each side`);

  // 1. Hidden states for one image.
  const repeat = quick ? 3 : 5;
  await imageHiddenStates(bundle, IMAGE); // warm-up
  const ours: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    await imageHiddenStates(bundle, IMAGE);
    ours.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  const torchHidden = JSON.parse(python([path.join(__dirname, "torch_real_size.py"), "hidden", HF, BUNDLE, IMAGE, String(THREADS), String(repeat)])) as { seconds: number[] };
  console.log(`  1. hidden states, one image:  vislens ${ms(median(ours))}, PyTorch eager ${ms(median(torchHidden.seconds))}: ${(median(torchHidden.seconds) / median(ours)).toFixed(2)}x`);

  // 2. Bank-build forward passes.
  const corpus = readCorpus(CORPUS);
  const sentences = corpus.sentences.slice(0, SENTENCES).map((s) => buildTextPrompt(bundle.manifest, bundle.tokenizer, s));
  const batches: number[][][] = [];
  for (let i = 0; i < sentences.length; i += BATCH) batches.push(sentences.slice(i, i + BATCH));
  const tokens = sentences.reduce((n, s) => n + s.length, 0);
  await runTextBatch(bundle, batches[0]); // warm-up
  let start = process.hrtime.bigint();
  for (const b of batches) await runTextBatch(bundle, b);
  const buildSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  const batchesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vislens-real-size-")), "batches.json");
  fs.writeFileSync(batchesFile, JSON.stringify(batches));
  const torchBank = JSON.parse(python([path.join(__dirname, "torch_real_size.py"), "bank", HF, BUNDLE, batchesFile, String(THREADS)])) as { tokens_per_s: number };
  const oursTps = tokens / buildSeconds;
  console.log(`  2. bank-build forward, ${SENTENCES} sentences (${tokens} tokens, batches of ${BATCH}): vislens ${oursTps.toFixed(0)} tokens/s, PyTorch eager ${torchBank.tokens_per_s.toFixed(0)} tokens/s: ${(oursTps / torchBank.tokens_per_s).toFixed(2)}x`);

  // 3. Interpret one image, three lenses, every layer.
  const bankDir = path.join(ROOT, `bank-${SENTENCES}`);
  if (!fs.existsSync(path.join(bankDir, "bank.json"))) {
    const file = path.join(path.dirname(batchesFile), "corpus.txt");
    fs.writeFileSync(file, corpus.sentences.slice(0, SENTENCES).join("\n") + "\n");
    await buildBank(bundle, file, bankDir);
  }
  const bank = openBank(bankDir, { fingerprint: bundle.fingerprint });
  const lenses = createLenses(bundle, ["latent", "embedding", "logit"], bank);
  const totals: number[] = [];
  const lensTimes: number[] = [];
  for (let i = 0; i < repeat + 1; i++) {
    start = process.hrtime.bigint();
    const states = await imageHiddenStates(bundle, IMAGE);
    const mid = process.hrtime.bigint();
    await interpretImage(states, lenses, { k: K });
    const end = process.hrtime.bigint();
    if (i === 0) continue; // warm-up
    totals.push(Number(end - start) / 1e9);
    lensTimes.push(Number(end - mid) / 1e9);
  }
  const torchInterp = JSON.parse(
    python([path.join(__dirname, "torch_real_size.py"), "interpret", HF, BUNDLE, IMAGE, String(THREADS), String(repeat), bankDir, String(K)]),
  ) as { seconds: number[]; lens_seconds: number[] };
  const [a, b] = [median(totals), median(torchInterp.seconds)];
  console.log(
    `  3. interpret one image, 3 lenses x ${N + 1} layers (bank: ${bank.manifest.rows} rows x ${bank.manifest.layers.length} layers): ` +
      `vislens ${ms(a)} (lenses ${ms(median(lensTimes))}, forward ${ms(a - median(lensTimes))}), ` +
      `PyTorch eager ${ms(b)} (lenses ${ms(median(torchInterp.lens_seconds))}): ${(b / a).toFixed(2)}x`,
  );
  await bundle.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
