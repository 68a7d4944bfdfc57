import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { readCorpus } from "../../src/bank/corpus";
import { ArtifactError } from "../../src/errors";
import { tempDir } from "../helpers/python";

const dir = tempDir();
function corpusFile(name: string, bytes: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

test("readCorpus keeps non-blank lines, trims them, counts blank ones and accepts CRLF and a BOM", () => {
  const c = readCorpus(corpusFile("ok.txt", "\ufeffa red circle\r\n\r\n   \n  a blue square  \nlast line without newline"));
  assert.deepEqual(c.sentences, ["a red circle", "a blue square", "last line without newline"]);
  assert.deepEqual(c.lines, [1, 4, 5]);
  assert.equal(c.blankLines, 2);
  assert.match(c.sha256, /^[0-9a-f]{64}$/);
});

test("readCorpus names the line with invalid UTF-8", () => {
  const file = corpusFile("bad.txt", Buffer.concat([Buffer.from("fine\nalso fine\nbro"), Buffer.from([0xc3, 0x28]), Buffer.from("ken\n")]));
  assert.throws(() => readCorpus(file), (e: unknown) => e instanceof ArtifactError && e.file === file && /invalid UTF-8 on line 3/.test(e.message));
});

test("readCorpus refuses an empty or blank corpus and a missing file", () => {
  assert.throws(() => readCorpus(corpusFile("empty.txt", "")), /no sentences/);
  assert.throws(() => readCorpus(corpusFile("blank.txt", "\n  \n\t\n")), /no sentences/);
  assert.throws(() => readCorpus(path.join(dir, "missing.txt")), /corpus file not found/);
});
