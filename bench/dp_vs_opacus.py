"""DP-SGD side by side: libtextmodel's training.privacy against Opacus on the PyTorch
twin of the same model, at the same ε, δ, clipping norm, batch, epochs and threads.

    python3 bench/dp_vs_opacus.py --model bag  --threads 1 --epochs 3
    python3 bench/dp_vs_opacus.py --model lstm --threads 2 --epochs 1 [--train-limit N]

Data: /work/shared/data/tweets train.csv (29,794 texts, 3 classes), test.csv. Both
sides hash every word (common.tokenize, lower-cased, at most --max-length tokens) into
--buckets buckets by FNV-1a (libtextmodel: tokenizer.vocabulary "hashed"; no word
list from the private data) and take the label set as given. Models:

  bag   Embedding(2 + buckets, dim) -> mean over the text's words -> Linear(dim, 3)
        (libtextmodel model.type "bag" with word_ngrams 1, no character n-grams)
  lstm  Embedding(2 + buckets, dim) -> LSTM(dim -> hidden) -> max over time -> Linear
        (Opacus: opacus.layers.DPLSTM, the LSTM its per-sample gradients support)

DP-SGD: Poisson sampling at q = batch / N, per-example clipping to C = --clip, σ
searched so that ε(δ = 1e-5) after the run is --epsilon (Opacus
make_private_with_epsilon, RDP accountant; libtextmodel target_epsilon, RDP
accountant), Adam at --lr. Time: wall time of the training loop (Opacus: after the
data are tensors; libtextmodel: the whole fit, tokenising and hashing included).
Accuracy on test.csv. --opacus-mode ghost runs Opacus's ghost clipping (per-example
norms from activations and output gradients, no per-example gradient tensors). Runs alternate libtextmodel, Opacus, libtextmodel, Opacus
(--repeats 2) and report each run and the medians.
"""
import argparse
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
import common  # noqa: E402

DATA = "/work/shared/data/tweets"


def fnv1a(token):
    h = 0xCBF29CE484222325
    for b in token.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def hashed_ids(texts, buckets, max_length):
    return [[2 + fnv1a(t) % buckets for t in common.tokenize(text, max_length)] or [1] for text in texts]


def run_textmodel(args, train, test, labels):
    os.environ.setdefault("TEXTMODEL_LIBRARY", os.path.join(HERE, "..", ".build", "release", "libtextmodel.so"))
    from textmodel import TextClassifier
    model = {"type": args.model, "embedding_dim": args.dim, "labels": labels}
    if args.model == "lstm":
        model.update({"hidden_dim": args.hidden, "pooling": "max"})
    tokenizer = {"vocabulary": "hashed", "buckets": args.buckets, "max_length": args.max_length,
                 "word_ngrams": 1, "char_ngrams_min": 0, "char_ngrams_max": 0, "min_freq": 1}
    config = {"model": model, "tokenizer": tokenizer,
              "training": {"epochs": args.epochs, "batch_size": args.batch, "threads": args.threads,
                           "optimizer": "adam", "learning_rate": args.lr, "lr_schedule": "constant",
                           "seed": args.seed,
                           "privacy": {"target_epsilon": args.epsilon, "delta": 1e-5, "max_grad_norm": args.clip}}}
    clf = TextClassifier(config)
    start = time.perf_counter()
    clf.fit(*train)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(clf.predict(test[0]) == np.array(test[1])))
    return {"side": "libtextmodel", "seconds": seconds, "accuracy": accuracy,
            "epsilon": clf.privacy_["epsilon"], "sigma": clf.privacy_["noise_multiplier"]}


def run_opacus(args, train, test, labels):
    import torch
    from torch import nn
    from opacus import PrivacyEngine
    from opacus.layers import DPLSTM
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    index = {l: i for i, l in enumerate(labels)}

    def tensors(texts, ys):
        ids = hashed_ids(texts, args.buckets, args.max_length)
        width = max(len(x) for x in ids)
        x = torch.zeros(len(ids), width, dtype=torch.long)
        for i, row in enumerate(ids):
            x[i, :len(row)] = torch.tensor(row)
        return x, torch.tensor([len(r) for r in ids]), torch.tensor([index[y] for y in ys])

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(2 + args.buckets, args.dim)
            self.linear = nn.Linear(args.dim, len(labels))

        def forward(self, x, lengths):
            mask = (x != 0).float().unsqueeze(-1)
            mean = (self.embedding(x) * mask).sum(1) / lengths.clamp(min=1).unsqueeze(-1).float()
            return self.linear(mean)

    class LSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(2 + args.buckets, args.dim)
            self.lstm = DPLSTM(args.dim, args.hidden, batch_first=True)
            self.linear = nn.Linear(args.hidden, len(labels))

        def forward(self, x, lengths):
            out, _ = self.lstm(self.embedding(x))
            pad = torch.arange(x.shape[1])[None, :] >= lengths[:, None]
            return self.linear(out.masked_fill(pad[:, :, None], float("-inf")).max(dim=1).values)

    x, lengths, y = tensors(*train)
    tx, tlengths, ty = tensors(*test)
    model = Bag() if args.model == "bag" else LSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, lengths, y), batch_size=args.batch)
    engine = PrivacyEngine(accountant="rdp")
    loss_fn = nn.CrossEntropyLoss()
    if args.opacus_mode == "ghost":
        # Ghost clipping (Opacus ≥ 1.5): per-example norms without per-example gradients.
        model, optimizer, loss_fn, loader = engine.make_private_with_epsilon(
            module=model, optimizer=optimizer, data_loader=loader, criterion=loss_fn, grad_sample_mode="ghost",
            target_epsilon=args.epsilon, target_delta=1e-5, epochs=args.epochs, max_grad_norm=args.clip)
    else:
        model, optimizer, loader = engine.make_private_with_epsilon(
            module=model, optimizer=optimizer, data_loader=loader, target_epsilon=args.epsilon, target_delta=1e-5,
            epochs=args.epochs, max_grad_norm=args.clip)
    start = time.perf_counter()
    model.train()
    for _ in range(args.epochs):
        for bx, bl, by in loader:
            if len(by) == 0:
                continue
            optimizer.zero_grad()
            loss_fn(model(bx, bl), by).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(tx[i:i + 512], tlengths[i:i + 512]).argmax(1) for i in range(0, len(ty), 512)])
    return {"side": "opacus", "mode": args.opacus_mode, "seconds": seconds, "accuracy": float((predicted == ty).float().mean()),
            "epsilon": engine.get_epsilon(1e-5), "sigma": optimizer.noise_multiplier}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["bag", "lstm"], default="bag")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--epsilon", type=float, default=8.0)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--dim", type=int, default=None)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--buckets", type=int, default=10_000)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--train-limit", type=int, default=0, help="first N training texts only (0: all)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--opacus-mode", choices=["hooks", "ghost"], default="hooks",
                   help="Opacus per-sample gradients (hooks) or ghost clipping (ghost)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--result", default=None, help="write the runs as JSON here")
    args = p.parse_args()
    args.lr = args.lr or (0.02 if args.model == "bag" else 0.005)
    args.dim = args.dim or (32 if args.model == "bag" else 64)
    train = common.read_csv(os.path.join(DATA, "train.csv"))
    if args.train_limit:
        train = (train[0][:args.train_limit], train[1][:args.train_limit])
    test = common.read_csv(os.path.join(DATA, "test.csv"))
    labels = sorted(set(train[1]))
    runs = []
    for _ in range(args.repeats):
        for fn in (run_textmodel, run_opacus):
            r = fn(args, train, test, labels)
            runs.append(r)
            print(json.dumps(r), flush=True)
    summary = {}
    for side in ("libtextmodel", "opacus"):
        mine = [r for r in runs if r["side"] == side]
        summary[side] = {"seconds": statistics.median(r["seconds"] for r in mine),
                         "accuracy": statistics.median(r["accuracy"] for r in mine),
                         "epsilon": statistics.median(r["epsilon"] for r in mine)}
    summary["speedup"] = summary["opacus"]["seconds"] / summary["libtextmodel"]["seconds"]
    summary["accuracy_difference_points"] = 100 * (summary["libtextmodel"]["accuracy"] - summary["opacus"]["accuracy"])
    print(json.dumps({"args": vars(args), "summary": summary}, indent=1))
    if args.result:
        with open(args.result, "w") as f:
            json.dump({"args": vars(args), "runs": runs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
