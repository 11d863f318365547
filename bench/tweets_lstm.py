"""Time and score examples/configs/lstm.json on the shared tweets corpus.

Runs the config with 2 threads and with 1 thread, alternating (2, 1, 2, 1, ...) because
two-thread timings on this machine kind swing as the host moves the vCPUs, and prints
the median seconds per epoch and the test accuracy / macro-F1 of each run.

    python3 bench/tweets_lstm.py [--rounds 2] [--tweets ../shared/data/tweets]
"""
import argparse
import json
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))

from textmodel import TextClassifier  # noqa: E402


def run(config, tweets, threads):
    config = json.loads(json.dumps(config))
    config.setdefault("training", {})["threads"] = threads
    model = TextClassifier(config)
    started = time.monotonic()
    model.fit_files(str(tweets / "train.csv"), str(tweets / "valid.csv"))
    seconds = time.monotonic() - started
    metrics = model.evaluate_file(str(tweets / "test.csv"))
    epoch_seconds = [e["seconds"] for e in model.history_]
    return {
        "threads": threads,
        "seconds": seconds,
        "epoch_seconds": statistics.median(epoch_seconds),
        "tokens_per_second": model.report_["train_tokens"] * len(epoch_seconds) / seconds,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tweets", default=str(ROOT.parent / "shared" / "data" / "tweets"))
    parser.add_argument("--config", default=str(ROOT / "examples" / "configs" / "lstm.json"))
    args = parser.parse_args()
    config = json.loads(pathlib.Path(args.config).read_text())
    tweets = pathlib.Path(args.tweets)

    results = {2: [], 1: []}
    for _ in range(args.rounds):
        for threads in (2, 1):
            r = run(config, tweets, threads)
            results[threads].append(r)
            print(f"threads {threads}: {r['epoch_seconds']:.2f} s/epoch, "
                  f"{r['tokens_per_second']:.0f} tokens/s, test accuracy {r['accuracy']:.4f}, "
                  f"macro-F1 {r['macro_f1']:.4f}", flush=True)

    print("\n| threads | s/epoch (median of runs) | training tokens/s | test accuracy | test macro-F1 |")
    print("|---:|---:|---:|---:|---:|")
    for threads in (2, 1):
        rs = results[threads]
        print(f"| {threads} | {statistics.median(r['epoch_seconds'] for r in rs):.2f} "
              f"| {statistics.median(r['tokens_per_second'] for r in rs):.0f} "
              f"| {statistics.median(r['accuracy'] for r in rs):.4f} "
              f"| {statistics.median(r['macro_f1'] for r in rs):.4f} |")


if __name__ == "__main__":
    main()
