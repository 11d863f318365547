#!/usr/bin/env bash
# lstm.json training on the tweets, side by side in one run, alternating:
#   A     the library built from an older commit (BASE_LIB, its tree BASE_TREE)
#   B     this tree's library (LIB)
#   torch PyTorch's packed LSTM with the same model and settings (bench/run_torch.py)
# for each thread count in THREADS, REPS times (A B torch A B torch ...), EPOCHS epochs
# (default 5, lstm.json's own). Prints one line
# per run: seconds of fit (reading, tokenising and the epochs), training tokens/s
# (tokens seen / those seconds), test accuracy. Medians are for the reader (RESULTS.md).
#   BASE_TREE=/tmp/base-src BASE_LIB=/tmp/base-src/.build/release/libtextmodel.so \
#     REPS=2 THREADS="2 1" EPOCHS=2 bench/kernels/lstm_ab.sh
# A_TRAINING / B_TRAINING: JSON merged into A's / B's "training" section (bench/ab/train.py's
# TRAINING); without BASE_TREE, A is this tree too, so one library's two settings compare:
#   B_TRAINING='{"sparse_updates": true}' TORCH_SPARSE=1 bench/kernels/lstm_ab.sh
# PY: the Python with torch (e.g. bench/.venv/bin/python). TORCH_SPARSE=1 adds a PyTorch run with a sparse embedding and SparseAdam (run_torch.py --sparse).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
lib=${LIB:-$tree/.build/release/libtextmodel.so}
BASE_TREE=${BASE_TREE:-$tree}
BASE_LIB=${BASE_LIB:-$lib}
tweets=${TWEETS_DIR:-/work/shared/data/tweets}
config=$tree/examples/configs/lstm.json
epochs=${EPOCHS:-5}
out=$(mktemp -d)
# PyTorch reads the same tokens (common.tokenize, ≤ 128 per text: 629,118 on the tweets
# against lstm.json's 629,279), so the ratio of fit seconds is the ratio of tokens/s.
for rep in $(seq 1 "${REPS:-2}"); do
  for t in ${THREADS:-"2 1"}; do
    echo "A t=$t rep=$rep: $(TRAINING=${A_TRAINING:-} TEXTMODEL_LIBRARY=$BASE_LIB python3 "$tree/bench/ab/train.py" "$BASE_TREE" "$config" "$t" "$epochs")"
    echo "B t=$t rep=$rep: $(TRAINING=${B_TRAINING:-} TEXTMODEL_LIBRARY=$lib python3 "$tree/bench/ab/train.py" "$tree" "$config" "$t" "$epochs")"
    for variant in torch ${TORCH_SPARSE:+torch-sparse}; do
      sparse=()
      [ "$variant" = torch-sparse ] && sparse=(--sparse)
      (cd "$tree/bench" && ${PY:-python3} run_torch.py "$tweets/train.csv" "$tweets/test.csv" --threads "$t" --epochs "$epochs" \
         --model "$out/lstm.pt" "${sparse[@]}" --result "$out/torch.json" >/dev/null 2>&1)
      echo "$variant t=$t rep=$rep: $(python3 -c "import json,sys; r=json.load(open('$out/torch.json')); print(round(r['train_seconds'],2), r.get('accuracy'))")"
    done
  done
done
rm -rf "$out"
