"""The ctypes layer: the only module that touches libtextmodel directly.

It finds and loads ``libtextmodel.so``, declares the C signature of every function in
``include/textmodel.h``, turns status codes into exceptions carrying the library's
message, and converts strings, arrays and progress reports between C and Python.
:class:`Model` owns one ``tm_model *`` and mirrors the ``tm_model_*`` calls with
Python types; :mod:`textmodel.classifier` builds the public API on it.

Ownership follows the header: pointer arguments are borrowed for the call; JSON
strings the library returns are copied into Python and released with
``tm_string_free``; model bytes (``tm_model_save_to_memory``) are copied into ``bytes``
and released with ``tm_bytes_free``; models are released with ``tm_model_free`` by
their owner.
"""

import ctypes
import functools
import math
import os
import threading
import warnings
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_double, c_float,
                    c_int, c_int32, c_int64, c_size_t, c_void_p)
from pathlib import Path

import numpy as np

#: Version of ``include/textmodel.h`` these bindings were written against.
HEADER_VERSION = (0, 6, 0)

LIBRARY_ENV = "TEXTMODEL_LIBRARY"
LIBRARY_NAME = "libtextmodel.so"

# ------------------------------------------------------------------ statuses

TM_OK = 0
TM_ERR_INVALID_ARGUMENT = 1
TM_ERR_CONFIG = 2
TM_ERR_IO = 3
TM_ERR_DATA = 4
TM_ERR_MODEL_FORMAT = 5
TM_ERR_STATE = 6
TM_ERR_CANCELLED = 7
TM_ERR_RESOURCE = 8
TM_ERR_INTERNAL = 99

TM_PROGRESS_STEP = 0
TM_PROGRESS_EPOCH = 1
TM_PROGRESS_LOADING = 2


class TextModelError(Exception):
    """An error status returned by libtextmodel.

    Attributes:
        status: the ``tm_status`` code (int).
        status_name: its constant name, e.g. "TM_ERR_CONFIG".
        message: the library's description of the error (``tm_last_error()``).
    """

    def __init__(self, message, status=None, status_name=None):
        super().__init__(f"{message} ({status_name})" if status_name else message)
        self.message = message
        self.status = status
        self.status_name = status_name


class InvalidArgumentError(TextModelError, ValueError):
    """TM_ERR_INVALID_ARGUMENT: a NULL pointer, zero count, k out of range, ..."""


class ConfigError(TextModelError, ValueError):
    """TM_ERR_CONFIG: malformed config, unknown key, wrong type or value."""


class FileError(TextModelError, OSError):
    """TM_ERR_IO: a file is missing, unreadable, a directory or unwritable."""


class DataError(TextModelError, ValueError):
    """TM_ERR_DATA: malformed CSV, no usable rows, one class, an unseen label."""


class ModelFormatError(TextModelError, ValueError):
    """TM_ERR_MODEL_FORMAT: a model file is truncated, corrupted or too new."""


class StateError(TextModelError, RuntimeError):
    """TM_ERR_STATE: the operation needs a trained model, or trains or closes a model
    from its own training's progress callback."""


class CancelledError(TextModelError):
    """TM_ERR_CANCELLED: training was stopped by the progress callback."""


class ResourceError(TextModelError, MemoryError):
    """TM_ERR_RESOURCE: a config or input would need too much memory."""


class InternalError(TextModelError):
    """TM_ERR_INTERNAL: a bug in libtextmodel; please report the message."""


_ERRORS = {
    TM_ERR_INVALID_ARGUMENT: InvalidArgumentError,
    TM_ERR_CONFIG: ConfigError,
    TM_ERR_IO: FileError,
    TM_ERR_DATA: DataError,
    TM_ERR_MODEL_FORMAT: ModelFormatError,
    TM_ERR_STATE: StateError,
    TM_ERR_CANCELLED: CancelledError,
    TM_ERR_RESOURCE: ResourceError,
    TM_ERR_INTERNAL: InternalError,
}

# Added in 0.4.0: training that diverges is an error, never a NaN model.
TM_ERR_DIVERGED = 9


class DivergedError(TextModelError, FloatingPointError):
    """TM_ERR_DIVERGED: the training loss, a gradient norm or a weight became NaN or
    infinite. The message names the epoch and step and the key to change (usually
    ``training.learning_rate``); the model is left as it was before ``fit`` (unfitted
    on a first fit): nothing NaN is kept, saved or predicted."""


_ERRORS[TM_ERR_DIVERGED] = DivergedError

# --------------------------------------------------------------------- types


class Progress(Structure):
    """``tm_progress``: a training progress report, valid only during the callback."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", c_int),  # tm_progress_kind: a C enum, int-sized
        ("epoch", c_int),
        ("epochs", c_int),
        ("step", c_int64),
        ("total_steps", c_int64),
        ("running_loss", c_double),
        ("examples_per_sec", c_double),
        ("eta_seconds", c_double),
        ("train_loss", c_double),
        ("valid_loss", c_double),
        ("valid_accuracy", c_double),
        ("elapsed_seconds", c_double),
        # Appended in 0.3.0; progress_dict gives NaN when an older library's
        # struct_size ends before it.
        ("train_accuracy", c_double),
        # Appended for training.privacy: ε spent, on epoch reports of private runs.
        ("epsilon", c_double),
        # Appended for TM_PROGRESS_LOADING: the training file's bytes read so far over
        # all its passes, and what the passes read in all.
        ("bytes_read", c_int64),
        ("bytes_total", c_int64),
    ]


#: ``tm_progress_fn``: ``int (*)(const tm_progress *progress, void *user_data)``.
PROGRESS_FN = CFUNCTYPE(c_int, POINTER(Progress), c_void_p)

_model_p = c_void_p  # tm_model *, opaque
_texts_p = POINTER(c_char_p)  # const char *const *
_out_str = POINTER(c_void_p)  # char **: kept as void * so we can free it

# name: (restype, argtypes), one entry for every function in textmodel.h
_SIGNATURES = {
    "tm_version": (c_char_p, []),
    "tm_version_number": (c_int, []),
    "tm_last_error": (c_char_p, []),
    "tm_status_name": (c_char_p, [c_int]),
    "tm_string_free": (None, [c_void_p]),
    "tm_model_new": (c_int, [c_char_p, POINTER(_model_p)]),
    "tm_model_free": (None, [_model_p]),
    "tm_model_config_json": (c_int, [_model_p, _out_str]),
    "tm_model_is_trained": (c_int, [_model_p, POINTER(c_int)]),
    "tm_model_task": (c_int, [_model_p, POINTER(c_char_p)]),
    "tm_model_num_labels": (c_int, [_model_p, POINTER(c_size_t)]),
    "tm_model_label": (c_int, [_model_p, c_size_t, POINTER(c_char_p)]),
    "tm_model_vocab_size": (c_int, [_model_p, POINTER(c_size_t)]),
    "tm_model_train_files": (c_int, [_model_p, c_char_p, c_char_p, PROGRESS_FN,
                                     c_void_p, _out_str]),
    "tm_model_train": (c_int, [_model_p, _texts_p, _texts_p, c_size_t, _texts_p,
                               _texts_p, c_size_t, PROGRESS_FN, c_void_p, _out_str]),
    "tm_model_evaluate": (c_int, [_model_p, _texts_p, _texts_p, c_size_t, _out_str]),
    "tm_model_evaluate_file": (c_int, [_model_p, c_char_p, _out_str]),
    "tm_model_predict": (c_int, [_model_p, _texts_p, c_size_t, c_size_t,
                                 POINTER(c_int32), POINTER(c_float)]),
    "tm_model_predict_proba": (c_int, [_model_p, _texts_p, c_size_t,
                                       POINTER(c_float)]),
    "tm_model_predict_values": (c_int, [_model_p, _texts_p, c_size_t,
                                        POINTER(c_float)]),
    "tm_model_set_threads": (c_int, [_model_p, c_size_t]),
    "tm_model_threads": (c_int, [_model_p, POINTER(c_size_t)]),
    "tm_model_save": (c_int, [_model_p, c_char_p]),
    "tm_model_load": (c_int, [c_char_p, POINTER(_model_p)]),
}

# Models as bytes (textmodel.h, "Models as bytes"): pickling goes through these.
_SIGNATURES.update({
    "tm_model_save_to_memory": (c_int, [_model_p, POINTER(c_void_p), POINTER(c_size_t)]),
    "tm_bytes_free": (None, [c_void_p]),
    "tm_model_load_from_memory": (c_int, [c_char_p, c_size_t, POINTER(_model_p)]),
})

# Weight precision (textmodel.h, "weight precision"): f16 and int8 model files.
_SIGNATURES.update({
    "tm_model_save_as": (c_int, [_model_p, c_char_p, c_char_p]),
    "tm_model_save_to_memory_as": (c_int, [_model_p, c_char_p, POINTER(c_void_p), POINTER(c_size_t)]),
    "tm_model_precision": (c_int, [_model_p, POINTER(c_char_p)]),
})

DTYPES = ("f32", "f16", "int8")


def encode_dtype(dtype):
    """A dtype argument as the library's C string; TypeError for a non-string (the
    library refuses an unknown name with InvalidArgumentError)."""
    if not isinstance(dtype, str):
        raise TypeError(f"dtype must be one of {', '.join(DTYPES)} as a string, not {type(dtype).__name__}")
    return dtype.encode("utf-8", "surrogateescape")

# ------------------------------------------ explanations and sentence vectors

TM_EXPLAIN_INTEGRATED_GRADIENTS = 0
TM_EXPLAIN_OCCLUSION = 1
TM_EXPLAIN_PROBABILITY = 0
TM_EXPLAIN_LOGIT = 1
TM_EXPLAIN_PADDING = 0
TM_EXPLAIN_UNKNOWN = 1


class ExplainOptions(Structure):
    """``tm_explain_options``; fill with ``tm_explain_options_init``."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("method", c_int),
        ("target", c_int32),
        ("output", c_int),
        ("reference", c_int),
        ("steps", c_int32),
        ("window", c_int32),
    ]


class TokenScore(Structure):
    """``tm_token_score``: byte offsets into the text as passed to the library."""

    _fields_ = [("token", c_char_p), ("start", c_size_t), ("end", c_size_t), ("score", c_float)]


class TextExplanation(Structure):
    """``tm_text_explanation``."""

    _fields_ = [
        ("tokens", POINTER(TokenScore)),
        ("token_count", c_size_t),
        ("target", c_int32),
        ("output", c_float),
        ("reference_output", c_float),
        ("delta", c_float),
    ]


class Explanation(Structure):
    """``tm_explanation``: library-owned, released with ``tm_explanation_free``."""

    _fields_ = [("count", c_size_t), ("texts", POINTER(TextExplanation))]


_SIGNATURES.update({
    "tm_explain_options_init": (None, [POINTER(ExplainOptions)]),
    "tm_model_explain": (c_int, [_model_p, _texts_p, c_size_t, POINTER(ExplainOptions),
                                 POINTER(POINTER(Explanation))]),
    "tm_explanation_free": (None, [POINTER(Explanation)]),
    "tm_model_feature_dim": (c_int, [_model_p, POINTER(c_size_t)]),
    "tm_model_transform": (c_int, [_model_p, _texts_p, c_size_t, POINTER(c_float)]),
})

_METHODS = {"integrated_gradients": TM_EXPLAIN_INTEGRATED_GRADIENTS, "occlusion": TM_EXPLAIN_OCCLUSION}
_OUTPUTS = {"probability": TM_EXPLAIN_PROBABILITY, "logit": TM_EXPLAIN_LOGIT}
_REFERENCES = {"padding": TM_EXPLAIN_PADDING, "unknown": TM_EXPLAIN_UNKNOWN}


def explain_options(method="integrated_gradients", target=None, steps=50, output="probability",
                    reference="padding", window=1):
    """A ``tm_explain_options`` from Python values (ValueError for unknown names)."""
    options = ExplainOptions()
    lib().tm_explain_options_init(byref(options))
    for name, value, table in (("method", method, _METHODS), ("output", output, _OUTPUTS),
                               ("reference", reference, _REFERENCES)):
        if value not in table:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, table))}; got {value!r}")
        setattr(options, name, table[value])
    for name, value in (("steps", steps), ("window", window), ("target", -1 if target is None else target)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not -2**31 <= value < 2**31:
            raise InvalidArgumentError(f"{name} {value} is out of range", TM_ERR_INVALID_ARGUMENT,
                                       "TM_ERR_INVALID_ARGUMENT")
        setattr(options, name, value)
    return options
# ------------------------------------------------------------------ autotune

#: ``tm_autotune_fn``: ``int (*)(const char *trial_json, void *user_data)``.
AUTOTUNE_FN = CFUNCTYPE(c_int, c_char_p, c_void_p)

_SIGNATURES.update({
    "tm_autotune": (c_int, [c_char_p, _texts_p, _texts_p, c_size_t, _texts_p, _texts_p,
                            c_size_t, AUTOTUNE_FN, c_void_p, POINTER(_model_p), _out_str]),
    "tm_autotune_files": (c_int, [c_char_p, c_char_p, c_char_p, AUTOTUNE_FN, c_void_p,
                                  POINTER(_model_p), _out_str]),
})

# Differential privacy (textmodel.h, "Differential privacy").
_SIGNATURES.update({
    "tm_model_privacy_json": (c_int, [_model_p, _out_str]),
})


def autotune(options_json, texts, labels, valid_texts, valid_labels, on_trial=None):
    """``tm_autotune``: returns ``(Model, table_json)`` for the best trial's model.

    ``on_trial(row_json_str) -> bool`` (or None) sees each trial's row; True ends the
    search. An exception it raises ends the search and is re-raised here.
    """
    t, n = encode_texts(texts)
    y, m = encode_texts(labels, "labels")
    if n != m:
        raise ValueError(f"{n} texts but {m} labels")
    vt, vn = encode_texts(valid_texts, "validation texts")
    vy, vm = encode_texts(valid_labels, "validation labels")
    if vn != vm:
        raise ValueError(f"{vn} validation texts but {vm} validation labels")
    state = {"error": None}

    def trampoline(row, _user_data):
        if state["error"] is not None:
            return 1
        try:
            return 1 if on_trial(row.decode("utf-8", "replace")) else 0
        except BaseException as e:  # re-raised after the C call returns
            state["error"] = e
            return 1

    callback = AUTOTUNE_FN(trampoline) if on_trial is not None else AUTOTUNE_FN()
    handle, table = c_void_p(), c_void_p()
    options = None if options_json is None else options_json.encode("utf-8")
    status = lib().tm_autotune(options, t, y, n, vt, vy, vn, callback, None,
                               byref(handle), byref(table))
    error = error_for(status) if status != TM_OK else None  # before any other call
    table_json = take_string(table)
    model = Model(handle) if handle.value else None
    if state["error"] is not None:
        if model is not None:
            model.close()
        raise state["error"]
    if error is not None:
        raise error
    return model, table_json


# ------------------------------------------------------------------- loading


# Single-text prediction (textmodel.h, "single-text latency"): Model.predict_one.
_SIGNATURES.update({
    "tm_model_predict_one": (c_int, [_model_p, c_char_p, POINTER(c_int32), POINTER(c_float)]),
})
# Each thread's out-parameters of tm_model_predict_one, made once: the call releases the
# GIL, so two threads must not share them.
_one_text_outputs = threading.local()


def _one_text_call():
    """(tm_model_predict_one, label, probability, byref(label), byref(probability)) of
    this thread, declared once."""
    try:
        return _one_text_outputs.call
    except AttributeError:
        label, prob = c_int32(), c_float()
        _one_text_outputs.call = call = (lib().tm_model_predict_one, label, prob, byref(label), byref(prob))
        return call


def library_path():
    """Path of the library to load: ``$TEXTMODEL_LIBRARY``, else the package folder."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        if not os.path.isfile(env):
            raise OSError(f"{LIBRARY_ENV}={env!r} does not name an existing file")
        return env
    bundled = Path(__file__).resolve().parent / LIBRARY_NAME
    if bundled.is_file():
        return str(bundled)
    raise OSError(
        f"cannot find {LIBRARY_NAME}: set {LIBRARY_ENV} to its path, or install the package "
        f"with `pip install ./bindings/python`, which bundles it into {bundled.parent}")


@functools.lru_cache(maxsize=None)
def lib():
    """The loaded library with every signature declared (loaded on first use).

    ``ctypes.CDLL`` releases the GIL during each call, so training and prediction do
    not block other Python threads.
    """
    path = library_path()
    dll = ctypes.CDLL(path)
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:
            raise OSError(f"{path} does not export {name}; is it libtextmodel?") from None
        fn.restype = restype
        fn.argtypes = argtypes
    found = dll.tm_version_number()
    major, minor, _ = HEADER_VERSION
    if found // 10000 != major or (found // 100) % 100 < minor:
        warnings.warn(f"{path} is libtextmodel {dll.tm_version().decode()}, but these "
                      f"bindings expect {'.'.join(map(str, HEADER_VERSION))}",
                      RuntimeWarning, stacklevel=2)
    return dll


# ------------------------------------------------------------------- helpers


def error_for(status):
    """The :class:`TextModelError` for a failed call, with ``tm_last_error()``.

    Call it right after the failing call, on the same thread: the message is
    thread-local and valid only until the next libtextmodel call.
    """
    dll = lib()
    message = (dll.tm_last_error() or b"").decode("utf-8", "replace")  # read it first
    name = (dll.tm_status_name(status) or b"?").decode("ascii", "replace")
    return _ERRORS.get(status, TextModelError)(message, status, name)


def check(status):
    """Raise the :class:`TextModelError` subclass for ``status`` unless it is TM_OK."""
    if status != TM_OK:
        raise error_for(status)


def take_string(ptr):
    """Copy a library-owned ``char *`` (a ``c_void_p``) to ``str`` and free it."""
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", "replace")
    finally:
        lib().tm_string_free(ptr)


def encode_texts(texts, what="texts"):
    """Encode strings as UTF-8 into a ``const char *[]``; returns (array, count).

    Lone surrogates become ``?`` rather than raising; ``bytes`` pass through;
    ``None`` becomes NULL, which training and evaluation skip as an empty row.
    A string holding a NUL character raises :class:`InvalidArgumentError`: a C string
    ends at its first NUL, so the library would silently see only the part before it.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of strings, not a single string")
    joined = _joined_texts(texts)
    if joined is not None:
        return joined, len(texts)
    encoded = []
    for t in texts:
        if isinstance(t, str):
            t = t.encode("utf-8", "replace")
        elif t is not None and not isinstance(t, bytes):
            raise TypeError(f"{what} must contain str, got {type(t).__name__}")
        if t is not None and b"\0" in t:
            raise _nul_error(what, len(encoded), t)
        encoded.append(t)
    return (c_char_p * len(encoded))(*encoded), len(encoded)


def encode_training_rows(texts, labels, valid_texts=None, valid_labels=None):
    """The C arrays of the training calls: ``(texts, labels, n, valid_texts, valid_labels,
    valid_n)``, the validation pair None/0 when absent; counts that differ are a ValueError."""
    t, n = encode_texts(texts)
    y, m = encode_texts(labels, "labels")
    if n != m:
        raise ValueError(f"{n} texts but {m} labels")
    vt, vy, vn = None, None, 0
    if valid_texts is not None:
        vt, vn = encode_texts(valid_texts, "validation texts")
        vy, vm = encode_texts(valid_labels, "validation labels")
        if vn != vm:
            raise ValueError(f"{vn} validation texts but {vm} validation labels")
    return t, y, n, vt, vy, vn


class _JoinedTexts:
    """A ``const char *[]`` into one UTF-8 buffer holding every text, each ended by its
    NUL (the argument ctypes passes is ``_as_parameter_``; the buffer and the pointer
    array live as long as this object)."""
    __slots__ = ("_as_parameter_", "_data", "_pointers")

    def __init__(self, data, starts):
        self._data = data
        view = np.frombuffer(data, dtype=np.uint8)
        self._pointers = starts.astype(np.uintp) + np.uintp(view.ctypes.data)
        self._as_parameter_ = self._pointers.ctypes.data_as(_texts_p)


def _joined_texts(texts):
    """:func:`encode_texts` of a list or tuple of ``str`` without a NUL, in one encode:
    the texts joined by NULs are encoded at once (``"replace"`` works code point by code
    point, so each text's bytes are its own encode's), and the pointers are the NULs'
    positions. ``None`` for anything else (bytes, None, a NUL inside a text, an
    iterator), which the per-text loop handles. Per text, the loop's encode and its
    ``c_char_p`` were most of a bag prediction's Python time."""
    if texts.__class__ not in (list, tuple) or not texts:
        return None
    try:
        joined = "\0".join(texts)
    except TypeError:     # not all str
        return None
    if joined.count("\0") != len(texts) - 1:
        return None        # a NUL inside a text: the loop names it
    data = joined.encode("utf-8", "replace")
    starts = np.empty(len(texts), dtype=np.intp)
    starts[0] = 0
    starts[1:] = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0) + 1
    return _JoinedTexts(data, starts)


def _nul_error(what, index, text):
    at = text.index(b"\0")
    return InvalidArgumentError(
        f"{what}[{index}] holds a NUL character (at byte {at}), which the library's C "
        f"strings cannot carry: it would silently end the text there; remove or replace "
        f"it first (e.g. text.replace('\\0', ' '))",
        TM_ERR_INVALID_ARGUMENT, "TM_ERR_INVALID_ARGUMENT")


def encode_path(path):
    """Encode a path-like (or None) for a ``const char *path`` argument; a NUL in it
    (which would end the C string early, naming another file) is InvalidArgumentError."""
    if path is None:
        return None
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise InvalidArgumentError(f"the path {path!r} holds a NUL character, which no file name can",
                                   TM_ERR_INVALID_ARGUMENT, "TM_ERR_INVALID_ARGUMENT")
    return encoded


def progress_dict(p):
    """Convert a ``tm_progress`` to a dict; fields the library did not fill are NaN."""
    out = {}
    for name, ctype in Progress._fields_[1:]:
        field = getattr(Progress, name)
        if field.offset + field.size <= p.struct_size:
            out[name] = getattr(p, name)
        else:  # an older library with a shorter struct
            out[name] = math.nan if ctype is c_double else None
    out["kind"] = {TM_PROGRESS_STEP: "step", TM_PROGRESS_EPOCH: "epoch",
                   TM_PROGRESS_LOADING: "loading"}.get(out["kind"], out["kind"])
    return out


def make_progress_callback(fn):
    """Wrap ``fn(dict) -> bool`` (or None) as a ``tm_progress_fn``.

    Returns ``(c_callback, state)``; for ``fn=None`` the callback is a NULL function
    pointer. The caller must keep ``c_callback`` referenced for as long as C may
    call it. ``state["error"]`` holds an exception ``fn`` raised (training was then
    cancelled); ``state["cancelled"]`` is True if ``fn`` asked to stop.
    """
    state = {"error": None, "cancelled": False}
    if fn is None:
        return PROGRESS_FN(), state

    def trampoline(progress, _user_data):
        if state["error"] is not None:
            return 1
        try:
            stop = bool(fn(progress_dict(progress.contents)))
        except BaseException as e:  # re-raised after the C call returns
            state["error"] = e
            return 1
        state["cancelled"] = state["cancelled"] or stop
        return 1 if stop else 0

    return PROGRESS_FN(trampoline), state


# --------------------------------------------------------------------- model


class Model:
    """Owns one ``tm_model *`` and exposes each ``tm_model_*`` call with Python types.

    JSON results are returned as ``str``; arrays as numpy arrays. The handle is
    released by :meth:`close` (or when the object is garbage-collected).
    """

    def __init__(self, handle):
        self._handle = handle
        # The thread inside _train, whose progress callback runs on it: close() from
        # there is refused, as tm_model_free is, so the handle is not lost.
        self._training_thread = None

    @classmethod
    def new(cls, config_json=None):
        """``tm_model_new``: an untrained model from a JSON config string (or None)."""
        handle = c_void_p()
        config = None if config_json is None else config_json.encode("utf-8", "replace")
        if config is not None and b"\0" in config:
            # C would see only the text before it (nothing at all: the default model).
            at = config.index(b"\0")
            raise ConfigError(f"the config holds a NUL character (at byte {at}), "
                              "which is not JSON", TM_ERR_CONFIG, "TM_ERR_CONFIG")
        check(lib().tm_model_new(config, byref(handle)))
        return cls(handle)

    @classmethod
    def load(cls, path):
        """``tm_model_load``: a model saved by :meth:`save`."""
        handle = c_void_p()
        check(lib().tm_model_load(encode_path(path), byref(handle)))
        return cls(handle)

    def close(self):
        """``tm_model_free``; idempotent. StateError from this model's own progress
        callback, whose training still uses the model."""
        if self._training_thread is not None and self._training_thread == threading.get_ident():
            raise StateError("training is already running on this model: its progress "
                             "callback cannot close it; close it after training returns",
                             TM_ERR_STATE, "TM_ERR_STATE")
        handle, self._handle = self._handle, None
        if handle:
            lib().tm_model_free(handle)

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to do
            pass

    @property
    def closed(self):
        """True once :meth:`close` has run."""
        return not self._handle

    @property
    def handle(self):
        """The ``tm_model *``; ValueError once closed."""
        if not self._handle:
            raise ValueError("the model is closed")
        return self._handle

    # ------------------------------------------------------------ inspection

    def config_json(self):
        """``tm_model_config_json``: the resolved config as JSON text."""
        out = c_void_p()
        check(lib().tm_model_config_json(self.handle, byref(out)))
        return take_string(out)

    def is_trained(self):
        """``tm_model_is_trained``."""
        out = c_int()
        check(lib().tm_model_is_trained(self.handle, byref(out)))
        return bool(out.value)

    def task(self):
        """``tm_model_task``: "single_label", "multi_label" or "regression"."""
        task = self.__dict__.get("_task")
        if task is None:   # fixed by the handle's config: asked once (predict_one's path)
            out = c_char_p()
            check(lib().tm_model_task(self.handle, byref(out)))
            task = self._task = out.value.decode("ascii")
        return task

    def labels(self):
        """Every ``tm_model_label``, in the library's (UTF-8 byte) order."""
        count = c_size_t()
        check(lib().tm_model_num_labels(self.handle, byref(count)))
        labels = []
        for i in range(count.value):
            label = c_char_p()
            check(lib().tm_model_label(self.handle, i, byref(label)))
            labels.append(label.value.decode("utf-8", "replace"))
        return labels

    def vocab_size(self):
        """``tm_model_vocab_size``."""
        out = c_size_t()
        check(lib().tm_model_vocab_size(self.handle, byref(out)))
        return out.value

    # -------------------------------------------------------------- training

    def train(self, texts, labels, valid_texts=None, valid_labels=None, progress=None):
        """``tm_model_train``; returns ``(report_json, cancelled_by_progress)``."""
        t, y, n, vt, vy, vn = encode_training_rows(texts, labels, valid_texts, valid_labels)
        return self._train(lambda cb, out: lib().tm_model_train(
            self.handle, t, y, n, vt, vy, vn, cb, None, out), progress)

    def train_files(self, train_path, valid_path=None, progress=None):
        """``tm_model_train_files``; returns ``(report_json, cancelled_by_progress)``."""
        train, valid = encode_path(train_path), encode_path(valid_path)
        return self._train(lambda cb, out: lib().tm_model_train_files(
            self.handle, train, valid, cb, None, out), progress)

    def _train(self, call, progress):
        callback, state = make_progress_callback(progress)  # referenced until we return
        report = c_void_p()
        outer, self._training_thread = self._training_thread, threading.get_ident()
        try:
            status = call(callback, byref(report))  # GIL released; callback reacquires it
        finally:
            self._training_thread = outer
        error = error_for(status) if status != TM_OK else None  # before any other call
        report_json = take_string(report)
        if state["error"] is not None:
            raise state["error"]
        if status == TM_ERR_CANCELLED and state["cancelled"]:
            return report_json, True
        if error is not None:
            raise error
        return report_json, False

    # ------------------------------------------------------------ evaluation

    def evaluate(self, texts, labels):
        """``tm_model_evaluate``: metrics as JSON text."""
        t, n = encode_texts(texts)
        y, m = encode_texts(labels, "labels")
        if n != m:
            raise ValueError(f"{n} texts but {m} labels")
        out = c_void_p()
        check(lib().tm_model_evaluate(self.handle, t, y, n, byref(out)))
        return take_string(out)

    def evaluate_file(self, path):
        """``tm_model_evaluate_file``: metrics as JSON text."""
        out = c_void_p()
        check(lib().tm_model_evaluate_file(self.handle, encode_path(path), byref(out)))
        return take_string(out)

    # ------------------------------------------------------------- inference

    def predict(self, texts, k):
        """``tm_model_predict``: (label indices int32 (n, k), probabilities float32 (n, k))."""
        t, n = encode_texts(texts)
        indices = np.zeros((n, k), dtype=np.int32)
        probs = np.zeros((n, k), dtype=np.float32)
        check(lib().tm_model_predict(self.handle, t, n, k,
                                     indices.ctypes.data_as(POINTER(c_int32)),
                                     probs.ctypes.data_as(POINTER(c_float))))
        return indices, probs

    def predict_one(self, text):
        """``tm_model_predict_one``: (label index, probability) of one text, as Python int
        and float: what :meth:`predict` ``([text], 1)`` gives, bit for bit, without the
        arrays. ``text`` is a str or UTF-8 bytes; a NUL in it is InvalidArgumentError."""
        # The NUL test on the str (a NUL character is the only one whose UTF-8 holds a
        # 0 byte) and the plain encode are the quick ones; `b"\0" in data` took longer
        # than the prediction's tokenizer. Lone surrogates fail the plain encode and
        # take the "replace" one.
        if text.__class__ is str:
            if "\0" in text:
                raise _nul_error("text", 0, text.encode("utf-8", "replace"))
            try:
                data = text.encode()
            except UnicodeEncodeError:
                data = text.encode("utf-8", "replace")
        else:
            data = text
            if data.__class__ is not bytes:
                if not isinstance(data, (str, bytes)):
                    raise TypeError(f"text must be a str, got {type(text).__name__}")
                data = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
            if 0 in data:
                raise _nul_error("text", 0, data)
        fn, label, prob, label_ref, prob_ref = _one_text_call()
        status = fn(self._handle or self.handle, data, label_ref, prob_ref)
        if status:
            raise error_for(status)
        return label.value, prob.value

    def predict_proba(self, texts):
        """``tm_model_predict_proba``: probabilities float32 (n, num_labels)."""
        t, n = encode_texts(texts)
        count = c_size_t()
        check(lib().tm_model_num_labels(self.handle, byref(count)))
        probs = np.zeros((n, count.value), dtype=np.float32)
        check(lib().tm_model_predict_proba(self.handle, t, n,
                                           probs.ctypes.data_as(POINTER(c_float))))
        return probs

    def predict_values(self, texts):
        """``tm_model_predict_values``: regression predictions float32 (n,)."""
        t, n = encode_texts(texts)
        values = np.zeros(n, dtype=np.float32)
        check(lib().tm_model_predict_values(self.handle, t, n,
                                            values.ctypes.data_as(POINTER(c_float))))
        return values

    def set_threads(self, threads):
        """``tm_model_set_threads``: threads per prediction call, 0 = every core."""
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {type(threads).__name__}")
        if threads < 0 or threads >= 2**63:
            # c_size_t would wrap a negative number and refuse a huge one with ctypes'
            # own ArgumentError; the library's range check cannot see either.
            raise InvalidArgumentError(f"threads must be between 0 (every core) and 1024; got {threads}",
                                       TM_ERR_INVALID_ARGUMENT, "TM_ERR_INVALID_ARGUMENT")
        check(lib().tm_model_set_threads(self.handle, threads))

    def threads(self):
        """``tm_model_threads``."""
        out = c_size_t()
        check(lib().tm_model_threads(self.handle, byref(out)))
        return out.value

    # ------------------------------------------------------------ model file

    def save(self, path, dtype=None):
        """``tm_model_save_as``: the weights stored as ``dtype`` ("f32", "f16" or
        "int8"); None keeps the model's own precision (f32 for a trained model)."""
        dtype = self.precision() if dtype is None else dtype
        check(lib().tm_model_save_as(self.handle, encode_path(path), encode_dtype(dtype)))

    def precision(self):
        """``tm_model_precision``: "f32", "f16" or "int8"."""
        out = c_char_p()
        check(lib().tm_model_precision(self.handle, byref(out)))
        return out.value.decode("ascii")

    # ------------------------------------------------------- model as bytes

    def to_bytes(self, dtype=None):
        """``tm_model_save_to_memory_as``: the model file's bytes as ``bytes`` (the
        library's buffer is copied and released with ``tm_bytes_free``), the weights
        stored as ``dtype``; None keeps the model's own precision, so a pickled int8
        model comes back int8."""
        dtype = self.precision() if dtype is None else dtype
        buffer, size = c_void_p(), c_size_t()
        check(lib().tm_model_save_to_memory_as(self.handle, encode_dtype(dtype), byref(buffer), byref(size)))
        try:
            return ctypes.string_at(buffer.value, size.value)
        finally:
            lib().tm_bytes_free(buffer)

    @classmethod
    def from_bytes(cls, data):
        """``tm_model_load_from_memory``: a model from bytes :meth:`to_bytes` gave (or a
        model file's content); ModelFormatError if they are not a valid model."""
        if not isinstance(data, bytes):
            if not isinstance(data, (bytearray, memoryview)):
                raise TypeError(f"model bytes must be bytes, not {type(data).__name__}")
            data = bytes(data)
        handle = c_void_p()
        check(lib().tm_model_load_from_memory(data, len(data), byref(handle)))
        return cls(handle)

    # ------------------------------------ explanations and sentence vectors

    def explain(self, texts, options):
        """``tm_model_explain``: per text ``(tokens, target, output, reference_output,
        delta)``, tokens as ``(token, start_byte, end_byte, score)`` with byte offsets
        into the UTF-8 the library was given (see :func:`encode_texts`)."""
        t, n = encode_texts(texts)
        out = POINTER(Explanation)()
        check(lib().tm_model_explain(self.handle, t, n, byref(options), byref(out)))
        try:
            result = []
            block = out.contents
            for i in range(block.count):
                e = block.texts[i]
                tokens = [(e.tokens[k].token.decode("utf-8"), e.tokens[k].start, e.tokens[k].end,
                           e.tokens[k].score) for k in range(e.token_count)]
                result.append((tokens, e.target, e.output, e.reference_output, e.delta))
            return result
        finally:
            lib().tm_explanation_free(out)

    def feature_dim(self):
        """``tm_model_feature_dim``."""
        out = c_size_t()
        check(lib().tm_model_feature_dim(self.handle, byref(out)))
        return out.value

    def transform(self, texts):
        """``tm_model_transform``: sentence vectors float32 (n, feature_dim)."""
        t, n = encode_texts(texts)
        features = np.zeros((n, self.feature_dim()), dtype=np.float32)
        check(lib().tm_model_transform(self.handle, t, n, features.ctypes.data_as(POINTER(c_float))))
        return features

    # ------------------------------------------------- bag-model compression

    def quantize(self, cutoff=0, dsub=2, qnorm=False, retrain=False, train=None, train_path=None,
                 epochs=5, lr=0.1, prune_untouched=True, iterations=25, sample_rows=8192,
                 seed=1, threads=0):
        """``tm_model_quantize``: a new, product-quantized :class:`Model` of this trained
        bag model (this one is unchanged); see :func:`quantize_options` for the options.

        ``train=(texts, labels)`` or ``train_path`` (a labelled file, read as training
        reads it) is the data ``retrain=True`` retrains the output layer on.
        InvalidArgumentError for a model that is not a bag model or is already
        quantized, a bad option, or ``retrain`` without data."""
        options = quantize_options(cutoff=cutoff, dsub=dsub, qnorm=qnorm, retrain=retrain,
                                   epochs=epochs, lr=lr, prune_untouched=prune_untouched,
                                   iterations=iterations, sample_rows=sample_rows, seed=seed,
                                   threads=threads)
        if train is not None and train_path is not None:
            raise ValueError("give train=(texts, labels) or train_path, not both")
        handle = c_void_p()
        if train_path is not None:
            check(lib().tm_model_quantize_files(self.handle, byref(options), encode_path(train_path),
                                                byref(handle)))
            return Model(handle)
        t, y, n = None, None, 0
        if train is not None:
            texts, labels = train
            t, n = encode_texts(texts)
            y, m = encode_texts(labels, "labels")
            if n != m:
                raise ValueError(f"{n} texts but {m} labels")
        check(lib().tm_model_quantize(self.handle, byref(options), t, y, n, byref(handle)))
        return Model(handle)

    def is_quantized(self):
        """``tm_model_is_quantized``."""
        out = c_int()
        check(lib().tm_model_is_quantized(self.handle, byref(out)))
        return bool(out.value)


    # --------------------------------------------- training across processes

    def train_epochs(self, texts, labels, counts_json=None, state=None, parameters=None,
                     last_epoch=None):
        """``tm_model_train_epochs``: train on these rows through ``last_epoch`` (None =
        training.epochs, 0 = none: the initial weights) continuing ``state`` (bytes, None = from the seed), with the vocabulary and
        labels of ``counts_json`` (None = of these rows) and ``parameters`` (float32
        array, None = the state's) replacing the state's weights. Returns
        ``(state_bytes, report_json)``."""
        t, n = encode_texts(texts)
        y, m = encode_texts(labels, "labels")
        if n != m:
            raise ValueError(f"{n} texts but {m} labels")
        counts = None if counts_json is None else counts_json.encode("utf-8")
        weights, count = None, 0
        if parameters is not None:
            parameters = np.ascontiguousarray(parameters, dtype=np.float32)
            weights, count = parameters.ctypes.data_as(POINTER(c_float)), parameters.size
        state_bytes = None if state is None else bytes(state)
        if last_epoch is None:
            import json
            last_epoch = json.loads(self.config_json())["training"]["epochs"]
        out_state, out_size, report = c_void_p(), c_size_t(), c_void_p()
        outer, self._training_thread = self._training_thread, threading.get_ident()
        try:
            status = lib().tm_model_train_epochs(
                self.handle, t, y, n, counts, state_bytes, 0 if state_bytes is None else len(state_bytes),
                weights, count, int(last_epoch), byref(out_state), byref(out_size), byref(report))
        finally:
            self._training_thread = outer
        check(status)
        report_json = take_string(report)
        try:
            return ctypes.string_at(out_state.value, out_size.value), report_json
        finally:
            lib().tm_bytes_free(out_state)

    def train_exchanging(self, texts, labels, exchange, sync_every=1, counts_json=None,
                         valid_texts=None, valid_labels=None, progress=None):
        """``tm_model_train_exchanging``: train like :meth:`train`, calling
        ``exchange(parameters, step)`` every ``sync_every`` optimizer steps (0: epoch ends
        only) and at each epoch's end, with the vocabulary and labels of ``counts_json``
        (:func:`merge_corpus_counts` of every worker's; None = of these rows). ``parameters`` is a float32 view of the weights,
        valid during the call only: change it in place (e.g. ``parameters[:] = mean``), or
        return an array to copy into it. An exception ``exchange`` raises stops training
        and is re-raised here. Returns ``(report_json, cancelled_by_progress)``."""
        if not callable(exchange):
            raise TypeError("exchange must be callable as exchange(parameters, step)")
        t, y, n, vt, vy, vn = encode_training_rows(texts, labels, valid_texts, valid_labels)
        counts = None if counts_json is None else counts_json.encode("utf-8")
        raised = []

        def trampoline(_ctx, parameters, count, step):
            if raised:
                return 1
            try:
                view = np.ctypeslib.as_array(parameters, shape=(count,))
                result = exchange(view, int(step))
                if result is not None:
                    view[:] = np.asarray(result, dtype=np.float32).reshape(count)
                return 0
            except BaseException as e:  # re-raised after the C call returns
                raised.append(e)
                return 1

        callback = EXCHANGE_FN(trampoline)  # referenced until the call returns
        try:
            return self._train(lambda cb, out: lib().tm_model_train_exchanging(
                self.handle, t, y, n, vt, vy, vn, counts, int(sync_every), callback, None, cb, None, out),
                progress)
        except TextModelError as e:
            if raised:
                raise raised[0] from e
            raise

    def parameter_count(self):
        """``tm_model_parameter_count``."""
        out = c_size_t()
        check(lib().tm_model_parameter_count(self.handle, byref(out)))
        return out.value

    def get_parameters(self):
        """``tm_model_get_parameters``: the weights as one float32 array (a copy)."""
        out = np.zeros(self.parameter_count(), dtype=np.float32)
        check(lib().tm_model_get_parameters(self.handle, out.ctypes.data_as(POINTER(c_float)), out.size))
        return out

    def set_parameters(self, parameters):
        """``tm_model_set_parameters``: replace the weights (copied)."""
        values = np.ascontiguousarray(parameters, dtype=np.float32)
        check(lib().tm_model_set_parameters(self.handle, values.ctypes.data_as(POINTER(c_float)), values.size))

    def privacy_json(self):
        """``tm_model_privacy_json``: the DP-SGD privacy record as JSON text ("null" for
        a model trained without training.privacy)."""
        out = c_void_p()
        check(lib().tm_model_privacy_json(self.handle, byref(out)))
        return take_string(out)


# ---------------------------------------------------- bag-model compression


class QuantizeOptions(Structure):
    """``tm_quantize_options``; fill with ``tm_quantize_options_init``."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("cutoff", c_size_t),
        ("dsub", c_int32),
        ("qnorm", c_int32),
        ("retrain", c_int32),
        ("epochs", c_int32),
        ("learning_rate", c_double),
        ("prune_untouched", c_int32),
        ("iterations", c_int32),
        ("sample_rows", c_size_t),
        ("seed", ctypes.c_uint64),
        ("threads", c_int32),
    ]


_SIGNATURES.update({
    "tm_quantize_options_init": (None, [POINTER(QuantizeOptions)]),
    "tm_model_quantize": (c_int, [_model_p, POINTER(QuantizeOptions), _texts_p, _texts_p,
                                  c_size_t, POINTER(_model_p)]),
    "tm_model_quantize_files": (c_int, [_model_p, POINTER(QuantizeOptions), c_char_p,
                                        POINTER(_model_p)]),
    "tm_model_is_quantized": (c_int, [_model_p, POINTER(c_int)]),
})


def quantize_options(cutoff=0, dsub=2, qnorm=False, retrain=False, epochs=5, lr=0.1,
                     prune_untouched=True, iterations=25, sample_rows=8192, seed=1, threads=0):
    """A ``tm_quantize_options`` from Python values.

    cutoff: rows kept at most (largest L2 norm first; 0 keeps every row training
    changed); dsub: sub-vector width, dividing embedding_dim; qnorm: quantize norms
    apart; retrain: retrain the output layer (epochs, starting rate lr) on the data
    given to :meth:`Model.quantize`; prune_untouched: drop rows training never changed;
    iterations / sample_rows: k-means steps and rows per codebook; seed; threads
    (0 = every core). TypeError for a non-int where an int belongs; the library checks
    the ranges (InvalidArgumentError)."""
    options = QuantizeOptions()
    lib().tm_quantize_options_init(byref(options))
    ints = (("cutoff", cutoff, 0, 2**31), ("dsub", dsub, -2**31, 2**31),
            ("epochs", epochs, -2**31, 2**31), ("iterations", iterations, -2**31, 2**31),
            ("sample_rows", sample_rows, 0, 2**31), ("seed", seed, 0, 2**64),
            ("threads", threads, -2**31, 2**31))
    for name, value, low, high in ints:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not low <= value < high:
            raise InvalidArgumentError(f"{name} {value} is out of range", TM_ERR_INVALID_ARGUMENT,
                                       "TM_ERR_INVALID_ARGUMENT")
        setattr(options, name, value)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    options.learning_rate = float(lr)
    options.qnorm = 1 if qnorm else 0
    options.retrain = 1 if retrain else 0
    options.prune_untouched = 1 if prune_untouched else 0
    return options

def corpus_counts(config_json, texts, labels):
    """``tm_corpus_counts``: the counts JSON of these rows' tokens and labels."""
    t, n = encode_texts(texts)
    y, m = encode_texts(labels, "labels")
    if n != m:
        raise ValueError(f"{n} texts but {m} labels")
    out = c_void_p()
    config = None if config_json is None else config_json.encode("utf-8")
    check(lib().tm_corpus_counts(config, t, y, n, byref(out)))
    return take_string(out)


def merge_corpus_counts(counts_jsons):
    """``tm_corpus_counts_merge``: one counts JSON from several, in the order given."""
    items = [c.encode("utf-8") for c in counts_jsons]
    array = (c_char_p * len(items))(*items)
    out = c_void_p()
    check(lib().tm_corpus_counts_merge(array, len(items), byref(out)))
    return take_string(out)


#: ``tm_exchange_fn``: ``int (*)(void *ctx, float *parameters, size_t count, int64_t step)``.
EXCHANGE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_float), c_size_t, c_int64)

# Training across processes (textmodel.h, "Training across processes"): textmodel.dask uses
# tm_corpus_counts* and tm_model_train_epochs; tm_model_train_exchanging is the lower-level seam.
_SIGNATURES.update({
    "tm_corpus_counts": (c_int, [c_char_p, _texts_p, _texts_p, c_size_t, _out_str]),
    "tm_corpus_counts_merge": (c_int, [_texts_p, c_size_t, _out_str]),
    "tm_model_train_epochs": (c_int, [_model_p, _texts_p, _texts_p, c_size_t, c_char_p, c_char_p, c_size_t,
                                      POINTER(c_float), c_size_t, c_int32, POINTER(c_void_p),
                                      POINTER(c_size_t), _out_str]),
    "tm_model_train_exchanging": (c_int, [_model_p, _texts_p, _texts_p, c_size_t, _texts_p, _texts_p,
                                          c_size_t, c_char_p, c_int64, EXCHANGE_FN, c_void_p, PROGRESS_FN,
                                          c_void_p, _out_str]),
    "tm_model_parameter_count": (c_int, [_model_p, POINTER(c_size_t)]),
    "tm_model_get_parameters": (c_int, [_model_p, POINTER(c_float), c_size_t]),
    "tm_model_set_parameters": (c_int, [_model_p, POINTER(c_float), c_size_t]),
})
