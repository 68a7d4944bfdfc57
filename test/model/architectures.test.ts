import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { readNpy } from "../../src/io/npy";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { visionPixelValues } from "../../src/model/preprocess";
import { maxAbsDiff } from "../helpers/fixture";
import { tempDir } from "../helpers/python";
import { PROBE_PROMPT, TINY_ARCHS, tinyBundle, writeProbeImage } from "../helpers/tiny";

const IMAGE = path.join(tempDir(), "probe.png");
const PROMPT = PROBE_PROMPT;

before(async () => {
  await writeProbeImage(IMAGE);
});

for (const arch of TINY_ARCHS) {
  test(`${arch}: TypeScript preprocessing, prompt, position ids and hidden states equal the HF model's within 1e-4`, async () => {
    const { bundle: dir, reference } = tinyBundle(arch, IMAGE, PROMPT);
    const bundle = await openBundle(dir);
    try {
      const states = await imageHiddenStates(bundle, IMAGE, { prompt: PROMPT });
      const meta = JSON.parse(fs.readFileSync(path.join(reference, "meta.json"), "utf8"));
      assert.deepEqual(states.ids, JSON.parse(fs.readFileSync(path.join(reference, "input_ids.json"), "utf8")), "input ids");
      assert.deepEqual(states.imageTokenPositions, meta.image_token_positions, "visual positions");
      const pixels = readNpy(path.join(reference, "pixel_values.npy"));
      const ours = visionPixelValues(states.preprocessed);
      assert.deepEqual(ours.dims, pixels.shape, "pixel_values shape (tiles for OneVision)");
      assert.ok(maxAbsDiff(ours.data, pixels.data as Float32Array) <= 1e-5, "pixel values (Pillow-exact resize)");
      const hidden = readNpy(path.join(reference, "hidden_states.npy"));
      const [L, S, D] = hidden.shape;
      assert.deepEqual(states.hidden.shape, [L, S, D]);
      for (let l = 0; l < L; l++) {
        const diff = maxAbsDiff(states.hidden.data.subarray(l * S * D, (l + 1) * S * D), (hidden.data as Float32Array).subarray(l * S * D, (l + 1) * S * D));
        assert.ok(diff <= 1e-4, `layer ${l}: max abs diff ${diff}`);
      }
      const logits = readNpy(path.join(reference, "logits_last.npy"));
      const V = bundle.manifest.llm.vocab_size;
      assert.ok(maxAbsDiff(states.logits.data.subarray((S - 1) * V), logits.data as Float32Array) <= 1e-4, "logits");
    } finally {
      await bundle.close();
    }
  });
}

test("onevision: a tiled image's visual tokens are its base tile, then the tiled grid row by row with a newline after each row; every token has its tile, cell and box, and newlines are not patches", async () => {
  const { bundle: dir } = tinyBundle("onevision", IMAGE, PROMPT);
  const bundle = await openBundle(dir);
  try {
    const v = bundle.manifest.vision;
    assert.deepEqual([v.grid, v.layout, v.preprocess.tiles], [[8, 12], { base_grid: [4, 4], newline: true }, { grid: [2, 3], size: [16, 16] }]);
    const states = await imageHiddenStates(bundle, IMAGE, { prompt: PROMPT });
    const tokens = states.imageTokenGeometry;
    assert.equal(tokens.length, v.num_tokens);
    assert.deepEqual(
      ["base", "patch", "newline"].map((k) => tokens.filter((t) => t.kind === k).length),
      [16, 96, 8],
    );
    // Order: 16 base tokens, then each grid row's 12 patches and its newline.
    assert.ok(tokens.slice(0, 16).every((t, i) => t.kind === "base" && t.tile === 0 && t.row === Math.floor(i / 4) && t.col === i % 4));
    for (let row = 0; row < 8; row++) {
      const line = tokens.slice(16 + row * 13, 16 + (row + 1) * 13);
      assert.ok(line.slice(0, 12).every((t, col) => t.kind === "patch" && t.row === row && t.col === col && t.isPatch));
      assert.deepEqual([line[12].kind, line[12].box, line[12].isPatch], ["newline", null, false]);
    }
    // Tiles: 2 x 3 of 4 x 4 patches each, numbered 1..6 row-major after the base tile (0).
    const patch = (r: number, c: number) => tokens.find((t) => t.kind === "patch" && t.row === r && t.col === c)!;
    assert.deepEqual([patch(0, 0).tile, patch(0, 4).tile, patch(3, 11).tile, patch(4, 0).tile, patch(7, 11).tile], [1, 2, 3, 4, 6]);
    // Boxes in the original 53 x 31 probe image: the grid's last patch ends at its corner, the base
    // tile's tokens cover the whole image too.
    const { width, height } = states.preprocessed.original;
    assert.deepEqual(patch(7, 11).box!.map((x) => Math.round(x * 1e6) / 1e6), [(11 * width) / 12, (7 * height) / 8, width, height].map((x) => Math.round(x * 1e6) / 1e6));
    assert.deepEqual(tokens[15].box, [(3 * width) / 4, (3 * height) / 4, width, height]);
    // The lens-facing view is the grid: 96 patches, their positions those of the patch tokens.
    assert.equal(states.patches.length, 96);
    assert.deepEqual(states.visual.shape, [bundle.manifest.llm.num_layers + 1, 96, bundle.manifest.llm.hidden_size]);
    assert.deepEqual(states.visualPositions, tokens.filter((t) => t.isPatch).map((t) => states.imageTokenPositions[t.index]));
    // Newline tokens are one learned vector: equal rows of the vision output.
    const D = bundle.manifest.llm.hidden_size;
    const nl = tokens.filter((t) => t.kind === "newline").map((t) => Array.from(states.hidden.data.subarray(states.imageTokenPositions[t.index] * D, (states.imageTokenPositions[t.index] + 1) * D)));
    assert.ok(nl.every((row) => maxAbsDiff(Float32Array.from(row), Float32Array.from(nl[0])) === 0));
  } finally {
    await bundle.close();
  }
});
