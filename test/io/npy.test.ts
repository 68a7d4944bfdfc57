import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { ArtifactError } from "../../src/errors";
import { readNpy, writeNpy } from "../../src/io/npy";
import { python, tempDir } from "../helpers/python";

test("writeNpy output is read back by numpy with the same shape and values", () => {
  const dir = tempDir();
  const file = path.join(dir, "a.npy");
  const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  writeNpy(file, { dtype: "<f4", shape: [2, 3, 4], data });
  const out = python("import numpy as np,sys,json; a=np.load(sys.argv[1]); print(json.dumps([a.dtype.str, list(a.shape), a.ravel().tolist()]))", [file]);
  assert.deepEqual(JSON.parse(out), ["<f4", [2, 3, 4], Array.from(data)]);
});

test("readNpy reads numpy-written float16, int64 and 1-d arrays", () => {
  const dir = tempDir();
  python(
    "import numpy as np,sys; np.save(sys.argv[1]+'/h.npy', np.array([[1.5,-2.0],[65504,0.0009765625]],dtype=np.float16)); np.save(sys.argv[1]+'/i.npy', np.arange(5,dtype=np.int64)-2)",
    [dir],
  );
  const h = readNpy(path.join(dir, "h.npy"));
  assert.equal(h.dtype, "<f2");
  assert.deepEqual(h.shape, [2, 2]);
  assert.deepEqual(Array.from(h.data as Uint16Array), [0x3e00, 0xc000, 0x7bff, 0x1400]);
  const i = readNpy(path.join(dir, "i.npy"));
  assert.deepEqual(i.shape, [5]);
  assert.deepEqual(Array.from(i.data as BigInt64Array), [-2n, -1n, 0n, 1n, 2n]);
});

test("readNpy names the file when it is truncated or not .npy", () => {
  const dir = tempDir();
  const file = path.join(dir, "t.npy");
  writeNpy(file, { dtype: "<f4", shape: [10], data: new Float32Array(10) });
  fs.truncateSync(file, fs.statSync(file).size - 4);
  assert.throws(() => readNpy(file), (e: unknown) => e instanceof ArtifactError && e.file === file && /truncated/.test(e.message));
  fs.writeFileSync(file, "hello world, not numpy");
  assert.throws(() => readNpy(file), /not a NumPy .npy file/);
});
