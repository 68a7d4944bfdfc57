import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { writeFileAtomic } from "../../src/io/atomic";
import { tempDir } from "../helpers/python";

test("writeFileAtomic replaces a file in one step and leaves no temporary file", () => {
  const dir = tempDir();
  const file = path.join(dir, "f.txt");
  writeFileAtomic(file, "one");
  writeFileAtomic(file, new Uint8Array([116, 119, 111]));
  assert.equal(fs.readFileSync(file, "utf8"), "two");
  assert.deepEqual(fs.readdirSync(dir), ["f.txt"]);
});

test("writeFileAtomic into a missing directory fails and writes nothing", () => {
  const dir = tempDir();
  assert.throws(() => writeFileAtomic(path.join(dir, "no", "f.txt"), "x"), /ENOENT/);
  assert.deepEqual(fs.readdirSync(dir), []);
});
