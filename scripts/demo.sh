#!/usr/bin/env bash
# The main job on the bundled defaults: build libtextmodel and the C example, train
# examples/configs/lstm.json on data/support, evaluate on its test split, save the model,
# reload it and batch-predict a few texts, printing metrics and predictions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
make -s -C bindings/c
mkdir -p build
# The bundled set has 400 training texts: five epochs (the config's setting, sized for
# corpora of tens of thousands) are too few passes over it, so the demo asks for 30.
bindings/c/build/classify --set training.epochs=30 examples/configs/lstm.json \
  data/support/train.csv data/support/valid.csv data/support/test.csv build/support.tmmodel \
  "I was charged twice for my order, please refund me" \
  "my package never arrived and tracking has not moved in a week" \
  "the app crashes every time I open settings" \
  "how do I change the email address on my account?"
