"""Fitted models as bytes: pickle, copy.deepcopy, copy.copy and joblib.dump go through
tm_model_save_to_memory / tm_model_load_from_memory, and a pickled model predicts
identically in another process. Unfitted estimators pickle as their parameters."""

import copy
import multiprocessing
import os
import pickle

import joblib
import numpy as np
import pytest

from textmodel import ModelFormatError, NotFittedError, TextClassifier, TextRegressor, _lib

from _spawn_worker import predict_in_child
from test_classifier import TEST, TRAIN, tiny
from test_tasks import count_data, topic_data


@pytest.fixture(scope="module")
def clf():
    index = {"food": 0, "sports": 1, "tech": 2}
    model = TextClassifier(tiny(epochs=3), threads=1)
    model.fit(TRAIN[0], np.array([(2, 10, 7)[index[y]] for y in TRAIN[1]]))
    yield model
    model.close()


def same_classifier(a, b):
    np.testing.assert_array_equal(a.classes_, b.classes_)
    assert a.classes_.dtype == b.classes_.dtype
    np.testing.assert_array_equal(a.predict(TEST[0]), b.predict(TEST[0]))
    np.testing.assert_array_equal(a.predict_proba(TEST[0]), b.predict_proba(TEST[0]))
    assert a.history_ == b.history_ and a.report_ == b.report_
    assert a.get_params() == b.get_params()


def test_pickle_round_trip(clf):
    data = pickle.dumps(clf)
    loaded = pickle.loads(data)
    same_classifier(loaded, clf)
    assert loaded._model.handle != clf._model.handle  # its own native model
    assert loaded.threads == 1 and list(loaded.classes_) == [2, 7, 10]
    # The weights travel once: the pickle is about the size of the model file.
    assert len(clf._model.to_bytes()) <= len(data) < len(clf._model.to_bytes()) + 20_000


def test_deepcopy_and_copy_are_independent(clf):
    for twin in (copy.deepcopy(clf), copy.copy(clf)):
        same_classifier(twin, clf)
        twin.fit(TRAIN[0][:60], TRAIN[1][:60])  # refitting the copy leaves the original
        assert list(twin.classes_) == ["food", "sports", "tech"]
        assert list(clf.classes_) == [2, 7, 10]
        twin.close()
        assert len(clf.predict(["pizza"])) == 1


def test_joblib(clf, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    same_classifier(joblib.load(path), clf)
    joblib.dump(clf, tmp_path / "compressed.joblib", compress=3)
    same_classifier(joblib.load(tmp_path / "compressed.joblib"), clf)


def test_predicts_identically_in_a_spawned_process(clf):
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        pid, labels, probs = pool.apply(predict_in_child, (clf, TEST[0]))
    assert pid != os.getpid()
    np.testing.assert_array_equal(labels, clf.predict(TEST[0]))
    np.testing.assert_array_equal(probs, clf.predict_proba(TEST[0]))
    assert labels.dtype == clf.classes_.dtype


def test_unfitted_estimator_pickles_as_its_parameters():
    unfitted = TextClassifier(tiny(epochs=1), threads=2, model__type="cnn")
    loaded = pickle.loads(pickle.dumps(unfitted))
    assert loaded.get_params() == unfitted.get_params() and not loaded.is_fitted
    with pytest.raises(NotFittedError):
        loaded.predict(["pizza"])
    loaded.fit(*TRAIN)
    assert loaded.config_["model"]["type"] == "cnn"


def test_regressor_and_multi_label_pickle():
    regressor = TextRegressor(tiny(epochs=2)).fit(*count_data(120, 1))
    texts = count_data(20, 5)[0]
    again = pickle.loads(pickle.dumps(regressor))
    np.testing.assert_array_equal(again.predict(texts), regressor.predict(texts))
    assert again.task_ == "regression"

    tagger = TextClassifier(tiny(epochs=2)).fit(*topic_data(120, 1))
    texts = topic_data(20, 6)[0]
    again = copy.deepcopy(tagger)
    assert again.task_ == "multi_label"
    assert again.predict(texts) == tagger.predict(texts)


def test_bad_pickles_and_bytes(clf):
    state = clf.__getstate__()
    bad = TextClassifier.__new__(TextClassifier)
    with pytest.raises(ValueError, match="state version"):
        bad.__setstate__(dict(state, _pickle_version=99))
    with pytest.raises(ModelFormatError, match="tm_model_load_from_memory"):
        bad.__setstate__(dict(state, _model_bytes=state["_model_bytes"][:-7]))
    with pytest.raises(ModelFormatError):
        _lib.Model.from_bytes(b"")
    with pytest.raises(ModelFormatError, match="not a libtextmodel model"):
        _lib.Model.from_bytes(b"x" * 100)
    with pytest.raises(TypeError):
        _lib.Model.from_bytes("a str")
    data = bytearray(state["_model_bytes"])
    data[-3] ^= 0x10
    with pytest.raises(ModelFormatError, match="checksum"):
        _lib.Model.from_bytes(data)
    # A model file's bytes are model bytes.
    assert _lib.Model.from_bytes(memoryview(state["_model_bytes"])).labels() == ["10", "2", "7"]


def test_closed_model_cannot_be_pickled():
    model = TextClassifier(tiny(epochs=1)).fit(*TRAIN)
    model.close()
    with pytest.raises(ValueError, match="closed"):
        pickle.dumps(model)


def test_parallel_cross_validation_sends_estimators_to_workers():
    """joblib's worker processes (n_jobs=2) receive the estimator pickled and send the
    fitted clones' scores back."""
    from sklearn.model_selection import cross_val_score
    scores = cross_val_score(TextClassifier(tiny(epochs=2)), *TRAIN, cv=2, n_jobs=2)
    assert scores.shape == (2,) and scores.min() >= 0.8
