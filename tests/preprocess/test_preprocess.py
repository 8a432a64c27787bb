#!/usr/bin/python3
"""Core preprocessing against real Pillow (and GStreamer's videoconvert for YUV).

Usage: test_preprocess.py --lib libpptest.so --group GROUP [--srcdir DIR] [--workdir DIR]

Each group is one meson test in the `preprocess` suite. Expected values always come from
Pillow (via tests/reference/pil_preprocess.py, which restates transformers' Pillow path)
or from gst-launch-1.0 ... videoconvert; never from the code under test.

Tolerances: the uint8 image after resize + crop must be identical to Pillow's (bit-exact
is the requirement); the float tensor within 1e-6 of the reference (it is computed with
the same float64 rescale and float32 normalise, so it is expected to be exactly equal;
1e-6 is the stated acceptance bound). YUV: +-1 per uint8 value after resize, because
videoconvert's integer colour matrix is reproduced, not shared.
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from PIL import Image
    import PIL
except ImportError as e:  # the only reason to skip
    print("SKIP: Pillow/NumPy not available:", e)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import pil_preprocess as ref  # noqa: E402

FORMATS = ["RGB", "BGR", "RGBX", "BGRX", "XRGB", "XBGR", "RGBA", "BGRA", "ARGB", "ABGR", "GRAY8", "I420", "NV12",
           "YUY2"]
FMT = {n: i for i, n in enumerate(FORMATS)}
# byte order of each packed format: which RGB channel (or X/A) sits at each byte
PACKED = {"RGB": "RGB", "BGR": "BGR", "RGBX": "RGBX", "BGRX": "BGRX", "XRGB": "XRGB", "XBGR": "XBGR",
          "RGBA": "RGBA", "BGRA": "BGRA", "ARGB": "ARGB", "ABGR": "ABGR"}
FILTER_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
STATUS_INVALID_ARG = -1

FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL:", msg)
    return cond


class Lib:
    def __init__(self, path):
        L = ctypes.CDLL(path)
        c = ctypes
        L.pptest_new.restype = c.c_void_p
        L.pptest_new.argtypes = [c.c_char_p, c.c_char_p, c.c_int, c.c_char_p, c.c_int]
        L.pptest_free.argtypes = [c.c_void_p]
        L.pptest_output_size.argtypes = [c.c_void_p, c.POINTER(c.c_int), c.POINTER(c.c_int)]
        L.pptest_run.restype = c.c_int
        L.pptest_run.argtypes = [c.c_void_p, c.c_int, c.c_int, c.c_int, c.c_void_p, c.c_void_p, c.c_void_p,
                                 c.c_int, c.c_int, c.c_int, c.c_int, c.c_int, c.c_int, c.c_void_p, c.c_void_p,
                                 c.c_void_p]
        L.pptest_resize_ref.restype = c.c_int
        L.pptest_resize_ref.argtypes = [c.c_void_p, c.c_int, c.c_int, c.c_void_p, c.c_int, c.c_int, c.c_int,
                                        c.c_int]
        L.pptest_config.restype = c.c_int
        L.pptest_config.argtypes = [c.c_char_p, c.c_char_p, c.c_void_p, c.c_void_p, c.c_char_p, c.c_int]
        self.L = L

    def config(self, conf, default="deit"):
        ints = np.zeros(10, np.int32)
        dbls = np.zeros(7, np.float64)
        err = ctypes.create_string_buffer(1024)
        st = self.L.pptest_config(json.dumps(conf).encode(), default.encode(), ints.ctypes.data,
                                  dbls.ctypes.data, err, 1024)
        return st, ints, dbls, err.value.decode()


class Preprocessor:
    def __init__(self, lib, config, ptype="deit", threads=1):
        self.L = lib.L
        err = ctypes.create_string_buffer(1024)
        js = None if config is None else json.dumps(config).encode()
        self.pp = self.L.pptest_new(js, ptype.encode(), threads, err, 1024)
        if not self.pp:
            raise RuntimeError("pptest_new failed: " + err.value.decode())
        h, w = ctypes.c_int(), ctypes.c_int()
        self.L.pptest_output_size(self.pp, ctypes.byref(h), ctypes.byref(w))
        self.h, self.w = h.value, w.value

    def __del__(self):
        if getattr(self, "pp", None):
            self.L.pptest_free(self.pp)

    def run(self, planes, strides, fmt, width, height, roi=None, u8=True, matrix=0, full_range=False,
            chroma_site=0):
        """planes: list of numpy uint8 arrays (kept alive by the caller); returns (status, out)."""
        ptrs = [p.ctypes.data if p is not None else None for p in planes] + [None] * (3 - len(planes))
        st = list(strides) + [0] * (3 - len(strides))
        roi_arr = np.array(roi, np.int32) if roi is not None else None
        if u8:
            out = np.zeros((self.h, self.w, 3), np.uint8)
            outp = (None, out.ctypes.data)
        else:
            out = np.zeros((3, self.h, self.w), np.float32)
            outp = (out.ctypes.data, None)
        status = self.L.pptest_run(self.pp, FMT[fmt], width, height, ptrs[0], ptrs[1], ptrs[2], st[0], st[1], st[2],
                                   matrix, 1 if full_range else 0, chroma_site,
                                   roi_arr.ctypes.data if roi_arr is not None else None, outp[0], outp[1])
        return status, out

    def run_packed(self, arr, fmt, roi=None, u8=True):
        """arr: [H, W, bpp] (or [H, W] for GRAY8) uint8, possibly a strided view."""
        return self.run([arr], [arr.strides[0]], fmt, arr.shape[1], arr.shape[0], roi=roi, u8=u8)


def pack(rgb, fmt, alpha=None):
    """RGB [H, W, 3] -> the byte layout of a packed format; X/A bytes get `alpha` (or 0xAA)."""
    h, w, _ = rgb.shape
    order = PACKED[fmt]
    out = np.empty((h, w, len(order)), np.uint8)
    for i, ch in enumerate(order):
        if ch in "RGB":
            out[..., i] = rgb[..., "RGB".index(ch)]
        else:
            out[..., i] = alpha if alpha is not None else 0xAA
    return out


def compare_u8(got, exp, what):
    if got.shape != exp.shape:
        return check(False, "%s: shape %s, expected %s" % (what, got.shape, exp.shape))
    d = np.abs(got.astype(np.int32) - exp.astype(np.int32))
    if d.max() != 0:
        idx = np.unravel_index(np.argmax(d), d.shape)
        return check(False, "%s: %d of %d uint8 values differ from Pillow (max %d, first at %s: got %d, expected %d)"
                     % (what, int((d != 0).sum()), d.size, int(d.max()), idx, got[idx], exp[idx]))
    return True


def compare_f32(got, exp, what, tol=1e-6):
    if got.shape != exp.shape:
        return check(False, "%s: shape %s, expected %s" % (what, got.shape, exp.shape))
    d = np.abs(got.astype(np.float64) - exp.astype(np.float64))
    return check(d.max() <= tol, "%s: max |diff| %.3g > %g" % (what, d.max(), tol))


def case(lib, rgb, config, what, ptype="deit", threads=1, fmt="RGB", roi=None, check_float=True):
    """Run one image through C and the reference; compare uint8 and float outputs."""
    pil = Image.fromarray(rgb[roi[1]:roi[1] + roi[3], roi[0]:roi[0] + roi[2]] if roi else rgb)
    exp_u8 = ref.resize_crop_u8(pil, config, ptype)
    pp = Preprocessor(lib, config, ptype, threads)
    arr = pack(rgb, fmt) if fmt != "RGB" else rgb
    st, got = pp.run_packed(arr, fmt, roi=roi)
    if not check(st == 0, "%s: status %d" % (what, st)):
        return False
    ok = compare_u8(got, exp_u8, what + " u8")
    if check_float:
        exp = ref.preprocess(pil, config, ptype)
        st, gotf = pp.run_packed(arr, fmt, roi=roi, u8=False)
        ok = check(st == 0, "%s: float status %d" % (what, st)) and ok
        ok = compare_f32(gotf, exp, what + " f32") and ok
    return ok


def random_image(rng, h, w, kind="noise"):
    if kind == "noise":
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    # smooth gradients with sharp edges and saturated areas: exercises clipping and ringing
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([(x * 7 + y * 3) % 256, (np.sin(x / 5.0) * 200 + 128), ((x // 8 + y // 8) % 2) * 255], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------
# groups

DEIT = {}  # DeiTImageProcessor defaults: bicubic 256x256, crop 224
VIT_FACEBOOK = {"do_normalize": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5], "size": 224}  # facebook/deit-*-patch16-224 (ViT processor)
DISTILLED_384 = {"crop_size": 384, "do_center_crop": True, "do_normalize": True, "do_resize": True,
                 "feature_extractor_type": "DeiTFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
                 "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 438}
DISTILLED_224 = dict(DISTILLED_384, crop_size=224, size=256)


def find_photos(srcdir):
    names = ["chelsea.png", "coffee.png", "astronaut.png"]
    for d in [os.path.join(srcdir, "tests", "data"), os.path.join(srcdir, "..", "shared", "images"),
              "/usr/lib/python3/dist-packages/skimage/data"]:
        if all(os.path.exists(os.path.join(d, n)) for n in names):
            return [os.path.join(d, n) for n in names]
    return None


def group_photos(lib, args):
    photos = find_photos(args.srcdir)
    if not photos:
        print("SKIP: sample photos not found (tests/data/ or ../shared/images/)")
        return 77
    for path in photos:
        rgb = np.array(Image.open(path).convert("RGB"))
        name = os.path.basename(path)
        for cname, conf, ptype in [("deit-defaults", DEIT, "deit"), ("vit-facebook-224", VIT_FACEBOOK, "vit"),
                                   ("distilled-224", DISTILLED_224, "deit"),
                                   ("distilled-384", DISTILLED_384, "deit")]:
            ok = case(lib, rgb, conf, "%s %s" % (name, cname), ptype)
            print("%-14s %-18s %s" % (name, cname, "ok" if ok else "MISMATCH"))
        for r in range(6):
            conf = {"resample": r}
            ok = case(lib, rgb, conf, "%s %s" % (name, FILTER_NAMES[r]))
            print("%-14s %-18s %s" % (name, FILTER_NAMES[r], "ok" if ok else "MISMATCH"))
    return 0


SIZES = [(1, 1), (1, 7), (5, 1), (2, 3), (7, 5), (13, 17), (37, 100), (100, 37), (224, 224), (256, 256),
         (223, 225), (257, 255), (300, 451), (480, 640), (20, 1000), (1000, 20), (64, 3000), (3, 640),
         (224, 451), (300, 224), (256, 640), (480, 256)]   # one axis unchanged: Pillow runs only one pass


def group_filters(lib, args):
    rng = np.random.default_rng(1)
    n = 0
    for (h, w) in SIZES:
        for kind in ("noise", "smooth"):
            rgb = random_image(rng, h, w, kind)
            for r in range(6):
                for crop in (True, False):
                    conf = {"resample": r, "do_center_crop": crop}
                    if not crop:
                        conf["size"] = {"height": 224, "width": 224}
                    case(lib, rgb, conf, "%dx%d %s %s crop=%s" % (w, h, kind, FILTER_NAMES[r], crop),
                         check_float=(kind == "noise"))
                    n += 1
    print("filters: %d cases" % n)
    return 0


def group_sizes(lib, args):
    """Odd target sizes, smaller-than-crop (zero padding), shortest_edge, no resize, upscaling."""
    rng = np.random.default_rng(2)
    confs = [
        {"size": {"height": 200, "width": 180}, "crop_size": {"height": 224, "width": 224}},  # pad both
        {"size": {"height": 300, "width": 100}, "crop_size": {"height": 224, "width": 224}},  # pad width only
        {"size": {"height": 101, "width": 333}, "crop_size": {"height": 224, "width": 223}},  # odd pads
        {"do_resize": False, "crop_size": {"height": 64, "width": 48}},                      # crop or pad only
        {"size": {"shortest_edge": 256}, "crop_size": {"height": 224, "width": 224}},
        {"size": {"shortest_edge": 230}, "crop_size": {"height": 224, "width": 224}, "resample": 2},
        {"size": {"shortest_edge": 200}, "crop_size": {"height": 224, "width": 224}, "resample": 1},
        {"size": {"height": 17, "width": 500}, "do_center_crop": False, "resample": 5},
        {"size": [123, 77], "crop_size": [99, 70], "resample": 4},
        {"size": 438, "crop_size": 384},
        {"do_rescale": False},                                   # normalise the 0..255 values
        {"do_normalize": False},                                 # rescale only
        {"do_rescale": False, "do_normalize": False},            # plain uint8 values as floats
        {"rescale_factor": 0.5, "image_mean": [1, 2.5, -3], "image_std": [3, 0.1, 7]},
        {"image_mean": 0.25, "image_std": 0.75, "resample": 0},  # scalar mean / std
    ]
    for (h, w) in [(1, 1), (3, 5), (47, 61), (300, 451), (451, 300), (720, 1280), (50, 900)]:
        rgb = random_image(rng, h, w)
        for i, conf in enumerate(confs):
            case(lib, rgb, conf, "%dx%d conf%d %s" % (w, h, i, json.dumps(conf)))
    print("sizes: done")
    return 0


def group_formats(lib, args):
    """Every packed layout of the same picture gives the same tensor; GRAY8 = PIL L -> RGB."""
    rng = np.random.default_rng(3)
    for (h, w) in [(1, 1), (31, 17), (300, 451)]:
        rgb = random_image(rng, h, w)
        pil = Image.fromarray(rgb)
        exp_u8 = ref.resize_crop_u8(pil, DEIT)
        exp_f = ref.preprocess(pil, DEIT)
        pp = Preprocessor(lib, DEIT)
        for fmt in PACKED:
            alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)  # alpha must be ignored like .convert("RGB")
            arr = pack(rgb, fmt, alpha)
            st, got = pp.run_packed(arr, fmt)
            check(st == 0, "%s status %d" % (fmt, st))
            compare_u8(got, exp_u8, "%dx%d %s u8" % (w, h, fmt))
            st, gotf = pp.run_packed(arr, fmt, u8=False)
            compare_f32(gotf, exp_f, "%dx%d %s f32" % (w, h, fmt))
        gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
        pil_l = Image.fromarray(gray, "L")
        for conf in (DEIT, {"resample": 1}, {"resample": 0}):
            pp = Preprocessor(lib, conf)
            st, got = pp.run_packed(gray, "GRAY8")
            check(st == 0, "GRAY8 status %d" % st)
            compare_u8(got, ref.resize_crop_u8(pil_l.convert("RGB"), conf), "%dx%d GRAY8 %s u8" % (w, h, conf))
            st, gotf = pp.run_packed(gray, "GRAY8", u8=False)
            compare_f32(gotf, ref.preprocess(pil_l.convert("RGB"), conf), "%dx%d GRAY8 f32" % (w, h))
    print("formats: done")
    return 0


def group_roi(lib, args):
    """ROI = Pillow on the cropped image; clipping; bad ROIs rejected; strides with padding."""
    rng = np.random.default_rng(4)
    rgb = random_image(rng, 300, 451)
    for roi in [(0, 0, 451, 300), (10, 20, 100, 50), (450, 299, 1, 1), (0, 0, 1, 300), (200, 3, 251, 297),
                (17, 33, 224, 224)]:
        for conf in (DEIT, {"resample": 2, "size": 224, "do_center_crop": False}, {"resample": 0}):
            case(lib, rgb, conf, "roi %s %s" % (roi, conf), roi=list(roi))
    pp = Preprocessor(lib, DEIT)
    # partially outside: clipped to the image
    st, got = pp.run_packed(rgb, "RGB", roi=[-10, 250, 100, 100])
    check(st == 0, "clipped roi status %d" % st)
    compare_u8(got, ref.resize_crop_u8(Image.fromarray(rgb[250:300, 0:90]), DEIT), "clipped roi")
    for bad in ([0, 0, 0, 10], [0, 0, 10, -1], [451, 0, 10, 10], [-20, -20, 10, 10], [0, 300, 5, 5]):
        st, _ = pp.run_packed(rgb, "RGB", roi=bad)
        check(st == STATUS_INVALID_ARG, "roi %s: status %d, expected INVALID_ARG" % (bad, st))
    # padded strides, every packed layout
    for fmt in ("RGB", "BGRX", "ARGB"):
        arr = pack(rgb, fmt) if fmt != "RGB" else rgb
        big = np.zeros((arr.shape[0], arr.shape[1] + 13, arr.shape[2]), np.uint8)
        big[:, :arr.shape[1]] = arr
        view = big[:, :arr.shape[1]]
        st, got = pp.run_packed(view, fmt)
        check(st == 0, "stride status")
        compare_u8(got, ref.resize_crop_u8(Image.fromarray(rgb), DEIT), "padded stride %s" % fmt)
    # bad image descriptions
    st, _ = pp.run([rgb], [100], "RGB", 451, 300)
    check(st == STATUS_INVALID_ARG, "short stride accepted (status %d)" % st)
    st, _ = pp.run([None], [451 * 3], "RGB", 451, 300)
    check(st == STATUS_INVALID_ARG, "NULL plane accepted (status %d)" % st)
    st, _ = pp.run([rgb], [451 * 3], "RGB", 0, 300)
    check(st == STATUS_INVALID_ARG, "zero width accepted (status %d)" % st)
    print("roi: done")
    return 0


def group_big(lib, args):
    """One 4K frame, single thread and two threads (must be identical)."""
    rng = np.random.default_rng(5)
    rgb = random_image(rng, 2160, 3840)
    case(lib, rgb, DEIT, "4K deit 1 thread")
    case(lib, rgb, DEIT, "4K deit 2 threads", threads=2)
    case(lib, rgb, {"resample": 1}, "4K lanczos 2 threads", threads=2, check_float=False)
    rgb = random_image(rng, 1080, 1920)
    case(lib, rgb, VIT_FACEBOOK, "1080p vit 2 threads", ptype="vit", threads=2)
    print("big: done")
    return 0


def group_ref(lib, args):
    """The C naive reference (Pillow's loop structure) against Pillow itself."""
    rng = np.random.default_rng(6)
    for (ih, iw) in [(1, 1), (5, 9), (40, 33), (300, 451)]:
        rgb = random_image(rng, ih, iw)
        for (oh, ow) in [(1, 1), (7, 3), (224, 224), (ih, 50), (30, iw)]:
            for r in range(6):
                out = np.zeros((oh, ow, 3), np.uint8)
                st = lib.L.pptest_resize_ref(out.ctypes.data, ow, oh, rgb.ctypes.data, iw, ih, 3, r)
                check(st == 0, "ref status")
                exp = np.array(Image.fromarray(rgb).resize((ow, oh), resample=r, reducing_gap=None))
                compare_u8(out, exp, "resize_ref %dx%d->%dx%d %s" % (iw, ih, ow, oh, FILTER_NAMES[r]))
    # the fast path against the naive reference on random geometries (both C: cheap, so many)
    for n in range(300):
        ih, iw, oh, ow = [int(v) for v in rng.integers(1, 400, 4)]
        r = int(rng.integers(0, 6))
        rgb = random_image(rng, ih, iw)
        exp = np.zeros((oh, ow, 3), np.uint8)
        lib.L.pptest_resize_ref(exp.ctypes.data, ow, oh, rgb.ctypes.data, iw, ih, 3, r)
        pp = Preprocessor(lib, {"size": {"height": oh, "width": ow}, "do_center_crop": False, "resample": r})
        st, got = pp.run_packed(rgb, "RGB")
        check(st == 0, "status %d" % st)
        compare_u8(got, exp, "fast vs naive %dx%d->%dx%d %s" % (iw, ih, ow, oh, FILTER_NAMES[r]))
    print("ref: done")
    return 0


def group_config(lib, args):
    """preprocessor_config.json parsing against the transformers class defaults."""
    def expect(conf, default, want, what):
        st, ints, dbls, err = lib.config(conf, default)
        if not check(st == 0, "%s: status %d (%s)" % (what, st, err)):
            return
        names = ["do_resize", "resize_h", "resize_w", "shortest_edge", "resample", "do_center_crop", "crop_h",
                 "crop_w", "do_rescale", "do_normalize"]
        got = dict(zip(names, [int(v) for v in ints]))
        got.update(rescale_factor=dbls[0], mean=list(np.float32(dbls[1:4])), std=list(np.float32(dbls[4:7])))
        for k, v in want.items():
            gv = got[k]
            if isinstance(v, list):
                ok = list(np.float32(v)) == gv
            elif isinstance(v, float):
                ok = gv == v
            else:
                ok = gv == v
            check(ok, "%s: %s = %s, expected %s" % (what, k, gv, v))

    deit = dict(do_resize=1, resize_h=256, resize_w=256, shortest_edge=0, resample=3, do_center_crop=1, crop_h=224,
                crop_w=224, do_rescale=1, do_normalize=1, rescale_factor=1 / 255, mean=[0.5] * 3, std=[0.5] * 3)
    vit = dict(deit, resize_h=224, resize_w=224, resample=2, do_center_crop=0, crop_h=0, crop_w=0)
    expect({}, "deit", deit, "empty deit")
    expect({}, "vit", vit, "empty vit")
    expect({"image_processor_type": "ViTImageProcessor"}, "deit", vit, "ViT by name")
    expect({"feature_extractor_type": "DeiTFeatureExtractor"}, "vit", deit, "DeiT by name")
    expect({"image_processor_type": "DeiTImageProcessor", "feature_extractor_type": "ViTFeatureExtractor"}, "vit",
           deit, "image_processor_type wins")
    expect({"image_processor_type": "BeitImageProcessor"}, "vit", vit, "unknown class -> default")
    expect(VIT_FACEBOOK, "vit", dict(vit, resize_h=224, resize_w=224), "facebook non-distilled")
    expect(DISTILLED_384, "vit", dict(deit, resize_h=438, resize_w=438, crop_h=384, crop_w=384,
                                      mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]), "distilled 384")
    expect({"size": {"shortest_edge": 256}}, "deit", dict(deit, shortest_edge=256, resize_h=0, resize_w=0), "se")
    expect({"size": [100, 200], "crop_size": {"height": 50, "width": 60}}, "deit",
           dict(deit, resize_h=100, resize_w=200, crop_h=50, crop_w=60), "list size")
    expect({"image_mean": 0.25, "image_std": 2, "rescale_factor": 0.5, "do_rescale": False, "do_normalize": False,
            "do_resize": False, "resample": 0}, "deit",
           dict(deit, mean=[0.25] * 3, std=[2.0] * 3, rescale_factor=0.5, do_rescale=0, do_normalize=0,
                do_resize=0, resample=0), "scalars")
    expect({"crop_size": 300, "do_center_crop": True}, "vit", vit, "vit ignores crop")
    # errors: (config, expected status)
    for conf, want in [("{", -5), ("[1,2]", -5), ({"resample": 7}, -15), ({"resample": "bicubic"}, -15),
                       ({"size": {"height": 10}}, -6), ({"size": {"shortest_edge": 10, "longest_edge": 20}}, -6),
                       ({"size": 0}, -6), ({"image_mean": [1, 2]}, -6), ({"image_std": [1, 0, 1]}, -6),
                       ({"do_resize": "yes"}, -6), ({"crop_size": {"shortest_edge": 3}}, -6),
                       ({"rescale_factor": "x"}, -6)]:
        js = conf if isinstance(conf, str) else json.dumps(conf)
        ints = np.zeros(10, np.int32)
        dbls = np.zeros(7, np.float64)
        err = ctypes.create_string_buffer(1024)
        st = lib.L.pptest_config(js.encode(), b"deit", ints.ctypes.data, dbls.ctypes.data, err, 1024)
        check(st == want, "config %s: status %d, expected %d (%s)" % (js, st, want, err.value.decode()))
        check(st == 0 or len(err.value) > 10, "config %s: no error message" % js)
        print("  %-50s -> %d %s" % (js, st, err.value.decode()))
    # a config whose output size depends on the input is refused by the preprocessor
    for conf in ({"size": {"shortest_edge": 224}, "do_center_crop": False}, {"do_resize": False,
                                                                              "do_center_crop": False}):
        try:
            Preprocessor(lib, conf)
            check(False, "%s accepted" % conf)
        except RuntimeError as e:
            print("  refused as expected:", e)
    print("config: done")
    return 0


GROUPS = {"photos": group_photos, "filters": group_filters, "sizes": group_sizes, "formats": group_formats,
          "roi": group_roi, "big": group_big, "ref": group_ref, "config": group_config}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--srcdir", default=os.path.join(HERE, "..", ".."))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--simd", type=int, default=-1, help="horizontal pass: -1 best, 0 C, 1 SSE2, 2 AVX2")
    args = ap.parse_args()
    print("Pillow", PIL.__version__, "NumPy", np.__version__)
    lib = Lib(args.lib)
    lib.L.pptest_set_simd(args.simd)
    if args.group == "yuv":
        import yuv_videoconvert
        rc = yuv_videoconvert.run(args, Preprocessor(lib, {}, "deit"), lambda conf: Preprocessor(lib, conf),
                                  check, find_photos)
    else:
        rc = GROUPS[args.group](lib, args)
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
