"""Pillow-path reference of transformers' DeiTImageProcessor / ViTImageProcessor.

transformers is not installed on the build machines, so this module restates, in plain
NumPy + Pillow, what `DeiTImageProcessor.preprocess` (v4 slow path, v5 PIL backend) and
`ViTImageProcessor.preprocess` do to one PIL image (transformers
src/transformers/image_transforms.py: resize, center_crop, rescale, normalize;
image_processing_utils.get_size_dict / convert_to_size_dict;
image_utils.get_resize_output_image_size). The C preprocessor is compared against it.

    from pil_preprocess import preprocess, resize_crop_u8, resolve_config
    x = preprocess(Image.open("cat.png").convert("RGB"), json.load(open("preprocessor_config.json")), "deit")
    # x: np.float32 [3, h, w], what pixel_values[0] would hold
"""
import math

import numpy as np
from PIL import Image

# transformers/utils/constants.py
IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5]
IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5]

# Class defaults (image_processing_deit.py / image_processing_vit.py __init__)
DEIT_DEFAULTS = dict(do_resize=True, size={"height": 256, "width": 256}, resample=3,
                     do_center_crop=True, crop_size={"height": 224, "width": 224},
                     do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                     image_mean=IMAGENET_STANDARD_MEAN, image_std=IMAGENET_STANDARD_STD)
VIT_DEFAULTS = dict(do_resize=True, size={"height": 224, "width": 224}, resample=2,
                    do_center_crop=False, crop_size=None,
                    do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                    image_mean=IMAGENET_STANDARD_MEAN, image_std=IMAGENET_STANDARD_STD)


def processor_type_of(config, default="deit"):
    """'deit' or 'vit' from image_processor_type, then feature_extractor_type, else default."""
    name = config.get("image_processor_type") or config.get("feature_extractor_type")
    if name:
        if name.startswith(("DeiTImageProcessor", "DeiTFeatureExtractor")):
            return "deit"
        if name.startswith(("ViTImageProcessor", "ViTFeatureExtractor")):
            return "vit"
    return default


def _size_dict(size):
    """convert_to_size_dict(size, default_to_square=True, height_width_order=True)."""
    if size is None:
        return None
    if isinstance(size, int):
        return {"height": size, "width": size}
    if isinstance(size, (list, tuple)):
        return {"height": size[0], "width": size[1]}
    return dict(size)


def resolve_config(config, default_processor_type="deit"):
    """Effective settings: class defaults overridden by the keys present in the config."""
    ptype = processor_type_of(config, default_processor_type)
    cfg = dict(DEIT_DEFAULTS if ptype == "deit" else VIT_DEFAULTS)
    for k in cfg:
        if k in config and config[k] is not None:
            if ptype == "vit" and k in ("do_center_crop", "crop_size"):
                continue  # ViTImageProcessor has no center crop
            cfg[k] = config[k]
    cfg["size"] = _size_dict(cfg["size"])
    cfg["crop_size"] = _size_dict(cfg["crop_size"])
    for k in ("image_mean", "image_std"):
        if not isinstance(cfg[k], (list, tuple)):
            cfg[k] = [cfg[k]] * 3
    cfg["processor_type"] = ptype
    return cfg


def resize_output_size(height, width, size):
    """(h, w) the resize produces: {height, width} as is; {shortest_edge} via
    get_resize_output_image_size(default_to_square=False)."""
    if "shortest_edge" in size:
        s = size["shortest_edge"]
        short, long = (width, height) if width <= height else (height, width)
        if short == s:
            return height, width
        new_short, new_long = s, int(s * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)
    return size["height"], size["width"]


def center_crop(image, crop_height, crop_width):
    """image_transforms.center_crop on a channels-last array, zero padding included."""
    orig_height, orig_width = image.shape[:2]
    top = (orig_height - crop_height) // 2
    bottom = top + crop_height
    left = (orig_width - crop_width) // 2
    right = left + crop_width
    if top >= 0 and bottom <= orig_height and left >= 0 and right <= orig_width:
        return image[top:bottom, left:right]
    new_height = max(crop_height, orig_height)
    new_width = max(crop_width, orig_width)
    new_image = np.zeros((new_height, new_width) + image.shape[2:], dtype=image.dtype)
    top_pad = math.ceil((new_height - orig_height) / 2)
    bottom_pad = top_pad + orig_height
    left_pad = math.ceil((new_width - orig_width) / 2)
    right_pad = left_pad + orig_width
    new_image[top_pad:bottom_pad, left_pad:right_pad] = image
    top += top_pad
    bottom += top_pad
    left += left_pad
    right += left_pad
    return new_image[max(0, top):min(new_height, bottom), max(0, left):min(new_width, right)]


def resize_crop_u8(pil_image, config, default_processor_type="deit"):
    """uint8 [h, w, 3]: the image after Pillow's resize and transformers' center crop."""
    cfg = config if "processor_type" in config else resolve_config(config, default_processor_type)
    image = np.array(pil_image.convert("RGB"))  # to_numpy_array: uint8 HWC
    if cfg["do_resize"]:
        h, w = resize_output_size(image.shape[0], image.shape[1], cfg["size"])
        # image_transforms.resize: uint8 input -> PIL (no rescale) -> resize -> np.array
        image = np.array(Image.fromarray(image).resize((w, h), resample=cfg["resample"], reducing_gap=None))
    if cfg["do_center_crop"]:
        image = center_crop(image, cfg["crop_size"]["height"], cfg["crop_size"]["width"])
    return np.ascontiguousarray(image)


def rescale_normalize(image_u8, cfg):
    """image_transforms.rescale (float64 multiply, cast to float32) and normalize (float32)."""
    image = image_u8
    if cfg["do_rescale"]:
        image = (image.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
    if cfg["do_normalize"]:
        if not np.issubdtype(image.dtype, np.floating):
            image = image.astype(np.float32)
        mean = np.array(cfg["image_mean"], dtype=image.dtype)
        std = np.array(cfg["image_std"], dtype=image.dtype)
        image = (image - mean) / std
    return np.ascontiguousarray(image.astype(np.float32).transpose(2, 0, 1))


def preprocess(pil_image, config, processor_type="deit"):
    """np.float32 [3, h, w]: pixel_values of one image."""
    cfg = resolve_config(config, processor_type)
    return rescale_normalize(resize_crop_u8(pil_image, cfg), cfg)


if __name__ == "__main__":
    import json
    import sys
    img = Image.open(sys.argv[1]).convert("RGB")
    conf = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else {}
    x = preprocess(img, conf)
    print(x.shape, x.dtype, float(x.min()), float(x.max()))
