#!/usr/bin/env python3
"""Soak: fedra-server for many rounds while clients randomly drop (SIGKILL), rejoin (start
again) and stall (SIGSTOP for a few seconds, then SIGCONT). Samples the server's RSS and
thread count from /proc five times a second and checks they stay flat: the last quarter of the
rounds may not exceed the second quarter by more than 10 % + 8 MiB (RSS) or 4 (threads).
Prints one JSON object; exit status 1 if not flat or too few rounds aggregated.

  bench/soak.py --bin build/release/src/apps --rounds 200 --clients 8 --work /tmp/soak
"""
import argparse, json, os, random, signal, subprocess, sys, time


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return out.get("VmRSS", 0) / 1024.0, out.get("Threads", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=40, help="local epochs: paces a round")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    rng = random.Random(a.seed)
    os.makedirs(a.work, exist_ok=True)
    os.chdir(a.work)
    for f in ("port", "run/metrics.jsonl", "run/checkpoint.safetensors"):
        if os.path.exists(f):
            os.remove(f)
    log = open("server.log", "w")
    server = subprocess.Popen(
        [f"{a.bin}/fedra-server", "--insecure", "--address", "127.0.0.1:0", "--port-file", "port",
         "--run-dir", "run", "--data", "none", "--input-shape", "60", "--classes", "10",
         "--model", "logreg", "--rounds", str(a.rounds), "--min-clients", str(a.clients - 3),
         "--round-deadline", "4", "--liveness", "2", "--poll-seconds", "1", "--wait-seconds", "60",
         "--max-failure-fraction", "0.6", "--fraction-evaluate", "0", "--epochs", str(a.epochs)],
        stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists("port") and open("port").read().strip():
            break
        time.sleep(0.1)
    port = open("port").read().strip()

    def start(i):
        return subprocess.Popen(
            [f"{a.bin}/fedra-client", "--insecure", "--server", f"127.0.0.1:{port}",
             "--name", f"c{i}", "--data", "synthetic", "--model", "logreg",
             "--num-partitions", str(a.clients), "--partition-index", str(i),
             "--give-up-seconds", "30"],
            stdout=subprocess.DEVNULL, stderr=open(f"c{i}.log", "a"))

    clients = {i: start(i) for i in range(a.clients)}
    down = {}     # client -> time to restart
    stopped = {}  # client -> time to continue
    samples = []  # (round, rss MiB, threads)
    events = {"killed": 0, "rejoined": 0, "stalled": 0}
    start_time = time.time()
    next_chaos = time.time() + 2
    while server.poll() is None:
        now = time.time()
        try:
            rounds = sum(1 for _ in open("run/metrics.jsonl"))
        except FileNotFoundError:
            rounds = 0
        try:
            rss, threads = status(server.pid)
            samples.append((rounds, rss, threads))
        except (FileNotFoundError, ProcessLookupError):
            break
        for i, t in list(down.items()):
            if now >= t:
                clients[i] = start(i)
                del down[i]
                events["rejoined"] += 1
        for i, t in list(stopped.items()):
            if now >= t:
                clients[i].send_signal(signal.SIGCONT)
                del stopped[i]
        if now >= next_chaos:
            next_chaos = now + rng.uniform(0.3, 1.2)
            up = [i for i in clients if i not in down and i not in stopped]
            if len(up) > a.clients - 2:
                i = rng.choice(up)
                if rng.random() < 0.5:
                    clients[i].kill()
                    clients[i].wait()
                    down[i] = now + rng.uniform(0.5, 3)
                    events["killed"] += 1
                else:
                    clients[i].send_signal(signal.SIGSTOP)
                    stopped[i] = now + rng.uniform(1, 4)
                    events["stalled"] += 1
        time.sleep(0.2)
    for i, p in clients.items():
        if i in stopped:
            p.send_signal(signal.SIGCONT)
        p.kill()
    code = server.wait()
    metrics = [json.loads(l) for l in open("run/metrics.jsonl")]
    aggregated = sum(1 for m in metrics if m["aggregated"])

    def window(lo, hi):
        w = [s for s in samples if lo <= s[0] < hi]
        return (max(s[1] for s in w), max(s[2] for s in w)) if w else (0, 0)

    n = a.rounds
    q2 = window(n // 4, n // 2)
    q4 = window(3 * n // 4, n + 1)
    flat_rss = q4[0] <= q2[0] * 1.10 + 8
    flat_threads = q4[1] <= q2[1] + 4
    result = {
        "rounds": len(metrics), "aggregated": aggregated, "server_exit": code,
        "seconds": round(time.time() - start_time, 1), "clients": a.clients, **events,
        "rss_mib_max": {"q1": window(0, n // 4)[0], "q2": q2[0], "q3": window(n // 2, 3 * n // 4)[0],
                        "q4": q4[0]},
        "threads_max": {"q1": window(0, n // 4)[1], "q2": q2[1], "q3": window(n // 2, 3 * n // 4)[1],
                        "q4": q4[1]},
        "flat": flat_rss and flat_threads,
    }
    print(json.dumps(result))
    ok = (code == 0 and len(metrics) == n and aggregated >= n // 2 and result["flat"]
          and events["killed"] > 0 and events["stalled"] > 0)
    print("SOAK OK" if ok else "SOAK FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
