"""textmodel.autotune: a small search on data/support returns a fitted estimator with its
trials; a seeded search repeats itself; the best config retrains to its score; a size
limit holds for the saved file; bad options are errors."""

import csv
import os

import pytest

import textmodel
from textmodel import ConfigError, ResourceError, TextClassifier, TextRegressor

from conftest import REPO_ROOT

SUPPORT = REPO_ROOT / "data" / "support"


def read(name):
    with open(SUPPORT / name, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


TRAIN, VALID, TEST = read("train.csv"), read("valid.csv"), read("test.csv")

#: A few fast trials: bag and CNN, 3 epochs each, one thread.
QUICK = dict(max_trials=3, time_budget=100000, threads=1, model_types=["bag", "cnn"],
             config={"training": {"epochs": 3}})


def without_seconds(trials):
    return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]


def test_returns_a_fitted_classifier_with_its_trials():
    rows = []
    best = textmodel.autotune(*TRAIN, validation=VALID, seed=3, progress=rows.append, **QUICK)
    assert isinstance(best, TextClassifier) and best.is_fitted
    assert len(best.trials_) == 3 and len(rows) == 3
    assert [r["trial"] for r in best.trials_] == [0, 1, 2]
    for trial in best.trials_:
        assert {"config", "metric", "seconds", "size", "status"} <= set(trial)
    table = best.autotune_
    winner = best.trials_[table["best_trial"]]
    assert winner["status"] == "ok"
    assert winner["metric"] == max(t["metric"] for t in best.trials_ if t["status"] == "ok")
    assert best.score(*VALID) == pytest.approx(winner["metric"], abs=1e-12)
    assert best.predict(["my parcel never came"])[0] in best.classes_


def test_a_seeded_search_repeats_itself():
    a = textmodel.autotune(*TRAIN, validation=VALID, seed=9, **QUICK)
    b = textmodel.autotune(*TRAIN, validation=VALID, seed=9, **QUICK)
    assert without_seconds(a.trials_) == without_seconds(b.trials_)
    c = textmodel.autotune(*TRAIN, validation=VALID, seed=10, **QUICK)
    assert [t["config"] for t in c.trials_[1:]] != [t["config"] for t in a.trials_[1:]]


def test_the_best_config_retrains_to_the_same_score():
    best = textmodel.autotune(*TRAIN, validation=VALID, seed=4, **QUICK)
    winner = best.trials_[best.autotune_["best_trial"]]
    again = TextClassifier(winner["config"]).fit(*TRAIN, validation=VALID)
    assert again.score(*VALID) == winner["metric"]
    assert (again.predict_proba(TEST[0]) == best.predict_proba(TEST[0])).all()


def test_a_size_limit_holds_for_the_saved_file(tmp_path):
    best = textmodel.autotune(*TRAIN, validation=VALID, max_model_mb=0.25, seed=5, **QUICK)
    path = tmp_path / "best.tmmodel"
    best.save(path)
    assert os.path.getsize(path) <= 250_000
    assert all(t["size"] <= 250_000 for t in best.trials_ if t["status"] == "ok")
    with pytest.raises(ResourceError, match="cannot be met"):
        textmodel.autotune(*TRAIN, validation=VALID, max_model_mb=0.001, **QUICK)


def test_macro_f1_and_one_labels_f1():
    best = textmodel.autotune(*TRAIN, validation=VALID, metric="f1:billing", **QUICK)
    winner = best.trials_[best.autotune_["best_trial"]]
    assert best.evaluate(*VALID)["per_class"]["billing"]["f1"] == pytest.approx(winner["metric"])
    best = textmodel.autotune(*TRAIN, validation=VALID, metric="macro_f1", max_trials=1,
                              time_budget=1000)
    assert best.autotune_["metric"] == "macro_f1"


def test_regression_returns_a_regressor():
    texts = TRAIN[0]
    values = [float(len(t.split())) for t in texts]
    valid_values = [float(len(t.split())) for t in VALID[0]]
    best = textmodel.autotune(texts, values, validation=(VALID[0], valid_values), metric="rmse",
                              **QUICK)
    assert isinstance(best, TextRegressor)
    ok = [t["metric"] for t in best.trials_ if t["status"] == "ok"]
    assert best.autotune_["best_metric"] == min(ok)


def test_bad_options_are_errors():
    with pytest.raises(ConfigError, match="metric"):
        textmodel.autotune(*TRAIN, validation=VALID, metric="auc", **QUICK)
    with pytest.raises(ConfigError, match="time_budget"):
        textmodel.autotune(*TRAIN, validation=VALID, time_budget=0)
    with pytest.raises(ConfigError, match="nosuch"):
        textmodel.autotune(*TRAIN, validation=VALID, metric="f1:nosuch", **QUICK)
    with pytest.raises(ValueError, match="validation"):
        textmodel.autotune(*TRAIN, validation=None)


def test_an_exception_in_progress_ends_the_search():
    def boom(row):
        raise KeyError("stop here")
    with pytest.raises(KeyError, match="stop here"):
        textmodel.autotune(*TRAIN, validation=VALID, progress=boom, **QUICK)


def test_int_labels_come_back_as_ints():
    import numpy as np
    names = sorted(set(TRAIN[1]))
    as_int = lambda ys: np.array([names.index(y) * 5 for y in ys])  # 0, 5, 10, ...
    best = textmodel.autotune(TRAIN[0], as_int(TRAIN[1]), validation=(VALID[0], as_int(VALID[1])),
                              max_trials=1, time_budget=100000, threads=1,
                              config={"training": {"epochs": 3}})
    assert best.classes_.dtype.kind == "i"
    assert list(best.classes_) == [i * 5 for i in range(len(names))]
    predicted = best.predict(TEST[0])
    assert predicted.dtype.kind == "i"
    assert best.score(TEST[0], as_int(TEST[1])) == pytest.approx(
        np.mean(predicted == as_int(TEST[1])))
