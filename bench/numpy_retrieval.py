"""The retrieval scoring of src/engine/evaluation/ranking.ts done with numpy: the reference of the evaluation benchmark.

  generate DIR [--docs 100000] [--queries 1000] [--tasks 6] [--dim 384]
      writes DIR/corpus.npy (docs x dim, float64, L2-normalised), DIR/queries_<t>.npy (queries x dim, normalised;
      each task a perturbation of the first) and DIR/qrels.npy (float64 rows: query, doc, score; 3 graded documents
      per query, near the query)
  score DIR [--block 4096]
      for each task: blocked products Q @ D_block.T (all queries x 4096 documents), a running top-100 merged with
      argpartition (no full sort of the corpus), then nDCG@10, MRR@10 and Recall@100 as ranking.ts computes them.
      Loading is not timed. Prints JSON: seconds per task, total, the metrics, and the peak resident memory above the
      memory after loading (VmHWM reset through /proc/self/clear_refs), BLAS threads.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

DEPTH = 100


def generate(args):
    rng = np.random.default_rng(11)
    docs = rng.standard_normal((args.docs, args.dim))
    queries = rng.standard_normal((args.queries, args.dim))
    rows = []
    for i in range(args.queries):
        for g, j in enumerate(rng.choice(args.docs, size=3, replace=False)):
            docs[j] = queries[i] + rng.standard_normal(args.dim) * (6.0 + 2.0 * g)
            rows.append((i, j, 3 - g))
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    os.makedirs(args.dir, exist_ok=True)
    np.save(os.path.join(args.dir, "corpus.npy"), docs)
    for t in range(args.tasks):
        q = queries + rng.standard_normal(queries.shape) * (0.1 * t)
        np.save(os.path.join(args.dir, f"queries_{t}.npy"), q / np.linalg.norm(q, axis=1, keepdims=True))
    np.save(os.path.join(args.dir, "qrels.npy"), np.array(rows, dtype=np.float64))


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def top_k(q, docs, block):
    n = q.shape[0]
    best_s = np.full((n, 0), -np.inf)
    best_i = np.zeros((n, 0), dtype=np.int64)
    for j0 in range(0, docs.shape[0], block):
        s = q @ docs[j0 : j0 + block].T
        cand_s = np.hstack([best_s, s])
        cand_i = np.hstack([best_i, np.broadcast_to(np.arange(j0, j0 + s.shape[1]), s.shape)])
        if cand_s.shape[1] > DEPTH:
            keep = np.argpartition(-cand_s, DEPTH - 1, axis=1)[:, :DEPTH]
            cand_s = np.take_along_axis(cand_s, keep, axis=1)
            cand_i = np.take_along_axis(cand_i, keep, axis=1)
        best_s, best_i = cand_s, cand_i
    order = np.lexsort((best_i, -best_s), axis=1)
    return np.take_along_axis(best_i, order, axis=1)


def metrics(ranked, qrels, n):
    rel = [dict() for _ in range(n)]
    for i, j, s in qrels:
        if s > 0:
            rel[int(i)][int(j)] = s
    discount = 1 / np.log2(np.arange(2, 12))
    ndcg, mrr, recall = [], [], []
    for i in range(n):
        if not rel[i]:
            continue
        gains = np.array([rel[i].get(j, 0) for j in ranked[i, :10]], dtype=np.float64)
        ideal = np.sort(np.array(list(rel[i].values()), dtype=np.float64))[::-1][:10]
        ndcg.append((gains * discount[: len(gains)]).sum() / (ideal * discount[: len(ideal)]).sum())
        hit = np.nonzero(gains > 0)[0]
        mrr.append(1 / (hit[0] + 1) if len(hit) else 0.0)
        recall.append(sum(1 for j in ranked[i] if j in rel[i]) / len(rel[i]))
    return [float(np.mean(ndcg)), float(np.mean(mrr)), float(np.mean(recall))]


def score(args):
    docs = np.load(os.path.join(args.dir, "corpus.npy"))
    qrels = np.load(os.path.join(args.dir, "qrels.npy"))
    tasks = sorted(f for f in os.listdir(args.dir) if f.startswith("queries_"))
    queries = [np.load(os.path.join(args.dir, f)) for f in tasks]
    reset_peak()
    loaded = status_kib("VmRSS")
    seconds, values = [], []
    for q in queries:
        start = time.perf_counter()
        ranked = top_k(q, docs, args.block)
        values.append(metrics(ranked, qrels, q.shape[0]))
        seconds.append(time.perf_counter() - start)
    threads = None
    try:
        import threadpoolctl

        threads = [i.get("num_threads") for i in threadpoolctl.threadpool_info()]
    except ImportError:
        threads = os.environ.get("OPENBLAS_NUM_THREADS")
    print(json.dumps({
        "numpy": np.__version__, "seconds": seconds, "total": sum(seconds), "metrics": values,
        "peakAboveLoadedKiB": status_kib("VmHWM") - loaded, "threads": threads,
    }))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir")
    g.add_argument("--docs", type=int, default=100000)
    g.add_argument("--queries", type=int, default=1000)
    g.add_argument("--tasks", type=int, default=6)
    g.add_argument("--dim", type=int, default=384)
    s = sub.add_parser("score")
    s.add_argument("dir")
    s.add_argument("--block", type=int, default=4096)
    args = parser.parse_args()
    generate(args) if args.command == "generate" else score(args)


if __name__ == "__main__":
    sys.exit(main())
