"""Tests of the textmodel Python bindings against the real libtextmodel.

The data is synthetic: each sentence mixes filler words with two keywords of its
class, so a tiny model learns the rule in a few epochs.
"""

import csv
import ctypes
import json
import math
import random
import re
import threading
import time

import numpy as np
import pytest

import textmodel
from textmodel import _lib
from textmodel import (ConfigError, DataError, FileError, InvalidArgumentError,
                       ModelFormatError, ResourceError, StateError, TextClassifier)

KEYWORDS = {
    "food": ["pizza", "pasta", "bread", "cheese", "soup", "salad", "apple", "rice"],
    "sports": ["football", "goal", "match", "team", "coach", "tennis", "race", "ball"],
    "tech": ["computer", "software", "laptop", "code", "robot", "internet", "phone", "chip"],
}
FILLER = ("the a today we talked about really very nice some with friends and then it "
          "was great my your this that good new old").split()
EPOCHS = 4
TINY = {
    "tokenizer": {"min_freq": 1},
    "model": {"type": "lstm", "embedding_dim": 16, "hidden_dim": 16},
    "training": {"epochs": EPOCHS, "batch_size": 16, "learning_rate": 0.02,
                 "threads": 1, "seed": 7, "progress_every": 5},
}


def make_data(n, seed):
    """n (texts, labels), classes in rotation, each text with two class keywords."""
    rng = random.Random(seed)
    classes = sorted(KEYWORDS)
    texts, labels = [], []
    for i in range(n):
        label = classes[i % len(classes)]
        words = rng.choices(FILLER, k=rng.randint(3, 8))
        for keyword in rng.sample(KEYWORDS[label], 2):
            words.insert(rng.randint(0, len(words)), keyword)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


TRAIN = make_data(360, seed=1)
VALID = make_data(60, seed=2)
TEST = make_data(120, seed=3)


def tiny(**training):
    """The tiny config with some "training" keys replaced."""
    config = json.loads(json.dumps(TINY))
    config["training"].update(training)
    return config


@pytest.fixture(scope="module")
def clf():
    """A model trained once on TRAIN (with validation) and shared by read-only tests."""
    model = TextClassifier(TINY).fit(*TRAIN, validation=VALID)
    yield model
    model.close()


# ---------------------------------------------------------------- basics


def test_versions():
    assert re.fullmatch(r"\d+\.\d+\.\d+", textmodel.__version__)   # test_version.py: the header's
    assert re.fullmatch(r"\d+\.\d+\.\d+", textmodel.library_version())


def test_fit_predict_shapes(clf):
    texts = TEST[0]
    assert list(clf.classes_) == ["food", "sports", "tech"]
    assert isinstance(clf.classes_, np.ndarray)
    assert clf.is_fitted
    assert clf.vocab_size_ > len(FILLER)
    predicted = clf.predict(texts)
    assert len(predicted) == len(texts) and set(predicted) <= set(clf.classes_)

    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert isinstance(predicted, np.ndarray) and predicted.dtype == clf.classes_.dtype
    assert list(clf.classes_[proba.argmax(axis=1)]) == list(predicted)

    indices, probs = clf.predict_top_k(texts, 2)
    assert indices.shape == probs.shape == (len(texts), 2)
    assert indices.dtype == np.int32 and probs.dtype == np.float32
    np.testing.assert_array_equal(indices[:, 0], proba.argmax(axis=1))
    np.testing.assert_allclose(probs, np.take_along_axis(proba, indices, 1), atol=1e-6)
    assert np.all(probs[:, 0] >= probs[:, 1])


def test_learns_the_rule(clf):
    predicted = clf.predict(TEST[0])
    accuracy = np.mean(np.array(predicted) == np.array(TEST[1]))
    assert accuracy >= 0.9
    assert clf.score(*TEST) == pytest.approx(accuracy)


def test_batch_does_not_change_predictions(clf):
    texts = TEST[0][:10]
    batch = clf.predict_proba(texts)
    alone = np.vstack([clf.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(batch, alone, atol=1e-6)


def test_threads_do_not_change_predictions(clf, tmp_path):
    # 6 copies of TEST in shifted orders: 720 texts, three inference groups of 256, so
    # 2 and 3 threads really split the work.
    texts = [t for shift in range(6) for t in TEST[0][shift:] + TEST[0][:shift]]
    labels = [l for shift in range(6) for l in TEST[1][shift:] + TEST[1][:shift]]
    assert clf.threads == 0, "the default is every core"
    clf.threads = 1
    try:
        reference = clf.predict_proba(texts)
        reference_metrics = clf.evaluate(texts, labels)
        for threads in (2, 3, 0):
            clf.threads = threads
            assert clf.threads == threads
            np.testing.assert_array_equal(clf.predict_proba(texts), reference)
            assert clf.evaluate(texts, labels) == reference_metrics
    finally:
        clf.threads = 0
    clf.save(tmp_path / "m.tmmodel")
    with TextClassifier.load(tmp_path / "m.tmmodel", threads=2) as loaded:
        assert loaded.threads == 2
        np.testing.assert_array_equal(loaded.predict_proba(texts), reference)


@pytest.mark.parametrize("threads,error", [(-1, InvalidArgumentError), (1025, InvalidArgumentError),
                                           (2**70, InvalidArgumentError), ("2", TypeError), (1.5, TypeError),
                                           (True, TypeError)])
def test_bad_thread_counts(clf, threads, error):
    # Stored as given (scikit-learn's rule for parameters), refused when used.
    model = TextClassifier(TINY, threads=threads)
    assert model.threads is threads
    with pytest.raises(error):
        model.fit(*TRAIN)
    assert not model.is_fitted
    clf.threads = threads
    try:
        with pytest.raises(error):
            clf.predict(["pizza"])
    finally:
        clf.threads = 0
    assert len(clf.predict(["pizza"])) == 1, "a refused setting leaves the model usable"


def test_history_and_report(clf):
    assert len(clf.history_) == EPOCHS
    for epoch in clf.history_:
        assert math.isfinite(epoch["train_loss"]) and epoch["train_loss"] > 0
    assert clf.history_[-1]["train_loss"] < clf.history_[0]["train_loss"]
    # Training accuracy per epoch, counted on the epoch's own forward passes.
    for epoch in clf.history_:
        assert 0 <= epoch["train_accuracy"] <= 1
    assert clf.history_[-1]["train_accuracy"] > clf.history_[0]["train_accuracy"]
    assert clf.report_["epochs"] == clf.history_
    assert clf.cancelled_ is False


def test_config_is_resolved(clf, tmp_path):
    config = clf.config_
    assert config["model"]["hidden_dim"] == 16
    assert config["training"]["epochs"] == EPOCHS
    assert config["tokenizer"]["max_length"] == 128  # a default
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model": {"hidden_dim": 8}}))
    with TextClassifier(path) as from_file, TextClassifier(str(path)) as from_str:
        assert from_file.resolved_config()["model"]["hidden_dim"] == 8
        assert from_str.resolved_config()["model"]["hidden_dim"] == 8
        assert not from_file.is_fitted
        with pytest.raises(textmodel.NotFittedError):
            from_file.classes_
        with pytest.raises(textmodel.NotFittedError):
            from_file.config_  # the fitted model's config; resolved_config() before fit
    assert TextClassifier().resolved_config()["model"]["hidden_dim"] == 128


def test_sparse_updates_train_a_different_model_that_learns():
    # training.sparse_updates: Adam moves only the embedding rows of each step's texts.
    with TextClassifier(tiny(sparse_updates=True)) as sparse, TextClassifier(TINY) as dense:
        sparse.fit(*TRAIN)
        dense.fit(*TRAIN)
        assert sparse.config_["training"]["sparse_updates"] is True
        assert "sparse_updates" not in dense.config_["training"]   # left out at its default
        assert sparse.score(*TEST) > 0.8
        assert not np.array_equal(sparse.predict_proba(TEST[0]), dense.predict_proba(TEST[0]))
    with pytest.raises(ConfigError, match="sparse_updates"):
        TextClassifier(tiny(sparse_updates=True, privacy={"max_grad_norm": 1, "noise_multiplier": 1})).fit(*TRAIN)


def test_same_seed_same_model(clf):
    again = TextClassifier(TINY).fit(*TRAIN, validation=VALID)
    np.testing.assert_array_equal(again.predict_proba(TEST[0]), clf.predict_proba(TEST[0]))


# ------------------------------------------------------------- evaluation


def test_evaluate_matches_predict(clf):
    texts, labels = TEST
    metrics = clf.evaluate(texts, labels)
    for key in ("examples", "accuracy", "loss", "macro_f1", "weighted_f1", "labels",
                "per_class", "confusion_matrix"):
        assert key in metrics
    predicted = clf.predict(texts)
    assert metrics["examples"] == len(texts)
    assert metrics["accuracy"] == pytest.approx(np.mean(np.array(predicted) == np.array(labels)))
    assert metrics["labels"] == list(clf.classes_)
    assert math.isfinite(metrics["loss"]) and metrics["loss"] > 0

    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == len(texts)
    expected = np.zeros((3, 3), dtype=int)
    index = {label: i for i, label in enumerate(clf.classes_)}
    for truth, guess in zip(labels, predicted):
        expected[index[truth], index[guess]] += 1
    np.testing.assert_array_equal(matrix, expected)
    for label, stats in metrics["per_class"].items():
        assert stats["support"] == labels.count(label) == matrix[index[label]].sum()


def make_confusing(n, seed):
    """Texts with keywords of two different classes, labelled with either: the model
    gets many of them wrong, so every cell of the metrics is exercised."""
    rng = random.Random(seed)
    classes = sorted(KEYWORDS)
    texts, labels = [], []
    for _ in range(n):
        a, b = rng.sample(classes, 2)
        words = rng.choices(FILLER, k=4) + [rng.choice(KEYWORDS[a]), rng.choice(KEYWORDS[b])]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(rng.choice([a, b]))
    return texts, labels


def test_metrics_by_hand(clf):
    texts, labels = make_confusing(150, seed=4)
    metrics = clf.evaluate(texts, labels)
    classes = clf.classes_
    index = {label: i for i, label in enumerate(classes)}
    proba = clf.predict_proba(texts).astype(np.float64)
    truth = np.array([index[y] for y in labels])
    guess = proba.argmax(axis=1)
    assert 0.2 < metrics["accuracy"] < 0.9  # a mix of right and wrong answers
    assert metrics["accuracy"] == pytest.approx(np.mean(truth == guess))
    loss = -np.mean(np.log(proba[np.arange(len(texts)), truth]))
    assert metrics["loss"] == pytest.approx(loss, rel=1e-3)

    matrix = np.zeros((3, 3), dtype=int)
    np.add.at(matrix, (truth, guess), 1)
    np.testing.assert_array_equal(np.array(metrics["confusion_matrix"]), matrix)
    f1s, supports = [], []
    for i, label in enumerate(classes):
        tp = matrix[i, i]
        precision = tp / matrix[:, i].sum() if matrix[:, i].sum() else 0.0
        recall = tp / matrix[i].sum()
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        stats = metrics["per_class"][label]
        assert stats["precision"] == pytest.approx(precision)
        assert stats["recall"] == pytest.approx(recall)
        assert stats["f1"] == pytest.approx(f1)
        assert stats["support"] == matrix[i].sum()
        f1s.append(f1)
        supports.append(matrix[i].sum())
    assert metrics["macro_f1"] == pytest.approx(np.mean(f1s))
    assert metrics["weighted_f1"] == pytest.approx(np.average(f1s, weights=supports))


def test_evaluate_skips_empty_rows(clf):
    metrics = clf.evaluate(["pizza and soup", "", "a goal"], ["food", "food", None])
    assert metrics["examples"] == 1 and metrics["skipped"] == 2


def test_evaluate_unseen_label_is_data_error(clf):
    with pytest.raises(DataError, match="weather"):
        clf.evaluate(["sunny day"], ["weather"])


# ---------------------------------------------------------------- files


def test_save_load_round_trip(clf, tmp_path):
    path = tmp_path / "model.tmmodel"
    clf.save(path)
    with TextClassifier.load(path) as loaded:
        np.testing.assert_array_equal(loaded.classes_, clf.classes_)
        assert loaded.config_ == clf.config_
        assert loaded.vocab_size_ == clf.vocab_size_
        np.testing.assert_array_equal(loaded.predict(TEST[0]), clf.predict(TEST[0]))
        np.testing.assert_array_equal(loaded.predict_proba(TEST[0]), clf.predict_proba(TEST[0]))


def test_load_errors(clf, tmp_path):
    with pytest.raises(FileError) as missing:
        TextClassifier.load(tmp_path / "missing.tmmodel")
    assert missing.value.status == 3 and isinstance(missing.value, OSError)
    with pytest.raises(FileError):
        TextClassifier.load(tmp_path)  # a directory

    garbage = tmp_path / "garbage.tmmodel"
    garbage.write_bytes(b"this is not a model file\n" * 100)
    with pytest.raises(ModelFormatError):
        TextClassifier.load(garbage)

    good = tmp_path / "good.tmmodel"
    clf.save(good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.tmmodel"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError):
        TextClassifier.load(truncated)

    corrupted = tmp_path / "corrupted.tmmodel"
    flipped = bytearray(data)
    flipped[-10] ^= 0xFF  # inside the weights: the checksum must catch it
    corrupted.write_bytes(bytes(flipped))
    with pytest.raises(ModelFormatError):
        TextClassifier.load(corrupted)


def test_load_newer_format_version(clf, tmp_path):
    """A file from a newer format version is refused (the file is safetensors:
    an 8-byte little-endian header length, then a JSON header)."""
    path = tmp_path / "model.tmmodel"
    clf.save(path)
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    header["__metadata__"]["format_version"] = "6"  # 2: mean-pooled CNN, 3 and 5: f16/int8, 4: PQ
    # Compact, in the same key order: the loader's magic is the header's first bytes.
    new_header = json.dumps(header, separators=(",", ":")).encode()
    new_header += b" " * (-len(new_header) % 8)
    path.write_bytes(len(new_header).to_bytes(8, "little") + new_header + data[8 + length:])
    with pytest.raises(ModelFormatError, match="version"):
        TextClassifier.load(path)


def test_save_errors(clf, tmp_path):
    with pytest.raises(FileError):
        clf.save(tmp_path / "no" / "such" / "dir" / "model.tmmodel")
    with pytest.raises(FileError):
        clf.save(tmp_path)


def write_csv(path, texts, labels, text_column="text", label_column="label"):
    """A CSV with the label column first; every 5th text needs RFC 4180 quoting."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[label_column, text_column])
        writer.writeheader()
        for i, (text, label) in enumerate(zip(texts, labels)):
            if i % 5 == 0:
                text = f'{text}, "quoted"'
            writer.writerow({text_column: text, label_column: label})


def write_fasttext(path, texts, labels):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in zip(texts, labels):
            f.write(f"__label__{label} {text}\n")


def test_fit_files_csv(tmp_path):
    write_csv(tmp_path / "train.csv", *TRAIN)
    write_csv(tmp_path / "valid.csv", *VALID)
    write_csv(tmp_path / "test.csv", *TEST)
    model = TextClassifier(TINY).fit_files(tmp_path / "train.csv", tmp_path / "valid.csv")
    assert list(model.classes_) == ["food", "sports", "tech"]
    assert len(model.history_) == EPOCHS
    assert math.isfinite(model.history_[-1]["valid_loss"])
    assert model.evaluate_file(tmp_path / "test.csv")["accuracy"] >= 0.9


def test_fit_files_csv_custom_columns(tmp_path):
    write_csv(tmp_path / "train.csv", *TRAIN, text_column="sentence", label_column="category")
    config = dict(TINY, data={"text_column": "sentence", "label_column": "category"})
    model = TextClassifier(config).fit_files(tmp_path / "train.csv")
    assert model.score(*TEST) >= 0.9
    with pytest.raises(DataError):
        TextClassifier(TINY).fit_files(tmp_path / "train.csv")  # no "text" column


def test_fit_files_fasttext(tmp_path):
    write_fasttext(tmp_path / "train.txt", *TRAIN)
    write_fasttext(tmp_path / "test.txt", *TEST)
    model = TextClassifier(TINY).fit_files(tmp_path / "train.txt")
    assert list(model.classes_) == ["food", "sports", "tech"]
    assert model.evaluate_file(tmp_path / "test.txt")["accuracy"] >= 0.9


def test_fit_files_missing(tmp_path):
    model = TextClassifier(TINY)
    with pytest.raises(FileError):
        model.fit_files(tmp_path / "missing.csv")
    with pytest.raises(FileError):
        model.fit_files(tmp_path)
    assert not model.is_fitted


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("config, key", [
    ({"training": {"learnin_rate": 0.1}}, "training.learnin_rate"),
    ({"model": {"hidden_dim": "16"}}, "model.hidden_dim"),
    ({"model": {"hidden_dim": -3}}, "model.hidden_dim"),
    ({"model": {"embedding_dim": 1.5}}, "model.embedding_dim"),
    ({"training": {"optimizer": "rmsprop"}}, "training.optimizer"),
    ({"modle": {}}, "modle"),
])
def test_config_errors_name_the_key(config, key):
    model = TextClassifier(config)  # stored as given: fit checks it
    with pytest.raises(ConfigError, match=re.escape(key)) as info:
        model.fit(*TRAIN)
    assert info.value.status == 2 and info.value.status_name == "TM_ERR_CONFIG"
    assert key in info.value.message and isinstance(info.value, ValueError)


def test_malformed_config_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"model": {"hidden_dim": 16,,}}')
    with pytest.raises(ConfigError):
        TextClassifier(path).fit(*TRAIN)
    with pytest.raises(ConfigError):
        TextClassifier(path).resolved_config()
    with pytest.raises(TypeError):
        TextClassifier(42).fit(*TRAIN)


def test_unfitted_model_raises_not_fitted_error(tmp_path):
    model = TextClassifier(TINY)
    for call in (lambda: model.predict(["hello"]), lambda: model.predict_proba(["hello"]),
                 lambda: model.evaluate(["hello"], ["food"]),
                 lambda: model.save(tmp_path / "never-written.tmmodel")):
        with pytest.raises(textmodel.NotFittedError, match="not fitted"):
            call()
    assert not (tmp_path / "never-written.tmmodel").exists()


def test_data_errors():
    with pytest.raises(DataError):
        TextClassifier(TINY).fit(["a b", "c d"], ["same", "same"])  # one class
    with pytest.raises(DataError):
        TextClassifier(TINY).fit(["", ""], ["x", "y"])  # no usable rows
    with pytest.raises(ValueError):
        TextClassifier(TINY).fit(["a", "b"], ["x"])
    with pytest.raises(TypeError):
        TextClassifier(TINY).fit("a single string", ["x"])


def test_resource_error_before_allocating():
    # The default bag: 200,000 buckets x 4096 dims, kept as given (fit_buckets would
    # size them to TRAIN's few n-grams and the model would fit).
    huge = {"model": {"embedding_dim": 4096, "hidden_dim": 4096, "layers": 16}, "tokenizer": {"fit_buckets": False}}
    with pytest.raises(ResourceError):
        TextClassifier(huge).fit(*TRAIN)


def test_invalid_arguments(clf):
    with pytest.raises(InvalidArgumentError):
        clf.predict_top_k(["pizza"], 4)  # more than the 3 classes
    with pytest.raises(InvalidArgumentError):
        clf.predict_top_k(["pizza"], 0)


def test_closed_model():
    model = TextClassifier(tiny(epochs=1)).fit(*TRAIN)
    model.close()
    model.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        model.predict(["x"])
    assert not model.is_fitted


def test_failed_training_keeps_model(clf, tmp_path):
    path = tmp_path / "model.tmmodel"
    clf.save(path)
    with TextClassifier.load(path) as model:
        before = model.predict_proba(TEST[0][:5])
        with pytest.raises(DataError):
            model.fit(["x y", "z w"], ["one", "one"])
        np.testing.assert_array_equal(model.predict_proba(TEST[0][:5]), before)


# -------------------------------------------------------------- progress


def test_progress_events():
    events = []
    model = TextClassifier(TINY).fit(*TRAIN, validation=VALID, progress=events.append)
    kinds = [e["kind"] for e in events]
    assert "step" in kinds
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1))
    for e in events:
        assert e["epochs"] == EPOCHS and 1 <= e["epoch"] <= EPOCHS
        assert 0 <= e["step"] <= e["total_steps"]
        assert e["elapsed_seconds"] >= 0
    for e in epochs:
        assert math.isfinite(e["train_loss"]) and math.isfinite(e["valid_loss"])
        assert 0 <= e["valid_accuracy"] <= 1
        assert 0 <= e["train_accuracy"] <= 1
    assert epochs[-1]["step"] == epochs[-1]["total_steps"]
    steps = [e for e in events if e["kind"] == "step"]
    assert all(math.isfinite(e["running_loss"]) for e in steps)
    assert all(math.isnan(e["valid_loss"]) for e in steps)
    assert all(math.isnan(e["train_accuracy"]) for e in steps)
    assert model.history_[-1]["train_loss"] == pytest.approx(epochs[-1]["train_loss"])
    assert [h["train_accuracy"] for h in model.history_] == [e["train_accuracy"] for e in epochs]

    no_valid = []
    TextClassifier(tiny(epochs=1)).fit(*TRAIN, progress=no_valid.append)
    assert math.isnan(no_valid[-1]["valid_loss"]) and math.isnan(no_valid[-1]["valid_accuracy"])


def test_progress_cancel():
    def stop_at_first_epoch(event):
        return event["kind"] == "epoch"

    model = TextClassifier(TINY).fit(*TRAIN, progress=stop_at_first_epoch)
    assert model.cancelled_ is True
    assert model.is_fitted
    assert isinstance(model.report_, dict)
    assert 1 <= len(model.history_) < EPOCHS
    assert len(model.predict(TEST[0])) == len(TEST[0])


def test_fit_files_reports_its_reading_and_a_cancel_there_keeps_the_previous_fit(tmp_path):
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerows(zip(TRAIN[1], TRAIN[0]))
    events = []
    model = TextClassifier(TINY).fit_files(str(path), progress=events.append)
    loading = [e for e in events if e["kind"] == "loading"]
    assert len(loading) == 2 and events[:2] == loading      # one chunk, two passes, first
    assert loading[-1]["bytes_read"] == loading[-1]["bytes_total"] == 2 * path.stat().st_size
    before = model.predict_proba(TEST[0])

    with pytest.raises(textmodel.CancelledError, match="while the training file was read"):
        model.fit_files(str(path), progress=lambda e: e["kind"] == "loading")
    assert model.is_fitted and not model.cancelled_
    np.testing.assert_array_equal(model.predict_proba(TEST[0]), before)
    fresh = TextClassifier(TINY)
    with pytest.raises(textmodel.CancelledError):
        fresh.fit_files(str(path), progress=lambda e: True)
    assert not fresh.is_fitted


def test_progress_exception_propagates():
    class Boom(Exception):
        pass

    calls = []

    def explode(event):
        calls.append(event)
        raise Boom("from the callback")

    model = TextClassifier(TINY)
    with pytest.raises(Boom, match="from the callback"):
        model.fit(*TRAIN, progress=explode)
    assert len(calls) == 1  # training stopped at once


def test_verbose_prints_progress(capsys):
    TextClassifier(tiny(epochs=2)).fit(*TRAIN, validation=VALID, verbose=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "valid_acc" in err and "ex/s" in err and "ETA" in err
    assert "train_acc" in err


def test_training_releases_the_gil():
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        # Long enough to measure (30 epochs of the tiny model took 0.05 s, at the bar).
        model = TextClassifier(tiny(epochs=200))
        start = time.monotonic()
        model.fit(*TRAIN)
        end = time.monotonic()
    finally:
        stop.set()
        thread.join()
    during = [t for t in ticks if start < t < end]
    # With the GIL held for the whole call the ticker could not run at all.
    assert end - start > 0.05, "training too fast to measure"
    assert len(during) >= max(5, 0.1 * (end - start) / 0.001)


# --------------------------------------------------------------- unicode


def test_unicode_and_bad_surrogates(clf):
    texts = ["héllo wörld pizza 😀🎉", "中文 文本 computer", "", "🏈⚽ goal",
             "lone \ud800 surrogate", "\udcff", "tab\tand\nnewline football"]
    predicted = clf.predict(texts)
    assert len(predicted) == len(texts)
    np.testing.assert_allclose(clf.predict_proba(texts).sum(axis=1), 1.0, atol=1e-5)
    # Emoji among in-distribution words (two class keywords, as in training).
    assert list(clf.predict(["we talked about pizza 🍕 and bread 😀"])) == ["food"]


def test_empty_batch_and_raw_bytes(clf):
    assert clf.predict([]).shape == (0,)
    assert clf.predict_proba([]).shape == (0, 3)
    assert clf.predict_top_k([], 2)[0].shape == (0, 2)
    assert len(clf.predict([b"invalid \xff\xfe utf-8 pizza", b"\xc3"])) == 2


def test_joined_marshalling_predicts_what_the_per_text_one_does(clf):
    # A list or tuple of str goes to the library as one UTF-8 buffer (_lib._joined_texts);
    # anything else text by text. Both give the same bytes, so the same probabilities.
    texts = ["héllo wörld pizza 😀🎉", "", "lone \ud800 surrogate", "\udcff", "tab\tand\nnewline football",
             "pizza " * 500, "a"]
    joined = _lib._joined_texts(texts)
    assert joined is not None
    assert [ctypes.string_at(int(p)) for p in joined._pointers] == [t.encode("utf-8", "replace") for t in texts]
    for other in ([None, "a"], [b"a", "b"], ["a\0b", "c"], iter(texts), []):
        assert _lib._joined_texts(other) is None
    per_text = clf.predict_proba([t.encode("utf-8", "replace") for t in texts])   # bytes: the per-text path
    assert np.array_equal(clf.predict_proba(texts), per_text)
    assert np.array_equal(clf.predict_proba(tuple(texts)), per_text)
    with pytest.raises(InvalidArgumentError, match=r"texts\[1\] holds a NUL"):
        clf.predict_proba(["ok", "a\0b"])


def test_unicode_labels_sorted_by_utf8_bytes():
    texts, labels = [], []
    for i, label in enumerate(["é", "z", "a", "😀"] * 30):
        texts.append(f"word{i % 4} 🎉 ünïcode")
        labels.append(label)
    labels[0] = None  # a missing label skips the row
    texts[1] = ""  # so does an empty text
    model = TextClassifier(tiny(epochs=1)).fit(texts, labels)
    assert list(model.classes_) == ["a", "z", "é", "😀"]
    assert set(model.predict(["word0", "\ud83d"])) <= set(model.classes_)
    skipped = sum(v for k, v in model.report_.items() if k.startswith("skipped"))
    assert skipped == 2  # the report counts the empty text and the missing label


def test_non_string_labels_keep_their_type():
    # 2 and 10: the library orders its label strings "10" < "2"; classes_ sorts the
    # values as numpy would, and every output follows classes_.
    texts, labels = TRAIN
    numeric = [(2, 10, 7)[sorted(KEYWORDS).index(y)] for y in labels]
    model = TextClassifier(tiny(epochs=2)).fit(texts, numeric)
    np.testing.assert_array_equal(model.classes_, np.array([2, 7, 10]))
    assert model.classes_.dtype.kind == "i"
    predicted = model.predict(TEST[0])
    assert predicted.dtype == model.classes_.dtype
    truth = [(2, 10, 7)[sorted(KEYWORDS).index(y)] for y in TEST[1]]
    assert np.mean(predicted == np.array(truth)) >= 0.9
    proba = model.predict_proba(TEST[0])
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], predicted)
    indices, _ = model.predict_top_k(TEST[0], 1)
    np.testing.assert_array_equal(model.classes_[indices[:, 0]], predicted)
    assert model.score(TEST[0], truth) == pytest.approx(np.mean(predicted == np.array(truth)))
    as_array = TextClassifier(tiny(epochs=1)).fit(texts, np.array(numeric, dtype=np.int32))
    assert as_array.classes_.dtype == np.int32


def test_progress_from_an_older_library_lacks_train_accuracy():
    # A 0.2.0 library fills tm_progress up to elapsed_seconds; struct_size says so and
    # the appended field reads as NaN instead of whatever memory follows.
    p = _lib.Progress()
    p.struct_size = _lib.Progress.train_accuracy.offset
    p.kind = _lib.TM_PROGRESS_EPOCH
    p.elapsed_seconds = 1.5
    p.train_accuracy = 0.75
    d = _lib.progress_dict(p)
    assert d["elapsed_seconds"] == 1.5 and math.isnan(d["train_accuracy"])
    p.struct_size = ctypes.sizeof(_lib.Progress)
    assert _lib.progress_dict(p)["train_accuracy"] == 0.75


def test_model_file_magic(tmp_path, clf):
    # Bytes 8.. of every model file are a fixed prefix; a file whose header says the
    # same thing in other bytes (here: Python's default JSON spacing) is refused by it.
    path = tmp_path / "m.tmmodel"
    clf.save(path)
    data = path.read_bytes()
    assert data[8:49] == b'{"__metadata__":{"format":"libtextmodel",'
    length = int.from_bytes(data[:8], "little")
    header = json.dumps(json.loads(data[8:8 + length])).encode()
    header += b" " * (-len(header) % 8)
    path.write_bytes(len(header).to_bytes(8, "little") + header + data[8 + length:])
    with pytest.raises(ModelFormatError, match="not a libtextmodel model file"):
        TextClassifier.load(path)
