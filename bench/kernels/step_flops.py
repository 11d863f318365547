"""Analytic FLOPs of one training epoch of the CNN or the Transformer on the tweets, and
the whole-step GFLOP/s of a real training run, as a share of the SGEMM peak.

    python3 bench/kernels/step_flops.py CONFIG                      (FLOPs only)
    TEXTMODEL_LIBRARY=LIB python3 bench/kernels/step_flops.py CONFIG --threads T \
        [--epochs E] [--peak GFLOPS]                                (and a training run)

The run trains CONFIG on the tweets' train.csv for E epochs (default 1) on T threads
through the Python binding of this checkout, and divides each epoch's FLOPs by the
report's epoch seconds (the median epoch when E > 1).

Counts 2·m·n·k for every matrix product of the forward and backward pass (the
elementwise work, softmax, LayerNorm, GELU, dropout, the optimizer, is not counted: it
is what the profile shows separately). The text lengths come from a Python copy of the
tokenizer's rules (Text/Tokenizer.swift: URLs one token, words of letters, digits, marks,
`_` and in-word apostrophes, every other visible character a token; at most
tokenizer.max_length); it prints their sum so it can be checked against the training
report's train_tokens.
"""
import csv
import json
import os
import sys
import unicodedata

TWEETS = os.environ.get("TWEETS_DIR", "/work/shared/data/tweets")


def word_scalar(c):
    if c.isascii():
        return c.isalnum() or c == "_"
    if c == "\u200d" or "\ufe00" <= c <= "\ufe0f":
        return False
    return unicodedata.category(c) in ("Mn", "Mc", "Me", "Nd", "Nl", "No") or c.isalpha()


def separator(c):
    if c.isascii():
        return ord(c) <= 0x20 or ord(c) == 0x7F
    cat = unicodedata.category(c)
    return c.isspace() or cat == "Cc" or (cat == "Cf" and c != "\u200d")


def length(text, max_length):
    count, i, in_word, n = 0, 0, False, len(text)
    while i < n and count < max_length:
        c = text[i]
        if separator(c):
            count += in_word
            in_word = False
            i += 1
        elif not in_word and text[i:i + 8].lower().startswith(("http://", "https://", "www.")):
            while i < n and not separator(text[i]):
                i += 1
            count += 1
        elif word_scalar(c) or (in_word and c in "'\u2019" and i + 1 < n and word_scalar(text[i + 1])):
            in_word = True
            i += 1
        elif c == "\u200d" or "\ufe00" <= c <= "\ufe0f":
            i += 1
        else:
            count += in_word
            in_word = False
            if count < max_length:
                count += 1
            i += 1
    if count < max_length:
        count += in_word
    return count


def lengths(max_length):
    with open(os.path.join(TWEETS, "train.csv"), newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [length(text, max_length) for _, text in rows], len({label for label, _ in rows})


def transformer_flops(model, ls, classes):
    d, h, blocks = model["embedding_dim"], model["hidden_dim"], model["layers"]
    tokens = sum(ls)
    squares = sum(n * n for n in ls)
    linear = 2 * tokens * (4 * d * d + 2 * d * h)          # in_proj 3D·D, out_proj D·D, ff1, ff2
    attention = 4 * squares * d                              # Q·Kᵀ and P·V over the heads
    head = 2 * len(ls) * d * classes
    return {"linear forward": blocks * linear, "linear backward": blocks * 2 * linear,
            "attention forward": blocks * attention, "attention backward": blocks * 2 * attention,
            "output layer": 3 * head}


def cnn_flops(model, ls, classes):
    e, f, widths = model["embedding_dim"], model["filters"], model["kernel_sizes"]
    conv = sum(2 * max(n - k + 1, 1) * k * e * f for k in widths for n in ls if n > 0)
    head = 2 * len(ls) * f * len(widths) * classes
    return {"convolution forward": conv, "convolution backward": 2 * conv, "output layer": 3 * head}


def train(config, threads, epochs):
    """Median epoch seconds, training tokens, test accuracy of one run."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
    from textmodel import TextClassifier
    config = json.loads(json.dumps(config))
    config.setdefault("training", {}).update(threads=threads, epochs=epochs)
    clf = TextClassifier(config, threads=threads)
    clf.fit_files(os.path.join(TWEETS, "train.csv"))
    seconds = sorted(e["seconds"] for e in clf.history_)[len(clf.history_) // 2]
    accuracy = clf.evaluate_file(os.path.join(TWEETS, "test.csv"))["accuracy"]
    return seconds, clf.report_["train_tokens"], accuracy


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--peak", type=float, help="the SGEMM peak at this thread count, GFLOP/s")
    args = parser.parse_args()
    config = json.load(open(args.config))
    model = config["model"]
    ls, classes = lengths(config.get("tokenizer", {}).get("max_length", 64))
    parts = (transformer_flops if model["type"] == "transformer" else cnn_flops)(model, ls, classes)
    total = sum(parts.values())
    print(f"{args.config}: {len(ls)} texts, {sum(ls)} tokens (mean {sum(ls) / len(ls):.2f}), {classes} classes")
    for name, flops in parts.items():
        print(f"  {name}: {flops / 1e9:.1f} GFLOP")
    print(f"  epoch: {total / 1e9:.1f} GFLOP")
    if args.threads:
        seconds, tokens, accuracy = train(config, args.threads, args.epochs)
        rate = total / seconds / 1e9
        share = f", {100 * rate / args.peak:.0f}% of the {args.peak:.1f} GFLOP/s peak" if args.peak else ""
        print(f"  trained on {args.threads} thread(s), {args.epochs} epoch(s): {seconds:.2f} s per epoch "
              f"({tokens / seconds:,.0f} tokens/s; report: {tokens} tokens), test accuracy {accuracy:.4f}")
        print(f"  whole training step: {rate:.1f} GFLOP/s{share}")


if __name__ == "__main__":
    main()
