import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { kernelDisplayWriter, publishDisplayData, type DisplayContent } from "../../widgets/render/kernel";
import { VEGALITE_MIME, VEGALITE_SCHEMA } from "../../widgets/spec";
import { createWidget, NOT_IN_KERNEL } from "../../widgets/widget";
import { assertWellFormedSVG } from "./check";
import { Kernel, type Message } from "./jupyter-client";

/**
 * The display bridge: one display_data message carrying the whole bundle. First against a stand-in
 * for tslab's writer, then in a real tslab kernel driven over ZeroMQ the way Jupyter does.
 */
const REPO = path.resolve(__dirname, "..", "..");
const spec = { $schema: VEGALITE_SCHEMA, data: { values: [{ a: 1, b: 2 }] }, mark: "point", encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } } };

describe("display bridge, in this process", () => {
  it("finds no kernel outside tslab; show() prints the summary and says nothing was displayed", async () => {
    assert.equal(kernelDisplayWriter(), undefined);
    const w = createWidget({ spec, summary: "one point" });
    const chunks: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
    try {
      await w.show();
    } finally {
      process.stdout.write = write;
    }
    assert.equal(chunks.join(""), `one point\n${NOT_IN_KERNEL}\n`);
  });

  it("sends one display_data with every MIME type through tslab's writer", async () => {
    // tslab keeps the executing cell's writer in tslab/dist/jupyter.js's exports; a stand-in module
    // registered under such a path is found the same way.
    const sent: [DisplayContent, boolean][] = [];
    const fake = path.join(REPO, "node_modules", "fake-kernel", "node_modules", "tslab", "dist", "jupyter.js");
    const mod = { id: fake, filename: fake, loaded: true, exports: { lastWriteDisplayData: (c: DisplayContent, u: boolean) => sent.push([c, u]) } };
    require.cache[fake] = mod as unknown as NodeJS.Module;
    try {
      const w = createWidget({ spec, summary: "one point" });
      await w.show();
      assert.equal(sent.length, 1);
      const [content, update] = sent[0];
      assert.equal(update, false);
      assert.deepEqual(Object.keys(content.data).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
      assert.equal(content.data[VEGALITE_MIME], spec);
      assertWellFormedSVG(content.data["image/svg+xml"] as string);
      assert.equal(content.data["text/plain"], "one point");
      assert.deepEqual(content.metadata, {});
      assert.equal(publishDisplayData({ "text/plain": "x" }, null), false);
      assert.equal(publishDisplayData({ "text/plain": "x" }), true);
      assert.equal(sent.length, 2);
    } finally {
      delete require.cache[fake];
    }
  });
});

describe("display bridge, in a real tslab kernel", { timeout: 180_000 }, () => {
  const kernel = new Kernel();
  const out = path.join(REPO, ".cache", `widgets-kernel-test-${process.pid}`);
  const lib = path.join(out, "widgets", "index.js");

  before(async () => {
    // The widgets as the kernel loads them: compiled JavaScript (bootstrap puts it in dist/widgets;
    // here a private copy inside the checkout, so node_modules resolves and dist is left alone).
    fs.rmSync(out, { recursive: true, force: true });
    execFileSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", path.join(REPO, "widgets/tsconfig.json"), "--outDir", path.join(out, "widgets"), "--sourceMap", "false"], { stdio: "pipe" });
    assert.ok(fs.existsSync(lib), `compiling the widgets did not produce ${lib}`);
    const t0 = performance.now();
    await kernel.start([process.execPath, path.join(REPO, "node_modules/tslab/bin/tslab"), "kernel", "--config-path", "{connection_file}"], REPO, out);
    console.log(`kernel: compiled and started in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  after(async () => {
    await kernel.stop();
    fs.rmSync(out, { recursive: true, force: true });
  });

  const displays = (outputs: Message[]) => outputs.filter((m) => m.header.msg_type === "display_data");
  const errors = (outputs: Message[]) => outputs.filter((m) => m.header.msg_type === "error" || (m.header.msg_type === "stream" && m.content.name === "stderr"));

  it("await w.show() sends exactly one display_data with vega-lite, SVG and text", async () => {
    const t0 = performance.now();
    const r = await kernel.execute(
      `const W = require(${JSON.stringify(lib)});\n` +
        `const w = W.lensCurves([0, 1, 2].map((layer) => ({ model: "m", lens: "latent", layer, value: layer / 4 })), { metric: "% interpretable" });\n` +
        `await w.show();`,
    );
    assert.equal(r.reply.content.status, "ok", `cell failed: ${JSON.stringify(r.outputs.map((m) => m.content))}\n${kernel.log}`);
    assert.deepEqual(errors(r.outputs), []);
    const shown = displays(r.outputs);
    assert.equal(shown.length, 1, `display_data messages: ${shown.length}`);
    const data = shown[0].content.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(data).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
    assert.equal((data[VEGALITE_MIME] as { $schema: string }).$schema, VEGALITE_SCHEMA);
    assertWellFormedSVG(data["image/svg+xml"] as string);
    assert.match(data["text/plain"] as string, /^Lens curves: % interpretable by layer/);
    console.log(`kernel: first widget cell ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it("a widget as a cell's last value displays its bundle (tslab prints it with util.inspect)", async () => {
    // A new widget, so its SVG is rendered right there, synchronously, in a worker thread.
    const t0 = performance.now();
    const r = await kernel.execute(`W.layerAlignmentHeatmap({ visualLayers: [0, 1], contextualLayers: [0, 2], shares: [[0.75, 0.25], [0.1, 0.9]], counts: [4, 10] })`);
    console.log(`kernel: last-value display ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(r.reply.content.status, "ok");
    assert.deepEqual(errors(r.outputs), []);
    const shown = displays(r.outputs);
    assert.equal(shown.length, 1);
    const data = shown[0].content.data as Record<string, string>;
    assert.deepEqual(Object.keys(data).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
    assertWellFormedSVG(data["image/svg+xml"]);
    assert.ok(data["image/svg+xml"].includes(">75%</text>"), "the SVG shows the shares");
    assert.match(data["text/plain"], /^Layer alignment: 2 visual x 2 contextual layers/);
    // What console.log printed for the value: nothing but its line break.
    const text = r.outputs.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    assert.equal(text.trim(), "");
  });

  it("nested in another value, a widget prints its summary instead", async () => {
    const r = await kernel.execute("[w.summary.length > 0, w]");
    assert.deepEqual(displays(r.outputs), []);
    const text = r.outputs.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    assert.match(text, /Widget: Lens curves/);
  });

  it("tslab's TypeScript 5.0 type-checks a cell against the widgets' declarations", async () => {
    const rel = "./" + path.relative(REPO, path.join(out, "widgets", "index")).split(path.sep).join("/");
    const ok = await kernel.execute(`import { lensCurves as curves } from ${JSON.stringify(rel)};\nconst c = curves([{ model: "m", lens: "logit", layer: 0, value: 1 }]);\nc.summary.length`);
    assert.equal(ok.reply.content.status, "ok", `cell failed: ${JSON.stringify(ok.outputs.map((m) => m.content))}`);
    const bad = await kernel.execute(`import { lensCurves as curves2 } from ${JSON.stringify(rel)};\ncurves2([{ model: "m", lens: "logit", layer: "zero", value: 1 }]);`);
    // tslab drops requests for ~200 ms after an error.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(bad.reply.content.status, "error");
    const text = bad.outputs.map((m) => JSON.stringify(m.content)).join("\n");
    assert.match(text, /Type 'string' is not assignable to type 'number'/);
  });

  it("a table widget adds text/html to the same single message", async () => {
    const r = await kernel.execute(`await W.dataFrameView([{ layer: 0, share: 0.25 }, { layer: 1, share: 0.5 }]).show();`);
    assert.equal(r.reply.content.status, "ok");
    const shown = displays(r.outputs);
    assert.equal(shown.length, 1);
    assert.deepEqual(Object.keys(shown[0].content.data as object).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/html", "text/plain"]);
  });
});
