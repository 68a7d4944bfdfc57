/**
 * Approximate search: HNSW (hnswlib-node, as `vislens bank build --hnsw` builds it) against the
 * exact native kernel on the same clustered, L2-normalised rows, one query at a time (the
 * interactive case). Prints recall@5 (ann-benchmarks definition: a returned row counts when it
 * scores at least the exact 5th score) and the speed-up over exact search.
 *
 *   node --import tsx bench/approximate.ts [--quick]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildHnsw, DEFAULT_HNSW, openHnsw } from "../src/bank/hnsw";
import { encodeFloat16, searchTopKSync } from "../src/bank/search";
import { seededRandom } from "../src/util/random";

const QUICK = process.argv.includes("--quick");
const N = QUICK ? 20_000 : 200_000;
const D = 128;
const QUERIES = 500;
const K = 5;

/**
 * Clustered unit vectors, generated as in bench/search.ts: random unit centres, one per 1000 rows;
 * each vector = centre + noise of norm about 0.5, renormalised (bank rows cluster by token).
 * Queries come from the same centres (`seed` picks the noise).
 */
function clustered(n: number, centres: Float32Array, seed: number): Float32Array {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const count = centres.length / D;
  const sigma = 0.5 / Math.sqrt(D);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(random() * count);
    let sq = 0;
    for (let d = 0; d < D; d++) {
      const v = centres[c * D + d] + sigma * gauss();
      out[i * D + d] = v;
      sq += v * v;
    }
    for (let d = 0; d < D; d++) out[i * D + d] /= Math.sqrt(sq);
  }
  return out;
}

function unitCentres(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const out = Float32Array.from({ length: count * D }, gauss);
  for (let c = 0; c < count; c++) {
    const norm = Math.hypot(...out.subarray(c * D, (c + 1) * D));
    for (let d = 0; d < D; d++) out[c * D + d] /= norm;
  }
  return out;
}

function main(): void {
  const centres = unitCentres(Math.max(1, Math.round(N / 1000)), 1);
  const rows = clustered(N, centres, 2);
  const queries = clustered(QUERIES, centres, 3);
  const halves = encodeFloat16(rows);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vislens-bench-hnsw-"));
  const t0 = Date.now();
  buildHnsw({ layer: 0, dtype: "f16", rows: N, dim: D, data: halves }, dir, DEFAULT_HNSW, K, 50);
  const buildSeconds = (Date.now() - t0) / 1000;
  const table = { shape: [N, D], data: halves };
  let start = process.hrtime.bigint();
  const exact: ReturnType<typeof searchTopKSync>[] = [];
  for (let q = 0; q < QUERIES; q++) exact.push(searchTopKSync({ shape: [1, D], data: queries.subarray(q * D, (q + 1) * D) }, table, { k: K }));
  const exactSeconds = Number(process.hrtime.bigint() - start) / 1e9;

  console.log(`approximate search: ${N} x ${D} f16 rows, ${QUERIES} single queries, k = ${K}, HNSW M ${DEFAULT_HNSW.M} (index built in ${buildSeconds.toFixed(1)} s)`);
  console.log(`  exact (native kernel)      ${(QUERIES / exactSeconds).toFixed(0).padStart(7)} queries/s`);
  for (const ef of [16, DEFAULT_HNSW.efSearch, 256]) {
    const index = openHnsw(dir, 0, D, ef);
    start = process.hrtime.bigint();
    const approx: ReturnType<typeof index.search>[] = [];
    for (let q = 0; q < QUERIES; q++) approx.push(index.search(queries.subarray(q * D, (q + 1) * D), K));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    let hits = 0;
    approx.forEach((a, q) => {
      const kth = exact[q].scores[K - 1] - 1e-3; // hnsw scores are float32 sums over f16-decoded rows
      for (const s of a.scores) if (s >= kth) hits++;
    });
    const mark = ef === DEFAULT_HNSW.efSearch ? " (default)" : "";
    console.log(`  HNSW efSearch ${String(ef).padStart(3)}${mark.padEnd(10)} ${(QUERIES / seconds).toFixed(0).padStart(7)} queries/s  speed-up ${(exactSeconds / seconds).toFixed(1)}x  recall@${K} ${(hits / (QUERIES * K)).toFixed(4)}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main();
