#!/usr/bin/python3
"""compare_outputs.py - run deit-infer on a PyTorch fixture and compare with PyTorch's outputs.

Usage: compare_outputs.py --deit-infer EXE --fixtures DIR --name NAME
                          [--attention eager|fused|auto] [--threads N]

The fixture (tests/reference/gen_core_fixtures.py) is a Hugging Face checkpoint directory
with pixel_values.npy (and mask.npy) and the outputs of the PyTorch reference, in float32
(<out>.npy, what transformers computes) and float64 (<out>.f64.npy, nearly exact).

Pass criteria, per output tensor (float32 engine vs float32 PyTorch):
  |ours - ref| <= atol + rtol * |ref| elementwise, atol = 1e-4 * max(1, max|ref|), rtol = 1e-4
and, for logits, the same top-5 classes per image (a swap is accepted only between classes
whose reference logits are within atol of each other, i.e. a genuine tie), and --top-k's
printed class ids, scores (transformers' pipeline default on the reference logits: softmax, or
sigmoid for multi-label and one-output heads; within 1e-4) and labels
(config.json id2label) must match.

Why 1e-4: float32 PyTorch itself is ~1e-6 (relative to max|ref|) away from the float64
result on these models (printed below as "torch f32 vs f64"); an engine that sums in a
different order (BLAS blocking, threads, tiled online-softmax attention) lands at the same
order, so 1e-4 leaves ~50x headroom for rounding while a real mistake (a wrong tensor,
token, head, mask, dtype conversion) moves outputs by 1e-2 .. 1. Subtler ones have
fixtures built to expose them: erf vs tanh GELU (~5e-3 on the GELU fixtures) and an
ignored layer_norm_eps (0.23 on deit-eps-large; eps 1e-6 alone changes only ~2e-6). Each line printed
also gives our distance to the float64 result, to compare with PyTorch's own.

Exit status: 0 pass, 1 fail, 77 skip (PyTorch was unavailable when the fixtures were made).
"""

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy not available")
    sys.exit(77)

RTOL = 1e-4
ATOL_UNIT = 1e-4

# output name in the fixture -> deit-infer --output-kind
KINDS = {"logits": "logits", "last_hidden_state": "hidden", "pooler_output": "pooler",
         "reconstruction": "reconstruction"}
# outputs transformers returns that the engine's API does not expose (they feed `logits`)
NOT_EXPOSED = {"cls_logits", "distillation_logits"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run_infer(cmd):
    print("$ " + " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if err.strip():
        print(err.rstrip())
    if p.returncode != 0:
        fail("deit-infer exited with %d" % p.returncode)
    return out


def compare_tensor(name, ours, ref, ref64):
    if ours.shape != ref.shape:
        fail("%s: shape %s, PyTorch has %s" % (name, ours.shape, ref.shape))
    if not np.all(np.isfinite(ours)):
        fail("%s: non-finite values in our output" % name)
    scale = float(np.abs(ref).max())
    atol = ATOL_UNIT * max(1.0, scale)
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    bound = atol + RTOL * np.abs(ref.astype(np.float64))
    worst = np.unravel_index(np.argmax(diff - bound), diff.shape)
    ok = bool(np.all(diff <= bound))
    ours64 = float(np.abs(ours.astype(np.float64) - ref64).max())
    torch64 = float(np.abs(ref.astype(np.float64) - ref64).max())
    print("%-18s shape %-18s max|ref| %.4g  max|ours-ref| %.3g (atol %.3g, rtol %.0e)  "
          "ours vs f64 %.3g  torch f32 vs f64 %.3g  %s"
          % (name, "x".join(map(str, ref.shape)), scale, float(diff.max()), atol, RTOL, ours64, torch64,
             "ok" if ok else "FAIL"))
    if not ok:
        print("  worst element %s: ours %.8g ref %.8g" % (tuple(int(i) for i in worst), float(ours[worst]),
                                                            float(ref[worst])))
    return ok, atol


def top_k(logits, k):
    # most probable first, ties: lower class id first (deit_top_k's order)
    return list(np.lexsort((np.arange(len(logits)), -logits.astype(np.float64)))[:k])


def check_top5(ours, ref, atol):
    ok = True
    for b in range(ref.shape[0]):
        k = min(5, ref.shape[1])
        t_ours, t_ref = top_k(ours[b], k), top_k(ref[b], k)
        if t_ours == t_ref:
            print("image %d: top-%d identical %s" % (b, k, [int(i) for i in t_ref]))
            continue
        # accept a different order only where the reference itself is tied within atol
        tied = all(abs(float(ref[b][o]) - float(ref[b][r])) <= atol for o, r in zip(t_ours, t_ref))
        print("image %d: top-%d ours %s ref %s: %s" % (b, k, [int(i) for i in t_ours], [int(i) for i in t_ref],
                                                     "equal up to ties within atol" if tied else "DIFFERENT"))
        ok = ok and tied
    return ok


def pipeline_scores(x, config):
    """The scores transformers' ImageClassificationPipeline.postprocess gives by default:
    sigmoid when config.problem_type is "multi_label_classification" or there is one
    output, else softmax."""
    if config.get("problem_type") == "multi_label_classification" or x.shape[-1] == 1:
        return 1.0 / (1.0 + np.exp(-x))
    p = np.exp(x - x.max())
    return p / p.sum()


def check_top_k_stdout(text, ref, config, k):
    id2label = config.get("id2label", {})
    """deit-infer --top-k prints 'image B:' then '  rank<TAB>id<TAB>prob<TAB>logit<TAB>label'."""
    blocks = {}
    cur = None
    for line in text.splitlines():
        if line.startswith("image "):
            cur = int(line[6:].rstrip(":"))
            blocks[cur] = []
        elif line.startswith("  ") and cur is not None:
            rank, cid, prob, logit, label = line[2:].split("\t", 4)
            blocks[cur].append((int(rank), int(cid), float(prob), float(logit), label))
    ok = True
    for b in range(ref.shape[0]):
        rows = blocks.get(b)
        kk = min(k, ref.shape[1])
        if rows is None or len(rows) != kk:
            print("--top-k: image %d: expected %d lines, got %s" % (b, kk, None if rows is None else len(rows)))
            ok = False
            continue
        x = ref[b].astype(np.float64)
        p = pipeline_scores(x, config)
        want = top_k(ref[b], kk)
        for i, (rank, cid, prob, _logit, label) in enumerate(rows):
            exp_label = id2label.get(str(cid), "LABEL_%d" % cid)
            good = rank == i + 1 and abs(prob - p[cid]) <= 1e-4 and label == exp_label and \
                (cid == want[i] or abs(x[cid] - x[want[i]]) <= 1e-4 * max(1.0, np.abs(x).max()))
            if not good:
                print("--top-k: image %d rank %d: got id %d p %.6f label %r; expected id %d p %.6f label %r"
                      % (b, i + 1, cid, prob, label, want[i], p[want[i]], id2label.get(str(want[i]))))
                ok = False
    if ok:
        print("--top-k %d: ids, %s scores and labels match" % (
            k, "sigmoid" if config.get("problem_type") == "multi_label_classification" or ref.shape[1] == 1
            else "softmax"))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deit-infer", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--attention", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    manifest_path = os.path.join(args.fixtures, "manifest.json")
    if not os.path.exists(manifest_path):
        fail("%s missing: the fixture generator did not run" % manifest_path)
    with open(manifest_path) as f:
        manifest = json.load(f)
    if not manifest.get("torch", False):
        print("SKIP: PyTorch was not available to make the reference: %s" % manifest.get("reason"))
        return 77
    d = os.path.join(args.fixtures, args.name)
    if not os.path.exists(os.path.join(d, "fixture.json")):
        fail("fixture %s not generated (names in tests/core/meson.build and gen_core_fixtures.py differ?)"
             % args.name)
    with open(os.path.join(d, "fixture.json")) as f:
        info = json.load(f)
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    print("fixture %s: %s" % (args.name, info["description"]))
    print("architecture %s, weights %s (%s), batch %d, attention %s, threads %d"
          % (info["architecture"], info["weights"], info["dtype"], info["batch"], args.attention, args.threads))

    ok = True
    with tempfile.TemporaryDirectory(prefix="deit-compare-") as tmp:
        # cross builds: meson's exe_wrapper (e.g. qemu-aarch64) runs the cross-built deit-infer
        wrapper = shlex.split(os.environ.get("MESON_EXE_WRAPPER", ""))
        base = wrapper + [args.deit_infer, "--model", d, "--input", os.path.join(d, "pixel_values.npy"),
                "--attention", args.attention, "--threads", str(args.threads)]
        if info["mask"]:
            base += ["--mask", os.path.join(d, "mask.npy")]
        for name in info["outputs"]:
            if name in NOT_EXPOSED:
                continue
            out = os.path.join(tmp, name + ".npy")
            cmd = base + ["--output", out, "--output-kind", KINDS[name]]
            if name == "logits":
                cmd += ["--top-k", "5"]
            stdout = run_infer(cmd)
            ours = np.load(out)
            ref = np.load(os.path.join(d, name + ".npy"))
            ref64 = np.load(os.path.join(d, name + ".f64.npy"))
            good, atol = compare_tensor(name, ours, ref, ref64)
            ok = ok and good
            if name == "logits":
                ok = check_top5(ours, ref, atol) and ok
                ok = check_top_k_stdout(stdout, ref, config, 5) and ok
        # the base model's two outputs also come from one run (--pooler-output)
        if "pooler_output" in info["outputs"]:
            h, p = os.path.join(tmp, "h.npy"), os.path.join(tmp, "p.npy")
            run_infer(base + ["--output", h, "--pooler-output", p])
            for name, path in (("last_hidden_state", h), ("pooler_output", p)):
                good, _ = compare_tensor(name + " (1 run)", np.load(path), np.load(os.path.join(d, name + ".npy")),
                                         np.load(os.path.join(d, name + ".f64.npy")))
                ok = ok and good
        # a base model saved without pooler weights must not invent a pooler output
        if info["architecture"] in ("DeiTModel", "ViTModel") and "pooler_output" not in info["outputs"]:
            p = subprocess.run(base + ["--output", os.path.join(tmp, "p.npy"), "--output-kind", "pooler"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            print("pooler output of a checkpoint without pooler: exit %d (1 expected)" % p.returncode)
            ok = ok and p.returncode == 1
    if not ok:
        fail("%s differs from PyTorch" % args.name)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
