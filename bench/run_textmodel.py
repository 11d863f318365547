"""One libtextmodel run: train a config on a CSV, then time inference and save.

    python bench/run_textmodel.py CONFIG TRAIN.csv TEST.csv --threads N --model M --result R.json
        [--epochs E]

Training wall time runs from fit_files() (it reads and parses the file, tokenises,
builds the vocabulary) to the trained model in memory. No validation set is used.
"""
import argparse
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build-bench" / "release" / "libtextmodel.so"))

import common  # noqa: E402
from textmodel import TextClassifier, library_version  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--epochs", type=int)
    p.add_argument("--model", required=True)
    p.add_argument("--result", required=True)
    a = p.parse_args()

    config = json.loads(pathlib.Path(a.config).read_text())
    config.setdefault("training", {})["threads"] = a.threads
    if a.epochs:
        config["training"]["epochs"] = a.epochs
    # Prediction runs on as many threads as training (the bench's thread count), so a
    # 1-thread row is 1 thread throughout.
    clf = TextClassifier(config, threads=a.threads)
    rss_before = common.max_rss_mb()

    started, cpu_started = time.perf_counter(), time.process_time()
    clf.fit_files(a.train)
    train_seconds = time.perf_counter() - started
    # CPU seconds of every thread of this process: on a shared machine, the work
    # itself, whatever share of the cores the run got.
    train_cpu_seconds = time.process_time() - cpu_started
    rss_after = common.max_rss_mb()

    texts, labels = common.read_csv(a.test)
    result = common.time_inference(clf.predict, lambda t: clf.predict([t])[0], texts, labels)
    clf.save(a.model)
    common.finish_run(
        a, result, rss_before, rss_after,
        system="libtextmodel",
        version=library_version(),
        train_seconds=train_seconds,
        train_cpu_seconds=train_cpu_seconds,
        epochs=len(clf.history_),
        effective_threads=clf.report_["threads"],
        library_train_tokens=clf.report_["train_tokens"],
    )


if __name__ == "__main__":
    main()
