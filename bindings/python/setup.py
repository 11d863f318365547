"""Builds the textmodel package with libtextmodel.so inside it, so that
``pip install ./bindings/python`` gives a working package with no copy step.

The library bundled is the repository's ``.build/release/libtextmodel.so``; when it has
not been built yet (a clean clone), ``scripts/build.sh`` builds it first. At run time
``TEXTMODEL_LIBRARY`` still overrides the bundled copy (see ``textmodel._lib``). The
metadata lives in pyproject.toml; this file only adds the library to the build.
"""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parents[1]
BUILT_LIBRARY = REPO_ROOT / ".build" / "release" / "libtextmodel.so"
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build.sh"


def built_library():
    """The release library, building it when the repository has not yet."""
    if not BUILT_LIBRARY.is_file():
        if not BUILD_SCRIPT.is_file():
            raise SystemExit(f"textmodel: {BUILT_LIBRARY} is missing and there is no "
                             f"{BUILD_SCRIPT} to build it: build libtextmodel first")
        subprocess.run([str(BUILD_SCRIPT)], check=True, cwd=REPO_ROOT)
    return BUILT_LIBRARY


class BuildPyWithLibrary(build_py):
    """build_py that also copies the built library into the package."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "textmodel" / "libtextmodel.so"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built_library(), target)  # the file itself, not a link to it


class BinaryDistribution(Distribution):
    """The wheel holds a native library, so it is tagged for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution)
