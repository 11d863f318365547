"""TextClassifier and TextRegressor as scikit-learn estimators: parameters (every
config key as section__key), clone, GridSearchCV, cross_val_score, Pipeline, tags,
NotFittedError, label types, and the parts of sklearn.utils.estimator_checks that
apply to an estimator whose input is text.

scikit-learn is installed by scripts/install-deps.sh; the textmodel core does not
need it (test_core_imports_without_sklearn)."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks, get_tags
from sklearn.utils.validation import check_is_fitted

import textmodel
from textmodel import ConfigError, TextClassifier, TextRegressor, _lib

from test_classifier import TEST, TRAIN, make_confusing, tiny
from test_tasks import count_data

FAST = {"training__threads": 1, "training__epochs": 2}
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def library_keys():
    """Every config key of the library's resolved default config, as section__key, and
    the keys it leaves out at their defaults (tokenizer.vocabulary, model.labels,
    training.privacy)."""
    config = json.loads(_lib.Model.new(None).config_json())
    keys = {f"{section}__{key}" for section, keys in config.items() for key in keys}
    return keys | {"tokenizer__vocabulary", "model__labels", "training__privacy"}


# -------------------------------------------------------------- parameters


def test_constructor_stores_parameters_as_given():
    config = {"model": {"type": "lstm"}}
    clf = TextClassifier(config, threads=2, training__epochs=3)
    assert clf.config is config and clf.threads == 2
    assert clf.get_params(deep=False) == {"config": config, "threads": 2, "training__epochs": 3}
    assert clf._model is None  # no native model before fit
    # Nothing is checked before fit: not the config, not the threads, not the names.
    odd = TextClassifier({"model": {"hidden_dim": -1}}, threads=-5, training__epochs="x",
                         bogus=1)
    assert odd.get_params(deep=False)["bogus"] == 1
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        odd.fit(*TRAIN)
    odd = TextClassifier({"model": {"hidden_dim": -1}}, training__epochs="x")
    with pytest.raises(ConfigError, match="model.hidden_dim|training.epochs"):
        odd.fit(*TRAIN)


def test_get_params_lists_every_config_key():
    params = TextClassifier().get_params()
    nested = {name for name in params if "__" in name}
    assert nested == library_keys()
    assert {"model__type", "training__epochs", "tokenizer__min_freq", "data__label_separator",
            "model__heads"} <= nested
    assert all(params[name] is None for name in nested)  # None: the library's default
    assert params["config"] is None and params["threads"] == 0
    assert TextRegressor(model__type="cnn").get_params()["model__type"] == "cnn"


def test_set_params():
    clf = TextClassifier()
    assert clf.set_params(model__type="cnn", training__epochs=7, threads=1) is clf
    assert clf.get_params(deep=False) == {"config": None, "threads": 1, "model__type": "cnn",
                                          "training__epochs": 7}
    with pytest.raises(ValueError, match="Invalid parameter 'modle__type'"):
        clf.set_params(modle__type="cnn")
    with pytest.raises(ValueError, match="Invalid parameter 'epochs'"):
        clf.set_params(epochs=3)
    # Nested parameters go over the config; None gives the key back to the library.
    clf = TextClassifier(tiny(epochs=3), training__epochs=1, model__hidden_dim=None)
    resolved = clf.resolved_config()
    assert resolved["training"]["epochs"] == 1
    assert resolved["model"]["hidden_dim"] == 128  # the library's default, not TINY's 16
    assert resolved["model"]["embedding_dim"] == 16  # TINY's, untouched
    clf.fit(*TRAIN)
    assert len(clf.history_) == 1 and clf.config_["training"]["epochs"] == 1


def test_defaults_follow_model_type_when_not_set():
    """An unset key stays unset, so defaults that depend on model.type follow it."""
    bag = TextClassifier().resolved_config()["training"]
    cnn = TextClassifier(model__type="cnn").resolved_config()["training"]
    assert bag["optimizer"] == "sgd" and cnn["optimizer"] == "adam"


def test_init_and_set_params_store_any_value():
    """estimator_checks.check_do_not_raise_errors_in_init_or_set_params, with the
    parameter names this estimator has (that check also passes the name of the
    constructor's **params itself, which is no parameter)."""
    keys = ["config", "threads", "model__type", "training__epochs"]
    for value in (-1, 3.0, "helloworld", np.array([1.0, 4.0]), [1], {}, []):
        params = {key: value for key in keys}
        estimator = TextClassifier(**params)
        estimator.set_params(**params)
        assert all(estimator.get_params()[key] is value for key in keys)


def test_clone():
    clf = TextClassifier(tiny(epochs=1), threads=1, model__type="cnn").fit(*TRAIN)
    copy = clone(clf)
    assert not copy.is_fitted
    assert copy.get_params(deep=False) == clf.get_params(deep=False)  # (clone deep-copies)
    with pytest.raises(textmodel.NotFittedError):
        copy.predict(["pizza"])
    # A loaded model clones into an unfitted model of its resolved config.
    loaded = TextClassifier._from_native(_lib.Model.from_bytes(clf._model.to_bytes()))
    assert clone(loaded).resolved_config()["model"]["type"] == "cnn"


def test_grid_search_over_nested_config_keys():
    """The search of the issue: model.type and training.epochs through their nested
    names, on text, with the best model refitted."""
    texts, labels = TRAIN[0][:150], TRAIN[1][:150]
    search = GridSearchCV(TextClassifier(training__threads=1),
                          {"model__type": ["bag", "cnn"], "training__epochs": [5, 10]},
                          cv=2, error_score="raise")
    search.fit(texts, labels)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == {"model__type", "training__epochs"}
    assert search.best_estimator_.config_["model"]["type"] == search.best_params_["model__type"]
    assert search.best_score_ >= 0.8
    assert search.score(*TEST) >= 0.8
    assert list(search.classes_) == ["food", "sports", "tech"]


def test_cross_val_score_and_int_labels():
    texts, labels = TRAIN
    numeric = np.array([["food", "sports", "tech"].index(y) for y in labels])
    scores = cross_val_score(TextClassifier(**FAST), texts, numeric, cv=3)
    assert scores.shape == (3,) and scores.min() >= 0.8
    clf = TextClassifier(**FAST).fit(texts, numeric)
    truth = np.array([["food", "sports", "tech"].index(y) for y in TEST[1]])
    predicted = clf.predict(TEST[0])
    assert predicted.dtype == numeric.dtype
    assert accuracy_score(truth, predicted) == pytest.approx(clf.score(TEST[0], truth))


def test_regressor_in_cross_val_score():
    texts, targets = count_data(400, 1)
    regressor = TextRegressor(model__type="lstm", model__pooling="mean", model__embedding_dim=16,
                              model__hidden_dim=16, training__epochs=10, training__batch_size=16,
                              training__learning_rate=0.01, training__threads=1)
    scores = cross_val_score(regressor, texts, targets, cv=2, scoring="r2")
    assert scores.shape == (2,) and scores.min() > 0.5


def test_pipeline():
    shout = FunctionTransformer(lambda texts: [t.upper() for t in texts])
    pipe = Pipeline([("shout", shout), ("clf", TextClassifier(**FAST))])
    assert "clf__training__epochs" in pipe.get_params()
    pipe.set_params(clf__training__epochs=3, clf__model__type="bag")
    pipe.fit(*TRAIN)
    assert pipe.named_steps["clf"].config_["training"]["epochs"] == 3
    assert pipe.named_steps["clf"].config_["tokenizer"]["lowercase"] is True
    assert pipe.score(*TEST) >= 0.9
    assert list(pipe.classes_) == ["food", "sports", "tech"]


def test_tags():
    assert is_classifier(TextClassifier()) and not is_regressor(TextClassifier())
    assert is_regressor(TextRegressor()) and not is_classifier(TextRegressor())
    tags = get_tags(TextClassifier())
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.target_tags.required and tags.requires_fit
    assert tags.classifier_tags.multi_class and not tags.classifier_tags.multi_label
    tagger = TextClassifier(tiny(epochs=1)).fit(["rain", "sun", "rain and sun"] * 4,
                                                [["wet"], ["dry"], ["wet", "dry"]] * 4)
    assert get_tags(tagger).classifier_tags.multi_label
    assert get_tags(TextRegressor()).regressor_tags is not None
    assert TextClassifier()._more_tags()["X_types"] == ["string"]


def test_not_fitted_error():
    clf = TextClassifier()
    assert issubclass(textmodel.NotFittedError, SklearnNotFittedError)
    assert issubclass(textmodel.NotFittedError, (ValueError)) and \
        issubclass(textmodel.NotFittedError, AttributeError)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(clf)
    for method in ("predict", "predict_proba", "score", "evaluate"):
        with pytest.raises(SklearnNotFittedError, match="not fitted"):
            getattr(clf, method)(*(TEST if method in ("score", "evaluate") else TEST[:1]))
    for attribute in ("classes_", "history_", "config_", "task_", "vocab_size_"):
        assert not hasattr(clf, attribute)
    clf.fit(*TRAIN)
    check_is_fitted(clf)
    assert hasattr(clf, "classes_") and hasattr(clf, "history_")
    with pytest.raises(AttributeError, match="no attribute 'predict_log'"):
        clf.predict_log


def test_core_imports_without_sklearn():
    """With scikit-learn hidden, textmodel imports and trains; NotFittedError is a
    ValueError and an AttributeError."""
    script = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import textmodel\n"
        "from textmodel import TextClassifier\n"
        "assert issubclass(textmodel.NotFittedError, ValueError)\n"
        "assert issubclass(textmodel.NotFittedError, AttributeError)\n"
        "try:\n"
        "    TextClassifier().predict(['x'])\n"
        "except textmodel.NotFittedError as e:\n"
        "    print('not fitted:', e)\n"
        "clf = TextClassifier(training__epochs=5).fit(['pizza', 'goal'] * 5, ['f', 's'] * 5)\n"
        "print(clf.predict(['pizza']).tolist(), sys.modules['sklearn'])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "not fitted:" in result.stdout and "['f'] None" in result.stdout


# --------------------------------------------------- sklearn's own checks

#: estimator_checks that apply to a text estimator and must pass as they are.
APPLICABLE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",       # its numeric X never reaches fit: NotFittedError first
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_requires_y_none",           # y=None is refused before X is read
]

#: The others, and why they are left out (each builds numeric arrays as X; a text
#: model's X is a sequence of strings, so they test input this estimator refuses).
#: Where the idea applies to text, a test below does the same on text.
SKIPPED_CHECKS = {
    "check_do_not_raise_errors_in_init_or_set_params":
        "passes the **params name itself as a parameter; test_init_and_set_params_store_any_value",
    "check_fit_score_takes_y": "numeric X",
    "check_estimators_overwrite_params": "numeric X; test_fit_does_not_change_parameters",
    "check_dont_overwrite_parameters": "numeric X; test_fit_does_not_change_parameters",
    "check_estimators_fit_returns_self": "numeric X; test_fit_returns_self_and_is_idempotent",
    "check_fit_idempotent": "numeric X; test_fit_returns_self_and_is_idempotent",
    "check_estimators_pickle": "numeric X; test_pickle.py pickles fitted text models",
    "check_dict_unchanged": "numeric X; test_predict_changes_nothing",
    "check_methods_subset_invariance": "numeric X; test_predictions_do_not_depend_on_the_batch",
    "check_methods_sample_order_invariance":
        "numeric X; test_predictions_do_not_depend_on_the_batch",
    "check_classifiers_one_label": "numeric X; test_classifier.py::test_data_errors (one class)",
    "check_supervised_y_no_nan": "passes vacuously (the numeric X fails first); "
                                 "test_tasks.py::test_regressor_input_errors (NaN target)",
    "check_n_features_in_after_fitting": "returns at once for string input (no n_features_in_)",
    "check_mixin_order": "no scikit-learn mixins are inherited (the core does not need sklearn)",
    "check_estimator_sparse_tag": "fits sparse numeric matrices",
    "check_readonly_memmap_input": "numeric X", "check_positive_only_tag_during_fit": "numeric X",
    "check_estimators_dtypes": "numeric X", "check_fit1d": "numeric X",
    "check_fit2d_1sample": "numeric X", "check_fit2d_1feature": "numeric X",
    "check_fit2d_predict1d": "numeric X", "check_fit_check_is_fitted": "numeric X",
    "check_estimators_empty_data_messages": "numeric X",
    "check_estimators_nan_inf": "numeric X", "check_classifiers_train": "numeric X",
    "check_classifier_data_not_an_array": "numeric X", "check_classifiers_classes": "numeric X",
    "check_classifiers_regression_target": "numeric X", "check_regressors_train": "numeric X",
    "check_regressors_int": "numeric X", "check_regressor_data_not_an_array": "numeric X",
    "check_supervised_y_2d": "numeric X", "check_sample_weights_list": "no sample_weight",
}


@pytest.mark.parametrize("estimator", [TextClassifier(**FAST), TextRegressor(**FAST)],
                         ids=["TextClassifier", "TextRegressor"])
@pytest.mark.parametrize("check", APPLICABLE_CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "does not inherit from BaseEstimator" and the like
        getattr(estimator_checks, check)(type(estimator).__name__, estimator)


def test_the_check_lists_name_real_checks():
    for name in APPLICABLE_CHECKS + list(SKIPPED_CHECKS):
        assert callable(getattr(estimator_checks, name)), name
    assert not set(APPLICABLE_CHECKS) & set(SKIPPED_CHECKS)


# ------------------------------------- the skipped checks' ideas, on text


def test_fit_returns_self_and_is_idempotent():
    clf = TextClassifier(tiny(epochs=2))
    assert clf.fit(*TRAIN) is clf
    first = clf.predict_proba(TEST[0])
    assert clf.fit(*TRAIN) is clf
    np.testing.assert_array_equal(clf.predict_proba(TEST[0]), first)
    reg = TextRegressor(**FAST)
    assert reg.fit(*count_data(60, 2)) is reg


def test_fit_does_not_change_parameters():
    config = tiny(epochs=1)
    snapshot = json.dumps(config, sort_keys=True)
    clf = TextClassifier(config, threads=1, model__type="cnn")
    before = dict(clf.get_params())
    clf.fit(*TRAIN)
    assert clf.get_params() == before
    assert json.dumps(config, sort_keys=True) == snapshot  # the dict given is not touched
    public = {k for k in vars(clf) if not k.startswith("_")}
    assert public - {"config", "threads"} == {"classes_", "history_", "report_", "cancelled_", "privacy_"}


def test_predict_changes_nothing():
    clf = TextClassifier(tiny(epochs=1)).fit(*TRAIN)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else json.dumps(v, default=str))
              for k, v in vars(clf).items() if k.endswith("_")}
    clf.predict(TEST[0]), clf.predict_proba(TEST[0]), clf.score(*TEST)
    for k, v in vars(clf).items():
        if k.endswith("_"):
            expected = before[k]
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(v, expected)
            else:
                assert json.dumps(v, default=str) == expected


def test_predictions_do_not_depend_on_the_batch():
    clf = TextClassifier(tiny(epochs=1)).fit(*TRAIN)
    texts = np.array(TEST[0])
    whole = clf.predict_proba(texts)
    order = np.random.RandomState(0).permutation(len(texts))
    np.testing.assert_allclose(clf.predict_proba(texts[order]), whole[order], atol=1e-6)
    halves = np.vstack([clf.predict_proba(texts[:50]), clf.predict_proba(texts[50:])])
    np.testing.assert_allclose(halves, whole, atol=1e-6)


# ------------------------------------------------------------- labels


def test_labels_come_back_in_their_type():
    texts, labels = TRAIN
    index = {"food": 0, "sports": 1, "tech": 2}
    for values, kind in ((["a", "b", "c"], "U"), ([3, 1, 20], "i"), ([0.5, 1.5, 2.5], "f"),
                         ([np.int16(4), np.int16(5), np.int16(6)], "i")):
        y = [values[index[label]] for label in labels]
        clf = TextClassifier(tiny(epochs=2)).fit(texts, y)
        assert clf.classes_.dtype.kind == kind, values
        np.testing.assert_array_equal(clf.classes_, np.unique(np.array(values)))
        predicted = clf.predict(TEST[0])
        truth = np.array([values[index[label]] for label in TEST[1]])
        assert np.mean(predicted == truth) >= 0.9, values
    with pytest.raises(ValueError, match="distinct"):
        TextClassifier(tiny(epochs=1)).fit(["a", "b", "c"], [1, "1", 2])


def test_texts_as_numpy_and_2d_refused():
    clf = TextClassifier(tiny(epochs=1)).fit(np.array(TRAIN[0]), np.array(TRAIN[1]))
    assert clf.predict(np.array(TEST[0][:3])).shape == (3,)
    with pytest.raises(ValueError, match="1-D"):
        clf.predict(np.array(TEST[0][:4]).reshape(2, 2))


def test_sklearn_version_is_recent():
    # The tags API (__sklearn_tags__) these tests use needs scikit-learn 1.6 or newer.
    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    assert (major, minor) >= (1, 6)


def test_from_native_wraps_a_native_model():
    native = _lib.Model.from_bytes(TextRegressor(tiny(epochs=1)).fit(*count_data(60, 1))
                                   ._model.to_bytes())
    regressor = textmodel.classifier._TextModel._from_native(native, threads=1)
    assert type(regressor) is TextRegressor and regressor.is_fitted
    assert regressor.threads == 1 and regressor.history_ == []
    assert regressor.get_params(deep=False)["config"]["model"]["task"] == "regression"
    with pytest.raises(TypeError, match="TextRegressor"):
        TextClassifier._from_native(native)
    with pytest.raises(ValueError, match="not trained"):
        TextClassifier._from_native(_lib.Model.new(None))


def test_refit_while_another_thread_predicts():
    """fit makes a new native model; the one another thread is predicting with stays
    alive until that call returns (it is not closed under it)."""
    import threading
    clf = TextClassifier(tiny(epochs=1)).fit(*TRAIN)
    stop, seen, errors = threading.Event(), [], []

    def predict():
        while not stop.is_set():
            try:
                seen.append(len(clf.predict(TEST[0])))
            except Exception as e:  # pragma: no cover - the assertion below reports it
                errors.append(e)

    thread = threading.Thread(target=predict)
    thread.start()
    try:
        for _ in range(3):
            clf.fit(*TRAIN)
    finally:
        stop.set()
        thread.join()
    assert not errors and seen and set(seen) == {len(TEST[0])}


def test_score_with_sample_weight():
    clf = TextClassifier(tiny(epochs=1)).fit(*TRAIN)
    texts, labels = make_confusing(150, seed=4)  # texts the model gets right and wrong
    right = clf.predict(texts) == np.array(labels)
    assert 0 < right.sum() < len(right)
    ones = np.ones(len(texts))
    assert clf.score(texts, labels, sample_weight=ones) == pytest.approx(clf.score(texts, labels))
    assert clf.score(texts, labels, sample_weight=(~right).astype(float)) == 0.0
    assert clf.score(texts, labels, sample_weight=right * 3.0) == 1.0
    with pytest.raises(ValueError, match="one per text"):
        clf.score(texts, labels, sample_weight=[1.0, 2.0])

    texts, targets = count_data(200, 1)
    reg = TextRegressor(model__type="lstm", model__pooling="mean", model__embedding_dim=16,
                        model__hidden_dim=16, training__epochs=8, training__batch_size=16,
                        training__learning_rate=0.01, training__threads=1).fit(texts, targets)
    test_texts, test_targets = count_data(80, 9)
    unweighted = reg.score(test_texts, test_targets)
    assert reg.score(test_texts, test_targets, sample_weight=np.ones(80)) == \
        pytest.approx(unweighted, abs=1e-4)
    predicted = reg.predict(test_texts).astype(np.float64)
    w = np.arange(1, 81, dtype=float)
    truth = np.asarray(test_targets, dtype=float)
    mean = np.average(truth, weights=w)
    by_hand = 1 - np.sum(w * (truth - predicted) ** 2) / np.sum(w * (truth - mean) ** 2)
    assert reg.score(test_texts, test_targets, sample_weight=w) == pytest.approx(by_hand)
