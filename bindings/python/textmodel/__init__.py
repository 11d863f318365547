"""textmodel: Python bindings for libtextmodel, an engine for text classification
(single- and multi-label) and regression.

Quick start::

    from textmodel import TextClassifier
    clf = TextClassifier({"training": {"epochs": 3}}).fit(texts, labels)
    clf.predict(["some new text"])

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
from ._lib import lib as _load
from .classifier import TextClassifier, TextRegressor
from .autotune import autotune

__version__ = "0.4.0"

__all__ = [
    "TextClassifier", "TextRegressor", "library_version", "TextModelError", "InvalidArgumentError",
    "ConfigError", "FileError", "DataError", "ModelFormatError", "StateError",
    "CancelledError", "ResourceError", "InternalError", "autotune",
]


def library_version():
    """Version of the loaded libtextmodel, e.g. "0.3.0" (loads it if needed)."""
    return _load().tm_version().decode("ascii")
