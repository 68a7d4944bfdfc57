import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { cudaProviderLibrary } from "../../src/model/session";
import { FIXTURE_BUNDLE, maxAbsDiff } from "../helpers/fixture";

const IMAGE = path.join(FIXTURE_BUNDLE, "eval", "0000.png");

test("device \"cuda\": without the CUDA provider a clear error names the missing library and the install step; with it, the GPU run equals the CPU run", async () => {
  if (!fs.existsSync(cudaProviderLibrary())) {
    // The default (offline, CPU-only) install: this is what CI and a laptop see.
    await assert.rejects(openBundle(FIXTURE_BUNDLE, { device: "cuda" }), (e: Error) => {
      assert.ok(e instanceof RangeError, `expected RangeError, got ${e}`);
      assert.ok(e.message.includes(cudaProviderLibrary()), e.message);
      assert.match(e.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
      return true;
    });
    return;
  }
  // A machine where the provider was installed (docs/gpu.md): the GPU's hidden states match the CPU's.
  const cpu = await openBundle(FIXTURE_BUNDLE);
  const gpu = await openBundle(FIXTURE_BUNDLE, { device: "cuda" });
  try {
    const [a, b] = [await imageHiddenStates(cpu, IMAGE), await imageHiddenStates(gpu, IMAGE)];
    assert.ok(maxAbsDiff(a.hidden.data, b.hidden.data) <= 1e-3);
  } finally {
    await cpu.close();
    await gpu.close();
  }
});

test("an unknown device is refused by name; the CPU is the default and is recorded on the bundle", async () => {
  await assert.rejects(openBundle(FIXTURE_BUNDLE, { device: "tpu" as "cpu" }), /device must be one of cpu, cuda, got "tpu"/);
  const bundle = await openBundle(FIXTURE_BUNDLE);
  try {
    assert.equal(bundle.session.device, "cpu");
  } finally {
    await bundle.close();
  }
});
