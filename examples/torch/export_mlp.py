#!/usr/bin/env python3
"""Exports a PyTorch MLP as TorchScript for fedra's TorchScript trainer.

    export_mlp.py OUT.pt [--input 1,28,28] [--hidden 200,200] [--classes 10] [--seed 1]

nn.Sequential(Flatten, Linear, ReLU, ..., Linear) has the parameter names and layouts of
fedra's `mlp` model ("1.weight" {200, 784}, "1.bias", "3.weight", ...), so a fedra-server
with --model mlp federates it with fedra clients and TorchScript clients alike.
"""
import argparse
import math

import torch
from torch import nn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--input", default="1,28,28")
    ap.add_argument("--hidden", default="200,200")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    width = math.prod(int(d) for d in a.input.split(","))
    layers = [nn.Flatten()]
    for h in [int(h) for h in a.hidden.split(",") if h]:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, a.classes))
    torch.jit.script(nn.Sequential(*layers)).save(a.out)
    print("wrote", a.out, [n for n, _ in nn.Sequential(*layers).named_parameters()])


if __name__ == "__main__":
    main()
