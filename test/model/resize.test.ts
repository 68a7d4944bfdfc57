import assert from "node:assert/strict";
import { test } from "node:test";
import { resizeRgb, type Resample } from "../../src/model/resize";
import { python } from "../helpers/python";

/** A deterministic noisy test image with edges, so every filter tap matters. */
function testImage(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    data[i] = (i % 7 === 0 ? 255 : 0) ^ (s >> 16) & 0xff;
  }
  return { width, height, data };
}

function pillowResize(img: { width: number; height: number; data: Uint8Array }, w: number, h: number, resample: Resample): number[] {
  const out = python(
    `import sys, json, base64
from PIL import Image
w0, h0, w, h = map(int, sys.argv[1:5])
im = Image.frombytes("RGB", (w0, h0), base64.b64decode(sys.argv[6]))
r = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[sys.argv[5]]
print(json.dumps(list(im.resize((w, h), r).tobytes())))`,
    [String(img.width), String(img.height), String(w), String(h), resample, Buffer.from(img.data).toString("base64")],
  );
  return JSON.parse(out) as number[];
}

for (const resample of ["bicubic", "bilinear", "nearest"] as const) {
  test(`resizeRgb(${resample}) equals Pillow's Image.resize byte for byte, down- and upscaling`, () => {
    const img = testImage(37, 23);
    for (const [w, h] of [[16, 16], [64, 40], [37, 11], [5, 23], [100, 7]]) {
      const ours = resizeRgb(img, w, h, resample);
      assert.equal(ours.width, w);
      assert.equal(ours.height, h);
      assert.deepEqual(Array.from(ours.data), pillowResize(img, w, h, resample), `${resample} to ${w}x${h}`);
    }
  });
}

test("resizeRgb rejects a non-integer or empty target size", () => {
  assert.throws(() => resizeRgb(testImage(4, 4), 0, 3, "bicubic"), RangeError);
  assert.throws(() => resizeRgb(testImage(4, 4), 2.5, 3, "bicubic"), RangeError);
});
