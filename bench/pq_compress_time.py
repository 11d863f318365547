"""Bag-model compression time against training time, libtextmodel alone (issue 12: PQ
without a cutoff should take less time than training the same model).

    TEXTMODEL_LIBRARY=$PWD/.build/release/libtextmodel.so \\
        python3 bench/pq_compress_time.py [--data /work/shared/data/tweets] [--threads 1,2]
            [--cutoffs 0,100000] [--reps 3] [--json out.json] [--model FILE]

For each thread count: trains bench/pq_vs_fasttext.py's setting A (bag, bigrams, 2M
buckets, dim 100, 5 epochs, lr 0.25, no character n-grams) once (with --model, the
compressed weights are that file's, so that runs of two libraries compare the same
model; the training is still timed), then compresses it
`--reps` times per cutoff with `quantize(cutoff, dsub=2, qnorm=True, retrain=True)`
(the retraining texts: the training set), on the same threads. Prints the training
seconds, the median compression seconds (and every run), their ratio, the same in CPU
seconds of the process (every thread; wall time is noisy on a shared machine), the
compressed file's bytes, SHA-1 (first 12 digits) and test accuracy, and the load average
before and after. Neither timing includes loading or saving a model file.
"""
import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))

import common  # noqa: E402
from textmodel._lib import Model  # noqa: E402

# pq_vs_fasttext.py's setting A (that script imports fasttext; this one does not).
SETTING_A = dict(dim=100, epoch=5, lr=0.25)


def accuracy(model, texts, labels, labels_of):
    chosen = [labels_of[i] for i in model.predict_proba(texts).argmax(1)]
    return sum(p == t for p, t in zip(chosen, labels)) / len(labels)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/data/tweets")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--cutoffs", default="0,100000")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--model", help="a trained setting-A model file: loaded (not trained) when it exists, else "
                                   "written after training, so that two libraries compress the same weights "
                                   "(training on 2 threads is Hogwild, not repeatable)")
    a = p.parse_args()
    data = Path(a.data)
    train_texts, train_labels = common.read_csv(str(data / "train.csv"))
    test_texts, test_labels = common.read_csv(str(data / "test.csv"))
    s = SETTING_A
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as work:
        for threads in [int(t) for t in a.threads.split(",")]:
            config = {"model": {"type": "bag", "embedding_dim": s["dim"]},
                      "tokenizer": {"word_ngrams": 2, "buckets": 2_000_000, "char_ngrams_min": 0, "char_ngrams_max": 0},
                      "training": {"epochs": s["epoch"], "learning_rate": s["lr"], "threads": threads}}
            model = Model.new(json.dumps(config))
            started, cpu = time.perf_counter(), time.process_time()
            model.train(train_texts, train_labels)
            train_seconds, train_cpu = time.perf_counter() - started, time.process_time() - cpu
            if a.model and os.path.exists(a.model):
                model.close()
                model = Model.load(a.model)   # the same weights for every library compared
                model.set_threads(threads)
            elif a.model:
                model.save(a.model)
            labels_of = model.labels()
            f32_accuracy = accuracy(model, test_texts, test_labels, labels_of)
            print(f"{threads} thread(s): trained in {train_seconds:.2f} s, accuracy {f32_accuracy:.4f}", flush=True)
            for cutoff in [int(c) for c in a.cutoffs.split(",")]:
                times, cpus, size, acc, digest = [], [], None, None, None
                for _ in range(a.reps):
                    started, cpu = time.perf_counter(), time.process_time()
                    q = model.quantize(cutoff=cutoff, dsub=2, qnorm=True, retrain=True,
                                       train=(train_texts, train_labels), threads=threads)
                    times.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu)
                    path = Path(work) / "q.tmmodel"
                    q.save(path)
                    size = path.stat().st_size
                    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:12]
                    acc = accuracy(q, test_texts, test_labels, labels_of)
                    q.close()
                row = dict(threads=threads, cutoff=cutoff, train_seconds=train_seconds, quantize_runs=times,
                           quantize_seconds=statistics.median(times), train_cpu=train_cpu, quantize_cpu_runs=cpus,
                           quantize_cpu=statistics.median(cpus), bytes=size, sha1=digest, accuracy=acc,
                           f32_accuracy=f32_accuracy, load=os.getloadavg()[0])
                rows.append(row)
                print(json.dumps(row), flush=True)
            model.close()
    print(f"\nload average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print("| threads | cutoff | train s | quantize s (median) | runs | quantize / train | CPU s train / quantize (ratio) "
          "| file | sha1 | accuracy (f32) |")
    print("|---:|---:|---:|---:|---|---:|---|---:|---|---|")
    for r in rows:
        runs = " ".join(f"{t:.2f}" for t in r["quantize_runs"])
        print(f"| {r['threads']} | {r['cutoff'] or 'none'} | {r['train_seconds']:.2f} | {r['quantize_seconds']:.2f} | "
              f"{runs} | {r['quantize_seconds'] / r['train_seconds']:.2f} | {r['train_cpu']:.2f} / {r['quantize_cpu']:.2f} "
              f"({r['quantize_cpu'] / r['train_cpu']:.2f}) | {r['bytes'] / 1e6:.2f} MB | {r['sha1']} | "
              f"{r['accuracy']:.4f} ({r['f32_accuracy']:.4f}) |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
