#!/usr/bin/python3
"""bench_torch.py - the PyTorch peer of bench-peers.py: the same checkpoint directory in
tests/reference/deit_torch.py (transformers' eager DeiT in plain PyTorch), timed like
deit-bench.

    /usr/bin/python3 bench/bench_torch.py CHECKPOINT_DIR --batch N --threads N
        [--warmup 3] [--iters 20] [--input FILE.f32] [--output FILE.f32]

torch.set_num_threads(N) (intra-op), set_num_interop_threads(1), torch.no_grad(), eval
mode. Last line: {"median_ms", "min_ms", "peak_rss_mb", "base_rss_mb", "load_ms", ...};
base_rss_mb is the process's RSS after importing torch, before the model exists.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_onnx  # noqa: E402  (load_module)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--input")
    ap.add_argument("--output")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    base_rss = rss_mb()
    t0 = time.perf_counter()
    model, config = export_onnx.load_module(a.checkpoint)
    load_ms = (time.perf_counter() - t0) * 1e3
    h, w = export_onnx.deit_torch.image_hw(config)
    c = config.get("num_channels", 3)
    if a.input:
        x = torch.from_numpy(np.fromfile(a.input, dtype="<f4").reshape(a.batch, c, h, w).copy())
    else:
        x = torch.from_numpy(np.random.default_rng(12345).uniform(-1, 1, (a.batch, c, h, w)).astype(np.float32))
    samples = []
    with torch.no_grad():
        for i in range(a.warmup + a.iters):
            t0 = time.perf_counter()
            out = model(x)["logits"]
            dt = (time.perf_counter() - t0) * 1e3
            if i >= a.warmup:
                samples.append(dt / a.batch)
    if a.output:
        out.numpy().astype("<f4").tofile(a.output)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"runtime": "torch %s" % torch.__version__, "batch": a.batch, "threads": a.threads,
                      "median_ms": float(np.median(samples)), "min_ms": float(np.min(samples)),
                      "peak_rss_mb": round(peak, 1), "base_rss_mb": round(base_rss, 1), "load_ms": round(load_ms, 1),
                      "samples": [round(s, 4) for s in samples]}))


if __name__ == "__main__":
    main()
