#!/usr/bin/env bash
# The side-by-side benchmark: libtextmodel beside fastText, PyTorch and scikit-learn.
# Builds the release library, sets up bench/.venv with the peers, generates the
# synthetic corpus and runs every system on the tweets and on that corpus. See
# bench/README.md. Knobs (environment):
#   REPS=3               repetitions on the tweets corpus; 0 = skip it
#   CORPUS_LINES=1000000 synthetic corpus size (lines; 90/5/5 train/valid/test); 0 = skip it
#   CORPUS_REPS=1        repetitions on the synthetic corpus
#   CORPUS_SEED=1        its generator seed
#   LSTM_LINES=20000     training lines the LSTM pair uses on the synthetic corpus
#   TRANSFORMER=1        the transformer pair (transformer.json vs PyTorch); 0 = skip it
#   TRANSFORMER_LINES=20000  training lines the transformer pair uses on the synthetic corpus
#   PAIRS=bag,lstm,transformer,ref  the pairs to run (ref = scikit-learn)
#   TWEETS=path          the tweets corpus (default ../shared/data/tweets, then /work/shared/data/tweets)
#   TORCH_PADDED=1       also run PyTorch on padded+masked batches (same model, faster path)
#   CORPUS_SKLEARN=0     skip scikit-learn on the synthetic corpus (its tf-idf + LR fit
#                        takes ~13 min on 900,000 lines; the tweets still run it)
#   RUN_TIMEOUT=1200     seconds one system run may take before it is killed (reported TIMEOUT)
#   SKIP_BUILD=1         use the existing .build-bench/release/libtextmodel.so
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-3} CORPUS_LINES=${CORPUS_LINES:-1000000} CORPUS_REPS=${CORPUS_REPS:-1}
CORPUS_SEED=${CORPUS_SEED:-1} LSTM_LINES=${LSTM_LINES:-20000}
TRANSFORMER=${TRANSFORMER:-1} TRANSFORMER_LINES=${TRANSFORMER_LINES:-20000}
started=$(date +%s)

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building libtextmodel (release, .build-bench)"
  swift build -c release -Xswiftc -static-stdlib --scratch-path "$ROOT/.build-bench" 2>&1 | tail -3
fi
export TEXTMODEL_LIBRARY="$ROOT/.build-bench/release/libtextmodel.so"
test -f "$TEXTMODEL_LIBRARY"

echo "== virtual environment bench/.venv"
if [[ ! -x bench/.venv/bin/python ]]; then
  # System packages stay visible, so peers already installed (torch is ~5 GB) are reused.
  python3 -m venv --system-site-packages bench/.venv
fi
PY=bench/.venv/bin/python
if ! $PY -c "import fasttext, sklearn, torch, numpy" 2>/dev/null; then
  $PY -m pip install --quiet numpy scikit-learn torch
  $PY -m pip install --quiet fasttext || $PY -m pip install --quiet fasttext-wheel
fi

args=(--reps "$REPS" --corpus-reps "$CORPUS_REPS" --lstm-lines "$LSTM_LINES"
      --transformer-lines "$TRANSFORMER_LINES")
[[ "$TRANSFORMER" == 0 ]] && args+=(--no-transformer)
[[ -n "${PAIRS:-}" ]] && args+=(--pairs "$PAIRS")
[[ -n "${TWEETS:-}" ]] && args+=(--tweets "$TWEETS")
[[ -n "${TORCH_PADDED:-}" ]] && args+=(--torch-padded)
[[ "${CORPUS_SKLEARN:-1}" == 0 ]] && args+=(--no-corpus-sklearn)
if [[ "$CORPUS_LINES" -gt 0 ]]; then
  echo "== synthetic corpus: $CORPUS_LINES lines, seed $CORPUS_SEED"
  corpus="bench/.data/corpus-$CORPUS_LINES-seed$CORPUS_SEED"
  $PY bench/make_corpus.py --lines "$CORPUS_LINES" --seed "$CORPUS_SEED" --out "$corpus"
  args+=(--corpus "$corpus")
else
  args+=(--only tweets)
fi

echo "== running (REPS=$REPS CORPUS_LINES=$CORPUS_LINES CORPUS_REPS=$CORPUS_REPS LSTM_LINES=$LSTM_LINES" \
     "TRANSFORMER=$TRANSFORMER TRANSFORMER_LINES=$TRANSFORMER_LINES${PAIRS:+ PAIRS=$PAIRS})"
$PY bench/compare.py "${args[@]}"
echo "total wall time of bench/run.sh: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
