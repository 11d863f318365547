"""Explanation speed: libtextmodel's integrated gradients and occlusion beside Captum's
LayerIntegratedGradients and a plain PyTorch occlusion loop, on the LSTM twin.

    bench/.venv/bin/python bench/explain_vs_captum.py [--tweets DIR] [--texts 1000]
        [--reps 2] [--threads 2,1]

Both sides explain the same first `--texts` tweets of test.csv for each one's predicted
label's probability:
  - libtextmodel: examples/configs/lstm.json (trained 1 epoch on train.csv: the speed of
    an explanation does not depend on the weights), `explain(texts, steps=50)` and
    `explain(texts, method="occlusion", reference="unknown")` (window 1, each token
    replaced by <unk>);
  - PyTorch: run_torch.LSTMClassifier (the same shape: Embedding(V, 100) -> LSTM(128)
    -> max over time -> Linear), randomly initialised over the vocabulary
    run_torch.read_training_set builds, on padded batches (its faster CPU path;
    `--packed` for packed sequences). Integrated gradients: Captum's
    LayerIntegratedGradients on the embedding layer, n_steps=50 (Captum's default
    Gauss-Legendre rule), baseline token 0 = the zero padding embedding, 16 texts (800
    interpolated sequences) per attribute call. Occlusion: each token's embedding
    replaced by <unk>'s in turn, every variant of 64 texts in one padded forward pass
    under inference_mode, drop = p(x) - p(occluded).
Threads: torch.set_num_threads(N) and TextClassifier.threads = N. Runs alternate
(libtextmodel, PyTorch) per thread count and repetition; the medians and their ratio
(PyTorch seconds / libtextmodel seconds: above 1 means libtextmodel is faster) are printed.
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

import torch
from captum.attr import LayerIntegratedGradients

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import common  # noqa: E402
import run_torch  # noqa: E402
from textmodel import TextClassifier  # noqa: E402


def torch_ig(model, encoded, chunk=16, steps=50):
    def probability(ids, lengths):
        return torch.softmax(model(ids, lengths), dim=1)

    lig = LayerIntegratedGradients(probability, model.embedding)
    for i in range(0, len(encoded), chunk):
        ids, lengths = run_torch.batch(encoded[i:i + chunk])
        with torch.no_grad():
            target = probability(ids, lengths).argmax(dim=1)
        lig.attribute(ids, baselines=torch.zeros_like(ids), target=target, additional_forward_args=(lengths,),
                      n_steps=steps)


@torch.inference_mode()
def torch_occlusion(model, encoded, chunk=64):
    for i in range(0, len(encoded), chunk):
        texts = encoded[i:i + chunk]
        ids, lengths = run_torch.batch(texts)
        embedded = model.embedding(ids)
        p = torch.softmax(forward_embedded(model, embedded, lengths), dim=1)
        target = p.argmax(dim=1)
        rows, owners, positions = [], [], []
        for b, n in enumerate(lengths.tolist()):
            for t in range(n):
                rows.append(b)
                owners.append(b)
                positions.append(t)
        variants = embedded[rows].clone()
        variants[torch.arange(len(rows)), positions] = model.embedding.weight[run_torch.UNK]
        q = torch.softmax(forward_embedded(model, variants, lengths[rows]), dim=1)
        owners = torch.tensor(owners)
        _ = p[owners, target[owners]] - q[torch.arange(len(rows)), target[owners]]


def forward_embedded(model, embedded, lengths):
    out, _ = model.lstm(embedded)
    pad = torch.arange(embedded.shape[1])[None, :] >= lengths[:, None]
    return model.linear(out.masked_fill(pad[:, :, None], float("-inf")).max(dim=1).values)


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tweets", default="/work/shared/data/tweets")
    p.add_argument("--texts", type=int, default=1000)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--threads", default="2,1")
    p.add_argument("--packed", action="store_true")
    a = p.parse_args()
    tweets = pathlib.Path(a.tweets)
    texts, _ = common.read_csv(str(tweets / "test.csv"))
    texts = texts[:a.texts]

    config = json.loads((ROOT / "examples" / "configs" / "lstm.json").read_text())
    config["training"]["epochs"] = 1
    clf = TextClassifier(config).fit_files(str(tweets / "train.csv"))

    torch.manual_seed(1)
    classes, vocab, _, _ = run_torch.read_training_set(str(tweets / "train.csv"), run_torch.MAX_LENGTH)
    model = run_torch.LSTMClassifier(len(vocab) + 2, len(classes), padded=not a.packed).eval()
    encoded = run_torch.encode(texts, vocab)

    tasks = {
        "integrated gradients, 50 steps": (lambda: clf.explain(texts, steps=50), lambda: torch_ig(model, encoded)),
        "occlusion, window 1, <unk>": (lambda: clf.explain(texts, method="occlusion", reference="unknown"),
                                       lambda: torch_occlusion(model, encoded)),
    }
    print(f"{len(texts)} tweets, lstm.json vs the PyTorch twin ({'packed' if a.packed else 'padded'}), "
          f"medians of {a.reps} alternating runs")
    for threads in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(threads)
        clf.threads = threads
        for name, (ours, theirs) in tasks.items():
            mine, peer = [], []
            for _ in range(a.reps):
                mine.append(timed(ours))
                peer.append(timed(theirs))
            m, t = statistics.median(mine), statistics.median(peer)
            print(f"{threads} thread(s), {name}: libtextmodel {m:.2f} s ({len(texts) / m:.0f} texts/s), "
                  f"PyTorch {t:.2f} s ({len(texts) / t:.0f} texts/s): {t / m:.2f}x   "
                  f"[runs: {', '.join(f'{x:.2f}' for x in mine)} | {', '.join(f'{x:.2f}' for x in peer)}]",
                  flush=True)


if __name__ == "__main__":
    main()
