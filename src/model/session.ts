import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { ArtifactError } from "../errors";
import type { GraphSpec } from "./manifest";
import type { Tensor } from "./tensor";

/**
 * The only module that imports onnxruntime. It opens a graph, checks that its input and output
 * names are the ones the manifest promises (so a mismatched bundle fails on open with the names,
 * not mid-run inside onnxruntime), and converts between plain typed arrays and ORT tensors.
 */

/** Where a graph runs: the CPU (default), or an NVIDIA GPU through onnxruntime's CUDA execution provider. */
export const DEVICES = ["cpu", "cuda"] as const;
export type Device = (typeof DEVICES)[number];

export function isDevice(value: unknown): value is Device {
  return (DEVICES as readonly unknown[]).includes(value);
}

export interface SessionOptions {
  /** Threads for one operator; default: onnxruntime's choice (all cores). */
  intraOpNumThreads?: number;
  /**
   * "cpu" (default) or "cuda" (opt-in: needs onnxruntime-node's CUDA binaries, which the default
   * offline install leaves out; see docs/gpu.md). Operators the CUDA provider lacks fall back to the CPU.
   */
  device?: Device;
  /** The CUDA device index (default 0). */
  deviceId?: number;
}

/** The shared library of onnxruntime's CUDA execution provider, inside the onnxruntime-node package. */
export function cudaProviderLibrary(): string {
  const binding = path.dirname(require.resolve("onnxruntime-node/package.json"));
  return path.join(binding, "bin", "napi-v6", `${process.platform}`, `${process.arch}`, "libonnxruntime_providers_cuda.so");
}

/** The session options for onnxruntime: execution providers in order of preference, threads. */
function ortOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  const device = options.device ?? "cpu";
  if (!isDevice(device)) throw new RangeError(`device must be one of ${DEVICES.join(", ")}, got ${JSON.stringify(device)}`);
  let providers: ort.InferenceSession.ExecutionProviderConfig[] = ["cpu"];
  if (device === "cuda") {
    const library = cudaProviderLibrary();
    if (!fs.existsSync(library)) {
      throw new RangeError(
        `device "cuda": onnxruntime's CUDA execution provider is not installed (${library} is missing). ` +
          "The default install is CPU-only and offline; on a machine with an NVIDIA GPU, CUDA 12 and cuDNN 9, " +
          "run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (it downloads the provider), then retry (docs/gpu.md)",
      );
    }
    providers = [{ name: "cuda", deviceId: options.deviceId ?? 0 }, "cpu"];
  }
  return { executionProviders: providers, ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}) };
}

export type Feed = { type: "float32"; data: Float32Array; dims: number[] } | { type: "int64"; data: BigInt64Array; dims: number[] };

/** A typed output: float32 outputs as Tensor, int64 outputs as BigInt64Array with their dims. */
export type Int64Tensor = { shape: number[]; data: BigInt64Array };
export type Float64Tensor = { shape: number[]; data: Float64Array };

export interface GraphSession {
  file: string;
  /** Runs the graph; returns the float32 outputs named in `outputs` (default: every declared output). */
  run(feeds: Record<string, Feed>, outputs?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/**
 * A session opened on first use: bundles carry graphs (attribution.onnx) that most runs never
 * touch, and an open session holds its own copy of the weights.
 */
export function lazyGraph(file: string, spec: GraphSpec, options: SessionOptions = {}): GraphSession {
  let opened: Promise<GraphSession> | undefined;
  const open = () => (opened ??= openGraph(file, spec, options));
  return {
    file,
    run: async (feeds, outputs) => (await open()).run(feeds, outputs),
    release: async () => {
      if (opened) await (await opened).release();
      opened = undefined;
    },
  };
}

/**
 * A model-independent graph shipped with vislens (graphs/, built by
 * `python -m vislens_export.runtime_graphs`), whose inputs include int64 tensors and whose outputs
 * may be int64. Opened once per process.
 */
export interface RuntimeGraph {
  run(feeds: Record<string, Feed>): Promise<Record<string, Tensor | Int64Tensor | Float64Tensor>>;
}

const runtimeGraphs = new Map<string, Promise<ort.InferenceSession>>();

export function runtimeGraph(file: string, options: SessionOptions = {}): RuntimeGraph {
  const key = `${file}#${options.intraOpNumThreads ?? 0}#${options.device ?? "cpu"}#${options.deviceId ?? 0}`;
  return {
    async run(feeds) {
      let pending = runtimeGraphs.get(key);
      if (!pending) {
        pending = Promise.resolve()
          .then(() => ort.InferenceSession.create(file, ortOptions(options)))
          .catch((error: Error) => {
            runtimeGraphs.delete(key);
            if (error instanceof RangeError) throw error;
            throw new ArtifactError(file, `onnxruntime cannot load this vislens runtime graph: ${error.message} (rebuild it with python -m vislens_export.runtime_graphs)`);
          });
        runtimeGraphs.set(key, pending);
      }
      const session = await pending;
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
      const results = await session.run(ortFeeds);
      const out: Record<string, Tensor | Int64Tensor | Float64Tensor> = {};
      for (const name of session.outputNames) {
        const t = results[name] as ort.Tensor;
        out[name] = { shape: [...t.dims], data: t.data as Float32Array & BigInt64Array & Float64Array };
      }
      return out;
    },
  };
}

export async function openGraph(file: string, spec: GraphSpec, options: SessionOptions = {}): Promise<GraphSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, ortOptions(options));
  } catch (error) {
    if (error instanceof RangeError) throw error;
    const message = (error as Error).message;
    // A graph whose weights are in an external-data file the manifest does not list (bundles list it).
    const missing = /External data path does not exist: "([^"]+)"/.exec(message);
    if (missing) throw new ArtifactError(missing[1], `missing: the external data of ${path.basename(file)} (its weights), which onnxruntime looks for beside the graph`);
    const how = options.device === "cuda" ? ` with the CUDA execution provider (device "cuda"; see docs/gpu.md)` : "";
    throw new ArtifactError(file, `onnxruntime cannot load this graph${how}: ${message}`);
  }
  const expectIn = Object.keys(spec.inputs).sort();
  const expectOut = Object.keys(spec.outputs).sort();
  const gotIn = [...session.inputNames].sort();
  const gotOut = [...session.outputNames].sort();
  if (expectIn.join() !== gotIn.join()) {
    throw new ArtifactError(file, `graph inputs are [${gotIn}] but the manifest declares [${expectIn}]`, "onnx.inputs");
  }
  if (!expectOut.every((name) => gotOut.includes(name))) {
    throw new ArtifactError(file, `graph outputs are [${gotOut}] but the manifest declares [${expectOut}]`, "onnx.outputs");
  }
  return {
    file,
    async run(feeds, outputs = expectOut) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
      const unknown = outputs.filter((name) => !expectOut.includes(name));
      if (unknown.length) throw new RangeError(`${file}: no output named ${unknown.join(", ")}; the manifest declares [${expectOut}]`);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(ortFeeds, outputs);
      } catch (error) {
        const shapes = Object.entries(feeds).map(([n, f]) => `${n}[${f.dims}]`).join(", ");
        throw new ArtifactError(file, `onnxruntime failed on inputs ${shapes}: ${(error as Error).message}`);
      }
      const out: Record<string, Tensor> = {};
      for (const name of outputs) {
        const t = results[name] as ort.Tensor;
        out[name] = { shape: [...t.dims], data: t.data as Float32Array };
      }
      return out;
    },
    release: () => session.release(),
  };
}
