import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describeValue } from "../errors";
import { writeFileAtomic } from "../io/atomic";
import { sha256File } from "../io/sha256";
import type { Bundle } from "../model/bundle";
import { eosTokenIds, generatedText, greedyIds, resolveGenerateOptions, type StopReason } from "../model/generate";
import { prepareImageInput } from "../model/hidden";
import { cacheDir } from "../repro/fixture-grid";

/**
 * Greedy captions of many images, cached on disk so that notebooks, the CLI and tests generate each
 * image once. One cache file per (bundle fingerprint, prompt, maxNewTokens, EOS ids):
 * `<cache>/<fingerprint>/greedy-<settings hash>.json`, with one entry per image keyed by the SHA-256
 * of the image file's bytes, so any set of images (the held-out set, the concept split, a user's
 * folder) shares it and a changed image is generated again. Entries are written atomically every
 * 100 new images and at the end; an interrupted run keeps what it had written.
 */
export const GENERATION_CACHE_FORMAT = "vislens-generation-cache";

export interface CachedGeneration {
  /** Generated ids (the EOS id last when `stop` is "eos"). */
  ids: number[];
  /** The ids decoded without a final EOS. */
  text: string;
  stop: StopReason;
}

export interface GenerateImagesOptions {
  /** Text substituted for `{prompt}` (default empty: a caption). */
  prompt?: string;
  /** Most new tokens (default 50). */
  maxNewTokens?: number;
  /** Cache directory (default `<vislens cache>/generations`); false: no cache. */
  cache?: string | false;
  /** Called after each image that had to be generated (not for cache hits). */
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

interface CacheFile {
  format: typeof GENERATION_CACHE_FORMAT;
  version: 1;
  fingerprint: string;
  prompt: string;
  maxNewTokens: number;
  eosTokenIds: number[];
  entries: Record<string, { ids: number[]; stop: StopReason }>;
}

/** The default cache directory for generations. */
export function generationCacheDir(): string {
  return path.join(cacheDir(), "generations");
}

/** The cache file for a bundle and generation settings. */
export function generationCacheFile(bundle: Bundle, prompt: string, maxNewTokens: number, dir = generationCacheDir()): string {
  const eos = bundle.manifest.prompt.eos_token_ids ?? [];
  const key = createHash("sha256").update(JSON.stringify({ prompt, maxNewTokens, eos })).digest("hex").slice(0, 16);
  return path.join(dir, bundle.fingerprint, `greedy-${key}.json`);
}

function readCache(file: string): CacheFile["entries"] {
  try {
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<CacheFile>;
    if (data.format === GENERATION_CACHE_FORMAT && data.version === 1 && data.entries && typeof data.entries === "object") return data.entries;
  } catch {
    // missing or unreadable: start afresh (a cache is never the only copy of anything)
  }
  return {};
}

/**
 * Greedy generations for `files`, in order: from the cache where present, else by `greedyIds` (the
 * same decoding as `generate`).
 */
export async function generateImages(bundle: Bundle, files: readonly string[], options: GenerateImagesOptions = {}): Promise<CachedGeneration[]> {
  const prompt = options.prompt ?? "";
  if (typeof prompt !== "string") throw new TypeError(`generateImages: options.prompt must be a string, got ${describeValue(prompt)}`);
  const { maxNewTokens } = resolveGenerateOptions(bundle, { maxNewTokens: options.maxNewTokens, layers: [] });
  const eos = eosTokenIds(bundle, options.onWarning);
  const cacheFile = options.cache === false ? null : generationCacheFile(bundle, prompt, maxNewTokens, options.cache ?? generationCacheDir());
  const entries = cacheFile ? readCache(cacheFile) : {};
  const keys = files.map((f) => sha256File(f));
  const missing = keys.map((k, i) => (entries[k] ? -1 : i)).filter((i) => i >= 0);
  let unsaved = 0;
  const save = () => {
    if (!cacheFile || unsaved === 0) return;
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const merged = { ...readCache(cacheFile), ...entries };
    const data: CacheFile = { format: GENERATION_CACHE_FORMAT, version: 1, fingerprint: bundle.fingerprint, prompt, maxNewTokens, eosTokenIds: [...eos], entries: merged };
    writeFileAtomic(cacheFile, JSON.stringify(data));
    unsaved = 0;
  };
  for (const [n, i] of missing.entries()) {
    const input = await prepareImageInput(bundle, files[i], prompt);
    const { ids, stop } = await greedyIds(bundle, input, maxNewTokens, eos);
    entries[keys[i]] = { ids, stop };
    unsaved++;
    if (unsaved >= 100) save();
    options.onProgress?.(n + 1, missing.length);
  }
  save();
  return keys.map((k) => {
    const { ids, stop } = entries[k];
    return { ids: [...ids], stop, text: generatedText(bundle, ids, stop) };
  });
}
