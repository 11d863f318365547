"""Packaging tests run against what scripts/build.sh built (.build/release)."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE = REPO_ROOT / ".build" / "release"
LIBRARY = Path(os.environ.get("TEXTMODEL_LIBRARY", RELEASE / "libtextmodel.so"))
CLI = RELEASE / "textmodel"


@pytest.fixture(scope="session")
def library():
    if not LIBRARY.is_file():
        pytest.fail(f"{LIBRARY} is missing: run scripts/build.sh first")
    return LIBRARY


@pytest.fixture(scope="session")
def installed(tmp_path_factory, library):
    """A PREFIX that scripts/install.sh installed into."""
    import subprocess
    prefix = tmp_path_factory.mktemp("prefix")
    result = subprocess.run([str(REPO_ROOT / "scripts" / "install.sh"), str(prefix)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return prefix
