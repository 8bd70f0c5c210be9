#!/usr/bin/python3
"""Cross-implementation check: a model that fedra-train saves as .safetensors, read back with
nothing but the format spec, json and NumPy, gives the same test accuracy as fedra reported.

usage: numpy_reads_safetensors.py FEDRA_TRAIN DATA_DIR WORK_DIR
"""
import gzip
import json
import re
import struct
import subprocess
import sys

import numpy as np

fedra_train, data_dir, work = sys.argv[1:4]
path = f"{work}/logreg.safetensors"
out = subprocess.run(
    [fedra_train, "--model", "logreg", "--epochs", "1", "--limit", "5000", "--save", path,
     "--data-dir", data_dir, "--log-level", "warn"],
    check=True, capture_output=True, text=True).stdout
fedra_acc = float(re.findall(r"test loss \S+ acc (\S+)", out)[-1])

with open(path, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = blob[8 + n:]
meta = header.pop("__metadata__", {})
assert meta.get("model") == "logreg", meta
tensors = {}
for name, t in header.items():
    assert t["dtype"] == "F32", t
    b, e = t["data_offsets"]
    tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"])
assert set(tensors) == {"0.weight", "0.bias"}, tensors.keys()
w, bias = tensors["0.weight"], tensors["0.bias"]
assert w.shape == (10, 784) and bias.shape == (10,), (w.shape, bias.shape)

with gzip.open(f"{data_dir}/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784) / np.float32(255)
with gzip.open(f"{data_dir}/t10k-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
acc = float(np.mean(np.argmax(images.astype(np.float32) @ w.T + bias, axis=1) == labels))
print(f"fedra accuracy {fedra_acc:.4f}, numpy accuracy from the .safetensors file {acc:.4f}")
assert abs(acc - fedra_acc) < 1e-3, (acc, fedra_acc)
