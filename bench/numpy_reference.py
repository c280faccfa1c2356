"""The analysis of src/engine done with numpy/scipy: the reference the benchmark compares our engine against.

Reads a bundle folder written by writeBundle (<bundle>/<model>/<task>.npy, models.txt and tasks.txt give the order)
and runs, several times, the same math as src/engine/analyze.ts, stage by stage:
  pca          per model: stack the T matrices, centre, top-k eigenpairs of the Gram matrix X X^T when N*T < d, else of
               X^T X (scipy.linalg.eigh with subset_by_index: only the top k, as our engine), scores, sign fix,
               explained variance ratio
  displacement per model, raw embeddings: per-query cosine distance Base->task (mean, median, p90), shift fraction,
               10-nearest-neighbour Jaccard overlap, relative movement and top-10 movers
  procrustes   one SVD per unordered model pair (Q_ji = Q_ij^T), D both ways from the singular value sum, reference
  map          alignment onto the reference, flattened points, cosine distances, classical MDS, Kruskal stress
  robustness   the map for every other reference and its scipy.spatial.procrustes disparity against the main map,
               task order by trajectory length per model
  uncertainty  the 1000-resample bootstrap of the mean cosine displacement (the SplitMix64 resample matrix of EVAL.md,
               numpy_splitmix.py): its 95% percentile interval per (model, task), and per model the task order by mean
               displacement with the share of resamples that keep it whole and each adjacent pair
"core" = pca + procrustes + map (the paper's method); "full" = all six (everything runAnalysis does without labelled data).
Loading the files is not timed. Prints one JSON object (seconds per repetition and per stage, BLAS details, D,
reference). Usage: python3 numpy_reference.py BUNDLE [--k 200] [--reps 3] [--budget SECONDS] [--write FOLDER]
--write: the whole-process mode the CLI benchmark times from outside: load, analyse once, write results.json,
displacement.csv and procrustes.csv (the numbers `instruction-lens analyze` writes; no HTML report) into FOLDER.
--budget stops repeating once that many seconds were spent (at least one repetition always runs).
"""
import argparse
import ctypes
import glob
import json
import os
import sys
import time

import numpy as np
import scipy
import scipy.linalg
import scipy.spatial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_splitmix import resample_matrix  # noqa: E402

NEIGHBOURS = 10
TOP_MOVERS = 10


def load(bundle):
    def lines(name):
        with open(os.path.join(bundle, name), encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.strip()]

    models, tasks = lines("models.txt"), lines("tasks.txt")
    emb = [[np.load(os.path.join(bundle, m, t + ".npy")).astype(np.float64) for t in tasks] for m in models]
    return models, tasks, emb


def top_eigh(a, k):
    """Top-k eigenpairs of a symmetric matrix, descending (LAPACK syevr on the wanted index range only)."""
    n = a.shape[0]
    k = min(k, n)
    w, v = scipy.linalg.eigh(a, subset_by_index=[n - k, n - 1], driver="evr", overwrite_a=True, check_finite=False)
    return w[::-1], v[:, ::-1]


def fix_signs(a):
    """Each column's entry of largest |value| (first on ties) made positive."""
    rows = np.argmax(np.abs(a), axis=0)
    signs = np.sign(a[rows, np.arange(a.shape[1])])
    signs[signs == 0] = 1
    a *= signs


def pca(mats, k):
    x = np.vstack(mats)
    x -= x.mean(axis=0)
    rows, d = x.shape
    if rows < d:
        g = x @ x.T
        trace = np.trace(g)
        w, v = top_eigh(g, k)
        scores = v * np.sqrt(np.maximum(w, 0))
    else:
        c = x.T @ x
        trace = np.trace(c)
        w, v = top_eigh(c, k)
        scores = x @ v
    fix_signs(scores)
    evr = np.maximum(w, 0) / trace if trace > 0 else np.zeros_like(w)
    return scores, evr


def neighbours(unit, m):
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :m]


def displacement(mats):
    n = mats[0].shape[0]
    m = min(NEIGHBOURS, n - 1)
    unit = [e / np.linalg.norm(e, axis=1, keepdims=True) for e in mats]
    nn = [neighbours(u, m) for u in unit]
    base = mats[0]
    out = []
    for t in range(1, len(mats)):
        e = mats[t]
        cos = 1 - np.einsum("ij,ij->i", base, e) / (np.linalg.norm(base, axis=1) * np.linalg.norm(e, axis=1))
        delta = e - base
        total = np.sum(delta * delta)
        shift = n * np.sum(delta.mean(axis=0) ** 2) / total if total > 0 else 0.0
        inter = np.array([len(np.intersect1d(nn[0][i], nn[t][i], assume_unique=True)) for i in range(n)])
        jaccard = inter / (2 * m - inter)
        u = unit[t] - unit[0]
        relative = np.linalg.norm(u - u[nn[0]].mean(axis=1), axis=1)
        movers = np.argsort(-relative, kind="stable")[:TOP_MOVERS]
        out.append((cos.mean(), np.median(cos), np.percentile(cos, 90), shift, jaccard.mean(), movers, cos))
    return out


def uncertainty(disp, n, seed=0):
    """Per model: the (low, high) interval of each task's mean cosine distance, and the task order's stability."""
    indices = resample_matrix(seed, n)
    intervals, stability = [], []
    for rows in disp:
        reps = np.stack([row[6][indices].mean(axis=1) for row in rows])  # tasks x resamples
        low, high = np.percentile(reps, [2.5, 97.5], axis=1)
        intervals.append(list(zip(low, high)))
        order = np.argsort(-np.array([row[0] for row in rows]), kind="stable")
        resampled = np.argsort(-reps, axis=0, kind="stable")
        whole = float(np.mean(np.all(resampled == order[:, None], axis=0)))
        adjacent = [float(np.mean(reps[order[i]] > reps[order[i + 1]])) for i in range(len(order) - 1)]
        stability.append((order, whole, adjacent))
    return intervals, stability


def procrustes_all(base):
    m = len(base)
    norms = [np.sum(b * b) for b in base]
    rot = {}
    d = np.zeros((m, m))
    for i in range(m):
        for j in range(i + 1, m):
            u, sig, vt = np.linalg.svd(base[i].T @ base[j])
            rot[i, j] = u @ vt
            s = np.sum(sig)
            d[i, j] = max(0.0, norms[i] + norms[j] - 2 * s) / norms[j]
            d[j, i] = max(0.0, norms[j] + norms[i] - 2 * s) / norms[i]
    return rot, d


def rotation_onto(rot, m, ref):
    if m == ref:
        return None
    return rot[m, ref] if m < ref else rot[ref, m].T


def classical_mds(dist):
    p = dist.shape[0]
    d2 = dist * dist
    row = d2.mean(axis=1)
    b = -0.5 * (d2 - row[:, None] - row[None, :] + row.mean())
    w, v = top_eigh(b, 2)
    xy = v * np.sqrt(np.maximum(w, 0))
    fix_signs(xy)
    return xy


def kruskal(xy, dist):
    iu = np.triu_indices(dist.shape[0], 1)
    mapped = scipy.spatial.distance.pdist(xy)
    den = np.sum(dist[iu] ** 2)
    return np.sqrt(np.sum((mapped - dist[iu]) ** 2) / den) if den > 0 else 0.0


def make_map(scores, rot, ref, t_count):
    pts = []
    for m, s in enumerate(scores):
        q = rotation_onto(rot, m, ref)
        a = s if q is None else s @ q
        pts.append(a.reshape(t_count, -1))
    points = np.vstack(pts)
    g = points @ points.T
    norms = np.sqrt(np.diag(g))
    cos = 1 - g / np.outer(norms, norms)
    cos = (cos + cos.T) / 2
    np.fill_diagonal(cos, 0)
    xy = classical_mds(cos)
    return xy, cos, kruskal(xy, cos)


def trajectory_order(xy, m, t_count):
    b = m * t_count
    lengths = np.linalg.norm(xy[b + 1:b + t_count] - xy[b], axis=1)
    return np.argsort(lengths, kind="stable")


def analyse(emb, k):
    t_count = len(emb[0])
    n = emb[0][0].shape[0]
    seconds = {}
    out = {}

    start = time.perf_counter()
    pcas = [pca(mats, k) for mats in emb]
    seconds["pca"] = time.perf_counter() - start

    start = time.perf_counter()
    disp = [displacement(mats) for mats in emb]
    seconds["displacement"] = time.perf_counter() - start

    start = time.perf_counter()
    scores = [p[0] for p in pcas]
    rot, d = procrustes_all([s[:n] for s in scores])
    m_count = len(emb)
    mean_to = [np.mean([d[i, j] for i in range(m_count) if i != j]) if m_count > 1 else 0.0 for j in range(m_count)]
    ref = int(np.argmin(mean_to))
    seconds["procrustes"] = time.perf_counter() - start

    start = time.perf_counter()
    main_xy, main_cos, main_stress = make_map(scores, rot, ref, t_count)
    seconds["map"] = time.perf_counter() - start

    start = time.perf_counter()
    robustness = []
    for r in range(m_count):
        if r == ref:
            continue
        xy, _, _ = make_map(scores, rot, r, t_count)
        disparity = scipy.spatial.procrustes(main_xy, xy)[2]
        kept = [bool(np.array_equal(trajectory_order(main_xy, m, t_count), trajectory_order(xy, m, t_count)))
                for m in range(m_count)]
        robustness.append((r, disparity, kept))
    seconds["robustness"] = time.perf_counter() - start

    start = time.perf_counter()
    intervals, stability = uncertainty(disp, n)
    seconds["uncertainty"] = time.perf_counter() - start
    out.update(d=d, ref=ref, disp=disp, evr=[p[1] for p in pcas], xy=main_xy, cos=main_cos, stress=main_stress,
               robustness=robustness, intervals=intervals, stability=stability)
    return seconds, out


def write_outputs(folder, models, tasks, n, k, out):
    """results.json, displacement.csv and procrustes.csv with the numbers our CLI writes (no HTML report)."""
    os.makedirs(folder, exist_ok=True)
    t_count = len(tasks)
    xy = out["xy"]
    displacement, movers = [], []
    for m, model in enumerate(models):
        for t in range(1, t_count):
            mean, median, p90, shift, overlap, top, _ = out["disp"][m][t - 1]
            low, high = out["intervals"][m][t - 1]
            length = float(np.linalg.norm(xy[m * t_count + t] - xy[m * t_count]))
            displacement.append({"model": model, "task": tasks[t], "meanCosineDistance": float(mean),
                                 "meanCosineDistanceCiLow": float(low), "meanCosineDistanceCiHigh": float(high),
                                 "medianCosineDistance": float(median), "p90CosineDistance": float(p90),
                                 "trajectoryLength": length, "shiftFraction": float(shift),
                                 "neighbourOverlap": float(overlap)})
            movers += [{"model": model, "task": tasks[t], "index": int(i)} for i in top]
    result = {
        "models": models, "tasks": tasks, "n": n, "k": k, "reference": models[out["ref"]],
        "mdsStress": float(out["stress"]), "procrustesDistance": out["d"].tolist(), "cosineDistance": out["cos"].tolist(),
        "points": [{"model": models[a // t_count], "task": tasks[a % t_count], "x": float(xy[a, 0]), "y": float(xy[a, 1])}
                   for a in range(len(models) * t_count)],
        "displacement": displacement,
        "explainedVarianceRatio": {model: out["evr"][m].tolist() for m, model in enumerate(models)},
        "robustness": [{"reference": models[r], "disparity": float(dis),
                        "taskOrderPreserved": {models[m]: kept[m] for m in range(len(models))}}
                       for r, dis, kept in out["robustness"]],
        "topMovers": movers,
        "taskOrderStability": [{"model": model, "order": [tasks[x + 1] for x in order], "share": whole,
                                "adjacentShares": adjacent}
                               for model, (order, whole, adjacent) in zip(models, out["stability"])],
    }
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    columns = list(displacement[0].keys()) if displacement else []
    with open(os.path.join(folder, "displacement.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(columns) + "\r\n")
        for row in displacement:
            f.write(",".join(str(row[c]) for c in columns) + "\r\n")
    with open(os.path.join(folder, "procrustes.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(["model"] + models) + "\r\n")
        for i, model in enumerate(models):
            f.write(",".join([model] + [repr(float(v)) for v in out["d"][i]]) + "\r\n")


def blas_info():
    info = {"env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))}}
    try:
        from threadpoolctl import threadpool_info

        info["threadpoolctl"] = [
            {"api": i.get("internal_api"), "version": i.get("version"), "threads": i.get("num_threads"),
             "architecture": i.get("architecture")} for i in threadpool_info()]
    except ImportError:
        pass
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "libscipy_openblas*"))
    if libs:
        lib = ctypes.CDLL(libs[0])
        for key, name in [("config", "get_config"), ("corename", "get_corename")]:
            fn = getattr(lib, f"scipy_openblas_{name}64_", None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                info[key] = fn().decode()
        threads = getattr(lib, "scipy_openblas_get_num_threads64_", None)
        if threads is not None:
            info["threads"] = threads()
    if "config" not in info:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        info["config"] = blas.get("openblas configuration") or blas.get("name")
    return info


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("--k", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget", type=float, default=float("inf"))
    parser.add_argument("--write", help="whole-process mode: load, analyse once, write the outputs into this folder")
    args = parser.parse_args()
    models, tasks, emb = load(args.bundle)
    n = emb[0][0].shape[0]
    k = min(args.k, n * len(tasks) - 1, min(e[0].shape[1] for e in emb))
    if args.write:
        _, out = analyse(emb, k)
        write_outputs(args.write, models, tasks, n, k, out)
        return
    runs = []
    spent = 0.0
    d, ref = None, 0
    for _ in range(args.reps):
        seconds, out = analyse(emb, k)
        d, ref = out["d"], out["ref"]
        runs.append(seconds)
        spent += sum(seconds.values())
        if spent >= args.budget:
            break
    core = [s["pca"] + s["procrustes"] + s["map"] for s in runs]
    full = [sum(s.values()) for s in runs]
    print(json.dumps({
        "numpy": np.__version__, "scipy": scipy.__version__, "python": sys.version.split()[0], "blas": blas_info(),
        "k": k, "core": core, "full": full, "stages": runs, "reference": models[ref], "models": models,
        "procrustesDistance": d.tolist(),
    }))


if __name__ == "__main__":
    main()
