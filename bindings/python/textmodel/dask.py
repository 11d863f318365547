"""textmodel on Dask (``pip install textmodel[dask]``): batch inference over the
partitions of Dask collections, and data-parallel training across the workers of a
``dask.distributed`` cluster. Only this module imports dask; Dask places the data and
the work and retries lost tasks; libtextmodel does the maths (docs/dask.md).

Inference::

    labels = textmodel.dask.predict(clf, ddf["text"])        # lazy dask Series
    probs = textmodel.dask.predict_proba(clf, bag_of_texts)   # lazy dask Bag
    vecs = textmodel.dask.transform(clf, ["a.txt", "b.txt"])  # one partition per file

The model travels to each worker once per computation: its pickle (the model file's
bytes, ``tm_model_save_to_memory``) is one graph key named by its SHA-256, every
partition's task depends on it, and a worker process loads it once and keeps it in a
module-level cache under its digest, so no task pickles or sends the model again. A
graph key, not a scattered future: the scheduler can rebuild a key from its graph when
the worker holding it dies, while scattered data exists only on workers (Dask's active
memory manager soon trims a broadcast to one copy), so losing that worker would cancel
the whole computation.

Training (``fit``): round-driven model averaging (local SGD), driven from the client
with no connection between workers (no allreduce ports to collide or hang):

1. every partition counts its tokens and labels (``tm_corpus_counts``); the counts
   merge in partition order (``tm_corpus_counts_merge``) into exactly the vocabulary
   and labels one process builds from all the rows;
2. the partitions are dealt round-robin into ``shards`` shards (partition i to shard
   i % shards); each round, every shard trains ``sync_every`` epochs on its rows from
   the averaged weights of the last round, continuing its own optimizer state,
   learning-rate schedule and shuffles (``tm_model_train_epochs``), and a task
   combines the shards' weights (by default their row-weighted mean);
3. the last combination goes into shard 0's model (``tm_model_set_parameters``): an
   ordinary model file.

With one shard this is exactly the one-process computation, bit for bit. Every round
is a pure task of its inputs, all of which the client keeps referenced until ``fit``
returns: when a worker dies, Dask recomputes what it held, and the model is the one an
undisturbed run gives.
"""

import hashlib
import json
import os
import pickle
import threading
import time

import numpy as np

import dask
import dask.bag as db
import dask.dataframe as dd
import distributed
import pandas as pd

from . import _lib
from .classifier import TextClassifier

__all__ = ["predict", "predict_proba", "transform", "fit"]

# ------------------------------------------------------------------ inference

#: digest -> estimator, in each worker process (and the client's, when it computes).
_LOADED = {}
_LOADED_LOCK = threading.Lock()
#: Models a process keeps loaded at most.
_KEEP_LOADED = 8


def _shipped(model):
    """The estimator's pickle and its digest, as one graph key named by the digest (the
    same key in every computation of the same model)."""
    if not isinstance(model, TextClassifier):
        raise TypeError(f"model must be a fitted TextClassifier, not {type(model).__name__}")
    model._native("predict on Dask")  # NotFittedError before building any graph
    data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(data).hexdigest()
    return digest, dask.delayed(data, name=f"textmodel-model-{digest}")


def _loaded(digest, data, threads):
    """The estimator of ``data``, unpickled once per process; ``threads`` library
    threads per call (None: the Dask worker's thread count, else every core)."""
    with _LOADED_LOCK:
        model = _LOADED.get(digest)
        if model is None:
            model = pickle.loads(data)
            while len(_LOADED) >= _KEEP_LOADED:  # the oldest model goes first
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[digest] = model
    if threads is None:
        try:
            threads = distributed.get_worker().state.nthreads
        except ValueError:  # computed outside a worker (the local scheduler)
            threads = 0
    if model.threads != threads:
        model.threads = threads
    return model


def _run(model, kind, texts):
    if kind == "predict":
        return model.predict(texts)
    if kind == "predict_proba":
        return model.predict_proba(texts)
    return model.transform(texts)


def _series_part(part, digest, data, threads, kind, columns):
    model = _loaded(digest, data, threads)
    out = _run(model, kind, [str(t) for t in part.tolist()])
    if kind == "predict":
        return pd.Series(list(out) if model.task_ == "multi_label" else out, index=part.index, name=part.name)
    return pd.DataFrame(out, index=part.index, columns=columns)


def _bag_part(texts, digest, data, threads, kind):
    out = _run(_loaded(digest, data, threads), kind, [str(t) for t in texts])
    return list(out)


def _file_part(paths, digest, data, threads, kind):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            texts = [line.rstrip("\n") for line in f]
        rows.extend(_run(_loaded(digest, data, threads), kind, texts))
    return rows


def _apply(model, texts, kind, threads):
    digest, data = _shipped(model)
    if isinstance(texts, dd.DataFrame):
        if len(texts.columns) != 1:
            raise ValueError("pass one column of texts (ddf['text']), not a DataFrame of "
                             f"{len(texts.columns)} columns")
        texts = texts[texts.columns[0]]
    if isinstance(texts, dd.Series):
        native = model._native()
        if kind == "predict":
            dtype = object if model.task_ == "multi_label" else model.classes_.dtype
            meta = pd.Series([], dtype=dtype, name=texts.name)
            columns = None
        else:
            columns = ([str(c) for c in model.classes_] if kind == "predict_proba"
                       else [f"f{i}" for i in range(native.feature_dim())])
            meta = pd.DataFrame({c: pd.Series([], dtype=np.float32) for c in columns})
        return texts.map_partitions(_series_part, digest, data, threads, kind, columns, meta=meta)
    if isinstance(texts, db.Bag):
        return texts.map_partitions(_bag_part, digest, data, threads, kind)
    if isinstance(texts, (list, tuple)) and texts and all(isinstance(p, (str, os.PathLike)) for p in texts):
        paths = [os.fspath(p) for p in texts]
        return db.from_sequence(paths, npartitions=len(paths)).map_partitions(
            _file_part, digest, data, threads, kind)
    raise TypeError("texts must be a dask Series (or one-column DataFrame), a dask Bag of "
                    f"strings, or a non-empty list of file paths; got {type(texts).__name__}")


def predict(model, texts, threads=None):
    """``model.predict`` over every partition: a lazy dask Series aligned with a Series
    input (same partitions and index), else a Bag (a file's lines in order, one
    partition per file). ``threads``: library threads per task (None: the worker's)."""
    return _apply(model, texts, "predict", threads)


def predict_proba(model, texts, threads=None):
    """``model.predict_proba`` over every partition: a lazy dask DataFrame (one float32
    column per class, named ``str(class)``) for a Series, else a Bag of rows."""
    return _apply(model, texts, "predict_proba", threads)


def transform(model, texts, threads=None):
    """``model.transform`` (sentence vectors) over every partition: a lazy dask
    DataFrame (columns f0 ... f{d-1}) for a Series, else a Bag of rows."""
    return _apply(model, texts, "transform", threads)


# ------------------------------------------------------------------- training


def _partitions(train):
    """Delayed ``(texts, labels)`` per partition of the training data."""
    if isinstance(train, tuple) and len(train) == 2:
        texts, labels = train
        if not (isinstance(texts, dd.Series) and isinstance(labels, dd.Series)):
            raise TypeError("train as a pair must be two dask Series (texts, labels)")
        if texts.npartitions != labels.npartitions:
            raise ValueError(f"texts have {texts.npartitions} partitions but labels {labels.npartitions}")
        return [dask.delayed(_pair)(t, y) for t, y in zip(texts.to_delayed(), labels.to_delayed())]
    if isinstance(train, dd.DataFrame):
        missing = {"text", "label"} - set(train.columns)
        if missing:
            raise ValueError(f"the training DataFrame needs columns 'text' and 'label' (missing {sorted(missing)})")
        return [dask.delayed(_frame_pair)(p) for p in train[["text", "label"]].to_delayed()]
    if isinstance(train, db.Bag):
        return [dask.delayed(_bag_pair)(p) for p in train.to_delayed()]
    raise TypeError("train must be a dask DataFrame with 'text' and 'label' columns, a pair of "
                    f"dask Series (texts, labels) or a dask Bag of (text, label) pairs; got {type(train).__name__}")


def _strings(values):
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _pair(texts, labels):
    return _strings(texts.tolist()), _strings(labels.tolist())


def _frame_pair(frame):
    return _strings(frame["text"].tolist()), _strings(frame["label"].tolist())


def _bag_pair(rows):
    rows = list(rows)
    return _strings(r[0] for r in rows), _strings(r[1] for r in rows)


def _counts(config_json, part):
    return _lib.corpus_counts(config_json, *part)


def _merge_counts(*counts):
    return _lib.merge_corpus_counts(list(counts))


def _shard(*parts):
    texts, labels = [], []
    for t, y in parts:
        texts.extend(t)
        labels.extend(y)
    return texts, labels


def _train_round(config_json, counts_json, shard, previous, average, last_epoch, final):
    """One shard's round: epochs after ``previous``'s state through ``last_epoch`` from
    ``average``. Returns (state, report, usable rows, model bytes if ``final``)."""
    texts, labels = shard
    model = _lib.Model.new(config_json)
    try:
        state = previous[0] if previous is not None else None
        new_state, report = model.train_epochs(texts, labels, counts_json, state, average, last_epoch)
        rows = json.loads(report)["train_examples"]
        return new_state, report, rows, model.to_bytes() if final else None
    finally:
        model.close()


def state_parameters(state):
    """The weights (float32, flat) inside a training state from
    ``tm_model_train_epochs`` (a safetensors file; read-only)."""
    size = int.from_bytes(state[:8], "little")
    header = json.loads(state[8:8 + size])
    start, end = header["parameters"]["data_offsets"]
    base = 8 + size
    return np.frombuffer(state, dtype=np.float32, count=(end - start) // 4, offset=base + start)


def _combine(combine, base, *results):
    """The next round's weights from the shards' (in shard order, in float64).
    "sum": base + the sum of every shard's change from base, which to first order is
    the one-process epoch over all the rows (each shard's change is its share of it;
    a mean would divide the update of a row only one shard touches, e.g. an embedding
    row of a rare word, by the number of shards). "mean": the row-weighted mean of
    the shards' weights (plain model averaging). One shard: its own weights, unchanged."""
    if len(results) == 1:
        return state_parameters(results[0][0]).copy()
    if combine == "mean":
        total = sum(r[2] for r in results)
        out = np.zeros(base.size, dtype=np.float64)
        for r in results:
            out += state_parameters(r[0]).astype(np.float64) * (r[2] / total)
    else:
        start = base.astype(np.float64)
        out = start.copy()
        for r in results:
            out += state_parameters(r[0]).astype(np.float64) - start
    return out.astype(np.float32)


def _initial(result):
    return state_parameters(result[0]).copy()


def _final_model(result, average):
    model = _lib.Model.from_bytes(result[3])
    try:
        model.set_parameters(average)
        return model.to_bytes()
    finally:
        model.close()


def _distributed_config(config):
    resolved = TextClassifier(config).resolved_config()
    t = resolved["training"]
    if t.get("early_stopping", "none") != "none":
        raise ValueError("training.early_stopping is not supported by distributed fit: every "
                         "shard would stop on its own; set it to \"none\" (pass validation to score the result)")
    if t.get("validation_fraction", 0) > 0:
        raise ValueError("training.validation_fraction is not supported by distributed fit: "
                         "set it to 0 and pass validation data instead")
    if t.get("checkpoint_path"):
        raise ValueError("training.checkpoint_path is not used by distributed fit (the client "
                         "holds every round's state): leave it unset")
    return json.dumps(resolved), resolved


def fit(config, train, validation=None, client=None, shards=None, sync_every=1,
        combine="mean", round_timeout=3600.0, on_round=None):
    """Train a TextClassifier on a Dask cluster by round-driven model averaging.

    Args:
        config: as TextClassifier's (None, a dict or a JSON file path).
        train: a dask DataFrame with columns "text" and "label", a pair of dask Series
            (texts, labels) with the same partitions, or a dask Bag of (text, label).
            Labels are taken as strings; a missing text or label skips its row.
        validation: optional data of the same kinds, scored at the end
            (``report_["distributed"]["valid_accuracy"]``).
        client: a ``distributed.Client`` (None: the current one).
        shards: trainers, each taking partitions i with i % shards == its index
            (None: one per worker now connected). The model depends on the data,
            its partitioning, the config and ``shards`` only (not on which worker
            runs what): the same inputs give the same model on every run, and
            ``shards=1`` gives the one-process model bit for bit.
        sync_every: epochs per round between two averagings (K of local SGD).
        combine: "mean" (the default: the row-weighted mean of the shards' weights)
            or "sum" (the round's start plus every shard's change); docs/dask.md
            compares them.
        round_timeout: seconds any one step (the counts, each round) may take before
            fit fails with TimeoutError naming it, e.g. when no worker is left.
        on_round: optional ``on_round(round, epochs_done, reports)`` after each round.

    Returns a fitted TextClassifier (an ordinary model, ``report_["distributed"]`` has
    the rounds' reports).
    """
    if int(sync_every) < 1:
        raise ValueError(f"sync_every must be at least 1; got {sync_every}")
    if combine not in ("sum", "mean"):
        raise ValueError(f'combine must be "sum" or "mean"; got {combine!r}')
    client = client or distributed.get_client()
    config_json, resolved = _distributed_config(config)
    epochs = resolved["training"]["epochs"]
    parts = client.compute(_partitions(train))
    if not parts:
        raise ValueError("the training data has no partitions")
    if shards is None:
        shards = max(1, min(len(client.scheduler_info(n_workers=-1)["workers"]), len(parts)))
    if not 1 <= int(shards) <= len(parts):
        raise ValueError(f"shards must be between 1 and the {len(parts)} partitions; got {shards}")
    shards = int(shards)
    held = list(parts)  # every future stays referenced: Dask can recompute what a dead worker held

    def wait_for(futures, what):
        try:
            distributed.wait(futures, timeout=round_timeout)
        except distributed.TimeoutError:
            raise TimeoutError(f"distributed fit: {what} did not finish within round_timeout = {round_timeout} s "
                               f"({len(client.scheduler_info(n_workers=-1)['workers'])} workers connected)") from None
        for f in futures:
            if f.status == "error":
                f.result()  # raises the task's own exception

    counts = [client.submit(_counts, config_json, p, pure=False) for p in parts]
    merged = client.submit(_merge_counts, *counts, pure=False)
    shard_data = [client.submit(_shard, *parts[k::shards], pure=False) for k in range(shards)]
    held += counts + [merged] + shard_data
    wait_for([merged] + shard_data, "counting the vocabulary and labels")

    started = time.monotonic()
    # Round 0: every shard's state before its first epoch (the seed's initial weights,
    # the same on every shard), the base the first round's changes are measured from.
    results = [client.submit(_train_round, config_json, merged, shard_data[k], None, None, 0, False, pure=False)
               for k in range(shards)]
    average = client.submit(_initial, results[0], pure=False)
    held += results + [average]
    wait_for(results + [average], "initialising the shards")
    done, reports = 0, []
    while done < epochs:
        last = min(epochs, done + int(sync_every))
        final = last == epochs
        results = [client.submit(_train_round, config_json, merged, shard_data[k], results[k], average, last,
                                 final and k == 0, pure=False) for k in range(shards)]
        average = client.submit(_combine, combine, average, *results, pure=False)
        held += results + [average]
        wait_for(results + [average], f"round {len(reports) + 1} (epochs {done + 1}-{last})")
        round_reports = [json.loads(r) for r in client.gather([client.submit(lambda r: r[1], r, pure=False)
                                                              for r in results])]
        reports.append(round_reports)
        done = last
        if on_round is not None:
            on_round(len(reports), done, round_reports)
    final = client.submit(_final_model, results[0], average, pure=False)
    wait_for([final], "the final model")
    clf = TextClassifier(config)
    native = _lib.Model.from_bytes(final.result())
    clf._adopt(native, None, reports[-1][0] and json.dumps(reports[-1][0]), False)
    clf.report_["distributed"] = {
        "shards": shards, "sync_every": int(sync_every), "combine": combine, "rounds": reports,
        "seconds": time.monotonic() - started,
    }
    if validation is not None:
        vparts = _partitions(validation)
        pairs = client.gather(client.compute(vparts))
        texts = [t for p in pairs for t in p[0]]
        labels = [y for p in pairs for y in p[1]]
        clf.report_["distributed"]["valid_accuracy"] = float(clf.score(texts, labels))
    del held
    return clf


def fit_estimator(estimator, texts, labels, validation=None, client=None):
    """What ``TextClassifier.fit`` runs when handed Dask collections: :func:`fit` with
    the estimator's config and parameters, adopted into ``estimator``. ``texts`` and
    ``labels`` are two dask Series with the same partitions (or ``texts`` a dask
    DataFrame with "text" and "label" columns and ``labels`` None)."""
    train = texts if labels is None else (texts, labels)
    if validation is not None and isinstance(validation, tuple) and len(validation) == 2 \
            and not isinstance(validation[0], dd.Series):
        raise TypeError("with Dask training data, validation must be Dask collections too")
    text = estimator._config_text()
    result = fit(json.loads(text) if text else None, train, validation=validation, client=client)
    estimator._adopt(result._model, None, json.dumps(result.report_), False)
    estimator._threads_applied = None
    return estimator
