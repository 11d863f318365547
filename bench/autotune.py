#!/usr/bin/env python3
"""libtextmodel's autotune beside fastText's (`train_supervised(autotuneValidationFile=,
autotuneDuration=)`) with the same time budget on the same data: test accuracy, model
file size, trials, wall time; and each library's default model as the baseline. Both
tune on the validation split and are scored once on the test split.

    python3 bench/autotune.py [--data DIR] [--budget SECONDS] [--size-limit MB]
                              [--systems a,b,...] [--threads N]

Systems: textmodel-default, textmodel-autotune, fasttext-default, fasttext-autotune,
and with --size-limit also textmodel-autotune-limit and fasttext-autotune-limit
(fastText's autotuneModelSize="<MB>M"). Each runs in its own process. fastText reads
the texts tokenised as libtextmodel tokenises them (lower-cased, punctuation split:
bench/common.py), as the other fastText runs in this folder do. One run each: these
are accuracy and size figures; the times say only that the budget was kept.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

from common import read_csv, tokenize  # noqa: E402


def fasttext_files(data, out):
    """train/valid/test as fastText lines of libtextmodel-style tokens."""
    paths = {}
    for split in ("train", "valid", "test"):
        texts, labels = read_csv(os.path.join(data, f"{split}.csv"))
        path = os.path.join(out, f"{split}.ft.txt")
        with open(path, "w", encoding="utf-8") as f:
            for text, label in zip(texts, labels):
                f.write(f"__label__{label} {' '.join(tokenize(text))}\n")
        paths[split] = path
    return paths


def run_textmodel(system, args, work):
    import textmodel
    train, valid, test = (read_csv(os.path.join(args.data, f"{s}.csv")) for s in ("train", "valid", "test"))
    started = time.monotonic()
    if system == "textmodel-default":
        model = textmodel.TextClassifier({"training": {"threads": args.threads}}).fit(*train)
        extra = {}
    else:
        limit = args.size_limit if system.endswith("-limit") else None
        model = textmodel.autotune(*train, validation=valid, time_budget=args.budget,
                                   max_model_mb=limit, seed=1, threads=args.threads, verbose=True)
        best = model.trials_[model.autotune_["best_trial"]]
        extra = {"trials": len(model.trials_), "best": best["config"],
                 "valid_metric": best["metric"], "stopped_by": model.autotune_["stopped_by"],
                 "statuses": {s: sum(t["status"] == s for t in model.trials_)
                              for s in sorted({t["status"] for t in model.trials_})}}
    seconds = time.monotonic() - started
    path = os.path.join(work, system + ".tmmodel")
    model.save(path)
    return dict(extra, seconds=seconds, test_accuracy=model.score(*test), bytes=os.path.getsize(path))


def run_fasttext(system, args, work):
    import fasttext
    files = fasttext_files(args.data, work)
    started = time.monotonic()
    if system == "fasttext-default":
        model = fasttext.train_supervised(input=files["train"], thread=args.threads, verbose=0)
    else:
        options = dict(autotuneValidationFile=files["valid"], autotuneDuration=int(args.budget),
                       thread=args.threads, verbose=2)
        if system.endswith("-limit"):
            options["autotuneModelSize"] = f"{args.size_limit:g}M"
        model = fasttext.train_supervised(input=files["train"], **options)
    seconds = time.monotonic() - started
    path = os.path.join(work, system + (".ftz" if system.endswith("-limit") else ".bin"))
    model.save_model(path)
    _, precision, _ = model.test(files["test"])  # P@1 = accuracy for one label per text
    args_of = model.f.getArgs()
    best = {k: getattr(args_of, k) for k in ("epoch", "lr", "dim", "wordNgrams", "minn", "maxn", "bucket", "minCount")}
    return dict(seconds=seconds, test_accuracy=precision, bytes=os.path.getsize(path), best=best)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "tweets"))
    parser.add_argument("--budget", type=float, default=120)
    parser.add_argument("--size-limit", type=float, default=None, help="MB, for the -limit systems")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", default="textmodel-default,fasttext-default,textmodel-autotune,fasttext-autotune")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one system in this process
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as work:
            runner = run_textmodel if args.one.startswith("textmodel") else run_fasttext
            print("RESULT " + json.dumps(runner(args.one, args, work)))
        return
    rows = []
    for system in args.systems.split(","):
        command = [sys.executable, __file__, "--one", system, "--data", args.data, "--budget", str(args.budget),
                   "--threads", str(args.threads)] + (["--size-limit", str(args.size_limit)] if args.size_limit else [])
        done = subprocess.run(command, capture_output=True, text=True)
        sys.stderr.write(done.stderr[-3000:])
        result = next((json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")), None)
        if result is None:
            print(f"{system}: failed\n{done.stdout[-2000:]}", file=sys.stderr)
            continue
        rows.append((system, result))
        print(f"{system}: {json.dumps(result)}", flush=True)
    print()
    print(f"data {os.path.basename(os.path.normpath(args.data))}, budget {args.budget:g} s, threads {args.threads}"
          + (f", size limit {args.size_limit:g} MB" if args.size_limit else ""))
    print("| system | test accuracy | model MB | wall s | trials |")
    print("|---|---:|---:|---:|---:|")
    for system, r in rows:
        print(f"| {system} | {r['test_accuracy']:.4f} | {r['bytes'] / 1e6:.2f} | {r['seconds']:.1f} | {r.get('trials', '')} |")


if __name__ == "__main__":
    main()
