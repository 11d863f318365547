"""Acceptance run of issue 2: examples/configs/lstm.json on the shared tweets corpus.

Fits on train.csv with valid.csv, evaluates on test.csv and requires test accuracy of at
least 0.750. The corpus lives outside the repository (../shared/data/tweets, or the
folder named by TWEETS_DIR, or /work/shared/data/tweets); without it the test is skipped,
saying so.
"""
import os
import pathlib
import time

import pytest

from textmodel import TextClassifier

ROOT = pathlib.Path(__file__).resolve().parents[2]
CANDIDATES = [ROOT.parent / "shared" / "data" / "tweets", pathlib.Path("/work/shared/data/tweets")]
TWEETS = pathlib.Path(os.environ.get("TWEETS_DIR") or next(
    (c for c in CANDIDATES if (c / "train.csv").exists()), CANDIDATES[0]))


@pytest.mark.skipif(not (TWEETS / "train.csv").exists(), reason=f"tweets corpus not found at {TWEETS}")
def test_lstm_config_reaches_0_750_on_tweets():
    model = TextClassifier(str(ROOT / "examples" / "configs" / "lstm.json"))
    started = time.monotonic()
    model.fit_files(str(TWEETS / "train.csv"), str(TWEETS / "valid.csv"))
    seconds = time.monotonic() - started
    metrics = model.evaluate_file(str(TWEETS / "test.csv"))
    epochs = len(model.history_)
    print(f"\ntweets: test accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
          f"{seconds / epochs:.1f} s per epoch over {epochs} epochs")
    assert epochs == 5
    assert metrics["examples"] == 3725
    assert metrics["accuracy"] >= 0.750, metrics
