import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { openBundle } from "../../src/model/bundle";
import { imageHiddenStates } from "../../src/model/hidden";
import { REPO } from "../helpers/python";

/** The fixture grid (scripts/train-grid.sh): 2 language models x 2 vision towers. */
const GRID = [
  { name: "shapes-llava", layers: 6, vision: "contrastive" },
  { name: "shapes-lm6-patchcls", layers: 6, vision: "patchcls" },
  { name: "shapes-lm8-clip", layers: 8, vision: "contrastive" },
  { name: "shapes-lm8-patchcls", layers: 8, vision: "patchcls" },
];
const IMAGE = path.join(REPO, "models", "shapes-llava", "eval", "0003.png");

for (const model of GRID) {
  test(`grid model ${model.name} opens, verifies, and gives [${model.layers + 1}, 64, dim] visual states`, async () => {
    const dir = path.join(REPO, "models", model.name);
    const bundle = await openBundle(dir);
    try {
      assert.equal(bundle.manifest.llm.num_layers, model.layers);
      // The exporter ran HF vs ONNX on random inputs before shipping; its record must be tight.
      const check = bundle.manifest.source!.check as { max_abs_diff: Record<string, number> };
      for (const [what, diff] of Object.entries(check.max_abs_diff)) assert.ok(diff <= 1e-4, `${what}: ${diff}`);
      const states = await imageHiddenStates(bundle, IMAGE);
      assert.deepEqual(states.visual.shape, [model.layers + 1, 64, bundle.manifest.llm.hidden_size]);
      assert.ok(states.visual.data.every(Number.isFinite));
      const metrics = JSON.parse(fs.readFileSync(path.join(dir, "eval", "metrics.json"), "utf8"));
      assert.equal(metrics.heldout.images, 250, "evaluated on the shared held-out set");
      const config = JSON.parse(fs.readFileSync(path.join(dir, "hf", "config.json"), "utf8"));
      assert.equal(config.text_config.num_hidden_layers, model.layers);
    } finally {
      await bundle.close();
    }
  });
}
