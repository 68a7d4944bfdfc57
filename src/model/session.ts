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

export interface GraphSession {
  file: string;
  run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
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
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(ortFeeds);
      } catch (error) {
        const shapes = Object.entries(feeds).map(([n, f]) => `${n}[${f.dims}]`).join(", ");
        throw new ArtifactError(file, `onnxruntime failed on inputs ${shapes}: ${(error as Error).message}`);
      }
      const out: Record<string, Tensor> = {};
      for (const name of expectOut) {
        const t = results[name] as ort.Tensor;
        out[name] = { shape: [...t.dims], data: t.data as Float32Array };
      }
      return out;
    },
    release: () => session.release(),
  };
}
