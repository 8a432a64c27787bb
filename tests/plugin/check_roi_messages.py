#!/usr/bin/python3
"""check_roi_messages.py - checks the region results deitclassify posted against PyTorch.

Reads the output of `gst-launch-1.0 -m ... deitclassify inference-region=roi-list ...`
(stdin or a file), takes every `deitclassify` element message that names a region
(roi-id, x, y, width, height), and recomputes that region's top-k with the reference:
Pillow's Image.crop(box) of the image, the checkpoint's processor (transformers' Pillow
path, tests/reference/pil_preprocess.py) and the plain-PyTorch model
(tests/reference/deit_torch.py). Class ids must be identical and probabilities within
1e-4 (the tolerance of the other end-to-end tests).

Usage: check_roi_messages.py MODEL_DIR IMAGE [--expect-regions N] [--roi-type T] [--log LOG]
Exit status 0 when every region matches and the count is as expected.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

try:
    import torch
    from PIL import Image
except ImportError as e:
    print("check_roi_messages.py: %s (needs python3-torch, python3-pil)" % e)
    sys.exit(77)

import deit_torch  # noqa: E402
import pil_preprocess  # noqa: E402

TOL = 1e-4


def field(msg, name, kind):
    m = re.search(r"(?:^|[ ,])%s=\(%s\)(-?[0-9.e+-]+)" % (re.escape(name), kind), msg)
    return None if m is None else m.group(1)


def array(msg, name, kind):
    m = re.search(r"%s=\(%s\)< ([^>]*) >" % (re.escape(name), kind), msg)
    if m is None:
        m2 = re.search(r"%s=\(%s\)<  >" % (re.escape(name), kind), msg)
        return [] if m2 else None
    return [x.strip() for x in m.group(1).split(",")]


def parse(lines):
    out = []
    for line in lines:
        if "(element): deitclassify," not in line:
            continue
        rid = field(line, "roi-id", "int")
        if rid is None:
            continue
        out.append({
            "roi_id": int(rid),
            "roi_type": (re.search(r"roi-type=\(string\)([^,;]*)", line) or [None, ""])[1],
            "box": [int(field(line, k, "uint")) for k in ("x", "y", "width", "height")],
            "ids": [int(x) for x in array(line, "class-ids", "int")],
            "scores": [float(x) for x in array(line, "scores", "double")],
        })
    return out


def reference(model, config, pp, image, box, k):
    x, y, w, h = box
    crop = image.crop((x, y, x + w, y + h))
    px = pil_preprocess.preprocess(crop, pp, config.get("model_type", "deit"))
    logits = deit_torch.run(model, px[None])["logits"][0].double()
    p = torch.softmax(logits, dim=-1)
    order = sorted(range(p.shape[0]), key=lambda i: (-float(p[i]), i))[:k]
    return order, [float(p[i]) for i in order]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("--log", help="gst-launch-1.0 -m output (default: stdin)")
    ap.add_argument("--expect-regions", type=int)
    ap.add_argument("--roi-type")
    a = ap.parse_args()
    lines = open(a.log).read().splitlines() if a.log else sys.stdin.read().splitlines()
    msgs = parse(lines)
    model, config = deit_torch.load_checkpoint(a.model)
    with open(os.path.join(a.model, "preprocessor_config.json")) as f:
        pp = json.load(f)
    image = Image.open(a.image).convert("RGB")
    failures = 0
    if a.expect_regions is not None and len(msgs) != a.expect_regions:
        print("FAIL: %d region messages, expected %d" % (len(msgs), a.expect_regions))
        failures += 1
    for m in msgs:
        ids, scores = reference(model, config, pp, image, m["box"], max(1, len(m["ids"])))
        ok = m["ids"] == ids[:len(m["ids"])] and all(
            abs(s - r) <= TOL for s, r in zip(m["scores"], scores))
        if a.roi_type is not None and m["roi_type"] != a.roi_type:
            ok = False
        print("region %d (%s) at %s: ids %s scores %s | reference ids %s scores %s: %s" % (
            m["roi_id"], m["roi_type"], m["box"], m["ids"], ["%.6f" % s for s in m["scores"]],
            ids[:len(m["ids"])], ["%.6f" % s for s in scores[:len(m["ids"])]], "ok" if ok else "FAIL"))
        failures += 0 if ok else 1
    print("%d region(s), %d failure(s)" % (len(msgs), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
