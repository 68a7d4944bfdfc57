import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import { readNpy, type NpyArray, type NpyDtype } from "../io/npy";
import { BANK_FILES, readBankManifest, type BankDtype, type BankManifest } from "./format";
import { mapNpy, mapNpySegments, MAX_SEGMENT_BYTES, type MapAdvice } from "./mapped";
import { verifyBankFiles, type BankVerification } from "./verify";

/** Rows [row0, row0 + rows) of a layer: `data` `[rows, dim]`, int8 with `scales` `[rows]`. */
export interface BankSegment {
  row0: number;
  rows: number;
  data: Uint16Array | Int8Array;
  scales?: Float32Array;
}

/**
 * One layer's rows: `[rows, dim]` float16 bits, or int8 with a per-row scale. In a bank opened
 * with `map: true` (the default) the arrays are views of the memory-mapped layer files: read-only
 * by convention, never copied into the JS heap.
 */
export interface BankMatrix {
  layer: number;
  dtype: BankDtype;
  rows: number;
  dim: number;
  /**
   * The rows as consecutive segments of whole rows, each one typed array of at most 2 GiB (Node 20
   * caps a typed array at 2^32 elements): one segment for every layer up to 2 GiB. Search them
   * with `searchSegments(queries, matrix, options)`.
   */
  segments: BankSegment[];
  /**
   * The whole `[rows, dim]` matrix as one typed array. Only a one-segment layer has it: reading
   * it on a larger layer throws a RangeError that points to `segments`.
   */
  data: Uint16Array | Int8Array;
  /** int8 only: value = q * scale[row], `[rows]`. */
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
  /** True when the `.npy` arrays are memory-mapped views of the files, false when read into memory. */
  mapped: boolean;
  /** What opening verified: files hashed now, files the verification record vouched for. */
  verification: BankVerification;
}

export interface OpenBankOptions {
  /** Refuse the bank unless it was built by the model with this fingerprint (Bundle.fingerprint). */
  fingerprint?: string;
  /** A name for the model in the mismatch message. */
  modelName?: string;
  /**
   * Verify every file's SHA-256 against bank.json (sizes are always checked). Default true: files
   * that `verified.json` vouches for (unchanged since they were verified) are trusted, the others
   * hashed and recorded. False: sizes only.
   */
  verifyChecksums?: boolean;
  /**
   * Memory-map the `.npy` arrays (default true; needs the native addon): opening reads nothing and
   * the bank may be larger than RAM. False reads them into memory, for file systems that cannot
   * map files.
   */
  map?: boolean;
  /**
   * madvise hint for the mapped layer matrices. Default "sequential": a search streams every row
   * once, and with this hint the kernel reclaims the scanned pages first when memory runs short
   * (on a bank past RAM the read rate held at about 1 GB/s with it and fell to 0.16 GB/s with
   * "normal": docs/performance.md, "Banks past RAM"). Pages stay cached while memory allows.
   */
  advice?: MapAdvice;
  /** Largest segment of a mapped layer in bytes (default and maximum 2 GiB; smaller in tests). */
  maxSegmentBytes?: number;
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
  const verification = verifyBankFiles(dir, manifest, (options.verifyChecksums ?? true) ? "record" : "sizes");
  const mapped = options.map ?? true;
  const load = (name: string, dtype: NpyDtype, shape: number[]) => {
    const file = path.join(dir, name);
    const array: NpyArray = mapped ? mapNpy(file) : readNpy(file);
    if (array.dtype !== dtype || array.shape.join() !== shape.join()) {
      throw new ArtifactError(file, `holds ${array.dtype} [${array.shape}], the bank manifest implies ${dtype} [${shape}]`);
    }
    return array.data;
  };
  const { rows: R, dim: D } = manifest;
  const matrices = new Map<number, BankMatrix>();
  for (const layer of manifest.layers) {
    const name = BANK_FILES.layer(layer);
    const dtype = manifest.dtype === "f16" ? "<f2" : "|i1";
    const scales = manifest.dtype === "i8" ? (load(BANK_FILES.layerScale(layer), "<f4", [R]) as Float32Array) : undefined;
    let segments: BankSegment[];
    if (mapped) {
      const file = path.join(dir, name);
      const m = mapNpySegments(file, { maxSegmentBytes: options.maxSegmentBytes ?? MAX_SEGMENT_BYTES, advice: options.advice ?? "sequential" });
      if (m.dtype !== dtype || m.shape.join() !== [R, D].join()) throw new ArtifactError(file, `holds ${m.dtype} [${m.shape}], the bank manifest implies ${dtype} [${[R, D]}]`);
      segments = m.segments.map((s) => ({ row0: s.row0, rows: s.rows, data: s.data as Uint16Array | Int8Array, ...(scales ? { scales: scales.subarray(s.row0, s.row0 + s.rows) } : {}) }));
    } else {
      segments = [{ row0: 0, rows: R, data: load(name, dtype, [R, D]) as Uint16Array | Int8Array, ...(scales ? { scales } : {}) }];
    }
    matrices.set(layer, layerMatrix(path.join(dir, name), layer, manifest.dtype, R, D, segments, scales));
  }
  const sentencesText = fs.readFileSync(path.join(dir, BANK_FILES.sentences), "utf8");
  return {
    dir,
    manifest,
    matrices,
    tokenId: load(BANK_FILES.tokenId, "<i4", [R]) as Int32Array,
    sentence: load(BANK_FILES.sentence, "<i4", [R]) as Int32Array,
    position: load(BANK_FILES.position, "<i4", [R]) as Int32Array,
    charSpan: load(BANK_FILES.charSpan, "<i4", [R, 2]) as Int32Array,
    sentences: sentencesText.endsWith("\n") ? sentencesText.slice(0, -1).split("\n") : sentencesText.split("\n"),
    tokens: JSON.parse(fs.readFileSync(path.join(dir, BANK_FILES.tokens), "utf8")) as Record<string, string>,
    mapped,
    verification,
  };
}

function layerMatrix(file: string, layer: number, dtype: BankDtype, rows: number, dim: number, segments: BankSegment[], scales: Float32Array | undefined): BankMatrix {
  const base = { layer, dtype, rows, dim, segments, ...(scales ? { scales } : {}) };
  if (segments.length === 1) return { ...base, data: segments[0].data };
  return Object.defineProperty(base, "data", {
    enumerable: true,
    get(): never {
      throw new RangeError(`${file}: layer ${layer} is ${rows} x ${dim} (${segments.length} segments), more than one typed array can view; use matrix.segments (searchSegments searches them)`);
    },
  }) as BankMatrix;
}

/**
 * Hashes every file of the bank against bank.json (whatever the verification record says) and
 * rewrites the record: `vislens bank verify`. Throws ArtifactError naming the first missing,
 * truncated or modified file (after hashing all of them; the message counts the others).
 */
export function verifyBank(dir: string): { manifest: BankManifest; verification: BankVerification; bytes: number } {
  const manifest = readBankManifest(dir);
  const verification = verifyBankFiles(dir, manifest, "all");
  const bytes = Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);
  return { manifest, verification, bytes };
}
