"""deit_torch.py - plain-PyTorch reference of transformers' DeiT / ViT models (inference).

A faithful re-implementation of the modules in huggingface/transformers
src/transformers/models/vit/modeling_vit.py and models/deit/modular_deit.py (v5), written
without transformers so that the tests run with Debian's python3-torch alone. Module
attribute names mirror transformers exactly, so `model.state_dict()` has the same keys as
the released checkpoints (deit.embeddings.cls_token,
deit.encoder.layer.0.attention.attention.query.weight, cls_classifier.weight,
pooler.dense.weight, decoder.0.weight, ...).

Numerics follow transformers' eager path:
  - patch embedding: Conv2d(C -> D, kernel = stride = patch_size), flatten(2).transpose(1, 2)
  - mask tokens replace masked patch vectors before the prefix tokens and position embeddings
  - token order [CLS, (distillation), patches...] + position_embeddings
  - pre-norm layers: LayerNorm(eps = config.layer_norm_eps), q/k/v Linear, scores =
    matmul(q, k^T) * head_dim**-0.5, softmax in float32, context, output dense, residual,
    LayerNorm, intermediate dense + ACT2FN[hidden_act], output dense, residual
  - final LayerNorm; pooler = tanh(Linear(seq[:, 0])); heads on token 0 (and 1 for the
    teacher, averaged); MIM: seq[:, 2:] (DeiT, v5 token selection) or seq[:, 1:] (ViT),
    1x1 Conv2d + PixelShuffle(encoder_stride).

Public API (used by gen_core_fixtures.py and the plugin tests):
  make_config(architecture, **overrides) -> dict       config.json contents
  make_preprocessor_config(config, **overrides) -> dict preprocessor_config.json contents
  build_model(config, seed) -> torch module (eval mode, seeded non-trivial random weights)
  round_weights(model, dtype) -> model                  weights rounded to F16/BF16, kept float32
  run(model, pixel_values, mask=None) -> dict of output name -> tensor
  run_float64(model, pixel_values, mask=None) -> dict   the same in float64 (exact-ish reference)
  write_checkpoint(dir, model, config, dtype='F32', fmt='safetensors', preprocessor=None)
  output_names(config) -> list of the outputs run() returns for this architecture
  load_checkpoint(dir, weights=None) -> (model, config)  a downloaded Hub checkpoint, float32

As a script, it runs a checkpoint directory on a pixel_values .npy file (the PyTorch side of
a deit-infer comparison on a machine without transformers):
  /usr/bin/python3 deit_torch.py --model DIR --input pixel_values.npy --output ref.npy
"""

import copy
import json
import math
import os

import torch
from torch import nn

import safetensors_io

ARCHITECTURES = {
    # architecture name: (model_type, base attribute prefix, head kind)
    "DeiTForImageClassificationWithTeacher": ("deit", "deit", "teacher"),
    "DeiTForImageClassification": ("deit", "deit", "classifier"),
    "DeiTModel": ("deit", None, "base"),
    "DeiTForMaskedImageModeling": ("deit", "deit", "mim"),
    "ViTForImageClassification": ("vit", "vit", "classifier"),
    "ViTModel": ("vit", None, "base"),
    "ViTForMaskedImageModeling": ("vit", "vit", "mim"),
}

# transformers' DeiTConfig / ViTConfig defaults (configuration_deit.py, configuration_vit.py)
CONFIG_DEFAULTS = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
    "qkv_bias": True,
    "encoder_stride": 16,
}


def _cfg(config, key):
    if key in config:
        return config[key]
    return CONFIG_DEFAULTS[key]


def num_labels(config):
    """transformers: num_labels = len(id2label); PretrainedConfig defaults to 2 labels."""
    if "id2label" in config:
        return len(config["id2label"])
    return config.get("num_labels", 2)


def image_hw(config):
    s = _cfg(config, "image_size")
    if isinstance(s, (list, tuple)):
        return int(s[0]), int(s[1])
    return int(s), int(s)


def make_config(architecture, labels=None, name=None, omit=(), **overrides):
    """config.json for `architecture` with the real key names.

    labels: list of label names (id2label / label2id are written for classification heads).
    omit: keys to leave out (transformers then uses its defaults; the 2021 facebook configs
    have no qkv_bias / encoder_stride keys, for example)."""
    model_type = ARCHITECTURES[architecture][0]
    cfg = {
        "_name_or_path": name or "gst-deit-test/%s" % architecture,
        "architectures": [architecture],
        "model_type": model_type,
    }
    for k, v in CONFIG_DEFAULTS.items():
        cfg[k] = v
    cfg.update(overrides)
    if labels is not None:
        cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
        cfg["label2id"] = {l: i for i, l in enumerate(labels)}
    cfg.setdefault("torch_dtype", "float32")
    cfg.setdefault("transformers_version", "4.6.0.dev0")
    for k in omit:
        cfg.pop(k, None)
    return cfg


def make_preprocessor_config(config, **overrides):
    """preprocessor_config.json like the released checkpoints: DeiT gets the distilled
    checkpoints' bicubic resize to 256/224 of the crop then a center crop to the model's
    image size; ViT gets the non-distilled facebook/deit-*-patch16-224 file (plain resize)."""
    h, w = image_hw(config)
    if config.get("model_type") == "vit":
        pp = {
            "do_normalize": True,
            "do_resize": True,
            "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5],
            "size": h if h == w else {"height": h, "width": w},
        }
    else:
        rh, rw = int(256 / 224 * h), int(256 / 224 * w)
        pp = {
            "crop_size": h if h == w else {"height": h, "width": w},
            "do_center_crop": True,
            "do_normalize": True,
            "do_resize": True,
            "feature_extractor_type": "DeiTFeatureExtractor",
            "image_mean": [0.485, 0.456, 0.406],
            "image_std": [0.229, 0.224, 0.225],
            "resample": 3,
            "size": rh if h == w else {"height": rh, "width": rw},
        }
    pp.update(overrides)
    return pp


# ------------------------------------------------------------------------------------
# Activations (transformers activations.py ACT2FN)


def _gelu_new(x):
    # NewGELUActivation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def _gelu_fast(x):
    # FastGELUActivation
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


ACT2FN = {
    "gelu": lambda x: nn.functional.gelu(x),
    "gelu_python": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "gelu_new": _gelu_new,
    "gelu_pytorch_tanh": lambda x: nn.functional.gelu(x, approximate="tanh"),
    "gelu_fast": _gelu_fast,
    "gelu_accurate": _gelu_new,  # AccurateGELUActivation: the same formula, sqrt(2/pi) precomputed
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),  # QuickGELUActivation
    "relu": nn.functional.relu,
    "silu": nn.functional.silu,
    "swish": nn.functional.silu,
    "gelu_10": lambda x: torch.clip(nn.functional.gelu(x), -10, 10),  # ClippedGELUActivation
    "relu6": nn.functional.relu6,
    "relu2": lambda x: torch.square(nn.functional.relu(x)),  # ReLUSquaredActivation
    "leaky_relu": nn.functional.leaky_relu,  # nn.LeakyReLU(): slope 0.01
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "linear": lambda x: x,  # LinearActivation
    "mish": nn.functional.mish,
    # LaplaceActivation (mu 0.707107, sigma 0.282095)
    "laplace": lambda x: 0.5 * (1.0 + torch.erf((x - 0.707107).div(0.282095 * math.sqrt(2.0)))),
}


class _Act(nn.Module):
    def __init__(self, name):
        super().__init__()
        if name not in ACT2FN:
            raise ValueError("hidden_act %r not supported by the reference" % name)
        self.fn = ACT2FN[name]

    def forward(self, x):
        return self.fn(x)


# ------------------------------------------------------------------------------------
# Modules (names as in modeling_vit.py / modular_deit.py)


class PatchEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        p = _cfg(config, "patch_size")
        self.image_size = image_hw(config)
        self.num_patches = (self.image_size[1] // p) * (self.image_size[0] // p)
        self.num_channels = _cfg(config, "num_channels")
        self.projection = nn.Conv2d(self.num_channels, _cfg(config, "hidden_size"), kernel_size=p, stride=p)

    def forward(self, pixel_values):
        _, c, h, w = pixel_values.shape
        if c != self.num_channels:
            raise ValueError("expected %d channels, got %d" % (self.num_channels, c))
        if (h, w) != self.image_size:
            raise ValueError("Input image size (%d*%d) doesn't match model (%d*%d)." % (h, w, *self.image_size))
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class Embeddings(nn.Module):
    def __init__(self, config, distilled, use_mask_token):
        super().__init__()
        d = _cfg(config, "hidden_size")
        self.distilled = distilled
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        if distilled:
            self.distillation_token = nn.Parameter(torch.zeros(1, 1, d))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d)) if use_mask_token else None
        self.patch_embeddings = PatchEmbeddings(config)
        n = self.patch_embeddings.num_patches + (2 if distilled else 1)
        self.position_embeddings = nn.Parameter(torch.zeros(1, n, d))

    def forward(self, pixel_values, bool_masked_pos=None):
        emb = self.patch_embeddings(pixel_values)
        b, n, _ = emb.shape
        if bool_masked_pos is not None:
            mask_tokens = self.mask_token.expand(b, n, -1)
            mask = bool_masked_pos.unsqueeze(-1).type_as(mask_tokens)
            emb = emb * (1.0 - mask) + mask_tokens * mask
        prefix = [self.cls_token.expand(b, -1, -1)]
        if self.distilled:
            prefix.append(self.distillation_token.expand(b, -1, -1))
        emb = torch.cat(prefix + [emb], dim=1)
        return emb + self.position_embeddings


class SelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        d = _cfg(config, "hidden_size")
        self.num_heads = _cfg(config, "num_attention_heads")
        if d % self.num_heads:
            raise ValueError("hidden_size %d is not a multiple of num_attention_heads %d" % (d, self.num_heads))
        self.head_size = int(d / self.num_heads)
        bias = _cfg(config, "qkv_bias")
        self.query = nn.Linear(d, d, bias=bias)
        self.key = nn.Linear(d, d, bias=bias)
        self.value = nn.Linear(d, d, bias=bias)
        self.scaling = self.head_size ** -0.5

    def _heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.head_size).permute(0, 2, 1, 3)

    def forward(self, x):
        k = self._heads(self.key(x))
        v = self._heads(self.value(x))
        q = self._heads(self.query(x))
        # eager_attention_forward: matmul then scale, softmax in float32 (float64 when the
        # whole model runs in float64 for the exact reference)
        w = torch.matmul(q, k.transpose(-1, -2)) * self.scaling
        sm_dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
        w = nn.functional.softmax(w, dim=-1, dtype=sm_dtype).to(q.dtype)
        ctx = torch.matmul(w, v).transpose(1, 2).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class SelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        d = _cfg(config, "hidden_size")
        self.dense = nn.Linear(d, d)

    def forward(self, x):
        return self.dense(x)


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = SelfAttention(config)
        self.output = SelfOutput(config)

    def forward(self, x):
        return self.output(self.attention(x))


class Intermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(_cfg(config, "hidden_size"), _cfg(config, "intermediate_size"))
        self.intermediate_act_fn = _Act(_cfg(config, "hidden_act"))

    def forward(self, x):
        return self.intermediate_act_fn(self.dense(x))


class Output(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(_cfg(config, "intermediate_size"), _cfg(config, "hidden_size"))

    def forward(self, x, residual):
        return self.dense(x) + residual


class Layer(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, eps = _cfg(config, "hidden_size"), _cfg(config, "layer_norm_eps")
        self.attention = Attention(config)
        self.intermediate = Intermediate(config)
        self.output = Output(config)
        self.layernorm_before = nn.LayerNorm(d, eps=eps)
        self.layernorm_after = nn.LayerNorm(d, eps=eps)

    def forward(self, h):
        h = self.attention(self.layernorm_before(h)) + h
        return self.output(self.intermediate(self.layernorm_after(h)), h)


class Encoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([Layer(config) for _ in range(_cfg(config, "num_hidden_layers"))])

    def forward(self, h):
        for layer in self.layer:
            h = layer(h)
        return h


class Pooler(nn.Module):
    def __init__(self, config):
        super().__init__()
        d = _cfg(config, "hidden_size")
        out = config.get("pooler_output_size") or d
        self.dense = nn.Linear(d, out)
        # ViTPooler / DeiTPooler: ACT2FN[config.pooler_act], "tanh" by default
        self.activation = _Act(config.get("pooler_act", "tanh"))

    def forward(self, seq):
        return self.activation(self.dense(seq[:, 0]))


class BaseModel(nn.Module):
    """DeiTModel / ViTModel."""

    def __init__(self, config, distilled, add_pooling_layer=True, use_mask_token=False):
        super().__init__()
        self.embeddings = Embeddings(config, distilled, use_mask_token)
        self.encoder = Encoder(config)
        self.layernorm = nn.LayerNorm(_cfg(config, "hidden_size"), eps=_cfg(config, "layer_norm_eps"))
        self.pooler = Pooler(config) if add_pooling_layer else None

    def forward(self, pixel_values, bool_masked_pos=None):
        return _base_forward(self, pixel_values, bool_masked_pos)


def _base_forward(m, pixel_values, bool_masked_pos):
    # ViTModel.forward: cast the input to the weights' dtype, embeddings, encoder, final
    # LayerNorm, pooler on the normalised sequence
    pixel_values = pixel_values.to(m.embeddings.patch_embeddings.projection.weight.dtype)
    seq = m.layernorm(m.encoder(m.embeddings(pixel_values, bool_masked_pos)))
    out = {"last_hidden_state": seq}
    if m.pooler is not None:
        out["pooler_output"] = m.pooler(seq)
    return out


class Model(nn.Module):
    """One of the architectures in ARCHITECTURES; the base model lives under the attribute
    named by the checkpoint prefix ("deit" / "vit"), or is the module itself for the bare
    DeiTModel / ViTModel (whose checkpoints have no prefix)."""

    def __init__(self, config):
        super().__init__()
        arch = config["architectures"][0]
        model_type, prefix, kind = ARCHITECTURES[arch]
        self.kind = kind
        self.prefix = prefix
        self.distilled = model_type == "deit"
        self.config = config
        d = _cfg(config, "hidden_size")
        k = num_labels(config)
        if kind == "base":
            # the bare model's parameters sit at the top level of the state dict
            base = BaseModel(config, self.distilled, add_pooling_layer=config.get("add_pooling_layer", True))
            self.embeddings, self.encoder, self.layernorm, self.pooler = (
                base.embeddings, base.encoder, base.layernorm, base.pooler)
            return
        base = BaseModel(config, self.distilled, add_pooling_layer=False, use_mask_token=(kind == "mim"))
        self.add_module(prefix, base)
        if kind == "teacher":
            self.cls_classifier = nn.Linear(d, k) if k > 0 else nn.Identity()
            self.distillation_classifier = nn.Linear(d, k) if k > 0 else nn.Identity()
        elif kind == "classifier":
            self.classifier = nn.Linear(d, k) if k > 0 else nn.Identity()
        elif kind == "mim":
            stride = _cfg(config, "encoder_stride")
            self.decoder = nn.Sequential(
                nn.Conv2d(d, stride ** 2 * _cfg(config, "num_channels"), kernel_size=1),
                nn.PixelShuffle(stride))

    def forward(self, pixel_values, bool_masked_pos=None):
        if self.kind == "base":
            return _base_forward(self, pixel_values, bool_masked_pos)
        base = getattr(self, self.prefix)
        seq = base(pixel_values, bool_masked_pos if self.kind == "mim" else None)["last_hidden_state"]
        if self.kind == "teacher":
            cls_logits = self.cls_classifier(seq[:, 0, :])
            dist_logits = self.distillation_classifier(seq[:, 1, :])
            return {"logits": (cls_logits + dist_logits) / 2, "cls_logits": cls_logits,
                    "distillation_logits": dist_logits}
        if self.kind == "classifier":
            return {"logits": self.classifier(seq[:, 0, :])}
        # masked image modeling: v5 keeps the patch tokens only (DeiT drops CLS and
        # distillation, ViT drops CLS); v4 DeiT used seq[:, 1:-1] (a bug)
        seq = seq[:, 2:] if self.distilled else seq[:, 1:]
        b, n, d = seq.shape
        h = w = int(n ** 0.5)
        if h * w != n:
            raise ValueError("masked image modeling needs a square patch grid (%d patches)" % n)
        seq = seq.permute(0, 2, 1).reshape(b, d, h, w)
        return {"reconstruction": self.decoder(seq)}


def output_names(config):
    kind = ARCHITECTURES[config["architectures"][0]][2]
    if kind == "teacher":
        return ["logits", "cls_logits", "distillation_logits"]
    if kind == "classifier":
        return ["logits"]
    if kind == "mim":
        return ["reconstruction"]
    if config.get("add_pooling_layer", True):
        return ["last_hidden_state", "pooler_output"]
    return ["last_hidden_state"]


# ------------------------------------------------------------------------------------
# Random weights


def _init_scale(name, shape):
    """(mean, std) of the seeded normal draw for one parameter. Chosen so every tensor
    visibly changes the outputs: linear/conv weights ~ 1/sqrt(fan_in) (attention scores and
    logits of order 1, so softmax is far from uniform), LayerNorm gamma around 1 with
    spread, non-zero biases, and prefix / mask / position tokens of order 0.5."""
    if name.endswith("layernorm_before.weight") or name.endswith("layernorm_after.weight") or \
            name.endswith("layernorm.weight"):
        return 1.0, 0.25
    if name.endswith(".bias"):
        return 0.0, 0.1
    if name.endswith("cls_token") or name.endswith("distillation_token") or name.endswith("mask_token"):
        return 0.0, 0.5
    if name.endswith("position_embeddings"):
        return 0.0, 0.5
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    return 0.0, 1.0 / math.sqrt(max(fan_in, 1))


def build_model(config, seed=0, init=None):
    """Model for config.json dict `config` with deterministic random float32 weights.
    init: optional function (name, mean, std) -> (mean, std) to change the distribution
    of some parameters (e.g. to make an activation's range matter more)."""
    torch.manual_seed(seed)  # nothing random inside the constructors, but be safe
    model = Model(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            mean, std = _init_scale(name, tuple(p.shape))
            if init is not None:
                mean, std = init(name, mean, std)
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * std + mean)
    return model.eval()


def round_weights(model, dtype):
    """Round every weight to dtype ('F32', 'F16', 'BF16') and back to float32, in place:
    the float32 model then computes exactly what a loader that upcasts F16/BF16 files
    computes."""
    tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(tdt).to(torch.float32))
    return model


def _as_tensor(x, dtype=None):
    if x is None:
        return None
    if not isinstance(x, torch.Tensor):
        x = torch.from_numpy(x)
    return x.to(dtype) if dtype is not None else x


def run(model, pixel_values, mask=None):
    """Float32 forward (transformers numerics). pixel_values [B, C, H, W] (tensor or numpy),
    mask [B, N] bool for masked image modeling. Returns {name: float32 tensor}."""
    with torch.no_grad():
        pv = _as_tensor(pixel_values, torch.float32)
        m = _as_tensor(mask, torch.bool)
        return {k: v.detach() for k, v in model(pv, m).items()}


def run_float64(model, pixel_values, mask=None):
    """The same forward on a float64 copy of the model (the float32 weights are exactly
    representable): how far float32 PyTorch is from the exact result."""
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        pv = _as_tensor(pixel_values, torch.float64)
        m = _as_tensor(mask, torch.bool)
        return {k: v.detach() for k, v in m64(pv, m).items()}


def write_checkpoint(directory, model, config, dtype="F32", fmt="safetensors", preprocessor=None):
    """Write a Hugging Face checkpoint directory: config.json, preprocessor_config.json
    (make_preprocessor_config(config) unless given; False to skip) and model.safetensors
    (tensors in `dtype`) or pytorch_model.bin (torch.save of the state dict in `dtype`)."""
    os.makedirs(directory, exist_ok=True)
    cfg = dict(config)
    # add_pooling_layer is a constructor argument in transformers, not a config field
    cfg.pop("add_pooling_layer", None)
    cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    if preprocessor is not False:
        pp = preprocessor if preprocessor is not None else make_preprocessor_config(config)
        with open(os.path.join(directory, "preprocessor_config.json"), "w") as f:
            json.dump(pp, f, indent=2, sort_keys=True)
            f.write("\n")
    tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    sd = {k: v.detach().to(tdt).contiguous() for k, v in model.state_dict().items()}
    if fmt == "safetensors":
        safetensors_io.save_file(sd, os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})
    elif fmt == "bin":
        torch.save(sd, os.path.join(directory, "pytorch_model.bin"))
    else:
        raise ValueError("fmt must be 'safetensors' or 'bin'")


def load_checkpoint(directory, weights=None):
    """(model, config) of a Hugging Face checkpoint directory as downloaded: config.json
    plus model.safetensors (else pytorch_model.bin, or the file `weights`). Weights are
    upcast to float32; missing or unexpected tensors raise (strict loading)."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    if "architectures" not in config:
        raise ValueError("config.json has no 'architectures'")
    model = Model(config)
    if weights is None:
        weights = os.path.join(directory, "model.safetensors")
        if not os.path.exists(weights):
            weights = os.path.join(directory, "pytorch_model.bin")
    if weights.endswith(".safetensors"):
        sd = safetensors_io.load_file(weights)
    else:
        sd = torch.load(weights, map_location="cpu")
    sd = {k: v.to(torch.float32) for k, v in sd.items()}
    model.load_state_dict(sd, strict=True)
    return model.eval(), config


def _main(argv=None):
    import argparse
    import numpy as np
    ap = argparse.ArgumentParser(description="Run a DeiT/ViT checkpoint directory with the PyTorch reference.")
    ap.add_argument("--model", required=True, help="checkpoint directory (config.json + weights)")
    ap.add_argument("--input", required=True, help="float32 pixel_values .npy [B, C, H, W]")
    ap.add_argument("--output", required=True, help="where to write the output .npy")
    ap.add_argument("--mask", help="bool .npy [B, num_patches] for masked image modeling")
    ap.add_argument("--output-kind", default=None,
                    help="logits | last_hidden_state | pooler_output | reconstruction (default: the first)")
    args = ap.parse_args(argv)
    model, config = load_checkpoint(args.model)
    mask = np.load(args.mask) if args.mask else None
    out = run(model, np.load(args.input), mask)
    name = args.output_kind or output_names(config)[0]
    np.save(args.output, out[name].numpy().astype(np.float32))
    print("%s %s written to %s" % (name, tuple(out[name].shape), args.output))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(_main())
