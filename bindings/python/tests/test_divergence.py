"""Training that diverges raises DivergedError (TM_ERR_DIVERGED) and leaves the model
as it was; the default regressor trains (the 0.3.0 default drove its weights to NaN
and reported success)."""

import random

import numpy as np
import pytest

from textmodel import (DivergedError, NotFittedError, TextClassifier, TextModelError,
                       TextRegressor)
from textmodel._lib import TM_ERR_DIVERGED


def word_weight_data(n, seed, lengths=(8, 12)):
    """The target is the sum of the text's word weights (200 made-up words, fixed
    random weights). The lengths vary little: a bag model averages its words."""
    weights = random.Random(99)
    weights = [weights.gauss(0, 1) for _ in range(200)]
    rng = random.Random(seed)
    texts, targets = [], []
    for _ in range(n):
        ids = [rng.randrange(200) for _ in range(rng.randint(*lengths))]
        texts.append(" ".join(f"w{i}" for i in ids))
        targets.append(sum(weights[i] for i in ids))
    return texts, targets


def test_the_default_regressor_learns_a_sum_of_word_weights():
    with TextRegressor() as reg:
        config = reg.resolved_config()
        assert config["model"]["type"] == "bag"
        assert config["training"]["learning_rate"] == 0.2
        reg.fit(*word_weight_data(2000, 1))
        texts, targets = word_weight_data(500, 2)
        metrics = reg.evaluate(texts, targets)
        predictions = reg.predict(texts)
    assert metrics["r2"] >= 0.9, metrics
    assert np.isfinite(predictions).all()


def test_divergence_is_an_error_naming_the_epoch_step_and_key():
    reg = TextRegressor({"training": {"learning_rate": 1.0}})  # 0.3.0's default
    with pytest.raises(DivergedError) as caught:
        reg.fit(*word_weight_data(2000, 1))
    e = caught.value
    assert isinstance(e, TextModelError) and isinstance(e, FloatingPointError)
    assert e.status == TM_ERR_DIVERGED and e.status_name == "TM_ERR_DIVERGED"
    for part in ("training diverged", "epoch 1", "step", "training.learning_rate"):
        assert part in e.message, e.message
    # Nothing NaN to predict or save: the model is still unfitted.
    assert not reg.is_fitted
    with pytest.raises(NotFittedError):
        reg.predict(["w1 w2"])
    reg.close()


def test_a_diverging_retraining_keeps_the_previous_weights(tmp_path):
    reg = TextRegressor({"training": {"learning_rate": 0.7, "threads": 1}})
    reg.fit(*word_weight_data(300, 1, lengths=(20, 40)))
    before = reg.predict(["w1 w2 w3", "w4"])
    with pytest.raises(DivergedError):
        reg.fit(*word_weight_data(3000, 2, lengths=(1, 1)))
    assert np.array_equal(reg.predict(["w1 w2 w3", "w4"]), before)
    reg.save(tmp_path / "kept.tmmodel")
    again = TextRegressor.load(tmp_path / "kept.tmmodel")
    assert np.array_equal(again.predict(["w1 w2 w3", "w4"]), before)


def test_a_diverging_classifier_is_an_error_too():
    # Softmax keeps NaN scores out of its probabilities, so only the weight check at
    # the epoch's end can see this one.
    clf = TextClassifier({"training": {"learning_rate": 100, "lr_schedule": "constant", "threads": 1}})
    texts = ["pizza pasta bread", "goal match team", "code server bug"] * 50
    labels = ["food", "sport", "tech"] * 50
    with pytest.raises(DivergedError, match="training.learning_rate"):
        clf.fit(texts, labels)
    assert not clf.is_fitted
