"""The textmodel command-line tool, run as users run it (.build/release/textmodel)."""

import json
import os
import pty
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / ".build" / "release" / "textmodel"
DATA = REPO_ROOT / "data" / "support"
COMMANDS = ["train", "test", "predict", "predict-prob", "explain", "embed", "autotune", "convert", "quantize", "print-config"]
# A small, fast model for these tests; the default bag model with 8 epochs.
FAST = ["--set", "training.epochs=8"]


def run(*args, input=None, check=None):
    result = subprocess.run([str(CLI), *map(str, args)], input=input, capture_output=True, text=True, timeout=300)
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}, stderr: {result.stderr}"
    return result


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    if not CLI.is_file():
        pytest.fail(f"{CLI} is missing: run scripts/build.sh first")
    path = tmp_path_factory.mktemp("cli") / "support.tmmodel"
    result = run("train", DATA / "train.csv", "--valid", DATA / "valid.csv", *FAST, "-o", path, check=0)
    assert f"saved {path}" in result.stdout
    assert "epoch 8/8" in result.stderr  # one line per epoch when stderr is not a terminal
    return path


def labels_of(path):
    import csv
    with open(path, newline="") as f:
        return [row["label"] for row in csv.DictReader(f)]


def test_every_command_has_help_and_the_overview_lists_them():
    overview = run("--help", check=0).stdout
    for command in COMMANDS:
        assert f"  {command} " in overview
        text = run(command, "--help", check=0).stdout
        assert text.startswith(f"usage: textmodel {command}")
        assert "exit status:" in text
    assert run("no-such-command").returncode == 2
    assert run().returncode == 2


def test_test_reports_metrics_that_match_its_json(model):
    text = run("test", model, DATA / "test.csv", check=0).stdout
    metrics = json.loads(run("test", model, DATA / "test.csv", "--json", check=0).stdout)
    assert metrics["examples"] == 100 and metrics["task"] == "single_label"
    assert f"accuracy          {metrics['accuracy']:.4f}" in text
    assert metrics["accuracy"] > 0.6, metrics  # 8 epochs of the default model on data/support
    assert "confusion matrix" in text
    assert sum(map(sum, metrics["confusion_matrix"])) == 100


def test_predict_gives_one_line_per_input_in_order_and_agrees_with_test(model):
    out = run("predict", model, DATA / "test.csv", check=0).stdout.splitlines()
    truth = labels_of(DATA / "test.csv")
    assert len(out) == len(truth)
    assert all(line.startswith("__label__") and " " not in line for line in out)
    predicted = [line[len("__label__"):] for line in out]
    accuracy = sum(p == t for p, t in zip(predicted, truth)) / len(truth)
    metrics = json.loads(run("test", model, DATA / "test.csv", "--json", check=0).stdout)
    assert accuracy == pytest.approx(metrics["accuracy"])


def test_predict_reads_fasttext_and_plain_lines_from_stdin_and_files(model, tmp_path):
    fasttext = (DATA / "test.ft.txt").read_text().splitlines()[:5]
    plain = [line.split(" ", 1)[1] for line in fasttext]
    from_ft = run("predict", model, "-", input="\n".join(fasttext) + "\n", check=0).stdout
    from_plain = run("predict", model, "-", input="\n".join(plain) + "\n", check=0).stdout
    assert from_ft == from_plain and len(from_ft.splitlines()) == 5
    (tmp_path / "texts.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in plain))
    assert run("predict", model, tmp_path / "texts.jsonl", check=0).stdout == from_plain
    # An empty line is a text too: it gets its own output line.
    assert len(run("predict", model, "-", input="a\n\nb\n", check=0).stdout.splitlines()) == 3


def test_predict_prob_and_json_give_k_labels_with_probabilities(model):
    line = run("predict-prob", model, "-", "-k", "3", input="my parcel never came\n", check=0).stdout.split()
    assert len(line) == 6 and all(l.startswith("__label__") for l in line[0::2])
    probs = [float(p) for p in line[1::2]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    record = json.loads(run("predict", model, "-", "-k", "2", "--json", input="refund please\n", check=0).stdout)
    assert len(record["labels"]) == 2 and len(record["probabilities"]) == 2
    assert run("predict", model, "-", "-k", "9", input="x\n").returncode == 8  # only 4 labels


def test_print_config_of_a_model_and_of_overrides(model):
    config = json.loads(run("print-config", model, check=0).stdout)
    assert config["training"]["epochs"] == 8 and config["model"]["type"] == "bag"
    cnn = json.loads(run("print-config", "--set", "model.type=cnn", "--set", "model.filters=7", check=0).stdout)
    assert cnn["model"]["type"] == "cnn" and cnn["model"]["filters"] == 7
    assert cnn["training"]["optimizer"] == "adam"  # the cnn's default, not the bag's


def test_train_reads_a_config_file_and_the_report_json(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"model": {"type": "bag", "embedding_dim": 16}, "training": {"epochs": 2}}))
    result = run("train", DATA / "train.ft.txt", "--config", config, "--set", "training.epochs=3",
                 "-o", tmp_path / "m.tmmodel", "--json", "--quiet", check=0)
    report = json.loads(result.stdout)
    assert len(report["epochs"]) == 3 and report["train_examples"] == 400
    assert result.stderr == ""


def test_train_max_seconds_stops_saves_and_reports_what_it_trained(tmp_path):
    # Every 10 steps a report; the first one is past 1 ms (reading the file counts).
    result = run("train", DATA / "train.csv", "--set", "training.epochs=50", "--set", "training.progress_every=10",
                 "--max-seconds", "0.001", "-o", tmp_path / "m.tmmodel", "--json", "--quiet", check=0)
    report = json.loads(result.stdout)
    assert report["cancelled"] is True and len(report["epochs"]) < 50
    stopped = report["stopped_by_max_seconds"]
    assert stopped["first_report"]["seconds"] >= 0.001 and stopped["last_report"]["examples"] >= 10
    assert run("predict", tmp_path / "m.tmmodel", "-", input="my parcel never came\n", check=0).stdout.startswith("__label__")
    # Without --max-seconds the report has no such key.
    full = json.loads(run("train", DATA / "train.csv", "--set", "training.epochs=1", "-o", tmp_path / "n.tmmodel",
                          "--json", "--quiet", check=0).stdout)
    assert full["cancelled"] is False and "stopped_by_max_seconds" not in full


@pytest.mark.parametrize("args, status, message", [
    (["train", DATA / "train.csv", "-o", "{tmp}/m", "--max-seconds", "0"], 2, "--max-seconds must be a positive number"),
    (["train", DATA / "train.csv", "-o", "{tmp}/m", "--set", "model.hiden_dim=3"], 3, "model.hiden_dim is not a known key"),
    (["train", DATA / "train.csv", "-o", "{tmp}/m", "--set", "epochs"], 3, "KEY=VALUE"),
    (["train", DATA / "train.csv", "-o", "{tmp}/m", "--config", "{tmp}/empty.json"], 3, "is empty"),
    (["train", "{tmp}/missing.csv", "-o", "{tmp}/m"], 4, "missing.csv"),
    (["train", "{tmp}/bad.csv", "-o", "{tmp}/m"], 5, "bad.csv"),
    (["train", DATA / "train.csv"], 2, "-o MODEL"),
    (["train", DATA / "train.csv", "-o", "{tmp}/m", "--bogus"], 2, "unknown option --bogus"),
    (["test", DATA / "test.csv", DATA / "test.csv"], 6, "TM_ERR_MODEL_FORMAT"),
    (["predict", "{tmp}/missing.tmmodel", "-"], 4, "missing.tmmodel"),
    (["train", DATA / "train.csv", "-o", "{tmp}/m", "--plot", "{tmp}/x.jpg"], 2, ".svg or .png"),
])
def test_errors_have_their_documented_exit_status(tmp_path, args, status, message):
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "bad.csv").write_text('label,text\nx,"never closed\n')
    result = run(*[str(a).replace("{tmp}", str(tmp_path)) for a in args], input="")
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "m").exists()


def test_plots_are_svg_with_the_data_drawn(model, tmp_path):
    curves = tmp_path / "curves.svg"
    run("train", DATA / "train.csv", "--valid", DATA / "valid.csv", "--set", "training.epochs=4", "-o",
        tmp_path / "m.tmmodel", "--plot", curves, "--quiet", check=0)
    svg = ET.parse(curves).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    lines = svg.findall(f"{ns}polyline")
    assert len(lines) == 4  # loss and accuracy, training and validation
    assert all(len(l.get("points").split()) == 4 for l in lines)  # one point per epoch
    matrix = tmp_path / "confusion.svg"
    run("test", model, DATA / "test.csv", "--plot", matrix, check=0)
    texts = [t.text for t in ET.parse(matrix).getroot().iter(f"{ns}text")]
    metrics = json.loads(run("test", model, DATA / "test.csv", "--json", check=0).stdout)
    counts = [str(c) for row in metrics["confusion_matrix"] for c in row]
    cells = texts[texts.index(metrics["labels"][0]) - 4:]  # the 4 counts of the first row come before its label
    assert cells[:4] == counts[:4]
    assert sum(1 for t in texts if t in metrics["labels"]) == 2 * len(metrics["labels"])


def test_a_terminal_gets_a_progress_bar_with_loss_speed_and_eta(tmp_path):
    # stderr on a pseudo-terminal, as a user at a terminal has it.
    controller, terminal = pty.openpty()
    process = subprocess.Popen([str(CLI), "train", DATA / "train.csv", "--set", "training.epochs=3",
                                "--set", "training.progress_every=20", "-o", tmp_path / "m.tmmodel"],
                               stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=300)
    os.close(controller)
    assert process.returncode == 0
    text = seen.decode()
    assert "\r" in text and " ex/s" in text and "ETA " in text and "loss " in text
    assert "epoch 3/3" in text


def test_multi_label_and_regression_models_predict_their_way(tmp_path):
    rows = [("the match ended with a late goal", "sports"), ("add cheese to the pasta", "food"),
            ("a salad is good for you", "food|health"), ("running keeps the heart healthy", "sports|health")] * 10
    (tmp_path / "tags.csv").write_text("label,text\n" + "".join(f'"{l}","{t}"\n' for t, l in rows))
    run("train", tmp_path / "tags.csv", "--set", "model.task=multi_label", "--set", "training.epochs=20",
        "-o", tmp_path / "tags.tmmodel", "--quiet", check=0)
    lines = run("predict", tmp_path / "tags.tmmodel", "-", input="a salad is good for you\n", check=0).stdout.split()
    assert all(l.startswith("__label__") for l in lines) and len(set(lines)) == len(lines)
    metrics = json.loads(run("test", tmp_path / "tags.tmmodel", tmp_path / "tags.csv", "--json", check=0).stdout)
    assert metrics["task"] == "multi_label" and "micro_f1" in metrics
    assert run("test", tmp_path / "tags.tmmodel", tmp_path / "tags.csv", "--plot", tmp_path / "x.svg").returncode == 8

    texts = [f"{'word ' * n}end" for n in range(1, 9)] * 6
    (tmp_path / "lengths.csv").write_text("label,text\n" + "".join(f"{t.count(' ')},{t}\n" for t in texts))
    run("train", tmp_path / "lengths.csv", "--set", "model.task=regression", "--set", "model.type=cnn",
        "--set", "training.epochs=3", "-o", tmp_path / "r.tmmodel", "--quiet", check=0)
    values = run("predict", tmp_path / "r.tmmodel", "-", input="word end\nword word word end\n", check=0).stdout.split()
    assert len(values) == 2 and all(float(v) == float(v) for v in values)  # numbers, not NaN
    assert json.loads(run("predict", tmp_path / "r.tmmodel", "-", "--json", input="word end\n", check=0).stdout)["value"] == pytest.approx(float(values[0]), rel=1e-5)
    assert run("predict-prob", tmp_path / "r.tmmodel", "-", input="word end\n").returncode == 8
    assert "r2" in json.loads(run("test", tmp_path / "r.tmmodel", tmp_path / "lengths.csv", "--json", check=0).stdout)


def read_png(path):
    """(width, height, RGB rows) of an 8-bit RGB PNG, every chunk's CRC checked."""
    import struct
    import zlib
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and b"IEND" in chunks
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * 3 + 1
    assert len(raw) == stride * height and all(raw[y * stride] == 0 for y in range(height))
    return width, height, [raw[y * stride + 1:(y + 1) * stride] for y in range(height)]


def count_colour(rows, rgb):
    target = bytes(rgb)
    return sum(sum(1 for i in range(0, len(r), 3) if r[i:i + 3] == target) for r in rows)


def test_png_plots_are_valid_pngs_with_the_data_drawn(model, tmp_path):
    curves = tmp_path / "curves.png"
    run("train", DATA / "train.csv", "--valid", DATA / "valid.csv", "--set", "training.epochs=4", "-o",
        tmp_path / "m.tmmodel", "--plot", curves, "--quiet", check=0)
    width, height, rows = read_png(curves)
    assert (width, height) == (960, 410)
    assert count_colour(rows, (0x1F, 0x77, 0xB4)) > 300  # the training lines and points
    assert count_colour(rows, (0xFF, 0x7F, 0x0E)) > 300  # the validation ones
    matrix = tmp_path / "confusion.png"
    run("test", model, DATA / "test.csv", "--plot", matrix, check=0)
    _, _, rows = read_png(matrix)
    metrics = json.loads(run("test", model, DATA / "test.csv", "--json", check=0).stdout)
    # The cell of the largest share of its row is shaded darkest: that colour fills it.
    best = max(c / sum(row) for row in metrics["confusion_matrix"] for c in row)
    def channel(low):
        return round(255 - (255 - low) * best)
    assert count_colour(rows, (channel(33), channel(102), channel(172))) > 500


# ------------------------------------------------------------------ autotune

AUTOTUNE = ["--valid", DATA / "valid.csv", "--max-trials", "3", "--budget", "100000",
            "--threads", "1", "--set", "config.training.epochs=3", "--seed", "4"]


def test_autotune_saves_the_best_trial_and_repeats_with_its_seed(tmp_path):
    first = run("autotune", DATA / "train.csv", *AUTOTUNE, "-o", tmp_path / "a.tmmodel", "--json", check=0)
    table = json.loads(first.stdout)
    assert len(table["trials"]) == 3 and table["stopped_by"] == "max_trials"
    assert first.stderr.count("trial ") == 3  # one line per trial
    best = table["trials"][table["best_trial"]]
    assert best["status"] == "ok" and best["size"] == (tmp_path / "a.tmmodel").stat().st_size
    # The saved model is the best trial's: its validation accuracy is the table's.
    valid = json.loads(run("test", tmp_path / "a.tmmodel", DATA / "valid.csv", "--json", check=0).stdout)
    assert valid["accuracy"] == pytest.approx(best["metric"], abs=1e-9)
    again = json.loads(run("autotune", DATA / "train.csv", *AUTOTUNE, "-o", tmp_path / "b.tmmodel",
                           "--json", "--quiet", check=0).stdout)
    strip = lambda t: [{k: v for k, v in row.items() if k != "seconds"} for row in t["trials"]]
    assert strip(again) == strip(table)


def test_autotune_size_limit_and_errors(tmp_path):
    out = tmp_path / "small.tmmodel"
    run("autotune", DATA / "train.csv", *AUTOTUNE, "--max-model-mb", "1", "-o", out, "--quiet", check=0)
    assert out.stat().st_size <= 1_000_000
    assert run("autotune", DATA / "train.csv", *AUTOTUNE, "--metric", "nonsense", "-o", out).returncode == 3
    assert run("autotune", DATA / "train.csv", "-o", out).returncode == 2  # no --valid
    assert run("autotune", DATA / "train.csv", *AUTOTUNE, "--set", "no_such_option=1", "-o", out).returncode == 3


def test_convert_writes_compact_models_that_predict_alike(model, tmp_path):
    f32 = run("predict", model, DATA / "test.csv", check=0).stdout.splitlines()
    for dtype, ratio in (("f16", 0.52), ("int8", 0.30)):
        out = tmp_path / f"model.{dtype}"
        report = json.loads(run("convert", model, "--dtype", dtype, "-o", out, "--json", check=0).stdout)
        assert report["input_dtype"] == "f32" and report["output_dtype"] == dtype
        assert report["output_bytes"] == os.path.getsize(out) <= ratio * os.path.getsize(model)
        got = run("predict", out, DATA / "test.csv", check=0).stdout.splitlines()
        assert len(got) == len(f32) and sum(a == b for a, b in zip(got, f32)) >= 0.95 * len(f32)
    # Converting an int8 file back writes f32 (its dequantized weights).
    back = tmp_path / "back"
    text = run("convert", tmp_path / "model.int8", "--dtype", "f32", "-o", back, check=0).stdout
    assert "(int8," in text and "(f32," in text
    bad = run("convert", model, "--dtype", "int4", "-o", tmp_path / "x")
    assert bad.returncode == 2 and "int4" in bad.stderr and not (tmp_path / "x").exists()
    assert run("convert", model, "-o", tmp_path / "x").returncode == 2
    assert run("convert", tmp_path / "missing", "--dtype", "int8", "-o", tmp_path / "x").returncode != 0



def test_ctrl_c_while_the_training_file_is_read_stops_at_once(tmp_path):
    """SIGINT is heard while a long file is read (TM_PROGRESS_LOADING reports, one per
    8 MB chunk), not only once training starts: exit 130, no model written."""
    import random
    import signal
    import time

    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]
    train = tmp_path / "big.txt"
    with open(train, "w") as f:
        for i in range(400_000):   # ~30 MB: seconds of reading in two passes
            f.write(f"__label__{'abc'[i % 3]} " + " ".join(rng.choices(words, k=8)) + "\n")
    out = tmp_path / "never.tmmodel"
    process = subprocess.Popen([str(CLI), "train", str(train), "-o", str(out), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = process.communicate(timeout=120)
    waited = time.monotonic() - sent
    assert process.returncode == 130, err
    assert "interrupted while reading the training data; no model written" in err
    assert not out.exists()
    assert waited < 10, f"{waited:.1f} s from SIGINT to exit"
