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

# TEXTMODEL_TEST_INSTALLED=1 (scripts/test.sh's virtual-environment phase) tests the
# package pip installed, with the library it bundles, instead of the source tree's.
TESTING_INSTALLED = os.environ.get("TEXTMODEL_TEST_INSTALLED") == "1"
if TESTING_INSTALLED:
    import textmodel._lib
    if str(PACKAGE_ROOT) in str(Path(textmodel._lib.__file__).resolve()):
        raise RuntimeError("TEXTMODEL_TEST_INSTALLED=1 but textmodel imports from the source tree; "
                           "run pytest from outside bindings/python")
    os.environ.pop("TEXTMODEL_LIBRARY", None)
    os.environ["TEXTMODEL_LIBRARY"] = textmodel._lib.library_path()  # the bundled copy
else:
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
