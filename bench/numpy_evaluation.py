"""The task evaluation of src/engine/evaluation/ done with numpy and scikit-learn: the reference of the paper-scale
evaluation benchmark (bench/evaluationPaperBench.ts). Run with an interpreter that has numpy, scipy and scikit-learn
(Debian's /usr/bin/python3).

  numpy_evaluation.py BUNDLE [--seed 0] [--block 4096]

Reads an embedding bundle folder with evaluation data (models.txt, tasks.txt, <model>/<task>.npy, queries.jsonl with
ids and labels, pairs.tsv, qrels.tsv, corpus_ids.txt, <model>/Corpus.npy, kinds.json; model and task names are plain
here, no percent-encoding), untimed, then does EVAL.md's evaluation, timed stage by stage:
- normalise: every query matrix and the corpus L2-normalised (the corpus once per model, as a whole);
- retrieval: per task, blocked products Q @ D_block.T with a running top-100 by argpartition (numpy_retrieval.py's
  top_k), nDCG@10, MRR@10, Recall@100 per query;
- reranking: each query's qrels candidates ranked by similarity (ties: lower document index), AP and MRR@10;
- sts: pair similarities, Spearman (scipy.stats.rankdata, average ranks) and Pearson;
- classification: sklearn LogisticRegression(C=1, lbfgs, multinomial, tol 1e-6 on its sum-of-log-losses objective,
  max_iter 10000) in full d on EVAL.md's deterministic stratified folds, accuracy, sklearn macro-F1; leave-one-out
  kNN (k = 5, cosine, lower index first, vote ties to the nearest tied neighbour);
- clustering: 10 runs of k-means++ (EVAL.md's draws from a SplitMix64 stream) + Lloyd in numpy, the lowest inertia
  kept; sklearn V-measure and ARI;
- bootstrap: the B = 1000 x n resample matrix of each kind (SplitMix64, vectorised; shared by every model and task),
  the main metric re-scored on each resample of the fixed outputs (vectorised: means of per-unit values, Spearman
  on ranked rows, V-measure from per-resample contingency tables);
- assembly: intervals and Delta intervals (np.percentile), the leaderboard, displacement vs performance (mean cosine
  displacement computed here, Spearman across cells).
Prints JSON: per-stage and total seconds, BLAS threads, and the numbers to compare with ours.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import scipy
import scipy.stats
import sklearn
import warnings
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, f1_score, v_measure_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_retrieval import top_k  # noqa: E402  (the same blocked top-100 as the retrieval benchmark)
from numpy_splitmix import RESAMPLES, resample_matrix, splitmix_uniforms  # noqa: E402

KINDS = ["retrieval", "reranking", "sts", "classification", "clustering"]
METRICS = {
    "retrieval": ["nDCG@10", "MRR@10", "Recall@100"],
    "reranking": ["MAP", "MRR@10"],
    "sts": ["spearman", "pearson"],
    "classification": ["accuracy", "macroF1", "kNNAccuracy"],
    "clustering": ["vMeasure", "ARI"],
}
FOLDS = 5
NEIGHBOURS = 5
RUNS = 10
MAX_ITER = 300


# ---- random numbers (SplitMix64, as src/engine/evaluation/bootstrap.ts: numpy_splitmix.py) ----

class Stream:
    """Sequential draws of one SplitMix64 stream (k-means++)."""

    def __init__(self, seed):
        self.seed = seed
        self.drawn = 0

    def uniform(self):
        u = splitmix_uniforms(self.seed, 1, self.drawn)[0]
        self.drawn += 1
        return u


# ---- reading the bundle (untimed) ----

def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def read_tsv(path):
    rows = read_lines(path)
    return [row.split("\t") for row in rows[1:]]


def load(bundle):
    models = read_lines(os.path.join(bundle, "models.txt"))
    tasks = read_lines(os.path.join(bundle, "tasks.txt"))
    queries = [json.loads(line) for line in read_lines(os.path.join(bundle, "queries.jsonl"))]
    ids = [q["id"] for q in queries]
    row = {qid: i for i, qid in enumerate(ids)}
    names = sorted(set(q["label"] for q in queries))
    labels = np.array([names.index(q["label"]) for q in queries])
    pairs = read_tsv(os.path.join(bundle, "pairs.tsv"))
    pair_a = np.array([row[p[0]] for p in pairs])
    pair_b = np.array([row[p[1]] for p in pairs])
    gold = np.array([float(p[2]) for p in pairs])
    doc_ids = read_lines(os.path.join(bundle, "corpus_ids.txt"))
    doc_row = {d: j for j, d in enumerate(doc_ids)}
    qrels = [(row[q], doc_row[d], float(s)) for q, d, s in read_tsv(os.path.join(bundle, "qrels.tsv"))]
    with open(os.path.join(bundle, "kinds.json")) as f:
        kinds = json.load(f)
    embeddings = [[np.load(os.path.join(bundle, m, f"{t}.npy")).astype(np.float64) for t in tasks] for m in models]
    corpus = [np.load(os.path.join(bundle, m, "Corpus.npy")).astype(np.float64) for m in models]
    return {
        "models": models, "tasks": tasks, "labels": labels, "pairs": (pair_a, pair_b, gold), "qrels": qrels,
        "homeKinds": [kinds.get(t) for t in tasks], "embeddings": embeddings, "corpus": corpus, "n": len(ids),
    }


# ---- the kinds: each returns (metric values, per-unit data for the bootstrap) ----

def qrels_index(qrels, n):
    per_query = [dict() for _ in range(n)]
    for q, d, s in qrels:
        per_query[q][d] = s
    candidates = [np.array(sorted(c), dtype=np.int64) for c in per_query]
    scores = [np.array([per_query[q][d] for d in candidates[q]]) for q in range(n)]
    retrieval = [q for q in range(n) if (scores[q] > 0).any()]
    reranking = [q for q in range(n) if (scores[q] > 0).any() and (scores[q] <= 0).any()]
    return per_query, candidates, scores, retrieval, reranking


DISCOUNT = 1 / np.log2(np.arange(2, 12))


def retrieval_scores(ranked, index):
    per_query, _, _, units, _ = index
    values = np.zeros((len(units), 3))
    for u, q in enumerate(units):
        rel = {d: s for d, s in per_query[q].items() if s > 0}
        gains = np.array([rel.get(int(d), 0.0) for d in ranked[q, :10]])
        ideal = np.sort(np.array(list(rel.values())))[::-1][:10]
        hit = np.nonzero(gains > 0)[0]
        values[u] = [
            (gains * DISCOUNT[: len(gains)]).sum() / (ideal * DISCOUNT[: len(ideal)]).sum(),
            1 / (hit[0] + 1) if len(hit) else 0.0,
            sum(1 for d in ranked[q] if int(d) in rel) / len(rel),
        ]
    return values


def reranking_scores(q_unit, docs_unit, index):
    _, candidates, scores, _, units = index
    values = np.zeros((len(units), 2))
    for u, q in enumerate(units):
        cand = candidates[q]
        sims = docs_unit[cand] @ q_unit[q]
        order = np.lexsort((cand, -sims))
        relevant = scores[q][order] > 0
        ranks = np.nonzero(relevant)[0] + 1
        precision = np.arange(1, len(ranks) + 1) / ranks
        values[u] = [precision.mean(), 1 / ranks[0] if ranks[0] <= 10 else 0.0]
    return values


def rank_rows(x):
    """Average ranks (1-based) within each row, as scipy.stats.rankdata per row (whose axis= loops in Python)."""
    rows, n = x.shape
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(starts.ravel()) - 1
    first = np.tile(np.arange(n), rows)[starts.ravel()]
    average = first + (np.bincount(group) - 1) / 2 + 1
    ranks = np.empty((rows, n))
    np.put_along_axis(ranks, order, average[group].reshape(rows, n), axis=1)
    return ranks


def spearman_rows(x, y):
    """Spearman of each row pair (average ranks), as scipy.stats.spearmanr per row."""
    return pearson_rows(rank_rows(x), rank_rows(y))


def pearson_rows(x, y):
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    return (xc * yc).sum(axis=1) / np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))


def folds_of(labels):
    seen = {}
    out = np.zeros(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        out[i] = seen.get(label, 0) % FOLDS
        seen[label] = seen.get(label, 0) + 1
    return out


def cross_validated(x, labels, folds):
    predictions = np.zeros(len(labels), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)
        for fold in range(FOLDS):
            test = folds == fold
            model = LogisticRegression(C=1.0, solver="lbfgs", multi_class="multinomial", tol=1e-6, max_iter=10000)
            model.fit(x[~test], labels[~test])
            predictions[test] = model.classes_[np.argmax(model.predict_proba(x[test]), axis=1)]
    return predictions


def knn(x, labels, classes):
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    nearest = np.argsort(-s, axis=1, kind="stable")[:, :NEIGHBOURS]
    votes = np.zeros((len(labels), classes), dtype=np.int64)
    neighbour_labels = labels[nearest]
    for c in range(NEIGHBOURS):
        np.add.at(votes, (np.arange(len(labels)), neighbour_labels[:, c]), 1)
    most = votes.max(axis=1)
    winner = votes[np.arange(len(labels))[:, None], neighbour_labels] == most[:, None]
    return neighbour_labels[np.arange(len(labels)), np.argmax(winner, axis=1)]


def squared_distances(x, norms, centres):
    return np.maximum(norms[:, None] - 2 * x @ centres.T + (centres * centres).sum(axis=1)[None, :], 0)


def kmeans(x, clusters, seed):
    n = len(x)
    norms = (x * x).sum(axis=1)
    stream = Stream(seed)
    best = None
    for _ in range(RUNS):
        seeds = [int(np.floor(stream.uniform() * n))]
        nearest = np.full(n, np.inf)
        for _ in range(1, clusters):
            c = x[seeds[-1]]
            nearest = np.minimum(nearest, np.maximum(norms + c @ c - 2 * x @ c, 0))
            running = np.cumsum(nearest)
            seeds.append(int(np.searchsorted(running, stream.uniform() * running[-1], side="left")))
        centres = x[seeds].copy()
        assignments = squared_distances(x, norms, centres).argmin(axis=1)
        for _ in range(MAX_ITER):
            for k in range(clusters):
                members = assignments == k
                if members.any():
                    centres[k] = x[members].mean(axis=0)
            following = squared_distances(x, norms, centres).argmin(axis=1)
            changed = (following != assignments).any()
            assignments = following
            if not changed:
                break
        inertia = sum(((x[assignments == k] - x[assignments == k].mean(axis=0)) ** 2).sum() for k in range(clusters) if (assignments == k).any())
        if best is None or inertia < best[0]:
            best = (inertia, assignments)
    return best[1]


def entropy_rows(counts):
    """Entropy (natural log) of each row of counts."""
    total = counts.sum(axis=1, keepdims=True)
    p = np.where(counts > 0, counts / total, 1.0)
    return -(np.where(counts > 0, counts / total, 0.0) * np.log(p)).sum(axis=1)


def v_measure_rows(labels, clusters, samples, label_count, cluster_count):
    """sklearn's v_measure_score(labels[s], clusters[s]) for every resample row s, from contingency tables."""
    b = np.repeat(np.arange(len(samples)), samples.shape[1])
    cells = (b * label_count + labels[samples].ravel()) * cluster_count + clusters[samples].ravel()
    table = np.bincount(cells, minlength=len(samples) * label_count * cluster_count).reshape(len(samples), label_count, cluster_count).astype(np.float64)
    h_c = entropy_rows(table.sum(axis=2))
    h_k = entropy_rows(table.sum(axis=1))
    total = samples.shape[1]
    outer = table.sum(axis=2)[:, :, None] * table.sum(axis=1)[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(table > 0, (table / total) * (np.log(table) - np.log(total) - np.log(np.where(outer > 0, outer, 1)) + 2 * np.log(total)), 0.0)
    mi = np.maximum(terms.sum(axis=(1, 2)), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(h_c == 0, 1.0, mi / h_c)
        c = np.where(h_k == 0, 1.0, mi / h_k)
        v = np.where(h + c == 0, 0.0, 2 * h * c / (h + c))
    return v


def percentiles(values):
    return np.percentile(values, [2.5, 97.5])


def evaluate(data, seed, block):
    stages = dict.fromkeys(["normalise", "retrieval", "reranking", "sts", "classification", "clustering", "bootstrap", "assembly"], 0.0)
    clock = [time.perf_counter()]

    def lap(stage):
        now = time.perf_counter()
        stages[stage] += now - clock[0]
        clock[0] = now

    models, tasks, n = data["models"], data["tasks"], data["n"]
    labels = data["labels"]
    classes = int(labels.max()) + 1
    pair_a, pair_b, gold = data["pairs"]
    index = qrels_index(data["qrels"], n)
    folds = folds_of(labels)
    units = {"retrieval": len(index[3]), "reranking": len(index[4]), "sts": len(gold), "classification": n, "clustering": n}
    resamples = {}
    for kind in KINDS:
        if units[kind] not in resamples:
            resamples[units[kind]] = resample_matrix(seed, units[kind])
    lap("assembly")
    # cells[m][t][kind] = (metric values, replicates of the main metric)
    cells = []
    displacement = []
    for m in range(len(models)):
        cells.append([])
        unit = [e / np.linalg.norm(e, axis=1, keepdims=True) for e in data["embeddings"][m]]
        docs = data["corpus"][m] / np.linalg.norm(data["corpus"][m], axis=1, keepdims=True)
        lap("normalise")
        displacement.append([float((1 - (unit[t] * unit[0]).sum(axis=1)).mean()) for t in range(len(tasks))])
        lap("assembly")
        for t in range(len(tasks)):
            q = unit[t]
            row = {}
            per_query = retrieval_scores(top_k(q, docs, block), index)
            lap("retrieval")
            row["retrieval"] = (per_query.mean(axis=0).tolist(), per_query[:, 0][resamples[units["retrieval"]]].mean(axis=1))
            lap("bootstrap")
            per_query = reranking_scores(q, docs, index)
            lap("reranking")
            row["reranking"] = (per_query.mean(axis=0).tolist(), per_query[:, 0][resamples[units["reranking"]]].mean(axis=1))
            lap("bootstrap")
            sims = (q[pair_a] * q[pair_b]).sum(axis=1)
            values = [float(scipy.stats.spearmanr(sims, gold)[0]), float(scipy.stats.pearsonr(sims, gold)[0])]
            lap("sts")
            s = resamples[units["sts"]]
            row["sts"] = (values, spearman_rows(sims[s], gold[s]))
            lap("bootstrap")
            predictions = cross_validated(q, labels, folds)
            neighbours = knn(q, labels, classes)
            correct = predictions == labels
            values = [float(correct.mean()), float(f1_score(labels, predictions, average="macro", zero_division=0)), float((neighbours == labels).mean())]
            lap("classification")
            row["classification"] = (values, correct.astype(np.float64)[resamples[n]].mean(axis=1))
            lap("bootstrap")
            assignments = kmeans(q, classes, seed)
            values = [float(v_measure_score(labels, assignments)), float(adjusted_rand_score(labels, assignments))]
            lap("clustering")
            row["clustering"] = (values, v_measure_rows(labels, assignments, resamples[n], classes, classes))
            lap("bootstrap")
            cells[m].append(row)

    # Rows (models, tasks, kinds, metrics order): value, then for the main metric its interval and Delta interval.
    rows = []
    for m in range(len(models)):
        for t in range(len(tasks)):
            for kind in KINDS:
                values, reps = cells[m][t][kind]
                base_values, base_reps = cells[m][0][kind]
                ci = percentiles(reps)
                delta_ci = np.zeros(2) if t == 0 else percentiles(reps - base_reps)
                for x, metric in enumerate(METRICS[kind]):
                    main = x == 0
                    rows.append([values[x], float(ci[0]) if main else None, float(ci[1]) if main else None,
                                 float(delta_ci[0]) if main else None, float(delta_ci[1]) if main else None])
    leaderboard = []
    for m in range(len(models)):
        for kind in KINDS:
            wordings = [t for t in range(1, len(tasks)) if data["homeKinds"][t] == kind]
            if len(wordings) < 2:
                continue
            main = lambda t: cells[m][t][kind][0][0]  # noqa: E731
            ranked = sorted(wordings, key=lambda t: (-main(t), t))
            best = ranked[0]
            for r, t in enumerate(ranked):
                diff = np.zeros(2) if t == best else percentiles(cells[m][t][kind][1] - cells[m][best][kind][1])
                leaderboard.append([models[m], kind, tasks[t], r + 1, main(t) - main(best), float(diff[0]), float(diff[1])])
    correlation = []
    for kind in KINDS:
        x = [displacement[m][t] for m in range(len(models)) for t in range(1, len(tasks))]
        y = [cells[m][t][kind][0][0] - cells[m][0][kind][0][0] for m in range(len(models)) for t in range(1, len(tasks))]
        correlation.append([kind, float(scipy.stats.spearmanr(x, y)[0]), len(x)])
    lap("assembly")
    return stages, rows, leaderboard, correlation


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--block", type=int, default=4096)
    args = parser.parse_args()
    data = load(args.bundle)
    start = time.perf_counter()
    stages, rows, leaderboard, correlation = evaluate(data, args.seed, args.block)
    total = time.perf_counter() - start
    try:
        import threadpoolctl

        threads = [{"api": i.get("internal_api"), "threads": i.get("num_threads"), "arch": i.get("architecture")} for i in threadpoolctl.threadpool_info()]
    except ImportError:
        threads = os.environ.get("OPENBLAS_NUM_THREADS")
    print(json.dumps({
        "python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__,
        "blas": threads, "seconds": total, "stages": stages, "rows": rows, "leaderboard": leaderboard, "correlation": correlation,
    }))


if __name__ == "__main__":
    sys.exit(main())
