"""faiss-cpu side of bench/search.ts: exact IndexFlatIP search on the same data, timed.

Usage: python bench/faiss_search.py CONFIG.json
CONFIG = {"rows": ".npy float32 or float16 [N, d]", "queries": ".npy float32 [Q, d]",
          "k": 5, "threads": 2, "outdir": "...",
          "jobs": [{"name": "...", "nq": 576, "repeat": 2, "single": false}, ...]}
For a batch job the first nq queries are searched in one call; for a "single" job each of the
first nq queries is searched alone. Writes OUTDIR/NAME.npy (int32 indices [nq, k]) and prints one
JSON line: {"faiss": version, "numpy": version, "index_build_s": ..., "jobs": {NAME: {...}}}.
float16 rows are widened to float32 in chunks while being added, so only the index holds a full
float32 copy.
"""

import json
import sys
import time

import faiss
import numpy as np


def main() -> None:
    cfg = json.load(open(sys.argv[1]))
    faiss.omp_set_num_threads(int(cfg["threads"]))
    rows = np.load(cfg["rows"], mmap_mode="r")
    queries = np.ascontiguousarray(np.load(cfg["queries"]), dtype=np.float32)
    n, d = rows.shape
    k = int(cfg["k"])

    t0 = time.perf_counter()
    index = faiss.IndexFlatIP(d)
    chunk = max(1, (256 << 20) // (4 * d))
    for start in range(0, n, chunk):
        index.add(np.ascontiguousarray(rows[start : start + chunk], dtype=np.float32))
    build = time.perf_counter() - t0
    del rows

    out = {"faiss": faiss.__version__, "numpy": np.__version__, "index_build_s": build, "jobs": {}}
    for job in cfg["jobs"]:
        nq = int(job["nq"])
        q = queries[:nq]
        times = []
        if job.get("single"):
            result = np.empty((nq, k), dtype=np.int64)
            index.search(q[:1], k)  # warm-up
            for i in range(nq):
                t = time.perf_counter()
                _, idx = index.search(q[i : i + 1], k)
                times.append(time.perf_counter() - t)
                result[i] = idx[0]
        else:
            index.search(q[: min(nq, 4)], k)  # warm-up (thread pool, page faults)
            for _ in range(int(job.get("repeat", 1))):
                t = time.perf_counter()
                _, result = index.search(q, k)
                times.append(time.perf_counter() - t)
        np.save(f"{cfg['outdir']}/{job['name']}.npy", result.astype(np.int32))
        out["jobs"][job["name"]] = {"times_s": times}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
