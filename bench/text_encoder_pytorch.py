#!/usr/bin/env python3
"""PyTorch baseline for bench/text_classifier_bench: the same encoder (embeddings + 2 pre-LN
GELU blocks, dim 64, 4 heads, ff 256, final LayerNorm, mean pooling, 2-way head), the same
batch (32 x 128 ids), AdamW, one training step timed many times; samples/s at 1 and 2 threads.

  /usr/bin/python3 bench/text_encoder_pytorch.py
"""
import json
import time

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, vocab=4000, length=128, dim=64, heads=4, layers=2, ff=256):
        super().__init__()
        self.word = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(length, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, ff, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, ids):
        pad = ids == 0
        h = self.word(ids) + self.pos.weight[: ids.shape[1]]
        h = self.norm(self.layers(h, src_key_padding_mask=pad))
        keep = (~pad).unsqueeze(-1).float()
        return self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1))


def samples_per_second(threads, seconds=10.0):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Encoder()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(5, 4000, (32, 128))
    labels = torch.randint(0, 2, (32,))
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(5):  # warm-up
        opt.zero_grad()
        loss_fn(model(ids), labels).backward()
        opt.step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        opt.zero_grad()
        loss_fn(model(ids), labels).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
    return 32 * steps / (time.perf_counter() - start)


if __name__ == "__main__":
    print(json.dumps({"torch": torch.__version__,
                      "samples_per_s_1_thread": round(samples_per_second(1), 1),
                      "samples_per_s_2_threads": round(samples_per_second(2), 1)}))
