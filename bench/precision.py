"""Compact models (issue 12, weight precision): file size, test accuracy, agreement with
the f32 model's predictions, and batch inference throughput of f32, f16 and int8 models
of one training run each, for the bag, CNN, LSTM and Transformer on the tweets.

    TEXTMODEL_LIBRARY=$PWD/.build/release/libtextmodel.so \\
        python3 bench/precision.py [--data /work/shared/data/tweets] [--types bag,cnn,lstm,transformer]
            [--epochs N] [--reps 5] [--threads 1,2] [--out DIR]

Each type trains once (examples/configs/<type>.json; the bag: the default config, whose
tokenizer hashes into the default buckets) with --epochs epochs, is saved as f32, f16
and int8 (Model.save(path, dtype=...)), and the three files are loaded back. Accuracy and
agreement are measured on the whole test set. Throughput: predict_proba over the whole
test set, the three models alternating (f32 f16 int8 f32 f16 int8 ...) --reps times per
thread count; the figure is the median time. Prints a Markdown table.
"""
import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))

import numpy as np  # noqa: E402

import common  # noqa: E402
from textmodel import TextClassifier, library_version  # noqa: E402

DTYPES = ("f32", "f16", "int8")


def config_for(kind, epochs):
    if kind == "bag":
        config = {"model": {"type": "bag"}, "training": {}}
    else:
        config = json.loads((ROOT / "examples" / "configs" / f"{kind}.json").read_text())
    config.setdefault("training", {})["epochs"] = epochs
    return config


def run_type(kind, args, train, test, folder):
    texts, labels = train
    test_texts, test_labels = test
    start = time.perf_counter()
    clf = TextClassifier(config_for(kind, args.epochs)).fit(texts, labels)
    train_seconds = time.perf_counter() - start
    models, sizes = {}, {}
    for dtype in DTYPES:
        path = os.path.join(folder, f"{kind}.{dtype}.model")
        clf.save(path, dtype=dtype)
        sizes[dtype] = os.path.getsize(path)
        models[dtype] = TextClassifier.load(path)
        assert models[dtype].precision_ == dtype
    clf.close()
    predictions = {d: m.predict_proba(test_texts) for d, m in models.items()}
    classes = models["f32"].classes_
    truth = np.asarray(test_labels)
    rows = {}
    for d in DTYPES:
        chosen = classes[np.argmax(predictions[d], axis=1)]
        rows[d] = {
            "bytes": sizes[d],
            "size_ratio": sizes[d] / sizes["f32"],
            "accuracy": float(np.mean(chosen == truth)),
            "agreement": float(np.mean(np.argmax(predictions[d], axis=1) == np.argmax(predictions["f32"], axis=1))),
            "max_abs_prob_diff": float(np.max(np.abs(predictions[d] - predictions["f32"]))),
        }
    for threads in args.threads:
        times = {d: [] for d in DTYPES}
        for d in DTYPES:
            models[d].threads = threads
            models[d].predict_proba(test_texts[:256])          # warm-up: workspaces, tables
        for _ in range(args.reps):
            for d in DTYPES:
                start = time.perf_counter()
                models[d].predict_proba(test_texts)
                times[d].append(time.perf_counter() - start)
        for d in DTYPES:
            median = statistics.median(times[d])
            rows[d][f"seconds_{threads}t"] = median
            rows[d][f"texts_per_s_{threads}t"] = len(test_texts) / median
            rows[d][f"runs_{threads}t"] = times[d]
    for d in DTYPES:
        for threads in args.threads:
            rows[d][f"speedup_{threads}t"] = rows["f32"][f"seconds_{threads}t"] / rows[d][f"seconds_{threads}t"]
    for m in models.values():
        m.close()
    return {"type": kind, "train_seconds": train_seconds, "dtypes": rows}


def table(results, threads):
    head = "| model | dtype | file | × f32 | accuracy | Δ acc (points) | agreement |"
    head += "".join(f" texts/s {t}t | × f32 {t}t |" for t in threads)
    lines = [head, "|" + "---|" * (7 + 2 * len(threads))]
    for r in results:
        base = r["dtypes"]["f32"]
        for d in DTYPES:
            x = r["dtypes"][d]
            line = (f"| {r['type']} | {d} | {x['bytes'] / 1e6:.2f} MB | {x['size_ratio']:.3f} | {x['accuracy']:.4f} | "
                    f"{100 * (x['accuracy'] - base['accuracy']):+.2f} | {100 * x['agreement']:.2f}% |")
            for t in threads:
                line += f" {x[f'texts_per_s_{t}t']:,.0f} | {x[f'speedup_{t}t']:.2f} |"
            lines.append(line)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/data/tweets")
    p.add_argument("--types", default="bag,cnn,lstm,transformer")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--out", help="folder for the model files (default: a temporary one)")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    train = common.read_csv(os.path.join(args.data, "train.csv"))
    test = common.read_csv(os.path.join(args.data, "test.csv"))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or tmp
        os.makedirs(folder, exist_ok=True)
        for kind in args.types.split(","):
            result = run_type(kind, args, train, test, folder)
            results.append(result)
            print(f"{kind}: trained in {result['train_seconds']:.1f} s", file=sys.stderr, flush=True)
    print(f"libtextmodel {library_version()}, {len(test[0])} test texts, {len(train[0])} training texts, "
          f"{args.epochs} epochs, medians of {args.reps} alternating runs, load average {os.getloadavg()[0]:.1f}")
    print(table(results, args.threads))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
