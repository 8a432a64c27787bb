#!/usr/bin/python3
"""export_onnx.py - ONNX export of a checkpoint directory with torch.onnx.export, for the
ONNX Runtime peer in bench-peers.py.

    /usr/bin/python3 bench/export_onnx.py CHECKPOINT_DIR OUT.onnx [--opset 17]

The module is tests/reference/deit_torch.py (plain PyTorch, transformers' module and
parameter names) with the checkpoint's own weights (load_state_dict(strict=True) from
model.safetensors), so ours, PyTorch and ONNX Runtime compute the same model. Output:
"logits" (the averaged teacher logits for DeiTForImageClassificationWithTeacher), input
"pixel_values" [batch, C, H, W] with a dynamic batch axis. Opset 17 is the newest
torch 1.13 exports; every onnxruntime-node release since 1.13 supports it.
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import deit_torch  # noqa: E402
import safetensors_io  # noqa: E402


def load_module(ckpt_dir):
    """deit_torch module with the weights of ckpt_dir (config.json + model.safetensors)."""
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        config = json.load(f)
    model = deit_torch.Model(config)
    state = safetensors_io.load_file(os.path.join(ckpt_dir, "model.safetensors"))
    model.load_state_dict(state, strict=True)
    return model.eval(), config


class LogitsOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model(pixel_values)["logits"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()
    model, config = load_module(a.checkpoint)
    h, w = deit_torch.image_hw(config)
    x = torch.zeros(1, config.get("num_channels", 3), h, w)
    tmp = a.out + ".tmp"
    with torch.no_grad():
        torch.onnx.export(LogitsOnly(model), (x,), tmp, input_names=["pixel_values"], output_names=["logits"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=a.opset, do_constant_folding=True)
    os.replace(tmp, a.out)
    print("exported %s (opset %d, %.1f MB)" % (a.out, a.opset, os.path.getsize(a.out) / 1e6))


if __name__ == "__main__":
    main()
