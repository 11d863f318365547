"""Before/after timing of one example config's training on the tweets.

    TEXTMODEL_LIBRARY=LIB python3 bench/ab/train.py TREE CONFIG THREADS [EPOCHS]

TREE: the source tree whose Python binding to use (this checkout, or an older commit
unpacked with `git archive COMMIT | tar -x -C DIR`). CONFIG: a config file; EPOCHS
overrides its epochs. Prints: fit_files seconds, training tokens per second (the
report's train_tokens × epochs / seconds), test accuracy, macro-F1, threads used.
With SAVE=PATH the model is saved there (for bench/ab/infer.py). TRAINING='{"k": v}'
merges those keys into the config's "training" section (e.g. '{"sparse_updates": true}').
"""
import json, os, sys, time

tree, config, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, tree + "/bindings/python")
from textmodel import TextClassifier  # noqa: E402

TWEETS = os.environ.get("TWEETS_DIR", "/work/shared/data/tweets")
cfg = json.load(open(config)) if config != "default" else {}
cfg.setdefault("training", {})["threads"] = threads
cfg["training"].update(json.loads(os.environ.get("TRAINING") or "{}"))
if len(sys.argv) > 4:
    cfg["training"]["epochs"] = int(sys.argv[4])
clf = TextClassifier(cfg, threads=threads)
started = time.perf_counter()
clf.fit_files(TWEETS + "/train.csv")
seconds = time.perf_counter() - started
m = clf.evaluate_file(TWEETS + "/test.csv")
tokens = clf.report_["train_tokens"] * len(clf.history_) / seconds
if os.environ.get("SAVE"):
    clf.save(os.environ["SAVE"])
print(f"{seconds:.2f} {tokens:.0f} {m['accuracy']:.4f} {m['macro_f1']:.4f} {clf.report_['threads']}")
