"""Before/after timing of bag.json training on the tweets (bench/NOTES.md).

    TEXTMODEL_LIBRARY=LIB python3 bench/ab/train_bag.py TREE THREADS

TREE is the source tree whose bindings and examples/configs/bag.json to use (this
checkout, or an older commit unpacked with `git archive COMMIT | tar -x -C DIR`).
Prints: fit_files seconds, test accuracy, threads the report says were used.
"""
import json, sys, time

tree, threads = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, tree + "/bindings/python")
from textmodel import TextClassifier  # noqa: E402

TWEETS = "/work/shared/data/tweets"
cfg = json.load(open(tree + "/examples/configs/bag.json"))
cfg["training"]["threads"] = threads
started = time.perf_counter()
clf = TextClassifier(cfg).fit_files(TWEETS + "/train.csv")
seconds = time.perf_counter() - started
accuracy = clf.evaluate_file(TWEETS + "/test.csv")["accuracy"]
print(f"{seconds:.2f} {accuracy:.4f} {clf.report_['threads']}")
