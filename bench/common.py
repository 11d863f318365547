"""Shared pieces of the side-by-side benchmark: the Python tokenizer, CSV reading,
metrics, and the inference timing every system runner uses the same way.

The tokenizer reproduces libtextmodel's (Sources/TextModel/Text/Tokenizer.swift) closely
enough for a fair comparison, not byte for byte:

* lower-case with str.lower() (Swift: String.lowercased());
* zero-width joiners and variation selectors are dropped;
* "http://...", "https://..." or "www...." at a token start, up to the next space,
  becomes the token "<url>";
* a word is a run of \\w characters (letters, digits, underscore, Unicode-aware), which
  may contain apostrophes (' or U+2019) between word characters ("don't");
* every other non-space character is a token of its own (punctuation, emoji, symbols);
* at most max_length tokens are kept.
"""
import csv
import json
import os
import re
import statistics
import sys
import time

_JOINERS = re.compile("[\u200d\ufe00-\ufe0f]")
_TOKEN = re.compile(r"(?:https?://|www\.)\S*|\w+(?:['\u2019]\w+)*|\S")

URL_TOKEN = "<url>"
BATCH = 1000          # texts per batch-inference call
SINGLE = 1000         # single-text predictions timed for latency
MIN_BATCH_SECONDS = 2.0


def tokenize(text, max_length=None):
    tokens = []
    for m in _TOKEN.finditer(_JOINERS.sub("", text.lower())):
        t = m.group()
        if t.startswith(("http://", "https://", "www.")):
            t = URL_TOKEN
        tokens.append(t)
        if max_length is not None and len(tokens) >= max_length:
            break
    return tokens


def read_csv(path):
    """(texts, labels) from a CSV with columns label,text; rows with an empty text or
    label are skipped, as libtextmodel skips them."""
    csv.field_size_limit(sys.maxsize)
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            if row["text"].strip() and row["label"]:
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


def metrics(true, predicted):
    """Accuracy and macro-F1 (over the classes present in `true` or `predicted`)."""
    classes = sorted(set(true) | set(predicted))
    correct = sum(t == p for t, p in zip(true, predicted))
    f1s = []
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(true, predicted))
        fp = sum(t != c and p == c for t, p in zip(true, predicted))
        fn = sum(t == c and p != c for t, p in zip(true, predicted))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": correct / len(true), "macro_f1": sum(f1s) / len(f1s)}


def time_inference(predict_batch, predict_one, texts, labels):
    """Batch throughput, test metrics and single-text latency.

    predict_batch(list of str) -> list of labels; predict_one(str) -> label.
    The test set is predicted in batches of BATCH texts, repeated until at least
    MIN_BATCH_SECONDS have passed (at most 20 passes); the first pass's predictions
    give the metrics. Latency: SINGLE single-text calls (after 20 warm-up calls),
    each timed alone.
    """
    predictions, passes, n = None, 0, 0
    started = time.perf_counter()
    while True:
        out = []
        for i in range(0, len(texts), BATCH):
            out.extend(predict_batch(texts[i:i + BATCH]))
        predictions = predictions or out
        passes += 1
        n += len(texts)
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_BATCH_SECONDS or passes >= 20:
            break
    result = metrics(labels, predictions)
    result["batch_texts_per_second"] = n / elapsed
    result["batch_passes"] = passes

    sample = [texts[i % len(texts)] for i in range(SINGLE)]
    for t in sample[:20]:
        predict_one(t)
    latencies = []
    for t in sample:
        t0 = time.perf_counter_ns()
        predict_one(t)
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
    latencies.sort()
    result["latency_p50_ms"] = statistics.median(latencies)
    result["latency_p99_ms"] = latencies[int(0.99 * len(latencies)) - 1]
    return result


def max_rss_mb():
    """Peak RSS of this process image (VmHWM). Not ru_maxrss: after fork+exec that
    also counts the parent's pages the child had before exec (the parent that prepared
    a big corpus would set a floor of its own size)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def write_result(path, result):
    result["peak_rss_mb"] = max_rss_mb()
    result["rss_source"] = "VmHWM"
    with open(path, "w") as f:
        json.dump(result, f, indent=1)


def file_size(path):
    return os.path.getsize(path)


def finish_run(args, result, rss_before, rss_after, **fields):
    """The end of every runner: the timing result plus the fields each system reports
    (system, version, train_seconds, epochs, effective_threads, ...), the RSS around
    training and the saved model's size, written to args.result."""
    result.update(fields)
    result["rss_before_training_mb"] = rss_before
    result["rss_after_training_mb"] = rss_after
    result["model_bytes"] = file_size(args.model)
    write_result(args.result, result)
