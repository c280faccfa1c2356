"""The analysis core done with numpy/scipy: the reference the benchmark compares our engine against.

Reads a bundle folder (<bundle>/<model>/<task>.npy, tasks.txt with the task order, Base first) and runs the same
math as src/engine (PCA via the Gram matrix when N*T < d, every ordered Procrustes pair by SVD, the normalised
distance D, the reference, the alignment, cosine distances of the flattened points, classical MDS), several times.
Prints one JSON object: {"seconds": [per repetition], "threads": ..., "checksum": ...}. Loading the files is not timed.
Usage: python3 numpy_reference.py BUNDLE K REPETITIONS
"""
import json
import os
import sys
import time

import numpy as np


def load(bundle):
    with open(os.path.join(bundle, "tasks.txt"), encoding="utf-8") as f:
        tasks = [line.strip() for line in f if line.strip()]
    models = sorted(m for m in os.listdir(bundle) if os.path.isdir(os.path.join(bundle, m)))
    return models, tasks, [[np.load(os.path.join(bundle, m, t + ".npy")).astype(np.float64) for t in tasks] for m in models]


def pca_scores(mats, k):
    x = np.vstack(mats)
    x = x - x.mean(axis=0)
    rows, d = x.shape
    if rows < d:
        w, v = np.linalg.eigh(x @ x.T)
        order = np.argsort(w)[::-1][:k]
        scores = v[:, order] * np.sqrt(np.maximum(w[order], 0))
    else:
        w, v = np.linalg.eigh(x.T @ x)
        order = np.argsort(w)[::-1][:k]
        scores = x @ v[:, order]
    n = mats[0].shape[0]
    return [scores[i * n:(i + 1) * n] for i in range(len(mats))]


def analyse(emb, k):
    scores = [pca_scores(mats, k) for mats in emb]
    m = len(scores)
    base = [s[0] for s in scores]
    q = {}
    d = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            u, sig, vt = np.linalg.svd(base[i].T @ base[j])
            q[i, j] = u @ vt
            d[i, j] = np.sum((base[i] @ q[i, j] - base[j]) ** 2) / np.sum(base[j] ** 2)
    mean_to = [np.mean([d[i, j] for i in range(m) if i != j]) if m > 1 else 0.0 for j in range(m)]
    ref = int(np.argmin(mean_to))
    points = np.array([(s @ (q[i, ref] if i != ref else np.eye(s.shape[1]))).ravel()
                       for i, mats in enumerate(scores) for s in mats])
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    cos = 1 - unit @ unit.T
    np.fill_diagonal(cos, 0)
    n = cos.shape[0]
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ (cos ** 2) @ j
    w, v = np.linalg.eigh(b)
    top = np.argsort(w)[::-1][:2]
    xy = v[:, top] * np.sqrt(np.maximum(w[top], 0))
    return float(np.sum(d) + np.sum(np.abs(xy)))


def main():
    bundle, k, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    models, tasks, emb = load(bundle)
    k = min(k, emb[0][0].shape[0] * len(tasks) - 1, min(e[0].shape[1] for e in emb))
    seconds = []
    checksum = 0.0
    for _ in range(reps):
        start = time.perf_counter()
        checksum = analyse(emb, k)
        seconds.append(time.perf_counter() - start)
    try:
        from threadpoolctl import threadpool_info
        threads = [{"api": i.get("internal_api"), "threads": i.get("num_threads")} for i in threadpool_info()]
    except ImportError:
        threads = []
    print(json.dumps({"seconds": seconds, "threads": threads, "checksum": checksum, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
