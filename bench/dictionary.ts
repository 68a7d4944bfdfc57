/**
 * Semi-NMF concept-dictionary fit time: vislens' `fitDictionary(z, "snmf")` against scikit-learn's
 * `DictionaryLearning(positive_code=True, fit_algorithm="cd", transform_algorithm="lasso_cd")` (what
 * Parekh et al.'s code runs) on the same matrix, in the same run, at equal K, λ and max_iter.
 * Prints both times, the speed ratio and both objectives 0.5‖Z − VU‖² + λ‖V‖₁.
 *
 *   node --import tsx bench/dictionary.ts [--quick]
 *
 * Workloads (K = 20, λ = 1, max_iter = 100; data: each sample a sparse non-negative mix of 1-3 of
 * 16 random directions plus Gaussian noise): M = 500 × D = 128 and M = 2000 × D = 512
 * (--quick: the first only). scikit-learn runs in a child process (.venv or $VISLENS_BENCH_PYTHON)
 * with the thread settings it inherits; both sides are single-threaded in their hot loops.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fitDictionary } from "../src/concepts/dictionary";
import { writeNpy } from "../src/io/npy";
import { seededRandom } from "../src/util/random";

const REPO = path.resolve(__dirname, "..");
const PYTHON = process.env.VISLENS_BENCH_PYTHON ?? path.join(REPO, ".venv", "bin", "python");
const QUICK = process.argv.includes("--quick");
const K = 20;
const LAMBDA = 1;
const MAX_ITER = 100;

/** [m, dim]: sparse non-negative mixes of 16 random directions (norm ≈ 4) plus N(0, 0.3²) noise. */
function concepts(m: number, dim: number, seed: number) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const directions = Float64Array.from({ length: 16 * dim }, () => (4 * normal()) / Math.sqrt(dim));
  const z = new Float64Array(m * dim);
  for (let i = 0; i < m; i++) {
    for (let t = 1 + Math.floor(random() * 3); t > 0; t--) {
      const j = Math.floor(random() * 16);
      const weight = 0.5 + 1.5 * random();
      for (let d = 0; d < dim; d++) z[i * dim + d] += weight * directions[j * dim + d];
    }
    for (let d = 0; d < dim; d++) z[i * dim + d] += 0.3 * normal();
  }
  return z;
}

function run(m: number, dim: number, dir: string): void {
  const data = concepts(m, dim, 1);
  const file = path.join(dir, `z-${m}x${dim}.npy`);
  writeNpy(file, { dtype: "<f8", shape: [m, dim], data });
  const start = process.hrtime.bigint();
  const ours = fitDictionary({ rows: m, cols: dim, data }, "snmf", { k: K, lambda: LAMBDA, maxIter: MAX_ITER });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const sk = JSON.parse(execFileSync(PYTHON, [path.join(__dirname, "dictionary_sklearn.py"), file, String(K), String(LAMBDA), String(MAX_ITER)], { encoding: "utf8" })) as {
    sklearn: string;
    seconds: number;
    n_iter: number;
    objective: number;
  };
  console.log(`semi-NMF fit, M = ${m} × D = ${dim}, K = ${K}, λ = ${LAMBDA}, max_iter = ${MAX_ITER}`);
  console.log(`  vislens                  ${seconds.toFixed(2).padStart(8)} s  ${String(ours.report.iterations).padStart(4)} iterations  objective ${ours.report.objective!.toFixed(2)}`);
  console.log(`  scikit-learn ${sk.sklearn.padEnd(11)} ${sk.seconds.toFixed(2).padStart(8)} s  ${String(sk.n_iter).padStart(4)} iterations  objective ${sk.objective.toFixed(2)}`);
  console.log(`  ratio scikit-learn / vislens time ${(sk.seconds / seconds).toFixed(2)}x (objective ratio vislens / scikit-learn ${(ours.report.objective! / sk.objective).toFixed(4)})`);
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vislens-bench-"));
  try {
    fitDictionary({ rows: 100, cols: 32, data: concepts(100, 32, 2) }, "snmf", { k: 10, maxIter: 20 }); // warm-up (JIT)
    run(500, 128, dir);
    if (!QUICK) run(2000, 512, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
