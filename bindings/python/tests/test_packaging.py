"""The bindings' version against the header and the library, and how the package finds
libtextmodel.so when TEXTMODEL_LIBRARY is unset.

The version number lives in one place, the TEXTMODEL_VERSION_* macros of
include/textmodel.h; every other copy must agree with it: the loaded library's
tm_version() and tm_version_number(), the version the Swift engine writes into model
files (Sources/TextModel/Support/Version.swift), the bindings' HEADER_VERSION and
__version__, and pyproject.toml's."""

import json
import os
import re
import struct
import shutil
import subprocess
import sys

import textmodel
from textmodel import _lib

from conftest import PACKAGE_ROOT, REPO_ROOT


def header_version():
    text = (REPO_ROOT / "include" / "textmodel.h").read_text()
    parts = [int(re.search(rf"#define TEXTMODEL_VERSION_{name} (\d+)", text).group(1))
             for name in ("MAJOR", "MINOR", "PATCH")]
    return tuple(parts), re.search(r'#define TEXTMODEL_VERSION_STRING "([^"]+)"', text).group(1)


def test_header_version_matches_header_and_library():
    numbers, string = header_version()
    assert _lib.HEADER_VERSION == numbers
    assert ".".join(map(str, _lib.HEADER_VERSION)) == string
    assert textmodel.library_version() == string
    major, minor, patch = numbers
    assert _lib.lib().tm_version_number() == major * 10000 + minor * 100 + patch
    assert textmodel.__version__ == string
    pyproject = (PACKAGE_ROOT / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == string


def test_the_engine_writes_the_headers_version_into_model_files(tmp_path):
    numbers, string = header_version()
    path = tmp_path / "m.tmmodel"
    with textmodel.TextClassifier({"model": {"type": "bag", "embedding_dim": 4}, "training": {"epochs": 1},
                                   "tokenizer": {"word_ngrams": 1, "char_ngrams_max": 0}}) as model:
        model.fit(["good day", "bad day", "fine day", "awful day"], ["pos", "neg", "pos", "neg"])
        model.save(str(path))
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    assert json.loads(raw[8:8 + size])["__metadata__"]["library_version"] == string
    swift = (REPO_ROOT / "Sources" / "TextModel" / "Support" / "Version.swift").read_text()
    for key, value in zip(("major", "minor", "patch"), numbers):
        assert re.search(rf"static let {key} = (\d+)", swift).group(1) == str(value)


def test_package_finds_the_library_in_its_own_folder(tmp_path):
    # A copy of the package with the built library inside, as `pip install` after
    # copying the .so into bindings/python/textmodel/ makes it.
    package = tmp_path / "textmodel"
    shutil.copytree(PACKAGE_ROOT / "textmodel", package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(os.environ["TEXTMODEL_LIBRARY"], package / _lib.LIBRARY_NAME)
    env = {k: v for k, v in os.environ.items() if k != _lib.LIBRARY_ENV}
    env["PYTHONPATH"] = str(tmp_path)
    script = ("import textmodel, textmodel._lib as l; "
              "print(l.library_path()); print(textmodel.library_version()); "
              "print(textmodel.TextClassifier().resolved_config()['model']['task'])")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    path, version, task = result.stdout.split()
    assert path == str((package / _lib.LIBRARY_NAME).resolve())
    assert version == header_version()[1]
    assert task == "single_label"


def test_without_library_the_error_says_where_to_put_it(tmp_path):
    package = tmp_path / "textmodel"
    shutil.copytree(PACKAGE_ROOT / "textmodel", package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    env = {k: v for k, v in os.environ.items() if k != _lib.LIBRARY_ENV}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", "import textmodel; textmodel.library_version()"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert _lib.LIBRARY_ENV in result.stderr and str(package) in result.stderr
