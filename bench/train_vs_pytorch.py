#!/usr/bin/python3
"""fedra's training step beside the same model in PyTorch, in one run.

Times one SGD step (batch 64, lr 0.01, momentum 0.9, softmax cross-entropy, Fashion-MNIST
shapes) of the zoo's models with fedra (bench/train_throughput_bench) and, when Debian's
python3-torch is installed, of the identical PyTorch models (same layer shapes, PyTorch's
default initialisation, which fedra's follows), at 1 and 2 threads, and prints samples/s and
the ratio fedra / PyTorch. PyTorch is a benchmark-only dependency.

  /usr/bin/python3 bench/train_vs_pytorch.py build/release/bench/train_throughput_bench
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODELS = ["mlp", "cnn", "simple-cnn"]
THREADS = [1, 2]
BATCH = 64


def fedra_rates(binary, min_time, repetitions):
    out = subprocess.run(
        [binary, "--benchmark_format=json", f"--benchmark_min_time={min_time}",
         f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    rates = {}
    for b in report["benchmarks"]:
        # The median of the repetitions (a single run reports no aggregates).
        if b.get("aggregate_name", "median" if repetitions == 1 else None) != "median":
            continue
        # "TrainStep/simple_cnn/2/real_time_median"
        _, model, threads = b["run_name"].split("/")[:3]
        rates[(model.replace("_", "-"), int(threads))] = b["items_per_second"]
    return rates, report["context"].get("fedra_ml_backend", "?")


def torch_model(torch, name):
    nn = torch.nn
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200),
                             nn.ReLU(), nn.Linear(200, 10))
    pad = 2 if name == "cnn" else 0
    flat = 16 * 5 * 5 if name == "cnn" else 16 * 4 * 4
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(flat, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def torch_rate(torch, name, threads, min_time, repetitions):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torch_model(torch, name)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(BATCH, 1, 28, 28)
    y = torch.arange(BATCH) % 10

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(20):
        step()
    rates = []
    for _ in range(repetitions):
        steps, start = 0, time.perf_counter()
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        rates.append(steps * BATCH / elapsed)
    return statistics.median(rates)


# Debian's PyTorch does its BLAS through OpenBLAS (libblas.so.3), whose own thread pool it does
# not control: left alone, OpenBLAS threads and PyTorch's OpenMP threads fight over the cores.
# Each PyTorch figure is the best of these settings, each measured in a fresh process.
TORCH_BLAS_SETTINGS = ["1", "threads"]


def torch_best_rate(name, threads, min_time, repetitions):
    best = None
    for blas in TORCH_BLAS_SETTINGS:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads) if blas == "threads" else blas)
        out = subprocess.run(
            [sys.executable, __file__, "--torch-worker", name, str(threads), "--min-time",
             str(min_time), "--repetitions", str(repetitions)],
            check=True, capture_output=True, text=True, env=env).stdout
        rate = float(out.split()[-1])
        best = rate if best is None else max(best, rate)
    return best


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        import torch
        ap = argparse.ArgumentParser()
        ap.add_argument("--torch-worker", nargs=2)
        ap.add_argument("--min-time", type=float)
        ap.add_argument("--repetitions", type=int)
        a = ap.parse_args()
        print(torch_rate(torch, a.torch_worker[0], int(a.torch_worker[1]), a.min_time,
                         a.repetitions))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fedra_bench", help="path to train_throughput_bench")
    ap.add_argument("--min-time", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--repetitions", type=int, default=3, help="median of this many")
    args = ap.parse_args()

    fedra, backend = fedra_rates(args.fedra_bench, args.min_time, args.repetitions)
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch not installed (Debian python3-torch): fedra figures only", file=sys.stderr)
    print(f"fedra backend: {backend}")
    if torch is not None:
        print(f"PyTorch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}"
              if hasattr(torch.backends, "cpu") else f"PyTorch {torch.__version__}")
    print(f"{'model':<11} {'threads':>7} {'fedra/s':>10} {'torch/s':>10} {'ratio':>6}")
    summary = []
    for name in MODELS:
        for t in THREADS:
            f = fedra.get((name, t))
            p = torch_best_rate(name, t, args.min_time, args.repetitions) if torch else None
            ratio = f / p if (f and p) else None
            summary.append({"model": name, "threads": t, "fedra_samples_per_s": f,
                            "torch_samples_per_s": p, "ratio": ratio})
            print(f"{name:<11} {t:>7} {f:>10.0f} " +
                  (f"{p:>10.0f} {ratio:>6.2f}" if p else f"{'-':>10} {'-':>6}"))
    print(json.dumps({"backend": backend, "results": summary}))


if __name__ == "__main__":
    main()
