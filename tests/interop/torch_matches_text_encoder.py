#!/usr/bin/env python3
"""fedra's text encoder equals PyTorch's on the same weights: loads what text_encoder_dump
wrote (tensors under fedra's names, which are PyTorch's), merges each LoRA adapter into its
projection (W + scale * B @ A), runs nn.TransformerEncoderLayer(norm_first=True, gelu,
dropout=0) blocks with the padding mask, the final LayerNorm and the masked mean, and compares
with fedra's output.

  torch_matches_text_encoder.py TEXT_ENCODER_DUMP WORK_DIR
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(data[begin:end], dtype="<f4").reshape(t["shape"]).copy())
    return out, meta


def main():
    dump, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "text_encoder.safetensors")
    subprocess.run([dump, path], check=True)
    w, meta = read_safetensors(path)
    heads, layers = int(meta["heads"]), int(meta["layers"])
    scale, eps = float(meta["lora_scale"]), float(meta["eps"])
    ids = w.pop("ids").long()
    expected = w.pop("output")

    def merged(prefix, weight):
        return w[weight] + scale * w[prefix + ".lora_B"] @ w[prefix + ".lora_A"]

    dim = w["norm.weight"].shape[0]
    ff = w["layers.0.linear1.weight"].shape[0]
    torch.set_default_dtype(torch.float64)  # the reference in double: fedra is float
    with torch.no_grad():
        h = (w["embeddings.word_embeddings.weight"][ids] +
             w["embeddings.position_embeddings.weight"][: ids.shape[1]]).double()
        pad = ids == 0
        for i in range(layers):
            p = f"layers.{i}."
            layer = nn.TransformerEncoderLayer(dim, heads, ff, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True,
                                               layer_norm_eps=eps)
            state = {
                "self_attn.in_proj_weight": merged(p + "self_attn.in_proj",
                                                   p + "self_attn.in_proj_weight"),
                "self_attn.in_proj_bias": w[p + "self_attn.in_proj_bias"],
                "self_attn.out_proj.weight": merged(p + "self_attn.out_proj",
                                                    p + "self_attn.out_proj.weight"),
                "self_attn.out_proj.bias": w[p + "self_attn.out_proj.bias"],
                "linear1.weight": merged(p + "linear1", p + "linear1.weight"),
                "linear1.bias": w[p + "linear1.bias"],
                "linear2.weight": merged(p + "linear2", p + "linear2.weight"),
                "linear2.bias": w[p + "linear2.bias"],
                "norm1.weight": w[p + "norm1.weight"], "norm1.bias": w[p + "norm1.bias"],
                "norm2.weight": w[p + "norm2.weight"], "norm2.bias": w[p + "norm2.bias"],
            }
            layer.load_state_dict({k: v.double() for k, v in state.items()})
            layer.train()  # the plain (not fused) path
            h = layer(h, src_key_padding_mask=pad)
        h = nn.functional.layer_norm(h, (dim,), w["norm.weight"].double(),
                                     w["norm.bias"].double(), eps)
        keep = (~pad).unsqueeze(-1).double()
        got = (h * keep).sum(1) / keep.sum(1)
    diff = (got - expected.double()).abs().max().item()
    print(f"max |torch - fedra| = {diff:.3g} over {expected.numel()} outputs")
    if not diff < 1e-4:
        print("TORCH MISMATCH")
        sys.exit(1)
    print("TORCH MATCHES TEXT ENCODER")


if __name__ == "__main__":
    main()
