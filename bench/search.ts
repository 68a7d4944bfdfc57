/**
 * Benchmark of the exact top-k search kernel against faiss-cpu IndexFlatIP on identical data, in
 * one run. Usage (from the repository root):
 *
 *   node --import tsx bench/search.ts [--quick] [--threads N] [--keep]
 *
 * Workloads (clustered, L2-normalised data as in docs/performance.md; k = 5):
 *   (a) 1M x 128 float32 rows: a batch of 576 queries (one 24x24 image) and a batch of 64
 *   (b) 200k x 4096 float16 rows: one query at a time, and a batch of 64
 * --quick: 100k x 128 and 20k x 4096 (under a minute).
 * faiss runs in a child process (/work/main/.venv/bin/python or $VISLENS_BENCH_PYTHON) on the same
 * rows (float16 rows widened to float32 for faiss), with the same thread count; data is exchanged
 * through .npy files in a temporary directory. Peak memory: about 1.7 GB here and 3.4 GB in Python
 * for (b).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { npyHeader, readNpy, type NpyDtype } from "../src/io/npy";
import { encodeFloat16, searchCapabilities, searchTopK, type RowMatrix, type TopKResult } from "../src/bank/search";

const REPO = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const KEEP = args.includes("--keep");
const threadsArg = args.indexOf("--threads");
const THREADS = threadsArg >= 0 ? Number(args[threadsArg + 1]) : os.cpus().length;
const PYTHON = process.env.VISLENS_BENCH_PYTHON ?? path.join(REPO, ".venv", "bin", "python");
const K = 5;

// ---- data ----------------------------------------------------------------------------------

/** xorshift32 + a table of standard normals: fast enough for 800M values, fine for benchmarking. */
class FastNormal {
  private s: number;
  private static table: Float32Array | undefined;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
    if (!FastNormal.table) {
      const t = new Float32Array(1 << 16);
      for (let i = 0; i < t.length; i++) {
        // Box-Muller on a grid of u1 with a scrambled u2: close enough to normal for benchmarking.
        const u1 = (i + 0.5) / t.length;
        const u2 = ((i * 40503) % t.length + 0.5) / t.length;
        t[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      }
      FastNormal.table = t;
    }
  }
  /** Fills out with N(0, sigma^2) values. */
  fill(out: Float32Array, sigma = 1): void {
    const t = FastNormal.table as Float32Array;
    let s = this.s;
    for (let i = 0; i < out.length; i += 2) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = t[s & 0xffff] * sigma;
      if (i + 1 < out.length) out[i + 1] = t[(s >>> 16) & 0xffff] * sigma;
    }
    this.s = s;
  }
}

function normaliseRows(x: Float32Array, d: number): void {
  for (let r = 0; r < x.length / d; r++) {
    let s = 0;
    for (let j = r * d; j < (r + 1) * d; j++) s += x[j] * x[j];
    const inv = 1 / Math.sqrt(s);
    for (let j = r * d; j < (r + 1) * d; j++) x[j] *= inv;
  }
}

/**
 * Clustered, L2-normalised vectors: `clusters` random unit centres; each vector is a centre plus
 * isotropic noise of total norm ~0.5 (cosine to its centre ~0.9), renormalised. Generated in
 * chunks of rows and handed to `sink` (so float16 tables never exist as float32 in full).
 */
function clustered(n: number, d: number, centres: Float32Array, seed: number, sink: (chunk: Float32Array, row0: number) => void): void {
  const gen = new FastNormal(seed);
  const nc = centres.length / d;
  const chunkRows = Math.max(1, Math.floor((4 << 20) / (4 * d)));
  const buf = new Float32Array(chunkRows * d);
  let pick = seed * 2654435761;
  for (let r0 = 0; r0 < n; r0 += chunkRows) {
    const rows = Math.min(chunkRows, n - r0);
    const chunk = buf.subarray(0, rows * d);
    gen.fill(chunk, 0.5 / Math.sqrt(d));
    for (let r = 0; r < rows; r++) {
      pick = (Math.imul(pick, 1103515245) + 12345) >>> 0;
      const c = pick % nc;
      for (let j = 0; j < d; j++) chunk[r * d + j] += centres[c * d + j];
    }
    normaliseRows(chunk, d);
    sink(chunk, r0);
  }
}

function makeCentres(nc: number, d: number, seed: number): Float32Array {
  const c = new Float32Array(nc * d);
  new FastNormal(seed).fill(c);
  normaliseRows(c, d);
  return c;
}

function writeNpyLarge(file: string, dtype: NpyDtype, shape: number[], data: ArrayBufferView): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, npyHeader(dtype, shape));
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let off = 0; off < bytes.length; off += 256 << 20) fs.writeSync(fd, bytes.subarray(off, Math.min(bytes.length, off + (256 << 20))));
  } finally {
    fs.closeSync(fd);
  }
}

// ---- measuring -----------------------------------------------------------------------------

const load = (): string => os.loadavg()[0].toFixed(2);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Row {
  workload: string;
  ours: number; // queries/s
  faiss: number;
  target?: number;
  recall: number;
  detail: string;
  load: string;
}

async function timeBatch(q: Float32Array, d: number, nq: number, rows: RowMatrix, repeat: number): Promise<{ qps: number; result: TopKResult; times: number[] }> {
  const queries = { shape: [nq, d], data: q.subarray(0, nq * d) };
  let result = await searchTopK({ shape: [Math.min(nq, 4), d], data: q.subarray(0, Math.min(nq, 4) * d) }, rows, { k: K, threads: THREADS }); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = process.hrtime.bigint();
    result = await searchTopK(queries, rows, { k: K, threads: THREADS });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return { qps: nq / median(times), result, times };
}

async function timeSingles(q: Float32Array, d: number, nq: number, rows: RowMatrix): Promise<{ qps: number; indices: Int32Array; times: number[]; result: TopKResult }> {
  const indices = new Int32Array(nq * K);
  let result = await searchTopK({ shape: [1, d], data: q.subarray(0, d) }, rows, { k: K, threads: THREADS }); // warm-up
  const times: number[] = [];
  for (let i = 0; i < nq; i++) {
    const t = process.hrtime.bigint();
    result = await searchTopK({ shape: [1, d], data: q.subarray(i * d, (i + 1) * d) }, rows, { k: K, threads: THREADS });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
    indices.set(result.indices, i * K);
  }
  return { qps: 1 / median(times), indices, times, result };
}

function recall(ours: Int32Array, theirs: Int32Array, nq: number): number {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const mine = new Set(ours.subarray(q * K, (q + 1) * K));
    for (let j = 0; j < K; j++) if (mine.has(theirs[q * K + j])) hit++;
  }
  return hit / (nq * K);
}

interface FaissJob {
  name: string;
  nq: number;
  repeat?: number;
  single?: boolean;
}

function runFaiss(dir: string, rowsFile: string, queriesFile: string, jobs: FaissJob[]): { version: string; build: number; jobs: Record<string, { times_s: number[]; indices: Int32Array }> } {
  const cfgFile = path.join(dir, `faiss-${path.basename(rowsFile)}.json`);
  fs.writeFileSync(cfgFile, JSON.stringify({ rows: rowsFile, queries: queriesFile, k: K, threads: THREADS, outdir: dir, jobs }));
  const out = execFileSync(PYTHON, [path.join(REPO, "bench", "faiss_search.py"), cfgFile], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 });
  const parsed = JSON.parse(out.trim().split("\n").pop() as string) as { faiss: string; numpy: string; index_build_s: number; jobs: Record<string, { times_s: number[] }> };
  const res: Record<string, { times_s: number[]; indices: Int32Array }> = {};
  for (const job of jobs) {
    res[job.name] = { times_s: parsed.jobs[job.name].times_s, indices: readNpy(path.join(dir, `${job.name}.npy`)).data as Int32Array };
  }
  return { version: `faiss-cpu ${parsed.faiss}, numpy ${parsed.numpy}`, build: parsed.index_build_s, jobs: res };
}

// ---- workloads -----------------------------------------------------------------------------

async function workloadA(dir: string, table: Row[]): Promise<string> {
  const d = 128;
  const n = QUICK ? 100_000 : 1_000_000;
  const nc = Math.max(16, Math.round(n / 1000));
  const centres = makeCentres(nc, d, 1);
  const rows = new Float32Array(n * d);
  clustered(n, d, centres, 2, (chunk, r0) => rows.set(chunk, r0 * d));
  const q = new Float32Array(576 * d);
  clustered(576, d, centres, 3, (chunk, r0) => q.set(chunk, r0 * d));
  const rowsFile = path.join(dir, "a_rows.npy");
  const qFile = path.join(dir, "a_queries.npy");
  writeNpyLarge(rowsFile, "<f4", [n, d], rows);
  writeNpyLarge(qFile, "<f4", [576, d], q);
  const matrix: RowMatrix = { shape: [n, d], data: rows };
  const label = `${n / 1000}k x ${d} f32`;

  const l576 = load();
  const b576 = await timeBatch(q, d, 576, matrix, 5);
  const l64 = load();
  const b64 = await timeBatch(q, d, 64, matrix, 5);
  console.error(`  ours: 576 -> ${b576.times.map((t) => t.toFixed(3)).join(", ")} s; 64 -> ${b64.times.map((t) => t.toFixed(3)).join(", ")} s (${b576.result.stats.isa}/${b576.result.stats.path}, ${b576.result.stats.threads} threads)`);
  const lf = load();
  const f = runFaiss(dir, rowsFile, qFile, [
    { name: "a576", nq: 576, repeat: 3 },
    { name: "a64", nq: 64, repeat: 3 },
  ]);
  console.error(`  faiss: 576 -> ${f.jobs.a576.times_s.map((t) => t.toFixed(3)).join(", ")} s; 64 -> ${f.jobs.a64.times_s.map((t) => t.toFixed(3)).join(", ")} s`);
  table.push({
    workload: `(a) ${label}, batch 576`,
    ours: b576.qps,
    faiss: 576 / median(f.jobs.a576.times_s),
    target: 3,
    recall: recall(b576.result.indices, f.jobs.a576.indices, 576),
    detail: `${(median(b576.times) * 1000).toFixed(0)} ms vs ${(median(f.jobs.a576.times_s) * 1000).toFixed(0)} ms; ${((2 * n * d * 576) / median(b576.times) / 1e9).toFixed(0)} GFLOP/s; ${(b576.result.stats.candidates / 576).toFixed(1)} rescored/query`,
    load: `${l576}/${lf}`,
  });
  table.push({
    workload: `(a) ${label}, batch 64`,
    ours: b64.qps,
    faiss: 64 / median(f.jobs.a64.times_s),
    recall: recall(b64.result.indices, f.jobs.a64.indices, 64),
    detail: `${(median(b64.times) * 1000).toFixed(0)} ms vs ${(median(f.jobs.a64.times_s) * 1000).toFixed(0)} ms; ${((2 * n * d * 64) / median(b64.times) / 1e9).toFixed(0)} GFLOP/s`,
    load: `${l64}/${lf}`,
  });
  return f.version;
}

async function workloadB(dir: string, table: Row[]): Promise<string> {
  const d = 4096;
  const n = QUICK ? 20_000 : 200_000;
  const nSingle = QUICK ? 5 : 9;
  const nc = Math.max(16, Math.round(n / 1000));
  const centres = makeCentres(nc, d, 4);
  const rows = new Uint16Array(n * d);
  clustered(n, d, centres, 5, (chunk, r0) => encodeFloat16(chunk, rows.subarray(r0 * d, r0 * d + chunk.length)));
  const q = new Float32Array(64 * d);
  clustered(64, d, centres, 6, (chunk, r0) => q.set(chunk, r0 * d));
  const rowsFile = path.join(dir, "b_rows.npy");
  const qFile = path.join(dir, "b_queries.npy");
  writeNpyLarge(rowsFile, "<f2", [n, d], rows);
  writeNpyLarge(qFile, "<f4", [64, d], q);
  const matrix: RowMatrix = { shape: [n, d], data: rows };
  const label = `${n / 1000}k x ${d} f16`;

  const l1 = load();
  const s1 = await timeSingles(q, d, nSingle, matrix);
  const l64 = load();
  const b64 = await timeBatch(q, d, 64, matrix, 3);
  console.error(`  ours: single -> ${s1.times.map((t) => (t * 1000).toFixed(1)).join(", ")} ms (${s1.result.stats.path}); 64 -> ${b64.times.map((t) => t.toFixed(3)).join(", ")} s (${b64.result.stats.path})`);
  const lf = load();
  const f = runFaiss(dir, rowsFile, qFile, [
    { name: "b1", nq: nSingle, single: true },
    { name: "b64", nq: 64, repeat: 3 },
  ]);
  console.error(`  faiss: single -> ${f.jobs.b1.times_s.map((t) => (t * 1000).toFixed(1)).join(", ")} ms; 64 -> ${f.jobs.b64.times_s.map((t) => t.toFixed(3)).join(", ")} s`);
  const bytes = n * d * 2;
  table.push({
    workload: `(b) ${label}, single query`,
    ours: s1.qps,
    faiss: 1 / median(f.jobs.b1.times_s),
    target: 1.5,
    recall: recall(s1.indices, f.jobs.b1.indices, nSingle),
    detail: `${(1000 / s1.qps).toFixed(1)} ms vs ${(1000 * median(f.jobs.b1.times_s)).toFixed(1)} ms; ours ${((bytes * s1.qps) / 1e9).toFixed(1)} GB/s of f16, faiss ${((2 * bytes) / median(f.jobs.b1.times_s) / 1e9).toFixed(1)} GB/s of f32`,
    load: `${l1}/${lf}`,
  });
  table.push({
    workload: `(b) ${label}, batch 64`,
    ours: b64.qps,
    faiss: 64 / median(f.jobs.b64.times_s),
    recall: recall(b64.result.indices, f.jobs.b64.indices, 64),
    detail: `${(median(b64.times) * 1000).toFixed(0)} ms vs ${(median(f.jobs.b64.times_s) * 1000).toFixed(0)} ms; ${((2 * n * d * 64) / median(b64.times) / 1e9).toFixed(0)} GFLOP/s; ${(b64.result.stats.candidates / 64).toFixed(1)} rescored/query`,
    load: `${l64}/${lf}`,
  });
  return f.version;
}

async function main(): Promise<void> {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} not found: create the venv (scripts/bootstrap.sh) and install faiss-cpu into it, or set VISLENS_BENCH_PYTHON`);
  const caps = searchCapabilities();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vislens-bench-"));
  const table: Row[] = [];
  const started = Date.now();
  console.error(`vislens search benchmark${QUICK ? " (--quick)" : ""}: ${os.cpus()[0]?.model ?? "cpu"}, ${os.cpus().length} hardware threads, isa ${caps.best}, ${THREADS} threads each side, k = ${K}, load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}; data in ${dir}`);
  let version = "";
  try {
    console.error("(a) float32 rows, d = 128");
    version = await workloadA(dir, table);
    console.error("(b) float16 rows, d = 4096");
    version = await workloadB(dir, table);
  } finally {
    if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
  const header = ["workload", "ours q/s", "faiss q/s", "ours/faiss", "target", "recall@5 vs faiss", "load 1m (ours/faiss)", "detail"];
  const lines = table.map((r) => [
    r.workload,
    r.ours.toFixed(1),
    r.faiss.toFixed(1),
    `${(r.ours / r.faiss).toFixed(2)}x`,
    r.target ? `>= ${r.target}x ${r.ours / r.faiss >= r.target ? "ok" : "MISSED"}` : "-",
    r.recall.toFixed(4),
    r.load,
    r.detail,
  ]);
  console.log(`\n${version}; ${THREADS} threads; wall ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const l of lines) console.log(`| ${l.join(" | ")} |`);
  const failed = table.filter((r) => r.workload.startsWith("(a)") && r.recall < 0.999);
  if (failed.length) {
    console.log(`\nrecall below 0.999 for float32: ${failed.map((r) => r.workload).join("; ")}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
