"""Bag-model compression side by side: fastText's `quantize` against libtextmodel's
`Model.quantize` on the same data with the same settings (issue 12).

    python3 bench/pq_vs_fasttext.py [--data /work/shared/data/tweets] [--threads 2]
        [--settings A,B] [--out /tmp/pq_vs_fasttext.json]

Settings (the issue's): A = bigrams, dim 100, 5 epochs, lr 0.25, 2M buckets;
B = bigrams, dim 50, 25 epochs, lr 0.5, 2M buckets. No character n-grams (fastText's
supervised default). For each setting both systems train once, then compress three
ways: `-qnorm -retrain -cutoff 100000`, `-qnorm -retrain -cutoff 10000`, and
`-qnorm -retrain` without a cutoff. Retraining uses each system's own defaults
(fastText: the training epochs and rate on input and output; libtextmodel: 5 epochs
at 0.1 on the output layer only).

Measured per model: file size (bytes of the saved file), test accuracy, the time the
compression took (on --threads threads for both), and inference throughput over the
test texts on 1 thread (fastText: multilinePredict on the raw text lines, no
tokenisation in the timing; libtextmodel: predict_proba on the raw texts, tokenising
included), median of 3 runs alternating fastText / libtextmodel.

fastText reads the .ft.txt files, libtextmodel the .csv files of the same split.
fasttext 0.9.3's Python predict() breaks under numpy 2, so the pybind11 object
(model.f) is called directly, as predict() itself does.
"""
import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import fasttext

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))
from textmodel._lib import Model  # noqa: E402

SETTINGS = {
    "A": dict(dim=100, epoch=5, lr=0.25),
    "B": dict(dim=50, epoch=25, lr=0.5),
}
COMPRESSIONS = [("cutoff 100000", 100000), ("cutoff 10000", 10000), ("no cutoff", 0)]
PREFIX = "__label__"


def read_ft(path):
    texts, labels = [], []
    for line in open(path, encoding="utf-8"):
        words = line.rstrip("\n").split(" ")
        labels.append(words[0][len(PREFIX):])
        texts.append(" ".join(words[1:]))
    return texts, labels


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def ft_predict(model, texts):
    found, _ = model.f.multilinePredict([t + "\n" for t in texts], 1, 0.0, "strict")
    return [f[0][len(PREFIX):] if f else "" for f in found]


def ours_predict(model, texts, labels_of):
    return [labels_of[i] for i in model.predict_proba(texts).argmax(1)]


def accuracy(predicted, truth):
    return sum(p == t for p, t in zip(predicted, truth)) / len(truth)


def throughput(pairs, texts, runs=3):
    """Texts per second of each (name, predict) in pairs: runs alternate A B A B."""
    times = {name: [] for name, _ in pairs}
    for _ in range(runs):
        for name, predict in pairs:
            started = time.perf_counter()
            predict(texts)
            times[name].append(time.perf_counter() - started)
    return {name: len(texts) / statistics.median(t) for name, t in times.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/data/tweets")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--settings", default="A,B")
    p.add_argument("--out", default="/tmp/pq_vs_fasttext.json")
    a = p.parse_args()
    data = Path(a.data)
    ft_test_texts, ft_test_labels = read_ft(data / "test.ft.txt")
    test_texts, test_labels = read_csv(data / "test.csv")
    train_texts, train_labels = read_csv(data / "train.csv")
    work = Path(tempfile.mkdtemp(prefix="pq-bench-"))
    rows = []
    for key in a.settings.split(","):
        s = SETTINGS[key]
        print(f"== setting {key}: {s}", flush=True)
        started = time.perf_counter()
        ft = fasttext.train_supervised(input=str(data / "train.ft.txt"), dim=s["dim"], epoch=s["epoch"], lr=s["lr"],
                                       wordNgrams=2, bucket=2_000_000, minCount=1, minn=0, maxn=0, loss="softmax",
                                       thread=a.threads, seed=1, verbose=0)
        ft_train = time.perf_counter() - started
        ft_path = work / f"ft_{key}.bin"
        ft.save_model(str(ft_path))
        config = {"model": {"type": "bag", "embedding_dim": s["dim"]},
                  "tokenizer": {"word_ngrams": 2, "buckets": 2_000_000, "char_ngrams_min": 0, "char_ngrams_max": 0},
                  "training": {"epochs": s["epoch"], "learning_rate": s["lr"], "threads": a.threads}}
        ours = Model.new(json.dumps(config))
        started = time.perf_counter()
        ours.train(train_texts, train_labels)
        ours_train = time.perf_counter() - started
        ours_path = work / f"ours_{key}.tmmodel"
        ours.save(ours_path)
        labels_of = ours.labels()
        ours.set_threads(1)
        speed = throughput([("fastText", lambda t: ft_predict(ft, t)),
                            ("libtextmodel", lambda t: ours_predict(ours, t, labels_of))], test_texts)
        rows.append(dict(setting=key, model="f32", system="fastText", bytes=ft_path.stat().st_size,
                         accuracy=accuracy(ft_predict(ft, ft_test_texts), ft_test_labels), seconds=ft_train,
                         texts_per_second=speed["fastText"]))
        rows.append(dict(setting=key, model="f32", system="libtextmodel", bytes=ours_path.stat().st_size,
                         accuracy=accuracy(ours_predict(ours, test_texts, labels_of), test_labels), seconds=ours_train,
                         texts_per_second=speed["libtextmodel"]))
        print(json.dumps(rows[-2:]), flush=True)
        del ft
        for name, cutoff in COMPRESSIONS:
            fq = fasttext.load_model(str(ft_path))
            started = time.perf_counter()
            fq.quantize(input=str(data / "train.ft.txt"), cutoff=cutoff, retrain=True, qnorm=True, dsub=2,
                        thread=a.threads, verbose=0)
            ft_seconds = time.perf_counter() - started
            fq_path = work / f"ft_{key}.ftz"
            fq.save_model(str(fq_path))
            started = time.perf_counter()
            q = ours.quantize(cutoff=cutoff, dsub=2, qnorm=True, retrain=True, train=(train_texts, train_labels),
                              threads=a.threads)
            ours_seconds = time.perf_counter() - started
            q_path = work / f"ours_{key}.pq.tmmodel"
            q.save(q_path)
            q.set_threads(1)
            speed = throughput([("fastText", lambda t: ft_predict(fq, t)),
                                ("libtextmodel", lambda t: ours_predict(q, t, labels_of))], test_texts)
            rows.append(dict(setting=key, model=f"PQ {name}", system="fastText", bytes=fq_path.stat().st_size,
                             accuracy=accuracy(ft_predict(fq, ft_test_texts), ft_test_labels), seconds=ft_seconds,
                             texts_per_second=speed["fastText"]))
            rows.append(dict(setting=key, model=f"PQ {name}", system="libtextmodel", bytes=q_path.stat().st_size,
                             accuracy=accuracy(ours_predict(q, test_texts, labels_of), test_labels),
                             seconds=ours_seconds, texts_per_second=speed["libtextmodel"]))
            print(json.dumps(rows[-2:]), flush=True)
            del fq, q
            for path in (fq_path, q_path):
                path.unlink()
        ours.close()
        for path in (ft_path, ours_path):
            path.unlink()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(rows, indent=1) + "\n")
    print("\n| setting | model | system | file | accuracy | train / quantize s | texts/s (1 thread) |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        size = f"{r['bytes'] / 1e6:.2f} MB"
        print(f"| {r['setting']} | {r['model']} | {r['system']} | {size} | {r['accuracy']:.4f} | "
              f"{r['seconds']:.1f} | {r['texts_per_second']:,.0f} |")


if __name__ == "__main__":
    main()
