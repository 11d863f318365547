"""The library exports exactly the functions include/textmodel.h declares.

The list is read from the header (comments stripped, then every `tm_name(` that starts a
declaration), not written here, so a function added to the header is expected in the
library and a symbol the library leaks beside them fails the test."""

import re
import subprocess

from conftest import REPO_ROOT


def declared_functions():
    text = (REPO_ROOT / "include" / "textmodel.h").read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)
    # A declaration: a return type, then the name and its parameter list, ending in ';'.
    names = set(re.findall(r"\b(tm_[a-z0-9_]+)\s*\([^;{}()]*(?:\([^()]*\)[^;{}()]*)*\)\s*;", text))
    assert len(names) >= 20, f"the header parse found only {sorted(names)}"
    return names


def exported_symbols(library):
    out = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True,
                         text=True, check=True).stdout
    exported = set()
    for line in out.splitlines():
        parts = line.split()
        # Upper-case types are global (exported); lower-case ones in .dynsym are local
        # entries the linker keeps for relocations, which no other object can bind to.
        if len(parts) == 3 and parts[1].isupper():
            exported.add(parts[2].split("@")[0])
    return exported


def test_only_the_documented_functions_are_exported(library):
    declared = declared_functions()
    exported = exported_symbols(library)
    assert exported - declared == set(), "exported but not declared in include/textmodel.h"
    assert declared - exported == set(), "declared in include/textmodel.h but not exported"


def test_the_library_has_its_soname(library):
    dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True,
                             check=True).stdout
    major = re.search(r"#define TEXTMODEL_VERSION_MAJOR (\d+)",
                      (REPO_ROOT / "include" / "textmodel.h").read_text()).group(1)
    assert f"Library soname: [libtextmodel.so.{major}]" in dynamic
