import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { BANK_FILES } from "../../src/bank/format";
import { openBank } from "../../src/bank/open";
import { BANK_VERIFY } from "../../src/bank/verify";
import { readVerifyRecord as readRecord } from "../../src/io/verify-record";

const readVerifyRecord = (dir: string) => readRecord(dir, BANK_VERIFY.format);
import { REPO, tempDir } from "../helpers/python";
import { writeSyntheticBank } from "../bank/synthetic-bank";

/** Runs the real CLI binary (bin/vislens.js over dist/), as `npx vislens` does. */
function vislens(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, "bin", "vislens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const work = tempDir("vislens-cli-bank-");
const dir = path.join(work, "bank");
let names: string[];

before(() => {
  names = Object.keys(writeSyntheticBank(dir, { rows: 500, dim: 32, layers: [1, 3] }).files).sort();
});

test("vislens bank verify hashes every file against bank.json and writes the record", () => {
  const r = vislens("bank", "verify", dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^verified ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${names.length} files \\(0\\.\\d MB\\) match bank\\.json\n`));
  // The files are seconds old: hashed, but left for the next open to hash again (see src/bank/verify.ts).
  assert.match(r.stdout, new RegExp(`recorded in verified\\.json, except ${names.length} file\\(s\\) modified in the last seconds`));
  assert.ok(fs.existsSync(path.join(dir, BANK_FILES.verified)));
  const json = JSON.parse(vislens("bank", "verify", dir, "--json").stdout);
  assert.equal(json.files, names.length);
  assert.equal(json.recorded, true);
  assert.deepEqual(json.layers, [1, 3]);
  assert.equal(openBank(dir).verification.hashed.length, names.length);
  assert.deepEqual(Object.keys(readVerifyRecord(dir).files), []);
});

test("vislens bank verify reports a modified file in one line naming it, exit 1", () => {
  const layer = path.join(dir, BANK_FILES.layer(3));
  const bytes = fs.readFileSync(layer);
  bytes[bytes.length - 1] ^= 1;
  fs.writeFileSync(layer, bytes);
  const r = vislens("bank", "verify", dir);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `vislens bank: ${layer}: checksum mismatch: the file was modified or is corrupt\n`);
  fs.truncateSync(layer, 100);
  assert.match(vislens("bank", "verify", dir).stderr, /layer_03\.npy: truncated: 100 bytes, the bank manifest records \d+\n$/);
  const notBank = vislens("bank", "verify", work);
  assert.equal(notBank.code, 1);
  assert.match(notBank.stderr, /bank\.json: missing: not a vislens bank directory/);
});

test("vislens bank verify reports usage mistakes with exit code 2", () => {
  for (const args of [["bank", "verify"], ["bank", "verify", dir, dir], ["bank", "verify", dir, "--bogus"], ["bank", "check", dir]]) {
    const r = vislens(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /usage: vislens bank build .*\n\s+vislens bank verify <bank-dir> \[--json\]/);
  }
});
