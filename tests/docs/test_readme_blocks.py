"""Every fenced code block of README.md and bindings/*/README.md runs, by language:

- sh, bash: the file's shell blocks run in order in one bash session (set -eu; the working
  directory and variables carry over, as in a reader's terminal, and as there a pipeline's
  status is its last command's, so `... | head -3` is fine);
- python: the file's Python blocks run in order in one interpreter (names carry over);
- c: compiled with cc against include/ and .build/release/libtextmodel.so (a fragment
  without main() is wrapped in one) and run;
- json: parsed;
- swift: must appear verbatim in the Swift consumer package (examples/swift-consumer),
  which tests/docs/test_swift_consumer.py builds and runs;
- a block without a language is program output or a usage synopsis, and is not run.

Blocks run after scripts/build.sh, from a scratch directory that mirrors the repository
root (its entries are symbolic links), so relative paths such as data/support/train.csv
work and files the blocks write land in the scratch directory. `python3` and `pip` on
the PATH belong to a fresh virtual environment (with the system's site packages), so
`python3 -m pip install ./bindings/python` in a block installs there, not into the
system.

A block the runner knowingly cannot run carries a marker on the line before its fence:
    <!-- readme-runner: skip: REASON -->
(kept rare: the reason is printed with the test's result)."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE = REPO_ROOT / ".build" / "release"
READMES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "bindings").glob("*/README.md"))]
SKIP = re.compile(r"<!--\s*readme-runner:\s*skip:\s*(.+?)\s*-->")
CONSUMER = REPO_ROOT / "examples" / "swift-consumer"
KNOWN = {"sh", "bash", "python", "c", "json", "swift", ""}


def blocks(path):
    """(language, first line number, code, skip reason or None) of each fenced block."""
    lines = path.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(```+)\s*([A-Za-z0-9_+-]*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        start, language = i, fence.group(2).lower()
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence.group(1)):
            body.append(lines[i])
            i += 1
        previous = lines[start - 1] if start > 0 else ""
        skip = SKIP.search(previous)
        found.append((language, start + 1, "\n".join(body) + "\n", skip.group(1) if skip else None))
        i += 1
    return found


def relative(path):
    return str(path.relative_to(REPO_ROOT))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A directory mirroring the repository root, and a virtual environment."""
    if not (RELEASE / "libtextmodel.so").is_file():
        pytest.fail("run scripts/build.sh first")
    root = tmp_path_factory.mktemp("readme")
    work = root / "repo"
    work.mkdir()
    for entry in REPO_ROOT.iterdir():
        if entry.name not in (".git",):
            (work / entry.name).symlink_to(entry)
    venv = root / "venv"
    # --without-pip: the system's pip and setuptools (seen through the system site
    # packages) run inside the environment; the bundled setuptools cannot build wheels.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    (venv / "bin" / "pip").write_text(f"#!/bin/sh\nexec {venv}/bin/python -m pip \"$@\"\n")
    (venv / "bin" / "pip").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("TEXTMODEL_LIBRARY", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PIP_NO_BUILD_ISOLATION"] = "0"   # pip's spelling of --no-build-isolation: no download
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return work, env


def cases():
    for readme in READMES:
        for language in ("sh", "python", "c", "json", "swift"):
            chosen = [b for b in blocks(readme) if (b[0] in ("sh", "bash") if language == "sh" else b[0] == language)]
            if chosen:
                yield pytest.param(readme, language, chosen, id=f"{relative(readme)}:{language}")


def test_every_block_has_a_language_the_runner_knows():
    for readme in READMES:
        for language, line, _, _ in blocks(readme):
            assert language in KNOWN, f"{relative(readme)}:{line}: unknown block language {language!r}"


@pytest.mark.parametrize("readme, language, chosen", list(cases()))
def test_readme_blocks_run(readme, language, chosen, scratch, tmp_path, capsys):
    work, env = scratch
    runnable = [b for b in chosen if b[3] is None]
    for _, line, _, reason in chosen:
        if reason is not None:
            with capsys.disabled():
                print(f"\n  skipped {relative(readme)}:{line} ({language}): {reason}")
    if not runnable:
        pytest.skip("every block of this language is marked skip")
    run = {"sh": run_shell, "python": run_python, "c": run_c, "json": run_json, "swift": check_swift}[language]
    run(readme, runnable, work, env, tmp_path)


def run_shell(readme, runnable, work, env, tmp_path):
    script = ["set -eu"]
    for _, line, code, _ in runnable:
        script += [f"echo '== {relative(readme)}:{line}' >&2", code]
    result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True, timeout=1200)
    last = [l for l in result.stderr.splitlines() if l.startswith("== ")][-1:]
    assert result.returncode == 0, f"failed in block {last}: exit {result.returncode}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"


DRIVER = textwrap.dedent("""
    import json, sys, traceback
    namespace = {"__name__": "__main__"}
    for line, code in json.load(open(sys.argv[1])):
        try:
            exec(compile(code, f"{sys.argv[2]}:{line}", "exec"), namespace)
        except Exception:
            traceback.print_exc()
            sys.exit(f"block at {sys.argv[2]}:{line} failed")
""")


def run_python(readme, runnable, work, env, tmp_path):
    blocks_file = tmp_path / "blocks.json"
    blocks_file.write_text(json.dumps([(line, code) for _, line, code, _ in runnable]))
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    # The environment's interpreter: the package an earlier shell block pip-installed.
    python = Path(env["VIRTUAL_ENV"]) / "bin" / "python"
    result = subprocess.run([str(python), str(driver), str(blocks_file), relative(readme)], cwd=work, env=env,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-5000:]}"


def run_c(readme, runnable, work, env, tmp_path):
    for _, line, code, _ in runnable:
        if not re.search(r"\bmain\s*\(", code):
            includes = "".join(l + "\n" for l in code.splitlines() if l.startswith("#include"))
            body = "".join(l + "\n" for l in code.splitlines() if not l.startswith("#include"))
            code = ("#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n" + includes
                    + "int main(void)\n{\n" + body + "return 0;\n}\n")
        source = tmp_path / f"block_{line}.c"
        source.write_text(code)
        program = tmp_path / f"block_{line}"
        compiled = subprocess.run(["cc", "-std=c99", "-Wall", "-o", str(program), str(source), f"-I{REPO_ROOT / 'include'}",
                                   f"-L{RELEASE}", f"-Wl,-rpath,{RELEASE}", "-ltextmodel"], capture_output=True, text=True)
        assert compiled.returncode == 0, f"{relative(readme)}:{line} does not compile:\n{compiled.stderr}"
        result = subprocess.run([str(program)], cwd=work, env=env, capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, f"{relative(readme)}:{line} exited {result.returncode}:\n{result.stderr}"


def run_json(readme, runnable, work, env, tmp_path):
    for _, line, code, _ in runnable:
        try:
            json.loads(code)
        except ValueError as e:
            pytest.fail(f"{relative(readme)}:{line}: not valid JSON: {e}")


def check_swift(readme, runnable, work, env, tmp_path):
    sources = {p: p.read_text() for p in CONSUMER.rglob("*.swift") if ".build" not in p.parts}
    for _, line, code, _ in runnable:
        assert any(code.strip() in text for text in sources.values()), (
            f"{relative(readme)}:{line}: this Swift block is not in {relative(CONSUMER)}, "
            "whose build and run keep it true: copy it there (or the consumer's code here)")
