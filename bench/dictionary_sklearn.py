"""scikit-learn side of bench/dictionary.ts: the semi-NMF concept dictionary as Parekh et al.'s code
fits it, timed on the same matrix.

Usage: python bench/dictionary_sklearn.py Z.npy K LAMBDA MAX_ITER
Fits DictionaryLearning(n_components=K, alpha=LAMBDA, positive_code=True, fit_algorithm="cd",
transform_algorithm="lasso_cd", max_iter=MAX_ITER, random_state=0) on Z [M, D] (float64) and prints
one JSON line: {"sklearn": version, "seconds": ..., "n_iter": ..., "objective": ...} with the
objective 0.5 ||Z - V U||_F^2 + LAMBDA ||V||_1,1 of the returned codes V and atoms U.
"""

import json
import sys
import time

import numpy as np
import sklearn
from sklearn.decomposition import DictionaryLearning


def main() -> None:
    z = np.load(sys.argv[1])
    k, lam, max_iter = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    model = DictionaryLearning(
        n_components=k,
        alpha=lam,
        positive_code=True,
        fit_algorithm="cd",
        transform_algorithm="lasso_cd",
        max_iter=max_iter,
        random_state=0,
    )
    start = time.perf_counter()
    codes = model.fit_transform(z)
    seconds = time.perf_counter() - start
    residual = z - codes @ model.components_
    objective = 0.5 * float(np.sum(residual**2)) + lam * float(np.sum(np.abs(codes)))
    print(json.dumps({"sklearn": sklearn.__version__, "seconds": seconds, "n_iter": int(model.n_iter_), "objective": objective}))


if __name__ == "__main__":
    main()
