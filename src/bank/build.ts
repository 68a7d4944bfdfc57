import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import { writeFileAtomic } from "../io/atomic";
import { npyHeader, writeNpy, type NpyDtype } from "../io/npy";
import { sha256File } from "../io/sha256";
import type { Bundle } from "../model/bundle";
import { runTextBatch, type BatchHiddenStates } from "../model/hidden";
import { buildTextPrompt } from "../model/prompt";
import { readCorpus } from "./corpus";
import { encodeRow, l2Normalise } from "./encode";
import { BANK_FILES, BANK_FORMAT_VERSION, recordPolicy, type BankDtype, type BankManifest } from "./format";
import { buildHnsw, DEFAULT_HNSW, type HnswParams, type HnswRecord } from "./hnsw";
import { defaultContextualLayers } from "./layers";
import { mapNpy } from "./mapped";
import { selectContexts, type ContextPolicy, type SelectedContext } from "./select";
import { tokenSpans } from "./spans";
import { recordBuiltFiles } from "../io/verify-record";
import { BANK_VERIFY } from "./verify";

/** The paper's context policy: reservoir sampling, at most 20 contexts per token string, seed 42. */
export const DEFAULT_POLICY: ContextPolicy = { kind: "reservoir", maxContexts: 20, seed: 42 };
export const DEFAULT_BANK_DTYPE: BankDtype = "f16";
export const DEFAULT_MAX_TOKENS = 64;

export interface BuildBankOptions {
  /** Hidden-state indices to store; default: the paper's rule (defaultContextualLayers). */
  layers?: number[];
  /** Default: reservoir sampling, at most 20 contexts per token string, seed 42 (the paper). */
  policy?: ContextPolicy;
  dtype?: BankDtype;
  /** Sentences per LLM call. Part of the build's identity: a resumed build must use the same. */
  batchSize?: number;
  /** Sentences longer than this many tokens are cut (a causal model's earlier states do not change). */
  maxTokens?: number;
  /** Also build an approximate (HNSW) index per layer and record its measured recall@5. */
  hnsw?: boolean | Partial<HnswParams>;
  onProgress?: (p: BuildProgress) => void;
  /**
   * Replaces the LLM forward pass (default: `runTextBatch` on the bundle): per sequence,
   * `[num_layers + 1, S_i, hidden_size]` float32. For benchmarks and tests of banks at widths or
   * sizes no shipped model has; not part of the build's identity, so a resumed build must pass the
   * same function.
   */
  forward?: (sequences: readonly (readonly number[])[]) => Promise<BatchHiddenStates>;
}

export interface BuildProgress {
  phase: "select" | "encode" | "index" | "finish";
  /** Batches (encode phase) or indexes (index phase) done so far and in all. */
  done: number;
  total: number;
  rows: number;
  resumed: boolean;
}

interface BuildState {
  config: string;
  batches_done: number;
}

/**
 * Builds a contextual bank: every selected token occurrence of the corpus, run through the
 * bundle's LLM in context, stored per layer as L2-normalised rows. Resumable: progress is recorded
 * after each batch (rows first, then the state file, both durable), and a re-run of the same build
 * continues from the last recorded batch, rewriting the same bytes; the finished bank is
 * byte-identical to an uninterrupted build. `bank.json` is written last, so a bank without it is
 * known to be incomplete.
 *
 * Memory does not grow with the bank: each batch's rows are encoded and written in place into the
 * preallocated layer files, then dropped. What is held for the whole build is per sentence and per
 * selected row (the tokenised corpus and the selection: tens of bytes a token, never `dim`-wide);
 * what is held per batch is the LLM's hidden states for that batch, `2 x batch x tokens x
 * hidden_size x (num_layers + 1) x 4` bytes, so lower `batchSize` for wide, deep models.
 */
export async function buildBank(bundle: Bundle, corpusFile: string, outDir: string, options: BuildBankOptions = {}): Promise<BankManifest> {
  const { manifest } = bundle;
  const layers = options.layers ?? defaultContextualLayers(manifest.llm.num_layers);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l > manifest.llm.num_layers) throw new RangeError(`layer ${l} is outside 0..${manifest.llm.num_layers}`);
  }
  const policy: ContextPolicy = options.policy ?? DEFAULT_POLICY;
  const dtype = options.dtype ?? DEFAULT_BANK_DTYPE;
  const batchSize = options.batchSize ?? 32;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const progress = options.onProgress ?? (() => {});
  const forward = options.forward ?? ((sequences: readonly (readonly number[])[]) => runTextBatch(bundle, sequences));
  const D = manifest.llm.hidden_size;

  const corpus = readCorpus(corpusFile);
  const config = createHash("sha256")
    .update(JSON.stringify({ model: bundle.fingerprint, corpus: corpus.sha256, layers, policy, dtype, batchSize, maxTokens, version: BANK_FORMAT_VERSION }))
    .digest("hex");
  const resumed = prepareOutDir(outDir, config);

  // Select rows (no model needed): tokenise, cut, choose occurrences.
  progress({ phase: "select", done: 0, total: 0, rows: 0, resumed });
  let truncated = 0;
  const sentenceIds = corpus.sentences.map((s) => {
    const ids = buildTextPrompt(manifest, bundle.tokenizer, s);
    if (ids.length <= maxTokens) return ids;
    truncated++;
    return ids.slice(0, maxTokens);
  });
  const isSpecial = (id: number) => bundle.tokenizer.isSpecial(id) || id === manifest.prompt.image_token_id || id === manifest.prompt.bos_token_id;
  const keyCache = new Map<number, string | null>();
  const tokenKey = (id: number) => {
    if (!keyCache.has(id)) keyCache.set(id, isSpecial(id) ? null : bundle.tokenizer.decode([id]).trim() || null);
    return keyCache.get(id)!;
  };
  const rows = selectContexts(sentenceIds, tokenKey, policy);
  if (rows.length === 0) throw new ArtifactError(corpusFile, "no token of the corpus could be selected for the bank (only special tokens?)");
  const R = rows.length;

  writeRowTables(outDir, rows, sentenceIds, corpus.sentences, bundle, tokenKey);
  const layerFiles = layers.map((l) => preallocate(path.join(outDir, BANK_FILES.layer(l)), dtype === "f16" ? "<f2" : "|i1", [R, D]));
  const scaleFiles = dtype === "i8" ? layers.map((l) => preallocate(path.join(outDir, BANK_FILES.layerScale(l)), "<f4", [R])) : [];

  // Batches are fixed slices of the sentences that own selected rows, so a resumed build makes
  // exactly the same LLM calls as an uninterrupted one.
  const rowsBySentence = new Map<number, SelectedContext[]>();
  rows.forEach((r) => (rowsBySentence.get(r.sentence) ?? rowsBySentence.set(r.sentence, []).get(r.sentence)!).push(r));
  const todo = [...rowsBySentence.keys()];
  const batches = Math.ceil(todo.length / batchSize);
  const statePath = path.join(outDir, BANK_FILES.buildState);
  let done = resumed ? (JSON.parse(fs.readFileSync(statePath, "utf8")) as BuildState).batches_done : 0;
  let firstRow = rows.findIndex((r) => r.sentence === todo[Math.min(done * batchSize, todo.length - 1)]);
  if (done >= batches) firstRow = R;
  progress({ phase: "encode", done, total: batches, rows: firstRow, resumed });

  try {
    for (; done < batches; done++) {
      const batch = todo.slice(done * batchSize, (done + 1) * batchSize);
      const { hidden } = await forward(batch.map((s) => sentenceIds[s]));
      const batchRows = batch.flatMap((s) => rowsBySentence.get(s)!);
      layers.forEach((layer, li) => {
        const out = dtype === "f16" ? new Uint16Array(batchRows.length * D) : new Int8Array(batchRows.length * D);
        const scales = dtype === "i8" ? new Float32Array(batchRows.length) : undefined;
        let r = 0;
        batch.forEach((s, bi) => {
          const h = hidden[bi];
          const S = h.shape[1];
          for (const row of rowsBySentence.get(s)!) {
            const where = `${corpusFile} line ${corpus.lines[s]}, token ${JSON.stringify(tokenKey(row.tokenId))} at layer ${layer}`;
            const offset = (layer * S + row.position) * D;
            encodeRow(dtype, l2Normalise(h.data.subarray(offset, offset + D), where), out, r++, scales);
          }
        });
        writeRowsAt(layerFiles[li], firstRow, out);
        if (scales) writeRowsAt(scaleFiles[li], firstRow, scales);
      });
      firstRow += batchRows.length;
      for (const f of [...layerFiles, ...scaleFiles]) fs.fdatasyncSync(f.fd);
      writeFileAtomic(statePath, JSON.stringify({ config, batches_done: done + 1 } satisfies BuildState));
      progress({ phase: "encode", done: done + 1, total: batches, rows: firstRow, resumed });
    }
  } finally {
    for (const f of [...layerFiles, ...scaleFiles]) fs.closeSync(f.fd);
  }

  let hnsw: Record<string, HnswRecord> | undefined;
  if (options.hnsw) {
    const params = { ...DEFAULT_HNSW, ...(options.hnsw === true ? {} : options.hnsw) };
    hnsw = {};
    for (const [i, layer] of layers.entries()) {
      progress({ phase: "index", done: i, total: layers.length, rows: R, resumed });
      const data = mapNpy(path.join(outDir, BANK_FILES.layer(layer))).data as Uint16Array | Int8Array;
      const scales = dtype === "i8" ? (mapNpy(path.join(outDir, BANK_FILES.layerScale(layer))).data as Float32Array) : undefined;
      hnsw[layer] = buildHnsw({ layer, dtype, rows: R, dim: D, data, ...(scales ? { scales } : {}) }, outDir, params);
    }
    progress({ phase: "index", done: layers.length, total: layers.length, rows: R, resumed });
  }

  progress({ phase: "finish", done: batches, total: batches, rows: R, resumed });
  const files: BankManifest["files"] = {};
  const hashed: Parameters<typeof recordBuiltFiles>[2] = [];
  for (const name of fs.readdirSync(outDir).sort()) {
    if (name === BANK_FILES.buildState || name === BANK_FILES.manifest || name === BANK_FILES.verified || name.startsWith(".")) continue;
    const file = path.join(outDir, name);
    const before = fs.statSync(file, { bigint: true });
    files[name] = { bytes: Number(before.size), sha256: sha256File(file) };
    hashed.push({ name, sha256: files[name].sha256, before });
  }
  const bank: BankManifest = {
    format: "vislens-bank",
    format_version: BANK_FORMAT_VERSION,
    model: { name: manifest.name, fingerprint: bundle.fingerprint, architecture: manifest.architecture, num_layers: manifest.llm.num_layers, hidden_size: D },
    layers,
    dtype,
    dim: D,
    rows: R,
    normalisation: "l2",
    policy: recordPolicy(policy),
    ...(hnsw ? { hnsw } : {}),
    corpus: { file: path.basename(corpusFile), sha256: corpus.sha256, sentences: corpus.sentences.length, blank_lines: corpus.blankLines, max_tokens: maxTokens, truncated },
    files,
  };
  writeFileAtomic(path.join(outDir, BANK_FILES.manifest), JSON.stringify(bank, null, 2) + "\n");
  // The checksums just computed, recorded so that the first open need not hash the bank again.
  recordBuiltFiles(outDir, BANK_VERIFY.format, hashed);
  fs.rmSync(statePath);
  return bank;
}

/** Creates the output directory, or decides that an interrupted build of the same bank resumes. */
function prepareOutDir(outDir: string, config: string): boolean {
  if (fs.existsSync(path.join(outDir, BANK_FILES.manifest))) {
    throw new ArtifactError(outDir, `a finished bank is already here (${BANK_FILES.manifest}); delete it or choose another output directory`);
  }
  const statePath = path.join(outDir, BANK_FILES.buildState);
  if (fs.existsSync(statePath)) {
    const state = JSON.parse(fs.readFileSync(statePath, "utf8")) as BuildState;
    if (state.config !== config) {
      throw new ArtifactError(statePath, "an interrupted build with different settings (model, corpus, layers, policy, dtype or batch size) is here; delete the directory or resume it with the same settings");
    }
    return true;
  }
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) {
    throw new ArtifactError(outDir, "the output directory is not empty and holds no bank build; choose an empty or new directory");
  }
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(statePath, JSON.stringify({ config, batches_done: 0 } satisfies BuildState));
  return false;
}

/** The per-row metadata and the sentences, deterministic from the selection (rewritten on resume). */
function writeRowTables(outDir: string, rows: SelectedContext[], sentenceIds: number[][], sentences: string[], bundle: Bundle, tokenKey: (id: number) => string | null): void {
  const R = rows.length;
  const int32 = (f: (r: SelectedContext) => number) => Int32Array.from(rows, f);
  writeNpy(path.join(outDir, BANK_FILES.tokenId), { dtype: "<i4", shape: [R], data: int32((r) => r.tokenId) });
  writeNpy(path.join(outDir, BANK_FILES.sentence), { dtype: "<i4", shape: [R], data: int32((r) => r.sentence) });
  writeNpy(path.join(outDir, BANK_FILES.position), { dtype: "<i4", shape: [R], data: int32((r) => r.position) });
  const spans = new Int32Array(R * 2);
  // Rows come sorted by sentence: one sentence's spans at a time.
  let spanSentence = -1;
  let sentenceSpans: [number, number][] = [];
  rows.forEach((r, i) => {
    if (r.sentence !== spanSentence) {
      spanSentence = r.sentence;
      sentenceSpans = tokenSpans(bundle.tokenizer, sentenceIds[r.sentence], sentences[r.sentence]);
    }
    spans.set(sentenceSpans[r.position], i * 2);
  });
  writeNpy(path.join(outDir, BANK_FILES.charSpan), { dtype: "<i4", shape: [R, 2], data: spans });
  const tokens: Record<string, string> = {};
  for (const r of rows) tokens[r.tokenId] = tokenKey(r.tokenId)!;
  writeFileAtomic(path.join(outDir, BANK_FILES.tokens), JSON.stringify(tokens));
  writeFileAtomic(path.join(outDir, BANK_FILES.sentences), sentences.join("\n") + "\n");
}

interface OpenMatrix {
  fd: number;
  dataOffset: number;
  rowBytes: number;
}

/** Writes the .npy header and sizes the file for the whole matrix (resumed builds keep the data). */
function preallocate(file: string, dtype: NpyDtype, shape: number[]): OpenMatrix {
  const header = npyHeader(dtype, shape);
  const itemSize = dtype === "<f2" ? 2 : dtype === "<f4" ? 4 : 1;
  const rowBytes = (shape[1] ?? 1) * itemSize;
  const total = header.length + shape[0] * rowBytes;
  const fd = fs.openSync(file, fs.existsSync(file) ? "r+" : "w+");
  fs.writeSync(fd, header, 0, header.length, 0);
  fs.ftruncateSync(fd, total);
  return { fd, dataOffset: header.length, rowBytes };
}

function writeRowsAt(m: OpenMatrix, firstRow: number, rows: Uint16Array | Int8Array | Float32Array): void {
  const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
  fs.writeSync(m.fd, bytes, 0, bytes.length, m.dataOffset + firstRow * m.rowBytes);
}
