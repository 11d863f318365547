#!/usr/bin/env bash
# Bag model against fastText only, alternating (A B A B), without the LSTM pair:
# a quick check between full bench/run.sh runs. Uses bench/.venv, the release library
# in .build-bench (bench/run.sh builds both) and the tokenised fastText file that
# bench/compare.py prepares under bench/.data/NAME.
#   bench/ab/bag_vs_fasttext.sh DATA_DIR FASTTEXT_TRAIN_FILE REPS THREADS...
#   bench/ab/bag_vs_fasttext.sh ../shared/data/tweets bench/.data/tweets/train.tok.ft.txt 3 2 1
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$1 ft=$2 reps=$3
shift 3
py=$root/bench/.venv/bin/python
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bucket=$("$py" -c "import json; print(json.load(open('$root/examples/configs/bag.json'))['tokenizer']['buckets'])")
for rep in $(seq "$reps"); do
  for threads in "$@"; do
    TEXTMODEL_LIBRARY=${TEXTMODEL_LIBRARY:-$root/.build-bench/release/libtextmodel.so} "$py" "$root/bench/run_textmodel.py" \
      "$root/examples/configs/bag.json" "$data/train.csv" "$data/test.csv" --threads "$threads" \
      --model "$out/m.tm" --result "$out/tm.json" >/dev/null
    "$py" "$root/bench/run_fasttext.py" "$ft" "$data/test.csv" --threads "$threads" --bucket "$bucket" \
      --model "$out/m.ft" --result "$out/ft.json" >/dev/null
    "$py" - "$out/tm.json" "$out/ft.json" "$rep" "$threads" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
k = "batch_texts_per_second"
print(f"rep {sys.argv[3]} threads {sys.argv[4]}: libtextmodel {a['train_seconds']:.2f} s, acc {a['accuracy']:.4f}, "
      f"{a[k]:,.0f} texts/s, RSS {a['peak_rss_mb']:.0f} MB | fastText {b['train_seconds']:.2f} s, acc {b['accuracy']:.4f}, "
      f"{b[k]:,.0f} texts/s, RSS {b['peak_rss_mb']:.0f} MB | training {b['train_seconds'] / a['train_seconds']:.2f}x, "
      f"inference {a[k] / b[k]:.2f}x")
PY
  done
done
