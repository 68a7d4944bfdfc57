/**
 * Checksums of a directory's files (a bank's, a bundle's), verified once and recorded
 * (docs/bank-format.md, "Verification record"). The directory's manifest lists every file's size
 * and SHA-256; hashing a 30 GB bank or a 10 GB bundle on every open would take minutes, so the first
 * verification of a file is recorded in `verified.json` with the file's size, modification time,
 * status-change time and inode. A later open trusts a file whose four stats and expected hash still
 * match its entry, and hashes every other file again (then records it). Writing a file changes its
 * mtime and ctime; restoring the mtime afterwards (`touch -d`) still changes the ctime, which no
 * user can set; copying makes a new inode. So a modified file is always hashed again, and caught.
 *
 * A file modified within the last couple of seconds before it was hashed is not recorded (a write in
 * the same clock tick as the previous one might leave its timestamps unchanged), nor one whose stats
 * changed while it was being hashed: both are hashed again at the next open. The record is a cache:
 * when the directory is read-only it is not written and every open hashes, as before.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactError } from "../errors";
import { writeFileAtomic } from "./atomic";
import { sha256File } from "./sha256";

/** The record's file name, beside the files it vouches for (never listed in their manifest). */
export const VERIFY_RECORD_FILE = "verified.json";

/** What one kind of directory calls its record, and how its errors name the manifest. */
export interface VerifyTarget {
  /** The record's `format` (`vislens-bank-verified`, `vislens-bundle-verified`). */
  format: string;
  /** How errors name the listing: "the bank manifest", "the manifest". */
  owner: string;
  /** Extra words for a file in errors, e.g. " (the external data of llm.onnx: its weights)". */
  role?: (name: string) => string;
}

/** One file's entry in `verified.json`: its stats when its SHA-256 was verified, and that hash. */
export interface VerifyRecordEntry {
  bytes: number;
  sha256: string;
  /** Nanoseconds since the epoch, as decimal strings (they exceed 2^53). */
  mtime_ns: string;
  ctime_ns: string;
  ino: string;
}

export interface VerifyRecord {
  format: string;
  format_version: 1;
  files: Record<string, VerifyRecordEntry>;
}

/** What one verification did, file by file (names relative to the directory). */
export interface FileVerification {
  /** Files whose SHA-256 was computed (and matched bank.json) in this call. */
  hashed: string[];
  /** Files trusted on the record's word: same size, mtime, ctime and inode as when verified. */
  trusted: string[];
  /** Files whose size alone was checked (checksum verification turned off). */
  sizeOnly: string[];
  /**
   * Hashed files left out of the record because they were modified in the last couple of seconds
   * (or while being hashed): the next open hashes them again.
   */
  unsettled: string[];
  /** True when `verified.json` was (re)written by this call. */
  recorded: boolean;
  /** Why the record could not be written (e.g. a read-only directory); the directory opens regardless. */
  recordError?: string;
}

/**
 * How checksums are checked: `record` trusts files the record vouches for and hashes the rest (the
 * default of openBank and openBundle), `all` hashes every file (`vislens bank verify`), `sizes`
 * only compares sizes with the manifest.
 */
export type VerifyMode = "record" | "all" | "sizes";

/** Files modified this recently (ms) before hashing are not recorded: see the module comment. */
const RECENT_MS = 2000;

type BigStats = fs.BigIntStats;

function recordPath(dir: string): string {
  return path.join(dir, VERIFY_RECORD_FILE);
}

/** The record in `dir`, or an empty one when it is missing, unreadable or of another format (it is only a cache). */
export function readVerifyRecord(dir: string, format: string): VerifyRecord {
  const empty: VerifyRecord = { format, format_version: 1, files: {} };
  let data: Partial<VerifyRecord>;
  try {
    data = JSON.parse(fs.readFileSync(recordPath(dir), "utf8")) as Partial<VerifyRecord>;
  } catch {
    return empty;
  }
  if (data.format !== format || data.format_version !== 1 || typeof data.files !== "object" || data.files === null) return empty;
  return { ...empty, files: data.files };
}

function entryFor(st: BigStats, sha256: string): VerifyRecordEntry {
  return { bytes: Number(st.size), sha256, mtime_ns: String(st.mtimeNs), ctime_ns: String(st.ctimeNs), ino: String(st.ino) };
}

function sameStats(a: BigStats, b: BigStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

/** The record vouches for the file as it is now, with the hash bank.json expects. */
function vouches(entry: VerifyRecordEntry | undefined, st: BigStats, expected: { bytes: number; sha256: string }): boolean {
  return (
    entry !== undefined &&
    entry.sha256 === expected.sha256 &&
    entry.bytes === expected.bytes &&
    entry.bytes === Number(st.size) &&
    entry.mtime_ns === String(st.mtimeNs) &&
    entry.ctime_ns === String(st.ctimeNs) &&
    entry.ino === String(st.ino)
  );
}

function statOf(file: string, what: string): BigStats {
  try {
    return fs.statSync(file, { bigint: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArtifactError(file, code === "ENOENT" ? `missing${what}` : `cannot read: ${(error as Error).message}`);
  }
}

/** Writes the record atomically; returns the error message instead of throwing (it is a cache). */
export function writeVerifyRecord(dir: string, format: string, files: Record<string, VerifyRecordEntry>): string | undefined {
  const sorted = Object.fromEntries(Object.keys(files).sort().map((name) => [name, files[name]]));
  const record: VerifyRecord = { format, format_version: 1, files: sorted };
  try {
    writeFileAtomic(recordPath(dir), JSON.stringify(record, null, 1) + "\n");
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Checks every file `files` lists: present, of the recorded size, and (unless `mode` is `sizes`)
 * of the recorded SHA-256, hashing only what the verification record cannot vouch for (`record`)
 * or everything (`all`). Updates the record when anything new was verified.
 *
 * Throws ArtifactError naming the first missing, truncated or modified file. In `all` mode every
 * file is hashed before the error, the good ones are recorded, and the message counts the others.
 */
export function verifyFiles(dir: string, files: Record<string, { bytes: number; sha256: string }>, target: VerifyTarget, mode: VerifyMode = "record"): FileVerification {
  const result: FileVerification = { hashed: [], trusted: [], sizeOnly: [], unsettled: [], recorded: false };
  const role = target.role ?? (() => "");
  const names = Object.keys(files).sort();
  const stats = new Map<string, BigStats>();
  for (const name of names) {
    const file = path.join(dir, name);
    const st = statOf(file, `${role(name)}: ${target.owner} lists it`);
    const expected = files[name].bytes;
    const size = Number(st.size);
    if (size !== expected) throw new ArtifactError(file, `${size < expected ? "truncated" : "longer than expected"}${role(name)}: ${size} bytes, ${target.owner} records ${expected}`);
    stats.set(name, st);
  }
  if (mode === "sizes") {
    result.sizeOnly = names;
    return result;
  }
  const old = readVerifyRecord(dir, target.format);
  const next: Record<string, VerifyRecordEntry> = {};
  const failed: string[] = [];
  let changed = mode === "all" || Object.keys(old.files).some((name) => !(name in files));
  for (const name of names) {
    const file = path.join(dir, name);
    const expected = files[name];
    const before = stats.get(name)!;
    if (mode === "record" && vouches(old.files[name], before, expected)) {
      next[name] = old.files[name];
      result.trusted.push(name);
      continue;
    }
    const started = Date.now();
    const sha256 = sha256File(file);
    if (sha256 !== expected.sha256) {
      if (mode !== "all") throw new ArtifactError(file, `checksum mismatch${role(name)}: the file was modified or is corrupt (sha256 ${sha256}, ${target.owner} records ${expected.sha256})`);
      failed.push(file);
      changed ||= name in old.files;
      continue;
    }
    result.hashed.push(name);
    const after = fs.statSync(file, { bigint: true });
    const settled = Number(after.mtimeNs / 1000000n) < started - RECENT_MS && Number(after.ctimeNs / 1000000n) < started - RECENT_MS;
    if (sameStats(before, after) && settled) {
      next[name] = entryFor(after, sha256);
      changed ||= JSON.stringify(next[name]) !== JSON.stringify(old.files[name]);
    } else {
      result.unsettled.push(name);
      changed ||= name in old.files;
    }
  }
  if (changed) {
    result.recordError = writeVerifyRecord(dir, target.format, next);
    result.recorded = result.recordError === undefined;
  }
  if (failed.length > 0) {
    const more = failed.length > 1 ? ` (${failed.length - 1} more file${failed.length > 2 ? "s" : ""} also fail: ${failed.slice(1).map((f) => path.basename(f)).join(", ")})` : "";
    throw new ArtifactError(failed[0], `checksum mismatch${role(path.relative(dir, failed[0]))}: the file was modified or is corrupt${more}`);
  }
  return result;
}

/**
 * Records files that a build just wrote and hashed (their hashes are the ones in the manifest).
 * The build is their only writer and has finished writing, so the recent-modification rule does
 * not apply; a file whose stats changed while it was hashed is left out.
 */
export function recordBuiltFiles(dir: string, format: string, files: { name: string; sha256: string; before: BigStats }[]): string | undefined {
  const entries: Record<string, VerifyRecordEntry> = {};
  for (const f of files) {
    const after = fs.statSync(path.join(dir, f.name), { bigint: true });
    if (sameStats(f.before, after)) entries[f.name] = entryFor(after, f.sha256);
  }
  return writeVerifyRecord(dir, format, entries);
}
