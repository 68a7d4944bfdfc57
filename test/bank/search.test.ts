import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, test } from "node:test";

import { halfToFloat } from "../../src/io/float16";
import {
  decodeInt8,
  encodeFloat16,
  loadNative,
  mergeTopK,
  quantizeInt8,
  searchCapabilities,
  searchTopK,
  searchTopKSync,
  type RowDType,
  type RowMatrix,
  type SearchIsa,
  type TopKResult,
} from "../../src/bank/search";
import type { Tensor } from "../../src/model/tensor";
import { seededRandom } from "../../src/util/random";

const REPO = path.resolve(__dirname, "..", "..");

const rng = seededRandom;

function randomMatrix(n: number, d: number, seed: number, normalise = false): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = r() * 2 - 1;
  if (normalise) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += out[i * d + j] ** 2;
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) out[i * d + j] *= inv;
    }
  }
  return out;
}

/** Rows in the given storage type, plus the float32 values the kernel must use for them. */
function makeRows(values: Float32Array, n: number, d: number, dtype: RowDType): { rows: RowMatrix; decoded: Float32Array } {
  if (dtype === "f32") return { rows: { shape: [n, d], data: values }, decoded: values };
  if (dtype === "f16") {
    const bits = encodeFloat16(values);
    const decoded = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) decoded[i] = halfToFloat(bits[i]); // independent JS decoder
    return { rows: { shape: [n, d], data: bits }, decoded };
  }
  const q = quantizeInt8(values, d);
  return { rows: { shape: [n, d], data: q.data, scales: q.scales }, decoded: decodeInt8(q.data, q.scales, d) };
}

/** Brute force in float64: s += q[p] * x[p] in dimension order; NaN never enters; ties by lower index. */
function reference(queries: Float32Array, rows: Float32Array, d: number, k: number): { k: number; indices: Int32Array; scores: Float32Array } {
  const nq = queries.length / d;
  const n = rows.length / d;
  const kout = Math.min(k, n);
  const indices = new Int32Array(nq * kout).fill(-1);
  const scores = new Float32Array(nq * kout).fill(NaN);
  const s = new Float64Array(n);
  const order: number[] = [];
  for (let q = 0; q < nq; q++) {
    order.length = 0;
    for (let r = 0; r < n; r++) {
      let acc = 0;
      for (let p = 0; p < d; p++) acc += queries[q * d + p] * rows[r * d + p];
      s[r] = acc;
      if (!Number.isNaN(acc)) order.push(r);
    }
    order.sort((a, b) => (s[b] > s[a] ? 1 : s[b] < s[a] ? -1 : a - b));
    for (let j = 0; j < Math.min(kout, order.length); j++) {
      indices[q * kout + j] = order[j];
      scores[q * kout + j] = s[order[j]];
    }
  }
  return { k: kout, indices, scores };
}

function assertSameResult(actual: { k: number; indices: Int32Array; scores: Float32Array }, expected: { k: number; indices: Int32Array; scores: Float32Array }, what: string): void {
  assert.equal(actual.k, expected.k, `${what}: k`);
  assert.equal(actual.indices.length, expected.indices.length, `${what}: length`);
  for (let i = 0; i < expected.indices.length; i++) {
    const q = Math.floor(i / Math.max(1, expected.k));
    if (actual.indices[i] !== expected.indices[i] || !Object.is(actual.scores[i], expected.scores[i])) {
      assert.fail(
        `${what}: query ${q} rank ${i - q * expected.k}: got row ${actual.indices[i]} score ${actual.scores[i]}, ` +
          `expected row ${expected.indices[i]} score ${expected.scores[i]}`,
      );
    }
  }
}

const ISAS = searchCapabilities().supported as SearchIsa[];

describe("searchTopK equals a float64 brute force", () => {
  // d = 300 spans three of the AVX kernels' 128-wide dimension blocks; N values are not multiples of the
  // 4 / 12 / 24 / 48-row blocks; queries 1..4 take the dot path, more the GEMM path, 40 = 32 + 8
  // exercises a full 32-query panel and a short last one.
  const dims = [1, 37, 128, 300];
  const rowCounts = [1, 97, 1013];
  const queryCounts = [1, 3, 17, 40];
  for (const dtype of ["f32", "f16", "i8"] as RowDType[]) {
    for (const isa of ISAS) {
      test(`${dtype} rows, isa ${isa}`, () => {
        let seed = 1;
        for (const d of dims) {
          for (const n of rowCounts) {
            const { rows, decoded } = makeRows(randomMatrix(n, d, seed++), n, d, dtype);
            for (const nq of queryCounts) {
              const queries: Tensor = { shape: [nq, d], data: randomMatrix(nq, d, seed++) };
              for (const k of [1, 5, 50, n + 3]) {
                const got = searchTopKSync(queries, rows, { k, dtype, isa });
                assertSameResult(got, reference(queries.data, decoded, d, k), `d=${d} N=${n} Q=${nq} k=${k}`);
                assert.equal(got.stats.exact, true);
              }
            }
          }
        }
      });
    }
  }

  test("L2-normalised rows (the bank's case), 5000 x 128, 70 queries, k = 5 and 50", async () => {
    const d = 128;
    const n = 5000;
    for (const dtype of ["f32", "f16", "i8"] as RowDType[]) {
      const { rows, decoded } = makeRows(randomMatrix(n, d, 77, true), n, d, dtype);
      const queries: Tensor = { shape: [70, d], data: randomMatrix(70, d, 78, true) };
      for (const k of [5, 50]) {
        const got = await searchTopK(queries, rows, { k });
        assertSameResult(got, reference(queries.data, decoded, d, k), `${dtype} k=${k}`);
        assert.equal(got.stats.passes, 1, "normalised rows need one pass");
      }
    }
  });

  test("exact ties are broken by the lower row index, near-ties by the float64 score", () => {
    const d = 64;
    const base = randomMatrix(1, d, 5, true);
    const n = 300;
    const values = new Float32Array(n * d);
    const r = rng(9);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        // Every third row an exact copy of the query direction; the others differ in the last bits.
        values[i * d + j] = i % 3 === 0 ? base[j] : base[j] * (1 + (r() - 0.5) * 1e-6);
      }
    }
    const queries: Tensor = { shape: [2, d], data: new Float32Array([...base, ...base]) };
    for (const isa of ISAS) {
      for (const k of [1, 7, 40]) {
        const got = searchTopKSync(queries, { shape: [n, d], data: values }, { k, isa });
        assertSameResult(got, reference(queries.data, values, d, k), `isa ${isa} k=${k}`);
      }
    }
  });

  test("thousands of exactly tied rows overflow the candidate band: still the lowest indices, flagged inexact", () => {
    const d = 8;
    const n = 20_000;
    const values = new Float32Array(n * d).fill(0.25);
    const got = searchTopKSync({ shape: [1, d], data: new Float32Array(d).fill(1) }, { shape: [n, d], data: values }, { k: 3, threads: 1 });
    assert.deepEqual([...got.indices], [0, 1, 2]);
    assert.deepEqual([...got.scores], [2, 2, 2]);
    assert.equal(got.stats.exact, false);
  });

  test("unnormalised rows whose largest norm the sample misses: second pass, still exact", () => {
    const d = 32;
    const n = 1000;
    const values = randomMatrix(n, d, 11, true);
    // The norm estimate samples rows 0, 3, 6, ...; row 1 is 1000x longer than the rest.
    for (let j = 0; j < d; j++) values[d + j] *= 1000;
    const queries: Tensor = { shape: [20, d], data: randomMatrix(20, d, 12) };
    for (const isa of ISAS) {
      const got = searchTopKSync(queries, { shape: [n, d], data: values }, { k: 5, isa });
      assertSameResult(got, reference(queries.data, values, d, 5), `isa ${isa}`);
      assert.equal(got.stats.passes, 2);
    }
  });
});

describe("paths agree bit for bit", () => {
  test("single queries, a batch, 1 or 2 threads and every instruction set give identical answers", async () => {
    const d = 96;
    const n = 3001;
    for (const dtype of ["f32", "f16", "i8"] as RowDType[]) {
      const { rows } = makeRows(randomMatrix(n, d, 21, true), n, d, dtype);
      const nq = 45;
      const q = randomMatrix(nq, d, 22, true);
      const k = 10;
      const batch = await searchTopK({ shape: [nq, d], data: q }, rows, { k, threads: 2 });
      assert.equal(batch.stats.path, ISAS[0] === "scalar" ? "scalar" : "gemm");
      for (let i = 0; i < nq; i++) {
        const one = searchTopKSync({ shape: [1, d], data: q.subarray(i * d, (i + 1) * d) }, rows, { k, threads: 1 });
        assert.deepEqual(one.indices, batch.indices.subarray(i * k, (i + 1) * k), `${dtype} query ${i}: indices`);
        assert.deepEqual(one.scores, batch.scores.subarray(i * k, (i + 1) * k), `${dtype} query ${i}: scores`);
      }
      for (const isa of ISAS) {
        for (const threads of [1, 2]) {
          const other = searchTopKSync({ shape: [nq, d], data: q }, rows, { k, isa, threads });
          assert.deepEqual(other.indices, batch.indices, `${dtype} ${isa} threads=${threads}`);
          assert.deepEqual(other.scores, batch.scores, `${dtype} ${isa} threads=${threads}`);
        }
      }
    }
  });

  test("the async search keeps its inputs alive while the JS side drops them and collects garbage", async () => {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const d = 64;
    const n = 200_000;
    const nq = 200;
    const seedRows = randomMatrix(2000, d, 81, true);
    const q = randomMatrix(nq, d, 82, true);
    // The expected answer, from the synchronous path (itself checked against brute force above).
    const make = (): Float32Array => {
      const rows = new Float32Array(n * d);
      for (let i = 0; i < n; i++) rows.set(seedRows.subarray((i % 2000) * d, ((i % 2000) + 1) * d), i * d);
      for (let i = 0; i < rows.length; i += 97) rows[i] += 1e-3 * ((i % 7) - 3);
      return rows;
    };
    const expected = searchTopKSync({ shape: [nq, d], data: q }, { shape: [n, d], data: make() }, { k: 5 });
    // Nothing but the pending search refers to these arrays (the addon is called directly: the
    // TypeScript wrapper's own frame would otherwise keep them alive and hide a missing reference).
    const pending = loadNative().search(Float32Array.from(q), d, make(), "f32", null, 5, 2, "auto");
    let settled = false;
    void pending.finally(() => (settled = true));
    while (!settled) {
      gc();
      new Float32Array(4 << 20).fill(1); // churn the heap
      await new Promise((resolve) => setImmediate(resolve));
    }
    const got = await pending;
    assert.deepEqual(got.indices, expected.indices);
    assert.deepEqual(got.scores, expected.scores);
  });

  test("typed arrays that are views at an offset into a larger buffer are read at their offset", () => {
    const d = 20;
    const n = 50;
    const big = randomMatrix(n + 3, d, 31);
    const rows = big.subarray(3 * d); // byteOffset != 0
    const qbig = randomMatrix(4, d, 32);
    const q = qbig.subarray(d); // 3 queries at an offset
    const got = searchTopKSync({ shape: [3, d], data: q }, { shape: [n, d], data: rows }, { k: 4 });
    assertSameResult(got, reference(q, rows, d, 4), "offset views");
  });
});

describe("NaN and edge cases", () => {
  test("a NaN score never enters the top-k; missing places are index -1, score NaN", () => {
    const d = 8;
    const n = 40;
    const values = randomMatrix(n, d, 41);
    const nanRows = [0, 5, 6, 17, 39];
    for (const r of nanRows) values[r * d + 3] = NaN;
    const queries: Tensor = { shape: [5, d], data: randomMatrix(5, d, 42) };
    for (const isa of ISAS) {
      for (const k of [3, 35, 36, 100]) {
        const got = searchTopKSync(queries, { shape: [n, d], data: values }, { k, isa });
        assertSameResult(got, reference(queries.data, values, d, k), `isa ${isa} k=${k}`);
        for (const i of got.indices) assert.ok(!nanRows.includes(i), `NaN row ${i} returned`);
        if (k >= 36) {
          assert.equal(got.k, Math.min(k, n));
          assert.equal(got.indices[35], -1);
          assert.ok(Number.isNaN(got.scores[35]));
        }
      }
    }
    // All rows NaN: every place is padding.
    const allNan = new Float32Array(3 * d).fill(NaN);
    const got = searchTopKSync({ shape: [1, d], data: new Float32Array(d).fill(1) }, { shape: [3, d], data: allNan }, { k: 2 });
    assert.deepEqual([...got.indices], [-1, -1]);
  });

  test("k > N returns every row; Q = 0 and N = 0 return empty results", async () => {
    const d = 16;
    const values = randomMatrix(7, d, 51);
    const q: Tensor = { shape: [2, d], data: randomMatrix(2, d, 52) };
    const got = await searchTopK(q, { shape: [7, d], data: values }, { k: 1000 });
    assert.equal(got.k, 7);
    assertSameResult(got, reference(q.data, values, d, 1000), "k > N");
    const noQueries = await searchTopK({ shape: [0, d], data: new Float32Array(0) }, { shape: [7, d], data: values }, { k: 5 });
    assert.equal(noQueries.queries, 0);
    assert.equal(noQueries.indices.length, 0);
    const noRows = searchTopKSync(q, { shape: [0, d], data: new Float32Array(0) }, { k: 5 });
    assert.equal(noRows.k, 0);
    assert.equal(noRows.queries, 2);
    assert.equal(noRows.indices.length, 0);
  });
});

describe("large batches", () => {
  test("more queries than one internal chunk (2048) are all answered", () => {
    const d = 12;
    const n = 333;
    const nq = 2100;
    const rows = randomMatrix(n, d, 91);
    const q = randomMatrix(nq, d, 92);
    const got = searchTopKSync({ shape: [nq, d], data: q }, { shape: [n, d], data: rows }, { k: 3 });
    assertSameResult(got, reference(q, rows, d, 3), "2100 queries");
  });
});

describe("argument validation", () => {
  const d = 4;
  const rows: RowMatrix = { shape: [3, d], data: new Float32Array(3 * d).fill(0.5) };
  const q: Tensor = { shape: [2, d], data: new Float32Array(2 * d).fill(1) };

  test("bad arguments throw TypeError / RangeError naming the parameter and the value", () => {
    assert.throws(() => searchTopKSync(q, { shape: [2, 6], data: new Float32Array(12) }, { k: 1 }), (e: Error) => e instanceof RangeError && /dimension mismatch/.test(e.message) && /4/.test(e.message) && /6/.test(e.message));
    assert.throws(() => searchTopKSync(q, rows, { k: 0 }), (e: Error) => e instanceof RangeError && /options\.k/.test(e.message) && /got 0/.test(e.message));
    assert.throws(() => searchTopKSync(q, rows, { k: 2.5 }), (e: Error) => e instanceof RangeError && /2\.5/.test(e.message));
    assert.throws(() => searchTopKSync(q, rows, { k: "5" as unknown as number }), TypeError);
    const bad = new Float32Array(3 * d).fill(1);
    bad[2 * d + 1] = NaN;
    assert.throws(() => searchTopKSync({ shape: [3, d], data: bad }, rows, { k: 1 }), (e: Error) => e instanceof RangeError && /queries row 2/.test(e.message) && /NaN/.test(e.message) && /column 1/.test(e.message));
    bad[2 * d + 1] = Infinity;
    assert.throws(() => searchTopKSync({ shape: [3, d], data: bad }, rows, { k: 1 }), (e: Error) => e instanceof RangeError && /Infinity/.test(e.message));
    assert.throws(() => searchTopKSync(q, rows, { k: 1, dtype: "f16" }), (e: Error) => e instanceof TypeError && /f16/.test(e.message) && /Float32Array/.test(e.message));
    assert.throws(() => searchTopKSync(q, { shape: [3, d], data: new Int8Array(3 * d) }, { k: 1 }), (e: Error) => e instanceof TypeError && /rows\.scales/.test(e.message));
    assert.throws(() => searchTopKSync(q, { shape: [3, d], data: new Int8Array(3 * d), scales: new Float32Array(2) }, { k: 1 }), (e: Error) => e instanceof RangeError && /scales/.test(e.message));
    assert.throws(() => searchTopKSync(q, { shape: [4, d], data: rows.data }, { k: 1 }), (e: Error) => e instanceof RangeError && /rows\.data has 12/.test(e.message));
    assert.throws(() => searchTopKSync({ shape: [2, d], data: new Float64Array(8) as unknown as Float32Array }, rows, { k: 1 }), (e: Error) => e instanceof TypeError && /queries\.data/.test(e.message));
    assert.throws(() => searchTopKSync(q, rows, { k: 1, threads: 0 }), (e: Error) => e instanceof RangeError && /threads/.test(e.message));
    assert.throws(() => searchTopKSync(q, rows, { k: 1, isa: "neon" as SearchIsa }), (e: Error) => e instanceof RangeError && /neon/.test(e.message));
  });

  test("the async variant rejects the same way", async () => {
    await assert.rejects(searchTopK(q, rows, { k: -1 }), RangeError);
  });

  test("a missing addon names the file and the build command", () => {
    const script = "require('./src/bank/search/native.ts').loadNative()";
    let message = "";
    try {
      execFileSync(process.execPath, ["--import", "tsx", "-e", script], {
        cwd: REPO,
        env: { ...process.env, VISLENS_NATIVE_ADDON: "/nonexistent/vislens_native.node" },
        stdio: "pipe",
      });
    } catch (error) {
      message = String((error as { stderr: Buffer }).stderr);
    }
    assert.match(message, /\/nonexistent\/vislens_native\.node/);
    assert.match(message, /bash native\/build\.sh/);
  });
});

describe("mergeTopK", () => {
  test("the merge of per-layer top-k lists equals the top-k over the union of all layers", async () => {
    const d = 24;
    const layerIds = [1, 2, 4, 8];
    const sizes = [300, 41, 3, 150]; // layer 4 has fewer rows than k
    const layers = layerIds.map((layer, i) => ({ layer, values: randomMatrix(sizes[i], d, 60 + i, true) }));
    // Two layers share a row so that an exact cross-layer tie occurs: lower layer first.
    layers[1].values.set(layers[0].values.subarray(0, d), 5 * d);
    const nq = 9;
    const q = randomMatrix(nq, d, 70, true);
    q.set(layers[0].values.subarray(0, d), 0); // query 0 hits the shared row
    for (const k of [1, 5, 20]) {
      const per = await Promise.all(
        layers.map(async ({ layer, values }) => ({
          layer,
          result: await searchTopK({ shape: [nq, d], data: q }, { shape: [values.length / d, d], data: values }, { k }),
        })),
      );
      const merged = mergeTopK(per, k);
      // Brute force over the union, ordered by score, then layer, then row.
      const kout = Math.min(k, sizes.reduce((a, b) => a + Math.min(b, k), 0));
      assert.equal(merged.k, kout);
      for (let qi = 0; qi < nq; qi++) {
        const all: { layer: number; index: number; score: number }[] = [];
        for (const { layer, values } of layers) {
          const ref = reference(q.subarray(qi * d, (qi + 1) * d), values, d, values.length / d);
          for (let j = 0; j < ref.k; j++) all.push({ layer, index: ref.indices[j], score: ref.scores[j] });
        }
        all.sort((a, b) => b.score - a.score || a.layer - b.layer || a.index - b.index);
        for (let j = 0; j < kout; j++) {
          const at = qi * kout + j;
          assert.deepEqual(
            { layer: merged.layers[at], index: merged.indices[at], score: merged.scores[at] },
            all[j],
            `k=${k} query ${qi} rank ${j}`,
          );
        }
      }
      if (k >= 5) {
        // query 0: the shared row scores ~1 in layers 1 and 2; the lower layer comes first.
        assert.deepEqual([merged.layers[0], merged.indices[0], merged.layers[1], merged.indices[1]], [1, 0, 2, 5]);
      }
    }
  });

  test("padding and NaN entries are skipped; bad input is rejected", () => {
    const a: TopKResult["indices"] = new Int32Array([3, -1]);
    const r = { queries: 1, k: 2, indices: a, scores: new Float32Array([0.5, NaN]) };
    const b = { queries: 1, k: 2, indices: new Int32Array([7, 8]), scores: new Float32Array([0.9, NaN]) };
    const m = mergeTopK([{ layer: 0, result: r }, { layer: 3, result: b }], 3);
    assert.deepEqual([...m.layers], [3, 0, -1]);
    assert.deepEqual([...m.indices], [7, 3, -1]);
    assert.ok(Number.isNaN(m.scores[2]));
    assert.throws(() => mergeTopK([{ layer: 0, result: r }, { layer: 0, result: b }], 3), (e: Error) => e instanceof RangeError && /twice/.test(e.message));
    assert.throws(() => mergeTopK([{ layer: 0, result: r }], 0), (e: Error) => e instanceof RangeError && /k must be/.test(e.message));
    assert.throws(() => mergeTopK([{ layer: 0, result: r }, { layer: 1, result: { ...b, queries: 2 } }], 3), RangeError);
    assert.throws(() => mergeTopK([], 3), RangeError);
  });
});
