import assert from "node:assert/strict";
import { test } from "node:test";
import { ArtifactError } from "../../src/errors";
import { parseManifest } from "../../src/model/manifest";
import { sampleManifest } from "../helpers/manifest";

const FILE = "/bundles/x/manifest.json";

function parseMutated(mutate: (m: Record<string, any>) => void) {
  const m = sampleManifest() as unknown as Record<string, any>;
  mutate(m);
  return parseManifest(JSON.stringify(m), FILE);
}

function assertArtifactError(fn: () => unknown, field: string, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ArtifactError, `expected ArtifactError, got ${e}`);
    assert.equal(e.file, FILE);
    assert.equal(e.field, field);
    assert.match(e.message, pattern);
    return true;
  });
}

test("parseManifest accepts a complete v1 manifest", () => {
  const m = parseManifest(JSON.stringify(sampleManifest()), FILE);
  assert.equal(m.llm.num_layers, 2);
  assert.deepEqual(m.vision.grid, [2, 2]);
});

test("parseManifest refuses an unknown format version before checking anything else", () => {
  assertArtifactError(() => parseMutated((m) => { m.format_version = 2; m.llm = "whatever"; }), "format_version", /unknown format version 2; this vislens reads version 1/);
});

test("parseManifest refuses a file that is not a vislens bundle manifest", () => {
  assertArtifactError(() => parseMutated((m) => { m.format = "something-else"; }), "format", /not a vislens model bundle/);
  assert.throws(() => parseManifest("{not json", FILE), /manifest.json: not valid JSON/);
});

test("parseManifest names a missing field, an unknown field and a wrong value by JSON path", () => {
  assertArtifactError(() => parseMutated((m) => { delete m.llm.num_layers; }), "llm.num_layers", /required field is missing/);
  assertArtifactError(() => parseMutated((m) => { m.vision.extra = 1; }), "vision.extra", /unknown field/);
  assertArtifactError(() => parseMutated((m) => { m.vision.preprocess.resample = "lanczos"; }), "vision.preprocess.resample", /got "lanczos"/);
  assertArtifactError(() => parseMutated((m) => { m.files["llm.onnx"].sha256 = "abc"; }), "files.llm.onnx.sha256", /got "abc"/);
});

test("parseManifest checks rules across fields: grid size, {image} count, tensor names", () => {
  assertArtifactError(() => parseMutated((m) => { m.vision.num_tokens = 5; }), "vision.num_tokens", /grid 2x2: 4 visual tokens, but num_tokens is 5/);
  // A tiled image: a 1 x 1 base tile, the 2 x 2 grid and a newline per row make 1 + 2 x 3 = 7 tokens.
  const tiled = (m: Record<string, any>) => {
    m.vision.layout = { base_grid: [1, 1], newline: true };
    m.vision.preprocess.tiles = { grid: [1, 2], size: [m.vision.image_size[0], m.vision.image_size[1] / 2] };
  };
  assertArtifactError(() => parseMutated(tiled), "vision.num_tokens", /a 1x1 base tile, grid 2x2 and a newline per row: 7 visual tokens, but num_tokens is 4/);
  assert.equal(parseMutated((m) => { tiled(m); m.vision.num_tokens = 7; }).vision.num_tokens, 7);
  assertArtifactError(() => parseMutated((m) => { tiled(m); m.vision.num_tokens = 7; delete m.vision.preprocess.tiles; }), "vision.preprocess.tiles", /come together/);
  assertArtifactError(
    () => parseMutated((m) => { tiled(m); m.vision.num_tokens = 7; m.vision.preprocess.tiles = { grid: [1, 2], size: [5, 5] }; }),
    "vision.preprocess.tiles",
    /1x2 tiles of 5x5 px do not tile/,
  );
  assertArtifactError(() => parseMutated((m) => { m.prompt.template = "{image}{image}"; }), "prompt.template", /exactly once, found 2/);
  assertArtifactError(() => parseMutated((m) => { m.llm.unembedding = "missing"; }), "llm", /"missing" that is not listed in weights/);
});

test("parseManifest accepts prompt.eos_token_ids, optional, and refuses ids outside the vocabulary", () => {
  assert.equal(parseManifest(JSON.stringify(sampleManifest()), FILE).prompt.eos_token_ids, undefined, "old bundles have none");
  assert.deepEqual(parseMutated((m) => { m.prompt.eos_token_ids = [2, 7]; }).prompt.eos_token_ids, [2, 7]);
  assertArtifactError(() => parseMutated((m) => { m.prompt.eos_token_ids = [2, 20]; }), "prompt.eos_token_ids.1", /eos token id 20 is outside the vocabulary of 20/);
  assertArtifactError(() => parseMutated((m) => { m.prompt.eos_token_ids = []; }), "prompt.eos_token_ids", /must NOT have fewer than 1 items/);
  assertArtifactError(() => parseMutated((m) => { m.prompt.eos_token_ids = [1.5]; }), "prompt.eos_token_ids.0", /must be integer/);
});
