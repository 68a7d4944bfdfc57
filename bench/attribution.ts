/**
 * Answer attribution: one full attribution (head scores of every head, layer scores, position
 * scores of the top 10 heads, decoded top positions) by vislens against the same computation in
 * PyTorch eager on the HF checkpoint (exporter/vislens_export/attribution_reference.py), in the
 * same run, on the same image and prompt; then the same with the ablation check (every patch, and
 * the 10 top heads). Prints medians and the ratio PyTorch time / vislens time.
 *
 *   node --import tsx bench/attribution.ts [--quick]
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { attributeAnswer } from "../src/attribution";
import { openBundle } from "../src/model/bundle";

const REPO = path.resolve(__dirname, "..");
const BUNDLE = path.join(REPO, "models", "shapes-llava");
const IMAGE = path.join(BUNDLE, "eval", "0000.png");
const PROMPT = "a big yellow triangle left of a small blue";
const quick = process.argv.includes("--quick");
const RUNS = quick ? 5 : 21;
/** Thread settings compared: each library's default, then one thread on both sides. */
const SETTINGS: { label: string; threads: number }[] = [
  { label: "default threads (onnxruntime's and torch's own choice)", threads: 0 },
  { label: "1 thread each", threads: 1 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function torch(ablate: boolean, threads: number): number[] {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vislens-bench-")), "torch.json");
  const args = ["-m", "vislens_export.attribution_reference", BUNDLE, "--hf", path.join(BUNDLE, "hf"), "--image", IMAGE, "--prompt", PROMPT, "--heads", "10", "--repeat", String(RUNS + 2), "--threads", String(threads), "--out", out];
  execFileSync(path.join(REPO, ".venv", "bin", "python"), ablate ? args : [...args, "--no-ablate"], { cwd: path.join(REPO, "exporter"), stdio: ["ignore", "ignore", "inherit"] });
  return (JSON.parse(fs.readFileSync(out, "utf8")) as { seconds: number[] }).seconds.slice(2); // the first two warm up
}

async function ours(ablate: boolean, threads: number): Promise<number[]> {
  const bundle = await openBundle(BUNDLE, threads ? { intraOpNumThreads: threads } : {});
  try {
    const times: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const start = process.hrtime.bigint();
      await attributeAnswer(bundle, IMAGE, { prompt: PROMPT, heads: 10, ablate });
      if (i >= 2) times.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    return times;
  } finally {
    await bundle.close();
  }
}

async function main(): Promise<void> {
  console.log(`answer attribution, shapes-llava (6 blocks x 4 heads, 64 visual tokens, ${PROMPT.split(" ").length}-word prompt), ${os.availableParallelism()} cores, median of ${RUNS}`);
  for (const { label, threads } of SETTINGS) {
    console.log(`  ${label}`);
    for (const ablate of [false, true]) {
      const a = median(await ours(ablate, threads));
      const b = median(torch(ablate, threads));
      const what = ablate ? "with the ablation check (64 patches + 10 heads)" : "scores only (all heads, top-10 position maps)";
      console.log(`    ${what}`);
      console.log(`      vislens (onnxruntime-node)      ${(a * 1000).toFixed(1).padStart(8)} ms`);
      console.log(`      PyTorch eager (same HF ckpt)    ${(b * 1000).toFixed(1).padStart(8)} ms`);
      console.log(`      ratio PyTorch / vislens         ${(b / a).toFixed(2)}x`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
