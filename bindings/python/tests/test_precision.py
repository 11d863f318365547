"""Compact models from Python: save(path, dtype="f16"|"int8"), to_bytes(dtype=...),
precision_, pickles that keep the precision, and the errors of bad dtypes."""

import json
import os
import pickle

import numpy as np
import pytest

from textmodel import InvalidArgumentError, ModelFormatError, TextClassifier, TextRegressor, _lib

from test_classifier import TEST, TRAIN, tiny
from test_tasks import count_data


def weight_bytes(path):
    """Bytes of a safetensors file's weight tensors (not the vocabulary tensor that
    compact files of format 5 hold after them)."""
    data = open(path, "rb").read()
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return sum(e["data_offsets"][1] - e["data_offsets"][0] for name, e in header.items()
               if name not in ("__metadata__", "vocabulary"))


@pytest.fixture(scope="module", params=["bag", "cnn", "lstm", "transformer"])
def fitted(request):
    config = tiny(epochs=3)
    config["model"] = {"type": request.param, "embedding_dim": 16, "hidden_dim": 16}
    if request.param == "transformer":
        config["model"]["heads"] = 2
    if request.param == "bag":
        config["tokenizer"]["buckets"] = 1000
    model = TextClassifier(config, threads=1).fit(*TRAIN)
    yield model
    model.close()


@pytest.mark.parametrize("dtype", ["f16", "int8"])
def test_save_and_load_each_dtype(fitted, dtype, tmp_path):
    assert fitted.precision_ == "f32"
    f32_path, path = tmp_path / "model.f32", tmp_path / f"model.{dtype}"
    fitted.save(f32_path)
    fitted.save(path, dtype=dtype)
    loaded = TextClassifier.load(path)
    assert loaded.precision_ == dtype
    # Tiny models: the header (vocabulary, config) is most of the file; weigh the tensors
    # (int8: a byte per weight plus a 4-byte scale per 16-wide row, and f32 biases).
    assert weight_bytes(path) <= (0.5 if dtype == "f16" else 0.35) * weight_bytes(f32_path)
    expected, got = fitted.predict_proba(TEST[0]), loaded.predict_proba(TEST[0])
    np.testing.assert_allclose(got, expected, atol=2e-3 if dtype == "f16" else 5e-2)
    agreement = np.mean(np.argmax(got, axis=1) == np.argmax(expected, axis=1))
    assert agreement >= 0.95
    # A compact model saved without a dtype keeps its precision; with "f32" it is f32.
    again = tmp_path / "again"
    loaded.save(again)
    assert TextClassifier.load(again).precision_ == dtype
    loaded.save(again, dtype="f32")
    back = TextClassifier.load(again)
    assert back.precision_ == "f32"
    np.testing.assert_array_equal(back.predict(TEST[0][:20]).shape, (20,))


def test_int8_predictions_do_not_depend_on_threads(fitted, tmp_path):
    path = tmp_path / "model.int8"
    fitted.save(path, dtype="int8")
    one, two = TextClassifier.load(path, threads=1), TextClassifier.load(path, threads=2)
    np.testing.assert_array_equal(one.predict_proba(TEST[0]), two.predict_proba(TEST[0]))


def test_bytes_and_pickles_keep_the_precision(fitted):
    native = fitted._native()
    data = native.to_bytes(dtype="int8")
    assert len(data) < len(native.to_bytes())
    model = _lib.Model.from_bytes(data)
    assert model.precision() == "int8"
    # Pickling an int8 model gives an int8 model that predicts the same.
    clf = TextClassifier._from_native(model)
    copy = pickle.loads(pickle.dumps(clf))
    assert copy.precision_ == "int8"
    np.testing.assert_array_equal(copy.predict_proba(TEST[0]), clf.predict_proba(TEST[0]))
    assert b'"weights_dtype":"int8"' in data


def test_regressor_saves_compact(tmp_path):
    texts, targets = count_data(200, seed=4)
    reg = TextRegressor(tiny(epochs=3), threads=1).fit(texts, targets)
    reg.save(tmp_path / "r.int8", dtype="int8")
    loaded = TextRegressor.load(tmp_path / "r.int8")
    assert loaded.precision_ == "int8"
    np.testing.assert_allclose(loaded.predict(texts[:50]), reg.predict(texts[:50]), rtol=0.05, atol=0.5)


def test_bad_dtypes(fitted, tmp_path):
    with pytest.raises(InvalidArgumentError, match="int4"):
        fitted.save(tmp_path / "x", dtype="int4")
    with pytest.raises(InvalidArgumentError, match="F16"):
        fitted._native().to_bytes(dtype="F16")
    with pytest.raises(TypeError, match="dtype"):
        fitted.save(tmp_path / "x", dtype=8)
    assert not (tmp_path / "x").exists()


def test_corrupted_int8_bytes_are_model_format_errors(fitted):
    data = bytearray(fitted._native().to_bytes(dtype="int8"))
    for cut in (9, len(data) // 2, len(data) - 1):
        with pytest.raises(ModelFormatError):
            _lib.Model.from_bytes(bytes(data[:cut]))
    data[-3] ^= 0x40
    with pytest.raises(ModelFormatError, match="checksum"):
        _lib.Model.from_bytes(bytes(data))
