"""examples/swift-consumer, a SwiftPM package that depends on this one by path and uses
the TextModel library product (the README's Swift quick start), builds and runs: it
trains, evaluates, saves, loads and predicts, and meets the typed errors it expects."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSUMER = REPO_ROOT / "examples" / "swift-consumer"


def test_swift_consumer_builds_and_runs(tmp_path):
    if shutil.which("swift") is None:
        pytest.fail("the Swift toolchain is needed to build examples/swift-consumer")
    build = subprocess.run(["swift", "build", "-c", "release", "--package-path", str(CONSUMER)],
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    assert "unsafeFlags" not in build.stderr
    program = CONSUMER / ".build" / "release" / "SwiftConsumer"
    run = subprocess.run([str(program), str(REPO_ROOT / "data" / "support")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "trained on 400 texts, 4 labels, 10 epochs" in out
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert accuracy > 0.7, out
    assert re.search(r"my parcel never came -> delivery \(0\.\d+\)", out), out
    assert "config error, as expected: model.hidden_dim" in out
    assert "file error, as expected:" in out and "no-such-model.tmmodel" in out
    assert (tmp_path / "support.tmmodel").is_file()
