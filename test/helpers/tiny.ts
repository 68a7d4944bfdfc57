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

export const TINY_ARCHS = ["llava", "qwen2vl", "idefics3"] as const;
export type TinyArch = (typeof TINY_ARCHS)[number];

/** Hash of the exporter's sources and the schema: a cached tiny bundle is rebuilt when they change. */
function exporterHash(): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) {
        if (name !== "__pycache__") walk(p);
      } else if (name.endsWith(".py")) {
        hash.update(p).update(fs.readFileSync(p));
      }
    }
  };
  walk(path.join(REPO, "exporter", "vislens_export"));
  hash.update(fs.readFileSync(path.join(REPO, "schema", "bundle-manifest.v1.schema.json")));
  return hash.digest("hex").slice(0, 16);
}

function run(args: string[]): void {
  execFileSync(PYTHON, args, { cwd: path.join(REPO, "exporter"), stdio: ["ignore", "ignore", "inherit"] });
}

/**
 * A tiny random-weight instance of a real HF architecture, exported to a bundle by the real
 * exporter, with the exporter's PyTorch reference outputs for `image` + `prompt`. Built once per
 * exporter version into .cache/ (a few seconds per architecture) and reused.
 */
export function tinyBundle(arch: TinyArch, image: string, prompt: string): { bundle: string; reference: string } {
  const key = createHash("sha256").update(exporterHash()).update(fs.readFileSync(image)).update(prompt).digest("hex").slice(0, 16);
  const root = path.join(REPO, ".cache", "tiny-bundles", `${arch}-${key}`);
  const bundle = path.join(root, "bundle");
  const reference = path.join(root, "reference");
  if (!fs.existsSync(path.join(reference, "meta.json"))) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    const hf = path.join(root, "hf");
    run(["-m", "vislens_export.tiny", arch, hf]);
    run(["-m", "vislens_export", hf, bundle, "--no-check"]);
    run(["-m", "vislens_export.reference", bundle, "--hf", hf, "--image", image, "--prompt", prompt, "--out", reference]);
  }
  return { bundle, reference };
}
