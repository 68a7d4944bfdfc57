/**
 * Synthetic contextual banks written straight to disk (no model): random unit rows in the bank
 * format, streamed in chunks so a bank of any size needs only a few MB of memory to write. Used by
 * the mapped-bank tests and by bench/bank-past-ram.ts.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { BANK_FILES, BANK_FORMAT_VERSION, type BankManifest } from "../../src/bank/format";
import { encodeFloat16, quantizeInt8 } from "../../src/bank/search";
import { npyHeader, type NpyDtype } from "../../src/io/npy";
import type { BatchHiddenStates } from "../../src/model/hidden";
import { seededRandom } from "../../src/util/random";

export interface SyntheticBankOptions {
  rows: number;
  dim: number;
  layers?: number[];
  dtype?: "f16" | "i8";
  seed?: number;
  /**
   * `random`: every row drawn from its own seeded stream (row r of layer l is reproducible alone:
   * syntheticRow). `tiled`: one block of 4096 random rows repeated (fast; for size and memory tests,
   * where the values do not matter). `uniform` (f16 only): every row distinct, each value one of 256
   * evenly spaced float16 values scaled so rows have norm about 1 (not exactly), drawn by xorshift
   * straight into float16 bits: fast enough for banks of tens of GB.
   */
  fill?: "random" | "tiled" | "uniform";
  /** Called after each chunk with the rows written so far over all layers (progress of big banks). */
  onChunk?: (rowsWritten: number) => void;
}

const TOKENS = 50;
const SENTENCES = 100;

/** Row r of layer `layer` of a `random` synthetic bank, as float32 before encoding (unit length). */
export function syntheticRow(seed: number, layer: number, r: number, dim: number, out = new Float32Array(dim)): Float32Array {
  const random = seededRandom((seed * 0x9e3779b1) ^ (layer * 0x85ebca6b) ^ Math.imul(r, 0xc2b2ae35) ^ r);
  let sq = 0;
  for (let p = 0; p < dim; p++) {
    const v = random() * 2 - 1;
    out[p] = v;
    sq += v * v;
  }
  const inv = 1 / Math.sqrt(sq);
  for (let p = 0; p < dim; p++) out[p] *= inv;
  return out;
}

/** Float16 bits of 256 evenly spaced values in [-sqrt(3/dim), sqrt(3/dim)] (uniform rows of norm about 1). */
function uniformTable(dim: number): Uint16Array {
  const a = Math.sqrt(3 / dim);
  return encodeFloat16(Float32Array.from({ length: 256 }, (_, i) => ((i + 0.5) / 128 - 1) * a));
}

/** Row r of layer `layer` of a `uniform` bank, as float16 bits (into `out`). */
export function uniformRow(seed: number, layer: number, r: number, dim: number, table: Uint16Array, out: Uint16Array): void {
  let x = (Math.imul(r + 1, 0x9e3779b1) ^ Math.imul(layer + 1, 0x85ebca6b) ^ Math.imul(seed, 0xc2b2ae35)) | 1;
  for (let p = 0; p < dim; p += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[p] = table[x & 255];
    out[p + 1] = table[(x >>> 8) & 255];
    out[p + 2] = table[(x >>> 16) & 255];
    out[p + 3] = table[x >>> 24];
  }
}

class HashedWriter {
  private readonly fd: number;
  private readonly hash = createHash("sha256");
  bytes = 0;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "w");
  }
  write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off);
    this.hash.update(data);
    this.bytes += data.length;
  }
  close(): { bytes: number; sha256: string } {
    fs.closeSync(this.fd);
    return { bytes: this.bytes, sha256: this.hash.digest("hex") };
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function writeNpyStreamed(file: string, dtype: NpyDtype, shape: number[], chunks: () => Iterable<ArrayBufferView>): { bytes: number; sha256: string } {
  const w = new HashedWriter(file);
  w.write(npyHeader(dtype, shape));
  for (const c of chunks()) w.write(bytesOf(c));
  return w.close();
}

/** Writes a complete synthetic bank (bank.json last) into `dir` and returns its manifest. */
export function writeSyntheticBank(dir: string, options: SyntheticBankOptions): BankManifest {
  const { rows: R, dim: D } = options;
  const layers = options.layers ?? [1, 2];
  const dtype = options.dtype ?? "f16";
  const seed = options.seed ?? 1;
  const fill = options.fill ?? "random";
  fs.mkdirSync(dir, { recursive: true });
  const files: BankManifest["files"] = {};
  const chunkRows = Math.max(1, Math.floor((fill === "uniform" ? 64 << 20 : 4 << 20) / D));
  if (fill === "uniform" && (dtype !== "f16" || D % 4 !== 0)) throw new RangeError("fill 'uniform' writes float16 rows of a dim divisible by 4");
  const table = uniformTable(D);
  let written = 0;

  for (const layer of layers) {
    const scales = dtype === "i8" ? new Float32Array(R) : undefined;
    const tile = fill === "tiled" ? new Float32Array(Math.min(R, 4096) * D) : undefined;
    if (tile) for (let r = 0; r < tile.length / D; r++) syntheticRow(seed, layer, r, D, tile.subarray(r * D, (r + 1) * D));
    const values = new Float32Array(fill === "uniform" ? 0 : chunkRows * D);
    const bits = new Uint16Array(fill === "uniform" ? chunkRows * D : 0);
    const chunks = function* () {
      for (let r0 = 0; r0 < R; r0 += chunkRows) {
        const n = Math.min(chunkRows, R - r0);
        if (fill === "uniform") {
          for (let i = 0; i < n; i++) uniformRow(seed, layer, r0 + i, D, table, bits.subarray(i * D, (i + 1) * D));
          yield bits.subarray(0, n * D);
          written += n;
          options.onChunk?.(written);
          continue;
        }
        const v = values.subarray(0, n * D);
        for (let i = 0; i < n; i++) {
          const r = r0 + i;
          if (tile) v.set(tile.subarray((r % (tile.length / D)) * D, ((r % (tile.length / D)) + 1) * D), i * D);
          else syntheticRow(seed, layer, r, D, v.subarray(i * D, (i + 1) * D));
        }
        if (dtype === "f16") {
          yield encodeFloat16(v);
        } else {
          const q = quantizeInt8(v, D);
          scales!.set(q.scales, r0);
          yield q.data;
        }
        written += n;
        options.onChunk?.(written);
      }
    };
    const name = BANK_FILES.layer(layer);
    files[name] = writeNpyStreamed(path.join(dir, name), dtype === "f16" ? "<f2" : "|i1", [R, D], chunks);
    if (scales) files[BANK_FILES.layerScale(layer)] = writeNpyStreamed(path.join(dir, BANK_FILES.layerScale(layer)), "<f4", [R], () => [scales]);
  }
  const int32 = (f: (r: number) => number, width = 1) => {
    const out = new Int32Array(R * width);
    for (let i = 0; i < out.length; i++) out[i] = f(i);
    return out;
  };
  files[BANK_FILES.tokenId] = writeNpyStreamed(path.join(dir, BANK_FILES.tokenId), "<i4", [R], () => [int32((r) => r % TOKENS)]);
  files[BANK_FILES.sentence] = writeNpyStreamed(path.join(dir, BANK_FILES.sentence), "<i4", [R], () => [int32((r) => r % SENTENCES)]);
  files[BANK_FILES.position] = writeNpyStreamed(path.join(dir, BANK_FILES.position), "<i4", [R], () => [int32(() => 1)]);
  files[BANK_FILES.charSpan] = writeNpyStreamed(path.join(dir, BANK_FILES.charSpan), "<i4", [R, 2], () => [int32((i) => (i % 2 ? 2 : 0), 2)]);
  const text = (name: string, content: string) => {
    const w = new HashedWriter(path.join(dir, name));
    w.write(Buffer.from(content));
    files[name] = w.close();
  };
  text(BANK_FILES.sentences, Array.from({ length: SENTENCES }, (_, s) => `s${s} t${s % TOKENS}`).join("\n") + "\n");
  text(BANK_FILES.tokens, JSON.stringify(Object.fromEntries(Array.from({ length: TOKENS }, (_, t) => [String(t), `t${t}`]))));
  const manifest: BankManifest = {
    format: "vislens-bank",
    format_version: BANK_FORMAT_VERSION,
    model: { name: "synthetic", fingerprint: "0".repeat(64), architecture: "none", num_layers: Math.max(...layers), hidden_size: D },
    layers,
    dtype,
    dim: D,
    rows: R,
    normalisation: "l2",
    policy: { kind: "first", max_contexts: R },
    corpus: { file: "synthetic", sha256: "0".repeat(64), sentences: SENTENCES, blank_lines: 0, max_tokens: 2, truncated: 0 },
    files: Object.fromEntries(Object.keys(files).sort().map((n) => [n, files[n]])),
  };
  fs.writeFileSync(path.join(dir, BANK_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/**
 * A deterministic stand-in for the LLM pass of a model of width `dim` with `layers` blocks (for
 * `buildBank`'s `forward` option): the state of token id t at position s of layer l is one of 1024
 * fixed random vectors, picked by (t, the previous token, s, l). Cheap, so a build of 100k sentences
 * at real width measures the build itself.
 */
export function syntheticForward(dim: number, layers: number): (seqs: readonly (readonly number[])[]) => Promise<BatchHiddenStates> {
  const T = 1024;
  const random = seededRandom(7);
  const table = Float32Array.from({ length: T * dim }, () => random() * 2 - 1);
  return async (seqs) => ({
    hidden: seqs.map((ids) => {
      const S = ids.length;
      const data = new Float32Array((layers + 1) * S * dim);
      for (let l = 0; l <= layers; l++) {
        for (let s = 0; s < S; s++) {
          const row = (ids[s] * 31 + l * 7 + s * 3 + (s > 0 ? ids[s - 1] : 0)) % T;
          data.set(table.subarray(row * dim, (row + 1) * dim), (l * S + s) * dim);
        }
      }
      return { shape: [layers + 1, S, dim], data };
    }),
  });
}
