#!/usr/bin/python3
"""test_deit_infer_cli.py - deit-infer's command line, .npy parsing and error messages.

Usage: test_deit_infer_cli.py --deit-infer EXE --fixtures DIR

Every bad input must give a non-zero exit (2 for usage errors, 1 otherwise), no crash,
and a message on stderr that names the problem; a few good variants (a [C, H, W] input,
.npy format 2.0 / 3.0 headers, --labels, --help) must work. Uses the fixtures of
gen_core_fixtures.py; values are checked against the PyTorch outputs stored there.
Exit status 0 pass, 1 fail, 77 skip (no PyTorch when the fixtures were made).
"""

import argparse
import io
import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy not available")
    sys.exit(77)

failures = []


def run(exe, args):
    # cross builds: meson's exe_wrapper (e.g. qemu-aarch64) runs the cross-built deit-infer
    wrapper = shlex.split(os.environ.get("MESON_EXE_WRAPPER", ""))
    p = subprocess.run(wrapper + [exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def expect(name, exe, args, code, *needles, stream="stderr"):
    rc, out, err = run(exe, args)
    text = err if stream == "stderr" else out
    ok = rc == code and all(n.lower() in text.lower() for n in needles)
    print("%-34s exit %d %s" % (name, rc, "ok" if ok else "FAIL"))
    if rc < 0:
        print("  killed by signal %d" % -rc)
    if not ok:
        print("  expected exit %d and %r in %s; got:\n  stdout: %s\n  stderr: %s" % (code, needles, stream,
                                                                                   out.strip(), err.strip()))
        failures.append(name)
    return out


def npy_bytes(arr, version=(1, 0)):
    f = io.BytesIO()
    np.lib.format.write_array(f, arr, version=version)
    return f.getvalue()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deit-infer", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = args.deit_infer
    with open(os.path.join(args.fixtures, "manifest.json")) as f:
        if not json.load(f).get("torch", False):
            print("SKIP: PyTorch was not available to make the fixtures")
            return 77
    teacher = os.path.join(args.fixtures, "deit-teacher")     # 224 px, 10 labels, batch 2
    mim = os.path.join(args.fixtures, "deit-mim")             # 64 px, 16 patches, batch 2
    base = os.path.join(args.fixtures, "deit-model-pooler")   # 96 px, pooler
    px = np.load(os.path.join(teacher, "pixel_values.npy"))
    ref = np.load(os.path.join(teacher, "logits.npy"))

    with tempfile.TemporaryDirectory(prefix="deit-cli-") as tmp:
        t = lambda name: os.path.join(tmp, name)  # noqa: E731
        good = t("good.npy")
        np.save(good, px)
        out = t("out.npy")

        # usage errors: exit 2
        help_text = expect("--help", exe, ["--help"], 0, "--model", "--input", "--output", "--mask", "--attention",
                           "--threads", "--top-k", "pixel_values.npy", "np.save",
                           # huggingface_hub 1.0 has only `hf`, the README's command
                           "hf download facebook/", stream="stdout")
        expect("no arguments", exe, [], 2, "--model DIR is required")
        expect("no --input", exe, ["--model", teacher], 2, "--input")
        expect("nothing to do", exe, ["--model", teacher, "--input", good], 2, "nothing to do")
        expect("bad --attention", exe, ["-m", teacher, "-i", good, "-o", out, "--attention", "flash"], 2,
               "eager, fused or auto")
        expect("bad --threads", exe, ["-m", teacher, "-i", good, "-o", out, "--threads", "-1"], 2, "--threads")
        expect("bad --top-k", exe, ["-m", teacher, "-i", good, "--top-k", "0"], 2, "--top-k")
        expect("bad --scores", exe, ["-m", teacher, "-i", good, "--top-k", "3", "--scores", "probit"], 2,
               "auto, softmax, sigmoid or none")
        expect("bad --output-kind", exe, ["-m", teacher, "-i", good, "-o", out, "--output-kind", "probs"], 2,
               "--output-kind")
        expect("unknown option", exe, ["-m", teacher, "-i", good, "-o", out, "--bogus"], 2, "Try")
        expect("stray argument", exe, ["-m", teacher, "-i", good, "-o", out, "extra"], 2, "unexpected argument")

        # model errors: exit 1, engine message passed through
        expect("missing model dir", exe, ["-m", t("nope"), "-i", good, "-o", out], 1, "cannot load the model", "nope")

        # .npy parsing
        cases = [
            ("float64 input", px.astype(np.float64), "float32"),
            ("big-endian input", px.astype(">f4"), "big-endian"),
            ("fortran-order input", np.asfortranarray(px), "Fortran"),
            ("int input", (px * 10).astype(np.int32), "not supported"),
            ("2-D input", px.reshape(2, -1), "dimensions"),
            ("wrong image size", px[:, :, :32, :32].copy(), "[3, 224, 224]"),
            ("wrong channels", px[:, :1].copy(), "[3, 224, 224]"),
        ]
        for name, arr, needle in cases:
            expect(name, exe, ["-m", teacher, "-i", write(t("in.npy"), npy_bytes(arr)), "-o", out], 1, needle)
        raw = npy_bytes(px)
        expect("truncated data", exe, ["-m", teacher, "-i", write(t("in.npy"), raw[:-4]), "-o", out], 1,
               "truncated")
        expect("trailing bytes", exe, ["-m", teacher, "-i", write(t("in.npy"), raw + b"\0" * 4), "-o", out], 1,
               "unexpected bytes")
        expect("bad magic", exe, ["-m", teacher, "-i", write(t("in.npy"), b"\x93NUMPZ" + raw[6:]), "-o", out], 1,
               "not a .npy")
        expect("format version 9.0", exe, ["-m", teacher, "-i", write(t("in.npy"), raw[:6] + b"\x09\x00" + raw[8:]),
                                           "-o", out], 1, "version 9.0")
        expect("header past end", exe, ["-m", teacher, "-i", write(t("in.npy"), raw[:8] + struct.pack("<H", 65535)
                                                                   + raw[10:200]), "-o", out], 1, "past the end")
        hdr_bad = raw.replace(b"'fortran_order': False", b"'fortran_order': Maybe")
        expect("malformed header", exe, ["-m", teacher, "-i", write(t("in.npy"), hdr_bad), "-o", out], 1,
               "fortran_order")
        expect("empty file", exe, ["-m", teacher, "-i", write(t("in.npy"), b""), "-o", out], 1, "not a .npy")
        expect("missing input", exe, ["-m", teacher, "-i", t("absent.npy"), "-o", out], 1, "absent.npy",
               "cannot open")
        expect("unwritable output", exe, ["-m", teacher, "-i", good, "-o", t("no/such/dir/out.npy")], 1,
               "cannot create")

        # architecture / option mismatches
        expect("--mask on a classifier", exe, ["-m", teacher, "-i", good, "-o", out, "--mask", good], 1,
               "masked image modeling")
        expect("pooler of a teacher", exe, ["-m", teacher, "-i", good, "-o", out, "-k", "pooler"], 1,
               "no pooler output", "only DeiTModel and ViTModel")
        expect("reconstruction of a teacher", exe, ["-m", teacher, "-i", good, "-o", out, "-k", "reconstruction"],
               1, "no reconstruction output")
        base_px = os.path.join(base, "pixel_values.npy")
        expect("--top-k on a base model", exe, ["-m", base, "-i", base_px, "--top-k", "3"], 1,
               "no classification head")
        expect("--labels on a base model", exe, ["-m", base, "--labels"], 1, "--labels", "no classification head")
        mim_px = os.path.join(mim, "pixel_values.npy")
        mask = np.load(os.path.join(mim, "mask.npy"))
        stride8 = os.path.join(args.fixtures, "vit-mim-stride8")   # encoder_stride 8, patch 16, 64 px
        expect("--mask with encoder_stride != patch_size", exe,
               ["-m", stride8, "-i", os.path.join(stride8, "pixel_values.npy"), "-o", out, "--mask",
                write(t("m8.npy"), npy_bytes(np.ones((2, 16), dtype=np.bool_)))], 1,
               "encoder_stride (8)", "without --mask")
        expect("mask wrong shape", exe, ["-m", mim, "-i", mim_px, "-o", out, "--mask",
                                         write(t("m.npy"), npy_bytes(mask[:, :-1].copy()))], 1, "mask shape")
        expect("mask float32", exe, ["-m", mim, "-i", mim_px, "-o", out, "--mask",
                                     write(t("m.npy"), npy_bytes(mask.astype(np.float32)))], 1, "bool or uint8")
        m2 = mask.astype(np.uint8)
        m2[0, 3] = 2
        expect("mask value 2", exe, ["-m", mim, "-i", mim_px, "-o", out, "--mask", write(t("m.npy"), npy_bytes(m2))],
               1, "0 or 1")
        # a bool array holding 2: the message names the element and its value, read before
        # the array is freed (the reader once printed freed memory here)
        expect("bool mask value 2", exe, ["-m", mim, "-i", mim_px, "-o", out, "--mask",
                                          write(t("m.npy"), npy_bytes(m2.view(np.bool_)))],
               1, "element 3 holds 2")

        # good variants, checked against PyTorch (tolerance as in compare_outputs.py)
        tol = 1e-4 * max(1.0, float(np.abs(ref).max()))
        for name, data in (("[C, H, W] input", npy_bytes(px[0].copy())),
                           ("npy format 2.0", npy_bytes(px[:1].copy(), (2, 0))),
                           ("npy format 3.0", npy_bytes(px[:1].copy(), (3, 0)))):
            expect(name, exe, ["-m", teacher, "-i", write(t("in.npy"), data), "-o", out], 0)
            if os.path.exists(out):
                got = np.load(out)
                if got.shape != (1, ref.shape[1]) or np.abs(got[0] - ref[0]).max() > tol:
                    print("  %s: output %s differs from PyTorch's image 0" % (name, got.shape))
                    failures.append(name + " values")
                os.unlink(out)
        mask_u8 = mask.astype(np.uint8)
        expect("uint8 mask", exe, ["-m", mim, "-i", mim_px, "-o", out, "--mask",
                                   write(t("m.npy"), npy_bytes(mask_u8))], 0)
        recon = np.load(os.path.join(mim, "reconstruction.npy"))
        if not os.path.exists(out) or np.abs(np.load(out) - recon).max() > 1e-4 * max(1.0, np.abs(recon).max()):
            print("  uint8 mask: reconstruction differs from PyTorch's")
            failures.append("uint8 mask values")
        # without a mask the reconstruction must change (the mask is really used)
        expect("MIM without mask", exe, ["-m", mim, "-i", mim_px, "-o", out], 0)
        if os.path.exists(out) and np.abs(np.load(out) - recon).max() < 1e-3:
            print("  MIM without mask: same output as with the mask")
            failures.append("mask has no effect")
        labels = expect("--labels", exe, ["-m", teacher, "--labels"], 0, "0\ttench, Tinca tinca", "9\tostrich",
                        stream="stdout")
        if len(labels.strip().splitlines()) != 10:
            failures.append("--labels line count")
        expect("--info", exe, ["-m", teacher, "--info"], 0, "DeiTForImageClassificationWithTeacher",
               "hidden_size        64", stream="stdout")
        multilabel = os.path.join(args.fixtures, "deit-multilabel")
        expect("--info, multi-label", exe, ["-m", multilabel, "--info"], 0,
               "problem_type       multi_label_classification", "scores             sigmoid", stream="stdout")
        expect("--info, single-label", exe, ["-m", teacher, "--info"], 0, "problem_type       (unset)",
               "scores             softmax", stream="stdout")
        # --scores overrides the default: the printed score is the function of the logit
        # (PyTorch's logits of the teacher fixture), for every image and rank
        x64 = ref.astype(np.float64)
        funcs = {"none": lambda x, row: x, "sigmoid": lambda x, row: 1.0 / (1.0 + np.exp(-x)),
                 "softmax": lambda x, row: np.exp(x - row.max()) / np.exp(row - row.max()).sum()}
        for fn, f in funcs.items():
            text = expect("--scores " + fn, exe, ["-m", teacher, "-i", good, "--top-k", "10", "--scores", fn], 0,
                          "image 1:", stream="stdout")
            img, rows = -1, 0
            for line in text.splitlines():
                if line.startswith("image "):
                    img = int(line[6:].rstrip(":"))
                    continue
                _, cid, score, _, _ = line[2:].split("\t", 4)
                want = f(x64[img, int(cid)], x64[img])
                rows += 1
                if abs(float(score) - want) > 1e-4 * max(1.0, abs(want)):
                    print("  --scores %s: image %d class %s score %s, expected %.6f" % (fn, img, cid, score, want))
                    failures.append("--scores " + fn + " values")
                    break
            if rows != 20:
                print("  --scores %s: %d rows, expected 2 images x 10 classes" % (fn, rows))
                failures.append("--scores " + fn + " rows")
        del help_text

        # seeded header corruption: every variant must end in exit 0 or 1, never a crash
        import random
        rng = random.Random(1234)
        small = os.path.join(args.fixtures, "deit-classifier")
        raw = npy_bytes(np.load(os.path.join(small, "pixel_values.npy")))
        crashes = 0
        for _ in range(60):
            b = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(0, 128)] = rng.randrange(256)
            if rng.random() < 0.2:
                b = b[:rng.randrange(len(b))]
            rc, _, err = run(exe, ["-m", small, "-i", write(t("fz.npy"), bytes(b)), "-o", out])
            if rc not in (0, 1) or not (rc == 0 or err.strip()):
                crashes += 1
                print("  corrupted header: exit %d, stderr %r" % (rc, err[:200]))
        print("%-34s %s" % ("60 corrupted headers", "ok" if crashes == 0 else "FAIL"))
        if crashes:
            failures.append("corrupted headers")

    if failures:
        print("FAIL: %d case(s): %s" % (len(failures), ", ".join(failures)))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
