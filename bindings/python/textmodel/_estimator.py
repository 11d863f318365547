"""What makes TextClassifier and TextRegressor scikit-learn estimators without
importing scikit-learn: the parameter names (every config key, as ``section__key``),
building the config a fit uses from the parameters, the NotFittedError class, and the
estimator tags. scikit-learn is imported only when one of its own objects is needed
(the tags, and NotFittedError's base class when it is installed)."""

import functools
import importlib.util
import json

from . import _lib

#: The constructor parameters besides the config keys.
BASE_PARAMS = ("config", "threads")


@functools.lru_cache(maxsize=None)
def config_keys():
    """Every config key as a nested parameter name ("tokenizer__lowercase",
    "model__type", "training__epochs", ...), in the library's order: read from the
    resolved config of a fresh default model, so it follows the library loaded."""
    model = _lib.Model.new(None)
    try:
        config = json.loads(model.config_json())
    finally:
        model.close()
    keys = tuple(f"{section}__{key}" for section, keys in config.items() for key in keys)
    # Keys the resolved config leaves out while they hold their defaults (so models that
    # do not use them serialise as before): parameters all the same.
    return keys + tuple(k for k in OMITTED_AT_DEFAULT if k not in keys)


#: Config keys absent from the resolved config at their defaults (docs/config.md).
OMITTED_AT_DEFAULT = ("tokenizer__vocabulary", "model__labels", "training__privacy")


def check_param_names(names, estimator):
    """ValueError naming the first of ``names`` that is no parameter of the estimators."""
    keys = None
    for name in names:
        if name in BASE_PARAMS:
            continue
        if keys is None:
            keys = set(config_keys())
        if name not in keys:
            raise ValueError(
                f"Invalid parameter {name!r} for estimator {type(estimator).__name__}: the "
                f"parameters are {', '.join(BASE_PARAMS)} and every config key as "
                f"section__key (e.g. model__type, training__epochs; see get_params())")


def apply_overrides(config_text, overrides):
    """The config JSON text with each ``section__key`` override set (None removes the
    key, so the library's default applies). Text that is not a JSON object is returned
    unchanged for the library to report."""
    if not overrides:
        return config_text
    config = config_object(config_text)
    if config is None:
        return config_text
    for name, value in overrides.items():
        section, key = name.split("__", 1)
        part = config.setdefault(section, {})
        if not isinstance(part, dict):
            return json.dumps(config)  # the library names the section that is not an object
        if value is None:
            part.pop(key, None)
        else:
            part[key] = _plain(value)
    return json.dumps(config)


def config_object(config_text):
    """A config's JSON text as a dict ({} for None or blank text), or None when it is not
    a JSON object (left for the library to report)."""
    try:
        config = json.loads(config_text) if config_text and config_text.strip() else {}
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def _plain(value):
    """numpy scalars and arrays (as GridSearchCV may hand over) as JSON-able Python."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------ NotFittedError

_not_fitted_error = None


def not_fitted_error_class():
    """textmodel.NotFittedError: a subclass of scikit-learn's NotFittedError when
    scikit-learn is installed (imported here, on first need), else of ValueError and
    AttributeError, as scikit-learn's is."""
    global _not_fitted_error
    if _not_fitted_error is None:
        bases = (ValueError, AttributeError)
        if importlib.util.find_spec("sklearn") is not None:
            from sklearn.exceptions import NotFittedError as SklearnNotFittedError
            bases = (SklearnNotFittedError,)
        _not_fitted_error = type("NotFittedError", bases, {
            "__module__": "textmodel",
            "__doc__": "Raised when a model is used before fit (or load). An "
                       "AttributeError and a ValueError; with scikit-learn installed also "
                       "sklearn.exceptions.NotFittedError.",
        })
    return _not_fitted_error


def not_fitted(estimator, what=None):
    """The NotFittedError for using ``estimator`` (for ``what``) before fit."""
    name = type(estimator).__name__
    use = f" ({what})" if what else ""
    return not_fitted_error_class()(
        f"This {name} instance is not fitted yet{use}. Call 'fit' (or {name}.load) "
        f"before using this estimator.")


# ---------------------------------------------------------------------- tags


def sklearn_tags(estimator_type, multi_label=False):
    """scikit-learn's Tags for a text estimator: input is a 1-D sequence of strings
    (no 2-D numeric array), a target is required, fitting is required."""
    from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

    tags = Tags(
        estimator_type=estimator_type,
        target_tags=TargetTags(required=True),
        input_tags=InputTags(one_d_array=True, two_d_array=False, string=True),
        requires_fit=True,
    )
    if estimator_type == "classifier":
        tags.classifier_tags = ClassifierTags(multi_class=True, multi_label=multi_label)
    else:
        tags.regressor_tags = RegressorTags()
    return tags


def more_tags():
    """The same for scikit-learn before 1.6 (``_more_tags``)."""
    return {"X_types": ["string"], "requires_y": True, "requires_fit": True,
            "no_validation": True}
