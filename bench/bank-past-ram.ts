/**
 * Banks past RAM (opt-in: writes tens of GB and runs for minutes; not part of `npm run bench`).
 *
 *   VISLENS_SLOW=1 node --import tsx bench/bank-past-ram.ts [--part build|search|all] [--gb N]
 *       [--dim D] [--sentences N] [--dir DIR] [--advice normal|sequential] [--keep] [--reuse]
 *
 * Part "build": `buildBank` over a 100,000-sentence corpus at width 2048 (the fixture's tokenizer,
 * a synthetic forward pass standing in for a 2048-wide LLM), every token kept: the bank is GBs,
 * the process's anonymous memory stays at the size of one batch plus the per-row selection.
 *
 * Part "search": a synthetic float16 bank larger than the machine's RAM (default: 1.1 x MemTotal,
 * 2 layers at d = 4096), written to disk, opened (memory-mapped; the first open hashes and records,
 * the second trusts the record), and searched exactly through LatentLens: one query, a batch of 64,
 * a batch of 576 (one image's patches). The batch-of-64 answer is compared with two references
 * computed without the map: the native kernel over in-memory copies of 1 GiB chunks read with
 * read(2) (must be equal bit for bit), and a numpy float64 brute force (same rows, scores within
 * float32 rounding). Each query is planted next to a known row, which must come first. The bank is
 * deleted at the end unless --keep; --reuse searches a bank kept by an earlier run of the same size.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildBank } from "../src/bank/build";
import { BANK_FILES } from "../src/bank/format";
import { openBank, type Bank } from "../src/bank/open";
import { mergeTopK, searchSegments, searchTopK, type LayerTopK, type MapAdvice } from "../src/bank/search";
import { halfArrayToFloat } from "../src/io/float16";
import { latentLens } from "../src/lenses/latent";
import { normaliseRows } from "../src/lenses/normalise";
import { openBundle, type Bundle } from "../src/model/bundle";
import { seededRandom } from "../src/util/random";
import { syntheticForward, writeSyntheticBank } from "../test/bank/synthetic-bank";

const REPO = path.resolve(__dirname, "..");
const PYTHON = path.join(REPO, ".venv", "bin", "python");
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const GB = 1e9;
const MB = 1 << 20;

function meminfo(): { total: number; available: number; free: number } {
  const text = fs.readFileSync("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)![1]) * 1024;
  return { total: kb("MemTotal"), available: kb("MemAvailable"), free: kb("MemFree") };
}

function processMemory(): { anon: number; file: number; hwm: number } {
  const text = fs.readFileSync("/proc/self/status", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)![1]) * 1024;
  return { anon: kb("RssAnon"), file: kb("RssFile"), hwm: kb("VmHWM") };
}

/** Bytes this process caused to be read from the storage device (page-cache misses, readahead included). */
function diskReadBytes(): number {
  return Number(/^read_bytes:\s+(\d+)/m.exec(fs.readFileSync("/proc/self/io", "utf8"))![1]);
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const gb = (bytes: number) => `${(bytes / GB).toFixed(2)} GB`;
const dirBytes = (dir: string) => fs.readdirSync(dir).reduce((s, n) => s + fs.statSync(path.join(dir, n)).size, 0);

// ---------------------------------------------------------------------------------------------
// Part 1: bank build over 100k sentences at width 2048, streamed to the layer files.

async function buildPart(work: string): Promise<void> {
  const D = 2048;
  const SENTENCES = Number(option("sentences", "100000"));
  const bundle: Bundle = await openBundle(path.join(REPO, "models", "shapes-llava"));
  const words = [...new Set(fs.readFileSync(path.join(REPO, "models", "shapes-llava", "corpus.txt"), "utf8").split(/\s+/).filter(Boolean))];
  const random = seededRandom(11);
  const lines = Array.from({ length: SENTENCES }, () => Array.from({ length: 6 + Math.floor(random() * 14) }, () => words[Math.floor(random() * words.length)]).join(" "));
  const corpus = path.join(work, "corpus-100k.txt");
  fs.writeFileSync(corpus, lines.join("\n") + "\n");
  const layers = 3;
  const wide = { ...bundle, manifest: { ...bundle.manifest, llm: { ...bundle.manifest.llm, hidden_size: D, num_layers: layers } } } as Bundle;
  const out = path.join(work, "bank-100k");
  fs.rmSync(out, { recursive: true, force: true });
  const start = processMemory();
  let peakAnon = start.anon;
  const t0 = process.hrtime.bigint();
  const manifest = await buildBank(wide, corpus, out, {
    layers: [1, 3],
    policy: { kind: "first", maxContexts: 1_000_000 },
    batchSize: 32,
    forward: syntheticForward(D, layers),
    onProgress: (p) => {
      peakAnon = Math.max(peakAnon, processMemory().anon);
      if (p.phase === "encode" && p.done % 500 === 0) process.stderr.write(`\r  build: batch ${p.done}/${p.total}, ${p.rows} rows`);
    },
  });
  const took = seconds(t0);
  process.stderr.write("\n");
  await bundle.close();
  const bytes = dirBytes(out);
  console.log(`bank build, ${SENTENCES} sentences (${manifest.corpus.sentences} kept), width ${D}, layers 1 and 3, policy first (every token kept):`);
  console.log(`  ${manifest.rows} rows, bank ${gb(bytes)} on disk, built in ${took.toFixed(1)} s`);
  console.log(`  anonymous memory: ${(start.anon / MB).toFixed(0)} MB before, peak ${(peakAnon / MB).toFixed(0)} MB sampled after each batch (+${((peakAnon - start.anon) / MB).toFixed(0)} MB, ${((100 * (peakAnon - start.anon)) / bytes).toFixed(1)}% of the bank)`);
  const bank = openBank(out);
  console.log(`  opens: ${bank.verification.trusted.length} files trusted from the build's record, ${bank.verification.hashed.length} hashed`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(corpus);
}

// ---------------------------------------------------------------------------------------------
// Part 2: a bank past RAM, searched exactly.

function plantedQueries(bank: Bank, count: number, seed: number): { data: Float32Array; planted: { layer: number; row: number }[] } {
  const D = bank.manifest.dim;
  const random = seededRandom(seed);
  const data = new Float32Array(count * D);
  const planted: { layer: number; row: number }[] = [];
  const layers = [...bank.matrices.values()];
  for (let q = 0; q < count; q++) {
    const m = layers[q % layers.length];
    const row = Math.floor(random() * m.rows);
    const seg = m.segments.find((s) => row >= s.row0 && row < s.row0 + s.rows)!;
    const x = halfArrayToFloat((seg.data as Uint16Array).subarray((row - seg.row0) * D, (row - seg.row0 + 1) * D));
    for (let p = 0; p < D; p++) data[q * D + p] = x[p] + (random() * 2 - 1) * 0.3 * Math.sqrt(3 / D);
    planted.push({ layer: m.layer, row });
  }
  return { data: normaliseRows(data, D), planted };
}

/** The kernel over in-memory copies: each 1 GiB chunk read with read(2), searched, rescored in float64, merged. */
async function inMemoryReference(file: string, rows: number, D: number, queries: Float32Array, k: number) {
  const Q = queries.length / D;
  const fd = fs.openSync(file, "r");
  const headerBytes = fs.statSync(file).size - rows * D * 2;
  const chunkRows = Math.floor((1 << 30) / (D * 2));
  const buffer = new Uint16Array(chunkRows * D);
  const cands: { row: number; s: number }[][] = Array.from({ length: Q }, () => []);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    const bytes = new Uint8Array(buffer.buffer, 0, n * D * 2);
    for (let off = 0; off < bytes.length; ) off += fs.readSync(fd, bytes, off, bytes.length - off, headerBytes + r0 * D * 2 + off);
    const chunk = buffer.subarray(0, n * D);
    const r = await searchTopK({ shape: [Q, D], data: queries }, { shape: [n, D], data: chunk }, { k });
    for (let q = 0; q < Q; q++) {
      for (let j = 0; j < r.k; j++) {
        const local = r.indices[q * r.k + j];
        if (local < 0) continue;
        const x = halfArrayToFloat(chunk.subarray(local * D, (local + 1) * D));
        let s = 0;
        for (let p = 0; p < D; p++) s += queries[q * D + p] * x[p];
        cands[q].push({ row: r0 + local, s });
      }
    }
  }
  fs.closeSync(fd);
  const indices = new Int32Array(Q * k);
  const scores = new Float32Array(Q * k);
  cands.forEach((c, q) => {
    c.sort((a, b) => (b.s > a.s ? 1 : b.s < a.s ? -1 : a.row - b.row));
    for (let j = 0; j < k; j++) {
      indices[q * k + j] = c[j].row;
      scores[q * k + j] = c[j].s;
    }
  });
  return { indices, scores };
}

/** numpy float64 brute force over the memory-mapped .npy (independent of the native kernel). */
function numpyReference(file: string, queries: Float32Array, D: number, k: number): { indices: number[][]; scores: number[][] } {
  const qfile = path.join(os.tmpdir(), `vislens-queries-${process.pid}.f32`);
  fs.writeFileSync(qfile, new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
  const code = `import sys, json, numpy as np
rows = np.load(sys.argv[1], mmap_mode="r"); q = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, ${D}).astype(np.float64)
k = ${k}; best_s = np.full((q.shape[0], 0), -np.inf); best_i = np.zeros((q.shape[0], 0), dtype=np.int64)
step = 16384
for r0 in range(0, rows.shape[0], step):
    s = np.asarray(rows[r0:r0 + step]).astype(np.float64) @ q.T          # [chunk, Q]
    top = np.argpartition(-s, k - 1, axis=0)[:k].T                        # [Q, k]
    best_s = np.concatenate([best_s, np.take_along_axis(s.T, top, 1)], 1); best_i = np.concatenate([best_i, top + r0], 1)
    order = np.lexsort((best_i, -best_s), axis=1)[:, :k]
    best_s = np.take_along_axis(best_s, order, 1); best_i = np.take_along_axis(best_i, order, 1)
print(json.dumps({"indices": best_i.tolist(), "scores": best_s.tolist()}))`;
  const out = execFileSync(PYTHON, ["-c", code, file, qfile], { encoding: "utf8", maxBuffer: 64 << 20 });
  fs.rmSync(qfile);
  return JSON.parse(out) as { indices: number[][]; scores: number[][] };
}

async function searchPart(work: string): Promise<void> {
  const D = Number(option("dim", "4096"));
  const before = meminfo();
  const target = Number(option("gb", "0")) * GB || 1.1 * before.total;
  const layers = [1, 2];
  const rows = Math.ceil(target / (layers.length * D * 2) / 4096) * 4096;
  const bankBytes = layers.length * rows * D * 2;
  const dir = path.join(work, "bank-past-ram");
  const reuse = flag("reuse") && fs.existsSync(path.join(dir, BANK_FILES.manifest)) && JSON.parse(fs.readFileSync(path.join(dir, BANK_FILES.manifest), "utf8")).rows === rows;
  if (!reuse) {
    fs.rmSync(dir, { recursive: true, force: true });
    const diskFree = fs.statfsSync(work).bavail * fs.statfsSync(work).bsize;
    if (diskFree < bankBytes + 5 * GB) throw new Error(`${work}: ${gb(diskFree)} free, the bank needs ${gb(bankBytes)} + 5 GB`);
  }
  console.log(`bank past RAM: MemTotal ${gb(before.total)}, MemAvailable ${gb(before.available)}; ${reuse ? "reusing" : "writing"} ${layers.length} layers x ${rows} rows x ${D} float16 = ${gb(bankBytes)} ${reuse ? "in" : "to"} ${dir}`);
  let t0 = process.hrtime.bigint();
  let io = diskReadBytes();
  const fromDisk = (before: number) => `${gb(diskReadBytes() - before)} read from disk`;
  if (!reuse) writeSyntheticBank(dir, {
    rows,
    dim: D,
    layers,
    fill: "uniform",
    onChunk: (n) => {
      if (n % (rows / 8) < 8192) process.stderr.write(`\r  writing: ${gb(n * D * 2)}`);
    },
  });
  process.stderr.write("\n");
  if (!reuse) console.log(`  written in ${seconds(t0).toFixed(0)} s (${gb(dirBytes(dir))} on disk)`);
  await new Promise((r) => setTimeout(r, 2500)); // let the new files settle so the first open records them

  const advice = option("advice", "sequential") as MapAdvice;
  io = diskReadBytes();
  t0 = process.hrtime.bigint();
  let bank = openBank(dir, { advice });
  console.log(`  first open: ${seconds(t0).toFixed(1)} s (hashed ${bank.verification.hashed.length} files, ${fromDisk(io)}, recorded: ${bank.verification.recorded})`);
  t0 = process.hrtime.bigint();
  bank = openBank(dir, { advice });
  console.log(`  second open (madvise ${advice}): ${(seconds(t0) * 1000).toFixed(1)} ms (hashed ${bank.verification.hashed.length}, trusted ${bank.verification.trusted.length} on the record's word); mapped in ${bank.matrices.get(1)!.segments.length} segments per layer`);

  const mem = meminfo();
  console.log(`  free RAM before searching: MemAvailable ${gb(mem.available)}, MemFree ${gb(mem.free)}; the bank is ${(bankBytes / mem.available).toFixed(2)}x MemAvailable, ${(bankBytes / mem.total).toFixed(2)}x MemTotal`);
  const lens = latentLens(bank);
  const k = 5;
  const single = plantedQueries(bank, 2, 1);
  for (let i = 0; i < 3; i++) {
    const io = diskReadBytes();
    t0 = process.hrtime.bigint();
    const [top] = await lens.interpret(single.data.subarray((i % 2) * D, ((i % 2) + 1) * D), k);
    const t = seconds(t0);
    const ok = top[0].layer === single.planted[i % 2].layer && bank.tokenId[single.planted[i % 2].row] === top[0].tokenId;
    console.log(`  one query (LatentLens, both layers): ${t.toFixed(1)} s = ${gb(bankBytes / t)}/s of bank (${fromDisk(io)}), the planted row's layer and token first: ${ok}`);
  }

  const batch = plantedQueries(bank, 64, 2);
  io = diskReadBytes();
  t0 = process.hrtime.bigint();
  const perLayer: LayerTopK[] = [];
  for (const m of bank.matrices.values()) perLayer.push({ layer: m.layer, result: await searchSegments({ shape: [64, D], data: batch.data }, m, { k }) });
  const merged = mergeTopK(perLayer, k);
  const tBatch = seconds(t0);
  let planted = 0;
  for (let q = 0; q < 64; q++) planted += Number(merged.layers[q * k] === batch.planted[q].layer && merged.indices[q * k] === batch.planted[q].row);
  console.log(`  batch of 64 (search + merge): ${tBatch.toFixed(1)} s, ${((tBatch / 64) * 1000).toFixed(0)} ms per query (${fromDisk(io)}); planted row first for ${planted}/64`);
  console.log(`  anonymous memory of this process: ${(processMemory().anon / MB).toFixed(0)} MB (mapped file pages resident: ${(processMemory().file / MB).toFixed(0)} MB)`);

  const image = plantedQueries(bank, 576, 3);
  io = diskReadBytes();
  t0 = process.hrtime.bigint();
  await lens.interpret(image.data, k);
  const tImage = seconds(t0);
  console.log(`  batch of 576 (LatentLens, one image's patches): ${tImage.toFixed(1)} s, ${((tImage / 576) * 1000).toFixed(0)} ms per query (${fromDisk(io)})`);

  let equal = true;
  let numpyOk = true;
  let maxDiff = 0;
  for (const r of perLayer) {
    const file = path.join(dir, BANK_FILES.layer(r.layer));
    t0 = process.hrtime.bigint();
    const ref = await inMemoryReference(file, rows, D, batch.data, k);
    const same = ref.indices.every((v, i) => v === r.result.indices[i]) && ref.scores.every((v, i) => Object.is(v, r.result.scores[i]));
    equal &&= same;
    console.log(`  layer ${r.layer}: in-memory reference (read(2) into 1 GiB chunks, ${seconds(t0).toFixed(0)} s): ${same ? "equal bit for bit" : "DIFFERENT"}`);
    t0 = process.hrtime.bigint();
    const np = numpyReference(file, batch.data, D, k);
    let sameRows = true;
    for (let q = 0; q < 64; q++) {
      for (let j = 0; j < k; j++) {
        sameRows &&= np.indices[q][j] === r.result.indices[q * k + j];
        maxDiff = Math.max(maxDiff, Math.abs(np.scores[q][j] - r.result.scores[q * k + j]));
      }
    }
    numpyOk &&= sameRows;
    console.log(`  layer ${r.layer}: numpy float64 brute force (${seconds(t0).toFixed(0)} s): same rows ${sameRows}, max |score difference| ${maxDiff.toExponential(2)}`);
  }
  console.log(`  exact: ${equal && numpyOk ? "yes" : "NO"} (bit for bit against the in-memory kernel, same top-${k} rows as numpy float64)`);
  if (!flag("keep")) {
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(`  deleted ${dir}`);
  }
}

async function main(): Promise<void> {
  if (process.env.VISLENS_SLOW !== "1") {
    console.log("bench/bank-past-ram.ts writes tens of GB and runs for minutes: set VISLENS_SLOW=1 to run it");
    return;
  }
  const part = option("part", "all");
  const work = path.resolve(option("dir", path.join(REPO, ".cache", "bench-past-ram")));
  fs.mkdirSync(work, { recursive: true });
  console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}), load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  if (part === "build" || part === "all") await buildPart(work);
  if (part === "search" || part === "all") await searchPart(work);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
