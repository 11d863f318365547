"""The version number lives in one place, the TEXTMODEL_VERSION_* macros of
include/textmodel.h; every other copy must agree with it: the loaded library's
tm_version() and tm_version_number(), the version the Swift engine writes into model
files (LibraryVersion), the Python package's __version__ and pyproject.toml's."""
import json
import re
import struct
from pathlib import Path

import textmodel
from textmodel import TextClassifier
from textmodel._lib import lib

ROOT = Path(__file__).resolve().parents[3]


def header_version():
    text = (ROOT / "include" / "textmodel.h").read_text()
    number = {k: int(re.search(rf"#define TEXTMODEL_VERSION_{k} (\d+)", text).group(1)) for k in ("MAJOR", "MINOR", "PATCH")}
    string = re.search(r'#define TEXTMODEL_VERSION_STRING "([^"]+)"', text).group(1)
    assert string == f"{number['MAJOR']}.{number['MINOR']}.{number['PATCH']}", "the header's string and numbers differ"
    return string, number


def test_library_version_is_the_headers():
    string, n = header_version()
    assert textmodel.library_version() == string
    assert lib().tm_version_number() == n["MAJOR"] * 10000 + n["MINOR"] * 100 + n["PATCH"]


def test_python_package_and_pyproject_versions_are_the_headers():
    string, _ = header_version()
    assert textmodel.__version__ == string
    pyproject = (ROOT / "bindings" / "python" / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == string


def test_the_engine_writes_the_headers_version_into_model_files(tmp_path):
    string, _ = header_version()
    path = tmp_path / "m.tmmodel"
    with TextClassifier({"model": {"type": "bag", "embedding_dim": 4}, "tokenizer": {"word_ngrams": 1, "char_ngrams_max": 0},
                         "training": {"epochs": 1}}) as model:
        model.fit(["good day", "bad day", "fine day", "awful day"], ["pos", "neg", "pos", "neg"])
        model.save(str(path))
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    metadata = json.loads(raw[8:8 + size])["__metadata__"]
    assert metadata["library_version"] == string
    swift = (ROOT / "Sources" / "TextModel" / "Support" / "Version.swift").read_text()
    _, n = header_version()
    for key, value in (("major", n["MAJOR"]), ("minor", n["MINOR"]), ("patch", n["PATCH"])):
        assert re.search(rf"static let {key} = (\d+)", swift).group(1) == str(value)
