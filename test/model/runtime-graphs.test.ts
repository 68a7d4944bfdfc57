import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { writeNpy } from "../../src/io/npy";
import { batchedMatmul, unembed } from "../../src/model/runtime-graphs";
import { seededRandom } from "../../src/util/random";
import { python, tempDir } from "../helpers/python";

function gaussian(n: number, seed: number): Float32Array<ArrayBuffer> {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd()));
}

test("unembed: log-sum-exp, target logits and top-k of x·Wᵀ equal numpy (float64) on the same matrices", async () => {
  const [n, D, V, k] = [37, 48, 1000, 5];
  const x = gaussian(n * D, 1);
  const w = gaussian(V * D, 2);
  const targets = Array.from({ length: n }, (_, i) => (i * 97) % V);
  const dir = tempDir();
  writeNpy(path.join(dir, "x.npy"), { dtype: "<f4", shape: [n, D], data: x });
  writeNpy(path.join(dir, "w.npy"), { dtype: "<f4", shape: [V, D], data: w });
  const ours = await unembed(x, w, D, { k, targets });
  const ref = JSON.parse(
    python(
      `import json, sys, numpy as np\nx = np.load(sys.argv[1]).astype(np.float64); w = np.load(sys.argv[2]).astype(np.float64)\nt = json.loads(sys.argv[3]); l = x @ w.T\nm = l.max(1, keepdims=True); lse = (np.log(np.exp(l - m).sum(1, keepdims=True)) + m)[:, 0]\nprint(json.dumps({"lse": lse.tolist(), "target": l[np.arange(len(t)), t].tolist(), "ids": np.argsort(-l, 1, kind="stable")[:, :${k}].tolist()}))`,
      [path.join(dir, "x.npy"), path.join(dir, "w.npy"), JSON.stringify(targets)],
    ),
  ) as { lse: number[]; target: number[]; ids: number[][] };
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(ours.lse[i] - ref.lse[i]) <= 1e-4, `row ${i} lse ${ours.lse[i]} vs ${ref.lse[i]}`);
    assert.ok(Math.abs(ours.targetLogit[i] - ref.target[i]) <= 1e-4, `row ${i} target logit`);
    assert.deepEqual(Array.from(ours.topIds.subarray(i * k, (i + 1) * k)), ref.ids[i], `row ${i} top-${k}`);
  }
  await assert.rejects(unembed(x, w, D, { k: 0 }), /k must be an integer in 1\.\.1000, got 0/);
  await assert.rejects(unembed(x, w, D, { targets: 1000 }), /target token id 1000 \(row 0\) is outside the vocabulary 0\.\.999/);
});

test("batchedMatmul multiplies each pair of the batch", async () => {
  const a = gaussian(2 * 3 * 4, 5);
  const b = gaussian(2 * 4 * 2, 6);
  const c = await batchedMatmul(a, b, { batch: 2, m: 3, k: 4, n: 2 });
  for (let s = 0; s < 2; s++)
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++) {
        let v = 0;
        for (let t = 0; t < 4; t++) v += a[(s * 3 + i) * 4 + t] * b[(s * 4 + t) * 2 + j];
        assert.ok(Math.abs(c[(s * 3 + i) * 2 + j] - v) <= 1e-5);
      }
  await assert.rejects(batchedMatmul(a, b, { batch: 2, m: 3, k: 5, n: 2 }), /a has 24 values, expected 2x3x5/);
});
