import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { ArtifactError } from "../../src/errors";
import { readNpy } from "../../src/io/npy";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { readManifest } from "../../src/model/manifest";
import { FIXTURE_BUNDLE, maxAbsDiff } from "../helpers/fixture";
import { tempDir } from "../helpers/python";
import { PROBE_PROMPT, tinyBundle, writeProbeImage } from "../helpers/tiny";

/**
 * Bundles past 2 GB and past RAM, in miniature: a tiny LLaVA exported twice by the real exporter,
 * once with `--external-data` (every graph's weights in `<graph>.data`, as above 1.5 GiB) and once
 * with `--dtype float16`, against the HF model's float32 reference. The 4.4 GB LLM graph itself is
 * exercised by exporter/tests/test_large_models.py under VISLENS_SLOW=1.
 */

const IMAGE = path.join(tempDir("vislens-large-"), "probe.png");
let EXTERNAL = "";
let HALF = "";
let REFERENCE = "";

before(async () => {
  await writeProbeImage(IMAGE);
  // The tiny LLaVA's --external-data and --dtype float16 exports, from the cache the exporter's
  // tests fill (vislens_export.tiny.cache VARIANTS), with the HF model's float32 reference.
  const external = tinyBundle("llava-external", IMAGE, PROBE_PROMPT);
  [EXTERNAL, REFERENCE] = [external.bundle, external.reference];
  HALF = tinyBundle("llava-float16", IMAGE, PROBE_PROMPT).bundle;
});

/** A copy of a bundle to damage. */
function copy(src: string): string {
  const dest = path.join(tempDir("vislens-damaged-"), "bundle");
  fs.cpSync(src, dest, { recursive: true });
  return dest;
}

/** Hidden states `[N + 1, S, D]` and last-position logits `[V]` of the probe image, and the HF reference's. */
async function run(dir: string) {
  const bundle = await openBundle(dir);
  try {
    const states = await imageHiddenStates(bundle, IMAGE, { prompt: PROBE_PROMPT });
    const V = bundle.manifest.llm.vocab_size;
    return {
      hidden: states.hidden.data,
      logits: states.logits.data.subarray(states.logits.data.length - V),
      refHidden: readNpy(path.join(REFERENCE, "hidden_states.npy")).data as Float32Array,
      refLogits: readNpy(path.join(REFERENCE, "logits_last.npy")).data as Float32Array,
    };
  } finally {
    await bundle.close();
  }
}

const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

test("a bundle with external-data graphs lists, checksums and names each data file, and runs within 1e-4 of HF", async () => {
  const manifest = readManifest(EXTERNAL);
  for (const graph of [manifest.onnx.vision, manifest.onnx.llm]) {
    assert.deepEqual(graph.external_data, [`${graph.file}.data`]);
    assert.equal(manifest.files[`${graph.file}.data`].bytes, fs.statSync(path.join(EXTERNAL, `${graph.file}.data`)).size);
  }
  const { hidden, logits, refHidden, refLogits } = await run(EXTERNAL);
  assert.ok(maxAbsDiff(hidden, refHidden) <= 1e-4, `hidden states: ${maxAbsDiff(hidden, refHidden)}`);
  assert.ok(maxAbsDiff(logits, refLogits) <= 1e-4, `logits: ${maxAbsDiff(logits, refLogits)}`);
});

test("a missing external-data file is an ArtifactError naming it and its graph", async () => {
  const dir = copy(EXTERNAL);
  fs.rmSync(path.join(dir, "llm.onnx.data"));
  await assert.rejects(openBundle(dir), (error: ArtifactError) => {
    assert.ok(error instanceof ArtifactError);
    assert.equal(error.file, path.join(dir, "llm.onnx.data"));
    assert.match(error.problem, /^missing \(the external data of llm\.onnx: its weights\): the manifest lists it/);
    return true;
  });
});

test("a truncated external-data file is named, with or without checksum verification", async () => {
  const dir = copy(EXTERNAL);
  const data = path.join(dir, "vision.onnx.data");
  const bytes = fs.statSync(data).size;
  fs.truncateSync(data, 1000);
  for (const verifyChecksums of [true, false]) {
    await assert.rejects(openBundle(dir, { verifyChecksums }), (error: ArtifactError) => {
      assert.equal(error.file, data);
      assert.equal(error.problem, `truncated (the external data of vision.onnx: its weights): 1000 bytes, the manifest records ${bytes}`);
      return true;
    });
  }
});

test("a modified external-data file fails its checksum", async () => {
  const dir = copy(EXTERNAL);
  const data = path.join(dir, "llm.onnx.data");
  const fd = fs.openSync(data, "r+");
  fs.writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, 40000);
  fs.closeSync(fd);
  await assert.rejects(openBundle(dir), /llm\.onnx\.data: checksum mismatch \(the external data of llm\.onnx: its weights\)/);
});

test("a data file the manifest does not know, when missing, is named by the error from onnxruntime", async () => {
  const dir = copy(EXTERNAL);
  const file = path.join(dir, "manifest.json");
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  delete manifest.files["llm.onnx.data"];
  delete manifest.onnx.llm.external_data;
  fs.writeFileSync(file, JSON.stringify(manifest));
  fs.rmSync(path.join(dir, "llm.onnx.data"));
  await assert.rejects(openBundle(dir), (error: ArtifactError) => {
    assert.equal(error.file, path.join(dir, "llm.onnx.data"));
    assert.match(error.problem, /^missing: the external data of llm\.onnx \(its weights\), which onnxruntime looks for beside the graph/);
    return true;
  });
});

test("external_data naming a file that files does not list is refused on open", () => {
  const dir = copy(EXTERNAL);
  const file = path.join(dir, "manifest.json");
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  delete manifest.files["llm.onnx.data"];
  fs.writeFileSync(file, JSON.stringify(manifest));
  assert.throws(() => readManifest(dir), /\(onnx\): external-data file llm\.onnx\.data of llm\.onnx is not listed in files/);
});

test("a float16 bundle runs unchanged: float16 weights widened, hidden states within 1e-2 of the float32 HF model's scale", async () => {
  const manifest = readManifest(HALF);
  assert.equal(manifest.onnx.dtype, "float16");
  assert.deepEqual(new Set(Object.values(manifest.weights).map((w) => w.dtype)), new Set(["F16"]));
  const half = await run(HALF);
  const full = await run(EXTERNAL);
  const scale = Math.max(1, maxAbs(half.refHidden));
  const cost = maxAbsDiff(half.hidden, half.refHidden);
  assert.ok(cost <= 1e-2 * scale, `float16 hidden states differ from HF float32 by ${cost} (scale ${scale})`);
  assert.ok(maxAbsDiff(half.hidden, full.hidden) > 1e-5, "the float16 bundle computes exactly like the float32 one: not float16?");
  assert.ok(maxAbsDiff(half.logits, half.refLogits) <= 1e-2 * Math.max(1, maxAbs(half.refLogits)), "logits");
});

test("bundles exported before dtype and external_data existed still open as float32", () => {
  const manifest = readManifest(FIXTURE_BUNDLE);
  assert.equal(manifest.onnx.dtype, undefined);
  assert.equal(manifest.onnx.llm.external_data, undefined);
});
