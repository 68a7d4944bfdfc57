/**
 * Bank-build throughput: tokens/s of vislens running a corpus through the fixture's LLM (ONNX
 * Runtime, batches of 32, every layer's hidden states out) against PyTorch eager running the same
 * HF checkpoint over the same batches in the same run. Prints the ratio.
 *
 *   node --import tsx bench/bank-build.ts [--quick]
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readCorpus } from "../src/bank/corpus";
import { openBundle } from "../src/model/bundle";
import { runTextBatch } from "../src/model/hidden";
import { buildTextPrompt } from "../src/model/prompt";

const REPO = path.resolve(__dirname, "..");
const BUNDLE = path.join(REPO, "models", "shapes-llava");
const quick = process.argv.includes("--quick");
const BATCH = 32;
const THREADS = os.availableParallelism();

async function main(): Promise<void> {
  const bundle = await openBundle(BUNDLE, { intraOpNumThreads: THREADS });
  const corpus = readCorpus(path.join(BUNDLE, "corpus.txt"));
  const sentences = corpus.sentences.slice(0, quick ? 640 : 3200).map((s) => buildTextPrompt(bundle.manifest, bundle.tokenizer, s));
  const batches: number[][][] = [];
  for (let i = 0; i < sentences.length; i += BATCH) batches.push(sentences.slice(i, i + BATCH));
  const tokens = sentences.reduce((n, s) => n + s.length, 0);

  for (const b of batches.slice(0, 3)) await runTextBatch(bundle, b); // warm-up
  const start = process.hrtime.bigint();
  for (const b of batches) await runTextBatch(bundle, b);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await bundle.close();

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vislens-bench-")), "batches.json");
  fs.writeFileSync(file, JSON.stringify(batches));
  const torch = JSON.parse(
    execFileSync(path.join(REPO, ".venv", "bin", "python"), [path.join(__dirname, "torch_forward.py"), path.join(BUNDLE, "hf"), file, String(THREADS)], { encoding: "utf8" }),
  ) as { tokens: number; seconds: number; tokens_per_s: number };

  const ours = tokens / seconds;
  console.log(`bank build forward pass, ${sentences.length} sentences, ${tokens} tokens, batches of ${BATCH}, ${THREADS} threads`);
  console.log(`  vislens (onnxruntime-node)  ${ours.toFixed(0).padStart(8)} tokens/s`);
  console.log(`  PyTorch eager (same HF ckpt) ${torch.tokens_per_s.toFixed(0).padStart(7)} tokens/s`);
  console.log(`  ratio vislens / PyTorch     ${(ours / torch.tokens_per_s).toFixed(2)}x`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
