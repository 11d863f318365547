"""textmodel: Python bindings for libtextmodel, an engine for text classification
(single- and multi-label) and regression.

Quick start::

    from textmodel import TextClassifier
    clf = TextClassifier({"training": {"epochs": 3}}).fit(texts, labels)
    clf.predict(["some new text"])
    clf = TextClassifier(model__type="cnn", training__epochs=5)   # scikit-learn style

    tagger = TextClassifier().fit(texts, [["sports", "news"], ["tech"], ...])
    reg = TextRegressor().fit(texts, [3.5, 1.0, ...])

    best = textmodel.autotune(texts, labels, validation=(vtexts, vlabels), max_trials=8)
    best.trials_                                   # one dict per trial

The shared library is found through the ``TEXTMODEL_LIBRARY`` environment variable,
else as ``libtextmodel.so`` in this package's folder; it is loaded on first use.
"""

from ._lib import (CancelledError, ConfigError, DataError, FileError, InternalError,
                   InvalidArgumentError, ModelFormatError, ResourceError, StateError,
                   TextModelError)
from ._lib import DivergedError
from ._lib import lib as _load
from .classifier import TextClassifier, TextRegressor
from .autotune import autotune

__version__ = "0.6.0"

__all__ = [
    "TextClassifier", "TextRegressor", "NotFittedError", "library_version", "TextModelError",
    "InvalidArgumentError",
    "ConfigError", "FileError", "DataError", "ModelFormatError", "StateError",
    "CancelledError", "ResourceError", "InternalError", "DivergedError", "autotune",
]


def library_version():
    """Version of the loaded libtextmodel, e.g. "0.3.0" (loads it if needed)."""
    return _load().tm_version().decode("ascii")


def __getattr__(name):
    # NotFittedError's base classes depend on whether scikit-learn is installed, which
    # is looked up (and scikit-learn imported) only when the class is first needed;
    # textmodel.plot imports matplotlib, so it loads only when asked for.
    if name == "NotFittedError":
        from ._estimator import not_fitted_error_class
        return not_fitted_error_class()
    if name == "plot":
        import importlib
        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
