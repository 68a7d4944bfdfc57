import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { VegaLiteSpec } from "../spec";
import type { Rendered } from "./svg";

/**
 * {@link renderSVG}, synchronously: Vega renders asynchronously, so the same renderer runs in a
 * worker thread while this thread blocks on an `Atomics.wait` (then reads the answer with
 * `receiveMessageOnPort`). Only for places that cannot await — a widget printed as a cell's last
 * value by tslab (`util.inspect`, see widget.ts). It costs a worker start (~0.3–1 s: Vega loads
 * again in the worker); everything else should await `renderSVG`.
 */

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { port, signal, module, spec } = workerData;
const flag = new Int32Array(signal);
// Running from TypeScript sources (the tests, under tsx): the worker needs tsx's require hook too.
if (module.endsWith(".ts")) require(require.resolve("tsx/cjs", { paths: [module] }));
Promise.resolve()
  .then(() => require(module).renderSVG(spec))
  .then(
    (r) => port.postMessage({ ok: true, svg: r.svg, warnings: r.warnings }),
    (e) => port.postMessage({ ok: false, error: String((e && e.stack) || e) }),
  )
  .finally(() => { Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); });
`;

export function renderSVGSync(spec: VegaLiteSpec, timeoutMs = 120_000): Rendered {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { port: port2, signal, module: require.resolve("./svg"), spec },
    transferList: [port2],
    stdout: false,
    stderr: false,
  });
  try {
    if (Atomics.wait(flag, 0, 0, timeoutMs) === "timed-out") {
      throw new Error(`renderSVGSync: the render worker gave no answer within ${timeoutMs} ms`);
    }
    const answer = receiveMessageOnPort(port1)?.message as { ok: true; svg: string; warnings: string[] } | { ok: false; error: string } | undefined;
    if (!answer) throw new Error("renderSVGSync: the render worker finished without an answer");
    if (!answer.ok) throw new Error(`renderSVGSync: rendering failed in the worker: ${answer.error}`);
    return { svg: answer.svg, warnings: answer.warnings };
  } finally {
    port1.close();
    void worker.terminate();
  }
}
