#!/usr/bin/python3
"""bench-peers.py - ours vs ONNX Runtime vs PyTorch on the same weights, input, machine and
thread count, plus OpenBLAS sgemm as the machine's GEMM ceiling. Prints one Markdown table.

    /usr/bin/python3 bench/bench-peers.py --build BUILD_DIR [--threads 2] [--reps 3]
        [--only tiny,base,base-384,base-b8] [--attention-table] [--scaling] [--lockstep R] [--out FILE.md]
        [--isa auto|portable|avx2|avx512] [--isa-table] [--contention]

Per configuration:
  1. deit-bench --config X --save bench/.cache/X writes a random-weight checkpoint
     directory (config.json + model.safetensors) once;
  2. export_onnx.py turns that directory into model.onnx (torch.onnx.export, opset 17) once;
  3. a correctness check: ours, PyTorch and ONNX Runtime run one fixed input and their
     logits must agree to 1e-4 (float32 summation-order differences are ~1e-6 here);
  4. --reps rounds of [ours, ORT, torch] (interleaved, so a busy shared machine slows all
     three alike); each run does a warm-up then timed runs; the reported time is the median
     (and min) over all timed runs of all rounds, in ms per image.
sgemm-bench runs in every round too (n = 2048, OpenBLAS's own threads = --threads).

--lockstep R adds a paired comparison with ONNX Runtime that a noisy shared machine disturbs
less: deit-bench and ort_bench.mjs both stay loaded (--serve) and take turns, R rounds of one
short burst each (1 untimed run after the switch for the small models, then a few timed
ones; the first runtime of a round alternates), with a 0.1 s pause after each burst so that
the other runtime's idle threads have stopped spinning. The two bursts of a round lie a
fraction of a second apart, so they see nearly the same machine; the table gives the
median of those per-round ratios with its quartiles, next to the ratio of the medians.
--reps 0 skips the interleaved rounds (and their table) for a lockstep-only run. With
--scaling, --lockstep also measures DeiT-base's thread scaling the same way: a 1-thread and
a --threads instance of one runtime taking turns.

--isa runs ours with deit-bench --isa; the header names the CPU, its AVX-512 flags and the
FMA peak of bench/fma-peak, and the lockstep table gives ours' GFLOP/s as % of the peak of the
set it ran. --isa-table (with --lockstep): ours avx512 vs avx2 vs OpenBLAS GEMMs in lockstep.
--contention (with --lockstep): DeiT-tiny and DeiT-base with one busy process
(nice -n 0 sh -c 'while :; do :; done') competing for the cores: ours and ORT at --threads
against ours at 1 thread with the busy process stopped, per round.

Requirements: /usr/bin/python3 with torch (Debian python3-torch), node + bench/node_modules
(cd bench && npm install --ignore-scripts), a build of deit-bench / sgemm-bench.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
PY = "/usr/bin/python3"

# name: (deit-bench --config, distilled, batch, warm-up, timed runs per round)
CONFIGS = {
    "tiny": ("tiny", True, 1, 5, 30),
    "small": ("small", True, 1, 3, 15),
    "base": ("base", True, 1, 2, 6),
    "base-384": ("base-384", True, 1, 1, 3),
    "base-b8": ("base", True, 8, 1, 2),
}
DEFAULT = ["tiny", "base", "base-384", "base-b8"]
# --lockstep: (untimed runs after each switch, timed runs per burst), about 0.1-2 s a burst
LOCKSTEP = {"tiny": (1, 5), "small": (1, 3), "base": (0, 1), "base-384": (0, 1), "base-b8": (0, 1)}
LOCKSTEP_PAUSE_S = 0.1


def run_json(cmd, env=None):
    """Run cmd, return the JSON object on its last stdout line."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("failed: %s" % " ".join(cmd))
    return json.loads(p.stdout.strip().splitlines()[-1])


def ckpt_dir(config, distilled):
    return os.path.join(CACHE, "%s-%s" % (config, "distilled" if distilled else "vit"))


def prepare(build, config, distilled):
    d = ckpt_dir(config, distilled)
    if not os.path.exists(os.path.join(d, "model.safetensors")):
        cmd = [os.path.join(build, "bench", "deit-bench"), "--config", config, "--save", d, "--iters", "1",
               "--warmup", "0", "--threads", "1"]
        cmd.append("--distilled" if distilled else "--no-distilled")
        run_json(cmd)
    onnx = os.path.join(d, "model.onnx")
    if not os.path.exists(onnx):
        subprocess.run([PY, os.path.join(HERE, "export_onnx.py"), d, onnx], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return d, onnx


# --isa: deit-bench --isa for every run of ours (None: the build's default, auto)
OURS_ISA = None


def ours_cmd(build, d, batch, threads, warmup, iters, attention="auto", isa=None):
    cmd = [os.path.join(build, "bench", "deit-bench"), "--model", d, "--batch", str(batch), "--threads",
           str(threads), "--warmup", str(warmup), "--iters", str(iters), "--attention", attention]
    isa = isa or OURS_ISA
    return cmd + ["--isa", isa] if isa else cmd


def fma_peak(build, threads):
    """bench/fma-peak's JSON: peak_<isa>_<threads> GFLOP/s, or {} when the build has none.
    Three runs, the best of each key: on a shared VM the host's other tenants can take a CPU
    for a whole run (seen: AVX-512 at 2 threads 127 GFLOP/s, 1.08x its 1-thread peak, which
    made our runs read as 169 % of it)."""
    exe = os.path.join(build, "bench", "fma-peak")
    if not os.path.exists(exe):
        return {}
    best = {}
    for _ in range(3):
        for k, v in run_json([exe, "--threads", str(threads)]).items():
            if isinstance(v, (int, float)) and k.startswith("peak_"):
                best[k] = max(best.get(k, 0), v)
            else:
                best.setdefault(k, v)
    return best


def peak_of(peaks, isa, threads):
    """The FMA peak of the set ours ran with (deit-bench's JSON names it) at `threads` threads."""
    return peaks.get("peak_%s_%d" % (isa, threads), 0)


def ort_cmd(onnx, batch, threads, warmup, iters):
    return ["node", os.path.join(HERE, "ort_bench.mjs"), onnx, "--batch", str(batch), "--threads", str(threads),
            "--warmup", str(warmup), "--iters", str(iters)]


def torch_cmd(d, batch, threads, warmup, iters):
    return [PY, os.path.join(HERE, "bench_torch.py"), d, "--batch", str(batch), "--threads", str(threads),
            "--warmup", str(warmup), "--iters", str(iters)]


class Server:
    """A runtime in --serve mode: loaded once, runs bursts on request."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd + ["--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.cmd = cmd
        self._expect("ready")

    def _expect(self, key):
        line = self.p.stdout.readline()
        try:
            obj = json.loads(line)
        except ValueError:
            obj = {}
        if key not in obj:
            self.p.kill()
            sys.stderr.write(self.p.stderr.read())
            raise SystemExit("failed: %s --serve (got %r)" % (" ".join(self.cmd), line))
        return obj[key]

    def burst(self, warmup, iters):
        self.p.stdin.write("%d %d\n" % (warmup, iters))
        self.p.stdin.flush()
        return self._expect("samples")

    def finish(self):
        out, err = self.p.communicate()
        if self.p.returncode != 0:
            sys.stderr.write(err)
            raise SystemExit("failed: %s --serve" % " ".join(self.cmd))
        return json.loads(out.strip().splitlines()[-1])


def lockstep(ours, ort, rounds, warmup, iters):
    """Alternating bursts of two loaded runtimes; returns per-round (ours, ORT) sample lists
    and the two final reports."""
    a, b = Server(ours), Server(ort)
    pairs = []
    for r in range(rounds):
        got = {}
        for name, srv in ((("ours", a), ("ort", b)) if r % 2 == 0 else (("ort", b), ("ours", a))):
            got[name] = srv.burst(warmup, iters)
            time.sleep(LOCKSTEP_PAUSE_S)
        pairs.append((got["ours"], got["ort"]))
    return pairs, a.finish(), b.finish()


BUSY_CMD = ["nice", "-n", "0", "sh", "-c", "while :; do :; done"]


def contention(a, emit, summary):
    """Our 2-thread runs and ORT's with one busy process competing for the cores, against our
    idle 1-thread run, in lockstep: each round stops the busy process (SIGSTOP) for ours at 1
    thread, then lets it run (SIGCONT) for ours and ORT at --threads (their order
    alternating)."""
    import signal
    T = a.threads
    emit()
    emit("Under contention: `nice -n 0 sh -c 'while :; do :; done'` running (one busy process competing for "
         "the %d CPUs), %d lockstep rounds; ours at 1 thread runs with the busy process stopped (SIGSTOP), "
         "i.e. idle (ms/image):" % (os.cpu_count(), a.lockstep))
    emit()
    emit("| model | ours 1 thread idle, median (min) | ours %d threads contended | ORT %d threads contended | "
         "ours contended / ours idle 1 thread: per-round median [quartiles] | ours / ORT contended: per-round "
         "median [quartiles] |" % (T, T))
    emit("|---|---:|---:|---:|---:|---:|")
    for n in [x for x in a.only.split(",") if x in ("tiny", "base")]:
        cfg, dist, batch, wu, it = CONFIGS[n]
        d, onnx = prepare(a.build, cfg, dist)
        lw, li = LOCKSTEP[n]
        one = Server(ours_cmd(a.build, d, batch, 1, wu, 1))
        ours = Server(ours_cmd(a.build, d, batch, T, wu, 1))
        ort = Server(ort_cmd(onnx, batch, T, wu, 1))
        busy = subprocess.Popen(BUSY_CMD)
        rows = []
        try:
            for r in range(a.lockstep):
                busy.send_signal(signal.SIGSTOP)
                time.sleep(LOCKSTEP_PAUSE_S)
                s1 = one.burst(lw, li)
                busy.send_signal(signal.SIGCONT)
                time.sleep(LOCKSTEP_PAUSE_S)
                got = {}
                for name, srv in ((("ours", ours), ("ort", ort)) if r % 2 == 0 else (("ort", ort), ("ours", ours))):
                    got[name] = srv.burst(lw, li)
                    time.sleep(LOCKSTEP_PAUSE_S)
                rows.append((s1, got["ours"], got["ort"]))
        finally:
            busy.send_signal(signal.SIGCONT)
            busy.kill()
            busy.wait()
        for srv in (one, ours, ort):
            srv.finish()
        med = statistics.median

        def quart(xs):
            return statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else xs * 3
        qi = quart([med(o) / med(s1) for s1, o, _ in rows])
        qo = quart([med(o) / med(t) for _, o, t in rows])
        flat = [[x for row in rows for x in row[k]] for k in range(3)]
        emit("| %s | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %.3fx [%.3f, %.3f] | %.3fx [%.3f, %.3f] |" % (
            n, med(flat[0]), min(flat[0]), med(flat[1]), min(flat[1]), med(flat[2]), min(flat[2]),
            qi[1], qi[0], qi[2], qo[1], qo[0], qo[2]))
        summary.setdefault(n, {}).update({"contended_vs_idle1": qi[1], "contended_vs_ort": qo[1]})


def isa_table(a, emit, summary):
    """Our kernel sets against each other and against OpenBLAS, in lockstep (ours vs ours)."""
    T = a.threads
    emit()
    emit("Kernel sets, ours vs ours in lockstep (%d threads, %d rounds; A/B < 1: A is faster):" % (T, a.lockstep))
    emit()
    emit("| model | batch | A | B | A median (min) | B median (min) | A/B per-round median [quartiles] | "
         "rounds A faster |")
    emit("|---|---:|---|---|---:|---:|---:|---:|")
    variants = [("avx512", ["--isa", "avx512"]), ("avx2", ["--isa", "avx2"]),
                ("OpenBLAS GEMMs", ["--no-packed-weights"])]
    for n in [x for x in a.only.split(",") if x]:
        cfg, dist, batch, wu, it = CONFIGS[n]
        d, onnx = prepare(a.build, cfg, dist)
        lw, li = LOCKSTEP[n]
        base = ours_cmd(a.build, d, batch, T, wu, 1, isa="auto")[:-2]
        for (na, xa), (nb, xb) in ((variants[0], variants[1]), (variants[0], variants[2]), (variants[1], variants[2])):
            pairs, _, _ = lockstep(base + xa, base + xb, a.lockstep, lw, li)
            o_med, o_min, r_med, r_min, ratios, (q1, q2, q3) = paired(pairs)
            emit("| %s | %d | %s | %s | %.2f (%.2f) | %.2f (%.2f) | %.3fx [%.3f, %.3f] | %d of %d |" % (
                n.replace("-b8", ""), batch, na, nb, o_med, o_min, r_med, r_min, q2, q1, q3,
                sum(1 for x in ratios if x < 1), len(ratios)))
            summary.setdefault(n, {})["isa_%s_vs_%s" % (na, nb.split()[0])] = q2


def paired(pairs):
    """Per-round (a samples, b samples) -> medians and minimums of a and b over all rounds,
    the per-round ratios median(a) / median(b), and their quartiles (q1, median, q3)."""
    sa = [x for p in pairs for x in p[0]]
    sb = [x for p in pairs for x in p[1]]
    ratios = [statistics.median(p[0]) / statistics.median(p[1]) for p in pairs]
    q = statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else ratios * 3
    return statistics.median(sa), min(sa), statistics.median(sb), min(sb), ratios, (q[0], q[1], q[2])


def check_outputs(build, d, onnx, threads):
    import numpy as np
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    s = cfg["image_size"]
    inp = os.path.join(d, "check-input.f32")
    np.random.default_rng(7).uniform(-1, 1, (1, 3, s, s)).astype("<f4").tofile(inp)
    outs = {}
    for name, cmd in (("ours", ours_cmd(build, d, 1, threads, 0, 1)), ("ort", ort_cmd(onnx, 1, threads, 0, 1)),
                      ("torch", torch_cmd(d, 1, threads, 0, 1))):
        o = os.path.join(d, "check-%s.f32" % name)
        run_json(cmd + ["--input", inp, "--output", o])
        outs[name] = np.fromfile(o, "<f4")
    d_ort = float(abs(outs["ours"] - outs["ort"]).max())
    d_torch = float(abs(outs["ours"] - outs["torch"]).max())
    ok = d_ort < 1e-4 and d_torch < 1e-4
    return ok, d_torch, d_ort


def median_of(results):
    samples = [s for r in results for s in r.get("samples", [])]
    if not samples:  # deit-bench reports median/min only: median of the rounds' medians
        return statistics.median(r["median_ms"] for r in results), min(r["min_ms"] for r in results)
    return statistics.median(samples), min(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory with bench/deit-bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default=",".join(DEFAULT), help="comma list of %s" % ",".join(CONFIGS))
    ap.add_argument("--attention-table", action="store_true", help="eager vs fused at batch 1, 2, 4, 8 (base)")
    ap.add_argument("--scaling", action="store_true", help="base batch 1 with 1 thread vs --threads (ours, ORT)")
    ap.add_argument("--schemes", action="store_true",
                    help="our pool (OpenBLAS single-threaded) vs OpenBLAS's threads for the GEMMs (tiny, base, base b8)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--lockstep", type=int, default=0, metavar="R",
                    help="also R rounds of paired bursts, ours vs ONNX Runtime, both kept loaded")
    ap.add_argument("--isa", help="deit-bench --isa for every run of ours (auto|portable|avx2|avx512)")
    ap.add_argument("--isa-table", action="store_true",
                    help="with --lockstep: ours avx512 vs avx2 vs OpenBLAS GEMMs, in lockstep")
    ap.add_argument("--contention", action="store_true",
                    help="with --lockstep: tiny and base with one busy process competing for the cores")
    ap.add_argument("--no-ort-lockstep", action="store_true",
                    help="with --lockstep: skip the ours-vs-ORT table (only --scaling / --isa-table / --contention)")
    ap.add_argument("--out", help="also write the Markdown report here")
    a = ap.parse_args()
    global OURS_ISA
    OURS_ISA = a.isa
    if a.reps < 0 or a.lockstep < 0 or (a.reps == 0 and (a.schemes or a.attention_table)) or \
            (a.reps == 0 and a.lockstep == 0 and a.scaling):
        ap.error("--reps must be >= 0 and --lockstep >= 0; --schemes and --attention-table need --reps >= 1, "
                 "--scaling --reps >= 1 or --lockstep >= 1")
    summary = {}
    os.makedirs(CACHE, exist_ok=True)
    T = a.threads
    lines = []

    def emit(s=""):
        print(s, flush=True)
        lines.append(s)

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    emit("Run %s on %s, %d CPUs online, %d threads for every runtime, %d interleaved rounds%s." %
         (started, cpu, os.cpu_count(), T, a.reps, ", %d lockstep rounds" % a.lockstep if a.lockstep else ""))
    with open("/proc/cpuinfo") as f:
        info = {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in f.read().split("\n\n")[0].splitlines()
                                                  if ":" in l)}
    flags = info.get("flags", "").split()
    emit("CPU family %s model %s; AVX-512: %s; our kernels: --isa %s." % (
        info.get("cpu family", "?"), info.get("model", "?"),
        "yes (" + " ".join(x for x in flags if x.startswith("avx512")) + ")" if "avx512f" in flags else "no",
        a.isa or "auto"))
    peaks = fma_peak(a.build, T)
    if peaks:
        emit("FMA peak (bench/fma-peak: independent FMA chains, best of 3 runs of 20), GFLOP/s: " + ", ".join(
            "%s %s thread%s %.1f" % (k.split("_")[1], k.split("_")[2], "s" if k.split("_")[2] != "1" else "", v)
            for k, v in peaks.items() if k.startswith("peak_")) + ".")
    summary["fma_peak"] = peaks
    names = [n for n in a.only.split(",") if n]
    prepared = {}
    for n in names:
        cfg, dist, batch, wu, it = CONFIGS[n]
        d, onnx = prepare(a.build, cfg, dist)
        ok, dt, do = check_outputs(a.build, d, onnx, T)
        emit("check %-9s max |ours - torch| = %.2g, max |ours - ORT| = %.2g: %s" % (n, dt, do, "ok" if ok else "MISMATCH"))
        prepared[n] = (d, onnx)

    if a.reps > 0:
        interleaved(a, names, prepared, emit, summary)
    if a.lockstep > 0 and not a.no_ort_lockstep:
        emit()
        emit("Lockstep, ours vs ONNX Runtime, %d threads: both loaded, %d rounds of alternating bursts "
             "(ms/image):" % (T, a.lockstep))
        emit()
        emit("| model | batch | timed runs per burst | ours median (min) | ORT median (min) | ratio of medians | "
             "per-round ratio: median [quartiles] | rounds ours faster | ours GFLOP/s (at min) | % of FMA peak "
             "(at min) | ISA |")
        emit("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for n in names:
            cfg, dist, batch, wu, it = CONFIGS[n]
            d, onnx = prepared[n]
            lw, li = LOCKSTEP[n]
            pairs, rep, _ = lockstep(ours_cmd(a.build, d, batch, T, wu, 1), ort_cmd(onnx, batch, T, wu, 1),
                                     a.lockstep, lw, li)
            o_med, o_min, r_med, r_min, ratios, (q1, q2, q3) = paired(pairs)
            gf = rep["gflop_per_image"]
            pk = peak_of(peaks, rep.get("isa", "avx2"), T)
            emit("| %s | %d | %d | %.2f (%.2f) | %.2f (%.2f) | %.3fx | %.3fx [%.3f, %.3f] | %d of %d | %.1f (%.1f) | "
                 "%s | %s |" % (
                     n.replace("-b8", ""), batch, li, o_med, o_min, r_med, r_min, o_med / r_med, q2, q1, q3,
                     sum(1 for x in ratios if x < 1), len(ratios), gf / o_med * 1e3, gf / o_min * 1e3,
                     "%.0f %% (%.0f %%)" % (100e3 * gf / o_med / pk, 100e3 * gf / o_min / pk) if pk else "-",
                     rep.get("isa", "?")))
            summary.setdefault(n, {})["lockstep_gflops"] = gf / o_med * 1e3
            summary.setdefault(n, {}).update({"lockstep_rounds": len(pairs), "lockstep_ours_ms": o_med,
                                              "lockstep_ort_ms": r_med, "lockstep_ratio_of_medians": o_med / r_med,
                                              "lockstep_paired_ratio_median": q2,
                                              "lockstep_paired_ratio_quartiles": [q1, q3]})
            print("  lockstep %s: per-round ratios %s" % (n, " ".join("%.2f" % x for x in ratios)), file=sys.stderr,
                  flush=True)
        emit()
        emit("Per-round ratio: the median time of ours' burst over the median of ORT's burst of the same round.")
    if a.lockstep > 0:
        if a.scaling:
            lockstep_scaling(a, emit, summary)
        if a.isa_table:
            isa_table(a, emit, summary)
        if a.contention:
            contention(a, emit, summary)
    extra(a, emit, summary)
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
            json.dump(summary, f, indent=1)


def lockstep_scaling(a, emit, summary):
    """DeiT-base 224 batch 1, 1 thread vs --threads, each runtime in lockstep with itself."""
    T = a.threads
    d, onnx = prepare(a.build, "base", True)
    emit()
    emit("Thread scaling in lockstep, DeiT-base 224 batch 1: a 1-thread and a %d-thread instance of the same "
         "runtime both loaded, %d rounds of one run each (ms/image):" % (T, a.lockstep))
    emit()
    emit("| runtime | 1 thread, median (min) | %d threads, median (min) | speed-up of medians | "
         "per-round speed-up: median [quartiles] |" % T)
    emit("|---|---:|---:|---:|---:|")
    for w, wn, cmd in (("ours", "ours", lambda t: ours_cmd(a.build, d, 1, t, 1, 1)),
                       ("ort", "ONNX Runtime", lambda t: ort_cmd(onnx, 1, t, 1, 1))):
        pairs, _, _ = lockstep(cmd(1), cmd(T), a.lockstep, 0, 1)
        m1, n1, mT, nT, _, (q1, q2, q3) = paired(pairs)
        emit("| %s | %.1f (%.1f) | %.1f (%.1f) | %.2fx | %.2fx [%.2f, %.2f] |" % (wn, m1, n1, mT, nT, m1 / mT, q2, q1,
                                                                             q3))
        summary["lockstep_scaling_" + w] = {"of_medians": m1 / mT, "paired_median": q2, "paired_quartiles": [q1, q3]}


def interleaved(a, names, prepared, emit, summary):
    T = a.threads
    res = {n: {"ours": [], "ort": [], "torch": []} for n in names}
    sgemm = []
    for r in range(a.reps):
        sgemm.append(run_json([os.path.join(a.build, "bench", "sgemm-bench"), "--n", "2048", "--threads", str(T)]))
        for n in names:
            cfg, dist, batch, wu, it = CONFIGS[n]
            d, onnx = prepared[n]
            res[n]["ours"].append(run_json(ours_cmd(a.build, d, batch, T, wu, it)))
            res[n]["ort"].append(run_json(ort_cmd(onnx, batch, T, wu, it)))
            if not a.no_torch:
                res[n]["torch"].append(run_json(torch_cmd(d, batch, T, wu, it)))
            print("  round %d %s: ours %.2f, ORT %.2f%s ms/image" % (
                r + 1, n, res[n]["ours"][-1]["median_ms"], res[n]["ort"][-1]["median_ms"],
                "" if a.no_torch else ", torch %.2f" % res[n]["torch"][-1]["median_ms"]), file=sys.stderr, flush=True)
    sg = statistics.median(s["gflops"] for s in sgemm)

    emit()
    emit("| model | batch | ours ms/img | ORT ms/img | PyTorch ms/img | ours/ORT | ours/PyTorch | ours GFLOP/s | "
         "% of sgemm | peak RSS MB ours / ORT / PyTorch | load ms ours / ORT |")
    emit("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    emit("| | | median (min) | median (min) | median (min) | median (min) | median | median | median | | |")
    for n in names:
        cfg, dist, batch, wu, it = CONFIGS[n]
        o_med, o_min = median_of(res[n]["ours"])
        r_med, r_min = median_of(res[n]["ort"])
        gflop = res[n]["ours"][0]["gflop_per_image"]
        gfs = gflop / (o_med / 1e3)
        o_rss = max(x["peak_rss_mb"] for x in res[n]["ours"])
        r_rss = max(x["peak_rss_mb"] for x in res[n]["ort"])
        r_base = min(x["base_rss_mb"] for x in res[n]["ort"])
        o_load = statistics.median(x["load_ms"] for x in res[n]["ours"])
        r_load = statistics.median(x["load_ms"] for x in res[n]["ort"])
        if res[n]["torch"]:
            t_med, t_min = median_of(res[n]["torch"])
            t_rss = max(x["peak_rss_mb"] for x in res[n]["torch"])
            t_base = min(x["base_rss_mb"] for x in res[n]["torch"])
            t_cell, t_ratio = "%.2f (%.2f)" % (t_med, t_min), "%.2fx" % (o_med / t_med)
            t_rss_cell = "%.0f (+%.0f)" % (t_rss, t_rss - t_base)
        else:
            t_med, t_cell, t_ratio, t_rss_cell = None, "-", "-", "-"
        label = "%s%s %d" % ("DeiT-" if dist else "ViT-", cfg.replace("-384", ""),
                             384 if cfg.endswith("384") else 224)
        emit("| %s | %d | %.2f (%.2f) | %.2f (%.2f) | %s | %.2fx (%.2fx) | %s | %.1f | %.0f%% | %.0f / %.0f (+%.0f) / %s "
             "| %.1f / %.0f |" % (
                 label, batch, o_med, o_min, r_med, r_min, t_cell, o_med / r_med, o_min / r_min, t_ratio, gfs,
                 100 * gfs / sg, o_rss, r_rss, r_rss - r_base, t_rss_cell, o_load, r_load))
        summary[n] = {"ours_ms": o_med, "ours_min_ms": o_min, "ort_ms": r_med, "ort_min_ms": r_min,
                      "torch_ms": t_med, "gflops": gfs, "sgemm_gflops": sg, "ours_rss_mb": o_rss,
                      "ort_rss_mb": r_rss, "ort_base_rss_mb": r_base, "weight_mb": res[n]["ours"][0]["weight_mb"],
                      "ours_load_ms": o_load}
    emit()
    emit("sgemm 2048x2048 (OpenBLAS, %d threads): %.1f GFLOP/s median over %d rounds." % (T, sg, a.reps))
    emit("Times: median (over all timed runs of all rounds) wall time of one batch divided by the batch size.")
    emit("RSS: peak resident set (getrusage maxrss) of the whole process; (+N) = above the runtime's own "
         "baseline before the model was created (node + libonnxruntime, python + torch).")


def extra(a, emit, summary):
    """--scaling, --schemes, --attention-table: a.reps interleaved rounds each."""
    T = a.threads
    if a.scaling and a.reps > 0:
        emit()
        emit("Thread scaling, DeiT-base 224 batch 1 (ms/image, %d interleaved rounds):" % a.reps)
        d, onnx = prepare(a.build, "base", True)
        sc = {(w, t): [] for w in ("ours", "ort") for t in (1, T)}
        for r in range(a.reps):
            for t in (1, T):
                sc[("ours", t)].append(run_json(ours_cmd(a.build, d, 1, t, 1, 5)))
                sc[("ort", t)].append(run_json(ort_cmd(onnx, 1, t, 1, 5)))
        emit()
        emit("| runtime | 1 thread, median (min) | %d threads, median (min) | speed-up, median (min) |" % T)
        emit("|---|---:|---:|---:|")
        for w, wn in (("ours", "ours"), ("ort", "ONNX Runtime")):
            (m1, n1), (mT, nT) = median_of(sc[(w, 1)]), median_of(sc[(w, T)])
            emit("| %s | %.1f (%.1f) | %.1f (%.1f) | %.2fx (%.2fx) |" % (wn, m1, n1, mT, nT, m1 / mT, n1 / nT))
            summary["scaling_" + w] = m1 / mT

    if a.schemes:
        emit()
        emit("Parallelism owner and GEMM path, %d threads (ms/image, median, %d interleaved rounds): our pool "
             "with our kernels on weights packed once (the default); our pool with OpenBLAS single-threaded "
             "GEMMs on the weights as stored (deit-bench --no-packed-weights); OpenBLAS threading its GEMMs "
             "with our loops serial (deit-bench --threads 1 --blas-threads %d):" % (T, a.reps, T))
        emit()
        emit("| model | batch | our pool, packed weights (default) | our pool, OpenBLAS GEMMs | "
             "OpenBLAS threads, OpenBLAS GEMMs | default vs OpenBLAS threads |")
        emit("|---|---:|---:|---:|---:|---:|")
        for n in ("tiny", "base", "base-b8"):
            cfg, dist, batch, wu, it = CONFIGS[n]
            d, onnx = prepare(a.build, cfg, dist)
            runs = {"pool": [], "nopack": [], "blas": []}
            for r in range(a.reps):
                runs["pool"].append(run_json(ours_cmd(a.build, d, batch, T, wu, it)))
                runs["nopack"].append(run_json(ours_cmd(a.build, d, batch, T, wu, it) + ["--no-packed-weights"]))
                runs["blas"].append(run_json(ours_cmd(a.build, d, batch, 1, wu, it) + ["--blas-threads", str(T)]))
            p, q, b = (median_of(runs[k])[0] for k in ("pool", "nopack", "blas"))
            emit("| %s | %d | %.2f | %.2f | %.2f | %.2fx |" % (n.replace("-b8", ""), batch, p, q, b, b / p))

    if a.attention_table:
        emit()
        emit("Attention implementations, DeiT-base 224 and 384, %d threads (ms/image, median of %d rounds):" %
             (T, a.reps))
        emit()
        emit("| model | batch | eager | fused | fused speed-up |")
        emit("|---|---:|---:|---:|---:|")
        for cfg in ("base", "base-384"):
            d, onnx = prepare(a.build, cfg, True)
            for b in (1, 2, 4, 8):
                at = {"eager": [], "fused": []}
                iters = max(2, 8 // b) if cfg == "base" else max(1, 4 // b)
                for r in range(a.reps):
                    for att in ("eager", "fused"):
                        at[att].append(run_json(ours_cmd(a.build, d, b, T, 1, iters, att)))
                e, f = median_of(at["eager"])[0], median_of(at["fused"])[0]
                emit("| DeiT-%s | %d | %.1f | %.1f | %.2fx |" % (cfg, b, e, f, e / f))


if __name__ == "__main__":
    main()
