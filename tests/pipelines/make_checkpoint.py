#!/usr/bin/python3
"""make_checkpoint.py - a small random-weight DeiT checkpoint for the tagging-script tests
and the annotated sample picture in docs/.

Usage: make_checkpoint.py OUTDIR [--labels "a,b,c"] [--size tiny|demo] [--seed N] [--stamp FILE]

Writes a Hugging Face checkpoint directory (config.json, preprocessor_config.json,
model.safetensors) with tests/reference/deit_torch.py. The weights are seeded random:
the model classifies nothing, its labels are whatever --labels says (made-up names by
default). "tiny" (32 px input, 2 layers, 32 wide) keeps the pipeline tests fast; "demo"
(224 px, 4 layers, 192 wide) is what docs/make-annotated.sh uses. The classifier head is
scaled up so the softmax is not flat, which makes the overlay's bars visible.
If torch is not installed it writes OUTDIR/SKIP and exits 0, and the tests skip (77).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))

DEFAULT_LABELS = ["tabby cat (made-up label)", "coffee mug (made-up)", "astronaut (made-up)",
                  "teapot (made-up)", "red fox (made-up)", "bicycle (made-up)",
                  "lighthouse (made-up)", "umbrella (made-up)"]

SIZES = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 image_size=32, patch_size=8, encoder_stride=8),
    "demo": dict(hidden_size=192, num_hidden_layers=4, num_attention_heads=3, intermediate_size=768,
                 image_size=224, patch_size=16),
}


def touch(path):
    if path:
        with open(path, "w") as f:
            f.write("done\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--labels", default=None, help="comma-separated labels (default: made-up names)")
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--head-scale", type=float, default=3.0,
                    help="multiply the classifier head by this (a flat softmax shows short bars)")
    ap.add_argument("--stamp", help="file to touch when done (meson custom_target output)")
    ap.add_argument("--name", default="gst-deit-test/random-deit", help="_name_or_path (the model name)")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    try:
        import torch
        import deit_torch
    except ImportError as e:
        import reference_deps  # in CI (CI=true) a missing reference is an error: exit 1
        reference_deps.missing("make_checkpoint.py", e)
        with open(os.path.join(args.outdir, "SKIP"), "w") as f:
            f.write("torch not available: %s\n" % e)
        touch(args.stamp)
        return 0
    labels = args.labels.split(",") if args.labels else DEFAULT_LABELS
    config = deit_torch.make_config("DeiTForImageClassificationWithTeacher", labels=labels,
                                    name=args.name, **SIZES[args.size])
    model = deit_torch.build_model(config, seed=args.seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("cls_classifier", "distillation_classifier")):
                p.mul_(args.head_scale)
    deit_torch.write_checkpoint(args.outdir, model, config)
    if os.path.exists(os.path.join(args.outdir, "SKIP")):
        os.remove(os.path.join(args.outdir, "SKIP"))
    touch(args.stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
