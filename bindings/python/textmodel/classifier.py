"""scikit-learn style text models on top of libtextmodel: TextClassifier (single- and
multi-label) and TextRegressor."""

import json
import math
import os
import sys

from . import _lib


class _TextModel:
    """What every libtextmodel model shares: the native handle, config, training from
    memory or files, evaluation, saving and loading. See :class:`TextClassifier` and
    :class:`TextRegressor`."""

    #: The model.task values this class serves.
    _tasks = ()

    def __init__(self, config=None, threads=0):
        self._model = _lib.Model.new(self._config_json(config))
        self.threads = threads
        self._reset()

    @classmethod
    def _config_json(cls, config):
        return _config_json(config)

    def _reset(self):
        self.history_ = []
        self.report_ = None
        self.cancelled_ = False

    @classmethod
    def load(cls, path, threads=0):
        """Load a model saved by :meth:`save`; ``threads`` as in the constructor.

        Raises FileError if the file cannot be read, ModelFormatError if it is not a
        valid libtextmodel model file, and TypeError if it holds the other kind of
        model (a regressor loaded as a classifier or the reverse).
        """
        model = _lib.Model.load(path)
        task = model.task()
        if task not in cls._tasks:
            model.close()
            other = "TextRegressor" if task == "regression" else "TextClassifier"
            raise TypeError(f"{path} holds a {task} model: load it with {other}.load")
        return cls._from_native(model, threads)

    @classmethod
    def _from_native(cls, native_model, threads=0):
        """A fitted estimator around a trained ``_lib.Model`` (which it then owns);
        TypeError if the model's task is not one this class serves."""
        task = native_model.task()
        if task not in cls._tasks:
            raise TypeError(f"a {task} model does not fit {cls.__name__}")
        self = cls.__new__(cls)
        self._model = native_model
        self.threads = threads
        self._reset()
        return self

    @property
    def threads(self):
        """Threads per prediction or evaluation call; 0 = every core."""
        return self._model.threads()

    @threads.setter
    def threads(self, value):
        # InvalidArgumentError outside 0 ... 1024; TypeError for a non-int.
        self._model.set_threads(value)

    def save(self, path):
        """Save the trained model to one file, atomically replacing ``path``."""
        self._model.save(path)

    def close(self):
        """Release the native model. Further calls raise ValueError."""
        self._model.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------- training

    def _fit(self, texts, labels, validation, progress, verbose):
        valid_texts = valid_labels = None
        if validation is not None:
            valid_texts, valid_labels = validation
            valid_labels = self._encode_labels(valid_labels)
        with _Progress(progress, verbose) as handler:
            result = self._model.train(texts, self._encode_labels(labels), valid_texts,
                                       valid_labels, handler)
        return self._finish(*result)

    def fit_files(self, train_path, valid_path=None, progress=None, verbose=False):
        """Train from a CSV, fastText or JSON Lines file (see the config's "data"
        section). ``progress`` and ``verbose`` are as in :meth:`fit`. Returns self.
        """
        with _Progress(progress, verbose) as handler:
            result = self._model.train_files(train_path, valid_path, handler)
        return self._finish(*result)

    def _finish(self, report_json, cancelled):
        self.report_ = json.loads(report_json) if report_json else {}
        self.history_ = list(self.report_.get("epochs", []))
        self.cancelled_ = cancelled
        return self

    # ------------------------------------------------------------ inspection

    @property
    def is_fitted(self):
        """True once the model has weights (trained or loaded)."""
        return self._model.is_trained()

    @property
    def task_(self):
        """The model's task: "single_label", "multi_label" or "regression"."""
        return self._model.task()

    @property
    def config_(self):
        """The resolved config, every default filled in."""
        return json.loads(self._model.config_json())

    @property
    def vocab_size_(self):
        """Vocabulary entries, ``<pad>`` and ``<unk>`` included; 0 before training."""
        return self._model.vocab_size()

    # ------------------------------------------------------------ evaluation

    def evaluate(self, texts, labels):
        """Metrics on labelled texts as a dict (its keys depend on the task; see
        docs/config.md, "Tasks", and :meth:`TextClassifier.evaluate`)."""
        return json.loads(self._model.evaluate(texts, self._encode_labels(labels)))

    def evaluate_file(self, path):
        """Like :meth:`evaluate`, reading a labelled CSV, fastText or JSON Lines file."""
        return json.loads(self._model.evaluate_file(path))


class TextClassifier(_TextModel):
    """A text classifier trained and run by libtextmodel: single-label (each text has
    one label) or multi-label (each text has any set of labels).

    Args:
        config: None for the defaults, a dict, or the path of a JSON file, with any of
            the sections "tokenizer", "model", "training" and "data" (docs/config.md).
            The config is checked at once: a bad one raises :class:`ConfigError`
            naming the key path. ``model.task`` chooses single- or multi-label; when
            the config leaves it unset, :meth:`fit` with a list of labels per text
            makes the model multi-label.
        threads: threads each predict, predict_proba, score or evaluate call may use
            (tokenising too): 0 = every core (the default), 1 = the calling thread.
            Results do not depend on it. Training uses the config's
            ``training.threads`` instead. Readable and settable as :attr:`threads`.

    Attributes set by :meth:`fit` and :meth:`fit_files`:
        history_: one dict per completed epoch (the report's "epochs" array): epoch,
            train_loss, train_accuracy, valid_loss, valid_accuracy, valid_macro_f1,
            seconds (None where they do not apply).
        report_: the whole training report.
        cancelled_: True if the progress callback stopped training early.

    The native model is released by :meth:`close`, by leaving a ``with`` block, or
    when the object is garbage-collected. Prediction and evaluation may run from many
    threads at once; do not close the model while another thread uses it.
    """

    _tasks = ("single_label", "multi_label")

    def __init__(self, config=None, threads=0):
        text = _config_json(config)
        self._task_given = _task_of(text) is not None
        if _task_of(text) == "regression":
            raise ValueError('model.task "regression" needs TextRegressor, not TextClassifier')
        self._config_text = text
        self._model = _lib.Model.new(text)
        self.threads = threads
        self._reset()

    @classmethod
    def _from_native(cls, native_model, threads=0):
        self = super()._from_native(native_model, threads)
        self._task_given = True
        self._config_text = None
        return self

    def __repr__(self):
        if self._model.closed:
            return "TextClassifier(<closed>)"
        return (f"TextClassifier(task={self.task_!r}, classes={self.classes_!r}, "
                f"trained={self.is_fitted})")

    def fit(self, texts, labels, validation=None, progress=None, verbose=False):
        """Train from memory, from scratch. Returns self.

        Args:
            texts: sequence of str.
            labels: one per text: a label (non-strings are converted with ``str``, so
                ``classes_`` and :meth:`predict` give strings), or for a multi-label
                model a list (tuple, set) of labels. Lists make a model whose config
                did not set ``model.task`` multi-label.
            validation: optional ``(texts, labels)`` evaluated after every epoch.
            progress: optional callable receiving a dict per progress report (see
                :func:`textmodel._lib.progress_dict`); returning True stops training,
                keeping the weights learned so far, and sets ``cancelled_``.
                An exception it raises stops training and is re-raised here.
            verbose: print a one-line progress display to stderr.
        """
        if isinstance(labels, (str, bytes)):
            raise TypeError("labels must be a sequence, not a single string")
        labels = list(labels)
        if any(_is_label_set(y) for y in labels) and self.task_ == "single_label":
            if self._task_given:
                raise ValueError('lists of labels need model.task "multi_label"; '
                                 'this model is "single_label"')
            self._become_multi_label()
        return self._fit(texts, labels, validation, progress, verbose)

    def _become_multi_label(self):
        config = json.loads(self._config_text) if self._config_text else {}
        config.setdefault("model", {})["task"] = "multi_label"
        model = _lib.Model.new(json.dumps(config))
        model.set_threads(self.threads)
        self._model.close()
        self._model = model

    def _encode_labels(self, labels):
        if self.task_ != "multi_label":
            return _labels(labels)
        separator = self.config_["data"]["label_separator"]
        return [_join_labels(y, separator) for y in _sequence(labels)]

    # ------------------------------------------------------------ inspection

    @property
    def classes_(self):
        """Label names in the library's order (sorted by UTF-8 bytes)."""
        return self._model.labels()

    @property
    def threshold_(self):
        """Multi-label: the probability at which a label is predicted."""
        return self.config_["model"]["threshold"]

    # ------------------------------------------------------------- inference

    def predict(self, texts):
        """Single-label: the most probable label of each text, as a list of str.
        Multi-label: for each text the list of labels whose probability is at least
        ``threshold_`` (possibly empty), in ``classes_`` order."""
        if self.task_ == "multi_label":
            probs = self.predict_proba(texts)
            classes, threshold = self.classes_, self.threshold_
            return [[classes[j] for j in range(len(classes)) if row[j] >= threshold]
                    for row in probs]
        indices, _ = self._model.predict(texts, 1)
        classes = self.classes_
        return [classes[i] for i in indices[:, 0]]

    def predict_proba(self, texts):
        """Probabilities: float32 array (n_texts, n_classes), columns in ``classes_``
        order. Single-label rows sum to 1; multi-label entries are each label's own
        probability."""
        return self._model.predict_proba(texts)

    def predict_top_k(self, texts, k):
        """The k most probable classes per text, most probable first.

        Returns ``(indices, probs)``: int32 and float32 arrays of shape (n_texts, k);
        indices point into ``classes_``.
        """
        return self._model.predict(texts, k)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, texts, labels):
        """Metrics on labelled texts as a dict.

        Single-label: accuracy, loss, macro/weighted F1, per_class,
        confusion_matrix (rows true, columns predicted, in "labels" order), ...
        Multi-label: accuracy (= subset_accuracy), hamming_loss, micro_/macro_
        precision/recall/f1, per_class, precision_at_k, recall_at_k, ...
        """
        return super().evaluate(texts, labels)

    def score(self, texts, labels):
        """Accuracy on labelled texts (multi-label: subset accuracy)."""
        return self.evaluate(texts, labels)["accuracy"]


class TextRegressor(_TextModel):
    """A model that predicts a number for each text (``model.task`` "regression":
    one linear output trained on mean squared error), trained and run by
    libtextmodel. The same config sections, encoders and training options as
    :class:`TextClassifier`; targets may have any scale (they are standardised for
    training and predictions are mapped back).

    Args:
        config: None for the defaults, a dict, or the path of a JSON file;
            ``model.task`` is set to "regression" (any other task is an error).
        threads: as in :class:`TextClassifier`.
    """

    _tasks = ("regression",)

    @classmethod
    def _config_json(cls, config):
        text = _config_json(config)
        task = _task_of(text)
        if task not in (None, "regression"):
            raise ValueError(f'TextRegressor needs model.task "regression", not {task!r}')
        parsed = json.loads(text) if text and text.strip() else {}
        if not isinstance(parsed, dict):
            return text  # the library names the problem
        model = parsed.setdefault("model", {})
        if isinstance(model, dict):
            model["task"] = "regression"
        return json.dumps(parsed)

    def __repr__(self):
        if self._model.closed:
            return "TextRegressor(<closed>)"
        return f"TextRegressor(trained={self.is_fitted})"

    def fit(self, texts, y, validation=None, progress=None, verbose=False):
        """Train from memory, from scratch: ``y`` holds one number per text.
        ``validation``, ``progress`` and ``verbose`` are as in
        :meth:`TextClassifier.fit`. Returns self."""
        return self._fit(texts, y, validation, progress, verbose)

    def _encode_labels(self, values):
        return [_number(v) for v in _sequence(values)]

    def predict(self, texts):
        """Predicted values: float32 array (n_texts,), in the targets' units."""
        return self._model.predict_values(texts)

    def evaluate(self, texts, y):
        """Metrics as a dict: mse (= loss), rmse, mae, r2, mean_target, examples."""
        return super().evaluate(texts, y)

    def score(self, texts, y):
        """R² on labelled texts (1 is perfect, 0 is predicting the mean)."""
        return self.evaluate(texts, y)["r2"]


# ----------------------------------------------------------------- helpers


def _config_json(config):
    """Config JSON text for ``tm_model_new`` from None, a dict or a file path."""
    if config is None or isinstance(config, dict):
        return None if config is None else json.dumps(config)
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            return f.read()
    raise TypeError(f"config must be None, a dict or a path, not {type(config).__name__}")


def _task_of(config_text):
    """model.task of a config's JSON text, or None when it does not say (or is not
    JSON at all: the library reports that)."""
    try:
        config = json.loads(config_text) if config_text else None
    except ValueError:
        return None
    model = config.get("model") if isinstance(config, dict) else None
    return model.get("task") if isinstance(model, dict) else None


def _is_label_set(y):
    return isinstance(y, (list, tuple, set, frozenset))


def _sequence(values):
    if isinstance(values, (str, bytes)):
        raise TypeError("labels must be a sequence, not a single string")
    return list(values)


def _join_labels(y, separator):
    """One text's labels as the library's label field: joined by the separator."""
    if y is None or isinstance(y, (str, bytes)):
        return y  # already a field ("a|b"); None is skipped by the library
    if not _is_label_set(y):
        return str(y)
    labels = sorted(str(v) for v in y) if isinstance(y, (set, frozenset)) else [str(v) for v in y]
    for label in labels:
        if separator in label:
            raise ValueError(f"the label {label!r} contains data.label_separator {separator!r}")
    return separator.join(labels) if labels else None


def _number(v):
    """A regression target as text the library parses; None is skipped."""
    if v is None:
        return None
    if isinstance(v, (str, bytes)):
        return v
    return repr(float(v))


def _labels(labels):
    """Labels as str (None stays None: the library skips that row)."""
    if isinstance(labels, (str, bytes)):
        raise TypeError("labels must be a sequence, not a single string")
    return [y if y is None or isinstance(y, (str, bytes)) else str(y) for y in labels]


class _Progress:
    """The progress handler for one training run: the user's callback plus, if
    ``verbose``, a one-line display on stderr. ``with`` yields the callable to pass
    to the library (or None) and ends an unfinished display line on exit."""

    def __init__(self, callback, verbose, stream=None):
        self.callback = callback
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self.open_line = False

    def __enter__(self):
        return self if (self.callback is not None or self.verbose) else None

    def __exit__(self, *exc_info):
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()

    def __call__(self, p):
        if self.verbose:
            self.show(p)
        return self.callback(p) if self.callback is not None else False

    def show(self, p):
        head = f"epoch {p['epoch']}/{p['epochs']}"
        if p["kind"] == "epoch":
            line = (f"{head}  train_loss {_num(p['train_loss'])}"
                    f"  train_acc {_num(p['train_accuracy'])}"
                    f"  valid_loss {_num(p['valid_loss'])}"
                    f"  valid_acc {_num(p['valid_accuracy'])}"
                    f"  {_num(p['elapsed_seconds'], '.1f')}s")
        else:
            line = (f"{head}  step {p['step']}/{p['total_steps']}"
                    f"  loss {_num(p['running_loss'])}"
                    f"  {_num(p['examples_per_sec'], ',.0f')} ex/s"
                    f"  ETA {_duration(p['eta_seconds'])}")
        end = "\n" if p["kind"] == "epoch" else ""
        self.stream.write(f"\r{line:<79}{end}")
        self.stream.flush()
        self.open_line = not end


def _num(x, fmt=".4f"):
    return "-" if x is None or math.isnan(x) else format(x, fmt)


def _duration(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "-"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d}"
