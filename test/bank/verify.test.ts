import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { before, test } from "node:test";
import { BANK_FILES } from "../../src/bank/format";
import { openBank, verifyBank } from "../../src/bank/open";
import { BANK_VERIFY } from "../../src/bank/verify";
import { readVerifyRecord as readRecord } from "../../src/io/verify-record";

const readVerifyRecord = (dir: string) => readRecord(dir, BANK_VERIFY.format);
import { ArtifactError } from "../../src/errors";
import { tempDir } from "../helpers/python";
import { writeSyntheticBank } from "./synthetic-bank";

const work = tempDir("vislens-verify-");
const dir = path.join(work, "bank");
const layer = path.join(dir, BANK_FILES.layer(2));
let names: string[];

before(async () => {
  names = Object.keys(writeSyntheticBank(dir, { rows: 3000, dim: 64, layers: [1, 2] }).files).sort();
  // A file modified in the last 2 s is hashed but not recorded (its timestamps could still change
  // without a new value): let the new files settle once, so that the first open records them.
  await sleep(2100);
});

const mismatch = (e: unknown) => e instanceof ArtifactError && e.file === layer && /checksum mismatch: the file was modified or is corrupt/.test(e.message);

/** Flips one byte in the layer's data section, in place: same size, new content. */
function flipByte(): void {
  const fd = fs.openSync(layer, "r+");
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, 5000);
  b[0] ^= 0x10;
  fs.writeSync(fd, b, 0, 1, 5000);
  fs.closeSync(fd);
}

test("the first open hashes every file and records it; the next open hashes none", () => {
  const first = openBank(dir);
  assert.deepEqual(first.verification.hashed, names);
  assert.deepEqual(first.verification.trusted, []);
  assert.equal(first.verification.recorded, true);
  const record = readVerifyRecord(dir);
  assert.deepEqual(Object.keys(record.files), names);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, BANK_FILES.manifest), "utf8"));
  for (const name of names) assert.equal(record.files[name].sha256, manifest.files[name].sha256);
  const second = openBank(dir);
  assert.deepEqual(second.verification.hashed, []);
  assert.deepEqual(second.verification.trusted, names);
  assert.equal(second.verification.recorded, false, "nothing new to record");
});

test("a file modified in place with the same size is caught: with a new mtime, and with its old mtime put back", () => {
  const before = fs.statSync(layer, { bigint: true });
  flipByte();
  assert.equal(fs.statSync(layer).size, Number(before.size));
  assert.throws(() => openBank(dir), mismatch);
  // The old mtime put back to the nanosecond (touch, as utimes takes float seconds): the ctime still moved.
  const ns = String(before.mtimeNs).padStart(10, "0");
  execFileSync("touch", ["-m", "-d", `@${ns.slice(0, -9)}.${ns.slice(-9)}`, layer]);
  assert.equal(fs.statSync(layer, { bigint: true }).mtimeNs, before.mtimeNs);
  assert.throws(() => openBank(dir), mismatch);
  flipByte(); // the original bytes again
  const repaired = openBank(dir);
  assert.deepEqual(repaired.verification.hashed, [BANK_FILES.layer(2)]);
  assert.deepEqual(repaired.verification.unsettled, [BANK_FILES.layer(2)], "just modified: hashed again next time");
  assert.ok(!(BANK_FILES.layer(2) in readVerifyRecord(dir).files));
  assert.deepEqual(openBank(dir).verification.hashed, [BANK_FILES.layer(2)]);
});

test("the record vouches only for the hash bank.json expects", () => {
  const manifestFile = path.join(dir, BANK_FILES.manifest);
  const saved = fs.readFileSync(manifestFile);
  const manifest = JSON.parse(saved.toString());
  manifest.files[BANK_FILES.layer(1)].sha256 = "f".repeat(64);
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  const layer1 = path.join(dir, BANK_FILES.layer(1));
  assert.throws(() => openBank(dir), (e: unknown) => e instanceof ArtifactError && e.file === layer1 && /checksum mismatch/.test(e.message));
  fs.writeFileSync(manifestFile, saved);
});

test("verifyBank hashes every file whatever the record says, and names a modified one after checking all", () => {
  const v = verifyBank(dir).verification;
  assert.deepEqual(v.hashed, names);
  assert.deepEqual(v.trusted, []);
  assert.equal(v.recorded, true);
  flipByte();
  assert.throws(() => verifyBank(dir), mismatch);
  flipByte();
});

test("a bank whose record cannot be written still opens, hashing every time", () => {
  const record = path.join(dir, BANK_FILES.verified);
  fs.rmSync(record);
  fs.mkdirSync(record); // stands for a read-only directory (root ignores permissions)
  try {
    const bank = openBank(dir);
    assert.equal(bank.verification.hashed.length, names.length);
    assert.equal(bank.verification.recorded, false);
    assert.match(bank.verification.recordError ?? "", /EISDIR|directory/);
    assert.equal(openBank(dir).verification.hashed.length, names.length);
    assert.deepEqual(openBank(dir, { verifyChecksums: false }).verification.sizeOnly, names);
  } finally {
    fs.rmSync(record, { recursive: true });
  }
});
