"""YUV inputs (I420, NV12, YUY2) against GStreamer's own videoconvert.

For each frame, gst-launch-1.0 converts the YUV bytes to RGB with videoconvert (the
reference); then
  * an identity configuration (no resize, crop = frame size) must give that RGB image,
  * the DeiT configuration must give what Pillow's resize + crop give on that RGB image,
  * a region of interest with odd offsets must give Pillow's result on the cropped RGB,
within +-1 per uint8 value (the acceptance bound; the number of values off by one is
printed, and is expected to be 0 because the integer conversion is reproduced exactly).
Colorimetry (BT.601 / BT.709, limited / full range) and chroma siting (none, "mpeg2",
"cosited") are set in the caps, as a decoder would.
"""
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image

import pil_preprocess as ref

TOL = 1
SITES = {None: 0, "jpeg": 1, "mpeg2": 2, "cosited": 6}   # GstVideoChromaSite bits
FMT_IDS = {"I420": 11, "NV12": 12, "YUY2": 13}
DEIT = {}


def ru(x, n):
    return (x + n - 1) // n * n


def rgb_to_yuv444(rgb):
    """Any plausible YUV (BT.601 limited); the reference is what videoconvert makes of it."""
    r, g, b = [rgb[..., i].astype(np.float64) for i in range(3)]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return [np.clip(np.rint(c), 0, 255).astype(np.uint8) for c in (y, u, v)]


def make_frame(fmt, y, u, v):
    """GstVideoInfo's default layout: returns (bytes buffer as ndarray, planes, strides).
    u, v are already subsampled ([ceil(H/2), ceil(W/2)] for 4:2:0, [H, ceil(W/2)] for YUY2)."""
    h, w = y.shape
    cw = (w + 1) // 2
    if fmt == "I420":
        ys, cs = ru(w, 4), ru(cw, 4)
        ch = ru(h, 2) // 2
        buf = np.zeros(ys * ru(h, 2) + 2 * cs * ch, np.uint8)
        yp = buf[:ys * ru(h, 2)].reshape(-1, ys)
        up = buf[ys * ru(h, 2):ys * ru(h, 2) + cs * ch].reshape(-1, cs)
        vp = buf[ys * ru(h, 2) + cs * ch:].reshape(-1, cs)
        yp[:h, :w] = y
        up[:u.shape[0], :cw] = u
        vp[:v.shape[0], :cw] = v
        return buf, [yp, up, vp], [ys, cs, cs]
    if fmt == "NV12":
        ys = ru(w, 4)
        ch = ru(h, 2) // 2
        buf = np.zeros(ys * ru(h, 2) + ys * ch, np.uint8)
        yp = buf[:ys * ru(h, 2)].reshape(-1, ys)
        uvp = buf[ys * ru(h, 2):].reshape(-1, ys)
        yp[:h, :w] = y
        uvp[:u.shape[0], 0:2 * cw:2] = u
        uvp[:v.shape[0], 1:2 * cw:2] = v
        return buf, [yp, uvp], [ys, ys]
    s = ru(4 * cw, 4)  # YUY2
    buf = np.zeros(s * h, np.uint8)
    p = buf.reshape(h, s)
    p[:, 0:2 * w:2] = y
    p[:, 1:4 * cw:4] = u
    p[:, 3:4 * cw:4] = v
    return buf, [p], [s]


def subsample(fmt, y, u, v):
    """4:4:4 -> the format's chroma resolution (top-left sample: any choice is fine)."""
    if fmt == "YUY2":
        return y, u[:, ::2], v[:, ::2]
    return y, u[::2, ::2], v[::2, ::2]


# our enum deit_color_matrix -> GstVideoColorMatrix code in a colorimetry string
GST_MATRIX = {0: 4, 1: 3, 2: 6, 3: 5, 4: 2}   # BT601, BT709, BT2020, SMPTE240M, FCC
MATRIX_NAMES = {0: "bt601", 1: "bt709", 2: "bt2020", 3: "smpte240m", 4: "fcc"}


def videoconvert(tmpdir, fmt, buf, w, h, matrix, full, site, bare=False):
    """RGB that videoconvert makes of the frame. bare=True: caps with neither colorimetry nor
    chroma-site, so GstVideoInfo applies GStreamer's defaults (as for videotestsrc)."""
    src = os.path.join(tmpdir, "in.yuv")
    dst = os.path.join(tmpdir, "out.rgb")
    buf.tofile(src)
    colorimetry = "%d:%d:0:0" % (1 if full else 2, GST_MATRIX[matrix])   # range:matrix:transfer:primaries
    if bare:
        caps = ("video/x-raw,format=%s,width=%d,height=%d,framerate=1/1,interlace-mode=progressive,"
                "pixel-aspect-ratio=1/1" % (fmt, w, h))
        setter = ['!', 'capssetter', 'replace=true', 'caps=' + caps]
    else:
        setter = ['!', 'capssetter', 'caps=video/x-raw,chroma-site=%s' % site] if site else []
    cmd = ['gst-launch-1.0', '-q', 'filesrc', 'location=' + src, '!', 'rawvideoparse', 'format=' + fmt.lower(),
           'width=%d' % w, 'height=%d' % h, 'framerate=1/1', 'colorimetry=' + colorimetry] + setter + \
          ['!', 'videoconvert', '!', 'video/x-raw,format=RGB', '!', 'filesink', 'location=' + dst]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    out = np.fromfile(dst, np.uint8)
    stride = ru(3 * w, 4)
    return np.ascontiguousarray(out.reshape(h, stride)[:, :3 * w].reshape(h, w, 3))


def compare(got, exp, what, check, stats):
    if not check(got.shape == exp.shape, "%s: shape %s, expected %s" % (what, got.shape, exp.shape)):
        return
    d = np.abs(got.astype(np.int32) - exp.astype(np.int32))
    stats["values"] += d.size
    stats["off_by_1"] += int((d == 1).sum())
    check(d.max() <= TOL, "%s: max |diff| %d > %d (%d values differ)" % (what, d.max(), TOL, int((d > 0).sum())))


def check_case(what, gst_rgb, planes, strides, fmt, w, h, kw, make_pp, pp_deit, check, stats):
    # 1. colour conversion alone: no resize, crop = frame
    ident = make_pp({"do_resize": False, "crop_size": {"height": h, "width": w}})
    st, got = ident.run(planes, strides, fmt, w, h, **kw)
    check(st == 0, what + ": status %d" % st)
    compare(got, gst_rgb, what + " conversion", check, stats)
    # 2. the DeiT pipeline vs Pillow on videoconvert's RGB
    st, got = pp_deit.run(planes, strides, fmt, w, h, **kw)
    check(st == 0, what + ": status %d" % st)
    compare(got, ref.resize_crop_u8(Image.fromarray(gst_rgb), DEIT), what + " deit", check, stats)
    # 3. a region of interest with odd offsets
    if w >= 9 and h >= 7:
        roi = [w // 3 | 1, h // 4 | 1, w // 2, h // 2]
        st, got = pp_deit.run(planes, strides, fmt, w, h, roi=roi, **kw)
        crop = gst_rgb[roi[1]:roi[1] + roi[3], roi[0]:roi[0] + roi[2]]
        compare(got, ref.resize_crop_u8(Image.fromarray(crop), DEIT), what + " roi %s" % roi, check, stats)
    stats["cases"] += 1


def run(args, pp_deit, make_pp, check, find_photos):
    try:
        subprocess.run(["gst-launch-1.0", "--version"], check=True, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        check(False, "gst-launch-1.0 not found: install gstreamer1.0-tools (and -plugins-base, -plugins-good)")
        return 1
    rng = np.random.default_rng(7)
    sources = []
    photos = find_photos(args.srcdir)
    if photos:
        sources.append(("chelsea", np.array(Image.open(photos[0]).convert("RGB"))))  # 451x300: odd width
    yy, xx = np.mgrid[0:360, 0:640]
    smooth = np.stack([(xx * 255 // 639), (yy * 255 // 359), ((xx // 40 + yy // 40) % 2) * 200 + 30], -1)
    sources.append(("smooth640x360", smooth.astype(np.uint8)))
    for (h, w) in [(2, 2), (7, 9), (33, 47), (1, 1)]:
        sources.append(("noise%dx%d" % (w, h), rng.integers(0, 256, (h, w, 3), dtype=np.uint8)))
    stats = {"values": 0, "off_by_1": 0, "cases": 0}
    workdir = args.workdir or tempfile.gettempdir()
    with tempfile.TemporaryDirectory(dir=workdir) as tmpdir:
        for name, rgb in sources:
            h, w = rgb.shape[:2]
            y444, u444, v444 = rgb_to_yuv444(rgb)
            big = name in ("chelsea", "noise47x33")
            for fmt in ("I420", "NV12", "YUY2"):
                y, u, v = subsample(fmt, y444, u444, v444)
                buf, planes, strides = make_frame(fmt, y, u, v)
                sites = [None, "mpeg2"] + (["cosited", "jpeg"] if fmt != "I420" else [])
                for matrix in ((0, 1, 2, 3, 4) if big else (0,)):
                    for full in ((0, 1) if big else (1,)):
                        for site in (sites if big or fmt != "I420" else [None]):
                            if (w == 1 and h == 1 and fmt == "YUY2") or (matrix > 1 and site != sites[0]):
                                continue
                            what = "%s %s %s %s site=%s" % (name, fmt, MATRIX_NAMES[matrix],
                                                            "full" if full else "limited", site)
                            gst_rgb = videoconvert(tmpdir, fmt, buf, w, h, matrix, full, site)
                            kw = dict(matrix=matrix, full_range=bool(full), chroma_site=SITES[site])
                            check_case(what, gst_rgb, planes, strides, fmt, w, h, kw, make_pp, pp_deit, check, stats)
        # caps without colorimetry / chroma-site: the element passes what GstVideoInfo holds,
        # i.e. GStreamer's defaults (video-info.c set_default_colorimetry): above 576 lines
        # BT.709 limited + H-cosited ("mpeg2"), else BT.601 limited + centred
        for (h, w) in [(720, 1280), (480, 640)]:
            rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            y444, u444, v444 = rgb_to_yuv444(rgb)
            hd = h > 576
            for fmt in ("I420", "NV12", "YUY2"):
                y, u, v = subsample(fmt, y444, u444, v444)
                buf, planes, strides = make_frame(fmt, y, u, v)
                what = "noise%dx%d %s bare caps" % (w, h, fmt)
                gst_rgb = videoconvert(tmpdir, fmt, buf, w, h, 1 if hd else 0, False, None, bare=True)
                kw = dict(matrix=1 if hd else 0, full_range=False, chroma_site=SITES["mpeg2" if hd else "jpeg"])
                check_case(what, gst_rgb, planes, strides, fmt, w, h, kw, make_pp, pp_deit, check, stats)
    print("yuv: %d cases, %d uint8 values compared, %d off by one (tolerance %d)" %
          (stats["cases"], stats["values"], stats["off_by_1"], TOL))
    return 0
