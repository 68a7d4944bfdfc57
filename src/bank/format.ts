import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError, describeValue } from "../errors";
import type { HnswRecord } from "./hnsw";
import type { ContextPolicy } from "./select";

/**
 * The context policy as recorded in bank.json (snake_case, like every other field there). Banks
 * built by vislens record `reservoir` or `first`; a bank imported from another tool's index
 * records `imported`: the rows are the ones that tool selected (`selection`: `first-unique-prefix`
 * for latentlens's `build_index`, `reservoir` for the paper's extraction script), under the cap
 * `max_contexts` when the index recorded it or the importer was told (null otherwise).
 */
export type RecordedPolicy =
  | { kind: "reservoir"; max_contexts: number; seed: number }
  | { kind: "first"; max_contexts: number }
  | { kind: "imported"; source: "latentlens"; selection: "first-unique-prefix" | "reservoir"; max_contexts: number | null };

/**
 * Where an imported bank came from (`python -m vislens_export.import_latentlens`, docs/bank-format.md
 * "Importing a latentlens index"). Absent from banks that vislens built.
 */
export interface ImportRecord {
  from: "latentlens";
  /** `package`: ContextualIndex.save (the published indices); `research`: the paper's extract_embeddings.py. */
  layout: "package" | "research";
  /** The index directory's name. */
  index: string;
  /** The index's metadata.json, verbatim; null when it had none (its layer directories were read). */
  metadata: Record<string, unknown> | null;
  /** The source files read (paths relative to the index): size, SHA-256, and for layer caches their tensor dtype and whether the rows were already unit length. */
  files: Record<string, { bytes: number; sha256: string; dtype?: string; unit_rows?: boolean }>;
  /** Rows in the index, and those left out because their token is special (BOS, EOS, the image placeholder...). */
  source_rows: number;
  dropped_special_rows: number;
  /** How the captions were tokenised for the row checks and the character spans: `bundle-prompt` (BOS as the bundle's manifest says) or `tokenizer` (tokenizer.json's own special tokens, as transformers adds them). */
  sequence: "bundle-prompt" | "tokenizer";
  /** Captions whose line breaks became spaces in sentences.txt (offsets unchanged). */
  line_breaks_replaced: number;
  /** The most rows any token string (decoded, trimmed) has. */
  max_rows_per_token_string: number;
  importer: string;
}

export function recordPolicy(p: ContextPolicy): RecordedPolicy {
  return p.kind === "reservoir" ? { kind: "reservoir", max_contexts: p.maxContexts, seed: p.seed } : { kind: "first", max_contexts: p.maxContexts };
}

/**
 * The contextual bank on disk, format version 1 (docs/bank-format.md). JSON plus raw little-endian
 * arrays in NumPy .npy files, so `numpy.load(..., mmap_mode="r")` reads every matrix directly.
 */

export const BANK_FORMAT_VERSION = 1;
export const BANK_DTYPES = ["f16", "i8"] as const;
export type BankDtype = (typeof BANK_DTYPES)[number];

export function isBankDtype(value: string): value is BankDtype {
  return (BANK_DTYPES as readonly string[]).includes(value);
}

export interface BankManifest {
  format: "vislens-bank";
  format_version: 1;
  /** The model bundle whose LLM produced the rows; a bank is only meaningful with that model. */
  model: { name: string; fingerprint: string; architecture: string; num_layers: number; hidden_size: number };
  /** Hidden-state indices stored (0 = input embeddings, i = output of block i). */
  layers: number[];
  dtype: BankDtype;
  dim: number;
  rows: number;
  /** Rows are divided by their L2 norm before storage, so inner product = cosine. */
  normalisation: "l2";
  policy: RecordedPolicy;
  corpus: { file: string; sha256: string; sentences: number; blank_lines: number; max_tokens: number; truncated: number };
  /** Only in a bank imported from a latentlens index: its provenance. */
  imported?: ImportRecord;
  /** Approximate indexes, by layer, with the recall@k measured when each was built. */
  hnsw?: Record<string, HnswRecord>;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** File names inside a bank directory. */
export const BANK_FILES = {
  manifest: "bank.json",
  buildState: "build-state.json",
  /** The verification record (src/bank/verify.ts): not listed in bank.json, rewritten as files are verified. */
  verified: "verified.json",
  sentences: "sentences.txt",
  tokens: "tokens.json",
  tokenId: "rows.token_id.npy",
  sentence: "rows.sentence.npy",
  position: "rows.position.npy",
  charSpan: "rows.char_span.npy",
  layer: (layer: number) => `layer_${String(layer).padStart(2, "0")}.npy`,
  layerScale: (layer: number) => `layer_${String(layer).padStart(2, "0")}.scale.npy`,
} as const;

export function readBankManifest(dir: string): BankManifest {
  const file = path.join(dir, BANK_FILES.manifest);
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      const building = fs.existsSync(path.join(dir, BANK_FILES.buildState));
      throw new ArtifactError(file, building ? "missing: the bank build did not finish; re-run the same build command to resume it" : "missing: not a vislens bank directory");
    }
    throw new ArtifactError(file, `cannot read bank manifest: ${(error as Error).message}`);
  }
  if (data.format !== "vislens-bank") throw new ArtifactError(file, `expected "vislens-bank", got ${describeValue(data.format)}`, "format");
  if (data.format_version !== BANK_FORMAT_VERSION) {
    throw new ArtifactError(file, `unknown format version ${describeValue(data.format_version)}; this vislens reads version ${BANK_FORMAT_VERSION}`, "format_version");
  }
  const m = data as unknown as BankManifest;
  const need = <T>(value: T, field: string, ok: (v: T) => boolean, expected: string) => {
    if (!ok(value)) throw new ArtifactError(file, `expected ${expected}, got ${describeValue(value)}`, field);
  };
  need(m.layers, "layers", (v) => Array.isArray(v) && v.length > 0 && v.every((l) => Number.isInteger(l) && l >= 0), "a non-empty list of layer indices");
  need(m.dtype, "dtype", (v) => typeof v === "string" && isBankDtype(v), `one of ${BANK_DTYPES.join(", ")}`);
  need(m.dim, "dim", (v) => Number.isInteger(v) && v > 0, "a positive integer");
  need(m.rows, "rows", (v) => Number.isInteger(v) && v > 0, "a positive integer");
  need(m.model?.fingerprint, "model.fingerprint", (v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v), "a SHA-256 hex string");
  need(m.files, "files", (v) => typeof v === "object" && v !== null, "an object");
  return m;
}
