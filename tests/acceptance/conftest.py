"""Run the acceptance tests against the in-tree Python package and library build."""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))
