"""A scikit-learn style text classifier on top of libtextmodel."""

import json
import math
import os
import sys

from . import _lib


class TextClassifier:
    """An LSTM text classifier trained and run by libtextmodel.

    Args:
        config: None for the defaults, a dict, or the path of a JSON file, with any of
            the sections "tokenizer", "model", "training" and "data" (docs/config.md).
            The config is checked at once: a bad one raises :class:`ConfigError`
            naming the key path.
        threads: threads each predict, predict_proba, score or evaluate call may use
            (tokenising too): 0 = every core (the default), 1 = the calling thread.
            Results do not depend on it. Training uses the config's
            ``training.threads`` instead. Readable and settable as :attr:`threads`.

    Attributes set by :meth:`fit` and :meth:`fit_files`:
        history_: one dict per completed epoch (the report's "epochs" array).
        report_: the whole training report.
        cancelled_: True if the progress callback stopped training early.

    The native model is released by :meth:`close`, by leaving a ``with`` block, or
    when the object is garbage-collected. Prediction and evaluation may run from many
    threads at once; do not close the model while another thread uses it.
    """

    def __init__(self, config=None, threads=0):
        self._model = _lib.Model.new(_config_json(config))
        self.threads = threads
        self._reset()

    def _reset(self):
        self.history_ = []
        self.report_ = None
        self.cancelled_ = False

    @classmethod
    def load(cls, path, threads=0):
        """Load a model saved by :meth:`save`; ``threads`` as in the constructor.

        Raises FileError if the file cannot be read and ModelFormatError if it is not
        a valid libtextmodel model file.
        """
        self = cls.__new__(cls)
        self._model = _lib.Model.load(path)
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

    def __repr__(self):
        if self._model.closed:
            return "TextClassifier(<closed>)"
        return f"TextClassifier(classes={self.classes_!r}, trained={self.is_fitted})"

    # ------------------------------------------------------------- training

    def fit(self, texts, labels, validation=None, progress=None, verbose=False):
        """Train from memory, from scratch. Returns self.

        Args:
            texts: sequence of str.
            labels: sequence of labels, one per text; non-strings are converted with
                ``str`` (so ``classes_`` and :meth:`predict` give strings).
            validation: optional ``(texts, labels)`` evaluated after every epoch.
            progress: optional callable receiving a dict per progress report (see
                :func:`textmodel._lib.progress_dict`); returning True stops training,
                keeping the weights learned so far, and sets ``cancelled_``.
                An exception it raises stops training and is re-raised here.
            verbose: print a one-line progress display to stderr.
        """
        valid_texts = valid_labels = None
        if validation is not None:
            valid_texts, valid_labels = validation
            valid_labels = _labels(valid_labels)
        with _Progress(progress, verbose) as handler:
            result = self._model.train(texts, _labels(labels), valid_texts, valid_labels,
                                       handler)
        return self._finish(*result)

    def fit_files(self, train_path, valid_path=None, progress=None, verbose=False):
        """Train from a CSV or fastText file (see the config's "data" section).

        ``progress`` and ``verbose`` are as in :meth:`fit`. Returns self.
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
    def classes_(self):
        """Label names in the library's order (sorted by UTF-8 bytes)."""
        return self._model.labels()

    @property
    def config_(self):
        """The resolved config, every default filled in."""
        return json.loads(self._model.config_json())

    @property
    def vocab_size_(self):
        """Vocabulary entries, ``<pad>`` and ``<unk>`` included; 0 before training."""
        return self._model.vocab_size()

    # ------------------------------------------------------------- inference

    def predict(self, texts):
        """The most probable label of each text, as a list of str."""
        indices, _ = self._model.predict(texts, 1)
        classes = self.classes_
        return [classes[i] for i in indices[:, 0]]

    def predict_proba(self, texts):
        """Class probabilities: float32 array (n_texts, n_classes), columns in
        ``classes_`` order, rows summing to 1."""
        return self._model.predict_proba(texts)

    def predict_top_k(self, texts, k):
        """The k most probable classes per text, most probable first.

        Returns ``(indices, probs)``: int32 and float32 arrays of shape (n_texts, k);
        indices point into ``classes_``.
        """
        return self._model.predict(texts, k)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, texts, labels):
        """Metrics on labelled texts: accuracy, loss, macro/weighted F1, per_class,
        confusion_matrix (rows true, columns predicted, in "labels" order), ..."""
        return json.loads(self._model.evaluate(texts, _labels(labels)))

    def evaluate_file(self, path):
        """Like :meth:`evaluate`, reading a labelled CSV or fastText file."""
        return json.loads(self._model.evaluate_file(path))

    def score(self, texts, labels):
        """Accuracy on labelled texts."""
        return self.evaluate(texts, labels)["accuracy"]


# ----------------------------------------------------------------- helpers


def _config_json(config):
    """Config JSON text for ``tm_model_new`` from None, a dict or a file path."""
    if config is None or isinstance(config, dict):
        return None if config is None else json.dumps(config)
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            return f.read()
    raise TypeError(f"config must be None, a dict or a path, not {type(config).__name__}")


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
