#!/usr/bin/python3
"""The NIID-Bench table from bench/niid_bench.sh's metrics files.

Per run: test accuracy of the global model averaged over the last 5 of 50 rounds (NIID-Bench's
and Flower's measure); per row: the mean over the finished seeds and their spread (min-max).
Runs not finished yet are listed with the rounds they have. Prints a Markdown table.

  /usr/bin/python3 bench/niid_table.py [docs/results/niid-bench]
"""
import glob
import json
import os
import statistics
import sys

ROUNDS = 50
PEERS = {("dir0.5", "fedavg"): 88.4, ("dir0.5", "fedprox"): 88.6, ("dir0.5", "scaffold"): 88.4,
         ("dir0.5", "fednova"): 88.1, ("iid", "fedavg"): 89.0}


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "docs/results/niid-bench"
    rows, partial = {}, []
    for path in sorted(glob.glob(os.path.join(folder, "*_seed*.jsonl"))):
        split, strategy, seed = os.path.basename(path)[:-len(".jsonl")].split("_")
        with open(path) as f:
            acc = [json.loads(line).get("server_eval_accuracy") for line in f if line.strip()]
        if len(acc) < ROUNDS:
            partial.append(f"{split} {strategy} {seed}: {len(acc)}/{ROUNDS} rounds")
            continue
        rows.setdefault((split, strategy), []).append(100 * statistics.mean(acc[-5:]))
    print("| split | strategy | seeds | test acc. (mean of last 5 rounds) | spread | "
          "Flower NIID-Bench baseline |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in PEERS:
        values = rows.get(key)
        if not values:
            print(f"| {key[0]} | {key[1]} | 0 | (not finished) | | {PEERS[key]} % |")
            continue
        spread = f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else "-"
        print(f"| {key[0]} | {key[1]} | {len(values)} | {statistics.mean(values):.2f} % | "
              f"{spread} | {PEERS[key]} % |")
    for line in partial:
        print(f"\nin progress: {line}")


if __name__ == "__main__":
    main()
