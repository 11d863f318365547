"""Before/after batch-inference throughput (bench/NOTES.md).

    TEXTMODEL_LIBRARY=LIB python3 bench/ab/infer.py TREE MODEL THREADS SECONDS

Loads MODEL (a .tmmodel both libraries can read: train it with the older one) through
TREE's bindings, sets the prediction threads if the bindings have them, and predicts
the tweets test texts in batches of 1,000 for SECONDS after one warm-up pass.
Prints texts per second.
"""
import csv, sys, time

tree, model, threads, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sys.path.insert(0, tree + "/bindings/python")
from textmodel import TextClassifier  # noqa: E402

rows = list(csv.DictReader(open("/work/shared/data/tweets/test.csv", encoding="utf-8")))
texts = [r["text"] for r in rows]
clf = TextClassifier.load(model)
if hasattr(clf, "threads"):
    clf.threads = threads
batches = [texts[i:i + 1000] for i in range(0, len(texts), 1000)]
for b in batches:
    clf.predict_proba(b)
done, started = 0, time.time()
while time.time() - started < seconds:
    for b in batches:
        clf.predict_proba(b)
        done += len(b)
print(round(done / (time.time() - started)))
