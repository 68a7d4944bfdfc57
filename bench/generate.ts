/**
 * Greedy generation throughput: generated tokens/s of vislens' `generate` (onnxruntime-node; the
 * whole sequence is recomputed at every step, no key/value cache) against the HF checkpoint's own
 * `generate` (PyTorch eager, KV cache, bench/hf_generate.py) on the same held-out fixture images, in
 * the same run, batch 1 on both sides. Prints tokens/s, ms per token by step, and the ratio.
 *
 *   node --import tsx bench/generate.ts [--quick]
 *
 * Images are decoded before the clock starts on both sides; vislens' time includes its vision
 * graph, HF's its vision tower.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openBundle } from "../src/model/bundle";
import { decodeImage, type RgbImage } from "../src/model/image";
import { generate } from "../src/model/generate";
import { prepareImageInput, runSequence } from "../src/model/hidden";

const REPO = path.resolve(__dirname, "..");
const BUNDLE = path.join(REPO, "models", "shapes-llava");
const PYTHON = process.env.VISLENS_BENCH_PYTHON ?? path.join(REPO, ".venv", "bin", "python");
const quick = process.argv.includes("--quick");
const IMAGES = quick ? 20 : 100;
const MAX_NEW = 50;
const THREADS = os.availableParallelism();

async function main(): Promise<void> {
  const bundle = await openBundle(BUNDLE, { intraOpNumThreads: THREADS });
  const files = fs.readdirSync(path.join(BUNDLE, "eval")).filter((f) => f.endsWith(".png")).sort().slice(0, IMAGES).map((f) => path.join(BUNDLE, "eval", f));
  const images: RgbImage[] = [];
  for (const f of files) images.push(await decodeImage(f));
  const runAll = async () => {
    const ids: number[][] = [];
    for (const image of images) ids.push((await generate(bundle, image, "", { maxNewTokens: MAX_NEW, layers: [] })).ids);
    return ids;
  };
  await runAll(); // warm-up
  const start = process.hrtime.bigint();
  const ours = await runAll();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const tokens = ours.reduce((n, ids) => n + ids.length, 0);
  // Cost of one step at a given sequence length: one LLM forward over the whole sequence.
  const input = await prepareImageInput(bundle, images[0], "");
  const promptLength = input.ids.length;
  const stepMs: [number, number][] = [];
  for (const extra of [0, 16, 49]) {
    const ids = [...input.ids, ...Array(extra).fill(input.ids[input.ids.length - 1])];
    await runSequence(bundle, ids, input.imageTokens, input.imageTokenPositions);
    const t = process.hrtime.bigint();
    for (let r = 0; r < 20; r++) await runSequence(bundle, ids, input.imageTokens, input.imageTokenPositions);
    stepMs.push([ids.length, Number(process.hrtime.bigint() - t) / 1e6 / 20]);
  }
  await bundle.close();

  const list = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vislens-bench-")), "images.json");
  fs.writeFileSync(list, JSON.stringify(files));
  const hf = JSON.parse(execFileSync(PYTHON, [path.join(__dirname, "hf_generate.py"), BUNDLE, path.join(BUNDLE, "hf"), list, String(THREADS), String(MAX_NEW)], { encoding: "utf8" })) as {
    tokens: number;
    seconds: number;
    tokens_per_s: number;
    ids: number[][];
  };
  const same = hf.ids.filter((ids, i) => ids.join() === ours[i].join()).length;
  const rate = tokens / seconds;
  console.log(`greedy generation, ${IMAGES} held-out fixture images, prompt ${promptLength} tokens, ${tokens} generated tokens (EOS included), batch 1, ${THREADS} threads`);
  console.log(`  vislens generate (onnxruntime-node, full recompute per step) ${rate.toFixed(0).padStart(6)} tokens/s  ${((1000 * seconds) / tokens).toFixed(2)} ms/token`);
  console.log(`  HF generate (PyTorch eager, KV cache)                     ${hf.tokens_per_s.toFixed(0).padStart(6)} tokens/s  ${((1000 * hf.seconds) / hf.tokens).toFixed(2)} ms/token`);
  console.log(`  vislens step cost by sequence length: ${stepMs.map(([n, ms]) => `${n} tokens ${ms.toFixed(2)} ms`).join(", ")}`);
  console.log(`  ratio vislens / HF ${(rate / hf.tokens_per_s).toFixed(2)}x; identical token ids on ${same}/${IMAGES} images`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
