"""Plots of training and evaluation as PNG or SVG files, over matplotlib (the optional
extra ``textmodel[plot]``; the rest of textmodel does not need it).

    import textmodel.plot
    textmodel.plot.history(clf, "curves.png")                   # loss and accuracy per epoch
    textmodel.plot.confusion_matrix(clf.evaluate(texts, labels), "confusion.svg")

The format follows the file name's extension (``.png`` or ``.svg``). The figures are
drawn without pyplot (no window, no global state), so they work on servers and from
several threads.
"""

import math
import os

try:
    import matplotlib
    from matplotlib.figure import Figure
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError("textmodel.plot needs matplotlib: pip install 'textmodel[plot]' "
                      "(or pip install matplotlib)") from e

#: File extensions and the matplotlib format each writes.
FORMATS = {".png": "png", ".svg": "svg"}

TRAIN_COLOR, VALID_COLOR = "#1f77b4", "#d62728"


def history(model, path, title=None):
    """Training curves: loss (left) and accuracy (right) per epoch, for the training
    passes and, when the fit had validation data, the validation set.

    Args:
        model: a fitted TextClassifier or TextRegressor (its ``history_``), or a
            history list itself (one dict per epoch with "epoch", "train_loss",
            "valid_loss", "train_accuracy", "valid_accuracy"; None or NaN where a
            value does not apply). A regressor has no accuracy: one panel.
        path: the file to write, ``.png`` or ``.svg``.
        title: the figure's title (default: "Training history").

    Returns ``path``. ValueError for another extension or an empty history (a model
    loaded from a file has none).
    """
    fmt = _format(path)
    epochs = list(getattr(model, "history_", model))
    if not epochs:
        raise ValueError("the model has no training history (history_ is empty: models "
                         "loaded from a file keep none); fit it first")
    x = [e.get("epoch", i + 1) for i, e in enumerate(epochs)]
    panels = [("loss", "Loss"), ("accuracy", "Accuracy")]
    panels = [(key, label) for key, label in panels
              if _has_values(epochs, f"train_{key}") or _has_values(epochs, f"valid_{key}")]
    figure = Figure(figsize=(5.2 * len(panels), 4.0), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label) in zip(axes, panels):
        for split, color, name in (("train", TRAIN_COLOR, "training"),
                                   ("valid", VALID_COLOR, "validation")):
            values = [_number(e.get(f"{split}_{key}")) for e in epochs]
            if any(not math.isnan(v) for v in values):
                ax.plot(x, values, marker="o", markersize=4, color=color, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label.lower())
        ax.set_title(label)
        if key == "accuracy":
            ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.02)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
        # Loss falls and accuracy rises: the corner the curves leave free.
        ax.legend(loc="upper right" if key == "loss" else "lower right")
    figure.suptitle(title or "Training history")
    _save(figure, path, fmt)
    return path


def confusion_matrix(metrics, path, title=None, normalize=True):
    """The confusion matrix of a single-label evaluation: rows are the true labels,
    columns the predicted ones, each cell annotated with its count.

    Args:
        metrics: the dict :meth:`TextClassifier.evaluate` (or ``evaluate_file``)
            returns for a single-label model ("labels" and "confusion_matrix").
        path: the file to write, ``.png`` or ``.svg``.
        title: the figure's title (default: "Confusion matrix" and the accuracy).
        normalize: colour each cell by its share of the row (the recall of that true
            label), so large and small classes read alike; False colours by count.

    Returns ``path``. ValueError for another extension or metrics without a confusion
    matrix (multi-label and regression evaluations have none).
    """
    fmt = _format(path)
    if not isinstance(metrics, dict) or "confusion_matrix" not in metrics:
        task = metrics.get("task") if isinstance(metrics, dict) else type(metrics).__name__
        raise ValueError(f"these metrics have no confusion matrix (task {task!r}): pass the "
                         "dict evaluate() returns for a single-label classifier")
    labels = [str(label) for label in metrics["labels"]]
    counts = [list(map(int, row)) for row in metrics["confusion_matrix"]]
    n = len(labels)
    if n == 0 or len(counts) != n or any(len(row) != n for row in counts):
        raise ValueError(f"the confusion matrix is not {n} x {n} (one row and column per label)")
    totals = [sum(row) for row in counts]
    shares = [[c / t if t else 0.0 for c in row] for row, t in zip(counts, totals)]
    colours = shares if normalize else counts
    top = 1.0 if normalize else max(max(row) for row in counts) or 1

    side = min(max(4.0, 0.6 * n + 2.5), 24.0)
    figure = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(colours, cmap="Blues", vmin=0, vmax=top)
    bar = figure.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("share of the true label" if normalize else "texts")
    ax.set_xticks(range(n), labels, rotation=45 if n > 3 or max(map(len, labels)) > 8 else 0,
                  ha="right" if n > 3 else "center", rotation_mode="anchor")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if n <= 30:  # beyond that the numbers would not fit their cells
        size = 10 if n <= 10 else 7
        for i in range(n):
            for j in range(n):
                dark = colours[i][j] > 0.6 * top
                ax.text(j, i, str(counts[i][j]), ha="center", va="center", fontsize=size,
                        color="white" if dark else "black")
    accuracy = metrics.get("accuracy")
    if title is None:
        title = "Confusion matrix"
        if isinstance(accuracy, (int, float)):
            title += f" (accuracy {accuracy:.3f})"
    ax.set_title(title)
    _save(figure, path, fmt)
    return path


def _save(figure, path, fmt):
    # SVG text stays text (selectable, searchable, smaller) instead of glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "textmodel"}):
        figure.savefig(path, format=fmt, dpi=120)


def _format(path):
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in FORMATS:
        raise ValueError(f"cannot tell the image format of {os.fspath(path)!r}: name the file "
                         f"{' or '.join(FORMATS)}")
    return FORMATS[extension]


def _number(value):
    return math.nan if value is None else float(value)


def _has_values(epochs, key):
    return any(not math.isnan(_number(e.get(key))) for e in epochs)
