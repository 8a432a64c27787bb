#!/usr/bin/python3
"""gen_core_fixtures.py - reference checkpoints, inputs and PyTorch outputs for the core tests.

Usage: gen_core_fixtures.py OUTDIR [--only NAME[,NAME...]] [--list] [--stamp FILE]

Writes one Hugging Face checkpoint directory per fixture into OUTDIR/NAME:
  config.json, preprocessor_config.json   real key names (deit_torch.make_config)
  model.safetensors | pytorch_model.bin   seeded random weights (F32, F16 or BF16)
  pixel_values.npy                        float32 [B, C, H, W], seeded normal
  mask.npy                                bool [B, N] (masked image modeling only)
  <output>.npy                            float32 PyTorch output (transformers numerics)
  <output>.f64.npy                        the same model run in float64, to measure how far
                                          float32 PyTorch itself is from the exact result
  fixture.json                            what the fixture covers and which outputs it has
and OUTDIR/manifest.json listing all fixtures. For F16 / BF16 files the expected outputs
come from the model whose weights were rounded to that type and upcast again, which is
what a correct loader computes, so the comparison stays as tight as for F32.

Everything is regenerated from seeds on every build (meson custom_target): the C engine is
always compared with PyTorch, never with stale files. Nothing here is committed but this
script. If torch is not installed the manifest says so and the tests skip (exit code 77).
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LABELS_10 = ["tench, Tinca tinca", "goldfish", "great white shark", "tiger shark", "hammerhead",
             "electric ray", "stingray", "cock", "hen", "ostrich"]
LABELS_MISC = ["apple", "banana", "caf\u00e9 au lait", "durian", "elderberry", "fig \"quoted\"", "grape",
               "honeydew", "ice plant", "jackfruit", "kiwi", "lemon"]

TEACHER = "DeiTForImageClassificationWithTeacher"
DEIT_CLS = "DeiTForImageClassification"
DEIT_BASE = "DeiTModel"
DEIT_MIM = "DeiTForMaskedImageModeling"
VIT_CLS = "ViTForImageClassification"
VIT_BASE = "ViTModel"
VIT_MIM = "ViTForMaskedImageModeling"


def _small(**kw):
    d = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48, image_size=64)
    d.update(kw)
    return d


# name: (architecture, config overrides, batch, dtype, fmt, labels, what it covers)
# Dimensions are small (D 32..64, 2-3 layers) so that all fixtures generate in seconds;
# head_dim differs between fixtures (8, 16, 20, 32) and intermediate_size is never 4*D,
# so swapped dimensions show up as shape errors or wrong numbers.
FIXTURES = {
    "deit-teacher": (TEACHER, dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                   intermediate_size=96, image_size=224, omit=("qkv_bias", "encoder_stride")),
                     2, "F32", "safetensors", LABELS_10,
                     "DeiTForImageClassificationWithTeacher head average, 224 px, config without "
                     "qkv_bias/encoder_stride keys like the 2021 facebook configs, batch 2"),
    "deit-classifier": (DEIT_CLS, _small(hidden_size=48, num_attention_heads=3, intermediate_size=80),
                        1, "F32", "safetensors", LABELS_MISC[:7],
                        "DeiTForImageClassification (classifier on token 0, distillation token ignored)"),
    "deit-model-pooler": (DEIT_BASE, _small(hidden_size=40, num_attention_heads=2, intermediate_size=72,
                                            image_size=96),
                          2, "F32", "safetensors", None,
                          "bare DeiTModel: last_hidden_state and pooler_output (dense + tanh on token 0)"),
    "deit-mim": (DEIT_MIM, _small(), 2, "F32", "safetensors", None,
                 "DeiTForMaskedImageModeling with a random bool mask, v5 token selection seq[:, 2:]"),
    "vit-classifier": (VIT_CLS, dict(hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                                     intermediate_size=128, image_size=224),
                       1, "F32", "safetensors", LABELS_MISC,
                       "ViTForImageClassification (one prefix token), 224 px, 3 layers"),
    "vit-model-pooler": (VIT_BASE, _small(num_attention_heads=4, image_size=48), 1, "F32", "safetensors", None,
                         "bare ViTModel with pooler, head_dim 8"),
    "vit-mim": (VIT_MIM, _small(), 1, "F32", "safetensors", None,
                "ViTForMaskedImageModeling, token selection seq[:, 1:]"),
    "vit-mim-stride8": (VIT_MIM, _small(encoder_stride=8), 2, "F32", "safetensors", None,
                        "ViTForMaskedImageModeling with encoder_stride 8 != patch_size 16, no mask "
                        "(transformers refuses bool_masked_pos there): a 32 x 32 reconstruction of 64 px"),
    "deit-384": (TEACHER, dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=3, intermediate_size=96,
                               image_size=384),
                 1, "F32", "safetensors", LABELS_10[:5],
                 "384-pixel image size (576 patches, 578 tokens)"),
    "deit-eps1e-6": (TEACHER, _small(layer_norm_eps=1e-6), 1, "F32", "safetensors", LABELS_10,
                     "layer_norm_eps 1e-6 (timm's value)"),
    "deit-eps-large": (DEIT_CLS, _small(layer_norm_eps=0.25), 1, "F32", "safetensors", LABELS_10,
                       "layer_norm_eps 0.25: large enough that an engine ignoring the config's eps fails"),
    "deit-f16": (TEACHER, _small(), 1, "F16", "safetensors", LABELS_10,
                 "F16 weight file (expected output from the f16-rounded weights)"),
    "deit-bf16": (TEACHER, _small(), 1, "BF16", "safetensors", LABELS_10,
                  "BF16 weight file (expected output from the bf16-rounded weights)"),
    "deit-bin": (TEACHER, _small(), 1, "F32", "bin", LABELS_10,
                 "pytorch_model.bin (torch.save zip) instead of model.safetensors"),
    "vit-bin-f16": (VIT_CLS, _small(), 2, "F16", "bin", LABELS_10,
                     "pytorch_model.bin holding float16 tensors (torch.HalfStorage)"),
    "deit-batch5": (TEACHER, _small(image_size=48), 5, "F32", "safetensors", LABELS_10,
                    "batch of 5 images"),
    "deit-noqkvbias": (TEACHER, _small(qkv_bias=False), 1, "F32", "safetensors", LABELS_10,
                       "qkv_bias false (no query/key/value bias tensors)"),
    "deit-gelu-tanh": (TEACHER, _small(hidden_act="gelu_pytorch_tanh"), 1, "F32", "safetensors", LABELS_10,
                       "hidden_act gelu_pytorch_tanh"),
    "vit-gelu-new": (VIT_CLS, _small(hidden_act="gelu_new"), 1, "F32", "safetensors", LABELS_10,
                     "hidden_act gelu_new"),
    "deit-nonsquare": (TEACHER, _small(image_size=[224, 160]), 2, "F32", "safetensors", LABELS_10,
                       "non-square image_size [224, 160] (14 x 10 patch grid)"),
    "deit-size-not-multiple": (TEACHER, _small(image_size=[70, 57]), 2, "F32", "safetensors", LABELS_10,
                               "image_size [70, 57], not a multiple of patch_size 16: a 4 x 3 grid, the "
                               "convolution never reads the last 6 rows and 9 columns (transformers runs it)"),
    "deit-patch8": (DEIT_CLS, _small(patch_size=8, encoder_stride=8), 1, "F32", "safetensors", LABELS_10,
                    "patch_size 8 (64 patches at 64 px)"),
    "deit-gelu-fast": (DEIT_CLS, _small(hidden_act="gelu_fast"), 1, "F32", "safetensors", LABELS_10,
                       "hidden_act gelu_fast"),
    "deit-quick-gelu": (TEACHER, _small(hidden_act="quick_gelu"), 1, "F32", "safetensors", LABELS_10,
                        "hidden_act quick_gelu (x * sigmoid(1.702 x), CLIP-style fine-tunes)"),
    "vit-relu": (VIT_CLS, _small(hidden_act="relu"), 2, "F32", "safetensors", LABELS_10,
                 "hidden_act relu"),
    "deit-silu": (DEIT_CLS, _small(hidden_act="silu"), 1, "F32", "safetensors", LABELS_10,
                  "hidden_act silu"),
    "vit-mish": (VIT_CLS, _small(hidden_act="mish", image_size=32), 1, "F32", "safetensors", LABELS_10,
                 "hidden_act mish (x * tanh(softplus(x)))"),
    "deit-laplace": (DEIT_CLS, _small(hidden_act="laplace", image_size=32), 1, "F32", "safetensors", LABELS_10,
                     "hidden_act laplace (MEGA's erf-based activation)"),
    "deit-pooler-size": (DEIT_BASE, _small(pooler_output_size=24, image_size=32), 2, "F32", "safetensors", None,
                         "DeiTModel with pooler_output_size 24 != hidden_size (v5 config key)"),
    "vit-model-pooler-relu": (VIT_BASE, _small(pooler_act="relu", image_size=32), 2, "F32", "safetensors", None,
                              "ViTModel with pooler_act relu (ViTPooler: ACT2FN[config.pooler_act], not always "
                              "tanh)"),
    "vit-model-nopooler": (VIT_BASE, _small(add_pooling_layer=False), 1, "F32", "safetensors", None,
                           "ViTModel saved without pooler weights (add_pooling_layer=False): "
                           "last_hidden_state only"),
    "vit-1layer-noqkvbias": (VIT_CLS, _small(num_hidden_layers=1, qkv_bias=False, image_size=48), 1, "F32",
                             "safetensors", LABELS_10,
                             "one layer (the pruned last layer is the only one), no q/k/v bias: test-prune-last"),
    "deit-multilabel": (DEIT_CLS, _small(problem_type="multi_label_classification"), 2, "F32", "safetensors",
                        LABELS_10[:6],
                        "problem_type multi_label_classification: scores are sigmoid(logits), as transformers' "
                        "image-classification pipeline gives them"),
    "vit-one-output": (VIT_CLS, _small(problem_type="regression", image_size=32), 2, "F32", "safetensors",
                       ["aesthetic score"],
                       "one-output head (a regression fine-tune): the pipeline's score is sigmoid(logit)"),
    "deit-tiny": (TEACHER, dict(hidden_size=192, num_hidden_layers=12, num_attention_heads=3,
                                intermediate_size=768, image_size=224, omit=("qkv_bias", "encoder_stride")),
                  1, "F32", "safetensors", ["imagenet class %d" % i for i in range(1000)],
                  "the true DeiT-tiny dimensions: 192 wide, 3 heads, 12 layers, 224 px, 1000 labels"),
}



def _act_sensitive_init(name, mean, std):
    """For the GELU-variant fixtures: erf GELU and its tanh approximations differ by at
    most ~5e-4, which the final LayerNorm shrinks to ~2e-4 at the logits with the default
    init - too close to the 1e-4 tolerance to catch an engine using the wrong one. Shift
    the MLP pre-activations to around -2.5 (where the approximation error is large
    relative to GELU's value) and make the MLP dominate the residual stream: the variants
    then differ by ~5e-3 at the logits."""
    if name.endswith("intermediate.dense.bias"):
        return -2.5, 0.5
    if name.endswith(".output.dense.weight") and ".attention." not in name:
        return mean, std * 10.0
    return mean, std


INIT = {"deit-gelu-tanh": _act_sensitive_init, "vit-gelu-new": _act_sensitive_init,
        "deit-gelu-fast": _act_sensitive_init}

# Seeds are fixed per fixture (not per run) so failures reproduce.
SEEDS = {name: 1000 + i for i, name in enumerate(FIXTURES)}


def write_fixture(directory, config, seed=0, batch=1, dtype="F32", fmt="safetensors", description="",
                  preprocessor=None, init=None):
    """Write a complete fixture directory for `config` (a config.json dict) and return its
    fixture.json dict. Reusable by other test suites (the plugin tests)."""
    import numpy as np
    import torch
    import deit_torch

    model = deit_torch.build_model(config, seed, init)
    deit_torch.write_checkpoint(directory, model, config, dtype=dtype, fmt=fmt, preprocessor=preprocessor)
    # the engine upcasts F16/BF16 weights exactly, so the reference is the rounded model
    deit_torch.round_weights(model, dtype)

    gen = torch.Generator().manual_seed(seed + 7)
    h, w = deit_torch.image_hw(config)
    c = config.get("num_channels", 3)
    pixel_values = torch.randn((batch, c, h, w), generator=gen, dtype=torch.float32)
    np.save(os.path.join(directory, "pixel_values.npy"), pixel_values.numpy())

    mask = None
    arch = config["architectures"][0]
    if deit_torch.ARCHITECTURES[arch][2] == "mim" and config.get("encoder_stride", 16) == config.get("patch_size", 16):
        p = config.get("patch_size", 16)
        n = (h // p) * (w // p)
        mask = torch.rand((batch, n), generator=gen) < 0.5
        mask[:, 0] = True    # at least one masked and one visible patch per image
        mask[:, -1] = False
        np.save(os.path.join(directory, "mask.npy"), mask.numpy())

    out32 = deit_torch.run(model, pixel_values, mask)
    out64 = deit_torch.run_float64(model, pixel_values, mask)
    outputs = {}
    for name in deit_torch.output_names(config):
        a32 = out32[name].numpy().astype(np.float32)
        a64 = out64[name].numpy().astype(np.float64)
        np.save(os.path.join(directory, name + ".npy"), a32)
        np.save(os.path.join(directory, name + ".f64.npy"), a64)
        outputs[name] = {"shape": list(a32.shape), "max_abs": float(np.abs(a32).max()),
                         "torch_f32_vs_f64_max_abs": float(np.abs(a32.astype(np.float64) - a64).max())}
    info = {
        "architecture": arch,
        "description": description,
        "batch": batch,
        "dtype": dtype,
        "weights": "model.safetensors" if fmt == "safetensors" else "pytorch_model.bin",
        "seed": seed,
        "mask": mask is not None,
        "outputs": outputs,
        "torch_version": torch.__version__,
    }
    with open(os.path.join(directory, "fixture.json"), "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    return info


def fixture_config(name):
    import deit_torch
    arch, overrides, _, _, _, labels, _ = FIXTURES[name]
    overrides = dict(overrides)
    omit = overrides.pop("omit", ())
    return deit_torch.make_config(arch, labels=labels, name="gst-deit-test/" + name, omit=omit, **overrides)


def generate(outdir, names=None):
    os.makedirs(outdir, exist_ok=True)
    manifest = {"torch": True, "fixtures": {}}
    for name in names or FIXTURES:
        arch, _, batch, dtype, fmt, _, desc = FIXTURES[name]
        t0 = time.time()
        info = write_fixture(os.path.join(outdir, name), fixture_config(name), SEEDS[name], batch, dtype, fmt, desc,
                             init=INIT.get(name))
        manifest["fixtures"][name] = info
        print("%-18s %-40s %.2fs" % (name, arch, time.time() - t0))
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--only", help="comma-separated fixture names")
    ap.add_argument("--list", action="store_true", help="print the fixture names and exit")
    ap.add_argument("--stamp", help="file to touch when done (build systems)")
    args = ap.parse_args()
    if args.list:
        print("\n".join(FIXTURES))
        return 0
    if not args.outdir:
        ap.error("OUTDIR is required")
    names = args.only.split(",") if args.only else None
    for n in names or ():
        if n not in FIXTURES:
            ap.error("unknown fixture %r (see --list)" % n)
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        # no PyTorch: record it so the tests skip with exit code 77 instead of failing
        # (in CI, CI=true: an error, see reference_deps.py)
        import reference_deps
        reference_deps.missing("gen_core_fixtures.py", e)
        os.makedirs(args.outdir, exist_ok=True)
        manifest = {"torch": False, "reason": str(e), "fixtures": {}}
    else:
        torch.set_num_threads(1)
        manifest = generate(args.outdir, names)
    with open(os.path.join(args.outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
