"""textmodel.dask on a LocalCluster of 2 worker processes × 1 thread (one per module):
distributed predictions equal local ones bit for bit, also when a worker is killed
mid-inference; distributed training with one shard is the one-process model bit for
bit, with two shards the same model on every run (also when a worker dies in a round),
with the one-process vocabulary and labels; nothing hangs when no worker is left."""

import csv
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")  # scripts/install-deps.sh installs it
import dask.bag as db
import dask.dataframe as dd
import pandas as pd

import textmodel
import textmodel.dask as tmd
from textmodel import TextClassifier

ROOT = Path(__file__).resolve().parents[3]
SUPPORT = ROOT / "data" / "support"


def rows(name):
    with open(SUPPORT / name, newline="", encoding="utf-8") as f:
        r = list(csv.DictReader(f))
    return [x["text"] for x in r], [x["label"] for x in r]


# The file lists its labels in runs; dealt into partitions as they are, each shard would
# see a few labels only (local SGD wants every shard to look like the whole).
_order = np.random.default_rng(0).permutation(len(rows("train.csv")[0]))
TEXTS, LABELS = (list(np.array(c, dtype=object)[_order]) for c in rows("train.csv"))
TEST_TEXTS, TEST_LABELS = rows("test.csv")
# Small, fast configs: a bag with few buckets and a small LSTM.
BAG = {"model": {"type": "bag"}, "tokenizer": {"buckets": 20000}, "training": {"epochs": 8, "threads": 1, "seed": 3}}
LSTM = {"model": {"type": "lstm", "hidden_dim": 16, "embedding_dim": 16},
        "training": {"epochs": 2, "threads": 1, "seed": 3}}


@pytest.fixture(scope="module")
def client():
    # Worker processes import the same textmodel as this one (the source tree's, unless
    # the installed package is under test) and, through the environment, the same library.
    if os.environ.get("TEXTMODEL_TEST_INSTALLED") != "1":
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bindings" / "python"),
                                                    os.environ.get("PYTHONPATH", "")])
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def local():
    return TextClassifier(BAG).fit(TEXTS, LABELS)


def frame(texts, labels=None, partitions=4):
    data = {"text": texts} if labels is None else {"text": texts, "label": labels}
    return dd.from_pandas(pd.DataFrame(data), npartitions=partitions, sort=False)


def many_texts(n):
    base = TEST_TEXTS + TEXTS
    return [f"{base[i % len(base)]} {i % 97}" for i in range(n)]


def test_predictions_equal_local_bit_for_bit(client, local):
    texts = many_texts(6000)
    series = frame(texts, partitions=6)["text"]
    got = tmd.predict(local, series).compute()
    assert got.index.equals(series.compute().index)
    assert list(got) == list(local.predict(texts))
    probs = tmd.predict_proba(local, series).compute().to_numpy()
    assert probs.dtype == np.float32 and np.array_equal(probs, local.predict_proba(texts))
    vectors = tmd.transform(local, db.from_sequence(texts, npartitions=3)).compute()
    assert np.array_equal(np.array(vectors), local.transform(texts))


def test_files_are_read_by_workers(client, local, tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"part{i}.txt"
        p.write_text("\n".join(TEST_TEXTS[i::3]) + "\n", encoding="utf-8")
        paths.append(str(p))
    got = tmd.predict(local, paths).compute()
    expected = [y for i in range(3) for y in local.predict(TEST_TEXTS[i::3])]
    assert list(got) == expected


def test_model_is_loaded_once_per_worker(client, local):
    texts = many_texts(2000)
    tmd.predict(local, frame(texts, partitions=8)["text"]).compute()
    loaded = client.run(lambda: len(__import__("textmodel.dask").dask._LOADED))
    assert all(n >= 1 for n in loaded.values())
    digest, _ = tmd._shipped(local)
    assert all(client.run(lambda: digest in __import__("textmodel.dask").dask._LOADED).values())


def test_killed_worker_mid_inference_gives_the_complete_identical_result(client, local):
    texts = many_texts(20000)
    series = frame(texts, partitions=20)["text"]
    future = client.compute(tmd.predict_proba(local, series))
    time.sleep(0.3)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    os.kill(pids[victim], 9)  # the nanny starts a new worker; Dask recomputes what was lost
    got = future.result(timeout=120).to_numpy()
    assert np.array_equal(got, local.predict_proba(texts))
    client.wait_for_workers(2, timeout=60)


def test_one_shard_is_the_one_process_model_bit_for_bit(client):
    for config in (BAG, LSTM):
        one = TextClassifier(config).fit(TEXTS, LABELS)
        dist = tmd.fit(config, frame(TEXTS, LABELS, partitions=3), shards=1)
        assert dist._model.to_bytes() == one._model.to_bytes()


def test_two_shards_are_deterministic_with_the_one_process_vocabulary(client):
    one = TextClassifier(BAG).fit(TEXTS, LABELS)
    first = tmd.fit(BAG, frame(TEXTS, LABELS, partitions=4), shards=2)
    second = tmd.fit(BAG, frame(TEXTS, LABELS, partitions=4), shards=2)
    assert first._model.to_bytes() == second._model.to_bytes()
    assert first.vocab_size_ == one.vocab_size_ and list(first.classes_) == list(one.classes_)
    # Same vocabulary in the same order: every text encodes to the same ids, so the
    # tokens of the saved models' vocabularies agree (checked through the counts).
    assert first.report_["distributed"]["shards"] == 2
    assert abs(first.score(TEST_TEXTS, TEST_LABELS) - one.score(TEST_TEXTS, TEST_LABELS)) < 0.1
    assert not np.array_equal(first._model.get_parameters(), one._model.get_parameters())


def test_merged_counts_are_the_one_process_vocabulary():
    import json
    from textmodel import _lib
    config = json.dumps(BAG)
    parts = [_lib.corpus_counts(config, TEXTS[i::3], LABELS[i::3]) for i in range(3)]
    merged = json.loads(_lib.merge_corpus_counts(parts))
    whole = json.loads(_lib.corpus_counts(config, TEXTS, LABELS))
    assert dict(map(tuple, merged["tokens"])) == dict(map(tuple, whole["tokens"]))
    assert merged["labels"] == whole["labels"] == sorted(set(LABELS))
    assert merged["rows"] == len(TEXTS)
    with pytest.raises(textmodel.InvalidArgumentError, match=r"counts_json\[1\]"):
        _lib.merge_corpus_counts([parts[0], "{}"])


def test_dask_collections_dispatch_from_textclassifier_fit(client):
    ddf = frame(TEXTS, LABELS, partitions=2)
    clf = TextClassifier(BAG).fit(ddf["text"], ddf["label"])
    one = TextClassifier(BAG).fit(TEXTS, LABELS)
    assert clf.report_["distributed"]["shards"] == 2
    assert list(clf.classes_) == list(one.classes_)


def test_killed_worker_mid_training_resumes_to_the_same_model(client):
    data = frame(TEXTS, LABELS, partitions=4)
    undisturbed = tmd.fit(BAG, data, shards=2)
    killed = []

    def kill_one(round_, epochs_done, reports):
        if round_ == 1:
            pids = client.run(os.getpid)
            os.kill(pids[sorted(pids)[1]], 9)
            killed.append(round_)

    resumed = tmd.fit(BAG, data, shards=2, on_round=kill_one, round_timeout=120)
    assert killed == [1]
    assert resumed._model.to_bytes() == undisturbed._model.to_bytes()
    client.wait_for_workers(2, timeout=60)


def test_no_hang_without_workers_or_with_a_taken_port(local):
    # Nothing of ours listens on a port: a port an allreduce would use being taken
    # changes nothing. With no worker at all, fit fails within round_timeout.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    cluster = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0", silence_logs=40)
    try:
        with distributed.Client(cluster) as c:
            started = time.monotonic()
            with pytest.raises(TimeoutError, match="round_timeout"):
                tmd.fit(BAG, frame(TEXTS, LABELS, partitions=2), client=c, shards=1, round_timeout=3)
            assert time.monotonic() - started < 30
    finally:
        cluster.close()
        taken.close()


def test_bad_inputs(client, local):
    with pytest.raises(TypeError, match="dask Series"):
        tmd.predict(local, "not a collection")
    with pytest.raises(ValueError, match="early_stopping"):
        tmd.fit({"training": {"early_stopping": "valid_loss"}}, frame(TEXTS, LABELS))
    with pytest.raises(ValueError, match="shards"):
        tmd.fit(BAG, frame(TEXTS, LABELS, partitions=2), shards=3)
