#!/usr/bin/env bash
# Installs what building and testing libtextmodel needs on a fresh Debian machine that
# already has the Swift toolchain, Python and gcc: json-c and OpenBLAS (the library's only
# dependencies), pkg-config, valgrind (C tests), numpy and pytest (Python binding tests),
# scikit-learn, joblib and matplotlib (the Python bindings' optional extras), and a
# setuptools that builds wheels by itself (pip install ./bindings/python).
# Safe to run again: it only installs what is missing.
set -euo pipefail

need_apt=()
for pkg in libjson-c-dev libopenblas-dev pkg-config valgrind; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 - <<'PY' || python3 -m pip install -q numpy pytest
import numpy, pytest
PY

# The Python bindings' optional extras, which their tests exercise: scikit-learn
# (textmodel[sklearn]: the estimator checks, GridSearchCV, pipelines), joblib (model
# pickling) and matplotlib (textmodel[plot]).
python3 - <<'PY' || python3 -m pip install -q scikit-learn joblib matplotlib
import sklearn, joblib, matplotlib
PY

# textmodel[dask] (bindings/python/tests/test_dask.py runs a 2-worker LocalCluster):
# dask.distributed, and dask.dataframe with its pandas and pyarrow.
python3 - <<'PY' || python3 -m pip install -q --break-system-packages "dask[dataframe,distributed]"
import distributed, dask.dataframe, pandas, pyarrow
PY

# pip install ./bindings/python (the virtual-environment test phase) builds a wheel with the
# system's setuptools; from 70.1 setuptools builds wheels without the separate wheel package.
python3 - <<'PY' || python3 -m pip install -q --break-system-packages "setuptools>=70.1"
import sys, setuptools
sys.exit(0 if tuple(int(p) for p in setuptools.__version__.split(".")[:2]) >= (70, 1) else 1)
PY
