/* fuzz-preprocess.c - deit_preprocessor_new + deit_preprocess / deit_preprocess_u8 over
 * fuzzer-chosen geometry: pixel format, size (1..64), per-plane row padding, negative
 * strides (bottom-up rows), colour matrix / range / chroma siting, resize, resample
 * filter, center crop, shortest_edge, roi and worker count. The planes are laid out in
 * one buffer of exactly the bytes the geometry needs, filled from the input, so ASan sees
 * any read outside them; every output float must be finite. */
#include "fuzz-common.h"

#include <math.h>
#include <stdlib.h>

struct rd {
    const uint8_t *p;
    size_t         n, i;
};
static unsigned byte(struct rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct rd r = {data, size, 0};
    enum deit_pixel_format fmt = (enum deit_pixel_format)(byte(&r) % DEIT_PIXEL_FORMAT_COUNT);
    int W = 1 + (int)(byte(&r) % 64), H = 1 + (int)(byte(&r) % 64);
    unsigned flags = byte(&r);
    int pad[3] = {(int)(byte(&r) % 17), (int)(byte(&r) % 17), (int)(byte(&r) % 17)};

    struct deit_preprocess_config c = deit_preprocess_default_config((flags & 1) ? "vit" : "deit");
    unsigned g = byte(&r);
    c.resample = (enum deit_resample)(g % 6);
    c.do_resize = !(g & 0x80);
    if (g & 0x40) {
        c.shortest_edge = 1 + (int)(byte(&r) % 48);
        c.resize_height = c.resize_width = 0;
    } else {
        c.resize_height = 1 + (int)(byte(&r) % 48);
        c.resize_width  = 1 + (int)(byte(&r) % 48);
    }
    c.do_center_crop = (g & 0x20) != 0;
    c.crop_height    = 1 + (int)(byte(&r) % 48);
    c.crop_width     = 1 + (int)(byte(&r) % 48);
    c.do_rescale     = (g & 0x10) == 0;
    c.do_normalize   = (g & 0x08) == 0;
    int n_threads    = 1 + (int)(byte(&r) % 2);

    struct deit_image img = {.format = fmt, .width = W, .height = H};
    img.matrix      = (enum deit_color_matrix)(byte(&r) % 5);
    img.full_range  = (flags & 2) != 0;
    img.chroma_site = (flags >> 2) & 6;
    struct deit_rect roi  = {(int)(byte(&r) % 80) - 8, (int)(byte(&r) % 80) - 8, (int)(byte(&r) % 80),
                            (int)(byte(&r) % 80)};
    bool use_roi = (flags & 0x10) != 0, use_u8 = (flags & 0x20) != 0, bottom_up = (flags & 0x40) != 0;

    /* planes: bytes per row and rows, as deit_image documents them */
    int  planes = 1;
    long row[3] = {0, 0, 0}, rows[3] = {H, 0, 0};
    switch (fmt) {
    case DEIT_PIXEL_FORMAT_RGB:
    case DEIT_PIXEL_FORMAT_BGR: row[0] = 3L * W; break;
    case DEIT_PIXEL_FORMAT_GRAY8: row[0] = W; break;
    case DEIT_PIXEL_FORMAT_I420:
        planes = 3;
        row[0] = W, row[1] = row[2] = (W + 1) / 2;
        rows[1] = rows[2] = (H + 1) / 2;
        break;
    case DEIT_PIXEL_FORMAT_NV12:
        planes = 2;
        row[0] = W, row[1] = 2L * ((W + 1) / 2);
        rows[1] = (H + 1) / 2;
        break;
    case DEIT_PIXEL_FORMAT_YUY2: row[0] = 4L * ((W + 1) / 2); break;
    default: row[0] = 4L * W; break;
    }
    size_t off[3], total = 0;
    for (int p = 0; p < planes; p++) {
        long stride = row[p] + pad[p];
        off[p]      = total;
        /* the last row needs only its pixels, not the padding */
        total += (size_t)(stride * (rows[p] - 1) + row[p]);
        img.stride[p] = (int)(bottom_up ? -stride : stride);
    }
    uint8_t *buf = malloc(total);
    for (size_t i = 0; i < total; i++) buf[i] = r.i < r.n ? r.p[r.i + (i % (r.n - r.i))] : (uint8_t)(i * 31);
    for (int p = 0; p < planes; p++)   /* bottom-up: the first row is the last in memory */
        img.data[p] = buf + off[p] + (bottom_up ? (size_t)(-img.stride[p]) * (size_t)(rows[p] - 1) : 0);

    struct deit_error err = {0};
    struct deit_preprocessor *pp = deit_preprocessor_new(&c, n_threads, &err);
    if (!pp) {
        if (err.status == DEIT_STATUS_OK || !err.message[0]) __builtin_trap();
        free(buf);
        return 0;
    }
    int oh = 0, ow = 0;
    deit_preprocessor_output_size(pp, &oh, &ow);
    if (oh < 1 || ow < 1 || oh > 48 || ow > 48) __builtin_trap();   /* every size above is <= 48 */
    size_t n = 3 * (size_t)oh * (size_t)ow;
    enum deit_status st;
    if (use_u8) {
        uint8_t *out = malloc(n);
        st = deit_preprocess_u8(pp, &img, use_roi ? &roi : NULL, out);
        free(out);
    } else {
        float *out = malloc(n * sizeof *out);
        st = deit_preprocess(pp, &img, use_roi ? &roi : NULL, out);
        if (st == DEIT_STATUS_OK)
            for (size_t i = 0; i < n; i++)
                if (!isfinite(out[i])) __builtin_trap();
        free(out);
    }
    /* the geometry above is always valid; only an roi may be refused */
    if (st != DEIT_STATUS_OK && !(use_roi && st == DEIT_STATUS_ERROR_INVALID_ARG)) __builtin_trap();
    deit_preprocessor_free(pp);
    free(buf);
    return 0;
}
