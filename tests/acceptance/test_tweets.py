"""Acceptance runs on the shared tweets corpus.

Issue 2: examples/configs/lstm.json fits on train.csv with valid.csv and must reach a
test accuracy of at least 0.750. Issue 4: examples/configs/bag.json (Hogwild threads)
fits on train.csv and must reach at least 0.745. The corpus lives outside the repository
(../shared/data/tweets, or the folder named by TWEETS_DIR, or /work/shared/data/tweets);
without it the tests are skipped, saying so.
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


@pytest.mark.skipif(not (TWEETS / "train.csv").exists(), reason=f"tweets corpus not found at {TWEETS}")
def test_bag_config_reaches_0_745_on_tweets():
    # bag.json trains with Hogwild threads on every core: the accuracy varies a little
    # from run to run (0.7635-0.7656 seen), so the bar has room below it.
    model = TextClassifier(str(ROOT / "examples" / "configs" / "bag.json"))
    started = time.monotonic()
    model.fit_files(str(TWEETS / "train.csv"))
    seconds = time.monotonic() - started
    metrics = model.evaluate_file(str(TWEETS / "test.csv"))
    print(f"\ntweets, bag.json: test accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
          f"{seconds:.1f} s for {len(model.history_)} epochs on {model.report_['threads']} threads")
    assert metrics["examples"] == 3725
    assert metrics["accuracy"] >= 0.745, metrics
