"""One fastText supervised run, hyperparameters of examples/configs/bag.json.

    python bench/run_fasttext.py TRAIN.tok.ft.txt TEST.csv --threads N --bucket B
        --model M --result R.json [--epochs E]

TRAIN.tok.ft.txt is the training split in fastText format, already tokenised by
common.tokenize (lower-cased, punctuation split, URLs folded) as fastText's own
tutorial preprocesses its input; compare.py writes it before any timing. Test texts
are tokenised the same way before the inference timing starts, so fastText's figures
exclude tokenisation (libtextmodel's include it).

fasttext 0.9.3's Python predict() breaks under numpy 2 (np.array(copy=False)), so the
runner calls the pybind11 object (model.f) directly, as predict() itself does.
"""
import argparse
import importlib.metadata
import time

import fasttext

import common

PREFIX = "__label__"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--bucket", type=int, required=True)
    p.add_argument("--epochs", type=int, default=5)
    # bag.json's recipe by default; bench/default_vs_fasttext.py passes the default
    # model's (lr 1.0, character 3-5-grams).
    p.add_argument("--lr", type=float, default=0.25)
    p.add_argument("--minn", type=int, default=0)
    p.add_argument("--maxn", type=int, default=0)
    p.add_argument("--model", required=True)
    p.add_argument("--result", required=True)
    a = p.parse_args()
    rss_before = common.max_rss_mb()

    started, cpu_started = time.perf_counter(), time.process_time()
    model = fasttext.train_supervised(
        input=a.train, dim=100, wordNgrams=2, lr=a.lr, lrUpdateRate=100, epoch=a.epochs,
        bucket=a.bucket, minCount=1, minn=a.minn, maxn=a.maxn, loss="softmax", thread=a.threads,
        seed=1, verbose=0)
    train_seconds = time.perf_counter() - started
    # CPU seconds of every thread of this process: on a shared machine, the work
    # itself, whatever share of the cores the run got.
    train_cpu_seconds = time.process_time() - cpu_started
    rss_after = common.max_rss_mb()

    texts, labels = common.read_csv(a.test)
    texts = [" ".join(common.tokenize(t)) + "\n" for t in texts]

    def predict_batch(batch):
        found, _ = model.f.multilinePredict(batch, 1, 0.0, "strict")
        return [f[0][len(PREFIX):] if f else "" for f in found]

    def predict_one(text):
        found = model.f.predict(text, 1, 0.0, "strict")
        return found[0][1][len(PREFIX):] if found else ""

    result = common.time_inference(predict_batch, predict_one, texts, labels)
    model.save_model(a.model)
    common.finish_run(
        a, result, rss_before, rss_after,
        system="fastText",
        version=fasttext_version(),
        train_seconds=train_seconds,
        train_cpu_seconds=train_cpu_seconds,
        epochs=a.epochs,
        effective_threads=a.threads,
    )


def fasttext_version():
    """The installed distribution's version: `fasttext`, or `fasttext-wheel` (its prebuilt
    copy, which bench/run.sh falls back to), which imports as the same module."""
    for name in ("fasttext", "fasttext-wheel"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return "unknown"


if __name__ == "__main__":
    main()
