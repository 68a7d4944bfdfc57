import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ArtifactError } from "../../src/errors";
import { readNpy } from "../../src/io/npy";
import { sha256File } from "../../src/io/sha256";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { readManifest } from "../../src/model/manifest";
import { copyBundle, FIXTURE_BUNDLE, FIXTURE_REFERENCE, maxAbsDiff } from "../helpers/fixture";
import { tempDir } from "../helpers/python";

interface ReferenceMeta {
  image: string;
  prompt: string;
  image_token_positions: number[];
}

let bundle: Bundle;
before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
});
after(async () => bundle?.close());

test("the shipped fixture's hidden states match the exporter's PyTorch reference within 1e-4 at every layer", async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8")) as ReferenceMeta;
  const ids = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "input_ids.json"), "utf8")) as number[];
  const states = await imageHiddenStates(bundle, path.join(FIXTURE_REFERENCE, meta.image), { prompt: meta.prompt });

  assert.deepEqual(states.ids, ids, "token ids");
  assert.deepEqual(states.visualPositions, meta.image_token_positions, "visual token positions");
  const pixels = readNpy(path.join(FIXTURE_REFERENCE, "pixel_values.npy"));
  assert.ok(maxAbsDiff(states.preprocessed.pixelValues, pixels.data as Float32Array) <= 1e-6, "pixel values");
  const tokens = readNpy(path.join(FIXTURE_REFERENCE, "visual_tokens.npy"));
  assert.ok(maxAbsDiff(states.visualTokens.data, tokens.data as Float32Array) <= 1e-4, "visual tokens");

  const hidden = readNpy(path.join(FIXTURE_REFERENCE, "hidden_states.npy"));
  const [L, S, D] = hidden.shape;
  assert.deepEqual(states.hidden.shape, [L, S, D]);
  assert.equal(L, bundle.manifest.llm.num_layers + 1);
  for (let l = 0; l < L; l++) {
    const ours = states.hidden.data.subarray(l * S * D, (l + 1) * S * D);
    const ref = (hidden.data as Float32Array).subarray(l * S * D, (l + 1) * S * D);
    const diff = maxAbsDiff(ours, ref);
    assert.ok(diff <= 1e-4, `layer ${l}: max abs diff ${diff}`);
  }
  const logits = readNpy(path.join(FIXTURE_REFERENCE, "logits_last.npy"));
  const V = bundle.manifest.llm.vocab_size;
  assert.ok(maxAbsDiff(states.logits.data.subarray((S - 1) * V), logits.data as Float32Array) <= 1e-4, "last-position logits");
});

test("imageHiddenStates returns [layers + 1, tokens, dim] visual states and the patch geometry of the grid", async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_REFERENCE, "meta.json"), "utf8")) as ReferenceMeta;
  const states = await imageHiddenStates(bundle, path.join(FIXTURE_REFERENCE, meta.image));
  const { num_layers, hidden_size } = bundle.manifest.llm;
  const [rows, cols] = bundle.manifest.vision.grid;
  assert.deepEqual(states.visual.shape, [num_layers + 1, rows * cols, hidden_size]);
  // layer 0 of a visual token is exactly the connector output
  assert.equal(maxAbsDiff(states.visual.data.subarray(0, rows * cols * hidden_size), states.visualTokens.data), 0);
  assert.equal(states.patches.length, rows * cols);
  const corner = states.patches[rows * cols - 1];
  assert.deepEqual([corner.row, corner.col], [rows - 1, cols - 1]);
  const { width, height } = states.preprocessed.original;
  assert.deepEqual(corner.box, [width - width / cols, height - height / rows, width, height]);
  assert.ok(states.patches.every((p) => !p.isPadding && p.coverage === 1));
  // the text tokens are the rest of the sequence, in order, with their own states
  assert.equal(states.textPositions.length + rows * cols, states.ids.length);
  assert.deepEqual(states.text.shape, [num_layers + 1, states.textPositions.length, hidden_size]);
  const S = states.ids.length;
  const last = states.textPositions[states.textPositions.length - 1];
  const lastLayer = num_layers * S * hidden_size;
  assert.deepEqual(
    Array.from(states.text.data.subarray((num_layers * states.textPositions.length + states.textPositions.length - 1) * hidden_size).slice(0, hidden_size)),
    Array.from(states.hidden.data.subarray(lastLayer + last * hidden_size, lastLayer + (last + 1) * hidden_size)),
  );
});

/** Opens a damaged copy of the fixture and checks the error names the damaged file. */
async function assertOpenFails(damage: (dir: string) => void, file: string, pattern: RegExp) {
  const dir = copyBundle(path.join(tempDir(), "bundle"));
  damage(dir);
  await assert.rejects(openBundle(dir), (e: unknown) => {
    assert.ok(e instanceof ArtifactError, `expected ArtifactError, got ${e}`);
    assert.equal(e.file, path.join(dir, file));
    assert.match(e.message, pattern);
    return true;
  });
}

function editManifest(dir: string, edit: (m: Record<string, any>) => void) {
  const file = path.join(dir, "manifest.json");
  const m = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
}

test("openBundle names a missing, truncated or modified bundle file", async () => {
  await assertOpenFails((d) => fs.rmSync(path.join(d, "llm.onnx")), "llm.onnx", /missing: the manifest lists it/);
  await assertOpenFails((d) => fs.truncateSync(path.join(d, "weights.safetensors"), 100), "weights.safetensors", /truncated: 100 bytes, the manifest records \d+/);
  await assertOpenFails(
    (d) => {
      const f = path.join(d, "vision.onnx");
      const bytes = fs.readFileSync(f);
      bytes[bytes.length >> 1] ^= 0xff;
      fs.writeFileSync(f, bytes);
    },
    "vision.onnx",
    /checksum mismatch/,
  );
  await assertOpenFails((d) => fs.rmSync(path.join(d, "manifest.json")), "manifest.json", /missing: a vislens bundle directory must contain manifest.json/);
});

test("openBundle refuses an unknown format version and a corrupt manifest", async () => {
  await assertOpenFails((d) => editManifest(d, (m) => (m.format_version = 99)), "manifest.json", /unknown format version 99/);
  await assertOpenFails((d) => fs.writeFileSync(path.join(d, "manifest.json"), "{\"format\": \"vislens-bundle\", "), "manifest.json", /not valid JSON/);
});

test("a corrupt ONNX graph with a matching checksum fails on open, naming the graph, not deep inside a run", async () => {
  await assertOpenFails(
    (d) => {
      const f = path.join(d, "llm.onnx");
      const size = fs.statSync(f).size;
      fs.writeFileSync(f, Buffer.alloc(size, 7));
      editManifest(d, (m) => (m.files["llm.onnx"].sha256 = sha256File(f)));
    },
    "llm.onnx",
    /onnxruntime cannot load this graph/,
  );
});

test("weights whose shape disagrees with the manifest are reported with both shapes", async () => {
  await assertOpenFails(
    (d) =>
      editManifest(d, (m) => {
        m.llm.hidden_size += 1;
      }),
    "weights.safetensors",
    /has shape \[\d+,\d+\], expected \[\d+,\d+\]/,
  );
});

test("checksums are verified once and recorded: a second open hashes nothing, a file modified in place (same size) is hashed again and caught", async () => {
  const dir = copyBundle(path.join(tempDir(), "bundle"));
  // The copy's files were written just now: the record leaves out files modified in the last 2 s.
  const old = new Date(Date.now() - 60_000);
  for (const name of fs.readdirSync(dir)) fs.utimesSync(path.join(dir, name), old, old);
  await new Promise((resolve) => setTimeout(resolve, 2100)); // utimes changed the ctime
  const names = Object.keys(readManifest(dir).files).sort();
  const first = await openBundle(dir);
  await first.close();
  assert.deepEqual([first.verification.hashed.sort(), first.verification.trusted, first.verification.recorded], [names, [], true]);
  const second = await openBundle(dir);
  await second.close();
  assert.deepEqual([second.verification.hashed, second.verification.trusted.sort()], [[], names]);
  const f = path.join(dir, "weights.safetensors");
  const bytes = fs.readFileSync(f);
  bytes[bytes.length - 1] ^= 1;
  fs.writeFileSync(f, bytes);
  fs.utimesSync(f, old, old); // even with its old mtime back: the ctime moved
  await assert.rejects(openBundle(dir), (e: unknown) => e instanceof ArtifactError && e.file === f && /checksum mismatch: the file was modified or is corrupt \(sha256 [0-9a-f]{64}, the manifest records [0-9a-f]{64}\)/.test(e.message));
});
