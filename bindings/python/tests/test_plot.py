"""textmodel.plot: training curves and confusion matrices as PNG and SVG, the format
from the file's extension. SVG keeps its text as text, so the tests read what was
drawn: titles, axis names, labels, cell counts, which series are there."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import textmodel
import textmodel.plot as tplot
from textmodel import TextClassifier, TextRegressor

from test_classifier import TRAIN, VALID, make_confusing, tiny
from test_tasks import count_data, topic_data

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def clf():
    model = TextClassifier(tiny(epochs=4)).fit(*TRAIN, validation=VALID)
    yield model
    model.close()


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


def svg_text(path):
    text = Path(path).read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text, f"{path} is not an SVG"
    return text


def test_history_png_and_svg(clf, tmp_path):
    assert tplot.history(clf, tmp_path / "h.png") == tmp_path / "h.png"
    width, height = png_size(tmp_path / "h.png")
    assert width > height > 300  # two panels side by side
    text = svg_text(tplot.history(clf, tmp_path / "h.svg", title="My run"))
    for word in ("My run", "Loss", "Accuracy", "epoch", "training", "validation"):
        assert word in text, word
    # Upper-case extensions name the same formats.
    png_size(tplot.history(clf.history_, tmp_path / "H.PNG"))


def test_history_without_validation_or_accuracy(tmp_path):
    model = TextClassifier(tiny(epochs=2)).fit(*TRAIN)
    text = svg_text(tplot.history(model, tmp_path / "no_valid.svg"))
    assert "training" in text and "validation" not in text
    regressor = TextRegressor(tiny(epochs=2)).fit(*count_data(100, 1))
    text = svg_text(tplot.history(regressor, tmp_path / "regression.svg"))
    assert "Loss" in text and "Accuracy" not in text  # a regressor has no accuracy
    width, height = png_size(tplot.history(regressor, tmp_path / "regression.png"))
    assert width < 1.8 * height  # one panel


def test_confusion_matrix(clf, tmp_path):
    metrics = clf.evaluate(*make_confusing(150, 4))
    png_size(tplot.confusion_matrix(metrics, tmp_path / "cm.png"))
    text = svg_text(tplot.confusion_matrix(metrics, tmp_path / "cm.svg"))
    for word in ("food", "sports", "tech", "true label", "predicted label",
                 f"accuracy {metrics['accuracy']:.3f}", "share of the true label"):
        assert word in text, word
    for row in metrics["confusion_matrix"]:
        for count in row:
            assert f">{count}<" in text, count  # every cell's count is written
    text = svg_text(tplot.confusion_matrix({"labels": ["neg", "pos"],
                                            "confusion_matrix": [[50, 3], [7, 0]]},
                                           tmp_path / "counts.svg", normalize=False,
                                           title="Counts"))
    assert "Counts" in text and ">50<" in text and "texts" in text


def test_many_labels_are_not_annotated(tmp_path):
    labels = [f"label{i}" for i in range(31)]  # one more than the annotation limit
    matrix = [[5 if i == j else 1 for j in range(31)] for i in range(31)]
    path = tplot.confusion_matrix({"labels": labels, "confusion_matrix": matrix},
                                  tmp_path / "big.svg")
    text = svg_text(path)
    assert "label30" in text and ">5<" not in text


def test_errors(clf, tmp_path):
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        tplot.history(clf, tmp_path / "h.jpg")
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        tplot.confusion_matrix(clf.evaluate(*VALID), tmp_path / "cm")
    with pytest.raises(ValueError, match="no training history"):
        tplot.history([], tmp_path / "h.png")
    loaded_history = TextClassifier._from_native(
        textmodel._lib.Model.from_bytes(clf._model.to_bytes())).history_
    with pytest.raises(ValueError, match="no training history"):
        tplot.history(loaded_history, tmp_path / "h.png")
    tagger = TextClassifier(tiny(epochs=1)).fit(*topic_data(60, 1))
    with pytest.raises(ValueError, match="multi_label"):
        tplot.confusion_matrix(tagger.evaluate(*topic_data(20, 2)), tmp_path / "cm.png")
    with pytest.raises(ValueError, match="3 x 3"):
        tplot.confusion_matrix({"labels": ["a", "b", "c"], "confusion_matrix": [[1, 2]]},
                               tmp_path / "cm.png")
    assert not any(tmp_path.glob("cm*")) and not (tmp_path / "h.png").exists()


def test_textmodel_imports_without_matplotlib():
    root = Path(__file__).resolve().parents[1]
    script = ("import sys, textmodel\n"
              "print('matplotlib' in sys.modules)\n"
              "sys.modules['matplotlib'] = None; sys.modules['matplotlib.figure'] = None\n"
              "try:\n"
              "    textmodel.plot\n"
              "except ImportError as e:\n"
              "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(root)), timeout=60)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == "False"  # importing textmodel does not import matplotlib
    assert "textmodel[plot]" in second
