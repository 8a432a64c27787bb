#!/usr/bin/python3
"""A/B two (or more) deit-bench builds or settings on a noisy machine.

Runs the commands in alternating bursts (A B, then B A, ...), each a fresh deit-bench
process timing --iters runs of --model, and prints for every command the median and min
of its per-burst medians and the median [quartiles] of the per-round ratio of its median
to the first command's: ratios below 1 mean faster than the first. The machine's drift
(other tenants, frequency) hits both commands of a round alike, so the per-round ratio is
steadier than either time.

  bench/ab.py --rounds 10 --iters 8 --model bench/.cache/base-distilled \\
      "old/bench/deit-bench --threads 2" "build/bench/deit-bench --threads 2"
"""
import argparse
import json
import shlex
import statistics as st
import subprocess
import sys


def burst(cmd, model, iters, warmup):
    argv = shlex.split(cmd) + ["--model", model, "--iters", str(iters), "--warmup", str(warmup)]
    try:
        out = subprocess.run(argv, capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"ab.py: cannot run '{argv[0]}': {e.strerror}; give the path of a deit-bench binary")
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0 or not lines:
        sys.exit(f"ab.py: '{' '.join(argv)}' failed (exit {out.returncode}): {out.stderr.strip()[-400:]}")
    j = json.loads(lines[-1])
    return j["median_ms"], j["min_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--iters", type=int, default=10, help="timed runs per burst")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--model", required=True, help="checkpoint directory (deit-bench --model)")
    ap.add_argument("commands", nargs="+", help="deit-bench command lines; the first is the reference")
    a = ap.parse_args()
    if len(a.commands) < 2:
        ap.error("give at least two commands")
    res = [[] for _ in a.commands]
    for r in range(a.rounds):
        order = range(len(a.commands)) if r % 2 == 0 else reversed(range(len(a.commands)))
        for i in order:
            res[i].append(burst(a.commands[i], a.model, a.iters, a.warmup))
    for i, c in enumerate(a.commands):
        ratios = [res[i][r][0] / res[0][r][0] for r in range(a.rounds)]
        q = st.quantiles(ratios, n=4) if a.rounds >= 4 else [min(ratios), 0, max(ratios)]
        print(f"{c}\n    median {st.median(m for m, _ in res[i]):.2f} ms, min {min(n for _, n in res[i]):.2f} ms; "
              f"per-round ratio to the first {st.median(ratios):.3f}x [{q[0]:.3f}, {q[2]:.3f}], "
              f"faster in {sum(x < 1 for x in ratios)} of {a.rounds}")


if __name__ == "__main__":
    main()
