"""Test setup: use the source tree's package and the freshly built library.

TEXTMODEL_LIBRARY defaults to <repo root>/.build/release/libtextmodel.so, with the
repo root found from this file's location (bindings/python/tests/conftest.py).
"""

import os
import sys
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_ROOT.parents[1]
DEFAULT_LIBRARY = REPO_ROOT / ".build" / "release" / "libtextmodel.so"

os.environ.setdefault("TEXTMODEL_LIBRARY", str(DEFAULT_LIBRARY))
sys.path.insert(0, str(PACKAGE_ROOT))


def pytest_collection_modifyitems(config, items):
    library = os.environ["TEXTMODEL_LIBRARY"]
    if not os.path.isfile(library):
        skip = pytest.mark.skip(reason=f"{library} not found: build it with "
                                       "`swift build -c release -Xswiftc -static-stdlib` "
                                       "or set TEXTMODEL_LIBRARY")
        for item in items:
            item.add_marker(skip)
