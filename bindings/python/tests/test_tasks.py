"""Multi-label classification and regression through the Python package: data whose
rule the tests generate, metrics checked against values computed here by hand, and
the errors of mixing the two up."""

import math
import random

import numpy as np
import pytest

from textmodel import (ConfigError, DataError, InvalidArgumentError, TextClassifier,
                       TextRegressor)

TOPICS = {"music": ["guitar", "song", "concert"], "travel": ["flight", "hotel", "beach"],
          "money": ["bank", "price", "salary"], "health": ["doctor", "sleep", "vitamin"]}
FILLER = ["the", "a", "very", "today", "we", "saw", "nice", "big", "and", "it", "was"]
TINY = {"tokenizer": {"min_freq": 1},
        "model": {"type": "bag", "embedding_dim": 16},
        "training": {"optimizer": "adam", "epochs": 15, "batch_size": 16, "learning_rate": 0.02, "threads": 1}}


def topic_data(n, seed):
    """Each text names one to three topics by one of their words; its labels are
    exactly those topics."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        chosen = [t for t in sorted(TOPICS) if rng.random() < 0.35] or [rng.choice(sorted(TOPICS))]
        words = rng.choices(FILLER, k=rng.randint(2, 6))
        for t in chosen:
            words.insert(rng.randint(0, len(words)), rng.choice(TOPICS[t]))
        texts.append(" ".join(words))
        labels.append(chosen)
    return texts, labels


def count_data(n, seed):
    """target = 3·(count of "up") − 2·(count of "down") + 100."""
    rng = random.Random(seed)
    texts, targets = [], []
    for _ in range(n):
        up, down = rng.randint(0, 3), rng.randint(0, 3)
        words = rng.choices(FILLER, k=rng.randint(1, 3)) + ["up"] * up + ["down"] * down
        rng.shuffle(words)
        texts.append(" ".join(words))
        targets.append(3 * up - 2 * down + 100)
    return texts, targets


@pytest.fixture(scope="module")
def tagger():
    model = TextClassifier(TINY).fit(*topic_data(600, 1), validation=topic_data(100, 2))
    yield model
    model.close()


@pytest.fixture(scope="module")
def regressor():
    config = {"model": {"type": "lstm", "embedding_dim": 16, "hidden_dim": 16, "pooling": "mean"},
              "tokenizer": {"min_freq": 1},
              "training": {"epochs": 15, "batch_size": 16, "learning_rate": 0.01, "threads": 1}}
    model = TextRegressor(config).fit(*count_data(800, 1), validation=count_data(100, 2))
    yield model
    model.close()


# ------------------------------------------------------------- multi-label

def test_lists_of_labels_make_a_multi_label_model(tagger):
    assert tagger.task_ == "multi_label"
    assert list(tagger.classes_) == ["health", "money", "music", "travel"]
    assert tagger.history_[-1]["valid_accuracy"] > 0.8
    # Subset accuracy on the training passes.
    assert 0.5 < tagger.history_[-1]["train_accuracy"] <= 1


def test_multi_label_learns_the_rule(tagger):
    texts, labels = topic_data(300, 3)
    metrics = tagger.evaluate(texts, labels)
    assert metrics["task"] == "multi_label"
    assert metrics["micro_f1"] > 0.95
    assert metrics["subset_accuracy"] > 0.85          # chance is about 0.1
    predicted = tagger.predict(texts)
    exact = sum(set(p) == set(t) for p, t in zip(predicted, labels)) / len(labels)
    assert metrics["subset_accuracy"] == pytest.approx(exact)
    assert tagger.score(texts, labels) == pytest.approx(exact)


def test_multi_label_predict_and_proba_agree(tagger):
    texts = ["the doctor booked a hotel", "a song", "nothing here"]
    probs = tagger.predict_proba(texts)
    assert probs.shape == (3, 4) and probs.dtype == np.float32
    assert ((probs >= 0) & (probs <= 1)).all()
    predicted = tagger.predict(texts)
    for row, labels in zip(probs, predicted):
        assert labels == [c for c, p in zip(tagger.classes_, row) if p >= tagger.threshold_]
    assert predicted[0] == ["health", "travel"]
    assert predicted[1] == ["music"]


def test_multi_label_metrics_by_hand(tagger):
    texts, labels = topic_data(80, 4)
    metrics = tagger.evaluate(texts, labels)
    probs = tagger.predict_proba(texts)
    classes = tagger.classes_
    truth = np.array([[c in y for c in classes] for y in labels])
    pred = probs >= 0.5
    tp = (truth & pred).sum(0)
    fp = (~truth & pred).sum(0)
    fn = (truth & ~pred).sum(0)
    micro_p = tp.sum() / max(tp.sum() + fp.sum(), 1)
    micro_r = tp.sum() / max(tp.sum() + fn.sum(), 1)
    assert metrics["micro_precision"] == pytest.approx(micro_p)
    assert metrics["micro_recall"] == pytest.approx(micro_r)
    assert metrics["hamming_loss"] == pytest.approx((truth != pred).mean())
    for j, c in enumerate(classes):
        assert metrics["per_class"][c]["support"] == int(truth[:, j].sum())
    top1 = probs.argmax(1)
    assert metrics["precision_at_k"]["1"] == pytest.approx(truth[np.arange(len(texts)), top1].mean())
    loss = -(truth * np.log(np.maximum(probs, 1e-30))
             + (~truth) * np.log(np.maximum(1 - probs, 1e-30))).sum(1).mean()
    assert metrics["loss"] == pytest.approx(loss, rel=1e-4)


def test_multi_label_labels_may_be_joined_strings(tagger):
    texts, labels = topic_data(50, 5)
    as_lists = tagger.evaluate(texts, labels)
    as_strings = tagger.evaluate(texts, ["|".join(y) for y in labels])
    assert as_lists == as_strings


def test_multi_label_save_load(tagger, tmp_path):
    path = tmp_path / "tagger.tm"
    tagger.save(path)
    with TextClassifier.load(path) as loaded:
        assert loaded.task_ == "multi_label"
        texts = ["a guitar in the bank", "sleep"]
        np.testing.assert_array_equal(loaded.predict_proba(texts), tagger.predict_proba(texts))
    with pytest.raises(TypeError, match="TextClassifier"):
        TextRegressor.load(path)


def test_multi_label_files(tmp_path):
    texts, labels = topic_data(300, 6)
    csv = tmp_path / "train.csv"
    csv.write_text("label,text\n" + "".join(f'"{"|".join(y)}",{t}\n' for t, y in zip(texts, labels)))
    ft = tmp_path / "train.txt"
    ft.write_text("".join(" ".join(f"__label__{l}" for l in y) + f" {t}\n" for t, y in zip(texts, labels)))
    config = {**TINY, "model": {**TINY["model"], "task": "multi_label"}}
    from_csv = TextClassifier(config).fit_files(csv)
    from_ft = TextClassifier(config).fit_files(ft)
    probe = ["a song at the beach"]
    np.testing.assert_allclose(from_csv.predict_proba(probe), from_ft.predict_proba(probe), atol=1e-6)
    assert from_csv.predict(probe) == [["music", "travel"]]


def test_multi_label_input_errors():
    texts, labels = topic_data(40, 7)
    with pytest.raises(ValueError, match="multi_label"):
        TextClassifier({"model": {"task": "single_label"}}).fit(texts, labels)
    with pytest.raises(ValueError, match="label_separator"):
        TextClassifier(TINY).fit(["a", "b"], [["x|y"], ["z"]])
    with pytest.raises(ConfigError, match="label_smoothing"):
        TextClassifier({"model": {"task": "multi_label"},
                        "training": {"label_smoothing": 0.1}}).fit(texts, labels)
    with pytest.raises(ValueError, match="TextRegressor"):
        TextClassifier({"model": {"task": "regression"}}).fit(texts, labels)


def test_multi_label_unknown_label_is_data_error(tagger):
    with pytest.raises(DataError, match="cooking"):
        tagger.evaluate(["a song"], [["music", "cooking"]])


# -------------------------------------------------------------- regression

def test_regressor_learns_the_rule(regressor):
    assert regressor.task_ == "regression"
    texts, targets = count_data(300, 3)
    metrics = regressor.evaluate(texts, targets)
    assert metrics["task"] == "regression"
    assert metrics["r2"] > 0.9                      # predicting the mean gives 0
    predicted = regressor.predict(["up up up", "down down down", "the"])
    assert predicted.dtype == np.float32 and predicted.shape == (3,)
    np.testing.assert_allclose(predicted, [109, 94, 100], atol=2.0)


def test_regression_metrics_by_hand(regressor):
    texts, targets = count_data(60, 4)
    metrics = regressor.evaluate(texts, targets)
    y = np.array(targets, dtype=np.float64)
    p = regressor.predict(texts).astype(np.float64)
    mse = ((p - y) ** 2).mean()
    assert metrics["mse"] == pytest.approx(mse, rel=1e-5)
    assert metrics["loss"] == pytest.approx(mse, rel=1e-5)
    assert metrics["rmse"] == pytest.approx(math.sqrt(mse), rel=1e-5)
    assert metrics["mae"] == pytest.approx(np.abs(p - y).mean(), rel=1e-5)
    assert metrics["r2"] == pytest.approx(1 - ((p - y) ** 2).sum() / ((y - y.mean()) ** 2).sum(), rel=1e-5)
    assert regressor.score(texts, targets) == pytest.approx(metrics["r2"])


def test_regression_history_is_in_target_units(regressor):
    # Targets near 100 with spread ~3: a loss in standardised units would be ~1 at
    # the start; in the targets' units the first epoch's loss is the spread squared.
    assert regressor.history_[0]["train_loss"] > 1.0
    assert regressor.history_[-1]["valid_loss"] < regressor.history_[0]["valid_loss"]
    assert regressor.history_[-1]["valid_accuracy"] is None
    assert all(e["train_accuracy"] is None for e in regressor.history_)


def test_regressor_save_load(regressor, tmp_path):
    path = tmp_path / "reg.tm"
    regressor.save(path)
    with TextRegressor.load(path) as loaded:
        np.testing.assert_array_equal(loaded.predict(["up", "down up"]), regressor.predict(["up", "down up"]))
    with pytest.raises(TypeError, match="TextRegressor"):
        TextClassifier.load(path)


def test_regressor_input_errors(regressor):
    with pytest.raises(DataError, match="not a finite number"):
        TextRegressor(TINY).fit(["a", "b"], [1.0, float("nan")])
    with pytest.raises(DataError, match="not a finite number"):
        TextRegressor(TINY).fit(["a", "b"], ["1", "lots"])
    with pytest.raises(DataError, match="vary"):
        TextRegressor(TINY).fit(["a", "b", "c"], [2, 2, 2])
    with pytest.raises(ValueError, match="regression"):
        TextRegressor({"model": {"task": "multi_label"}}).fit(["a", "b"], [1, 2])
    with pytest.raises(ConfigError, match="early_stopping"):
        TextRegressor({"training": {"early_stopping": "valid_accuracy"}}).fit(["a", "b"], [1, 2])
    with pytest.raises(InvalidArgumentError, match="regression"):
        regressor._model.predict_proba(["x"])
    with pytest.raises(InvalidArgumentError, match="tm_model_predict_values"):
        regressor._model.predict(["x"], 1)


def test_classifier_cannot_predict_values(tagger):
    with pytest.raises(InvalidArgumentError, match="regression model"):
        tagger._model.predict_values(["x"])
