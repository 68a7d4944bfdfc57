import assert from "node:assert/strict";
import { test } from "node:test";
import { positionIds } from "../../src/model/positions";
import { sampleManifest } from "../helpers/manifest";

test("positionIds counts 0..S-1 for default RoPE", () => {
  assert.deepEqual(positionIds(sampleManifest(), 5, [1, 2, 3, 4]), [[0, 1, 2, 3, 4]]);
});

test("positionIds gives M-RoPE (t, h, w) ids over the merged grid and resumes text after max(rows, cols)", () => {
  const m = sampleManifest();
  m.llm.rope = { type: "mrope", mrope_section: [2, 1, 1] };
  m.vision.grid = [2, 3];
  m.vision.num_tokens = 6;
  // two text tokens, six visual tokens (2 rows x 3 cols), two text tokens
  const [t, h, w] = positionIds(m, 10, [2, 3, 4, 5, 6, 7]);
  assert.deepEqual(t, [0, 1, 2, 2, 2, 2, 2, 2, 5, 6]);
  assert.deepEqual(h, [0, 1, 2, 2, 2, 3, 3, 3, 5, 6]);
  assert.deepEqual(w, [0, 1, 2, 3, 4, 2, 3, 4, 5, 6]);
});
