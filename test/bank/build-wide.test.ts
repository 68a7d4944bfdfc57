import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { buildBank } from "../../src/bank/build";
import { openBank } from "../../src/bank/open";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { seededRandom } from "../../src/util/random";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { tempDir } from "../helpers/python";
import { syntheticForward } from "./synthetic-bank";

const work = tempDir("vislens-build-wide-");
after(() => fs.rmSync(work, { recursive: true, force: true }));

// A full GC before each sample, so garbage the collector has not reached yet (the forward pass
// allocates about 20 MB of states per batch) does not count as held memory.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** What the process holds: the JS heap and every live ArrayBuffer (typed arrays), after a GC. */
function heldMemory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test("bank build at width 2048 writes each batch into the layer files and holds no layer in memory", async (t) => {
  // The fixture's tokenizer with a synthetic 2048-wide, 3-block forward pass (no shipped model is
  // that wide); every token of 5,000 random sentences is kept. bench/bank-past-ram.ts runs the same
  // at 100,000 sentences.
  const bundle = await openBundle(FIXTURE_BUNDLE);
  const D = 2048;
  const wide = { ...bundle, manifest: { ...bundle.manifest, llm: { ...bundle.manifest.llm, hidden_size: D, num_layers: 3 } } } as Bundle;
  const words = [...new Set(fs.readFileSync(path.join(FIXTURE_BUNDLE, "corpus.txt"), "utf8").split(/\s+/).filter(Boolean))];
  const random = seededRandom(3);
  const lines = Array.from({ length: 5000 }, () => Array.from({ length: 6 + Math.floor(random() * 14) }, () => words[Math.floor(random() * words.length)]).join(" "));
  const corpus = path.join(work, "corpus.txt");
  fs.writeFileSync(corpus, lines.join("\n") + "\n");
  const out = path.join(work, "bank");
  const start = heldMemory();
  let peak = start;
  try {
    const manifest = await buildBank(wide, corpus, out, {
      layers: [1, 3],
      policy: { kind: "first", maxContexts: 1_000_000 },
      forward: syntheticForward(D, 3),
      onProgress: (p) => {
        if (p.done % 8 === 0) peak = Math.max(peak, heldMemory());
      },
    });
    const layerBytes = manifest.rows * D * 2;
    assert.ok(manifest.rows > 30_000, `${manifest.rows} rows`);
    const MB = 1 << 20;
    const report = `JS heap + array buffers +${((peak - start) / MB).toFixed(0)} MB while building 2 layers of ${(layerBytes / MB).toFixed(0)} MB`;
    // Holding the rows would take both layers (f16) or twice that (float32) on top; a batch's states
    // and the per-row selection stay far below one layer.
    t.diagnostic(report);
    assert.ok(peak - start < layerBytes, report);
    const bank = openBank(out);
    assert.deepEqual(bank.verification.hashed, [], "the build recorded its checksums");
    assert.equal(bank.matrices.get(3)!.data.length, manifest.rows * D);
  } finally {
    await bundle.close();
  }
});
