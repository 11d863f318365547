#!/usr/bin/env bash
# Every test: Swift unit tests, the C tests (with valgrind), the Python binding tests and
# the acceptance run on ../shared/data/tweets when that corpus is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

echo "== Swift tests"
swift test

echo "== C tests"
tests/c/run.sh

echo "== Python tests"
TEXTMODEL_LIBRARY="$(pwd)/.build/release/libtextmodel.so" python3 -m pytest -q -p no:cacheprovider bindings/python/tests tests/acceptance

echo "== all tests passed"
