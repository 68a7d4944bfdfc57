import assert from "node:assert/strict";
import { test } from "node:test";
import { floatToHalf, halfArrayToFloat, halfToFloat } from "../../src/io/float16";
import { python } from "../helpers/python";

test("floatToHalf rounds exactly like numpy astype(float16), halfToFloat inverts it", () => {
  const values = [0, 1, -1, 0.1, 1 / 3, 65504, 65520, 70000, 1e-8, 6e-8, 5.96e-8, 3e-5, 6.1e-5, -2.5e-7, 1.0009765625, 1.00048828125, 2049, 2051, 1e39, -1e39]; // ±1e39 overflow float32 to ±Infinity
  const expected = JSON.parse(python("import numpy as np,json,sys; v=json.loads(sys.argv[1]); print(json.dumps(np.array(v,dtype=np.float32).astype(np.float16).view(np.uint16).tolist()))", [JSON.stringify(values)])) as number[];
  assert.deepEqual(values.map(floatToHalf), expected);
  for (const bits of expected) {
    if ((bits & 0x7c00) !== 0x7c00) assert.equal(floatToHalf(halfToFloat(bits)), bits);
  }
});

test("floatToHalf keeps NaN a NaN and every half value round-trips through the lookup table", () => {
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(floatToHalf(-0), 0x8000); // JSON cannot carry -0 to numpy, so it is checked here
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const floats = halfArrayToFloat(all);
  for (let i = 0; i < 65536; i++) {
    const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
    if (!isNaN) assert.equal(floatToHalf(floats[i]), i, `half bits ${i.toString(16)}`);
  }
});
