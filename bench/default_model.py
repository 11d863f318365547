"""Which model should `TextClassifier()` (no config) train? Runs candidate configs over
several kinds of text and prints accuracy and training time for each, so the default
is chosen on measurements rather than taste.

    python3 bench/default_model.py [--tweets DIR] [--candidates library_default,lstm,...]

Candidates: library_default (an empty config: the bag of words, bigrams and
subwords), bag_json (examples/configs/bag.json: words and bigrams, fastText's
recipe), lstm (lstm.json) and cnn (cnn.json). Results: docs/config.md.

Data sets (all but tweets and support are generated here, seeded):
  tweets      ../shared/data/tweets: short real tweets, 3 sentiment classes
  support     data/support: short support requests, 4 classes, 400 training texts
  tokens      single tokens: made-up words from 4 "languages" that differ only in
              their letter patterns (no word repeats between train and test)
  long        ~300-word documents, 5 topics, each word drawn 85 % from a shared
              vocabulary and 15 % from the topic's own
  many        60 classes, short texts, each class with 3 keywords among filler
"""
import argparse
import json
import os
import pathlib
import random
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", str(ROOT / ".build" / "release" / "libtextmodel.so"))
from textmodel import TextClassifier  # noqa: E402
from common import read_csv  # noqa: E402  (bench/common.py)

CANDIDATES = {
    "library_default": None,
    "bag_json": json.loads((ROOT / "examples" / "configs" / "bag.json").read_text()),
    "lstm": json.loads((ROOT / "examples" / "configs" / "lstm.json").read_text()),
    "cnn": json.loads((ROOT / "examples" / "configs" / "cnn.json").read_text()),
}


def tokens_data(rng, n):
    """Words from 4 made-up languages: each has its own syllables."""
    syllables = {"aru": ["ka", "ru", "mi", "to", "na"], "belk": ["sk", "ol", "ve", "nd", "rz"],
                 "cori": ["oo", "ei", "ph", "ll", "ae"], "dunt": ["ux", "tz", "ib", "gu", "am"]}
    shared = ["a", "e", "i", "o", "r", "s", "t", "n", "l"]
    texts, labels = [], []
    for _ in range(n):
        lang = rng.choice(sorted(syllables))
        parts = [rng.choice(syllables[lang]) if rng.random() < 0.6 else rng.choice(shared)
                 for _ in range(rng.randint(3, 6))]
        texts.append("".join(parts))
        labels.append(lang)
    return texts, labels


def long_data(rng, n):
    common = [f"w{i}" for i in range(2000)]
    topics = {t: [f"{t}{i}" for i in range(200)] for t in ["sci", "art", "biz", "war", "fun"]}
    texts, labels = [], []
    for _ in range(n):
        t = rng.choice(sorted(topics))
        words = [rng.choice(topics[t]) if rng.random() < 0.15 else rng.choice(common) for _ in range(300)]
        texts.append(" ".join(words))
        labels.append(t)
    return texts, labels


def many_data(rng, n):
    filler = [f"f{i}" for i in range(300)]
    keywords = {f"c{c:02d}": [f"k{c}_{j}" for j in range(3)] for c in range(60)}
    texts, labels = [], []
    for _ in range(n):
        c = rng.choice(sorted(keywords))
        words = rng.choices(filler, k=rng.randint(4, 10)) + [rng.choice(keywords[c])]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(c)
    return texts, labels


def datasets(tweets):
    rng = random.Random(7)
    sets = {}
    if (tweets / "train.csv").exists():
        sets["tweets"] = tuple(read_csv(tweets / f"{s}.csv") for s in ("train", "valid", "test"))
    support = ROOT / "data" / "support"
    sets["support"] = tuple(read_csv(support / f"{s}.csv") for s in ("train", "valid", "test"))
    for name, make, n in [("tokens", tokens_data, 4000), ("long", long_data, 1500), ("many", many_data, 6000)]:
        sets[name] = (make(rng, n), make(rng, n // 5), make(rng, n // 5))
    return sets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tweets", default=str(ROOT.parent / "shared" / "data" / "tweets"))
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    args = parser.parse_args()
    names = args.candidates.split(",")
    sets = datasets(pathlib.Path(args.tweets))
    print(f"{'data':<9}" + "".join(f"{n:>22}" for n in names))
    for data_name, (train, valid, test) in sets.items():
        cells = []
        for name in names:
            started = time.monotonic()
            with TextClassifier(CANDIDATES[name]) as model:
                model.fit(*train, validation=valid)
                seconds = time.monotonic() - started
                accuracy = model.score(*test)
            cells.append(f"{accuracy:.3f} ({seconds:5.1f} s)")
        print(f"{data_name:<9}" + "".join(f"{c:>22}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
