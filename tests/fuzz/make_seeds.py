#!/usr/bin/python3
"""make_seeds.py - writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Usage: /usr/bin/python3 tests/fuzz/make_seeds.py   (needs python3-torch, python3-numpy)

The seeds are committed; rerun this only to change them. Checkpoints are micro models
(16 wide, 1 layer, 8x8 px, patch 4; a few kB) in the real Hugging Face formats, written
by tests/reference/deit_torch.py, so the fuzzer starts from files the loader accepts.
"""
import io
import json
import os
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import numpy as np  # noqa: E402
import deit_torch  # noqa: E402

SEP = b"\n@@@@\n"
MICRO = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
             image_size=8, patch_size=4, encoder_stride=4)
ARCHS = ["DeiTForImageClassificationWithTeacher", "ViTForImageClassification", "DeiTForMaskedImageModeling",
         "ViTModel"]


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    tmp = tempfile.mkdtemp()
    try:
        for i, arch in enumerate(ARCHS):
            labels = ["cat", "mug", "fox"] if "Classification" in arch else None
            cfg = deit_torch.make_config(arch, labels=labels, **MICRO)
            model = deit_torch.build_model(cfg, seed=i)
            for dtype in (["F32", "F16"] if i == 0 else ["F32"]):
                d = os.path.join(tmp, "%d-%s" % (i, dtype))
                deit_torch.write_checkpoint(d, model, cfg, dtype=dtype)
                deit_torch.write_checkpoint(d, model, cfg, dtype=dtype, fmt="bin")
                tag = "%s-%s" % (arch, dtype.lower())
                c, p = read(os.path.join(d, "config.json")), read(os.path.join(d, "preprocessor_config.json"))
                st, pt = read(os.path.join(d, "model.safetensors")), read(os.path.join(d, "pytorch_model.bin"))
                put("safetensors", tag, st)
                put("torchbin", tag, pt)
                put("config", tag, c)
                put("preprocessor-config", tag, bytes([i]) + p)
                put("model-load", tag + "-safetensors", c + SEP + p + SEP + st)
                if i < 2:
                    put("model-load", tag + "-bin", c + SEP + p + SEP + pt)
        # preprocessor configs as the Hub has them: legacy int sizes, shortest_edge, no crop
        for j, pp in enumerate([
                {"do_resize": True, "size": 256, "resample": 3, "do_center_crop": True, "crop_size": 224,
                 "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                 "feature_extractor_type": "DeiTFeatureExtractor"},
                {"size": {"shortest_edge": 256}, "crop_size": {"height": 224, "width": 224},
                 "do_center_crop": True, "image_processor_type": "DeiTImageProcessor", "rescale_factor": 0.00392156862745098},
                {"size": [30, 20], "do_center_crop": False, "resample": 2, "image_processor_type": "ViTImageProcessor",
                 "do_normalize": False}]):
            put("preprocessor-config", "hub-%d" % j, bytes([j]) + json.dumps(pp).encode())
        # .npy: the dtypes deit-infer reads, v1 and v2 headers
        for name, arr, ver in [("f32-v1", np.arange(24, dtype="<f4").reshape(1, 2, 3, 4), (1, 0)),
                               ("u8-v1", np.arange(16, dtype="u1").reshape(4, 4), (1, 0)),
                               ("bool-v1", np.array([0, 1] * 8, dtype=bool), (1, 0)),
                               ("f32-v2", np.ones((3,), dtype="<f4"), (2, 0)),
                               ("f32-0d", np.array(1.5, dtype="<f4"), (1, 0))]:
            b = io.BytesIO()
            np.lib.format.write_array(b, arr, version=ver)
            put("npy", name, b.getvalue())
        # preprocess: geometry bytes (see fuzz-preprocess.c) then pixels, one per format
        rng = np.random.default_rng(1)
        for fmt in range(14):
            head = bytes([fmt, 17 + fmt, 9 + 2 * fmt, fmt * 37 % 256, fmt % 5, 3, 0,
                          (fmt * 41) % 256, 20, 12, 16, 16, fmt % 2, fmt % 5, 4, 6, 30, 20])
            put("preprocess", "fmt%02d" % fmt, head + rng.integers(0, 256, 200, dtype=np.uint8).tobytes())
    finally:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
