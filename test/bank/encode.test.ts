import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeRow, l2Normalise } from "../../src/bank/encode";
import { halfToFloat } from "../../src/io/float16";

test("l2Normalise names the place of a NaN, an Inf or an all-zero hidden state", () => {
  assert.throws(() => l2Normalise(Float32Array.of(1, NaN, 2), "corpus.txt line 7, token \"red\" at layer 4"), /corpus.txt line 7, token "red" at layer 4: the hidden state contains NaN at dimension 1/);
  assert.throws(() => l2Normalise(Float32Array.of(Infinity, 0), "x"), /contains Infinity at dimension 0/);
  assert.throws(() => l2Normalise(new Float32Array(4), "x"), /all zeros/);
  const u = l2Normalise(Float32Array.of(3, 4), "x");
  assert.ok(Math.abs(u[0] - 0.6) < 1e-15 && Math.abs(u[1] - 0.8) < 1e-15);
});

test("encodeRow stores f16 to half precision and i8 with a per-row scale, both close to the unit row", () => {
  const unit = l2Normalise(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) + 0.1), "x");
  const halves = new Uint16Array(128);
  encodeRow("f16", unit, halves, 1);
  assert.ok(halves.subarray(0, 64).every((v) => v === 0), "row 0 untouched");
  unit.forEach((v, d) => assert.ok(Math.abs(halfToFloat(halves[64 + d]) - v) <= Math.abs(v) * 2 ** -11 + 1e-7));
  const q = new Int8Array(64);
  const scales = new Float32Array(1);
  encodeRow("i8", unit, q, 0, scales);
  const max = Math.max(...Array.from(unit, Math.abs));
  assert.ok(Math.abs(scales[0] - max / 127) < 1e-7);
  assert.ok(q.some((v) => Math.abs(v) === 127), "the largest value uses the full int8 range");
  unit.forEach((v, d) => assert.ok(Math.abs(q[d] * scales[0] - v) <= scales[0] / 2 + 1e-7));
});
