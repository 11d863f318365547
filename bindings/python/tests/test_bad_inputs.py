"""A catalogue of bad inputs through the Python API, one table row per input.

Each row of CASES is ``Case(id, call, expected, match)``:

* ``call(ctx)`` does one thing with the public API (``TextClassifier`` and its
  methods); ``ctx`` gives it a scratch directory, a trained model and helpers.
* ``expected`` is the exception class it must raise -- exactly that class, not a
  subclass or a parent -- or ``None`` when the input is odd but valid and must NOT
  raise (invalid UTF-8 is replaced, not rejected; a 10 MB line trains); those calls
  check their own results.
* ``match`` is a substring the exception's message must contain (case-insensitive):
  the key path, file name, label or limit a user needs to fix the input.

Every library error must also carry its status name and a non-empty message. Rows
that ask for absurd amounts of memory run in a forked child under an address-space
limit (``capped``), so a missing check fails the row instead of exhausting the machine.

What the header (include/textmodel.h) and docs/config.md promise decides the
expectations: e.g. NULL texts are skipped by training and evaluation but refused by
prediction; ``max_length`` drops the tokens of an over-long text, so a 10 MB line is a
valid (truncated) example.
"""

import json
import os
import resource
import struct
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import textmodel
from textmodel import _lib
from textmodel import NotFittedError
from textmodel import (ConfigError, DataError, FileError, InvalidArgumentError,
                       ModelFormatError, ResourceError, StateError, TextClassifier,
                       TextModelError)

TINY = {
    "tokenizer": {"min_freq": 1},
    "model": {"type": "lstm", "embedding_dim": 8, "hidden_dim": 8},
    "training": {"epochs": 1, "batch_size": 16, "threads": 1, "seed": 3},
}
TEXTS = ["pizza and pasta today", "a late goal in the match", "my laptop runs the code",
         "fresh bread and cheese", "the team won the game", "new phone software"] * 5
LABELS = ["food", "sports", "tech"] * 10
PROBE = ["pizza", "goal", "laptop", "", "unknown words only"]
GOOD_CSV = "label,text\nfood,pizza and pasta\nsports,a late goal\ntech,my laptop\n"
TEN_MB = 10 * 1024 * 1024

STATUS_OF = {
    InvalidArgumentError: "TM_ERR_INVALID_ARGUMENT", ConfigError: "TM_ERR_CONFIG",
    FileError: "TM_ERR_IO", DataError: "TM_ERR_DATA",
    ModelFormatError: "TM_ERR_MODEL_FORMAT", StateError: "TM_ERR_STATE",
    ResourceError: "TM_ERR_RESOURCE",
}

Case = namedtuple("Case", "id call expected match")


# ------------------------------------------------------------------- context


class Ctx:
    """What the rows work with: a scratch directory, a trained 3-class model saved to
    ``model_path`` (bytes in ``model_bytes``) and small helpers."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self._models = []
        self.trained = self.track(TextClassifier(TINY).fit(TEXTS, LABELS))
        self.reference = self.trained.predict_proba(PROBE)
        self.model_path = str(self.dir / "good.tmmodel")
        self.trained.save(self.model_path)
        self.model_bytes = Path(self.model_path).read_bytes()
        self.header_end = 8 + struct.unpack("<Q", self.model_bytes[:8])[0]

    def track(self, model):
        self._models.append(model)
        return model

    def fresh(self, config=TINY):
        """A new untrained classifier (closed at the end of the module)."""
        return self.track(TextClassifier(config))

    def path(self, name):
        return str(self.dir / name)

    def write(self, name, content):
        """Writes str (UTF-8) or bytes to the scratch directory; returns the path."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        Path(self.path(name)).write_bytes(data)
        return self.path(name)

    def config_file(self, name, text):
        return self.write(name, text)

    def model_file(self, name, data):
        return self.write(name, data)

    def header_replaced(self, old, new):
        """The good model file with `old` replaced by `new` in its JSON header (same
        length, so every offset stays valid)."""
        assert len(old) == len(new)
        header = self.model_bytes[8:self.header_end]
        assert old in header, old
        return (self.model_bytes[:8] + header.replace(old, new, 1) +
                self.model_bytes[self.header_end:])

    def flipped(self, offset, mask=0x01):
        data = bytearray(self.model_bytes)
        data[offset] ^= mask
        return bytes(data)

    def close(self):
        for m in self._models:
            m.close()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    c = Ctx(tmp_path_factory.mktemp("bad_inputs"))
    yield c
    c.close()


# ------------------------------------------------------------------- helpers


def capped(call, headroom=1 << 30):
    """Runs call(ctx) in a forked child whose address space may grow by at most
    `headroom` bytes, and re-raises the exception it raised. A child that dies (e.g.
    the library tried to allocate the absurd amount and aborted) fails the row."""

    def limit():
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (vm + headroom, vm + headroom))

    return in_child(call, limit)


def as_nobody(call):
    """Runs call(ctx) in a forked child that has dropped root to nobody (65534), so
    file permissions apply; skips the row when not running as root."""

    def drop():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    def run(ctx):
        if os.geteuid() != 0:
            pytest.skip("needs root to drop to nobody")
        return in_child(call, drop)(ctx)

    return run


def in_child(call, prepare):
    """Runs prepare() then call(ctx) in a forked child and re-raises in the parent the
    exception call raised. A child that dies fails the row."""

    def run(ctx):
        sys.stdout.flush()
        sys.stderr.flush()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns into pytest
            try:
                os.close(read_fd)
                prepare()
                try:
                    call(ctx)
                    out = {"ok": True}
                except BaseException as e:  # noqa: BLE001 - sent to the parent
                    out = {"ok": False, "type": type(e).__name__, "str": str(e),
                           "message": getattr(e, "message", None),
                           "status": getattr(e, "status", None),
                           "status_name": getattr(e, "status_name", None)}
                os.write(write_fd, json.dumps(out).encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        chunks = []
        while True:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
        if not chunks:
            raise AssertionError(
                f"the child died ({'signal %d' % os.WTERMSIG(status) if os.WIFSIGNALED(status) else 'exit %d' % os.WEXITSTATUS(status)}) "
                "instead of returning an error: the library tried to allocate it")
        out = json.loads(b"".join(chunks))
        if out["ok"]:
            return None
        cls = getattr(textmodel, out["type"], None) or getattr(__import__("builtins"),
                                                               out["type"], Exception)
        if isinstance(cls, type) and issubclass(cls, TextModelError):
            raise cls(out["message"], out["status"], out["status_name"])
        raise cls(out["str"])

    return run


def save_denied(target):
    """A row body: as nobody, save the trained model to `target` ("new": a new file,
    "over": over the model file) in a root-owned directory; the model file there must
    still load and predict as before, with no temporary file left."""

    def run(c):
        directory = tempfile.mkdtemp(prefix="tm-perm-")
        try:
            os.chmod(directory, 0o755)
            existing = os.path.join(directory, "m.tmmodel")
            c.trained.save(existing)
            path = existing if target == "over" else os.path.join(directory, "new.tmmodel")
            try:
                as_nobody(lambda c: c.trained.save(path))(c)
            finally:
                assert sorted(os.listdir(directory)) == ["m.tmmodel"], os.listdir(directory)
                with TextClassifier.load(existing) as kept:
                    np.testing.assert_array_equal(kept.predict_proba(PROBE), c.reference)
        finally:
            for name in os.listdir(directory):
                os.unlink(os.path.join(directory, name))
            os.rmdir(directory)

    return run


def fit(config, texts=TEXTS, labels=LABELS, **kw):
    """A row body: train a new classifier with `config` on `texts`."""
    return lambda c: c.fresh(config).fit(texts, labels, **kw)


def fit_file(name, content, config=TINY, valid=None):
    """A row body: write `content` to `name` and train a new classifier on it."""
    def run(c):
        path = c.write(name, content)
        valid_path = c.write(*valid) if isinstance(valid, tuple) else valid
        return c.fresh(config).fit_files(path, valid_path)
    return run


def fitted(model):
    """Fits `model` on the small data: a config is checked when the model is fitted
    (the constructor only stores it, as scikit-learn's estimators do)."""
    return model.fit(TEXTS, LABELS)


def config_text(name, text):
    """A row body: a classifier with a config file holding `text`, fitted."""
    return lambda c: fitted(TextClassifier(c.config_file(name, text)))


def tiny_with(section, **values):
    config = json.loads(json.dumps(TINY))
    config.setdefault(section, {}).update(values)
    return config


def load_bytes(name, data_of):
    """A row body: load a model file whose bytes are data_of(ctx)."""
    return lambda c: TextClassifier.load(c.model_file(name, data_of(c)))


# ----------------------------------------------------- rows that must succeed


def utf8_labels_replaced_in_memory(c):
    model = c.fresh().fit([b"pizza \xff pasta", b"goal \xc3 match"] * 3,
                          [b"f\xffood", b"sp\xc3orts"] * 3)
    assert list(model.classes_) == ["f\ufffdood", "sp\ufffdorts"]
    assert set(model.predict([b"\xfe\xff", "pizza"])) <= set(model.classes_)


def utf8_replaced_in_csv(c):
    path = c.write("utf8.csv", b"label,text\nf\xffood,pizza \xfe pasta\n"
                               b"sports,goal \xc3\nsports,a match\xe2\x82\n")
    model = c.fresh().fit_files(path)
    assert list(model.classes_) == ["f\ufffdood", "sports"]
    assert model.report_["train_examples"] == 3


def utf8_replaced_in_fasttext(c):
    path = c.write("utf8.txt", b"__label__f\xffood pizza \xfe\n__label__sports goal\xc3\n")
    model = c.fresh().fit_files(path)
    assert list(model.classes_) == ["f\ufffdood", "sports"]


def utf8_replaced_in_predict_and_evaluate(c):
    probs = c.trained.predict_proba([b"pizza \xff\xfe", b"\xc3", "caf\udce9"])
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    metrics = c.trained.evaluate([b"pizza \xff", b"goal \xc3"], ["food", "sports"])
    assert metrics["examples"] == 2


def ten_mb_words():
    words = "pizza goal laptop the and a "
    return (words * (TEN_MB // len(words) + 1))[:TEN_MB].strip()


def ten_mb_line_in_csv(c):
    path = c.write("long.csv", "label,text\nfood,pizza and pasta\nsports,a late goal\n"
                               'tech,"' + ten_mb_words() + '"\nfood,fresh bread\n')
    model = c.fresh().fit_files(path)
    assert model.report_["train_examples"] == 4  # the long row is a (truncated) example
    assert list(model.classes_) == ["food", "sports", "tech"]


def ten_mb_line_in_fasttext(c):
    path = c.write("long.txt", "__label__food pizza and pasta\n__label__sports a late goal\n"
                               "__label__tech " + ten_mb_words() + "\n__label__food bread\n")
    model = c.fresh().fit_files(path)
    assert model.report_["train_examples"] == 4


def ten_mb_token_in_fasttext(c):
    path = c.write("token.txt", "__label__food pizza\n__label__sports goal\n"
                                "__label__tech " + "x" * TEN_MB + "\n")
    model = c.fresh().fit_files(path)
    assert model.report_["train_examples"] == 3


def ten_mb_text_predicted(c):
    probs = c.trained.predict_proba([ten_mb_words(), "pizza"])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def jsonl_bad_fields_skipped(c):
    path = c.write("fields.jsonl",
                   '{"label": "food", "text": "pizza"}\n{"label": "sports"}\n{"text": "goal"}\n'
                   '{"label": "sports", "text": {"w": "goal"}}\n{"label": {"n": 1}, "text": "x"}\n'
                   '{"label": 7, "text": "seven"}\n{"label": "sports", "text": null}\n')
    model = c.fresh().fit_files(path)
    assert list(model.classes_) == ["7", "food"]
    assert model.report_["skipped_empty_text"] == 3
    assert model.report_["skipped_missing_label"] == 2


def none_texts_skipped_in_training(c):
    model = c.fresh().fit(TEXTS + [None, ""], LABELS + ["food", "tech"])
    assert model.report_["skipped_empty_text"] == 2


def none_labels_skipped_in_training(c):
    model = c.fresh().fit(TEXTS + ["pizza"], LABELS + [None])
    assert model.report_["skipped_missing_label"] == 1


def none_label_skipped_in_evaluation(c):
    metrics = c.trained.evaluate(["pizza", "goal", None], ["food", None, "tech"])
    assert metrics["examples"] == 1 and metrics["skipped"] == 2


def empty_batch_predicts_nothing(c):
    assert c.trained.predict([]).shape == (0,)
    assert c.trained.predict_proba([]).shape == (0, 3)


def empty_and_blank_texts_predict(c):
    probs = c.trained.predict_proba(["", "   ", "\n\t"])
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)


# ---------------------------------------------------------------------- table

CASES = [
    # ---- config files: malformed or truncated JSON
    Case("config-file/unclosed-object", config_text("c1.json", "{"), ConfigError,
         "incomplete"),
    Case("config-file/truncated-section", config_text("c2.json", '{"training": {"epochs": 3'),
         ConfigError, "incomplete"),
    Case("config-file/truncated-string", config_text("c3.json", '{"model": {"type": "ls'),
         ConfigError, "config"),
    Case("config-file/trailing-comma", config_text("c4.json", '{"model": {"hidden_dim": 8,}}'),
         ConfigError, "not valid JSON"),
    Case("config-file/comment", config_text("c5.json", "/* defaults */ {}"), ConfigError,
         "not valid JSON"),
    Case("config-file/single-quotes", config_text("c6.json", "{'model': {}}"), ConfigError,
         "not valid JSON"),
    Case("config-file/trailing-garbage", config_text("c7.json", '{"model": {}} xyz'),
         ConfigError, "JSON"),
    Case("config-file/two-objects", config_text("c8.json", "{} {}"), ConfigError, "JSON"),
    Case("config-file/utf8-bom", config_text("c9.json", "\ufeff{}"), ConfigError,
         "not valid JSON"),
    Case("config-file/array", config_text("c10.json", "[1, 2]"), ConfigError,
         "must be a JSON object"),
    Case("config-file/null", config_text("c11.json", "null"), ConfigError,
         "must be a JSON object"),
    Case("config-file/missing", lambda c: fitted(TextClassifier(c.path("nope.json"))),
         FileNotFoundError, "nope.json"),
    Case("config/not-a-dict-or-path", lambda c: fitted(TextClassifier(42)), TypeError,
         "config must be"),
    Case("config/nan", lambda c: fitted(TextClassifier(tiny_with("training", learning_rate=float("nan")))),
         ConfigError, "not valid JSON"),
    Case("config/infinity", lambda c: fitted(TextClassifier(tiny_with("training", learning_rate=float("inf")))),
         ConfigError, "not valid JSON"),
    # ---- unknown keys, at every level
    Case("config/unknown-top-level-key", lambda c: fitted(TextClassifier({"modle": {}})), ConfigError,
         "modle is not a known key"),
    Case("config/unknown-tokenizer-key", lambda c: fitted(TextClassifier({"tokenizer": {"lowercas": True}})),
         ConfigError, "tokenizer.lowercas"),
    Case("config/unknown-model-key", lambda c: fitted(TextClassifier({"model": {"hidden_sizee": 8}})),
         ConfigError, "model.hidden_sizee"),
    Case("config/unknown-training-key",
         lambda c: fitted(TextClassifier({"training": {"learnin_rate": 0.1}})), ConfigError,
         "training.learnin_rate"),
    Case("config/unknown-data-key", lambda c: fitted(TextClassifier({"data": {"formatt": "csv"}})),
         ConfigError, "data.formatt"),
    Case("config/unknown-key-after-valid-ones",
         lambda c: fitted(TextClassifier({"model": {"hidden_dim": 8, "extra": {"y": 1}}})), ConfigError,
         "model.extra"),
    # ---- wrong types
    Case("config/section-is-array", lambda c: fitted(TextClassifier({"model": []})), ConfigError,
         "model must be an object"),
    Case("config/section-is-string", lambda c: fitted(TextClassifier({"tokenizer": "x"})), ConfigError,
         "tokenizer must be an object"),
    Case("config/int-is-string", lambda c: fitted(TextClassifier({"model": {"hidden_dim": "16"}})),
         ConfigError, "model.hidden_dim"),
    Case("config/int-is-bool", lambda c: fitted(TextClassifier({"model": {"hidden_dim": True}})),
         ConfigError, "model.hidden_dim"),
    Case("config/int-has-fraction", lambda c: fitted(TextClassifier({"model": {"hidden_dim": 16.5}})),
         ConfigError, "model.hidden_dim"),
    Case("config/bool-is-int", lambda c: fitted(TextClassifier({"tokenizer": {"lowercase": 1}})),
         ConfigError, "tokenizer.lowercase"),
    Case("config/number-is-string",
         lambda c: fitted(TextClassifier({"training": {"learning_rate": "fast"}})), ConfigError,
         "training.learning_rate"),
    Case("config/int-is-array", lambda c: fitted(TextClassifier({"training": {"epochs": [3]}})),
         ConfigError, "training.epochs"),
    Case("config/string-is-int", lambda c: fitted(TextClassifier({"data": {"text_column": 3}})),
         ConfigError, "data.text_column"),
    Case("config/unknown-optimizer",
         lambda c: fitted(TextClassifier({"training": {"optimizer": "adagrad"}})), ConfigError,
         "adagrad"),
    Case("config/unknown-model-type", lambda c: fitted(TextClassifier({"model": {"type": "xlnet"}})),
         ConfigError, "model.type"),
    # ---- zero, negative and absurd sizes
    Case("config/hidden-dim-zero", lambda c: fitted(TextClassifier({"model": {"hidden_dim": 0}})),
         ConfigError, "model.hidden_dim"),
    Case("config/hidden-dim-negative", lambda c: fitted(TextClassifier({"model": {"hidden_dim": -3}})),
         ConfigError, "-3"),
    Case("config/embedding-dim-negative",
         lambda c: fitted(TextClassifier({"model": {"embedding_dim": -1}})), ConfigError,
         "model.embedding_dim"),
    Case("config/batch-size-zero", lambda c: fitted(TextClassifier({"training": {"batch_size": 0}})),
         ConfigError, "training.batch_size"),
    Case("config/epochs-zero", lambda c: fitted(TextClassifier({"training": {"epochs": 0}})),
         ConfigError, "training.epochs"),
    Case("config/max-length-zero", lambda c: fitted(TextClassifier({"tokenizer": {"max_length": 0}})),
         ConfigError, "tokenizer.max_length"),
    Case("config/learning-rate-negative",
         lambda c: fitted(TextClassifier({"training": {"learning_rate": -1}})), ConfigError,
         "training.learning_rate"),
    Case("config/threads-negative", lambda c: fitted(TextClassifier({"training": {"threads": -1}})),
         ConfigError, "training.threads"),
    Case("config/max-memory-zero", lambda c: fitted(TextClassifier({"training": {"max_memory_mb": 0}})),
         ConfigError, "training.max_memory_mb"),
    Case("config/absurd-hidden-dim-1e12",
         capped(lambda c: TextClassifier({"model": {"hidden_dim": 10 ** 12}}).fit(TEXTS, LABELS)),
         ConfigError, "model.hidden_dim"),
    Case("config/absurd-embedding-dim-2^64",
         capped(lambda c: TextClassifier({"model": {"embedding_dim": 2 ** 64}}).fit(TEXTS, LABELS)),
         ConfigError, "model.embedding_dim"),
    Case("config/absurd-max-size-1e300",
         capped(lambda c: TextClassifier({"tokenizer": {"max_size": 1e300}}).fit(TEXTS, LABELS)),
         ConfigError, "tokenizer.max_size"),
    Case("config/absurd-buckets-1e15",
         capped(lambda c: fitted(TextClassifier({"tokenizer": {"buckets": 10 ** 15}}))),
         ConfigError, "tokenizer.buckets"),
    Case("fit/absurd-lstm-4096x4096x16",
         capped(fit({"model": {"type": "lstm", "embedding_dim": 4096, "hidden_dim": 4096, "layers": 16}})),
         ResourceError, "max_memory_mb"),
    Case("fit/absurd-bag-10M-buckets-x4096",
         capped(fit({"model": {"type": "bag", "embedding_dim": 4096},
                     # fit_buckets would size 10M buckets down to the tiny data's few.
                     "tokenizer": {"word_ngrams": 2, "buckets": 10_000_000, "fit_buckets": False}})),
         ResourceError, "max_memory_mb"),
    Case("fit/absurd-batch-and-length",
         capped(fit({"tokenizer": {"max_length": 100000, "min_freq": 1},
                     "model": {"type": "lstm", "embedding_dim": 1024, "hidden_dim": 1024},
                     "training": {"batch_size": 1000000, "epochs": 1, "threads": 1}},
                    texts=["pizza " * 200000] * 2 + ["goal"] * 2,
                    labels=["food", "food", "sports", "sports"])),
         ResourceError, "max_memory_mb"),
    Case("fit/memory-cap-1mb", capped(fit({"training": {"max_memory_mb": 1}})), ResourceError,
         "max_memory_mb = 1"),
    # ---- endless and huge files: a limit or a checked allocation, never a trap
    Case("load/dev-zero", capped(lambda c: TextClassifier.load("/dev/zero")), ResourceError,
         "out of memory reading /dev/zero"),
    Case("fit-files/dev-zero",
         lambda c: c.fresh(tiny_with("training", max_memory_mb=16)).fit_files("/dev/zero"),
         ResourceError, "/dev/zero gave more than 16 MB without ending (training.max_memory_mb)"),
    Case("evaluate-file/dev-zero", capped(lambda c: c.trained.evaluate_file("/dev/zero")),
         ResourceError, "/dev/zero"),
    # ---- JSON Lines
    Case("jsonl/malformed-line",
         fit_file("bad.jsonl", '{"label": "food", "text": "pizza"}\n{"label": "sports", "text":\n'),
         DataError, "bad.jsonl:2 is incomplete"),
    Case("jsonl/line-not-an-object",
         fit_file("arr.jsonl", '{"label": "food", "text": "pizza"}\n["sports", "goal"]\n'),
         DataError, "arr.jsonl:2: each line must be a JSON object (got an array)"),
    Case("jsonl/label-list-single-label",
         fit_file("list.jsonl", '{"label": ["food", "tech"], "text": "pizza"}\n'), DataError,
         'the label field "label" is a list'),
    Case("jsonl/label-list-holds-an-object",
         fit_file("lobj.jsonl", '{"label": [{"x": 1}], "text": "pizza"}\n',
                  config=tiny_with("model", task="multi_label")),
         DataError, "the label list holds an object"),
    Case("jsonl/missing-and-wrong-type-fields-are-skipped", jsonl_bad_fields_skipped, None, ""),
    # ---- saving where permissions forbid it (as nobody; skipped unless root)
    Case("save/as-nobody-into-unwritable-directory", save_denied("new"), FileError,
         "cannot create a temporary file"),
    Case("save/as-nobody-over-unwritable-file", save_denied("over"), FileError,
         "cannot save over"),
    # ---- training sets
    Case("fit/empty", fit(TINY, [], []), InvalidArgumentError, "count is 0"),
    Case("fit/one-class", fit(TINY, ["pizza", "pasta"], ["food", "food"]), DataError,
         "only one class"),
    Case("fit/all-texts-empty", fit(TINY, ["", ""], ["food", "tech"]), DataError,
         "no usable training rows"),
    Case("fit/all-texts-none", fit(TINY, [None, None], ["food", "tech"]), DataError,
         "no usable training rows"),
    Case("fit/all-labels-none", fit(TINY, ["pizza", "goal"], [None, None]), DataError,
         "missing label"),
    Case("fit/lengths-differ", fit(TINY, ["pizza", "goal"], ["food"]), ValueError,
         "2 texts but 1 labels"),
    Case("fit/texts-is-a-string", fit(TINY, "pizza", ["food"]), TypeError, "single string"),
    Case("fit/labels-is-a-string", fit(TINY, ["pizza"], "food"), TypeError, "single string"),
    Case("fit/texts-none", fit(TINY, None, ["a"]), TypeError, "not iterable"),
    Case("fit/labels-none", fit(TINY, None, None), ValueError, "requires y"),
    Case("fit/text-is-an-int", fit(TINY, [1, 2], ["a", "b"]), TypeError, "got int"),
    Case("fit/validation-label-unseen", fit(TINY, validation=(["rain today"], ["weather"])),
         DataError, "weather"),
    Case("fit/validation-lengths-differ", fit(TINY, validation=(["rain"], ["food", "tech"])),
         ValueError, "validation"),
    # ---- data files
    Case("csv/unbalanced-quote",
         fit_file("q.csv", 'label,text\nfood,pizza time\nsports,"goal scored\nfood,bread\n'),
         DataError, "q.csv:3"),
    Case("csv/missing-text-column", fit_file("nt.csv", "label,body\nfood,pizza\nsports,goal\n"),
         DataError, 'no column named "text"'),
    Case("csv/missing-label-column",
         fit_file("nl.csv", "category,text\nfood,pizza\nsports,goal\n"), DataError,
         'no column named "label"'),
    Case("csv/configured-column-missing",
         fit_file("cc.csv", GOOD_CSV, config=tiny_with("data", text_column="body")), DataError,
         '"body"'),
    Case("csv/ragged-row-too-many",
         fit_file("r1.csv", "label,text\nfood,pizza\nsports,goal,extra\ntech,laptop\n"),
         DataError, "r1.csv:3"),
    Case("csv/ragged-row-too-few", fit_file("r2.csv", "label,text\nfood,pizza\nsports,goal\ntech\n"),
         DataError, "r2.csv:4"),
    Case("csv/header-only", fit_file("h.csv", "label,text\r\n"), DataError, "no usable"),
    Case("csv/empty-file", fit_file("e.csv", ""), DataError, "empty"),
    Case("csv/one-class", fit_file("oc.csv", "label,text\nfood,pizza\nfood,pasta\n"), DataError,
         "only one class"),
    Case("csv/malformed-validation-file",
         fit_file("v.csv", GOOD_CSV, valid=("badv.csv", 'label,text\nfood,"pizza\n')), DataError,
         "badv.csv"),
    Case("fasttext/no-labels", fit_file("nl.txt", "pizza and pasta\na great goal\n"), DataError,
         "missing label"),
    Case("fasttext/labels-without-text", fit_file("lo.txt", "__label__food\n__label__sports\n"),
         DataError, "empty text"),
    Case("fasttext/one-class", fit_file("oc.txt", "__label__food pizza\n__label__food pasta\n"),
         DataError, "only one class"),
    Case("fasttext/empty-file", fit_file("e.txt", ""), DataError, "no usable"),
    Case("files/train-path-is-a-directory", lambda c: c.fresh().fit_files(str(c.dir)), FileError,
         "is a directory"),
    Case("files/train-file-missing", lambda c: c.fresh().fit_files(c.path("missing.csv")),
         FileError, "missing.csv"),
    Case("files/train-dir-missing", lambda c: c.fresh().fit_files(c.path("nodir/t.csv")),
         FileError, "nodir/t.csv"),
    Case("files/validation-file-missing", fit_file("g.csv", GOOD_CSV, valid="/nonexistent/v.csv"),
         FileError, "/nonexistent/v.csv"),
    Case("files/validation-path-is-a-directory",
         lambda c: c.fresh().fit_files(c.write("g2.csv", GOOD_CSV), str(c.dir)), FileError,
         "is a directory"),
    Case("files/train-path-none", lambda c: c.fresh().fit_files(None), InvalidArgumentError,
         "train_path"),
    # ---- invalid UTF-8 is replaced, never rejected; a 10 MB line is an example
    Case("utf8/memory-texts-and-labels", utf8_labels_replaced_in_memory, None, ""),
    Case("utf8/csv", utf8_replaced_in_csv, None, ""),
    Case("utf8/fasttext", utf8_replaced_in_fasttext, None, ""),
    Case("utf8/predict-and-evaluate", utf8_replaced_in_predict_and_evaluate, None, ""),
    Case("long-line/csv-10mb", ten_mb_line_in_csv, None, ""),
    Case("long-line/fasttext-10mb", ten_mb_line_in_fasttext, None, ""),
    Case("long-line/fasttext-10mb-single-token", ten_mb_token_in_fasttext, None, ""),
    Case("long-line/predict-10mb-text", ten_mb_text_predicted, None, ""),
    # ---- evaluation
    Case("evaluate/label-unseen-in-training",
         lambda c: c.trained.evaluate(["pizza", "rain today"], ["food", "weather"]), DataError,
         '"weather"'),
    Case("evaluate-file/label-unseen-in-training",
         lambda c: c.trained.evaluate_file(c.write("unseen.csv",
                                                   "label,text\nfood,pizza\nweather,rain\n")),
         DataError, '"weather"'),
    Case("evaluate/no-rows", lambda c: c.trained.evaluate([], []), InvalidArgumentError,
         "count is 0"),
    Case("evaluate/all-texts-empty", lambda c: c.trained.evaluate(["", ""], ["food", "tech"]),
         DataError, "no usable evaluation rows"),
    Case("evaluate-file/csv-unbalanced-quote",
         lambda c: c.trained.evaluate_file(c.write("q2.csv", 'label,text\nfood,"pizza\n')),
         DataError, "q2.csv"),
    Case("evaluate-file/directory", lambda c: c.trained.evaluate_file(str(c.dir)), FileError,
         "is a directory"),
    Case("evaluate-file/missing", lambda c: c.trained.evaluate_file(c.path("nothere.csv")),
         FileError, "nothere.csv"),
    Case("evaluate-file/none", lambda c: c.trained.evaluate_file(None), InvalidArgumentError,
         "path"),
    # ---- model files
    Case("load/truncated-to-half",
         load_bytes("half.tmmodel", lambda c: c.model_bytes[:len(c.model_bytes) // 2]),
         ModelFormatError, "truncated"),
    Case("load/truncated-to-4-bytes", load_bytes("four.tmmodel", lambda c: c.model_bytes[:4]),
         ModelFormatError, "truncated"),
    Case("load/truncated-after-header",
         load_bytes("hdr.tmmodel", lambda c: c.model_bytes[:c.header_end]), ModelFormatError,
         "truncated"),
    Case("load/last-byte-missing", load_bytes("m1.tmmodel", lambda c: c.model_bytes[:-1]),
         ModelFormatError, "truncated"),
    Case("load/extra-byte", load_bytes("p1.tmmodel", lambda c: c.model_bytes + b"\0"),
         ModelFormatError, "not a usable libtextmodel model file"),
    Case("load/bit-flip-in-weights",
         load_bytes("fw.tmmodel", lambda c: c.flipped(len(c.model_bytes) - 10)),
         ModelFormatError, "checksum"),
    Case("load/bit-flip-in-header",
         load_bytes("fh.tmmodel", lambda c: c.flipped(c.header_end - 30)), ModelFormatError,
         "not a usable libtextmodel model file"),
    Case("load/bit-flip-in-length", load_bytes("fl.tmmodel", lambda c: c.flipped(3, 0x80)),
         ModelFormatError, "header claims"),
    Case("load/label-changed",
         load_bytes("lc.tmmodel", lambda c: c.header_replaced(b"sports", b"sporty")),
         ModelFormatError, "checksum"),
    Case("load/empty-file", load_bytes("empty.tmmodel", lambda c: b""), ModelFormatError,
         "0 bytes"),
    Case("load/garbage",
         load_bytes("garbage.tmmodel",
                    lambda c: bytes(np.random.default_rng(1).integers(0, 256, 4096, np.uint8))),
         ModelFormatError, "not a usable libtextmodel model file"),
    Case("load/a-csv-file", load_bytes("csv.tmmodel", lambda c: GOOD_CSV.encode()),
         ModelFormatError, "not a usable libtextmodel model file"),
    Case("load/other-format-name",
         load_bytes("fmt.tmmodel",
                    lambda c: c.header_replaced(b'"format":"libtextmodel"',
                                                b'"format":"libtextmodeX"')),
         ModelFormatError, 'format "libtextmodel"'),
    Case("load/newer-format-version",
         load_bytes("v9.tmmodel",
                    lambda c: c.header_replaced(b'"format_version":"1"',
                                                b'"format_version":"9"')),
         ModelFormatError, "newer"),
    Case("load/format-version-zero",
         load_bytes("v0.tmmodel",
                    lambda c: c.header_replaced(b'"format_version":"1"',
                                                b'"format_version":"0"')),
         ModelFormatError, "format_version"),
    Case("load/format-version-not-a-number",
         load_bytes("vx.tmmodel",
                    lambda c: c.header_replaced(b'"format_version":"1"',
                                                b'"format_version":"x"')),
         ModelFormatError, "format_version"),
    Case("load/directory", lambda c: TextClassifier.load(str(c.dir)), FileError,
         "is a directory"),
    Case("load/missing-file", lambda c: TextClassifier.load(c.path("nope.tmmodel")), FileError,
         "nope.tmmodel"),
    Case("load/missing-directory", lambda c: TextClassifier.load(c.path("nodir/m.tmmodel")),
         FileError, "nodir/m.tmmodel"),
    Case("load/none", lambda c: TextClassifier.load(None), InvalidArgumentError, "path is NULL"),
    Case("load/empty-path", lambda c: TextClassifier.load(""), InvalidArgumentError, "empty"),
    Case("save/path-is-a-directory", lambda c: c.trained.save(str(c.dir)), FileError,
         "is a directory"),
    Case("save/missing-directory", lambda c: c.trained.save(c.path("nodir/m.tmmodel")),
         FileError, "nodir"),
    Case("save/parent-is-a-file",
         lambda c: c.trained.save(os.path.join(c.write("afile", "x"), "m.tmmodel")), FileError,
         "Not a directory"),
    Case("save/none", lambda c: c.trained.save(None), InvalidArgumentError, "path is NULL"),
    Case("save/empty-path", lambda c: c.trained.save(""), InvalidArgumentError, "empty"),
    # ---- prediction: k out of range, NULL-ish texts
    Case("predict-top-k/k-zero", lambda c: c.trained.predict_top_k(["pizza"], 0),
         InvalidArgumentError, "got 0"),
    Case("predict-top-k/k-above-labels", lambda c: c.trained.predict_top_k(["pizza"], 4),
         InvalidArgumentError, "number of labels (3)"),
    Case("predict-top-k/k-negative", lambda c: c.trained.predict_top_k(["pizza"], -1),
         ValueError, "negative"),
    Case("predict-top-k/k-2^64", lambda c: c.trained.predict_top_k(["pizza"], 2 ** 64),
         ValueError, "dimension"),
    Case("predict-top-k/k-float", lambda c: c.trained.predict_top_k(["pizza"], 1.5), TypeError,
         "integer"),
    Case("predict/none-text", lambda c: c.trained.predict([None]), InvalidArgumentError,
         "texts[0] is NULL"),
    Case("predict-proba/none-text", lambda c: c.trained.predict_proba(["pizza", None]),
         InvalidArgumentError, "texts[1] is NULL"),
    Case("predict/texts-none", lambda c: c.trained.predict(None), TypeError, "not iterable"),
    Case("predict/texts-is-a-string", lambda c: c.trained.predict("pizza"), TypeError,
         "single string"),
    Case("predict/text-is-an-int", lambda c: c.trained.predict([3]), TypeError, "got int"),
    Case("fit/none-texts-are-skipped", none_texts_skipped_in_training, None, ""),
    Case("fit/none-labels-are-skipped", none_labels_skipped_in_training, None, ""),
    Case("evaluate/none-label-is-skipped", none_label_skipped_in_evaluation, None, ""),
    Case("predict/empty-batch", empty_batch_predicts_nothing, None, ""),
    Case("predict/empty-and-blank-texts", empty_and_blank_texts_predict, None, ""),
    # ---- untrained and closed models
    Case("untrained/predict", lambda c: c.fresh().predict(["pizza"]), NotFittedError,
         "not fitted"),
    Case("untrained/predict-proba", lambda c: c.fresh().predict_proba(["pizza"]),
         NotFittedError, "not fitted"),
    Case("untrained/predict-top-k-1", lambda c: c.fresh().predict_top_k(["pizza"], 1),
         NotFittedError, "not fitted"),
    Case("untrained/evaluate", lambda c: c.fresh().evaluate(["pizza"], ["food"]),
         NotFittedError, "not fitted"),
    Case("untrained/evaluate-file",
         lambda c: c.fresh().evaluate_file(c.write("good.csv", GOOD_CSV)), NotFittedError,
         "not fitted"),
    Case("untrained/save", lambda c: c.fresh().save(c.path("untrained.tmmodel")),
         NotFittedError, "not fitted"),
    Case("closed/predict", lambda c: _closed(c).predict(["pizza"]), ValueError, "closed"),
    Case("closed/save", lambda c: _closed(c).save(c.path("closed.tmmodel")), ValueError,
         "closed"),
    # ---- the edges (issue 15): config files that are not JSON, NUL in texts, keys
    # and paths, long echoes. An empty or NUL-holding file once trained the default
    # model silently; a NUL once cut a text short silently.
    Case("config-file/empty", config_text("e1.json", ""), ConfigError, "is empty"),
    Case("config-file/whitespace-only", config_text("e2.json", " \n\t\r\n"), ConfigError,
         "only whitespace"),
    Case("config-file/nul-byte-first", config_text("e3.json", b"\0{}"), ConfigError,
         "NUL byte at offset 0"),
    Case("config-file/nul-byte-inside", config_text("e4.json", b'{"model": {}}\0junk'), ConfigError,
         "NUL byte at offset 13"),
    Case("config-file/binary", config_text("e5.json", bytes(range(128, 256))), ConfigError,
         "not UTF-8"),
    Case("config-file/latin-1", config_text("e6.json", '{"data": {"text_column": "t\xe9xt"}}'.encode("latin-1")),
         ConfigError, "not UTF-8 text (byte 27)"),
    Case("config/whitespace-json-text", lambda c: _lib.Model.new(" \n"), ConfigError,
         "only whitespace"),
    Case("config/nul-in-json-text", lambda c: _lib.Model.new("\0{}"), ConfigError, "NUL character"),
    Case("config/escaped-nul-in-a-key", lambda c: fitted(TextClassifier({"training": {"epochs\u0000zzz": 3}})),
         ConfigError, "escaped NUL"),
    Case("config/escaped-nul-in-a-path", lambda c: fitted(TextClassifier({"model": {"pretrained_vectors": "v\0x"}})),
         ConfigError, "model.pretrained_vectors must not contain a NUL"),
    Case("config/1-mb-unknown-key", lambda c: _long_key_is_echoed_short(c), None, ""),
    Case("fit/nul-in-a-text", lambda c: c.fresh().fit(["pizza\0 and pasta"] + TEXTS[1:], LABELS),
         InvalidArgumentError, "texts[0] holds a NUL character (at byte 5)"),
    Case("fit/nul-in-a-label", lambda c: c.fresh().fit(TEXTS, LABELS[:2] + ["te\0ch"] + LABELS[3:]),
         InvalidArgumentError, "labels[2] holds a NUL"),
    Case("predict/nul-in-a-text", lambda c: c.trained.predict(["pizza", "goal\0"]),
         InvalidArgumentError, "texts[1] holds a NUL"),
    Case("predict-proba/nul-bytes", lambda c: c.trained.predict_proba([b"pi\0zza"]),
         InvalidArgumentError, "texts[0] holds a NUL"),
    Case("evaluate/nul-in-a-text", lambda c: c.trained.evaluate(["pizza\0"], ["food"]),
         InvalidArgumentError, "holds a NUL"),
    Case("save/nul-in-the-path", lambda c: c.trained.save(c.path("m.tmmodel\0x")),
         InvalidArgumentError, "holds a NUL character"),
    Case("fit-files/nul-in-the-path", lambda c: c.fresh().fit_files(c.path("t.csv\0x")),
         InvalidArgumentError, "holds a NUL character"),
]


def _long_key_is_echoed_short(c):
    """A 1 MB unknown key is echoed in at most a few hundred bytes, cut with "…" at a
    character boundary (the key is all 3-byte characters)."""
    with pytest.raises(ConfigError) as info:
        TextClassifier({"training": {"\u20ac" * 350_000: 1}}).resolved_config()
    message = info.value.message
    assert len(message.encode("utf-8")) < 600, len(message)
    assert "\u20ac\u2026 is not a known key" in message, message[:200]


def _closed(c):
    model = c.track(TextClassifier(TINY).fit(TEXTS, LABELS))
    model.close()
    return model


# ---------------------------------------------------------------------- tests


def test_catalogue_size():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert len([c for c in CASES if c.expected is not None]) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case, ctx):
    if case.expected is None:
        case.call(ctx)  # must not raise; the row checks its own result
        return
    with pytest.raises(BaseException) as info:
        case.call(ctx)
    error = info.value
    assert type(error) is case.expected, (
        f"raised {type(error).__name__}: {error}; expected {case.expected.__name__}")
    assert case.match.lower() in str(error).lower(), (
        f"the message lacks {case.match!r}: {error}")
    if isinstance(error, TextModelError):
        assert error.message, "a library error with an empty message"
        assert error.status_name == STATUS_OF[type(error)], error.status_name


def test_shared_model_unchanged_by_the_failures(ctx):
    """Every failed call above left the shared trained model as it was."""
    np.testing.assert_array_equal(ctx.trained.predict_proba(PROBE), ctx.reference)
    assert TextClassifier.load(ctx.model_path).predict_proba(PROBE).tolist() == \
        ctx.reference.tolist()
    leftovers = [p.name for p in ctx.dir.iterdir() if p.name.startswith(".tm-save-")]
    assert leftovers == [], f"failed saves left temporary files: {leftovers}"
