"""Model files written by libtextmodel 0.3.0 load and predict exactly as they did then.

tests/fixtures/v0.3.0 holds one small model of every network shape (bag with and without
subwords, CNN with repeated widths and dropout, LSTM, 2-layer bidirectional LSTM with
mean pooling, GRU with last pooling, 2-layer RNN, multi-label LSTM, regression CNN),
trained and saved by 0.3.0, and the float32 bits of its outputs on 40 test texts as
0.3.0 computed them. Any change to the networks' arithmetic fails here, with one
documented exception: on a CPU with AVX-512, or AVX2 and FMA, the recurrent layers run the packed kernel
(Layers/RecurrentProduct.swift), whose floats differ from OpenBLAS's in the last bits, so
recurrent models must agree within 1e-6 and to the label; with
TEXTMODEL_RECURRENT_KERNEL=blas they are held to the bits as well.
"""
import json
import os
import struct

import numpy as np
import pytest

from textmodel._lib import Model

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "v0.3.0")
EXPECTED = json.load(open(os.path.join(FIXTURES, "expected_outputs.json")))


RECURRENT = ("lstm", "gru", "rnn")
EXACT = os.environ.get("TEXTMODEL_RECURRENT_KERNEL") == "blas"


def assert_as_0_3_0(model, outputs, name):
    expected = EXPECTED["models"][name]
    if EXACT or json.loads(model.config_json())["model"]["type"] not in RECURRENT:
        assert bits(outputs) == expected
        return
    got = np.asarray(outputs, dtype=np.float32).ravel()
    want = np.array(struct.unpack(f"<{len(expected)}f", struct.pack(f"<{len(expected)}I", *expected)), dtype=np.float32)
    assert np.abs(got - want).max() <= 1e-6
    if model.task() == "single_label":
        rows = len(EXPECTED["texts"])
        assert (got.reshape(rows, -1).argmax(1) == want.reshape(rows, -1).argmax(1)).all()
    else:
        assert ((got > 0.5) == (want > 0.5)).all()


def bits(values):
    return [struct.unpack("<I", struct.pack("<f", float(v)))[0]
            for v in np.asarray(values, dtype=np.float32).ravel()]


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
@pytest.mark.parametrize("threads", [1, 2])
def test_saved_model_predicts_as_0_3_0(name, threads):
    model = Model.load(os.path.join(FIXTURES, name + ".tmmodel"))
    try:
        model.set_threads(threads)
        texts = EXPECTED["texts"]
        outputs = model.predict_values(texts) if model.task() == "regression" else model.predict_proba(texts)
        assert_as_0_3_0(model, outputs, name)
    finally:
        model.close()


def fixture_recipes():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_fixtures", os.path.join(FIXTURES, "..", "make_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Retrained in a child process with OpenBLAS's Haswell kernels (the ones it runs on the
# AVX2/Zen CPU that trained the fixtures): on Intel CPUs with AVX-512 it picks its
# SkylakeX kernels, whose small-matrix products sum in another order, and the CNN's
# gradients then differ in the last bits. The library's own arithmetic is what this test
# holds to 0.3.0's bits; the kernel choice is OpenBLAS's (read once, when it loads).
RETRAIN = """
import importlib.util, json, os, sys
import numpy as np
spec = importlib.util.spec_from_file_location("make_fixtures", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.train(sys.argv[2])
texts = json.loads(sys.stdin.read())
outputs = model.predict_values(texts) if model.task() == "regression" else model.predict_proba(texts)
print(json.dumps([float(v) for v in np.asarray(outputs, dtype=np.float32).ravel()]))
"""


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
def test_training_the_fixture_again_gives_the_same_model(name):
    """One thread and a seed fix a run: retraining each fixture's recipe now must give
    the outputs 0.3.0's run gave, bit for bit (training arithmetic unchanged)."""
    import subprocess
    import sys
    env = dict(os.environ)
    env.setdefault("OPENBLAS_CORETYPE", "Haswell")
    import textmodel   # the child imports the same package this process tests
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(textmodel.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    recipe = os.path.join(FIXTURES, "..", "make_fixtures.py")
    run = subprocess.run([sys.executable, "-c", RETRAIN, recipe, name], input=json.dumps(EXPECTED["texts"]),
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    outputs = np.array(json.loads(run.stdout), dtype=np.float32)
    model = Model.load(os.path.join(FIXTURES, name + ".tmmodel"))   # the fixture's type and task
    try:
        assert_as_0_3_0(model, outputs, name)
    finally:
        model.close()


COMPACT = os.path.join(FIXTURES, "..", "v0.5.0-compact")
COMPACT_EXPECTED = json.load(open(os.path.join(COMPACT, "expected_outputs.json")))


@pytest.mark.parametrize("name", sorted(COMPACT_EXPECTED["models"]))
def test_format_3_compact_files_of_0_5_0_still_load_and_predict(name, tmp_path):
    """f16 and int8 files of format 3 (0.5.0, vocabulary as JSON in the header) load and
    predict as 0.5.0 did; saved again they are format 5 and predict the same."""
    texts = COMPACT_EXPECTED["texts"]
    want = np.array(struct.unpack("<%df" % len(COMPACT_EXPECTED["models"][name]),
                                  struct.pack("<%dI" % len(COMPACT_EXPECTED["models"][name]), *COMPACT_EXPECTED["models"][name])))
    model = Model.load(os.path.join(COMPACT, name + ".tmmodel"))
    try:
        assert model.precision() == name.split(".")[1]
        got = np.asarray(model.predict_proba(texts), dtype=np.float32).ravel()
        # int8 arithmetic is the same on every kernel path; the f16 LSTM is f32
        # arithmetic, whose recurrent kernel may differ in the last bits (see above).
        assert np.abs(got - want).max() <= 1e-6
        again = str(tmp_path / "again.tmmodel")
        model.save(again)
    finally:
        model.close()
    with open(again, "rb") as f:
        assert b'"format_version":"5"' in f.read(4096)
    resaved = Model.load(again)
    try:
        assert (np.asarray(resaved.predict_proba(texts), dtype=np.float32).ravel() == got).all()
    finally:
        resaved.close()
