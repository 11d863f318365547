"""One PyTorch run of the model in examples/configs/lstm.json.

    python bench/run_torch.py TRAIN.csv TEST.csv --threads N --model M --result R.json
        [--epochs E]

Same model and hyperparameters as lstm.json: tokens from common.tokenize (at most 128
per text), vocabulary of words seen at least twice, at most 50,000 entries with <pad>
and <unk>; Embedding(V, 100) -> LSTM(100 -> 128, one layer, packed sequences) -> max
over time -> Linear(128 -> classes); cross-entropy, Adam lr 1e-3, batch 64 in a fresh
random order each epoch, 5 epochs, torch.manual_seed(1). torch.set_num_threads(N)
governs training and inference. Training wall time includes reading the CSV,
tokenising, building the vocabulary and encoding. No validation set is used.

--padded runs the same model on padded batches instead of packed sequences, masking
the padding out of the max (identical outputs, to float rounding: padding comes after
each text's tokens, so it cannot change the states max-pooled over). PyTorch's CPU
backward through packed sequences is slow (SliceBackward zero-fills the whole packed
gradient at every time step), so this shows what the same model costs on PyTorch's
faster path.

--sparse: nn.Embedding(sparse=True) with SparseAdam for the table and Adam for the rest,
PyTorch's counterpart of lstm.json with training.sparse_updates (only the embedding rows
of a batch are updated, with their moments).
"""
import argparse
import collections
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

import common

MAX_LENGTH, MIN_FREQ, MAX_SIZE = 128, 2, 50_000
PAD, UNK = 0, 1


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, classes, padded=False, sparse=False):
        super().__init__()
        self.padded = padded
        self.embedding = nn.Embedding(vocab_size, 100, padding_idx=PAD, sparse=sparse)
        self.lstm = nn.LSTM(100, 128, batch_first=True)
        self.linear = nn.Linear(128, classes)

    def forward(self, ids, lengths):
        if self.padded:
            out, _ = self.lstm(self.embedding(ids))
            pad = torch.arange(ids.shape[1])[None, :] >= lengths[:, None]
            return self.linear(out.masked_fill(pad[:, :, None], float("-inf")).max(dim=1).values)
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, padding_value=float("-inf"))
        return self.linear(out.max(dim=1).values)


def build_vocab(token_lists):
    counts = collections.Counter(t for tokens in token_lists for t in tokens)
    words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= MIN_FREQ]
    return {w: i + 2 for i, w in enumerate(words[:MAX_SIZE - 2])}


def encode(texts, vocab, max_length=MAX_LENGTH):
    out = []
    for text in texts:
        ids = [vocab.get(t, UNK) for t in common.tokenize(text, max_length)]
        out.append(torch.tensor(ids or [UNK], dtype=torch.long))
    return out


def batch(encoded):
    lengths = torch.tensor([len(e) for e in encoded])
    return pad_sequence(encoded, batch_first=True, padding_value=PAD), lengths


def read_training_set(path, max_length):
    """The labelled CSV as the PyTorch twins train on it: class names (sorted), the
    vocabulary (build_vocab), each text's ids (≤ max_length tokens; an empty text is
    [<unk>]) and the target class ids."""
    texts, labels = common.read_csv(path)
    classes = sorted(set(labels))
    class_id = {c: i for i, c in enumerate(classes)}
    tokens = [common.tokenize(t, max_length) for t in texts]
    vocab = build_vocab(tokens)
    encoded = [torch.tensor([vocab.get(t, UNK) for t in ts] or [UNK], dtype=torch.long)
               for ts in tokens]
    return classes, vocab, encoded, torch.tensor([class_id[y] for y in labels])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--model", required=True)
    p.add_argument("--result", required=True)
    p.add_argument("--padded", action="store_true")
    p.add_argument("--sparse", action="store_true", help="sparse embedding gradients, SparseAdam on the table")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    rss_before = common.max_rss_mb()

    started = time.perf_counter()
    classes, vocab, encoded, targets = read_training_set(a.train, MAX_LENGTH)

    model = LSTMClassifier(len(vocab) + 2, len(classes), a.padded, a.sparse)
    if a.sparse:
        dense = [p for name, p in model.named_parameters() if not name.startswith("embedding.")]
        optimizers = [torch.optim.SparseAdam([model.embedding.weight], lr=1e-3), torch.optim.Adam(dense, lr=1e-3)]
    else:
        optimizers = [torch.optim.Adam(model.parameters(), lr=1e-3)]
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(a.epochs):
        order = torch.randperm(len(encoded)).tolist()
        for i in range(0, len(order), 64):
            rows = order[i:i + 64]
            ids, lengths = batch([encoded[r] for r in rows])
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss = loss_fn(model(ids, lengths), targets[rows])
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
    train_seconds = time.perf_counter() - started
    rss_after = common.max_rss_mb()

    model.eval()

    @torch.inference_mode()
    def predict_batch(texts):
        logits = model(*batch(encode(texts, vocab)))
        return [classes[i] for i in logits.argmax(dim=1).tolist()]

    test_texts, test_labels = common.read_csv(a.test)
    result = common.time_inference(predict_batch, lambda t: predict_batch([t])[0],
                                   test_texts, test_labels)
    torch.save({"state_dict": model.state_dict(), "vocab": vocab, "classes": classes}, a.model)
    common.finish_run(
        a, result, rss_before, rss_after,
        system="PyTorch" + (" padded" if a.padded else " packed") + (" sparse" if a.sparse else ""),
        version=torch.__version__,
        train_seconds=train_seconds,
        epochs=a.epochs,
        effective_threads=torch.get_num_threads(),
    )


if __name__ == "__main__":
    main()
