"""textmodel explain and textmodel embed, checked against the Python bindings' explain
and transform of the same model file (which go through the C ABI)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / ".build" / "release" / "textmodel"
DATA = REPO_ROOT / "data" / "support"
os.environ.setdefault("TEXTMODEL_LIBRARY", str(REPO_ROOT / ".build" / "release" / "libtextmodel.so"))
sys.path.insert(0, str(REPO_ROOT / "bindings" / "python"))
import textmodel  # noqa: E402

# Lines as bytes: ASCII, accented, CJK, emoji, one that is not valid UTF-8, one with
# characters JSON escapes, and an empty one.
LINES = [
    b"Why is there a currency conversion fee on my statement?",
    b"my parcel never came",
    "Caf\u00e9 cr\u00e8me: the app cr\u00e2shes \u00e0 chaque fois".encode(),
    "\u6211\u7684\u5305\u88f9 never arrived \U0001F622 please help".encode(),
    b"refund \xff\xfe my \xc3 money now",
    b'they said "wait" \\ then C:\\path\\x',   # quotes and backslashes: JSON escapes
    b"",
]
STDIN = b"\n".join(LINES) + b"\n"


def run(*args, input=None, check=None):
    result = subprocess.run([str(CLI), *map(str, args)], input=input, capture_output=True, timeout=300)
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}, stderr: {result.stderr.decode(errors='replace')}"
    return result


def json_lines(result):
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    if not CLI.is_file():
        pytest.fail(f"{CLI} is missing: run scripts/build.sh first")
    path = tmp_path_factory.mktemp("explain") / "bag.tmmodel"
    run("train", DATA / "train.csv", "--set", "training.epochs=8", "-o", path, "--quiet", check=0)
    return path


def test_explain_and_embed_have_help_and_are_listed():
    overview = run("--help", check=0).stdout.decode()
    for command in ("explain", "embed"):
        assert f"  {command} " in overview
        text = run(command, "--help", check=0).stdout.decode()
        assert text.startswith(f"usage: textmodel {command}") and "exit status:" in text


def test_explain_json_offsets_slice_the_input_line_and_delta_is_small(bag):
    results = json_lines(run("explain", bag, "-", "--json", input=STDIN, check=0))
    assert len(results) == len(LINES)
    labels = set(textmodel.TextClassifier.load(str(bag)).classes_)
    for line, result in zip(LINES, results):
        assert set(result) == {"target", "output", "reference_output", "delta", "tokens"}
        assert result["target"] in labels
        previous_end = 0
        for token in result["tokens"]:
            start, end = token["start"], token["end"]
            assert previous_end <= start < end <= len(line), (line, token)
            previous_end = end
            piece = line[start:end]
            if piece.isascii():
                assert piece.decode().lower() == token["token"], (line, token)
            elif line.decode("utf-8", "ignore").encode() == line:  # valid UTF-8: whole characters
                assert piece.decode().lower() == token["token"], (line, token)
        if line:
            assert result["tokens"], line
        gap = result["output"] - result["reference_output"]
        total = sum(t["score"] for t in result["tokens"])
        assert result["delta"] == pytest.approx(total - gap, abs=1e-5)
        # Bag model, 50 Gauss-Legendre points: completeness to well under 1%.
        assert abs(result["delta"]) <= 0.01 * abs(gap) + 1e-6, result


def test_explain_scores_match_the_python_explain_of_the_same_model(bag):
    clf = textmodel.TextClassifier.load(str(bag))
    for extra, kwargs in [([], {}),
                          (["--method", "occlusion", "--window", "2", "--output", "logit"],
                           {"method": "occlusion", "window": 2, "output": "logit"}),
                          (["--steps", "7", "--reference", "unknown", "--target", "delivery"],
                           {"steps": 7, "reference": "unknown", "target": "delivery"})]:
        cli = json_lines(run("explain", bag, "-", "--json", *extra, input=STDIN, check=0))
        python = clf.explain(LINES, **kwargs)
        assert len(cli) == len(python)
        for c, p in zip(cli, python):
            assert c["target"] == p.target
            if "target" in kwargs:
                assert c["target"] == kwargs["target"]
            assert [(t["token"], t["start"], t["end"]) for t in c["tokens"]] == [t[:3] for t in p.tokens]
            assert [t["score"] for t in c["tokens"]] == pytest.approx([t[3] for t in p.tokens], rel=1e-6, abs=1e-9)
            assert c["output"] == pytest.approx(p.output, rel=1e-6)
            if kwargs.get("method") == "occlusion":
                assert c["reference_output"] is None and c["delta"] is None
                assert math.isnan(p.delta)
            else:
                assert c["delta"] == pytest.approx(p.delta, rel=1e-4, abs=1e-7)


def test_explain_text_output_lists_tokens_with_scores_then_target_and_delta(bag):
    text = run("explain", bag, "-", input=b"my parcel never came\n", check=0).stdout.decode()
    [result] = json_lines(run("explain", bag, "-", "--json", input=b"my parcel never came\n", check=0))
    tokens, tail = text.rstrip("\n").split("  |")
    assert tokens.split(" ") == [f"{t['token']}:{t['score']:+.4f}" for t in result["tokens"]]
    assert tail.startswith(f" __label__{result['target']} output=") and " delta=" in tail


def test_unknown_target_label_and_bad_flags(bag):
    result = run("explain", bag, "-", "--target", "no-such-label", input=b"hello\n")
    assert result.returncode == 8
    message = result.stderr.decode()
    assert "no-such-label" in message and "not a label" in message and "delivery" in message
    for bad in (["--method", "shap"], ["--steps", "0"], ["--steps", "x"], ["--window", "-1"],
                ["--output", "odds"], ["--reference", "mask"], ["--bogus"], ["--json=1"]):
        result = run("explain", bag, "-", *bad, input=b"hello\n")
        assert result.returncode == 2, (bad, result.stderr)
        assert b"see textmodel explain --help" in result.stderr
    assert run("explain", bag, input=b"hello\n").returncode == 2   # FILE missing
    assert run("embed", bag, "-", "--method", "ig", input=b"hello\n").returncode == 2
    assert run("explain", bag, "-", "--steps", "5000", input=b"hello\n").returncode == 8  # engine's range


def test_explain_a_regression_model(tmp_path):
    texts = [f"{'word ' * n}end" for n in range(1, 9)] * 6
    (tmp_path / "lengths.csv").write_text("label,text\n" + "".join(f"{t.count(' ')},{t}\n" for t in texts))
    model = tmp_path / "r.tmmodel"
    run("train", tmp_path / "lengths.csv", "--set", "model.task=regression", "--set", "training.epochs=5",
        "-o", model, "--quiet", check=0)
    lines = [b"word word end", b"word word word word word end"]
    results = json_lines(run("explain", model, "-", "--json", input=b"\n".join(lines) + b"\n", check=0))
    python = textmodel.TextRegressor.load(str(model)).explain(lines)
    predicted = textmodel.TextRegressor.load(str(model)).predict([l.decode() for l in lines])
    for line, c, p, value in zip(lines, results, python, predicted):
        assert c["target"] is None
        assert c["output"] == pytest.approx(float(value), rel=1e-5)
        assert [line[t["start"]:t["end"]].decode() for t in c["tokens"]] == line.decode().split()
        assert [t["score"] for t in c["tokens"]] == pytest.approx([t[3] for t in p.tokens], rel=1e-6, abs=1e-9)
        assert abs(c["delta"]) <= 0.01 * abs(c["output"] - c["reference_output"]) + 1e-6
    text = run("explain", model, "-", input=lines[0] + b"\n", check=0).stdout.decode()
    assert "  | value=" in text
    assert run("explain", model, "-", "--target", "x", input=b"word end\n").returncode == 2


def test_embed_rows_equal_python_transform(bag):
    import csv
    with open(DATA / "test.csv", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    rows = [list(map(float, line.split("\t"))) for line in
            run("embed", bag, DATA / "test.csv", check=0).stdout.decode().splitlines()]
    expected = textmodel.TextClassifier.load(str(bag)).transform(texts)
    assert np.array(rows).shape == expected.shape
    # %.9g round-trips float32: the rows are the same float32 numbers.
    assert np.array_equal(np.array(rows, dtype=np.float32), expected)
    assert np.allclose(np.array(rows), expected, rtol=0, atol=1e-6)
    as_json = [json.loads(line) for line in run("embed", bag, DATA / "test.csv", "--json", check=0).stdout.decode().splitlines()]
    assert np.array_equal(np.array(as_json, dtype=np.float32), expected)
    from_stdin = run("embed", bag, "-", input=b"my parcel never came\n\n", check=0).stdout.decode().splitlines()
    assert len(from_stdin) == 2 and len(from_stdin[0].split("\t")) == expected.shape[1]


def test_explain_a_multi_label_cnn_model_by_label(tmp_path):
    rows = [("the match ended with a late goal", "sports"), ("add cheese to the pasta", "food"),
            ("a salad is good for you", "food|health"), ("running keeps the heart healthy", "sports|health")] * 10
    (tmp_path / "tags.csv").write_text("label,text\n" + "".join(f'"{l}","{t}"\n' for t, l in rows))
    model = tmp_path / "tags.tmmodel"
    run("train", tmp_path / "tags.csv", "--set", "model.task=multi_label", "--set", "model.type=cnn",
        "--set", "training.epochs=5", "-o", model, "--quiet", check=0)
    lines = [b"a salad is good for you", b"running after the match"]
    clf = textmodel.TextClassifier.load(str(model))
    for label in ("health", "sports"):
        cli = json_lines(run("explain", model, "-", "--json", "--target", label, "--steps", "20",
                             input=b"\n".join(lines) + b"\n", check=0))
        python = clf.explain(lines, target=label, steps=20)
        for c, p in zip(cli, python):
            assert c["target"] == label == p.target
            assert [t["score"] for t in c["tokens"]] == pytest.approx([t[3] for t in p.tokens], rel=1e-6, abs=1e-9)
            assert c["delta"] == pytest.approx(p.delta, rel=1e-4, abs=1e-7)
