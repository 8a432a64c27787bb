#!/usr/bin/python3
"""Pillow side of bench-preprocess: times transformers' Pillow path on one thread.

Usage: bench_preprocess_pil.py FRAME.rgb WIDTH HEIGHT FRAME.i420 REPEATS OUT_PREFIX

Prints one JSON line: {"pillow": ver, "rgb_ms": .., "rgb_cpu_ms": .., "i420_ms": .., "i420_cpu_ms": ..}
(medians of wall-clock and process CPU time). Writes the uint8
result (resize + crop) of the RGB frame to OUT_PREFIX.rgb.u8 so the C side can check
bit-exactness. What is timed (DeiTImageProcessor defaults, bicubic 256x256, crop 224):
  rgb : Image.frombuffer -> resize (Pillow C) -> np.array -> center crop -> rescale
        (float64) -> normalise (float32) -> HWC to CHW, i.e. what the processor does.
  i420: the same, preceded by Pillow's own YUV handling: chroma planes upsampled 2x with
        Image.resize(NEAREST), merged as "YCbCr" and .convert("RGB") (Pillow's YCbCr is
        full-range BT.601 / JPEG, so the pixels differ from videoconvert's; only the cost
        is compared).
"""
import json
import os
import statistics
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import pil_preprocess as ref  # noqa: E402

CONF = ref.resolve_config({}, "deit")


def pipeline(pil):
    u8 = ref.resize_crop_u8(pil, CONF)
    return ref.rescale_normalize(u8, CONF), u8


def main():
    path, w, h, i420_path, repeats, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], \
        int(sys.argv[5]), sys.argv[6]
    rgb = open(path, "rb").read()
    yuv = open(i420_path, "rb").read()
    cw, ch = (w + 1) // 2, (h + 1) // 2

    def run_rgb():
        return pipeline(Image.frombuffer("RGB", (w, h), rgb, "raw", "RGB", 0, 1))

    def run_i420():
        y = Image.frombuffer("L", (w, h), yuv[:w * h], "raw", "L", 0, 1)
        u = Image.frombuffer("L", (cw, ch), yuv[w * h:w * h + cw * ch], "raw", "L", 0, 1)
        v = Image.frombuffer("L", (cw, ch), yuv[w * h + cw * ch:], "raw", "L", 0, 1)
        u = u.resize((w, h), Image.NEAREST)
        v = v.resize((w, h), Image.NEAREST)
        return pipeline(Image.merge("YCbCr", (y, u, v)).convert("RGB"))

    out = {"pillow": Image.__version__ if hasattr(Image, "__version__") else "?"}
    import PIL
    out["pillow"] = PIL.__version__
    for name, fn in (("rgb", run_rgb), ("i420", run_i420)):
        fn()  # warm-up
        ts, cs = [], []
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            x, u8 = fn()
            ts.append((time.perf_counter() - t0) * 1e3)
            cs.append((time.process_time() - c0) * 1e3)
        out[name + "_ms"] = statistics.median(ts)
        out[name + "_cpu_ms"] = statistics.median(cs)
        if name == "rgb":
            open(prefix + ".rgb.u8", "wb").write(u8.tobytes())
            open(prefix + ".rgb.f32", "wb").write(x.tobytes())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
