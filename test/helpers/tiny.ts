import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PYTHON, REPO } from "./python";

/** The prompt of the tiny-architecture parity tests (one cached export serves all of them). */
export const PROBE_PROMPT = "a red circle above a blue square";

/**
 * The parity tests' probe image: non-square, so resizing, cropping and padding all do real work,
 * with edges and noise so that a resampling difference would show in the pixel values.
 */
export async function writeProbeImage(file: string): Promise<string> {
  const sharp = (await import("sharp")).default;
  const w = 53;
  const h = 31;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([(x * 5) % 256, y * 8, ((x ^ y) * 29) % 256], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
  return file;
}

export const TINY_ARCHS = ["llava", "qwen2vl", "qwen25vl", "idefics3", "internvl", "gemma3", "onevision"] as const;
export type TinyArch = (typeof TINY_ARCHS)[number];
/** Those exported with an attribution graph (Gemma 3 gets none: exporter/vislens_export/archs/gemma3.py). */
export const ATTRIBUTION_ARCHS = TINY_ARCHS.filter((a) => a !== "gemma3");

/**
 * A tiny random-weight instance of a real HF architecture, exported to a bundle by the real
 * exporter, with the exporter's PyTorch reference outputs for `image` + `prompt`. The checkpoint
 * and bundle come from the cache the exporter's own tests fill first (vislens_export.tiny.cache:
 * .cache/tiny-bundles, rebuilt when the exporter changes); only the reference is written here, in
 * the same Python process.
 */
/** Other cached exports of a tiny checkpoint (vislens_export.tiny.cache VARIANTS). */
export type TinyVariant = "llava-external" | "llava-float16";

export function tinyBundle(arch: TinyArch | TinyVariant, image: string, prompt: string): { bundle: string; hf: string; reference: string } {
  const key = createHash("sha256").update(fs.readFileSync(image)).update(prompt).digest("hex").slice(0, 16);
  const stdout = execFileSync(PYTHON, ["-m", "vislens_export.tiny.cache", arch, "--image", image, "--prompt", prompt, "--reference-key", key], {
    cwd: path.join(REPO, "exporter"),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = JSON.parse(stdout.trim().split("\n").pop()!) as { bundle: string; hf: string; reference: string };
  return out;
}
