"""Acceptance runs of issues 2, 3 and 4: the single-label example configs on the shared
tweets corpus.

Each fits on train.csv with valid.csv, evaluates on test.csv and requires the test
accuracy the issues set: 0.750 for lstm.json, cnn.json, gru.json and bilstm.json; 0.745
for bag.json (within 0.5 points of fastText's 0.750 measured here; it trains with
Hogwild threads, so its accuracy varies a little from run to run: 0.7635-0.7656 seen);
0.740 for transformer.json (issue 10; its PyTorch twin, bench/run_torch_transformer.py,
measured 0.749 here with seed 1, and transformer.json 0.747 with seed 1, 0.755 and
0.744 with seeds 2 and 3).
The models are trained once (conftest.py's tweets_model) and explained again by
test_tweets_explain.py. Without the corpus (../shared/data/tweets, TWEETS_DIR or
/work/shared/data/tweets) the test is skipped, saying so.
"""
import pytest

from conftest import TWEETS, needs_tweets


BARS = {"lstm": 0.750, "bag": 0.745, "cnn": 0.750, "gru": 0.750, "bilstm": 0.750, "transformer": 0.740}


@needs_tweets
@pytest.mark.parametrize("name", list(BARS))
def test_example_config_reaches_its_bar_on_tweets(name, tweets_model):
    model, seconds = tweets_model(name)
    metrics = model.evaluate_file(str(TWEETS / "test.csv"))
    epochs = len(model.history_)
    print(f"\ntweets, {name}.json: test accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
          f"{seconds:.1f} s training ({seconds / epochs:.1f} s per epoch over {epochs} epochs, {model.report_['threads']} threads)")
    assert epochs == 5
    assert metrics["examples"] == 3725
    assert metrics["accuracy"] >= BARS[name], metrics
