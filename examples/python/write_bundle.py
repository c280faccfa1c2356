#!/usr/bin/env python3
"""Embed queries (and, for retrieval, a corpus) with sentence-transformers and write an Instruction Lens bundle.

    pip install "sentence-transformers>=3" numpy
    python write_bundle.py --queries queries.jsonl --instructions paper-en.instructions.json \
        --model Qwen/Qwen3-Embedding-4B --model hkunlp/instructor-large --out my-bundle \
        [--corpus corpus.jsonl --qrels qrels.tsv] [--pairs pairs.tsv]
    npx instruction-lens analyze my-bundle --out results

Bundle layout (src/engine/io/bundle.ts, ../shared/docs/EVAL.md):
    <bundle>/<model>/<task>.npy   N x d float32, rows in query order, Base = no instruction
    <bundle>/queries.txt          one query a line (the rows' order); queries.jsonl with id, text, label
    <bundle>/models.txt, tasks.txt, instructions.json {task: instruction}
    <bundle>/pairs.tsv, qrels.tsv copied; corpus_ids.txt and <bundle>/<model>/Corpus.npy for retrieval
Model and task names are percent-encoded in file names as the tool does ("Qwen/Qwen3-Embedding-4B" ->
"Qwen%2FQwen3-Embedding-4B"). The templates are those of METHOD.md ("Model families"); pooling and normalisation
are the model's own sentence-transformers modules, vectors L2-normalised.
"""
import argparse
import json
import os
import re
import shutil

import numpy as np

# METHOD.md "Model families": (template with an instruction, Base template, document form of EVAL.md)
FAMILIES = {
    "qwen3-embedding": ("Instruct: {instruction}\nQuery:{query}", "{query}", "{text}"),
    "e5-instruct": ("Instruct: {instruction}\nQuery: {query}", "{query}", "{text}"),
    "e5-mistral": ("Instruct: {instruction}\nQuery: {query}", "{query}", "{text}"),
    "instructor": (None, None, None),  # pair [instruction, text], instruction tokens left out of the mean
    "bge-v1.5": ("{instruction}{query}", "{query}", "{text}"),
    "multilingual-e5": ("query: {query}", "query: {query}", "passage: {text}"),
    "ruri-v3": ("{instruction}{query}", "{query}", "検索文書: {text}"),
    "generic": ("{instruction} {query}", "{query}", "{text}"),
}
INSTRUCTOR_DOCUMENT = "Represent the document for retrieval: "


def detect_family(model_id):
    """The same name rules as src/models/families.ts (detectFamily)."""
    n = model_id.lower()
    for pattern, family in [(r"qwen3-embedding", "qwen3-embedding"), (r"e5-mistral", "e5-mistral"),
                            (r"e5-[a-z0-9-]*instruct", "e5-instruct"), (r"instructor-", "instructor"),
                            (r"bge-[a-z0-9-]*v1\.5", "bge-v1.5"), (r"multilingual-e5-(small|base|large)", "multilingual-e5"),
                            (r"ruri-v3", "ruri-v3")]:
        if re.search(pattern, n):
            return family
    return "generic"


def encode_name(name):
    """File-name form of a model or task name (src/engine/io/bundle.ts encodeName)."""
    encoded = re.sub(r'[%/\\:*?"<>|\x00-\x1f\x7f]', lambda m: "%{:02X}".format(ord(m.group())), name)
    return "%2E" + encoded[1:] if encoded.startswith(".") else encoded


def read_queries(path):
    """.txt: one query a line (# comments, blank lines skipped; id = line number). .jsonl: id, text, label."""
    queries = []
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if path.endswith(".txt"):
                text = line.strip()
                if text and not text.startswith("#"):
                    queries.append({"id": str(number), "text": text})
            elif line.strip():
                row = json.loads(line)
                text = row.get("text", row.get("query"))
                entry = {"id": str(row.get("id", row.get("_id", number))), "text": text}
                if "label" in row:
                    entry["label"] = row["label"]
                queries.append(entry)
    return queries


def read_tasks(path):
    """An instruction set (*.instructions.json): [{"name", "instruction"}]; Base is added first."""
    with open(path, encoding="utf-8") as f:
        tasks = json.load(f)["tasks"]
    return [("Base", None)] + [(t["name"], t["instruction"]) for t in tasks]


def read_corpus(path):
    """BEIR corpus.jsonl (_id or id, optional title, text): a title is embedded as title + " " + text."""
    ids, texts = [], []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                ids.append(str(row.get("_id", row.get("id"))))
                texts.append(f"{row['title']} {row['text']}" if row.get("title") else row["text"])
    return ids, texts


def embed_model(model_id, family, queries, tasks, corpus_texts, batch_size):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_id, trust_remote_code=True)
    texts = [q["text"] for q in queries]

    def encode(items, **kwargs):
        return np.asarray(model.encode(items, batch_size=batch_size, normalize_embeddings=True, **kwargs), dtype=np.float32)

    out = {}
    if family == "instructor":
        # INSTRUCTOR: the instruction is a prompt whose tokens take part in attention but not in the mean
        model.set_pooling_include_prompt(include_prompt=False)
        for name, instruction in tasks:
            out[name] = encode(texts) if instruction is None else encode(texts, prompt=instruction)
        if corpus_texts is not None:
            out["Corpus"] = encode(corpus_texts, prompt=INSTRUCTOR_DOCUMENT)
        return out
    template, base, document = FAMILIES[family]
    for name, instruction in tasks:
        form = base if instruction is None else template
        out[name] = encode([form.replace("{instruction}", instruction or "").replace("{query}", t) for t in texts])
    if corpus_texts is not None:
        out["Corpus"] = encode([document.replace("{text}", t) for t in corpus_texts])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", required=True, help="queries .txt or .jsonl (id, text, label)")
    parser.add_argument("--instructions", required=True, help="instruction set .json ({tasks: [{name, instruction}]})")
    parser.add_argument("--model", action="append", required=True, help="sentence-transformers model id (repeatable)")
    parser.add_argument("--family", action="append", default=[], help="MODEL=FAMILY to override the detected family")
    parser.add_argument("--corpus", help="retrieval corpus .jsonl (_id/id, title, text)")
    parser.add_argument("--qrels", help="qrels .tsv (copied into the bundle)")
    parser.add_argument("--pairs", help="STS pairs .tsv (copied into the bundle)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", required=True, help="bundle folder to write")
    args = parser.parse_args()

    queries = read_queries(args.queries)
    tasks = read_tasks(args.instructions)
    families = dict(item.split("=", 1) for item in args.family)
    corpus_ids, corpus_texts = read_corpus(args.corpus) if args.corpus else (None, None)
    os.makedirs(args.out, exist_ok=True)

    for model_id in args.model:
        family = families.get(model_id, detect_family(model_id))
        print(f"{model_id}: family {family}")
        vectors = embed_model(model_id, family, queries, tasks, corpus_texts, args.batch_size)
        folder = os.path.join(args.out, encode_name(model_id))
        os.makedirs(folder, exist_ok=True)
        for name, matrix in vectors.items():
            np.save(os.path.join(folder, encode_name(name) + ".npy"), np.ascontiguousarray(matrix))

    def write_lines(name, lines):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))

    write_lines("queries.txt", [re.sub(r"\r\n|\r|\n", " ", q["text"]) for q in queries])
    write_lines("queries.jsonl", [json.dumps(q, ensure_ascii=False) for q in queries])
    write_lines("models.txt", args.model)
    write_lines("tasks.txt", [name for name, _ in tasks])
    with open(os.path.join(args.out, "instructions.json"), "w", encoding="utf-8") as f:
        json.dump({name: instruction for name, instruction in tasks if instruction is not None}, f, ensure_ascii=False, indent=1)
    if corpus_ids is not None:
        write_lines("corpus_ids.txt", corpus_ids)
    for source, name in [(args.qrels, "qrels.tsv"), (args.pairs, "pairs.tsv")]:
        if source:
            shutil.copyfile(source, os.path.join(args.out, name))
    print(f"wrote {args.out}: {len(args.model)} models x {len(tasks)} tasks x {len(queries)} queries")


if __name__ == "__main__":
    main()
