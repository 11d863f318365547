"""Differentially private training from Python: TextClassifier with training.privacy,
privacy_ after fit and after load, ε per epoch in history_ and the progress dicts,
and the refusals of configs that would publish the private data's words or labels."""

import math

import pytest

from textmodel import ConfigError, TextClassifier

WORDS = {"food": ["pizza", "pasta", "soup"], "sport": ["goal", "team", "match"], "tech": ["code", "bug", "server"]}


def data(n=240):
    texts, labels = [], []
    for i in range(n):
        label = sorted(WORDS)[i % 3]
        texts.append(f"we saw {WORDS[label][i % 3]} today and {WORDS[label][(i + 1) % 3]}")
        labels.append(label)
    return texts, labels


def private_config(**privacy):
    return {"model": {"type": "bag", "embedding_dim": 16, "labels": sorted(WORDS)},
            "tokenizer": {"vocabulary": "hashed", "buckets": 2000, "word_ngrams": 1,
                          "char_ngrams_min": 0, "char_ngrams_max": 0},
            "training": {"epochs": 3, "batch_size": 16, "threads": 1, "optimizer": "sgd",
                         "learning_rate": 0.5, "lr_schedule": "constant",
                         "privacy": {"max_grad_norm": 1.0, "delta": 1e-5, **privacy}}}


def test_fit_sets_privacy_and_epsilon_per_epoch(tmp_path):
    texts, labels = data()
    seen = []
    clf = TextClassifier(private_config(target_epsilon=5))
    clf.fit(texts, labels, progress=lambda p: seen.append(p["epsilon"]) if p["kind"] == "epoch" else None)
    p = clf.privacy_
    assert set(p) >= {"epsilon", "delta", "noise_multiplier", "max_grad_norm", "sampling_rate", "steps", "accountant"}
    assert 0.95 * 5 <= p["epsilon"] <= 5
    assert p["delta"] == 1e-5 and p["accountant"] == "rdp" and p["max_grad_norm"] == 1.0
    assert p["sampling_rate"] == pytest.approx(16 / 240)
    assert p["steps"] == 3 * 15
    assert p["noise_multiplier"] > 0
    epsilons = [e["epsilon"] for e in clf.history_]
    assert epsilons == seen and len(epsilons) == 3 and epsilons == sorted(epsilons)
    assert epsilons[-1] == pytest.approx(p["epsilon"])
    assert clf.score(texts, labels) > 0.5   # noisy, but it learns the keywords
    path = tmp_path / "private.tmmodel"
    clf.save(path)
    assert TextClassifier.load(path).privacy_ == p


def test_models_without_privacy_have_none():
    texts, labels = data(60)
    clf = TextClassifier({"training": {"epochs": 1}}).fit(texts, labels)
    assert clf.privacy_ is None
    assert "epsilon" not in clf.history_[0]
    progress = []
    TextClassifier({"training": {"epochs": 1}}).fit(texts, labels, progress=progress.append)
    assert all(math.isnan(p["epsilon"]) for p in progress)


def test_private_data_vocabulary_and_labels_are_refused():
    texts, labels = data(30)
    config = private_config(noise_multiplier=1.0)
    del config["tokenizer"]["vocabulary"]
    with pytest.raises(ConfigError, match="tokenizer.vocabulary"):
        TextClassifier(config).fit(texts, labels)
    config = private_config(noise_multiplier=1.0)
    del config["model"]["labels"]
    with pytest.raises(ConfigError, match="model.labels"):
        TextClassifier(config).fit(texts, labels)
    with pytest.raises(ConfigError, match="not both"):
        TextClassifier(private_config(noise_multiplier=1.0, target_epsilon=2)).fit(texts, labels)


def test_privacy_keys_are_parameters():
    texts, labels = data(60)
    clf = TextClassifier(model__type="bag", model__labels=sorted(WORDS), tokenizer__vocabulary="hashed",
                         training__privacy={"noise_multiplier": 0.5}, training__epochs=1)
    assert clf.get_params()["training__privacy"] == {"noise_multiplier": 0.5}
    assert TextClassifier().get_params()["training__privacy"] is None
    clf.fit(texts, labels)
    assert clf.privacy_["noise_multiplier"] == 0.5
