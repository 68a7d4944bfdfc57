import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import { readNpy, type NpyDtype } from "../io/npy";
import { sha256File } from "../io/sha256";
import { BANK_FILES, readBankManifest, type BankDtype, type BankManifest } from "./format";

/** One layer's rows: `[rows, dim]` float16 bits, or int8 with a per-row scale. */
export interface BankMatrix {
  layer: number;
  dtype: BankDtype;
  rows: number;
  dim: number;
  data: Uint16Array | Int8Array;
  /** int8 only: value = q * scale[row]. */
  scales?: Float32Array;
}

/** An opened contextual bank: plain arrays, nothing that refers back to a model. */
export interface Bank {
  dir: string;
  manifest: BankManifest;
  matrices: Map<number, BankMatrix>;
  /** Per row (`[rows]`): token id, sentence index, position in the tokenised sentence. */
  tokenId: Int32Array;
  sentence: Int32Array;
  position: Int32Array;
  /** `[rows, 2]`: the token's character span in its sentence. */
  charSpan: Int32Array;
  sentences: string[];
  /** Decoded (trimmed) token string per token id present in the bank. */
  tokens: Record<string, string>;
}

export interface OpenBankOptions {
  /** Refuse the bank unless it was built by the model with this fingerprint (Bundle.fingerprint). */
  fingerprint?: string;
  /** A name for the model in the mismatch message. */
  modelName?: string;
  /** Verify every file's SHA-256 (sizes are always checked). Default true. */
  verifyChecksums?: boolean;
}

function load(dir: string, name: string, dtype: NpyDtype, shape: number[]) {
  const file = path.join(dir, name);
  const array = readNpy(file);
  if (array.dtype !== dtype || array.shape.join() !== shape.join()) {
    throw new ArtifactError(file, `holds ${array.dtype} [${array.shape}], the bank manifest implies ${dtype} [${shape}]`);
  }
  return array.data;
}

export function openBank(dir: string, options: OpenBankOptions = {}): Bank {
  const manifest = readBankManifest(dir);
  if (options.fingerprint && options.fingerprint !== manifest.model.fingerprint) {
    throw new ArtifactError(
      path.join(dir, BANK_FILES.manifest),
      `this bank was built with model "${manifest.model.name}" (fingerprint ${manifest.model.fingerprint.slice(0, 12)}…), not with ${options.modelName ? `"${options.modelName}"` : "the given model"} (fingerprint ${options.fingerprint.slice(0, 12)}…); a bank only describes the model that built it`,
      "model.fingerprint",
    );
  }
  for (const [name, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new ArtifactError(file, "missing: the bank manifest lists it");
    const size = fs.statSync(file).size;
    if (size !== expected.bytes) throw new ArtifactError(file, `${size < expected.bytes ? "truncated" : "wrong size"}: ${size} bytes, the bank manifest records ${expected.bytes}`);
    if ((options.verifyChecksums ?? true) && sha256File(file) !== expected.sha256) {
      throw new ArtifactError(file, "checksum mismatch: the file was modified or is corrupt");
    }
  }
  const { rows: R, dim: D } = manifest;
  const matrices = new Map<number, BankMatrix>();
  for (const layer of manifest.layers) {
    const data = load(dir, BANK_FILES.layer(layer), manifest.dtype === "f16" ? "<f2" : "|i1", [R, D]) as Uint16Array | Int8Array;
    const scales = manifest.dtype === "i8" ? (load(dir, BANK_FILES.layerScale(layer), "<f4", [R]) as Float32Array) : undefined;
    matrices.set(layer, { layer, dtype: manifest.dtype, rows: R, dim: D, data, ...(scales ? { scales } : {}) });
  }
  const sentencesText = fs.readFileSync(path.join(dir, BANK_FILES.sentences), "utf8");
  return {
    dir,
    manifest,
    matrices,
    tokenId: load(dir, BANK_FILES.tokenId, "<i4", [R]) as Int32Array,
    sentence: load(dir, BANK_FILES.sentence, "<i4", [R]) as Int32Array,
    position: load(dir, BANK_FILES.position, "<i4", [R]) as Int32Array,
    charSpan: load(dir, BANK_FILES.charSpan, "<i4", [R, 2]) as Int32Array,
    sentences: sentencesText.endsWith("\n") ? sentencesText.slice(0, -1).split("\n") : sentencesText.split("\n"),
    tokens: JSON.parse(fs.readFileSync(path.join(dir, BANK_FILES.tokens), "utf8")) as Record<string, string>,
  };
}
