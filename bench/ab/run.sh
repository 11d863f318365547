#!/usr/bin/env bash
# Before/after runs of bench/NOTES.md: alternates an older build and this one.
#   BASE_TREE=/tmp/x/base BASE_LIB=/tmp/x/base/.build-base/release/libtextmodel.so \
#   BAG_MODEL=... LSTM_MODEL=... bench/ab/run.sh
# BAG_MODEL / LSTM_MODEL: .tmmodel files trained by the older library (bag.json;
# lstm.json), which both libraries can load.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
lib=${LIB:-$tree/.build-speed/release/libtextmodel.so}
for rep in 1 2 3; do
  for t in 1 2; do
    echo "train bag base t=$t rep=$rep: $(TEXTMODEL_LIBRARY=$BASE_LIB python3 "$here/train_bag.py" "$BASE_TREE" $t)"
    echo "train bag now  t=$t rep=$rep: $(TEXTMODEL_LIBRARY=$lib python3 "$here/train_bag.py" "$tree" $t)"
  done
done
for rep in 1 2 3; do
  for kind in bag lstm; do
    model=$BAG_MODEL; [ "$kind" = lstm ] && model=$LSTM_MODEL
    echo "infer $kind base t=1 rep=$rep: $(TEXTMODEL_LIBRARY=$BASE_LIB python3 "$here/infer.py" "$BASE_TREE" "$model" 1 3)"
    for t in 1 2; do
      echo "infer $kind now  t=$t rep=$rep: $(TEXTMODEL_LIBRARY=$lib python3 "$here/infer.py" "$tree" "$model" $t 3)"
    done
  done
done
