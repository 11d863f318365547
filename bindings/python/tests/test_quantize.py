"""Model.quantize and TextClassifier.quantize: fastText-style bag-model compression."""

import pickle
from pathlib import Path

import numpy as np
import pytest

from textmodel import TextClassifier
from textmodel._lib import InvalidArgumentError, Model, quantize_options

DATA = Path(__file__).resolve().parents[3] / "data" / "support"


def read(name):
    import csv
    with open(DATA / name, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


@pytest.fixture(scope="module")
def data():
    return read("train.csv"), read("test.csv")


@pytest.fixture(scope="module")
def fitted(data):
    (texts, labels), _ = data
    return TextClassifier(model__type="bag", tokenizer__buckets=20000, training__epochs=8, training__threads=1).fit(texts, labels)


def test_low_level_quantize_gives_a_new_small_model(fitted, data, tmp_path):
    (texts, labels), (test_texts, test_labels) = data
    native = fitted._native()
    q = native.quantize(cutoff=2000, qnorm=True, retrain=True, train=(texts, labels), threads=1)
    assert q.is_quantized() and not native.is_quantized()
    assert len(q.to_bytes()) * 20 < len(native.to_bytes())
    assert np.mean(np.argmax(q.predict_proba(test_texts), 1) == np.argmax(native.predict_proba(test_texts), 1)) > 0.85
    path = tmp_path / "q.tmmodel"
    q.save(path)
    loaded = Model.load(path)
    assert loaded.is_quantized()
    np.testing.assert_array_equal(loaded.predict_proba(test_texts), q.predict_proba(test_texts))
    np.testing.assert_array_equal(Model.from_bytes(q.to_bytes()).predict_proba(test_texts), q.predict_proba(test_texts))
    # From a file: the same data, the same model.
    from_file = native.quantize(cutoff=2000, qnorm=True, retrain=True, train_path=DATA / "train.csv", threads=1)
    np.testing.assert_array_equal(from_file.predict_proba(test_texts), q.predict_proba(test_texts))


def test_estimator_quantize_in_place_keeps_classes_and_accuracy(data):
    (texts, labels), (test_texts, test_labels) = data
    clf = TextClassifier(model__type="bag", tokenizer__buckets=20000, training__epochs=8, training__threads=1).fit(texts, labels)
    before = clf.score(test_texts, test_labels)
    classes = clf.classes_.copy()
    assert not clf.is_quantized_
    assert clf.quantize(cutoff=3000, dsub=2, qnorm=True, retrain=True, train=(texts, labels)) is clf
    assert clf.is_quantized_
    np.testing.assert_array_equal(clf.classes_, classes)
    assert clf.score(test_texts, test_labels) >= before - 0.05
    again = pickle.loads(pickle.dumps(clf))
    assert again.is_quantized_
    np.testing.assert_array_equal(again.predict_proba(test_texts), clf.predict_proba(test_texts))
    with pytest.raises(InvalidArgumentError, match="already quantized"):
        clf.quantize()
    with pytest.raises(InvalidArgumentError, match="product-quantized"):
        clf.explain(test_texts[:1])


def test_quantize_errors(fitted, data):
    (texts, labels), _ = data
    with pytest.raises(InvalidArgumentError, match="dsub must divide"):
        fitted.quantize(dsub=3)
    with pytest.raises(InvalidArgumentError, match="retrain needs training data"):
        fitted._native().quantize(retrain=True)
    with pytest.raises(TypeError, match="cutoff must be an int"):
        quantize_options(cutoff=1.5)
    with pytest.raises(InvalidArgumentError, match="cutoff -1 is out of range"):
        quantize_options(cutoff=-1)
    cnn = TextClassifier(model__type="cnn", model__embedding_dim=8, model__filters=4,
                         training__epochs=1).fit(texts[:100], labels[:100])
    with pytest.raises(InvalidArgumentError, match="bag models only"):
        cnn.quantize()
