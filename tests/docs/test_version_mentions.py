"""The version number lives in the header's TEXTMODEL_VERSION_* macros; the places that
repeat it for readers (the README's install listing and SwiftPM dependency line, the
Swift consumer's Package.swift) must say the same, or a release leaves them behind.
(The bindings, the library and model files are checked in bindings/python/tests/test_packaging.py.)"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def header_version():
    text = (ROOT / "include" / "textmodel.h").read_text()
    return re.search(r'#define TEXTMODEL_VERSION_STRING "([^"]+)"', text).group(1)


def test_readme_and_swift_consumer_name_the_headers_version():
    version = header_version()
    readme = (ROOT / "README.md").read_text()
    consumer = (ROOT / "examples" / "swift-consumer" / "Package.swift").read_text()
    mentions = {
        "README SwiftPM line": re.findall(r'from: "(\d+\.\d+\.\d+)"', readme),
        "README install listing": re.findall(r"libtextmodel\.so\.(\d+\.\d+\.\d+)", readme),
        "examples/swift-consumer/Package.swift": re.findall(r'from: "(\d+\.\d+\.\d+)"', consumer),
    }
    for where, found in mentions.items():
        assert found, f"{where}: no version found (the pattern is stale)"
        assert set(found) == {version}, f"{where} names {found}, the header {version}"
