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

/** Files under `dir` ending in `.py` (not in __pycache__), as path parts relative to it. */
function pythonFiles(dir: string, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (entry.name !== "__pycache__") out.push(...pythonFiles(path.join(dir, entry.name), [...prefix, entry.name]));
    } else if (entry.name.endsWith(".py")) out.push([...prefix, entry.name]);
  }
  return out;
}

/** Path parts compared as Python compares PurePosixPath objects: part by part. */
function compareParts(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

/**
 * vislens_export.tiny.cache.exporter_key, in TypeScript: the SHA-256 (16 hex digits) of the
 * exporter's Python sources and the bundle schema, which names the cache's entries. Lets the tests
 * find an entry already built without starting Python (test/model/tiny-cache.test.ts checks that
 * it equals Python's).
 */
export function exporterKey(): string {
  const pkg = path.join(REPO, "exporter", "vislens_export");
  const h = createHash("sha256");
  for (const parts of pythonFiles(pkg).sort(compareParts)) {
    h.update(parts.join("/"));
    h.update(fs.readFileSync(path.join(pkg, ...parts)));
  }
  h.update(fs.readFileSync(path.join(REPO, "schema", "bundle-manifest.v1.schema.json")));
  return h.digest("hex").slice(0, 16);
}

/** The cache entry's paths when it and the reference are complete on disk (else null: ask Python). */
function cachedOnDisk(arch: string, referenceKey: string): { bundle: string; hf: string; reference: string } | null {
  const root = path.join(REPO, ".cache", "tiny-bundles");
  const key = exporterKey();
  const entry = (name: string) => path.join(root, `${name}-${key}`);
  const base = arch.split("-")[0];
  const hf = base === "llava" ? path.join(entry(base), "bundle", "hf") : path.join(entry(base), "hf");
  const out = { bundle: path.join(entry(arch), "bundle"), hf, reference: path.join(entry(arch), "references", referenceKey) };
  const done = [path.join(entry(arch), "complete"), path.join(entry(base), "complete"), path.join(out.reference, "meta.json")];
  return done.every((f) => fs.existsSync(f)) ? out : null;
}

export function tinyBundle(arch: TinyArch | TinyVariant, image: string, prompt: string): { bundle: string; hf: string; reference: string } {
  const key = createHash("sha256").update(fs.readFileSync(image)).update(prompt).digest("hex").slice(0, 16);
  const found = cachedOnDisk(arch, key);
  if (found) return found;
  const stdout = execFileSync(PYTHON, ["-m", "vislens_export.tiny.cache", arch, "--image", image, "--prompt", prompt, "--reference-key", key], {
    cwd: path.join(REPO, "exporter"),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = JSON.parse(stdout.trim().split("\n").pop()!) as { bundle: string; hf: string; reference: string };
  return out;
}
