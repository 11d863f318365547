"""bindings/c/README.md's promise: a minimal correct C program is clean under
`valgrind --leak-check=full --error-exitcode=1` with bindings/c/valgrind.supp, which
names only the Swift runtime's one-time allocations (kept for the process's life)."""

import shutil
import subprocess

import pytest

from conftest import REPO_ROOT


def build_minimal_program(library, tmp_path):
    program = tmp_path / "minimal_program"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-o", str(program),
                    str(REPO_ROOT / "tests" / "packaging" / "minimal_program.c"), f"-I{REPO_ROOT / 'include'}",
                    f"-L{library.parent}", f"-Wl,-rpath,{library.parent}", "-ltextmodel"], check=True)
    return program


def test_minimal_program_is_clean_under_valgrind_with_the_suppressions(library, tmp_path):
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (scripts/install-deps.sh installs it)")
    program = build_minimal_program(library, tmp_path)
    log = tmp_path / "valgrind.log"
    run = subprocess.run(["valgrind", "--leak-check=full", "--error-exitcode=1", "--fair-sched=yes",
                          f"--suppressions={REPO_ROOT / 'bindings' / 'c' / 'valgrind.supp'}", f"--log-file={log}",
                          str(program), str(tmp_path / "m.tmmodel")],
                         capture_output=True, text=True, timeout=900)
    text = log.read_text()
    assert run.returncode == 0, run.stderr + text
    assert "ERROR SUMMARY: 0 errors" in text
    assert "definitely lost: 0 bytes" in text or "All heap blocks were freed" in text or "no leaks are possible" in text
    assert "top label" in run.stdout


def test_the_suppressions_name_only_the_swift_runtime():
    # Every suppression is anchored on a Swift runtime frame, so none can hide a leak
    # of the engine's own buffers or of a caller's.
    text = (REPO_ROOT / "bindings" / "c" / "valgrind.supp").read_text()
    blocks = [b for b in text.split("{")[1:]]
    assert blocks, "no suppressions"
    for block in blocks:
        frames = [line.strip() for line in block.splitlines() if line.strip().startswith(("fun:", "obj:"))]
        assert any(f.startswith("fun:_ZN5swift") for f in frames), block
        kinds = [line.split(":", 1)[1].strip() for line in block.splitlines() if "match-leak-kinds" in line]
        assert kinds and "definite" not in kinds[0] and "all" not in kinds[0], block
