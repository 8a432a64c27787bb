#!/usr/bin/python3
"""gen_plugin_fixtures.py - checkpoints and PyTorch + Pillow reference results for the
plugin tests (tests/plugin/test-deitclassify.c) and the pipelines/ script tests.

Writes into OUTDIR:
  model/            DeiTForImageClassificationWithTeacher, 32 px, patch 8, 10 labels,
                    classifier heads scaled x8 (see write_model)
                    ("class i, tabby \"cat\"": commas, spaces and quotes in labels),
                    DeiT-style preprocessor (bicubic resize to 36, center crop 32,
                    ImageNet mean/std), real Hugging Face key names, model.safetensors
  model-vit/        ViTForImageClassification, ViT-style preprocessor (bilinear resize
                    to 32, no crop, mean/std 0.5)
  model-base/       DeiTModel (no classification head)
  model-truncated/  model/ with model.safetensors cut in half
  model-badjson/    model/ with a config.json that is not JSON
  model-badcrop/    model/ with a preprocessor crop_size (48) that is not image_size (32)
  model-shortest/   model/ with a preprocessor size {"shortest_edge": 36} (aspect ratio
                    kept: a thin region is stretched to a very long side)
  model-1ch/        a DeiT classifier with num_channels 1 (frames are RGB)
  model-multilabel/ model/ with "problem_type": "multi_label_classification" (sigmoid
                    scores in expected.json)
  model-nan/        model/ with NaN for every value of cls_classifier.bias (damaged
                    weights: every logit is NaN)
  labels-latin1.txt 10 labels, line 5 in Latin-1 (not UTF-8)
  labels-good.txt   10 lines "file label i"; labels-short.txt 9 lines
  expected.json     {model: {photo: {"ids": top-5 ids, "scores": top-5 probabilities}}}
                    for the photos in IMAGES_DIR, computed with Pillow (transformers' PIL
                    path: tests/reference/pil_preprocess.py) and the plain-PyTorch model of
                    tests/reference/deit_torch.py; and {"crops": {model: {photo: [{"box":
                    [x, y, w, h], "clipped": [x, y, w, h], "ids", "scores"}]}}}: the same
                    for regions of the photos, as Pillow's Image.crop(clipped box) then the
                    processor (what inference-region=roi-list must compute)

Usage: gen_plugin_fixtures.py OUTDIR IMAGES_DIR [--stamp FILE]
"""

import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

try:
    import torch
    from PIL import Image
except ImportError as e:  # meson turns exit code 77 into "skipped" for the dependent tests
    import reference_deps  # in CI (CI=true) a missing reference is an error: exit 1
    reference_deps.missing("gen_plugin_fixtures.py", e)
    print("gen_plugin_fixtures.py: %s (needs python3-torch, python3-pil, python3-numpy)" % e)
    sys.exit(77)

import deit_torch  # noqa: E402
import pil_preprocess  # noqa: E402  (transformers' Pillow path, shared with tests/preprocess)

LABELS = ['class %d, tabby "cat"' % i for i in range(10)]
SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48,
             image_size=32, patch_size=8, encoder_stride=8)
PHOTOS = ["chelsea", "coffee", "astronaut"]
# Regions (x, y, w, h) of each photo for the roi-list tests: inside, touching an edge,
# partly outside (clipped), smaller than the model's 32 px input, elongated, the whole
# photo. The photos are 451x300, 600x400 and 512x512.
CROPS = {
    "chelsea": [(140, 40, 160, 150), (0, 0, 60, 45), (400, 250, 100, 100), (10, 120, 17, 13),
                (300, 20, 151, 40), (0, 0, 451, 300)],
    "coffee": [(200, 100, 200, 200), (550, 0, 80, 60), (0, 350, 31, 50), (33, 7, 250, 90)],
    "astronaut": [(175, 64, 97, 97), (0, 300, 512, 212), (480, 480, 64, 64), (250, 10, 3, 200)],
}
TOP_K = 5
HEAD_SCALE = 8.0


def top_k(logits, k):
    """softmax in float64 of the float32 logits, most probable first, ties to the lower id"""
    l = logits.double()
    p = torch.softmax(l, dim=-1)
    order = sorted(range(p.shape[0]), key=lambda i: (-float(p[i]), i))[:k]
    return order, [float(p[i]) for i in order]


def top_k_sigmoid(logits, k):
    """sigmoid in float64 (transformers' pipeline for multi-label models), highest first"""
    p = torch.sigmoid(logits.double())
    order = sorted(range(p.shape[0]), key=lambda i: (-float(p[i]), i))[:k]
    return order, [float(p[i]) for i in order]


def write_model(outdir, name, arch, seed, labels):
    cfg = deit_torch.make_config(arch, labels=labels, name="gst-deit-test/plugin-" + name, **SMALL)
    model = deit_torch.build_model(cfg, seed=seed)
    # Classifier heads x8: peaked probabilities (top-1 near 0.5 instead of 0.16), so that
    # a preprocessing error of one level on one pixel of the 32x32 input moves a
    # probability by ~3e-4, above the end-to-end test's 1e-4 tolerance.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "classifier" in pname:
                p.mul_(HEAD_SCALE)
    pp = deit_torch.make_preprocessor_config(cfg)
    deit_torch.write_checkpoint(os.path.join(outdir, name), model, cfg, preprocessor=pp)
    return model, cfg, pp


def main():
    args = sys.argv[1:]
    stamp = None
    if "--stamp" in args:
        i = args.index("--stamp")
        stamp = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__)
        return 2
    outdir, images = args
    os.makedirs(outdir, exist_ok=True)

    expected = {}
    for name, arch, seed in [("model", "DeiTForImageClassificationWithTeacher", 4242),
                             ("model-vit", "ViTForImageClassification", 4343)]:
        model, cfg, pp = write_model(outdir, name, arch, seed, LABELS)
        expected[name] = {}
        for photo in PHOTOS:
            path = os.path.join(images, photo + ".png")
            if not os.path.exists(path):  # no sample photos: no end-to-end references
                print("gen_plugin_fixtures.py: %s not found, no reference for it" % path)
                continue
            img = Image.open(path).convert("RGB")
            x = pil_preprocess.preprocess(img, pp, cfg["model_type"])
            out = deit_torch.run(model, x[None])
            logits = out["logits"][0]
            ids, scores = top_k(logits, TOP_K)
            expected[name][photo] = {"ids": ids, "scores": scores}
            if name == "model":  # model-multilabel: the same weights, sigmoid scores
                ids, scores = top_k_sigmoid(logits, TOP_K)
                expected.setdefault("model-multilabel", {})[photo] = {"ids": ids, "scores": scores}
            crops = expected.setdefault("crops", {}).setdefault(name, {}).setdefault(photo, [])
            for (x, y, w, h) in CROPS[photo]:
                x1, y1 = min(x + w, img.width), min(y + h, img.height)
                box = (x, y, x1 - x, y1 - y)
                xc = pil_preprocess.preprocess(img.crop((x, y, x1, y1)), pp, cfg["model_type"])
                ids, scores = top_k(deit_torch.run(model, xc[None])["logits"][0], TOP_K)
                crops.append({"box": [x, y, w, h], "clipped": list(box), "ids": ids, "scores": scores})

    write_model(outdir, "model-base", "DeiTModel", 4444, None)

    trunc = os.path.join(outdir, "model-truncated")
    shutil.rmtree(trunc, ignore_errors=True)
    shutil.copytree(os.path.join(outdir, "model"), trunc)
    st = os.path.join(trunc, "model.safetensors")
    size = os.path.getsize(st)
    with open(st, "r+b") as f:
        f.truncate(size // 2)

    bad = os.path.join(outdir, "model-badjson")
    shutil.rmtree(bad, ignore_errors=True)
    shutil.copytree(os.path.join(outdir, "model"), bad)
    with open(os.path.join(bad, "config.json"), "w") as f:
        f.write('{ "architectures": ["DeiTForImageClassificationWithTeacher"], oops\n')

    # damaged weights: a loadable checkpoint whose logits are all NaN
    nan = os.path.join(outdir, "model-nan")
    shutil.rmtree(nan, ignore_errors=True)
    shutil.copytree(os.path.join(outdir, "model"), nan)
    with open(os.path.join(nan, "model.safetensors"), "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        t = json.loads(f.read(n))["cls_classifier.bias"]
        assert t["dtype"] == "F32"
        b, e = t["data_offsets"]
        f.seek(8 + n + b)
        f.write(struct.pack("<f", float("nan")) * ((e - b) // 4))

    # a multi-label fine-tune: model/ whose config.json says problem_type
    # multi_label_classification, so that transformers' pipeline scores it with a sigmoid
    ml = os.path.join(outdir, "model-multilabel")
    shutil.rmtree(ml, ignore_errors=True)
    shutil.copytree(os.path.join(outdir, "model"), ml)
    with open(os.path.join(ml, "config.json")) as f:
        mlc = json.load(f)
    mlc["problem_type"] = "multi_label_classification"
    mlc["_name_or_path"] = "gst-deit-test/plugin-model-multilabel"
    with open(os.path.join(ml, "config.json"), "w") as f:
        json.dump(mlc, f, indent=2)

    # preprocessor_config.json whose crop (48) is not the model's image_size (32)
    badcrop = os.path.join(outdir, "model-badcrop")
    shutil.rmtree(badcrop, ignore_errors=True)
    shutil.copytree(os.path.join(outdir, "model"), badcrop)
    with open(os.path.join(badcrop, "preprocessor_config.json")) as f:
        ppc = json.load(f)
    ppc["crop_size"] = {"height": 48, "width": 48}
    with open(os.path.join(badcrop, "preprocessor_config.json"), "w") as f:
        json.dump(ppc, f, indent=2)

    # preprocessor_config.json resizing the shortest edge to 36 (then the crop to 32)
    shortest = os.path.join(outdir, "model-shortest")
    shutil.rmtree(shortest, ignore_errors=True)
    shutil.copytree(os.path.join(outdir, "model"), shortest)
    with open(os.path.join(shortest, "preprocessor_config.json")) as f:
        ppc = json.load(f)
    ppc["size"] = {"shortest_edge": 36}
    with open(os.path.join(shortest, "preprocessor_config.json"), "w") as f:
        json.dump(ppc, f, indent=2)

    # a one-channel (grey) model: loads and runs on tensors, but frames are RGB
    cfg1 = deit_torch.make_config("DeiTForImageClassificationWithTeacher", labels=LABELS,
                                  name="gst-deit-test/plugin-model-1ch",
                                  **dict(SMALL, num_channels=1))
    deit_torch.write_checkpoint(os.path.join(outdir, "model-1ch"),
                                deit_torch.build_model(cfg1, seed=4545), cfg1,
                                preprocessor=deit_torch.make_preprocessor_config(cfg1))

    with open(os.path.join(outdir, "labels-latin1.txt"), "wb") as f:
        f.write(b"".join(b"label %d\n" % i for i in range(4)) + b"caf\xe9\n" +
                b"".join(b"label %d\n" % i for i in range(5, 10)))
    with open(os.path.join(outdir, "labels-good.txt"), "w") as f:
        f.write("".join("file label %d\n" % i for i in range(10)))
    with open(os.path.join(outdir, "labels-short.txt"), "w") as f:
        f.write("".join("file label %d\n" % i for i in range(9)))

    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    if stamp:
        with open(stamp, "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
