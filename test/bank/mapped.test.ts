import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { buildBank } from "../../src/bank/build";
import { BANK_FILES } from "../../src/bank/format";
import { isMapped, mapNpy, mapNpySegments } from "../../src/bank/mapped";
import { openBank, type Bank } from "../../src/bank/open";
import { encodeFloat16, quantizeInt8, searchSegments, searchTopK, type RowSegment } from "../../src/bank/search";
import { ArtifactError } from "../../src/errors";
import { halfToFloat } from "../../src/io/float16";
import { readNpy } from "../../src/io/npy";
import { sha256File } from "../../src/io/sha256";
import { createLenses } from "../../src/lenses/create";
import { openBundle, type Bundle } from "../../src/model/bundle";
import { seededRandom } from "../../src/util/random";
import { FIXTURE_BUNDLE } from "../helpers/fixture";
import { python, tempDir } from "../helpers/python";
import { syntheticRow, writeSyntheticBank } from "./synthetic-bank";

const work = tempDir("vislens-mapped-");
let bundle: Bundle;
let fixtureBank: string;

before(async () => {
  bundle = await openBundle(FIXTURE_BUNDLE);
  const corpus = path.join(work, "corpus.txt");
  fs.writeFileSync(corpus, fs.readFileSync(path.join(FIXTURE_BUNDLE, "corpus.txt"), "utf8").split("\n").slice(0, 1500).join("\n"));
  fixtureBank = path.join(work, "fixture-bank");
  await buildBank(bundle, corpus, fixtureBank, { layers: [1, 2, 4], policy: { kind: "reservoir", maxContexts: 8, seed: 42 } });
});
after(async () => {
  await bundle?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function randomQueries(n: number, d: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n * d }, () => r() * 2 - 1);
}

/** Linux memory of this process, from /proc/self/status: anonymous (heap, copies) and file-backed pages. */
function memory(): { anon: number; heap: number; arrayBuffers: number } {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const kb = /RssAnon:\s+(\d+) kB/.exec(status);
  assert.ok(kb, "/proc/self/status has RssAnon (Linux)");
  const m = process.memoryUsage();
  return { anon: Number(kb[1]) * 1024, heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

test("mapNpy views numpy-written arrays in place, with the values readNpy copies", () => {
  const dir = path.join(work, "npy");
  fs.mkdirSync(dir);
  python(
    `import sys, numpy as np
rng = np.random.default_rng(0)
np.save(sys.argv[1] + "/h.npy", rng.standard_normal((101, 33)).astype(np.float16))
np.save(sys.argv[1] + "/b.npy", rng.integers(-128, 128, (7, 5), dtype=np.int8))
np.save(sys.argv[1] + "/f.npy", rng.standard_normal(17).astype(np.float32))
np.save(sys.argv[1] + "/i.npy", rng.integers(0, 1 << 30, (9, 2), dtype=np.int32))`,
    [dir],
  );
  for (const name of ["h", "b", "f", "i"]) {
    const file = path.join(dir, `${name}.npy`);
    const mapped = mapNpy(file);
    const copy = readNpy(file);
    assert.equal(mapped.dtype, copy.dtype);
    assert.deepEqual(mapped.shape, copy.shape);
    assert.deepEqual(mapped.data, copy.data, name);
    assert.ok(isMapped(mapped.data) && !isMapped(copy.data));
  }
  // Segments of whole rows (3 rows of 33 float16 = 198 bytes fit in 200) cover the array in order.
  const seg = mapNpySegments(path.join(dir, "h.npy"), { maxSegmentBytes: 200 });
  assert.equal(seg.segments.length, 34);
  assert.deepEqual(seg.segments.map((s) => s.row0).slice(0, 3), [0, 3, 6]);
  const joined = new Uint16Array(101 * 33);
  for (const s of seg.segments) joined.set(s.data as Uint16Array, s.row0 * 33);
  assert.deepEqual(joined, readNpy(path.join(dir, "h.npy")).data);
});

test("a mapped fixture bank searches bit for bit like the same bank read into memory, and so does LatentLens", async () => {
  const mapped = openBank(fixtureBank, { fingerprint: bundle.fingerprint });
  const inMemory = openBank(fixtureBank, { fingerprint: bundle.fingerprint, map: false });
  assert.equal(mapped.mapped, true);
  assert.equal(inMemory.mapped, false);
  const D = mapped.manifest.dim;
  for (const [layer, m] of mapped.matrices) {
    const c = inMemory.matrices.get(layer)!;
    assert.ok(isMapped(m.data) && !isMapped(c.data), `layer ${layer}`);
    assert.deepEqual(m.data, c.data);
    for (const Q of [1, 3, 64]) {
      const queries = { shape: [Q, D], data: randomQueries(Q, D, layer * 100 + Q) };
      const a = await searchSegments(queries, m, { k: 7 });
      const b = await searchTopK(queries, { shape: [c.rows, D], data: c.data }, { k: 7 });
      assert.deepEqual(a.indices, b.indices, `layer ${layer}, ${Q} queries`);
      assert.deepEqual(a.scores, b.scores, `layer ${layer}, ${Q} queries`);
    }
  }
  assert.deepEqual(mapped.tokenId, inMemory.tokenId);
  assert.deepEqual(mapped.charSpan, inMemory.charSpan);
  const queries = randomQueries(12, D, 7);
  const [a] = createLenses(bundle, ["latent"], mapped);
  const [b] = createLenses(bundle, ["latent"], inMemory);
  assert.deepEqual(await a.interpret(queries, 5), await b.interpret(queries, 5));
});

test("searchSegments equals one search over all rows bit for bit: f16 and i8, ties across segment boundaries", async () => {
  const N = 2000;
  const D = 96;
  const values = new Float32Array(N * D);
  for (let r = 0; r < N; r++) syntheticRow(3, 1, r, D, values.subarray(r * D, (r + 1) * D));
  // Exact duplicates on both sides of the segment boundaries (700, 1400): ties go to the lower row.
  for (const [from, to] of [[10, 699], [10, 701], [10, 1999], [1300, 1401]]) values.copyWithin(to * D, from * D, (from + 1) * D);
  const cuts = [0, 700, 1400, N];
  const f16 = encodeFloat16(values);
  const i8 = quantizeInt8(values, D);
  const queries = new Float32Array(40 * D);
  queries.set(values.subarray(10 * D, 11 * D), 0); // the duplicated row itself
  queries.set(values.subarray(1300 * D, 1301 * D), D);
  queries.set(randomQueries(38, D, 11), 2 * D);
  for (const dtype of ["f16", "i8"] as const) {
    const segments: RowSegment[] = cuts.slice(0, -1).map((row0, i) => {
      const rows = cuts[i + 1] - row0;
      return dtype === "f16"
        ? { row0, rows, data: f16.subarray(row0 * D, (row0 + rows) * D) }
        : { row0, rows, data: i8.data.subarray(row0 * D, (row0 + rows) * D), scales: i8.scales.subarray(row0, row0 + rows) };
    });
    const whole = dtype === "f16" ? { shape: [N, D], data: f16 } : { shape: [N, D], data: i8.data, scales: i8.scales };
    for (const Q of [1, 2, 40]) {
      for (const k of [1, 5, 800]) {
        const q = { shape: [Q, D], data: queries.subarray(0, Q * D) };
        const a = await searchSegments(q, { rows: N, dim: D, segments }, { k });
        const b = await searchTopK(q, whole, { k });
        assert.equal(a.k, b.k);
        assert.deepEqual(a.indices, b.indices, `${dtype}, ${Q} queries, k ${k}`);
        assert.deepEqual(a.scores, b.scores, `${dtype}, ${Q} queries, k ${k}`);
      }
    }
  }
});

test("a bank mapped in several segments per layer searches like the bank read into memory", async () => {
  const dir = path.join(work, "segmented");
  writeSyntheticBank(dir, { rows: 3001, dim: 64, layers: [2, 5], dtype: "i8", seed: 5 });
  const seg = openBank(dir, { maxSegmentBytes: 64 * 1000 });
  const mem = openBank(dir, { map: false });
  const m = seg.matrices.get(5)!;
  assert.deepEqual(m.segments.map((s) => [s.row0, s.rows]), [[0, 1000], [1000, 1000], [2000, 1000], [3000, 1]]);
  assert.throws(() => m.data, (e: unknown) => e instanceof RangeError && /layer 5 is 3001 x 64 \(4 segments\).*use matrix.segments/.test(e.message));
  const c = mem.matrices.get(5)!;
  const queries = { shape: [9, 64], data: randomQueries(9, 64, 2) };
  const a = await searchSegments(queries, m, { k: 6 });
  const b = await searchTopK(queries, { shape: [c.rows, 64], data: c.data, scales: c.scales }, { k: 6 });
  assert.deepEqual([a.indices, a.scores], [b.indices, b.scores]);
});

test("opening a 1 GiB bank maps it: neither the JS heap nor anonymous memory grows by its size, and a search reads it in place", async (t) => {
  const dir = path.join(work, "big");
  const rows = 1 << 19; // x 1024 float16 = 1 GiB
  writeSyntheticBank(dir, { rows, dim: 1024, layers: [3], fill: "tiled" });
  const start = memory();
  const bank: Bank = openBank(dir);
  const opened = memory();
  const m = bank.matrices.get(3)!;
  assert.equal(m.data.byteLength, 1 << 30);
  assert.ok(isMapped(m.data));
  // Tiled rows: row 4096 + 17 repeats row 17, which a query equal to it finds (with its copies).
  const q = new Float32Array(1024);
  const bits = m.data.subarray(17 * 1024, 18 * 1024);
  for (let p = 0; p < 1024; p++) q[p] = halfToFloat(bits[p]);
  const result = await searchSegments({ shape: [1, 1024], data: q }, m, { k: 3 });
  assert.deepEqual(Array.from(result.indices), [17, 4096 + 17, 2 * 4096 + 17]);
  const searched = memory();
  const MB = 1 << 20;
  const growth = (a: number, b: number) => `${((b - a) / MB).toFixed(1)} MB`;
  const report = `anonymous +${growth(start.anon, opened.anon)} after open, +${growth(start.anon, searched.anon)} after a search; heap +${growth(start.heap, searched.heap)}; array buffers +${growth(start.arrayBuffers, searched.arrayBuffers)}`;
  t.diagnostic(report);
  assert.ok(opened.anon - start.anon < 64 * MB, report);
  assert.ok(searched.anon - start.anon < 64 * MB, report);
  assert.ok(searched.heap - start.heap < 64 * MB, report);
  assert.ok(searched.arrayBuffers - start.arrayBuffers < 64 * MB, report);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("openBank names a missing or truncated layer file, and one on a file system that cannot map files, with the errno", () => {
  const dir = path.join(work, "bad");
  writeSyntheticBank(dir, { rows: 64, dim: 32, layers: [1, 2] });
  const layer = path.join(dir, BANK_FILES.layer(2));
  const saved = fs.readFileSync(layer);
  fs.truncateSync(layer, 1000);
  assert.throws(() => openBank(dir), (e: unknown) => e instanceof ArtifactError && e.file === layer && /truncated: 1000 bytes, the bank manifest records 4224/.test(e.message));
  fs.rmSync(layer);
  assert.throws(() => openBank(dir), (e: unknown) => e instanceof ArtifactError && e.file === layer && /missing: the bank manifest lists it/.test(e.message));
  fs.writeFileSync(layer, saved);

  // sysfs files are regular files that refuse mmap (ENODEV), like some network and FUSE mounts.
  const sysfs = ["/sys/devices/system/cpu/online", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state"].find((f) => fs.existsSync(f));
  assert.ok(sysfs, "a sysfs attribute file to stand for an unmappable file system (Linux)");
  const manifestFile = path.join(dir, BANK_FILES.manifest);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  fs.rmSync(layer);
  fs.symlinkSync(sysfs, layer);
  manifest.files[BANK_FILES.layer(2)] = { bytes: fs.statSync(sysfs).size, sha256: sha256File(sysfs) };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  assert.throws(
    () => openBank(dir),
    (e: unknown) =>
      e instanceof ArtifactError &&
      e.file === layer &&
      /cannot memory-map: mmap failed with ENODEV \(No such device\); the file system does not support memory-mapped files; copy the bank to a local disk, or open it with \{map: false\}/.test(e.message),
  );
});
