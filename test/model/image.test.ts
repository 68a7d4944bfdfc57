import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as zlib from "node:zlib";
import sharp from "sharp";
import { ImageError } from "../../src/errors";
import { decodeImage, MAX_IMAGE_PIXELS } from "../../src/model/image";
import { tempDir } from "../helpers/python";

const dir = tempDir();
const W = 6;
const H = 4;
const rgb = Buffer.from(Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256));

async function write(name: string, pipeline: sharp.Sharp): Promise<string> {
  const file = path.join(dir, name);
  await pipeline.toFile(file);
  return file;
}
const raw = () => sharp(rgb, { raw: { width: W, height: H, channels: 3 } });

function assertImageError(file: string, pattern: RegExp) {
  return assert.rejects(decodeImage(file), (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${e}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    return true;
  });
}

test("decodeImage returns 8-bit interleaved RGB of a PNG unchanged", async () => {
  const img = await decodeImage(await write("rgb.png", raw().png()));
  assert.deepEqual([img.width, img.height], [W, H]);
  assert.deepEqual(Buffer.from(img.data), rgb);
});

test("decodeImage expands grayscale to three equal channels", async () => {
  const img = await decodeImage(await write("gray.png", raw().toColourspace("b-w").png()));
  const meta = await sharp(path.join(dir, "gray.png")).metadata();
  assert.equal(meta.channels, 1);
  for (let i = 0; i < W * H; i++) {
    assert.equal(img.data[i * 3], img.data[i * 3 + 1]);
    assert.equal(img.data[i * 3], img.data[i * 3 + 2]);
  }
});

test("decodeImage converts a 16-bit PNG to the same 8-bit values", async () => {
  const file = await write("deep.png", raw().toColourspace("rgb16").png());
  assert.equal((await sharp(file).metadata()).depth, "ushort");
  const img = await decodeImage(file);
  const diffs = Array.from(img.data, (v, i) => Math.abs(v - rgb[i]));
  assert.ok(Math.max(...diffs) <= 1, `max diff ${Math.max(...diffs)}`);
});

test("decodeImage converts CMYK JPEG to sRGB", async () => {
  const file = await write("cmyk.jpg", sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 30 } } }).toColourspace("cmyk").jpeg({ quality: 100 }));
  assert.equal((await sharp(file).metadata()).space, "cmyk");
  const img = await decodeImage(file);
  assert.equal(img.data.length, 8 * 8 * 3);
  const [r, g, b] = img.data;
  assert.ok(r > 150 && g < 90 && b < 90, `a red CMYK image decodes as red, got ${[r, g, b]}`);
});

test("decodeImage composites transparency over white, as transformers' convert_to_rgb", async () => {
  const rgba = Buffer.alloc(2 * 1 * 4);
  rgba.set([10, 20, 30, 0, 10, 20, 30, 255]);
  const img = await decodeImage(await write("alpha.png", sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png()));
  assert.deepEqual(Array.from(img.data), [255, 255, 255, 10, 20, 30]);
});

test("decodeImage names the file for missing, empty, non-image and truncated inputs", async () => {
  await assertImageError(path.join(dir, "nope.png"), /no such file/);
  const empty = path.join(dir, "empty.png");
  fs.writeFileSync(empty, "");
  await assertImageError(empty, /empty/);
  const text = path.join(dir, "text.png");
  fs.writeFileSync(text, "this is not an image");
  await assertImageError(text, /not a readable image/);
  const full = fs.readFileSync(await write("big.png", sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } } }).png()));
  const cut = path.join(dir, "cut.png");
  fs.writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
  await assertImageError(cut, /cannot decode|truncated|corrupt/);
});

/** A PNG whose header claims a huge size (its pixel data is never read). */
function hugePngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(Buffer.alloc(10))), chunk("IEND", Buffer.alloc(0))]);
}

test("decodeImage refuses an image above the pixel limit with its size in the message", async () => {
  const file = path.join(dir, "huge.png");
  fs.writeFileSync(file, hugePngHeader(20000, 20000));
  assert.ok(20000 * 20000 > MAX_IMAGE_PIXELS);
  await assertImageError(file, /20000x20000 \(400\.0 megapixels\); the limit is 100 megapixels/);
});
