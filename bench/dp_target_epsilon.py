"""training.privacy.target_epsilon on the tweets: the final ε of a run asked for ε = 1,
3 and 8 (δ = 1e-5) must be at most the target and at least 0.95 × it.

    python3 bench/dp_target_epsilon.py [--epochs 2] [--threads 2]

Bag model over hashed words (tokenizer.vocabulary "hashed"), batch 64, labels given.
Prints one line per target and exits non-zero if any run misses.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
os.environ.setdefault("TEXTMODEL_LIBRARY", os.path.join(HERE, "..", ".build", "release", "libtextmodel.so"))
from textmodel import TextClassifier  # noqa: E402

TRAIN = "/work/shared/data/tweets/train.csv"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    failures = 0
    for target in (1.0, 3.0, 8.0):
        clf = TextClassifier({
            "model": {"type": "bag", "embedding_dim": 16, "labels": ["negative", "neutral", "positive"]},
            "tokenizer": {"vocabulary": "hashed", "buckets": 5000, "word_ngrams": 1,
                          "char_ngrams_min": 0, "char_ngrams_max": 0},
            "training": {"epochs": args.epochs, "batch_size": 64, "threads": args.threads, "optimizer": "adam",
                         "learning_rate": 0.02, "lr_schedule": "constant",
                         "privacy": {"target_epsilon": target, "delta": 1e-5}}}).fit_files(TRAIN)
        eps = clf.privacy_["epsilon"]
        ok = 0.95 * target <= eps <= target
        failures += not ok
        print(f"target {target:g}: ε {eps:.4f} (σ {clf.privacy_['noise_multiplier']:.4f}, "
              f"{clf.privacy_['steps']} steps, q {clf.privacy_['sampling_rate']:.6f}) {'ok' if ok else 'MISSED'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
