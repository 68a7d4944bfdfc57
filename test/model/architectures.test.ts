import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { readNpy } from "../../src/io/npy";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
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
      assert.deepEqual(states.visualPositions, meta.image_token_positions, "visual positions");
      const pixels = readNpy(path.join(reference, "pixel_values.npy"));
      assert.ok(maxAbsDiff(states.preprocessed.pixelValues, pixels.data as Float32Array) <= 1e-5, "pixel values (Pillow-exact resize)");
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
