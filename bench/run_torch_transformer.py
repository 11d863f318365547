"""One PyTorch run of the model in examples/configs/transformer.json.

    python bench/run_torch_transformer.py TRAIN.csv TEST.csv --threads N --model M --result R.json
        [--epochs E]

Same model and hyperparameters as transformer.json: tokens from common.tokenize (at
most 64 per text), the vocabulary rule of run_torch.py (words seen at least twice, at
most 50,000 entries with <pad> and <unk>); Embedding(V, 128, padding_idx=0) plus learned
position embeddings Embedding(64, 128) -> TransformerEncoder of 2 pre-norm
TransformerEncoderLayer(d_model 128, 4 heads, feed-forward 256, dropout 0.1, GELU) with
the padding masked out of attention -> LayerNorm(128) -> mean over the real tokens ->
Linear(128 -> classes); cross-entropy, Adam lr 5e-4, batch 64 in a fresh random order
each epoch, 5 epochs, torch.manual_seed(1). torch.set_num_threads(N) governs training
and inference. Training wall time includes reading the CSV, tokenising, building the
vocabulary and encoding. No validation set is used. Batches are padded to their
longest text. The parameter count is printed and saved in the result.
"""
import argparse
import time

import torch
from torch import nn

import common
from run_torch import PAD, UNK, batch, encode, read_training_set

MAX_LENGTH, DIM, HEADS, LAYERS, HIDDEN, DROPOUT = 64, 128, 4, 2, 256, 0.1
LEARNING_RATE, BATCH_SIZE = 5e-4, 64


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, DIM, padding_idx=PAD)
        self.position = nn.Embedding(MAX_LENGTH, DIM)
        layer = nn.TransformerEncoderLayer(d_model=DIM, nhead=HEADS, dim_feedforward=HIDDEN,
                                           dropout=DROPOUT, activation="gelu", norm_first=True,
                                           batch_first=True)
        # nested tensors are not used with norm_first (PyTorch would warn and not use them)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(DIM)
        self.linear = nn.Linear(DIM, classes)

    def forward(self, ids, lengths):
        positions = torch.arange(ids.shape[1])
        pad = positions[None, :] >= lengths[:, None]
        x = self.embedding(ids) + self.position(positions)[None]
        x = self.norm(self.encoder(x, src_key_padding_mask=pad))
        x = x.masked_fill(pad[:, :, None], 0.0)
        return self.linear(x.sum(dim=1) / lengths[:, None].to(x.dtype))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1, help="torch.manual_seed (default 1, as transformer.json's seed)")
    p.add_argument("--model", required=True)
    p.add_argument("--result", required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rss_before = common.max_rss_mb()

    started = time.perf_counter()
    classes, vocab, encoded, targets = read_training_set(a.train, MAX_LENGTH)

    model = TransformerClassifier(len(vocab) + 2, len(classes))
    parameters = sum(q.numel() for q in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(a.epochs):
        order = torch.randperm(len(encoded)).tolist()
        for i in range(0, len(order), BATCH_SIZE):
            rows = order[i:i + BATCH_SIZE]
            ids, lengths = batch([encoded[r] for r in rows])
            optimizer.zero_grad()
            loss = loss_fn(model(ids, lengths), targets[rows])
            loss.backward()
            optimizer.step()
    train_seconds = time.perf_counter() - started
    rss_after = common.max_rss_mb()
    print(f"PyTorch transformer: vocabulary {len(vocab) + 2:,} (with <pad>, <unk>), "
          f"{parameters:,} parameters, trained in {train_seconds:.1f} s", flush=True)

    model.eval()

    @torch.inference_mode()
    def predict_batch(texts):
        logits = model(*batch(encode(texts, vocab, MAX_LENGTH)))
        return [classes[i] for i in logits.argmax(dim=1).tolist()]

    test_texts, test_labels = common.read_csv(a.test)
    result = common.time_inference(predict_batch, lambda t: predict_batch([t])[0],
                                   test_texts, test_labels)
    torch.save({"state_dict": model.state_dict(), "vocab": vocab, "classes": classes}, a.model)
    common.finish_run(
        a, result, rss_before, rss_after,
        system="PyTorch transformer",
        version=torch.__version__,
        train_seconds=train_seconds,
        epochs=a.epochs,
        effective_threads=torch.get_num_threads(),
        parameters=parameters,
        vocabulary=len(vocab) + 2,
    )


if __name__ == "__main__":
    main()
