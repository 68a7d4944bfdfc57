import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import { DICTIONARY_METHODS, dictionaryMethod, encodeDictionary, fitDictionary, isDictionaryMethodName, lassoEncode, type Dictionary, type Matrix } from "../../src/concepts/dictionary";
import { kmeansPlusPlus } from "../../src/concepts/dictionary/kmeans";
import { writeNpy } from "../../src/io/npy";
import { seededRandom } from "../../src/util/random";
import { python, tempDir } from "../helpers/python";

// Concept-dictionary numerics, compared live against scikit-learn on the same matrices.
// The data: M samples, each a sparse non-negative mix (1-3 of 8) of random directions plus
// Gaussian noise, as hidden states of one word's occurrences roughly are. K = 20 > 8 directions,
// so the methods also have to cope with spare concepts.
const M = 200;
const D = 64;
const K = 20;
const LAMBDA = 1;
const MAX_ITER = 100;
/** With K ≤ the 8 directions no atom falls out of use, so nothing random happens in either fit. */
const K_SMALL = 8;

function syntheticConcepts(m: number, dim: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const directions = Float64Array.from({ length: 8 * dim }, () => (4 * normal()) / Math.sqrt(dim));
  const z = new Float64Array(m * dim);
  for (let i = 0; i < m; i++) {
    for (let t = 1 + Math.floor(random() * 3); t > 0; t--) {
      const j = Math.floor(random() * 8);
      const weight = 0.5 + 1.5 * random();
      for (let d = 0; d < dim; d++) z[i * dim + d] += weight * directions[j * dim + d];
    }
    for (let d = 0; d < dim; d++) z[i * dim + d] += 0.3 * normal();
  }
  return z;
}

const all = syntheticConcepts(M + 40, D, 7);
const z: Matrix<Float64Array> = { rows: M, cols: D, data: all.slice(0, M * D) };
const zTest: Matrix<Float64Array> = { rows: 40, cols: D, data: all.slice(M * D) };

let semiNmf: Dictionary;
let semiNmfSmall: Dictionary;
let testCodes: Matrix<Float64Array>;
let kmInit: Float64Array;
let kmeans: Dictionary;
let pca: Dictionary;
let pcaWide: Dictionary;
let simple: Dictionary;
let semiNmfSeconds = 0;
let ref: {
  sk_objective: number;
  our_objective: number;
  sk_n_iter: number;
  sk_small_objective: number;
  our_small_objective: number;
  small_atoms_diff: number;
  sparse_encode: number[][];
  pca_components: number[][];
  pca_variance: number[];
  pca_ratio: number[];
  pca_transform: number[][];
  wide_components: number[][];
  wide_variance: number[];
  km_inertia: number;
  km_centres: number[][];
  km_n_iter: number;
  simple_rows: number[];
};

const SKLEARN = `
import os, sys, json
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, DictionaryLearning, sparse_encode
d = sys.argv[1]
K, lam, max_iter = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
load = lambda name: np.load(os.path.join(d, name + ".npy"))
z, z_test = load("z"), load("z_test")
objective = lambda V, U: float(0.5 * np.sum((z - V @ U) ** 2) + lam * np.sum(np.abs(V)))
dl = DictionaryLearning(n_components=K, alpha=lam, positive_code=True, fit_algorithm="cd",
                        transform_algorithm="lasso_cd", max_iter=max_iter, random_state=0)
V = dl.fit_transform(z)
small = DictionaryLearning(n_components=${K_SMALL}, alpha=lam, positive_code=True, fit_algorithm="cd",
                           transform_algorithm="lasso_cd", max_iter=max_iter, random_state=0)
V_small = small.fit_transform(z)
pca = PCA(n_components=K, svd_solver="full").fit(z)
wide = PCA(n_components=10, svd_solver="full").fit(z[:30])
km = KMeans(n_clusters=K, init=load("km_init"), n_init=1, algorithm="lloyd").fit(z)
print(json.dumps({
  "sk_objective": objective(V, dl.components_),
  "our_objective": objective(load("snmf_codes"), load("snmf_atoms")),
  "sk_n_iter": int(dl.n_iter_),
  "sk_small_objective": objective(V_small, small.components_),
  "our_small_objective": objective(load("small_codes"), load("small_atoms")),
  "small_atoms_diff": float(np.abs(load("small_atoms") - small.components_).max()),
  "sparse_encode": sparse_encode(z_test, load("snmf_atoms"), algorithm="lasso_cd", alpha=lam, positive=True).tolist(),
  "pca_components": pca.components_.tolist(),
  "pca_variance": pca.explained_variance_.tolist(),
  "pca_ratio": pca.explained_variance_ratio_.tolist(),
  "pca_transform": pca.transform(z_test).tolist(),
  "wide_components": wide.components_.tolist(),
  "wide_variance": wide.explained_variance_.tolist(),
  "km_inertia": float(km.inertia_),
  "km_centres": km.cluster_centers_.tolist(),
  "km_n_iter": int(km.n_iter_),
  "simple_rows": np.argsort(-np.linalg.norm(z, axis=1), kind="stable")[:K].tolist(),
}))
`;

before(() => {
  let start = process.hrtime.bigint();
  semiNmf = fitDictionary(z, "snmf", { k: K, lambda: LAMBDA, maxIter: MAX_ITER });
  semiNmfSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  semiNmfSmall = fitDictionary(z, "snmf", { k: K_SMALL, lambda: LAMBDA, maxIter: MAX_ITER });
  testCodes = lassoEncode(semiNmf.atoms, zTest, { lambda: LAMBDA });
  kmInit = kmeansPlusPlus(z.data, M, D, K, 3);
  kmeans = fitDictionary(z, "kmeans", { k: K, init: { rows: K, cols: D, data: kmInit } });
  pca = fitDictionary(z, "pca", { k: K });
  pcaWide = fitDictionary({ rows: 30, cols: D, data: z.data.slice(0, 30 * D) }, "pca", { k: 10 });
  simple = fitDictionary(z, "simple", { k: K });

  const dir = tempDir();
  const save = (name: string, data: Float64Array, shape: number[]) => writeNpy(path.join(dir, `${name}.npy`), { dtype: "<f8", shape, data: new Float64Array(data) });
  save("z", z.data, [M, D]);
  save("z_test", zTest.data, [zTest.rows, D]);
  save("snmf_atoms", semiNmf.atoms.data, [K, D]);
  save("snmf_codes", semiNmf.codes.data, [M, K]);
  save("small_atoms", semiNmfSmall.atoms.data, [K_SMALL, D]);
  save("small_codes", semiNmfSmall.codes.data, [M, K_SMALL]);
  save("km_init", kmInit, [K, D]);
  start = process.hrtime.bigint();
  ref = JSON.parse(python(SKLEARN, [dir, String(K), String(LAMBDA), String(MAX_ITER)]));
  console.log(`scikit-learn references in ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(1)} s; our semi-NMF fit ${semiNmfSeconds.toFixed(2)} s`);
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

test("snmf reaches scikit-learn DictionaryLearning(positive_code, cd, lasso_cd)'s objective within 1% at equal K, λ, max_iter", () => {
  const ratio = ref.our_objective / ref.sk_objective;
  console.log(`semi-NMF objective: ours ${ref.our_objective.toFixed(4)} (${semiNmf.report.iterations} iterations), scikit-learn ${ref.sk_objective.toFixed(4)} (${ref.sk_n_iter}), ratio ${ratio.toFixed(5)}`);
  assert.ok(ratio <= 1.01, `objective ratio ${ratio}`);
  // The reported objective is the one numpy computes from the returned matrices.
  assert.ok(Math.abs(semiNmf.report.objective! - ref.our_objective) <= 1e-9 * ref.our_objective);
  assert.equal(semiNmf.report.history!.at(-1)!.toPrecision(9), ref.our_objective.toPrecision(9));
});

test("snmf codes are ≥ 0, atoms have norm ≤ 1, and the shapes are [M, K] and [K, D]", () => {
  assert.deepEqual([semiNmf.codes.rows, semiNmf.codes.cols, semiNmf.atoms.rows, semiNmf.atoms.cols], [M, K, K, D]);
  assert.ok(semiNmf.codes.data.every((v) => v >= 0));
  assert.ok(semiNmf.codes.data.some((v) => v > 0));
  for (let k = 0; k < K; k++) {
    const norm = Math.hypot(...semiNmf.atoms.data.subarray(k * D, (k + 1) * D));
    assert.ok(norm <= 1 + 1e-9, `atom ${k} has norm ${norm}`);
  }
  assert.deepEqual(semiNmf.settings, { k: K, seed: 0, lambda: LAMBDA, maxIter: MAX_ITER, tol: 1e-8, init: "svd" });
});

test("snmf follows scikit-learn's trajectory when no atom is re-drawn (K = 8): same objective and atoms", () => {
  const relative = Math.abs(ref.our_small_objective - ref.sk_small_objective) / ref.sk_small_objective;
  console.log(`semi-NMF K = ${K_SMALL}: objective relative difference ${relative.toExponential(2)}, max atom difference ${ref.small_atoms_diff.toExponential(2)}`);
  assert.equal(semiNmfSmall.report.resampledAtoms, 0);
  assert.ok(relative <= 1e-9, `relative objective difference ${relative}`);
  assert.ok(ref.small_atoms_diff <= 1e-6, `atom difference ${ref.small_atoms_diff}`);
});

test("snmf is deterministic: the same seed gives identical bytes", () => {
  const again = fitDictionary(z, "snmf", { k: K, lambda: LAMBDA, maxIter: MAX_ITER });
  assert.ok(Buffer.from(again.atoms.data.buffer).equals(Buffer.from(semiNmf.atoms.data.buffer)));
  assert.ok(Buffer.from(again.codes.data.buffer).equals(Buffer.from(semiNmf.codes.data.buffer)));
});

test("lassoEncode matches scikit-learn sparse_encode(positive=True, algorithm='lasso_cd') on fixed atoms", () => {
  const expected = ref.sparse_encode.flat();
  const diff = maxAbsDiff(testCodes.data, expected);
  // Both stop at a duality gap ≤ 1e-8 ‖z‖², so their objectives agree to that bound.
  const u = semiNmf.atoms.data;
  const lassoObjective = (codes: ArrayLike<number>, i: number): number => {
    let squares = 0;
    let l1 = 0;
    for (let k = 0; k < K; k++) l1 += codes[i * K + k];
    for (let d = 0; d < D; d++) {
      let r = zTest.data[i * D + d];
      for (let k = 0; k < K; k++) r -= codes[i * K + k] * u[k * D + d];
      squares += r * r;
    }
    return 0.5 * squares + LAMBDA * l1;
  };
  let worstGap = 0;
  for (let i = 0; i < zTest.rows; i++) {
    const norm2 = zTest.data.subarray(i * D, (i + 1) * D).reduce((s, v) => s + v * v, 0);
    worstGap = Math.max(worstGap, Math.abs(lassoObjective(testCodes.data, i) - lassoObjective(expected, i)) / norm2);
  }
  console.log(`lasso codes of ${zTest.rows} new samples: max |ours − sklearn| = ${diff.toExponential(2)} (largest code ${Math.max(...expected).toFixed(3)}), max objective difference / ‖z‖² = ${worstGap.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `max code difference ${diff}`);
  assert.ok(worstGap <= 2e-8, `objective difference ${worstGap} ‖z‖²`);
  assert.ok(testCodes.data.every((v) => v >= 0));
  // snmf's own encoder is the same lasso with the dictionary's λ.
  assert.deepEqual(encodeDictionary(semiNmf, zTest).data, testCodes.data);
});

test("pca components match scikit-learn PCA up to sign, with the same explained variances and projections", () => {
  let worst = 0;
  for (let k = 0; k < K; k++) {
    const ours = pca.atoms.data.subarray(k * D, (k + 1) * D);
    const theirs = ref.pca_components[k];
    const sign = ours.reduce((s, v, d) => s + v * theirs[d], 0) < 0 ? -1 : 1;
    worst = Math.max(worst, maxAbsDiff(ours.map((v) => sign * v), theirs));
    const projection = encodeDictionary(pca, zTest);
    for (let i = 0; i < zTest.rows; i++) assert.ok(Math.abs(sign * projection.data[i * K + k] - ref.pca_transform[i][k]) <= 1e-7);
  }
  const variance = maxAbsDiff(pca.report.explainedVariance!, ref.pca_variance) / ref.pca_variance[0];
  console.log(`PCA: max component difference up to sign ${worst.toExponential(2)}, relative variance difference ${variance.toExponential(2)}`);
  assert.ok(worst <= 1e-7, `component difference ${worst}`);
  assert.ok(variance <= 1e-10);
  assert.ok(maxAbsDiff(pca.report.explainedVarianceRatio!, ref.pca_ratio) <= 1e-10);
  assert.equal(pca.center!.length, D);
});

test("pca with fewer samples than dimensions (M = 30 < D = 64) matches scikit-learn too", () => {
  let worst = 0;
  for (let k = 0; k < 10; k++) {
    const ours = pcaWide.atoms.data.subarray(k * D, (k + 1) * D);
    const theirs = ref.wide_components[k];
    const sign = ours.reduce((s, v, d) => s + v * theirs[d], 0) < 0 ? -1 : 1;
    worst = Math.max(worst, maxAbsDiff(ours.map((v) => sign * v), theirs));
  }
  assert.ok(worst <= 1e-7, `component difference ${worst}`);
  assert.ok(maxAbsDiff(pcaWide.report.explainedVariance!, ref.wide_variance) <= 1e-10 * ref.wide_variance[0]);
});

test("kmeans from the same initial centres reaches scikit-learn KMeans(lloyd, n_init=1)'s inertia within 1%", () => {
  const ratio = kmeans.report.objective! / ref.km_inertia;
  const centres = maxAbsDiff(kmeans.atoms.data, ref.km_centres.flat());
  console.log(`K-means inertia: ours ${kmeans.report.objective!.toFixed(4)} (${kmeans.report.iterations} iterations), scikit-learn ${ref.km_inertia.toFixed(4)} (${ref.km_n_iter}), ratio ${ratio.toFixed(6)}; max centre difference ${centres.toExponential(2)}`);
  assert.ok(Math.abs(ratio - 1) <= 0.01, `inertia ratio ${ratio}`);
  assert.ok(centres <= 1e-8, `centre difference ${centres}`); // the same start: the same Lloyd iterations
  assert.equal(kmeans.report.iterations, ref.km_n_iter);
  // activations are 1 / (1 + distance): in (0, 1], largest for the nearest centroid
  assert.ok(kmeans.codes.data.every((v) => v > 0 && v <= 1));
});

test("kmeans with its own k-means++ start is deterministic for a seed", () => {
  const a = fitDictionary(z, "kmeans", { k: K, seed: 5 });
  const b = fitDictionary(z, "kmeans", { k: K, seed: 5 });
  assert.equal(a.settings.init, "k-means++");
  assert.ok(Buffer.from(a.atoms.data.buffer).equals(Buffer.from(b.atoms.data.buffer)));
});

test("simple picks the K rows of largest norm, in numpy's stable argsort order, with 1/(1+distance) activations", () => {
  const rows = Array.from({ length: K }, (_, k) => {
    const atom = simple.atoms.data.subarray(k * D, (k + 1) * D);
    return Array.from({ length: M }, (_, i) => i).find((i) => maxAbsDiff(z.data.subarray(i * D, (i + 1) * D), atom) === 0);
  });
  assert.deepEqual(rows, ref.simple_rows);
  const own = ref.simple_rows[0]; // a training sample that is atom 0 activates it fully
  assert.equal(simple.codes.data[own * K + 0], 1);
});

test("each bad input throws the documented error, naming the value", () => {
  const bad = Float64Array.from(z.data);
  bad[3 * D + 5] = Number.NaN;
  for (const method of DICTIONARY_METHODS) {
    assert.throws(() => fitDictionary({ rows: M, cols: D, data: bad }, method), (e: unknown) => e instanceof RangeError && /NaN/.test(e.message) && /row 3, column 5/.test(e.message));
    assert.throws(() => fitDictionary({ rows: 10, cols: D, data: z.data.slice(0, 10 * D) }, method, { k: 12 }), (e: unknown) => e instanceof RangeError && /12/.test(e.message) && /10 rows/.test(e.message));
    assert.throws(() => fitDictionary(z, method, { k: 0 }), (e: unknown) => e instanceof RangeError && /options\.k/.test(e.message) && /got 0/.test(e.message));
    assert.throws(() => fitDictionary(z, method, { k: "3" as unknown as number }), (e: unknown) => e instanceof TypeError && /options\.k/.test(e.message) && /"3"/.test(e.message));
    assert.throws(() => fitDictionary(Array.from(z.data) as unknown as Matrix, method), TypeError);
    const dict = { snmf: semiNmf, kmeans, pca, simple }[method];
    assert.throws(() => encodeDictionary(dict, { rows: 2, cols: D - 1, data: new Float64Array(2 * (D - 1)) }), (e: unknown) => e instanceof RangeError && /63 columns/.test(e.message) && /64/.test(e.message));
  }
  assert.throws(() => fitDictionary(z, "snmf", { lambda: -1 }), (e: unknown) => e instanceof RangeError && /options\.lambda/.test(e.message) && /-1/.test(e.message));
  assert.throws(() => lassoEncode(semiNmf.atoms, zTest, { lambda: -0.5 }), (e: unknown) => e instanceof RangeError && /lambda/.test(e.message) && /-0\.5/.test(e.message));
  assert.throws(() => lassoEncode(semiNmf.atoms, { rows: 1, cols: 3, data: new Float32Array(3) }), (e: unknown) => e instanceof RangeError && /3 columns/.test(e.message) && /64/.test(e.message));
  assert.throws(() => fitDictionary(z, "pca", { k: D + 1 }), (e: unknown) => e instanceof RangeError && /65/.test(e.message) && /64 columns/.test(e.message));
  assert.throws(() => fitDictionary(z, "pca", { init: semiNmf.atoms }), (e: unknown) => e instanceof RangeError && /options\.init/.test(e.message));
  assert.throws(() => fitDictionary(z, "kmeans", { init: { rows: 3, cols: D, data: new Float64Array(3 * D) } }), (e: unknown) => e instanceof RangeError && /\[20, 64\]/.test(e.message) && /\[3, 64\]/.test(e.message));
  assert.throws(() => dictionaryMethod("nmf" as never), (e: unknown) => e instanceof RangeError && /"nmf"/.test(e.message));
  assert.throws(() => dictionaryMethod("snmf").encode(kmeans, zTest), (e: unknown) => e instanceof RangeError && /"kmeans"/.test(e.message));
});

test("isDictionaryMethodName accepts exactly the registered methods", () => {
  assert.deepEqual(DICTIONARY_METHODS.filter(isDictionaryMethodName), [...DICTIONARY_METHODS]);
  assert.equal(isDictionaryMethodName("nmf"), false);
  assert.equal(isDictionaryMethodName(3), false);
  for (const name of DICTIONARY_METHODS) assert.equal(dictionaryMethod(name).name, name);
});
