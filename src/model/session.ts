import * as ort from "onnxruntime-node";
import { ArtifactError } from "../errors";
import type { GraphSpec } from "./manifest";
import type { Tensor } from "./tensor";

/**
 * The only module that imports onnxruntime. It opens a graph, checks that its input and output
 * names are the ones the manifest promises (so a mismatched bundle fails on open with the names,
 * not mid-run inside onnxruntime), and converts between plain typed arrays and ORT tensors.
 */

export interface SessionOptions {
  /** Threads for one operator; default: onnxruntime's choice (all cores). */
  intraOpNumThreads?: number;
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
  const key = `${file}#${options.intraOpNumThreads ?? 0}`;
  return {
    async run(feeds) {
      let pending = runtimeGraphs.get(key);
      if (!pending) {
        pending = ort.InferenceSession.create(file, {
          executionProviders: ["cpu"],
          ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
        }).catch((error: Error) => {
          runtimeGraphs.delete(key);
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
    session = await ort.InferenceSession.create(file, {
      executionProviders: ["cpu"],
      ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    });
  } catch (error) {
    throw new ArtifactError(file, `onnxruntime cannot load this graph: ${(error as Error).message}`);
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
