"""Single-text prediction (tm_model_predict_one) through Python, and the default bag
model's Hogwild threads and fitted buckets as Python sees them."""
import random
import threading

import numpy as np
import pytest

from textmodel import InvalidArgumentError, NotFittedError, TextClassifier, TextRegressor

WORDS = ["pizza", "pasta", "goal", "match", "code", "server", "the", "a", "very", "today", "nice"]
CLASS_OF = {"pizza": "food", "pasta": "food", "goal": "sport", "match": "sport", "code": "tech", "server": "tech"}


def data(n, seed):
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        key = list(CLASS_OF)[i % len(CLASS_OF)]
        words = rng.choices(WORDS[6:], k=rng.randint(2, 6)) + [key]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(CLASS_OF[key])
    return texts, labels


TRAIN, TEST = data(240, 1), data(60, 2)
EDGE = ["", "   ", "café 🎉 ünïcode", "never seen at all", "PIZZA!!! goal?"]
CONFIGS = {
    "default bag": {"training": {"threads": 1, "epochs": 2}},
    "lstm": {"model": {"type": "lstm", "embedding_dim": 8, "hidden_dim": 8},
             "tokenizer": {"min_freq": 1}, "training": {"threads": 1, "epochs": 1, "batch_size": 16}},
    "cnn": {"model": {"type": "cnn", "embedding_dim": 8, "filters": 4, "kernel_sizes": [2]},
            "tokenizer": {"min_freq": 1}, "training": {"threads": 1, "epochs": 1}},
    "transformer": {"model": {"type": "transformer", "embedding_dim": 8, "hidden_dim": 8, "heads": 2},
                    "tokenizer": {"min_freq": 1}, "training": {"threads": 1, "epochs": 1}},
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def fitted(request):
    clf = TextClassifier(CONFIGS[request.param])
    clf.fit(*TRAIN)
    yield clf
    clf.close()


def test_predict_one_equals_batch_prediction_bit_for_bit(fitted):
    texts = TEST[0] + EDGE
    batch = fitted.predict(texts)
    native = fitted._native()
    for i, text in enumerate(texts):
        label, probability = fitted.predict_one(text, return_probability=True)
        alone_index, alone_prob = native.predict([text], 1)
        assert label == fitted.predict([text])[0] == batch[i]
        assert np.float32(probability).tobytes() == alone_prob[0, 0].tobytes()
        assert native.predict_one(text) == (int(alone_index[0, 0]), float(alone_prob[0, 0]))
        assert fitted.predict_one(text.encode("utf-8")) == label


def test_predict_of_one_text_keeps_the_batch_type(fitted):
    one = fitted.predict([TEST[0][0]])
    assert isinstance(one, np.ndarray) and one.shape == (1,) and one.dtype == fitted.classes_.dtype


def test_predict_one_refuses_what_a_batch_refuses(fitted):
    with pytest.raises(InvalidArgumentError, match="NUL"):
        fitted.predict_one("a\0b")
    with pytest.raises(TypeError):
        fitted.predict_one(3)
    with pytest.raises(NotFittedError):
        TextClassifier().predict_one("a")


def test_predict_one_from_many_threads_at_once(fitted):
    expected = [fitted.predict_one(t) for t in TEST[0]]
    results, errors = {}, []

    def work(w):
        try:
            results[w] = [fitted.predict_one(t) for t in TEST[0] * 5][:len(TEST[0])]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(r == expected for r in results.values())


def test_regression_models_have_no_predict_one():
    reg = TextRegressor({"training": {"threads": 1, "epochs": 1}})
    reg.fit(["one two", "two three", "three four"], [1.0, 2.0, 3.0])
    with pytest.raises(AttributeError):
        reg.predict_one("one")
    with pytest.raises(InvalidArgumentError, match="regression"):
        reg._native().predict_one("one")


def test_default_model_trains_on_its_threads_with_fitted_buckets():
    for threads in (1, 2):
        clf = TextClassifier({"training": {"threads": threads, "epochs": 2}})
        clf.fit(*TRAIN)
        assert clf.report_["threads"] == threads
        config = clf.config_
        assert config["training"]["hogwild"] is True
        # fit_buckets (true) is left out of the resolved config at its default: the
        # fitted count is in "buckets" itself.
        assert config["tokenizer"].get("fit_buckets", True) is True
        assert 200_000 % config["tokenizer"]["buckets"] == 0
        assert config["tokenizer"]["buckets"] < 200_000, "a 240-text corpus uses few buckets"
    batched = TextClassifier({"training": {"batch_size": 4, "threads": 1, "epochs": 1}})
    assert batched.resolved_config()["training"]["hogwild"] is False
