import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import { openSafetensors } from "../io/safetensors";
import { sha256File } from "../io/sha256";
import { verifyFiles, type FileVerification, type VerifyTarget } from "../io/verify-record";
import { readManifest, type BundleManifest } from "./manifest";
import { lazyGraph, openGraph, type GraphSession, type SessionOptions } from "./session";
import { loadTokenizer, type TextTokenizer } from "./tokenizer";

/** The raw matrices the lenses need, as float32. Shapes: `[vocab, dim]`, `[dim]`. */
export interface BundleWeights {
  embedding: Float32Array;
  unembedding: Float32Array;
  finalNormWeight: Float32Array;
  finalNormBias?: Float32Array;
}

/** An opened, validated model bundle. Data only flows out of it; nothing calls back into it. */
export interface Bundle {
  dir: string;
  manifest: BundleManifest;
  tokenizer: TextTokenizer;
  weights: BundleWeights;
  vision: GraphSession;
  llm: GraphSession;
  /**
   * attribution.onnx (answer attribution), opened on first use; null for bundles exported without
   * it (before it existed, or with --no-attribution).
   */
  attribution: GraphSession | null;
  /** SHA-256 of manifest.json: identifies the exact model (banks record it). */
  fingerprint: string;
  /** What opening verified: files hashed now, files the verification record vouched for. */
  verification: FileVerification;
  /** Where its graphs run ("cpu" or "cuda") and with how many threads; the engine's own graphs follow it. */
  session: SessionOptions;
  close(): Promise<void>;
}

export interface OpenBundleOptions extends SessionOptions {
  /** Verify every file's SHA-256 (sizes are always checked). Default true. */
  verifyChecksums?: boolean;
}

/** " (the external data of llm.onnx: its weights)" for a graph's external-data file, else "". */
function fileRole(manifest: BundleManifest, name: string): string {
  const graphs = [manifest.onnx.vision, manifest.onnx.llm, manifest.onnx.attribution];
  const graph = graphs.find((g) => g?.external_data?.includes(name));
  return graph ? ` (the external data of ${graph.file}: its weights)` : "";
}

/** A bundle's verification record (`verified.json` beside its files, src/io/verify-record.ts). */
function bundleTarget(manifest: BundleManifest): VerifyTarget {
  return { format: "vislens-bundle-verified", owner: "the manifest", role: (name) => fileRole(manifest, name) };
}

/**
 * Checks that every file the manifest lists exists with the recorded size and (with
 * `verifyChecksums`) checksum. Checksums are verified once and recorded in `verified.json`, as for
 * banks: a later open trusts files unchanged since (same size, mtime, ctime, inode) and hashes the
 * rest, so opening a 10 GB bundle does not re-hash it every time.
 */
export function verifyBundleFiles(dir: string, manifest: BundleManifest, verifyChecksums = true): FileVerification {
  return verifyFiles(dir, manifest.files, bundleTarget(manifest), verifyChecksums ? "record" : "sizes");
}

function loadWeights(dir: string, manifest: BundleManifest): BundleWeights {
  const file = path.join(dir, "weights.safetensors");
  const st = openSafetensors(file);
  const { vocab_size: V, hidden_size: D } = manifest.llm;
  const read = (name: string, shape: number[]): Float32Array => {
    const info = st.tensors.get(name);
    if (!info) throw new ArtifactError(file, `tensor ${JSON.stringify(name)} named by the manifest is missing`);
    if (info.shape.join() !== shape.join()) {
      throw new ArtifactError(file, `tensor ${name} has shape [${info.shape}], expected [${shape}] from llm.vocab_size/hidden_size`);
    }
    return st.readFloat32(name);
  };
  const embName = manifest.llm.embedding ?? "embed_tokens";
  const embedding = read(embName, [V, D]);
  const norm = manifest.llm.final_norm;
  return {
    embedding,
    unembedding: manifest.llm.unembedding === embName ? embedding : read(manifest.llm.unembedding, [V, D]),
    finalNormWeight: read(norm.weight, [D]),
    ...(norm.bias ? { finalNormBias: read(norm.bias, [D]) } : {}),
  };
}

/**
 * Opens a bundle directory: validates the manifest against the schema, checks every file's size and
 * checksum, loads the weights and tokenizer, and opens both ONNX graphs (checking their I/O names).
 */
export async function openBundle(dir: string, options: OpenBundleOptions = {}): Promise<Bundle> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ArtifactError(dir, "not a directory: a vislens bundle is a directory with manifest.json");
  }
  const manifest = readManifest(dir);
  const verification = verifyBundleFiles(dir, manifest, options.verifyChecksums ?? true);
  const tokenizer = loadTokenizer(path.join(dir, "tokenizer.json"));
  const weights = loadWeights(dir, manifest);
  const vision = await openGraph(path.join(dir, manifest.onnx.vision.file), manifest.onnx.vision, options);
  const llm = await openGraph(path.join(dir, manifest.onnx.llm.file), manifest.onnx.llm, options);
  const spec = manifest.onnx.attribution;
  const attribution = spec ? lazyGraph(path.join(dir, spec.file), spec, options) : null;
  return {
    dir,
    manifest,
    tokenizer,
    weights,
    vision,
    llm,
    attribution,
    fingerprint: sha256File(path.join(dir, "manifest.json")),
    verification,
    session: { device: options.device ?? "cpu", ...(options.deviceId !== undefined ? { deviceId: options.deviceId } : {}), ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}) },
    async close() {
      await vision.release();
      await llm.release();
      await attribution?.release();
    },
  };
}
