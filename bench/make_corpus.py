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
already matches, nothing is regenerated. Lines are made and written 50,000 at a time,
so memory stays flat (~0.2 GB) at any --lines; the bytes are those of the earlier
all-in-memory version (see generate).
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


def chunks(lines, size):
    """(start, count) of consecutive blocks of at most `size` lines."""
    for start in range(0, lines, size):
        yield start, min(size, lines - start)


def stream_at(state, draws):
    """A Generator at bit-generator `state` advanced by `draws` 64-bit outputs. PCG64.advance
    drops the buffered half of a 64-bit output that 32-bit draws keep; it is put back, since
    the original single pass carried it from the topic permutations to the last draw."""
    bits = np.random.PCG64()
    bits.state = state
    bits.advance(draws)
    moved = bits.state
    moved["has_uint32"], moved["uinteger"] = state["has_uint32"], state["uinteger"]
    bits.state = moved
    return np.random.Generator(bits)


def draw_lengths(rng, n):
    return np.clip(np.rint(np.exp(rng.normal(np.log(12), 0.6, n))), 2, 80).astype(np.int64)


def generate(lines, seed, chunk_lines=50_000):
    """Yields (label, text) per line, `chunk_lines` lines' draws at a time (memory does not
    grow with `lines`). The draws are those of drawing each quantity for the whole corpus
    in turn from one Generator (labels, lengths, then per token: topical, negated, topic
    word, background word, extra; then per line: ending, noisy, noise label), which is
    what this script did before it streamed: each quantity gets its own Generator,
    advanced to where that quantity's draws began (Generator.random and choice with p
    take one 64-bit output per value; normal takes a variable number, so a first pass
    over the lengths finds where they end and how many tokens there are)."""
    rng = np.random.default_rng(seed)
    words = make_vocabulary(rng)
    k = len(CLASSES)
    topics = np.stack([rng.permutation(np.arange(50, 20_000))[:TOPIC_WORDS] for _ in range(k)])
    bg_cdf, topic_cdf = zipf_cdf(VOCAB, 1.1), zipf_cdf(TOPIC_WORDS, 1.0)
    ends_list = np.array([".", "!", "?", "", "..."], dtype=object)

    start = rng.bit_generator.state
    counting = stream_at(start, lines)          # the lengths follow the `lines` label draws
    total = 0
    for _, n in chunks(lines, chunk_lines):
        total += int(draw_lengths(counting, n).sum())
    after = counting.bit_generator.state
    label_rng, length_rng = stream_at(start, 0), stream_at(start, lines)
    topical_rng, negated_rng, topic_rng, bg_rng, extra_rng = (stream_at(after, j * total) for j in range(5))
    ends_rng, noisy_rng, noise_rng = (stream_at(after, 5 * total + j * lines) for j in range(3))

    for _, n in chunks(lines, chunk_lines):
        labels = label_rng.choice(k, size=n, p=PRIORS)
        lengths = draw_lengths(length_rng, n)
        cls = np.repeat(labels, lengths)
        m = len(cls)
        topical = topical_rng.random(m) < TOPIC_SHARE
        negated = topical & (negated_rng.random(m) < NEGATION)
        topic_class = np.where(negated, (cls + 1) % k, cls)
        topic_ids = topics[topic_class, np.minimum(np.searchsorted(topic_cdf, topic_rng.random(m)), TOPIC_WORDS - 1)]
        bg_ids = np.minimum(np.searchsorted(bg_cdf, bg_rng.random(m)), VOCAB - 1)
        tokens = words[np.where(topical, topic_ids, bg_ids)]
        tokens = np.where(negated, "not " + tokens, tokens)
        extra = extra_rng.random(m)
        tokens = np.where(extra < 0.06, tokens + ",", tokens)
        tokens = np.where(extra > 0.995, "https://t.co/" + words[bg_ids], tokens)
        ends = ends_list[ends_rng.choice(5, size=n, p=[.5, .15, .1, .2, .05])]
        noisy = noisy_rng.random(n) < LABEL_NOISE
        labels = np.where(noisy, noise_rng.choice(k, size=n), labels)

        offsets = np.concatenate([[0], np.cumsum(lengths)])
        # Python lists: slicing and joining them is ~10x faster than numpy object arrays (same text).
        tokens, ends, labels, offsets = tokens.tolist(), ends.tolist(), labels.tolist(), offsets.tolist()
        for i in range(n):
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
    p.add_argument("--chunk-lines", type=int, default=50_000, help=argparse.SUPPRESS)  # tests: same bytes for any value
    a = p.parse_args()
    out = pathlib.Path(a.out)
    manifest = out / "MANIFEST.json"
    params = {"lines": a.lines, "seed": a.seed, "numpy": np.__version__, "generator": 1}
    if manifest.exists() and json.loads(manifest.read_text())["params"] == params:
        print(f"{out}: up to date")
        return
    out.mkdir(parents=True, exist_ok=True)
    n_train, n_valid = int(0.9 * a.lines), int(0.05 * a.lines)
    files = {}
    for split in ("train", "valid", "test"):
        c = open(out / f"{split}.csv", "w", newline="", encoding="utf-8")
        f = open(out / f"{split}.ft.txt", "w", encoding="utf-8")
        w = csv.writer(c)
        w.writerow(["label", "text"])
        files[split] = (c, f, w)
    for i, (label, text) in enumerate(generate(a.lines, a.seed, a.chunk_lines)):
        c, f, w = files["train" if i < n_train else "valid" if i < n_train + n_valid else "test"]
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
