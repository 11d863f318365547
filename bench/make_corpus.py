"""Write a seeded synthetic labelled corpus of short texts (train/valid/test, CSV and
fastText formats).

    python bench/make_corpus.py --lines 1000000 --seed 1 --out bench/.data/synthetic

Texts look like short customer messages: a Zipf-distributed vocabulary (English
function words at the top ranks, then generated pronounceable words, shorter words
more frequent), lengths log-normal (median 12 tokens, 2-80), a capitalised first word,
some commas, URLs and final punctuation. Five classes with unequal priors
(30/25/20/15/10 %). Each class has its own Zipf-ordered topic list of 1,500 words
(drawn from ranks 50-20,000; lists overlap); 20 % of the tokens come from the text's class topic, the rest from the
shared background. 15 % of topic tokens are negated: "not" followed by a word of the
*next* class's topic (so bigrams and word order carry signal that single words
mislead about). 5 % of labels are then replaced by a uniformly random class (noise).

Splits: 90 % train, 5 % valid, 5 % test. Same --lines and --seed give the same bytes
(for a given numpy version: only Generator.random/normal/choice/permutation are used).
A MANIFEST.json with the parameters and sha256 of each file is written last; if it
already matches, nothing is regenerated.
"""
import argparse
import csv
import hashlib
import json
import pathlib

import numpy as np

CLASSES = ["billing", "delivery", "returns", "account", "feedback"]
PRIORS = [0.30, 0.25, 0.20, 0.15, 0.10]
FUNCTION_WORDS = ("the i to a and my it is of for you in this that not was have on with "
                  "me be but can we your at so are just no do get be will an if from "
                  "they would all there what when one been out about").split()
ONSETS = "b c d f g h j k l m n p r s t v w z br ch cl dr fl gr pl sh st th tr".split()
VOWELS = "a e i o u ai ea ee ie oo ou".split()
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "ck", "nd", "st"]
VOCAB, TOPIC_WORDS, TOPIC_SHARE, NEGATION, LABEL_NOISE = 50_000, 1_500, 0.20, 0.15, 0.05


def zipf_cdf(n, exponent):
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return np.cumsum(w) / w.sum()


def make_vocabulary(rng):
    words, seen = list(dict.fromkeys(FUNCTION_WORDS)), set(FUNCTION_WORDS)
    while len(words) < VOCAB:
        syllables = 1 + min(2, int(np.log10(len(words) + 1) / 2.5 + rng.random()))
        w = "".join(ONSETS[int(rng.random() * len(ONSETS))] + VOWELS[int(rng.random() * len(VOWELS))]
                    + CODAS[int(rng.random() * len(CODAS))] for _ in range(syllables))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return np.array(words, dtype=object)


def generate(lines, seed):
    rng = np.random.default_rng(seed)
    words = make_vocabulary(rng)
    k = len(CLASSES)
    topics = np.stack([rng.permutation(np.arange(50, 20_000))[:TOPIC_WORDS] for _ in range(k)])
    bg_cdf, topic_cdf = zipf_cdf(VOCAB, 1.1), zipf_cdf(TOPIC_WORDS, 1.0)

    labels = rng.choice(k, size=lines, p=PRIORS)
    lengths = np.clip(np.rint(np.exp(rng.normal(np.log(12), 0.6, lines))), 2, 80).astype(np.int64)
    cls = np.repeat(labels, lengths)
    total = len(cls)
    topical = rng.random(total) < TOPIC_SHARE
    negated = topical & (rng.random(total) < NEGATION)
    topic_class = np.where(negated, (cls + 1) % k, cls)
    topic_ids = topics[topic_class, np.minimum(np.searchsorted(topic_cdf, rng.random(total)), TOPIC_WORDS - 1)]
    bg_ids = np.minimum(np.searchsorted(bg_cdf, rng.random(total)), VOCAB - 1)
    tokens = words[np.where(topical, topic_ids, bg_ids)]
    tokens = np.where(negated, "not " + tokens, tokens)
    extra = rng.random(total)
    tokens = np.where(extra < 0.06, tokens + ",", tokens)
    tokens = np.where(extra > 0.995, "https://t.co/" + words[bg_ids], tokens)
    ends = np.array([".", "!", "?", "", "..."], dtype=object)[rng.choice(5, size=lines, p=[.5, .15, .1, .2, .05])]
    noisy = rng.random(lines) < LABEL_NOISE
    labels = np.where(noisy, rng.choice(k, size=lines), labels)

    offsets = np.concatenate([[0], np.cumsum(lengths)])
    # Python lists: slicing and joining them is ~10× faster than numpy object arrays (same text).
    tokens, ends, labels, offsets = tokens.tolist(), ends.tolist(), labels.tolist(), offsets.tolist()
    for i in range(lines):
        text = " ".join(tokens[offsets[i]:offsets[i + 1]]).rstrip(",") + ends[i]
        yield CLASSES[labels[i]], text[0].upper() + text[1:]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    out = pathlib.Path(a.out)
    manifest = out / "MANIFEST.json"
    params = {"lines": a.lines, "seed": a.seed, "numpy": np.__version__, "generator": 1}
    if manifest.exists() and json.loads(manifest.read_text())["params"] == params:
        print(f"{out}: up to date")
        return
    out.mkdir(parents=True, exist_ok=True)
    n_train, n_valid = int(0.9 * a.lines), int(0.05 * a.lines)
    names = ["train"] * n_train + ["valid"] * n_valid + ["test"] * (a.lines - n_train - n_valid)
    files = {}
    for split in ("train", "valid", "test"):
        c = open(out / f"{split}.csv", "w", newline="", encoding="utf-8")
        f = open(out / f"{split}.ft.txt", "w", encoding="utf-8")
        w = csv.writer(c)
        w.writerow(["label", "text"])
        files[split] = (c, f, w)
    for split, (label, text) in zip(names, generate(a.lines, a.seed)):
        c, f, w = files[split]
        w.writerow([label, text])
        f.write(f"__label__{label} {text}\n")
    for c, f, _ in files.values():
        c.close()
        f.close()
    sums = {p.name: sha256(p) for p in sorted(out.glob("*.csv")) + sorted(out.glob("*.ft.txt"))}
    manifest.write_text(json.dumps({"params": params, "sha256": sums}, indent=1) + "\n")
    print(f"{out}: {a.lines} lines ({n_train} train, {n_valid} valid, {a.lines - n_train - n_valid} test)")


if __name__ == "__main__":
    main()
