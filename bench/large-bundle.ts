/**
 * Opens a (large) bundle the way every command does and runs one image through it: the runtime side
 * of the models-past-2-GB check (exporter/tests/test_large_models.py, VISLENS_SLOW=1) and of the
 * float16-vs-float32 timing in docs/performance.md.
 *
 *   node --import tsx bench/large-bundle.ts <bundle> [--out DIR] [--repeat 3] [--threads N]
 *
 * Prints one JSON line last: the time to open (sizes and SHA-256 of every file, external data
 * included, then the sessions), the median time of the hidden states of one image (image file ->
 * every layer), and the process's peak resident memory. With --out it writes what it computed
 * (pixel_values.npy [1, 3, H, W], ids.json, hidden_states.npy [N + 1, S, D], logits_last.npy [V]) so
 * that the caller can compare them with onnxruntime in Python.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeNpy } from "../src/io/npy";
import { openBundle } from "../src/model/bundle";
import { imageHiddenStates } from "../src/model/hidden";

const REPO = path.resolve(__dirname, "..");
const IMAGE = path.join(REPO, "models", "shapes-llava", "eval", "0000.png");
const PROMPT = "What is in the image?";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || dir.startsWith("--")) throw new Error("usage: node --import tsx bench/large-bundle.ts <bundle> [--out DIR] [--repeat 3] [--threads N]");
  const out = option("out");
  const repeat = Number(option("repeat") ?? 3);
  const threads = option("threads");

  let start = process.hrtime.bigint();
  const bundle = await openBundle(dir, threads ? { intraOpNumThreads: Number(threads) } : {});
  const openSeconds = seconds(start);
  const times: number[] = [];
  let states;
  try {
    for (let i = 0; i < repeat; i++) {
      start = process.hrtime.bigint();
      states = await imageHiddenStates(bundle, IMAGE, { prompt: PROMPT });
      times.push(seconds(start));
    }
  } finally {
    await bundle.close();
  }
  const { hidden, logits, ids, preprocessed } = states!;
  if (out) {
    fs.mkdirSync(out, { recursive: true });
    writeNpy(path.join(out, "pixel_values.npy"), { dtype: "<f4", shape: [1, 3, preprocessed.height, preprocessed.width], data: new Float32Array(preprocessed.pixelValues) });
    writeNpy(path.join(out, "hidden_states.npy"), { dtype: "<f4", shape: hidden.shape, data: new Float32Array(hidden.data) });
    const V = bundle.manifest.llm.vocab_size;
    writeNpy(path.join(out, "logits_last.npy"), { dtype: "<f4", shape: [V], data: logits.data.slice(logits.data.length - V) });
    fs.writeFileSync(path.join(out, "ids.json"), JSON.stringify(ids) + "\n");
  }
  const files = bundle.manifest.files;
  console.log(
    JSON.stringify({
      bundle: dir,
      dtype: bundle.manifest.onnx.dtype ?? "float32",
      bytes: Object.values(files).reduce((sum, f) => sum + f.bytes, 0),
      open_s: Number(openSeconds.toFixed(2)),
      tokens: ids.length,
      hidden_s: times.map((t) => Number(t.toFixed(3))),
      hidden_median_s: Number(median(times).toFixed(3)),
      peak_rss_gb: Number((process.resourceUsage().maxRSS / 1e6).toFixed(2)),
    }),
  );
}

main().catch((error: Error) => {
  console.error(String(error));
  process.exit(1);
});
