"""textmodel.dask on LocalClusters: inference scaling and distributed training accuracy.

Inference: 200,000 texts (the tweets, repeated with a running number appended so no two
are equal) labelled by a bag model trained on the tweets, on a cluster of 1 worker x 1
thread and one of 2 workers x 1 thread, alternating (1, 2, 1, 2, ...), each run's data
persisted on its cluster first so the timing is prediction only; prints texts/second
per run (and per CPU-second of the workers), the medians and their ratio, and checks that every distributed result equals
the local predictions bit for bit.

Training: the bag (examples/configs/bag.json) and an LSTM (examples/configs/lstm.json
with fewer epochs and a smaller hidden size, to fit the time) on the tweets' training
set, in one process (threads 1) and by textmodel.dask.fit on 2 workers x 1 thread (2
shards), with combine "sum" and "mean"; prints test accuracy and seconds.

    python3 bench/dask_scaling.py [--rounds 3] [--texts 200000] [--skip-training]
"""
import argparse
import csv
import json
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bindings" / "python"), os.environ.get("PYTHONPATH", "")])

import dask.dataframe as dd  # noqa: E402
import distributed  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import textmodel.dask as tmd  # noqa: E402
from textmodel import TextClassifier  # noqa: E402


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = list(csv.DictReader(f))
    return [x["text"] for x in r], [x["label"] for x in r]


def cluster(workers):
    c = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                 dashboard_address=":0", silence_logs=40)
    return c, distributed.Client(c)


def inference(args, tweets):
    texts, labels = rows(tweets / "train.csv")
    config = json.loads((ROOT / "examples" / "configs" / f"{args.model}.json").read_text())
    config["training"]["threads"] = 1
    if args.model != "bag":
        config["training"]["epochs"] = 1   # the speed of inference, not the accuracy, is measured
    model = TextClassifier(config).fit(texts, labels)
    print(f"model: examples/configs/{args.model}.json")
    base = texts + rows(tweets / "test.csv")[0]
    many = [f"{base[i % len(base)]} {i}" for i in range(args.texts)]
    started = time.monotonic()
    local = model.predict(many)
    print(f"local, 1 thread: {args.texts / (time.monotonic() - started):,.0f} texts/s")
    frame = pd.DataFrame({"text": many})
    setups = {n: cluster(n) for n in (1, 2)}
    rates = {1: [], 2: []}
    try:
        data = {n: c.persist(dd.from_pandas(frame, npartitions=args.partitions)["text"])
                for n, (_, c) in setups.items()}
        for n, (_, c) in setups.items():
            distributed.wait(data[n])
            with c.as_current():
                tmd.predict(model, data[n].partitions[0]).compute()  # ships the model, warms the cache
        for r in range(args.rounds):
            for n in (1, 2):
                client = setups[n][1]
                cpu_before = sum(client.run(time.process_time).values())
                started = time.monotonic()
                with client.as_current():  # else .compute() uses the newest client
                    got = tmd.predict(model, data[n]).compute()
                seconds = time.monotonic() - started
                cpu = sum(client.run(time.process_time).values()) - cpu_before
                equal = np.array_equal(got.to_numpy(), local)
                rates[n].append(args.texts / seconds)
                print(f"round {r + 1}: {n} worker(s) x 1 thread: {args.texts / seconds:,.0f} texts/s "
                      f"({seconds:.2f} s; workers' CPU {cpu:.2f} s, {args.texts / cpu:,.0f} texts per CPU-second), "
                      f"equal to local: {equal}")
                assert equal
    finally:
        for c, client in setups.values():
            client.close()
            c.close()
    m1, m2 = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"median: 1 worker {m1:,.0f} texts/s, 2 workers {m2:,.0f} texts/s, ratio {m2 / m1:.2f}x")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def training(args, tweets):
    texts, labels = rows(tweets / "train.csv")
    test_texts, test_labels = rows(tweets / "test.csv")
    lstm = json.loads((ROOT / "examples" / "configs" / "lstm.json").read_text())
    lstm["model"]["hidden_dim"] = 64
    lstm["training"]["epochs"] = 3
    bag = json.loads((ROOT / "examples" / "configs" / "bag.json").read_text())
    frame = dd.from_pandas(pd.DataFrame({"text": texts, "label": labels}), npartitions=4, sort=False)
    c, client = cluster(2)
    try:
        for name, config in (("bag", bag), ("lstm", lstm)):
            config["training"]["threads"] = 1
            started = time.monotonic()
            one = TextClassifier(config).fit(texts, labels)
            seconds = time.monotonic() - started
            print(f"{name}: one process: accuracy {one.score(test_texts, test_labels):.4f}, {seconds:.1f} s")
            for combine in ("sum", "mean"):
                started = time.monotonic()
                dist = tmd.fit(config, frame, client=client, shards=2, combine=combine)
                seconds = time.monotonic() - started
                same = dist.vocab_size_ == one.vocab_size_ and list(dist.classes_) == list(one.classes_)
                print(f"{name}: 2 workers, combine {combine}: accuracy {dist.score(test_texts, test_labels):.4f}, "
                      f"{seconds:.1f} s, vocabulary and labels equal: {same}")
    finally:
        client.close()
        c.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="bag", choices=["bag", "cnn", "lstm", "transformer"],
                        help="the example config whose model labels the texts (inference)")
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--tweets", default=str(ROOT.parent / "shared" / "data" / "tweets"))
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-inference", action="store_true")
    args = parser.parse_args()
    tweets = pathlib.Path(args.tweets)
    if not args.skip_inference:
        inference(args, tweets)
    if not args.skip_training:
        training(args, tweets)


if __name__ == "__main__":
    main()
