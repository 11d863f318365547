"""Every config in examples/configs, as shipped, trains and learns: the single-label ones
on the bundled data/support set (30 epochs instead of the configs' 5, sized for corpora
of tens of thousands of texts), multilabel.json and regression.json on data generated
here with a known rule. A config file without a case here fails the suite."""
import json
import pathlib
import sys

import pytest

from textmodel import TextClassifier, TextRegressor

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "examples" / "configs"
SUPPORT = ROOT / "data" / "support"
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))
from test_tasks import count_data, topic_data  # noqa: E402  (generated-rule data)
from test_divergence import word_weight_data  # noqa: E402

SINGLE_LABEL = ["lstm", "bag", "cnn", "gru", "bilstm", "transformer"]
# 4 classes: chance is 0.25. The transformer, 2 M weights for 400 texts, learns less of
# this small set than the others (0.66 measured; they reach 0.77-0.82): its bar on the
# tweets corpus (tests/acceptance/test_tweets.py) is the one that measures it.
SUPPORT_BARS = {"transformer": 0.60}
GENERATED = ["multilabel", "regression"]


def load(name):
    return json.loads((CONFIGS / f"{name}.json").read_text())


def test_every_example_config_has_a_case():
    shipped = sorted(p.stem for p in CONFIGS.glob("*.json"))
    assert shipped == sorted(SINGLE_LABEL + GENERATED)


@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_single_label_config_learns_the_bundled_data(name):
    config = load(name)
    assert config["model"].get("task", "single_label") == "single_label"
    config["training"]["epochs"] = 30
    with TextClassifier(config) as model:
        model.fit_files(str(SUPPORT / "train.csv"), str(SUPPORT / "valid.csv"))
        metrics = model.evaluate_file(str(SUPPORT / "test.csv"))
    print(f"\n{name}.json on data/support: test accuracy {metrics['accuracy']:.2f}")
    assert metrics["accuracy"] >= SUPPORT_BARS.get(name, 0.70), metrics


def test_multilabel_config_learns_topic_sets():
    with TextClassifier(str(CONFIGS / "multilabel.json")) as model:
        model.fit(*topic_data(600, 1), validation=topic_data(100, 2))
        assert model.task_ == "multi_label"
        metrics = model.evaluate(*topic_data(300, 3))
    assert metrics["micro_f1"] >= 0.9, metrics
    assert metrics["subset_accuracy"] >= 0.8, metrics


def test_regression_config_learns_a_counting_rule():
    with TextRegressor(str(CONFIGS / "regression.json")) as model:
        model.fit(*count_data(800, 1), validation=count_data(100, 2))
        metrics = model.evaluate(*count_data(300, 3))
    assert metrics["r2"] >= 0.9, metrics


def test_the_default_model_needs_no_config():
    """TextClassifier() trains the library's default model (the bag of words, bigrams
    and subwords; docs/config.md) and learns the small bundled set as it ships: 5
    epochs, no tuning (measured 0.89; the LSTM recipe reaches 0.57 in 5 epochs)."""
    with TextClassifier() as model:
        assert model.resolved_config()["model"]["type"] == "bag"
        assert model.resolved_config()["tokenizer"]["char_ngrams_max"] == 5
        model.fit_files(str(SUPPORT / "train.csv"), str(SUPPORT / "valid.csv"))
        metrics = model.evaluate_file(str(SUPPORT / "test.csv"))
    assert metrics["accuracy"] >= 0.80, metrics


# ------------------------------------------------ regression, as users meet it

def test_regression_config_learns_a_sum_of_word_weights_without_validation_data():
    """regression.json as shipped, fit without validation data (as the README's quick
    start does): its early stopping holds out training.validation_fraction itself
    (0.3.0's raised DataError), and it learns a sum of per-word weights."""
    with TextRegressor(str(CONFIGS / "regression.json")) as model:
        model.fit(*word_weight_data(2000, 1))
        assert model.report_["valid_examples"] == 200
        metrics = model.evaluate(*word_weight_data(500, 2))
    assert metrics["r2"] >= 0.9, metrics


def test_the_default_regressor_needs_no_config():
    """TextRegressor() trains the default bag model with the task's own defaults
    (docs/config.md, "Defaults that depend on the task"); 0.3.0's drove it to NaN."""
    with TextRegressor() as model:
        model.fit(*word_weight_data(2000, 1))
        metrics = model.evaluate(*word_weight_data(500, 2))
    assert metrics["r2"] >= 0.9, metrics


# Every example config, retasked to regression (model.task "regression", Hogwild off:
# it is single-label only), learns the sum of per-word weights to R^2 >= 0.9. The
# configs' training (5 epochs, batches of 64, Adam at 1e-3 or 5e-4) is sized for corpora
# of tens of thousands of texts, so they train on 10 000 here (785 steps). On 2000 texts
# (160 steps) cnn, gru and transformer reached only about 0.9 or less, still learning
# (measured 2026-12-02: test R^2 0.83, 0.90, 0.90 with train R^2 0.87, 0.97, 0.96;
# more epochs, 15 for cnn and 10 for the others, gave 0.92, 0.92, 0.94): too few
# steps, not a ceiling. A CNN regressor pools by
# mean (docs/config.md, "Defaults that depend on the task"): max pooling sees which
# words a text holds, not how many (on 10 000 texts 0.90 max-pooled, 0.94 mean-pooled).
RETASKED_TRAINING_TEXTS = 10_000


@pytest.mark.parametrize("name", SINGLE_LABEL + ["multilabel"])
def test_every_example_config_trains_as_a_regressor(name):
    config = load(name)
    config["model"]["task"] = "regression"
    config["training"].pop("hogwild", None)
    with TextRegressor(config) as model:
        if name == "cnn":
            assert model.resolved_config()["model"]["pooling"] == "mean"
        model.fit(*word_weight_data(RETASKED_TRAINING_TEXTS, 1))
        metrics = model.evaluate(*word_weight_data(500, 2))
    print(f"\n{name}.json as a regressor: R2 {metrics['r2']:.3f}")
    assert metrics["r2"] >= 0.9, metrics


def test_cnn_json_still_max_pools_as_a_classifier():
    """The CNN's mean pooling is the regressor's default only: cnn.json as shipped (a
    classifier) keeps Kim's max over time."""
    with TextClassifier(str(CONFIGS / "cnn.json")) as model:
        assert model.resolved_config()["model"]["pooling"] == "max"
