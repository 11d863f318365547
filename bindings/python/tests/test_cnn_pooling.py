"""model.pooling for a CNN through the bindings: "max" (Kim's max over time, the
classifiers' default) or "mean" (the regressor's default, docs/config.md "Defaults that
depend on the task"); "last" is a ConfigError; a mean-pooled model's file keeps it."""
import os

import numpy as np
import pytest

from textmodel import ConfigError, TextClassifier, TextRegressor
from test_divergence import word_weight_data

SMALL_CNN = {"type": "cnn", "embedding_dim": 16, "filters": 16, "kernel_sizes": [1, 2]}


def test_the_cnn_pooling_defaults_depend_on_the_task():
    assert TextClassifier({"model": {"type": "cnn"}}).resolved_config()["model"]["pooling"] == "max"
    assert TextRegressor({"model": {"type": "cnn"}}).resolved_config()["model"]["pooling"] == "mean"
    given = TextRegressor({"model": {"type": "cnn", "pooling": "max"}}).resolved_config()
    assert given["model"]["pooling"] == "max", "a given pooling beats the task default"


def test_last_pooling_is_refused_for_a_cnn():
    with pytest.raises(ConfigError, match='model.pooling "last".*cnn'):
        TextClassifier({"model": {"type": "cnn", "pooling": "last"}}).resolved_config()


def test_a_mean_pooled_cnn_regressor_learns_a_sum_and_its_file_keeps_the_pooling(tmp_path):
    config = {"tokenizer": {"min_freq": 1}, "model": SMALL_CNN,
              "training": {"learning_rate": 0.01, "batch_size": 16, "epochs": 8, "threads": 1}}
    texts, targets = word_weight_data(300, 2)
    with TextRegressor(config) as model:
        model.fit(*word_weight_data(1500, 1))
        assert model.evaluate(texts, targets)["r2"] >= 0.8
        predictions = model.predict(texts)
        path = os.path.join(tmp_path, "cnn-mean.tmmodel")
        model.save(path)
    with TextRegressor.load(path) as loaded:
        assert loaded.resolved_config()["model"]["pooling"] == "mean"
        np.testing.assert_array_equal(loaded.predict(texts), predictions)
