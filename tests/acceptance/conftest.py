"""Run the acceptance tests against the in-tree Python package and library build, and
train each example config on the tweets once for all of them."""
import json
import os
import pathlib
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))

# The shared tweets corpus lives outside the repository: ../shared/data/tweets, the folder
# named by TWEETS_DIR, or /work/shared/data/tweets. Without it the tweets tests skip.
CANDIDATES = [ROOT.parent / "shared" / "data" / "tweets", pathlib.Path("/work/shared/data/tweets")]
TWEETS = pathlib.Path(os.environ.get("TWEETS_DIR") or next(
    (c for c in CANDIDATES if (c / "train.csv").exists()), CANDIDATES[0]))
needs_tweets = pytest.mark.skipif(not (TWEETS / "train.csv").exists(),
                                  reason=f"tweets corpus not found at {TWEETS}")


@pytest.fixture(scope="session")
def tweets_model():
    """tweets_model(name, epochs=None, **model_changes) -> (classifier, fit seconds):
    examples/configs/NAME.json as shipped (5 epochs unless `epochs`), with `model_changes`
    merged into its "model" section, fit on train.csv with valid.csv. Each is trained once
    per session: the accuracy runs and the explanation runs share it (training is most of
    their time)."""
    from textmodel import TextClassifier

    trained = {}

    def get(name, epochs=None, **model_changes):
        key = (name, epochs, tuple(sorted(model_changes.items())))
        if key not in trained:
            config = json.loads((ROOT / "examples" / "configs" / f"{name}.json").read_text())
            config["model"].update(model_changes)
            if epochs is not None:
                config["training"]["epochs"] = epochs
            model = TextClassifier(config)
            started = time.monotonic()
            model.fit_files(str(TWEETS / "train.csv"), str(TWEETS / "valid.csv"))
            trained[key] = (model, time.monotonic() - started)
        return trained[key]

    yield get
    for model, _ in trained.values():
        model.close()
