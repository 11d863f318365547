#!/usr/bin/env bash
# Before/after of an engine change: alternates an older build (A) and this one (B) on
# the tweets, for training (bench/ab/train.py) and batch inference (bench/ab/infer.py).
#   BASE_TREE=/tmp/base BASE_LIB=/tmp/base/.build-base/release/libtextmodel.so \
#   LIB=.build/release/libtextmodel.so REPS=3 bench/ab/engine.sh
# CONFIGS: "name:epochs" pairs (default: bag, the default model, lstm and cnn at 2
# epochs); THREADS: the thread counts. Inference uses models the older library trained,
# which both load. Prints one line per run; medians are for the reader (RESULTS.md).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
lib=${LIB:-$tree/.build/release/libtextmodel.so}
configs=${CONFIGS:-"bag:5 default:5 lstm:2 cnn:2"}
threads=${THREADS:-"2 1"}
models=$(mktemp -d)
for rep in $(seq 1 "${REPS:-3}"); do
  for t in $threads; do
    for entry in $configs; do
      name=${entry%%:*} epochs=${entry##*:}
      config=$tree/examples/configs/$name.json; [ "$name" = default ] && config=default
      echo "train $name A t=$t rep=$rep: $(SAVE=$models/$name.tmmodel TEXTMODEL_LIBRARY=$BASE_LIB python3 "$here/train.py" "$BASE_TREE" "$config" "$t" "$epochs")"
      echo "train $name B t=$t rep=$rep: $(TEXTMODEL_LIBRARY=$lib python3 "$here/train.py" "$tree" "$config" "$t" "$epochs")"
    done
  done
done
for rep in $(seq 1 "${REPS:-3}"); do
  for t in $threads; do
    for entry in $configs; do
      name=${entry%%:*}
      echo "infer $name A t=$t rep=$rep: $(TEXTMODEL_LIBRARY=$BASE_LIB python3 "$here/infer.py" "$BASE_TREE" "$models/$name.tmmodel" "$t" 3)"
      echo "infer $name B t=$t rep=$rep: $(TEXTMODEL_LIBRARY=$lib python3 "$here/infer.py" "$tree" "$models/$name.tmmodel" "$t" 3)"
    done
  done
done
rm -rf "$models"
