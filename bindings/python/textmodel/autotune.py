"""Autotune: search model types and hyper-parameters for the model that scores best on
validation data (the library's ``tm_autotune``; the search space is in docs/autotune.md)."""

import json
import sys

from . import _lib
from .classifier import (TextClassifier, TextRegressor, _is_label_set, _join_labels,
                         _label_name, _Labels, _number, _sequence)

_REGRESSION_METRICS = ("rmse", "mae", "mse", "r2")


def autotune(texts, labels, validation, metric=None, time_budget=300, max_trials=None,
             max_model_mb=None, seed=1, threads=0, model_types=None, config=None,
             task=None, progress=None, verbose=False):
    """Train many configs and return the one that scores best on ``validation``, fitted.

    Trial 0 is the default model; the others are drawn at random (from ``seed``) over
    model types and their hyper-parameters. Each trial trains on ``texts``/``labels``
    and is measured on ``validation``; the returned estimator holds the best trial's own
    trained weights.

    Args:
        texts, labels: the training data, as for :meth:`TextClassifier.fit` (lists of
            labels per text for multi-label) or :meth:`TextRegressor.fit` (numbers).
        validation: ``(texts, labels)`` the trials are ranked on (required).
        metric: "accuracy" (default for classifiers), "macro_f1", "f1:LABEL" (one
            label's F1), or for regression "rmse" (its default), "mae", "mse", "r2".
        time_budget: seconds (> 0); no trial starts after it, one estimated to need
            more than the time left is skipped, and the one running is cut and
            discarded. Where it cuts depends on the machine's speed.
        max_trials: trials at most (None: only the time budget). With ``max_trials``
            and a budget that does not end first, the same ``seed`` gives the same
            trials, configs and scores (same machine and ``threads``).
        max_model_mb: largest model file in MB (1,000,000 bytes), or None. The returned
            model's :meth:`save` writes at most that many bytes.
        seed: seeds the draws and every trial's ``training.seed``.
        threads: ``training.threads`` of every trial (0 = every core), but 1 for
            bag trials that train Hogwild, whose threads race (unless ``config``
            names ``training.hogwild`` or ``training.threads``); also the returned
            estimator's prediction threads.
        model_types: the model types to draw from (default ["bag", "cnn"]; "gru",
            "lstm", "rnn" and "transformer" train far slower).
        config: config sections every trial keeps (a dict), e.g.
            ``{"training": {"epochs": 5}}`` or the "data" section.
        task: "single_label", "multi_label" or "regression"; by default regression for
            a regression metric, multi-label when labels are lists, else single-label.
        progress: optional callable receiving each trial's row (a dict, as in
            ``trials_``) when it ends; returning True ends the search there.
        verbose: print one line per trial to stderr.

    Returns:
        A fitted :class:`TextClassifier` or :class:`TextRegressor` (by task) with
        ``trials_``: one dict per trial in the order they ran, with "trial", "status"
        ("ok", "skipped", "over_size", "failed", "cut"), "model_type", "config" (pass it
        to the estimator to retrain that trial: it scores the same), "metric",
        "seconds", "size" (model-file bytes), "estimated_size", "epochs", "message";
        and ``autotune_``: the whole table ("best_trial", "best_metric", "stopped_by",
        "options", ...).

    Raises:
        ConfigError for bad options (unknown metric, budget <= 0, a label the data
        lacks), ResourceError when ``max_model_mb`` cannot be met or no trial finished in
        time, DataError for unusable data, and what ``progress`` raises.
    """
    if validation is None:
        raise _lib.InvalidArgumentError(
            "autotune needs validation data to rank its trials: validation=(texts, labels)",
            _lib.TM_ERR_INVALID_ARGUMENT, "TM_ERR_INVALID_ARGUMENT")
    valid_texts, valid_labels = validation
    dtype = getattr(labels, "dtype", None)  # classes_ keeps the labels' numpy dtype
    labels, valid_labels = _sequence(labels), _sequence(valid_labels)
    if task is None:
        if metric in _REGRESSION_METRICS:
            task = "regression"
        elif any(_is_label_set(y) for y in labels):
            task = "multi_label"
        else:
            task = "single_label"
    separator = ((config or {}).get("data") or {}).get("label_separator", "|")
    codec = None if task == "regression" else _Labels(labels, task == "multi_label", dtype)
    encode = {
        "regression": lambda ys: [_number(v) for v in ys],
        "multi_label": lambda ys: [_join_labels(y, separator) for y in ys],
    }.get(task, lambda ys: [y if y is None or isinstance(y, bytes) else _label_name(y)
                            for y in ys])

    options = {"task": task, "time_budget": time_budget, "seed": seed, "threads": threads}
    for key, value in (("metric", metric), ("max_trials", max_trials),
                       ("max_model_mb", max_model_mb), ("model_types", model_types),
                       ("config", config)):
        if value is not None:
            options[key] = list(value) if key == "model_types" else value

    def on_trial(row_json):
        row = json.loads(row_json)
        if verbose:
            _show(row)
        return bool(progress(row)) if progress is not None else False

    wants_rows = progress is not None or verbose
    native, table_json = _lib.autotune(json.dumps(options), texts, encode(labels), valid_texts,
                                       encode(valid_labels), on_trial if wants_rows else None)
    cls = TextRegressor if task == "regression" else TextClassifier
    estimator = cls._from_native(native, threads)
    if codec is not None:
        estimator._set_fitted_labels(codec)  # classes_ in the type the labels came in
    estimator.autotune_ = json.loads(table_json)
    estimator.trials_ = estimator.autotune_["trials"]
    return estimator


def _show(row, stream=None):
    stream = stream or sys.stderr
    metric = "-" if row["metric"] is None else f"{row['metric']:.4f}"
    size = "-" if row["size"] is None else f"{row['size'] / 1e6:.2f} MB"
    stream.write(f"trial {row['trial']:3d}  {row['status']:<9} {row['model_type']:<11} "
                 f"metric {metric}  {row['seconds']:.1f}s  {size}"
                 f"{'  ' + row['message'] if row['message'] else ''}\n")
    stream.flush()
