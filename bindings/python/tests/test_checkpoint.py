"""Checkpoint and resume through the Python package: a fit stopped after an epoch and
resumed from its checkpoint ends with exactly the uninterrupted fit's weights."""

import numpy as np
import pytest

from textmodel import ConfigError, TextClassifier

from test_classifier import TEST, TINY, TRAIN, VALID


def config(path, **training):
    c = {**TINY, "training": {**TINY["training"], "epochs": 3, "checkpoint_path": str(path), **training}}
    return c


def test_resume_continues_exactly(tmp_path):
    path = tmp_path / "run.ckpt"
    whole = TextClassifier(config(path)).fit(*TRAIN, validation=VALID)
    path.unlink()

    stopped = TextClassifier(config(path)).fit(
        *TRAIN, validation=VALID, progress=lambda p: p["kind"] == "epoch" and p["epoch"] == 1)
    assert stopped.cancelled_ and len(stopped.history_) == 1
    assert path.exists()

    resumed = TextClassifier(config(path, resume=True)).fit(*TRAIN, validation=VALID)
    assert resumed.report_["resumed_from_epoch"] == 1
    assert [e["train_loss"] for e in resumed.history_] == [e["train_loss"] for e in whole.history_]
    np.testing.assert_array_equal(resumed.predict_proba(TEST[0]), whole.predict_proba(TEST[0]))


def test_resume_needs_a_checkpoint_path():
    with pytest.raises(ConfigError, match="checkpoint_path"):
        TextClassifier({"training": {"resume": True}}).fit(*TRAIN)


def test_resume_refuses_another_config(tmp_path):
    path = tmp_path / "run.ckpt"
    TextClassifier(config(path, epochs=1)).fit(*TRAIN)
    with pytest.raises(ConfigError, match="learning_rate"):
        TextClassifier(config(path, resume=True, learning_rate=0.5)).fit(*TRAIN)
