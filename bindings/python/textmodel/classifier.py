"""scikit-learn estimators on top of libtextmodel: TextClassifier (single- and
multi-label) and TextRegressor.

They follow scikit-learn's estimator contract without needing scikit-learn: the
constructor only stores its parameters (``config``, ``threads`` and any config key as
``section__key``, e.g. ``training__epochs=10``); :meth:`fit` builds the config, checks
it and creates the native model; ``get_params``/``set_params``, ``clone``, pipelines,
grid searches and cross-validation work; fitted attributes end with ``_``; a model
used before fit raises :class:`textmodel.NotFittedError`. Fitted models pickle (also
``copy.deepcopy`` and ``joblib.dump``) through the library's model bytes.
"""

import json
import math
import os
import sys
import threading

import numpy as np

from . import _estimator, _lib
from . import explanation as _explanation
from ._config_file import read_config_file

#: Version of the pickled state (``__getstate__``); newer versions are refused.
_PICKLE_VERSION = 1


class _TextModel:
    """What TextClassifier and TextRegressor share: parameters, the native model,
    training from memory or files, evaluation, saving, loading and pickling."""

    #: The model.task values this class serves.
    _tasks = ()
    _estimator_type = None
    #: model.task when the config leaves it unset (None: the library's default).
    _default_task = None

    def __init__(self, config=None, threads=0, **params):
        # Stored as given and checked by fit (scikit-learn's rule: clone, set_params and
        # grid searches build estimators from parameters that fit validates).
        self.config = config
        self.threads = threads
        self._params = params
        self._model = None

    # ------------------------------------------------------------ parameters

    def get_params(self, deep=True):
        """The estimator's parameters: ``config``, ``threads`` and the config keys set
        as ``section__key``; with ``deep`` (the default) every config key the library
        has, None meaning "the library's default" (which may depend on model.type)."""
        params = {"config": self.config, "threads": self.threads}
        if deep:
            params.update(dict.fromkeys(_estimator.config_keys()))
        params.update(self._params)
        return params

    def set_params(self, **params):
        """Set parameters by name (``threads``, ``config``, ``model__type``,
        ``training__epochs``, ...; None restores a key's default). They take effect at
        the next :meth:`fit`, except ``threads``, which applies at once. Returns self;
        ValueError for a name that is no parameter."""
        _estimator.check_param_names(params, self)
        for name, value in params.items():
            if name in _estimator.BASE_PARAMS:
                setattr(self, name, value)
            else:
                self._params[name] = value
        return self

    def resolved_config(self):
        """The config :meth:`fit` would use, every default filled in, as a dict.
        Raises ConfigError (naming the key) if the parameters make a bad config."""
        model = _lib.Model.new(self._config_text())
        try:
            return json.loads(model.config_json())
        finally:
            model.close()

    def _config_text(self, task=None):
        """The config JSON for the native model: ``config`` with the ``section__key``
        parameters applied and, if the config leaves model.task unset, ``task`` (or the
        class's own default task)."""
        _estimator.check_param_names(self._params, self)
        text = _estimator.apply_overrides(_config_json(self.config), self._params)
        text = _with_default_task(text, task or self._default_task)
        given = _task_of(text)
        if given is not None and given not in self._tasks:
            other = "TextRegressor" if given == "regression" else "TextClassifier"
            raise ValueError(f"model.task {given!r} needs {other}, not {type(self).__name__} "
                             f"(which serves {' and '.join(self._tasks)})")
        return text

    def __repr__(self):
        shown = []
        if self.config is not None:
            shown.append(f"config={self.config!r}")
        if self.threads != 0:
            shown.append(f"threads={self.threads!r}")
        shown += [f"{name}={value!r}" for name, value in self._params.items()]
        return f"{type(self).__name__}({', '.join(shown)})"

    # --------------------------------------------------------- scikit-learn

    def __sklearn_tags__(self):
        return _estimator.sklearn_tags(self._estimator_type)

    def _more_tags(self):
        return _estimator.more_tags()

    def __sklearn_is_fitted__(self):
        return self.is_fitted

    def __getattr__(self, name):
        # Only reached when normal lookup fails: a fitted attribute ("classes_",
        # "history_", ...) before fit is scikit-learn's NotFittedError (an AttributeError).
        if name.endswith("_") and not name.startswith("__"):
            raise _estimator.not_fitted(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ----------------------------------------------------------- native model

    @classmethod
    def _from_native(cls, native_model, threads=0):
        """A fitted estimator owning ``native_model`` (a trained ``_lib.Model``), whose
        ``config`` parameter is the model's resolved config; its ``classes_`` are the
        library's label strings. Called on _TextModel itself it picks the class from
        the model's task; on a subclass, TypeError if the model is of the other kind."""
        task = native_model.task()
        if cls is _TextModel:
            cls = TextRegressor if task == "regression" else TextClassifier
        if task not in cls._tasks:
            other = "TextRegressor" if task == "regression" else "TextClassifier"
            raise TypeError(f"the model is a {task} model: use {other}")
        if not native_model.is_trained():
            raise ValueError("the model is not trained")
        self = cls(json.loads(native_model.config_json()), threads=threads)
        self._adopt(native_model, None, None, False)
        return self

    @classmethod
    def load(cls, path, threads=0):
        """Load a model saved by :meth:`save`; ``threads`` as in the constructor.

        Raises FileError if the file cannot be read, ModelFormatError if it is not a
        valid libtextmodel model file, and TypeError if it holds the other kind of
        model (a regressor loaded as a classifier or the reverse). A model file keeps
        labels as strings: ``classes_`` of a loaded model are str (pickling keeps
        their types).
        """
        model = _lib.Model.load(path)
        task = model.task()
        if task not in cls._tasks:
            model.close()
            other = "TextRegressor" if task == "regression" else "TextClassifier"
            raise TypeError(f"{path} holds a {task} model: load it with {other}.load")
        return cls._from_native(model, threads)

    def _adopt(self, native, labels, report_json, cancelled):
        """Make ``native`` (trained) this estimator's model and set the fitted
        attributes; ``labels`` is the fit's :class:`_Labels` (None: library strings)."""
        # The previous native model is not closed here: another thread may still be
        # predicting with it; it is freed when the last reference to it goes.
        self._model = native
        self._threads_applied = None
        self._set_fitted_labels(labels)
        self.report_ = json.loads(report_json) if report_json else {}
        self.history_ = list(self.report_.get("epochs", []))
        self.cancelled_ = cancelled
        # training.privacy: the record kept in the model (None without privacy).
        self.privacy_ = json.loads(native.privacy_json())

    def _set_fitted_labels(self, labels):
        pass

    def _native(self, what=None):
        """The fitted native model, with ``threads`` applied; NotFittedError before fit."""
        model = self._model
        if model is None:
            raise _estimator.not_fitted(self, what)
        if self._threads_applied != self.threads:
            model.set_threads(self.threads)
            self._threads_applied = self.threads
        return model

    @property
    def is_fitted(self):
        """True once the model has weights (trained or loaded) and is not closed."""
        model = self._model
        return model is not None and not model.closed and model.is_trained()

    def save(self, path, dtype=None):
        """Save the trained model to one file, atomically replacing ``path``.

        ``dtype`` chooses how the weights are stored: "f32" (as trained), "f16" (half
        the size) or "int8" (about a quarter; the loaded model predicts with int8
        matrix products); None keeps the model's own precision (``precision_``). See
        docs/compact-models.md."""
        self._native("save").save(path, dtype)

    @property
    def precision_(self):
        """How the model's weights are stored: "f32" for a model trained here, else the
        dtype of the file it was loaded from ("f32", "f16" or "int8")."""
        return self._native("precision_").precision()

    def close(self):
        """Release the native model. Further calls raise ValueError. StateError from
        this model's own progress callback while it trains."""
        self._refuse_inside_own_training()
        if self._model is not None:
            self._model.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --------------------------------------------------------------- pickling

    def __getstate__(self):
        """The parameters and fitted attributes, with the native model as its model
        file's bytes (``tm_model_save_to_memory``)."""
        state = dict(self.__dict__)
        model = state.pop("_model", None)
        state.pop("_threads_applied", None)
        state.pop("_training_thread", None)
        state.pop("_labels_by_index_cache", None)
        state["_model_bytes"] = model.to_bytes() if model is not None else None
        state["_pickle_version"] = _PICKLE_VERSION
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_pickle_version", None)
        if version != _PICKLE_VERSION:
            raise ValueError(f"this pickle of a {type(self).__name__} has state version "
                             f"{version!r}; this textmodel reads version {_PICKLE_VERSION}")
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        self._model = _lib.Model.from_bytes(data) if data is not None else None
        self._threads_applied = None

    # ------------------------------------------------------------- training

    def _refuse_inside_own_training(self):
        if getattr(self, "_training_thread", None) == threading.get_ident():
            raise _lib.StateError("training is already running on this model: its progress "
                                  "callback cannot fit or close it; do that after fit returns",
                                  _lib.TM_ERR_STATE, "TM_ERR_STATE")

    def _train(self, config_text, call, labels, progress, verbose):
        """Create a native model from ``config_text``, train it with
        ``call(native, handler)`` and adopt it; on error the previous fit stays."""
        self._refuse_inside_own_training()
        native = _lib.Model.new(config_text)
        try:
            native.set_threads(self.threads)
            self._training_thread = threading.get_ident()
            try:
                with _Progress(progress, verbose) as handler:
                    report_json, cancelled = call(native, handler)
            finally:
                self._training_thread = None
        except BaseException:
            native.close()
            raise
        if cancelled and json.loads(report_json or "{}").get("cancelled_while_reading"):
            native.close()   # nothing was trained
            raise _lib.CancelledError(
                "fit was cancelled by its progress callback while the training file was read, "
                "before the first step: nothing was trained and the previous fit, if any, stays",
                _lib.TM_ERR_CANCELLED, "TM_ERR_CANCELLED")
        self._adopt(native, labels, report_json, cancelled)
        self._threads_applied = self.threads
        return self

    def fit_files(self, train_path, valid_path=None, progress=None, verbose=False):
        """Train from a CSV, fastText or JSON Lines file (see the config's "data"
        section). ``progress`` and ``verbose`` are as in :meth:`fit`. Returns self.
        ``classes_`` are the file's label strings. A regular file is read twice, a
        chunk at a time, rather than held in memory; the bag model keeps its
        encoded words in a temporary file in ``$TMPDIR`` (see ``tm_model_train_files``).
        While a regular file is read, ``progress`` also receives reports of kind
        "loading" (``bytes_read`` of ``bytes_total``, ``eta_seconds``); stopping on one
        raises :class:`CancelledError`, and the previous fit, if any, stays.
        """
        def train(native, handler):
            return native.train_files(train_path, valid_path, handler)

        return self._train(self._config_text(), train, None, progress, verbose)

    # ------------------------------------------------------------ inspection

    @property
    def task_(self):
        """The model's task: "single_label", "multi_label" or "regression"."""
        return self._native("task_").task()

    @property
    def config_(self):
        """The fitted model's resolved config, every default filled in."""
        return json.loads(self._native("config_").config_json())

    @property
    def vocab_size_(self):
        """Vocabulary entries, ``<pad>`` and ``<unk>`` included."""
        return self._native("vocab_size_").vocab_size()

    # ------------------------------------------------------------ evaluation

    def evaluate(self, texts, labels):
        """Metrics on labelled texts as a dict (its keys depend on the task; see
        docs/config.md, "Tasks", and :meth:`TextClassifier.evaluate`)."""
        model = self._native("evaluate")
        return json.loads(model.evaluate(_texts(texts), self._encode_labels(labels, model)))

    def evaluate_file(self, path):
        """Like :meth:`evaluate`, reading a labelled CSV, fastText or JSON Lines file."""
        return json.loads(self._native("evaluate_file").evaluate_file(path))

    # ------------------------------------ explanations and sentence vectors

    def explain(self, texts, method="integrated_gradients", target=None, steps=50,
                output="probability", reference="padding", window=1):
        """Token attributions: why the model gave each text its output.

        Args:
            texts: sequence of str (or bytes).
            method: "integrated_gradients" (with respect to the input embeddings,
                ``steps``-point Gauss-Legendre quadrature from the reference to the
                text; each text's ``delta`` says how far the scores' sum is from
                ``output - reference_output``) or "occlusion" (each window of
                ``window`` tokens replaced by the reference; a token's score is the
                drop of the output, averaged over the windows covering it).
            target: the label to explain: an int is an index into ``classes_``
                (so with int labels pass ``list(clf.classes_).index(label)``), any
                other value a label of ``classes_``; None = each text's predicted label (multi-label: its most probable
                label). A regressor explains its predicted value; leave it None.
            steps: integrated gradients' quadrature points (1 ... 4096).
            output: "probability" or "logit" of the target (regressors: the value).
            reference: "padding" (zero embeddings, the default baseline) or
                "unknown" (the ``<unk>`` embedding).
            window: occlusion window in tokens.

        Returns:
            One :class:`textmodel.explanation.Explanation` per text: ``tokens`` as
            ``(token, start, end, score)`` where, for a str text, ``start``/``end``
            are **character indices** (``text[start:end]`` is the token as written);
            byte offsets for a bytes text. Plus ``delta``, ``target``, ``output``,
            ``reference_output``. For the bag model, n-gram features' scores are
            folded onto their words (a word n-gram's split equally over its words).
        """
        model = self._native("explain")
        texts = _texts(texts)
        classifier = model.task() != "regression"
        position = self._target_position(target, classifier)
        library_index = None if position is None else self._library_index(position)
        options = _lib.explain_options(method, library_index, steps, output, reference, window)
        results = []
        for text, (tokens, t, value, ref, delta) in zip(texts, model.explain(texts, options)):
            if isinstance(text, str):
                tokens = _explanation.char_offsets(text, tokens)
            if classifier:
                t = int(self._classes_index(np.intp(t)))
            label = self.classes_[t] if classifier else None
            results.append(_explanation.Explanation(tokens, delta, label, value, ref, t))
        return results

    def explain_html(self, texts, **options):
        """:meth:`explain` rendered as a standalone HTML page (str): each text with its
        tokens coloured by score (green raises the output, red lowers it; hover for
        the score), no JavaScript. In a notebook: ``IPython.display.HTML(...)``; or
        write it to a file and open it in a browser. ``options`` as :meth:`explain`."""
        texts = _texts(texts)
        return _explanation.render_html(texts, self.explain(texts, **options))

    def transform(self, texts):
        """Sentence vectors: float32 array (n_texts, n_features), each text's pooled
        encoder features (the input of the output layer), for search and clustering
        (scikit-learn transformer convention)."""
        return self._native("transform").transform(_texts(texts))

    def _target_position(self, target, classifier):
        """explain's ``target`` as a position in ``classes_`` (None: the prediction)."""
        if target is None:
            return None
        if not classifier:
            if target != 0:
                raise ValueError("a regressor has one output: leave target None")
            return 0
        classes = self.classes_
        if isinstance(target, (int, np.integer)) and not isinstance(target, (bool, np.bool_)):
            if not 0 <= target < len(classes):
                raise _lib.InvalidArgumentError(
                    f"target label index {target} is out of range: the model has "
                    f"{len(classes)} labels", _lib.TM_ERR_INVALID_ARGUMENT,
                    "TM_ERR_INVALID_ARGUMENT")
            return int(target)
        matches = [j for j, label in enumerate(classes) if label == target]
        if len(matches) == 0:
            raise ValueError(f"unknown label {target!r}; the labels are {list(classes)!r}")
        return int(matches[0])

    def _library_index(self, position):
        """The library's label index of ``classes_[position]`` (regressors: 0)."""
        order = getattr(self, "_order", None)
        return position if order is None else int(order[position])

    # ------------------------------------------------- bag-model compression

    def quantize(self, cutoff=0, dsub=2, qnorm=False, retrain=False, train=None, **options):
        """Compress this fitted bag model in place, as fastText's ``quantize``: keep at
        most ``cutoff`` embedding rows (largest norm first; 0 keeps every row training
        changed), product-quantize them in sub-vectors of ``dsub`` values (one byte
        each), with ``qnorm`` quantize their norms apart, and with ``retrain`` retrain
        the output layer on ``train=(texts, labels)`` (labels as :meth:`fit` takes
        them). Predictions, ``save`` (model-file format 4) and pickling work as before;
        ``explain`` and a second ``quantize`` do not (InvalidArgumentError). Other
        ``options``: ``epochs``, ``lr``, ``prune_untouched``, ``iterations``,
        ``sample_rows``, ``seed``, ``threads`` (see :func:`textmodel._lib.quantize_options`).
        Returns self. InvalidArgumentError for a model that is not a bag model."""
        native = self._native("quantize")
        data = None
        if train is not None:
            texts, labels = train
            data = (_texts(texts), self._encode_labels(_sequence(labels), native))
        compressed = native.quantize(cutoff=cutoff, dsub=dsub, qnorm=qnorm, retrain=retrain,
                                     train=data, **options)
        self._model = compressed  # same labels in the same order: fitted attributes hold
        self._threads_applied = None
        return self

    @property
    def is_quantized_(self):
        """True once :meth:`quantize` compressed the model (or it was loaded so)."""
        return self._native("is_quantized_").is_quantized()


class TextClassifier(_TextModel):
    """A text classifier trained and run by libtextmodel: single-label (each text has
    one label) or multi-label (each text has any set of labels). A scikit-learn
    classifier: ``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` work.

    Args:
        config: None for the defaults, a dict, or the path of a JSON file, with any of
            the sections "tokenizer", "model", "training" and "data" (docs/config.md).
            Checked by :meth:`fit` (a bad one raises :class:`ConfigError` naming the
            key path; so does a file that is empty, holds only whitespace, holds a
            NUL byte or is not UTF-8; :meth:`resolved_config` checks it without
            training). ``model.task`` chooses single- or multi-label; when the config
            leaves it unset, :meth:`fit` with a list of labels per text makes the
            model multi-label.
        threads: threads each predict, predict_proba, score or evaluate call may use
            (tokenising too): 0 = every core (the default), 1 = the calling thread.
            Results do not depend on it. Training uses the config's
            ``training.threads`` instead. Checked when used (InvalidArgumentError
            outside 0 ... 1024, TypeError for a non-int).
        **params: config keys as ``section__key`` (``model__type="cnn"``,
            ``training__epochs=10``), applied over ``config``; None means the
            library's default. ``get_params()`` lists every key.

    Attributes set by :meth:`fit`, :meth:`fit_files` and :meth:`load`:
        classes_: numpy array of the labels, sorted, in the type and dtype they were
            given (ints stay ints); the columns of :meth:`predict_proba`.
        history_: one dict per completed epoch (the report's "epochs" array): epoch,
            train_loss, train_accuracy, valid_loss, valid_accuracy, valid_macro_f1,
            seconds (None where they do not apply).
        report_: the whole training report.
        cancelled_: True if the progress callback stopped training early.
        privacy_: for a model trained with ``{"training": {"privacy": {...}}}``
            (DP-SGD, docs/privacy.md) a dict with epsilon, delta, noise_multiplier,
            max_grad_norm, sampling_rate, steps, accountant, sampling, secure_rng and
            covered_by_accountant (also after :meth:`load`); None otherwise. With
            privacy, history_ entries also hold the epoch's "epsilon".
        task_, config_, vocab_size_, threshold_: read from the native model.

    The native model is released by :meth:`close`, by leaving a ``with`` block, or
    when the object is garbage-collected. Prediction and evaluation may run from many
    threads at once; do not close the model while another thread uses it.
    """

    _tasks = ("single_label", "multi_label")
    _estimator_type = "classifier"

    def __sklearn_tags__(self):
        multi = self.is_fitted and self.task_ == "multi_label"
        return _estimator.sklearn_tags("classifier", multi_label=multi)

    def fit(self, texts, labels, validation=None, progress=None, verbose=False):
        """Train from memory, from scratch. Returns self.

        Raises :class:`DivergedError` if the loss or the weights stop being finite
        (the model is then left as it was before the call), and
        :class:`InvalidArgumentError` for a text or label holding a NUL character,
        which the library's C strings cannot carry (it would cut the text short).

        Args:
            texts: sequence of str (a list, a 1-D numpy array, a pandas Series; bytes
                are taken as UTF-8); no NUL characters.
            labels: one per text: a label of any type (str, int, numpy scalars...;
                ``classes_`` and :meth:`predict` give them back in that type), or for
                a multi-label model a list (tuple, set) of labels. Lists make a model
                whose config did not set ``model.task`` multi-label. None skips a row.
            validation: optional ``(texts, labels)`` evaluated after every epoch.
            progress: optional callable receiving a dict per progress report (see
                :func:`textmodel._lib.progress_dict`); returning True stops training,
                keeping the weights learned so far, and sets ``cancelled_``.
                An exception it raises stops training and is re-raised here.
            verbose: print a one-line progress display to stderr.
        """
        if _is_dask_collection(texts):
            # Dask collections train on the cluster (textmodel.dask, imported only here).
            from . import dask as _dask
            return _dask.fit_estimator(self, texts, labels, validation)
        dtype = getattr(labels, "dtype", None)  # numpy arrays and pandas Series
        labels = _targets(labels, self)
        texts = _texts(texts)
        multi = any(_is_label_set(y) for y in labels)
        text = self._config_text("multi_label" if multi else None)
        if multi and _task_of(text) not in (None, "multi_label"):
            raise ValueError(f'lists of labels need model.task "multi_label"; this model '
                             f'is {_task_of(text)!r}')
        codec = _Labels(labels, multi, dtype)

        def train(native, handler):
            encoded = _Labels.encode_any(labels, native)
            valid_texts = valid_labels = None
            if validation is not None:
                valid_texts, valid_labels = validation
                valid_texts = _texts(valid_texts)
                valid_labels = _Labels.encode_any(_sequence(valid_labels), native)
            return native.train(texts, encoded, valid_texts, valid_labels, handler)

        return self._train(text, train, codec, progress, verbose)

    def _set_fitted_labels(self, codec):
        names = self._model.labels()
        classes, order = (codec or _Labels([], False)).classes(names)
        self.classes_ = classes
        # order[j]: the library's column for classes_[j]; position: the reverse.
        self._order = None if np.array_equal(order, np.arange(len(order))) else order
        self._position = None if self._order is None else np.argsort(order)

    def _encode_labels(self, labels, model):
        return _Labels.encode_any(_sequence(labels), model)

    # ------------------------------------------------------------ inspection

    @property
    def threshold_(self):
        """Multi-label: the probability at which a label is predicted."""
        return self.config_["model"]["threshold"]

    # ------------------------------------------------------------- inference

    def predict(self, texts):
        """Single-label: the most probable label of each text, as a numpy array like
        ``classes_`` (same dtype). Multi-label: for each text the list of labels whose
        probability is at least ``threshold_`` (possibly empty), in ``classes_``
        order. A text holding a NUL character raises :class:`InvalidArgumentError`
        (as in every call that takes texts)."""
        model = self._native("predict")
        texts = _texts(texts)
        if len(texts) == 1 and model.task() == "single_label" and isinstance(texts[0], (str, bytes)):
            # One text: the single-text call, the same label without the batch arrays.
            index, _ = model.predict_one(texts[0])
            return self.classes_[self._classes_index(np.array([index], dtype=np.int32))]
        if model.task() == "multi_label":
            probs = self.predict_proba(texts)
            classes, threshold = self.classes_, self.threshold_
            return [[classes[j] for j in np.flatnonzero(row >= threshold)] for row in probs]
        indices, _ = model.predict(texts, 1)
        return self.classes_[self._classes_index(indices[:, 0])]

    def predict_one(self, text, return_probability=False):
        """The label of one text (a str), for services that answer one request at a
        time: ``predict([text])[0]``, bit for bit, through the library's single-text
        call (no thread, array or batch; see ``tm_model_predict_one``). With
        ``return_probability``, ``(label, probability)``. Multi-label models: the list
        ``predict([text])[0]`` gives (the probability is then the highest label's)."""
        model = self._native("predict_one")
        if model.task() == "multi_label":
            labels = self.predict([text])[0]
            if not return_probability:
                return labels
            return labels, float(self.predict_proba([text])[0].max())
        index, probability = model.predict_one(text)
        label = self._labels_by_index()[index]
        return (label, probability) if return_probability else label

    def _labels_by_index(self):
        """``classes_`` in the library's label order, as a tuple of the same scalars
        ``classes_[...]`` gives, made once per ``classes_``: indexing the numpy array
        was a tenth of a one-text prediction's time."""
        classes = self.classes_
        cached = self.__dict__.get("_labels_by_index_cache")
        if cached is None or cached[0] is not classes:
            cached = self._labels_by_index_cache = (
                classes, tuple(classes if self._position is None else classes[self._position]))
        return cached[1]

    def predict_proba(self, texts):
        """Probabilities: float32 array (n_texts, n_classes), columns in ``classes_``
        order. Single-label rows sum to 1; multi-label entries are each label's own
        probability."""
        probs = self._native("predict_proba").predict_proba(_texts(texts))
        return probs if self._order is None else np.ascontiguousarray(probs[:, self._order])

    def predict_top_k(self, texts, k):
        """The k most probable classes per text, most probable first.

        Returns ``(indices, probs)``: int32 and float32 arrays of shape (n_texts, k);
        indices point into ``classes_``.
        """
        indices, probs = self._native("predict_top_k").predict(_texts(texts), k)
        return self._classes_index(indices).astype(np.int32, copy=False), probs

    def _classes_index(self, library_indices):
        return library_indices if self._position is None else self._position[library_indices]

    # ------------------------------------------------------------ evaluation

    def evaluate(self, texts, labels):
        """Metrics on labelled texts as a dict (label names as the library's strings).

        Single-label: accuracy, loss, macro/weighted F1, per_class,
        confusion_matrix (rows true, columns predicted, in "labels" order), ...
        Multi-label: accuracy (= subset_accuracy), hamming_loss, micro_/macro_
        precision/recall/f1, per_class, precision_at_k, recall_at_k, ...
        """
        return super().evaluate(texts, labels)

    def score(self, texts, labels, sample_weight=None):
        """Accuracy on labelled texts (multi-label: subset accuracy), each text
        weighted by ``sample_weight`` if given."""
        if sample_weight is None:
            return self.evaluate(texts, labels)["accuracy"]
        predicted = self.predict(texts)
        truth = _sequence(labels)
        if self._native("score").task() == "multi_label":
            hits = [set(map(_label_name, p)) == set(map(_label_name, _as_set(t)))
                    for p, t in zip(predicted, truth)]
        else:
            hits = [_label_name(p) == _label_name(t) for p, t in zip(predicted, truth)]
        return float(np.average(hits, weights=_weights(sample_weight, len(hits))))


class TextRegressor(_TextModel):
    """A model that predicts a number for each text (``model.task`` "regression":
    one linear output trained on mean squared error), trained and run by
    libtextmodel. The same parameters, config sections, encoders and training options
    as :class:`TextClassifier`; targets may have any scale (they are standardised for
    training and predictions are mapped back). A scikit-learn regressor.

    Args:
        config: None for the defaults, a dict, or the path of a JSON file;
            ``model.task`` is "regression" (any other task is an error at fit).
        threads, **params: as in :class:`TextClassifier`.
    """

    _tasks = ("regression",)
    _estimator_type = "regressor"
    _default_task = "regression"

    def fit(self, texts, y, validation=None, progress=None, verbose=False):
        """Train from memory, from scratch: ``y`` holds one number per text.
        ``validation``, ``progress`` and ``verbose`` are as in
        :meth:`TextClassifier.fit`, and so are the errors (:class:`DivergedError`,
        NUL characters). The default bag model trains at learning rate 0.2 for 10
        epochs (the classifiers' rate 1 diverges on squared error). Returns self."""
        values = self._encode_labels(_targets(y, self), None)
        texts = _texts(texts)
        text = self._config_text()

        def train(native, handler):
            valid_texts = valid_values = None
            if validation is not None:
                valid_texts, valid_values = validation
                valid_texts = _texts(valid_texts)
                valid_values = self._encode_labels(valid_values, None)
            return native.train(texts, values, valid_texts, valid_values, handler)

        return self._train(text, train, None, progress, verbose)

    def _encode_labels(self, values, model):
        return [_number(v) for v in _sequence(values)]

    def predict(self, texts):
        """Predicted values: float32 array (n_texts,), in the targets' units."""
        return self._native("predict").predict_values(_texts(texts))

    def evaluate(self, texts, y):
        """Metrics as a dict: mse (= loss), rmse, mae, r2, mean_target, examples."""
        return super().evaluate(texts, y)

    def score(self, texts, y, sample_weight=None):
        """R² on labelled texts (1 is perfect, 0 is predicting the mean), each text
        weighted by ``sample_weight`` if given."""
        if sample_weight is None:
            return self.evaluate(texts, y)["r2"]
        predicted = self.predict(texts).astype(np.float64)
        truth = np.array([float(v) for v in _sequence(y)])
        w = _weights(sample_weight, len(truth))
        mean = np.average(truth, weights=w)
        total = np.sum(w * (truth - mean) ** 2)
        residual = np.sum(w * (truth - predicted) ** 2)
        return float(1 - residual / total) if total > 0 else float("nan")


class _Labels:
    """The labels one fit was given, and the library's label strings for them: a str
    is itself, bytes pass as bytes (the library reads them as UTF-8), anything else
    (int, float, bool, numpy scalars) is ``str(label)``. After training,
    :meth:`classes` maps the library's labels back to the values given."""

    def __init__(self, labels, multi, dtype=None):
        # classes_ takes the dtype the labels came in, when it is a plain numpy one.
        plain = isinstance(dtype, np.dtype) and dtype.kind in "biufU" and not multi
        self.dtype = dtype if plain else None
        self.value_of = {}
        for y in labels:
            for value in (y if multi and _is_label_set(y) else (y,)):
                if value is None or isinstance(value, bytes):
                    continue
                name = _label_name(value)
                seen = self.value_of.setdefault(name, value)
                if seen is not value and seen != value:
                    raise ValueError(f"the labels {seen!r} and {value!r} are both {name!r} "
                                     "to the library: give distinct labels")

    @staticmethod
    def encode_any(labels, model):
        """Labels (or label sets) as the library's label fields for ``model``."""
        if model is not None and model.task() == "multi_label":
            separator = json.loads(model.config_json())["data"]["label_separator"]
            return [_join_labels(y, separator) for y in labels]
        return [_label_name(y) if y is not None and not isinstance(y, bytes) else y
                for y in labels]

    def classes(self, names):
        """``classes_`` for the library's labels ``names`` (in its order) and, for each
        class, its library index: sorted as the values sort (the library's order,
        UTF-8 bytes, when they do not: mixed types)."""
        values = [self.value_of.get(name, name) for name in names]
        order = list(range(len(values)))
        try:
            order.sort(key=lambda i: values[i])
        except TypeError:
            order = list(range(len(values)))
        ordered = [values[i] for i in order]
        classes = np.array(ordered, dtype=self.dtype) if self.dtype is not None else _array(ordered)
        return classes, np.array(order, dtype=np.intp)


def _is_dask_collection(value):
    """A dask Series, DataFrame or Bag, told by its module so dask is not imported."""
    return type(value).__module__.split(".")[0] == "dask"


def _array(values):
    """A 1-D numpy array of label values (object dtype when numpy would make them
    something else, e.g. tuples or mixed types)."""
    array = np.array(values) if values else np.array([], dtype=object)
    if array.ndim != 1 or (array.dtype.kind not in "biufUSO"):
        array = np.empty(len(values), dtype=object)
        array[:] = values
    return array


def _label_name(value):
    """The library's label string for a label value."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _weights(sample_weight, n):
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n},), one per text")
    return w


def _as_set(y):
    return y if _is_label_set(y) else ([] if y is None else [y])


def _texts(texts):
    """Texts as a list (numpy arrays and pandas Series too); a 2-D input is an error."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of strings, not a single string")
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        raise ValueError(f"texts must be 1-D (one string per text), got an array of shape "
                         f"{texts.shape}")
    return list(texts)


def _targets(y, estimator):
    """fit's labels or targets as a list; None is scikit-learn's "requires y" error."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the "
                         "target y is None")
    return _sequence(y)


def _with_default_task(config_text, task):
    """``config_text`` with model.task set to ``task`` if it leaves it unset (text that
    is not a JSON object is left for the library to report)."""
    if task is None or _task_of(config_text) is not None:
        return config_text
    parsed = _estimator.config_object(config_text)
    if parsed is None:
        return config_text
    model = parsed.setdefault("model", {})
    if isinstance(model, dict):
        model["task"] = task
    return json.dumps(parsed)


# ----------------------------------------------------------------- helpers


def _config_json(config):
    """Config JSON text for ``tm_model_new`` from None, a dict or a file path."""
    if config is None or isinstance(config, dict):
        return None if config is None else json.dumps(config)
    if isinstance(config, (str, os.PathLike)):
        return read_config_file(config)  # ConfigError if empty, NUL or not UTF-8
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
    labels = [_label_name(v) for v in y]
    if isinstance(y, (set, frozenset)):
        labels.sort()
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
        if p["kind"] == "loading":
            share = p["bytes_read"] / p["bytes_total"] if p.get("bytes_total") else 0.0
            line = f"reading the training data {share:4.0%}  ETA {_duration(p['eta_seconds'])}"
        elif p["kind"] == "epoch":
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
