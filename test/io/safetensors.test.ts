import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { ArtifactError } from "../../src/errors";
import { openSafetensors } from "../../src/io/safetensors";
import { python, tempDir } from "../helpers/python";

function writeReference(dir: string): string {
  const file = path.join(dir, "w.safetensors");
  python(
    `import numpy as np, sys, torch
from safetensors.torch import save_file
g = torch.Generator().manual_seed(0)
a = torch.randn(3, 5, generator=g)
save_file({"a": a, "h": a.half(), "b": a.bfloat16()}, sys.argv[1])`,
    [file],
  );
  return file;
}

test("openSafetensors reads F32, F16 and BF16 tensors exactly as torch stores them", () => {
  const file = writeReference(tempDir());
  const st = openSafetensors(file);
  assert.deepEqual(st.tensors.get("a")!.shape, [3, 5]);
  const expected = JSON.parse(
    python(
      `import sys, json
from safetensors.torch import load_file
t = load_file(sys.argv[1])
print(json.dumps({k: v.float().ravel().tolist() for k, v in t.items()}))`,
      [file],
    ),
  ) as Record<string, number[]>;
  for (const name of ["a", "h", "b"]) assert.deepEqual(Array.from(st.readFloat32(name)), expected[name], name);
});

test("openSafetensors reports a truncated file and an unknown tensor by name", () => {
  const file = writeReference(tempDir());
  assert.throws(() => openSafetensors(file).readFloat32("nope"), /no tensor named "nope"/);
  fs.truncateSync(file, fs.statSync(file).size - 10);
  assert.throws(() => openSafetensors(file), (e: unknown) => e instanceof ArtifactError && e.file === file && /truncated/.test(e.message));
});
