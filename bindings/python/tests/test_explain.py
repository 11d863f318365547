"""explain, explain_html and transform: character offsets into Python strings, targets,
methods, every task, errors, and the HTML page."""
import csv
import html
import math
import re
import threading
from pathlib import Path

import numpy as np
import pytest

from textmodel import InvalidArgumentError, NotFittedError, TextClassifier, TextRegressor
from textmodel.explanation import Explanation

SUPPORT = Path(__file__).resolve().parents[3] / "data" / "support"
TEXTS = ["My parcel never came, REFUND please!", "Café crème ÉTÉ 日本語 🐕🐕 ok", "where is my ORDER?", ""]


def rows(name="train.csv"):
    with open(SUPPORT / name, newline="", encoding="utf-8") as f:
        return [(r["text"], r["label"]) for r in csv.DictReader(f)]


def assert_spans_slice(text, explanation):
    """Each token's offsets slice the text to that token (lower-cased, as tokenised)."""
    assert [text[s:n].lower() for _, s, n, _ in explanation.tokens] == \
        [t for t, _, _, _ in explanation.tokens], (text, explanation.tokens)


@pytest.fixture(scope="module")
def bag():
    texts, labels = zip(*rows())
    return TextClassifier({"model": {"type": "bag", "embedding_dim": 32}}).fit(texts, labels)


@pytest.fixture(scope="module")
def lstm():
    texts, labels = zip(*rows())
    return TextClassifier({"model": {"type": "lstm", "embedding_dim": 16, "hidden_dim": 16, "pooling": "mean"},
                           "training": {"epochs": 3}}).fit(texts, labels)


def test_offsets_are_character_indices_that_slice_the_text(bag, lstm):
    for clf in (bag, lstm):
        for text, e in zip(TEXTS, clf.explain(TEXTS)):
            assert isinstance(e, Explanation)
            previous = 0
            for token, start, end, score in e.tokens:
                assert previous <= start < end <= len(text)
                previous = end
                assert text[start:end].lower() == token, (text, token)
                assert math.isfinite(score)
    e = bag.explain(["Café 日本 🐕"])[0]
    assert [(t, s, n) for t, s, n, _ in e.tokens] == [("café", 0, 4), ("日本", 5, 7), ("🐕", 8, 9)]


def test_bytes_texts_get_byte_offsets_and_invalid_utf8_reads_as_replacement(bag):
    raw = b"ok \xff caf\xc3\xa9"
    e = bag.explain([raw])[0]
    assert [(t, s, n) for t, s, n, _ in e.tokens] == [("ok", 0, 2), ("\ufffd", 3, 4), ("café", 5, 10)]


def test_integrated_gradients_are_complete_and_delta_is_the_gap(bag, lstm):
    for clf in (bag, lstm):
        for e in clf.explain(TEXTS, steps=50):
            total = sum(s for _, _, _, s in e.tokens)
            assert abs(total - (e.output - e.reference_output) - e.delta) < 1e-4
            assert abs(e.delta) <= 1e-3 * abs(e.output - e.reference_output) + 1e-6


def test_default_target_is_the_prediction_and_others_can_be_chosen(lstm):
    proba = lstm.predict_proba(TEXTS)
    classes = lstm.classes_
    for row, e in zip(proba, lstm.explain(TEXTS)):
        assert e.target == classes[int(np.argmax(row))] and e.target_index == int(np.argmax(row))
        assert e.output == pytest.approx(row.max(), abs=1e-5)
    other = classes[-1]
    for row, e in zip(proba, lstm.explain(TEXTS, target=other)):
        assert e.target == other and e.output == pytest.approx(row[-1], abs=1e-5)
    assert [e.target for e in lstm.explain(TEXTS[:1], target=0)] == [classes[0]]
    logit = lstm.explain(TEXTS[:1], output="logit")[0]
    assert logit.output != pytest.approx(proba[0].max())


def test_occlusion_scores_are_drops_and_have_no_delta(bag):
    e = bag.explain(["refund please"], method="occlusion", reference="unknown")[0]
    assert math.isnan(e.delta) and math.isnan(e.reference_output)
    assert e.tokens[0][3] != 0
    assert len(bag.explain(["a b c d"], method="occlusion", window=2)[0].tokens) == 4
    # Without subwords, occluding a word with <unk> is predicting the text with an
    # unknown word in its place.
    words_only = TextClassifier({"model": {"type": "bag", "embedding_dim": 32},
                                 "tokenizer": {"word_ngrams": 1, "char_ngrams_max": 0, "char_ngrams_min": 0}})
    words_only.fit(*zip(*rows()))
    e = words_only.explain(["refund please"], method="occlusion", reference="unknown")[0]
    p = words_only.predict_proba(["refund please", "qqzzunseen please"])
    assert e.tokens[0][3] == pytest.approx(p[0, e.target_index] - p[1, e.target_index], abs=1e-5)


def test_multi_label_and_regression():
    texts, labels = zip(*rows())
    tagger = TextClassifier({"model": {"task": "multi_label", "type": "bag"}}).fit(
        list(texts), [[y, "any"] if i % 2 else [y] for i, y in enumerate(labels)])
    for label in tagger.classes_:
        e = tagger.explain(TEXTS[:2], target=label)
        assert all(x.target == label for x in e)
    lengths = [float(len(t)) for t in texts]
    reg = TextRegressor({"model": {"type": "lstm", "embedding_dim": 8, "hidden_dim": 8, "pooling": "mean"},
                         "training": {"epochs": 2}}).fit(list(texts), lengths)
    values = reg.predict(TEXTS)
    for v, e in zip(values, reg.explain(TEXTS)):
        assert e.target is None and e.output == pytest.approx(float(v), rel=1e-4, abs=1e-3)
    with pytest.raises(ValueError):
        reg.explain(TEXTS, target=1)


def test_bad_arguments_raise(bag):
    with pytest.raises(InvalidArgumentError, match="target"):
        bag.explain(TEXTS, target=len(bag.classes_))
    with pytest.raises(ValueError, match="label index"):
        bag.explain(TEXTS, target=-1)
    with pytest.raises(ValueError, match="unknown label"):
        bag.explain(TEXTS, target="no such label")
    with pytest.raises(InvalidArgumentError, match="steps"):
        bag.explain(TEXTS, steps=0)
    with pytest.raises(ValueError, match="method"):
        bag.explain(TEXTS, method="shap")
    with pytest.raises(TypeError):
        bag.explain("a single string")
    with pytest.raises(NotFittedError):
        TextClassifier().explain(["x"])
    with pytest.raises(NotFittedError):
        TextClassifier().transform(["x"])


def test_many_threads_explain_with_one_model(lstm):
    lstm.threads = 1
    expected = lstm.explain(TEXTS, steps=20)
    results = [None] * 4

    def run(i):
        results[i] = lstm.explain(TEXTS, steps=20)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lstm.threads = 0
    assert all(r == expected for r in results)


def test_transform_gives_the_pooled_features(bag, lstm):
    v = bag.transform(TEXTS)
    assert v.shape == (len(TEXTS), 32) and v.dtype == np.float32
    assert not v[-1].any()  # the empty text's mean is zeros
    assert lstm.transform(TEXTS).shape == (len(TEXTS), 16)
    assert bag.transform([]).shape == (0, 32)
    # Similar texts are nearer than unrelated ones.
    a, b, c = bag.transform(["refund my money", "refund the money please", "my password reset fails"])
    cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))
    assert cos(a, b) > cos(a, c)


def test_explain_html_is_a_standalone_page_without_script(bag):
    page = bag.explain_html(TEXTS)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    assert page.count('class="tok"') == sum(len(e.tokens) for e in bag.explain(TEXTS))
    # The text reads as written: stripping the markup gives every text back.
    body = html.unescape(re.sub(r"<[^>]+>", "", page.split('<p class="legend">')[1]))
    for text in TEXTS:
        assert text in body
    assert "rgba(22, 150, 60" in page and "rgba(210, 40, 40" in page


def test_int_labels_explain_by_classes_position():
    # The library orders label names as strings ("10" < "2"); classes_ keeps the ints
    # in numeric order, and explain's targets and target_index follow classes_.
    texts = ["pizza pasta", "goal match", "code bug"] * 20
    labels = [2, 10, 7] * 20
    clf = TextClassifier({"model": {"type": "bag"}, "training": {"epochs": 5}}).fit(texts, labels)
    assert list(clf.classes_) == [2, 7, 10]
    for position, label in enumerate(clf.classes_):
        e = clf.explain(["pizza goal code"], target=position)[0]
        assert e.target == label and e.target_index == position
        assert e.output == pytest.approx(float(clf.predict_proba(["pizza goal code"])[0, position]),
                                         rel=1e-4)
    predicted = clf.explain(["goal match"])[0]
    assert predicted.target == clf.predict(["goal match"])[0] == 10


@pytest.mark.parametrize("dtype", ["f16", "int8"])
def test_compact_models_explain_from_their_stored_weights(bag, lstm, dtype, tmp_path):
    # Format-3 files (f16/int8 weights) explain from those weights dequantized to f32:
    # the same tokens and offsets, complete integrated gradients, and an output that is
    # the compact model's own prediction (int8 products round a little differently).
    for name, clf in (("bag", bag), ("lstm", lstm)):
        path = tmp_path / f"{name}.{dtype}"
        clf.save(path, dtype=dtype)
        compact = TextClassifier.load(path, threads=1)
        assert compact.precision_ == dtype
        proba = compact.predict_proba(TEXTS)
        spans = [[t[:3] for t in e.tokens] for e in clf.explain(TEXTS)]
        explained = compact.explain(TEXTS)
        assert [[t[:3] for t in e.tokens] for e in explained] == spans
        for row, e in zip(proba, explained):
            assert abs(e.delta) <= 1e-3 * abs(e.output - e.reference_output) + 1e-6, (name, dtype, e)
            assert e.output == pytest.approx(float(row[e.target_index]), abs=2e-3 if dtype == "f16" else 5e-2)
        occluded = compact.explain(TEXTS, method="occlusion")
        assert all(math.isfinite(s) for e in occluded for _, _, _, s in e.tokens)
        assert compact.transform(TEXTS).shape == clf.transform(TEXTS).shape
        compact.close()


def test_a_differentially_private_model_explains_like_any_other():
    # DP changes training only; the model (hashed vocabulary, as DP requires) explains
    # as usual: offsets slice the text, integrated gradients are complete, occlusion runs.
    words = {"food": ["pizza", "pasta", "soup"], "sport": ["goal", "team", "match"]}
    texts = [f"we saw {words[k][i % 3]} today" for i in range(120) for k in sorted(words)]
    labels = [k for _ in range(120) for k in sorted(words)]
    clf = TextClassifier({"model": {"type": "bag", "embedding_dim": 16, "labels": sorted(words)},
                          "tokenizer": {"vocabulary": "hashed", "buckets": 2000, "word_ngrams": 1,
                                        "char_ngrams_min": 0, "char_ngrams_max": 0},
                          "training": {"epochs": 3, "batch_size": 16, "threads": 1, "optimizer": "sgd",
                                       "learning_rate": 0.5, "lr_schedule": "constant",
                                       "privacy": {"max_grad_norm": 1.0, "delta": 1e-5, "target_epsilon": 5}}})
    clf.fit(texts, labels)
    assert clf.privacy_ is not None
    sample = ["We saw PIZZA today", "goal!"]
    for text, e in zip(sample, clf.explain(sample)):
        assert_spans_slice(text, e)
        assert abs(e.delta) <= 1e-3 * abs(e.output - e.reference_output) + 1e-6
    e = clf.explain(["we saw pizza"], method="occlusion")[0]
    assert len(e.tokens) == 3 and all(math.isfinite(s) for _, _, _, s in e.tokens)


def test_cnn_and_stacked_bidirectional_lstm_in_every_task():
    # The Swift tests check completeness per encoder on random weights; here trained CNN
    # (multi-label, regression) and 2-layer bidirectional LSTM models through the C ABI.
    texts, labels = zip(*rows())
    texts = list(texts)
    tags = [[y, "any"] if i % 2 else [y] for i, y in enumerate(labels)]
    lengths = [float(len(t)) for t in texts]
    cnn = {"type": "cnn", "embedding_dim": 16, "filters": 8, "kernel_sizes": [2, 3]}
    bilstm = {"type": "lstm", "embedding_dim": 8, "hidden_dim": 8, "layers": 2, "bidirectional": True,
              "pooling": "mean"}
    for model, steps, bar in ((cnn, 300, 0.05), (bilstm, 50, 1e-3)):
        fitted = [TextClassifier({"model": dict(model), "training": {"epochs": 2}}).fit(texts, labels),
                  TextClassifier({"model": {**model, "task": "multi_label"}, "training": {"epochs": 2}}).fit(texts, tags),
                  TextRegressor({"model": dict(model), "training": {"epochs": 2}}).fit(texts, lengths)]
        for est in fitted:
            explained = est.explain(TEXTS, steps=steps)
            gaps = [abs(e.delta) / max(abs(e.output - e.reference_output), 1e-6) for e in explained if e.tokens]
            # CNN: ReLU + max-pooling converge slowly (the 5% at 300 steps).
            assert sum(g <= bar for g in gaps) >= len(gaps) - (1 if model is cnn else 0), (model["type"], gaps)
            for text, e in zip(TEXTS, explained):
                assert_spans_slice(text, e)
            assert est.transform(TEXTS).shape[0] == len(TEXTS)
