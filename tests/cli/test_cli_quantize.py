"""textmodel quantize: compresses a bag model into a format-4 file every command loads."""

import json
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / ".build" / "release" / "textmodel"
DATA = REPO_ROOT / "data" / "support"


def run(*args, check=None):
    result = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300)
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}, stderr: {result.stderr}"
    return result


def accuracy(model):
    return json.loads(run("test", model, DATA / "test.csv", "--json", check=0).stdout)["accuracy"]


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    if not CLI.is_file():
        pytest.fail(f"{CLI} is missing: run scripts/build.sh first")
    path = tmp_path_factory.mktemp("quantize") / "bag.tmmodel"
    # 20,000 buckets instead of 200,000: the same model shape, a tenth of the table to scan.
    run("train", DATA / "train.csv", "--set", "training.epochs=8", "--set", "tokenizer.buckets=20000",
        "--quiet", "-o", path, check=0)
    return path


def test_quantize_writes_a_small_model_that_predicts_like_the_original(bag, tmp_path):
    out = tmp_path / "q.tmmodel"
    report = json.loads(run("quantize", bag, "-o", out, "--input", DATA / "train.csv", "--cutoff", "3000",
                            "--qnorm", "--retrain", "--json", check=0).stdout)
    assert report["bytes"] == out.stat().st_size == len(out.read_bytes())
    assert report["input_bytes"] == bag.stat().st_size
    assert report["bytes"] * 20 < report["input_bytes"]
    assert accuracy(out) >= accuracy(bag) - 0.05
    predicted = run("predict", out, DATA / "test.csv", check=0).stdout.splitlines()
    assert len(predicted) == 100 and all(line.startswith("__label__") for line in predicted)
    # Without data or options: rows training never changed are dropped, nothing else.
    plain = tmp_path / "plain.tmmodel"
    text = run("quantize", bag, "--output", plain, check=0).stdout
    assert f"wrote {plain}: {plain.stat().st_size} bytes" in text
    assert accuracy(plain) >= accuracy(bag) - 0.05


@pytest.mark.parametrize("args, status, message", [
    (["--retrain"], 2, "--retrain needs --input"),
    (["--cutoff", "-1"], 2, "--cutoff must be an integer of at least 0"),
    (["--lr", "0"], 2, "--lr must be a positive number"),
    (["--dsub", "3"], 8, "dsub must divide the model's embedding_dim (100)"),
    (["--input", "missing.csv", "--retrain"], 4, "missing.csv"),
])
def test_quantize_errors(bag, tmp_path, args, status, message):
    result = run("quantize", bag, "-o", tmp_path / "x.tmmodel", *args)
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "x.tmmodel").exists()


def test_quantize_refuses_a_quantized_model_and_other_model_types(bag, tmp_path):
    q = tmp_path / "q.tmmodel"
    run("quantize", bag, "-o", q, "--cutoff", "500", check=0)
    again = run("quantize", q, "-o", tmp_path / "x.tmmodel")
    assert again.returncode == 8 and "already quantized" in again.stderr
    cnn = tmp_path / "cnn.tmmodel"
    run("train", DATA / "train.csv", "--set", "model.type=cnn", "--set", "training.epochs=1",
        "--set", "model.embedding_dim=8", "--set", "model.filters=4", "--quiet", "-o", cnn, check=0)
    result = run("quantize", cnn, "-o", tmp_path / "x.tmmodel")
    assert result.returncode == 8 and "bag models only" in result.stderr
