/* deit-yuv.c - row unpackers: one source row of any supported pixel format to planar
 * int16 R, G, B, the input of the horizontal resampling pass. Colour conversion happens
 * here, row by row, so no full-frame RGB copy is ever made.
 *
 * Packed RGB formats drop the alpha / padding byte, like PIL's .convert("RGB"). GRAY8
 * unpacks to a single plane (PIL "L" -> "RGB" sets R = G = B = L, and resampling each
 * channel separately with the same weights gives three equal planes, so one is enough).
 */
#include "deit-resample.h"

#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DEIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DEIT_CLONES
#endif

/* Each packed layout is its own function with constant offsets, so gcc turns the strided
 * loads into shuffles. */
#define UNPACK_PACKED(NAME, BPP, RO, GO, BO)                                                 \
    static void NAME(const uint8_t *restrict s, int n, int16_t *restrict r, int16_t *restrict g, \
                     int16_t *restrict b) {                                                  \
        for (int i = 0; i < n; i++) {                                                        \
            r[i] = s[(BPP) * i + (RO)];                                                      \
            g[i] = s[(BPP) * i + (GO)];                                                      \
            b[i] = s[(BPP) * i + (BO)];                                                      \
        }                                                                                    \
    }

UNPACK_PACKED(unpack_rgb, 3, 0, 1, 2)
UNPACK_PACKED(unpack_bgr, 3, 2, 1, 0)
UNPACK_PACKED(unpack_rgbx, 4, 0, 1, 2)
UNPACK_PACKED(unpack_bgrx, 4, 2, 1, 0)
UNPACK_PACKED(unpack_xrgb, 4, 1, 2, 3)
UNPACK_PACKED(unpack_xbgr, 4, 3, 2, 1)

static void unpack_gray(const uint8_t *restrict s, int n, int16_t *restrict y) {
    for (int i = 0; i < n; i++) y[i] = s[i];
}

/* ---------------------------------------------------------------------------------------
 * YUV -> RGB
 */
void deit_yuv_matrix_init(struct deit_yuv_matrix *m, enum deit_color_matrix matrix, bool full_range) {
    /* Kr, Kb of the matrix; offsets and excursions of the range */
    double kr = matrix == DEIT_COLOR_MATRIX_BT709 ? 0.2126 : 0.299;
    double kb = matrix == DEIT_COLOR_MATRIX_BT709 ? 0.0722 : 0.114;
    double kg = 1.0 - kr - kb;
    double ys = full_range ? 1.0 : 255.0 / 219.0;
    double cs = full_range ? 255.0 / 254.0 : 255.0 / 224.0;
    if (full_range) cs = 1.0;
    const double one = (double)(1 << 12);
    m->shift = 12;
    m->y_off = full_range ? 0 : 16;
    m->cy    = (int32_t)(ys * one + 0.5);
    m->crv   = (int32_t)(2.0 * (1.0 - kr) * cs * one + 0.5);
    m->cbu   = (int32_t)(2.0 * (1.0 - kb) * cs * one + 0.5);
    m->cgu   = (int32_t)(2.0 * (1.0 - kb) * kb / kg * cs * one + 0.5);
    m->cgv   = (int32_t)(2.0 * (1.0 - kr) * kr / kg * cs * one + 0.5);
}

static inline int16_t clamp255(int32_t v) { return (int16_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* y, u, v rows already at full horizontal resolution for the n output pixels */
static void yuv_to_rgb(const struct deit_yuv_matrix *m, const int16_t *yr, const int16_t *ur, const int16_t *vr,
                       int n, int16_t *r, int16_t *g, int16_t *b) {
    const int32_t rnd = 1 << (m->shift - 1);
    for (int i = 0; i < n; i++) {
        int32_t y = (yr[i] - m->y_off) * m->cy;
        int32_t u = ur[i] - 128, v = vr[i] - 128;
        r[i] = clamp255((y + m->crv * v + rnd) >> m->shift);
        g[i] = clamp255((y - m->cgu * u - m->cgv * v + rnd) >> m->shift);
        b[i] = clamp255((y + m->cbu * u + rnd) >> m->shift);
    }
}

static const uint8_t *plane_row(const struct deit_image *img, int p, int y) {
    return img->data[p] + (ptrdiff_t)y * img->stride[p];
}

/* Chroma of a 2x2-subsampled format at full resolution for columns [x0, x0+n) of row y:
 * nearest chroma sample (each chroma sample covers a 2x2 luma block). */
static void chroma_420(const struct deit_image *img, int y, int x0, int n, int16_t *u, int16_t *v) {
    int cy = y >> 1;
    if (img->format == DEIT_PIXEL_FORMAT_I420) {
        const uint8_t *us = plane_row(img, 1, cy), *vs = plane_row(img, 2, cy);
        for (int i = 0; i < n; i++) {
            int cx = (x0 + i) >> 1;
            u[i] = us[cx];
            v[i] = vs[cx];
        }
    } else {
        const uint8_t *uv = plane_row(img, 1, cy);
        for (int i = 0; i < n; i++) {
            int cx = (x0 + i) >> 1;
            u[i] = uv[2 * cx];
            v[i] = uv[2 * cx + 1];
        }
    }
}

/* scratch for the YUV path: three rows of int16 on the stack in chunks */
#define YUV_CHUNK 512

static void unpack_yuv(const struct deit_image *img, const struct deit_yuv_matrix *m, int y, int x0, int n,
                       int16_t *const dst[3]) {
    int16_t yb[YUV_CHUNK], ub[YUV_CHUNK], vb[YUV_CHUNK];
    for (int c0 = 0; c0 < n; c0 += YUV_CHUNK) {
        int cn = n - c0 < YUV_CHUNK ? n - c0 : YUV_CHUNK;
        int xs = x0 + c0;
        if (img->format == DEIT_PIXEL_FORMAT_YUY2) {
            const uint8_t *s = plane_row(img, 0, y);
            for (int i = 0; i < cn; i++) {
                int x = xs + i;
                yb[i] = s[2 * x];
                ub[i] = s[4 * (x >> 1) + 1];
                vb[i] = s[4 * (x >> 1) + 3];
            }
        } else {
            const uint8_t *s = plane_row(img, 0, y);
            for (int i = 0; i < cn; i++) yb[i] = s[xs + i];
            chroma_420(img, y, xs, cn, ub, vb);
        }
        yuv_to_rgb(m, yb, ub, vb, cn, dst[0] + c0, dst[1] + c0, dst[2] + c0);
    }
}

DEIT_CLONES
void deit_unpack_row(const struct deit_image *img, const struct deit_yuv_matrix *m, int y, int x0, int n,
                     int16_t *const dst[3]) {
    const uint8_t *s = plane_row(img, 0, y);
    switch (img->format) {
    case DEIT_PIXEL_FORMAT_RGB:  unpack_rgb(s + 3 * x0, n, dst[0], dst[1], dst[2]); break;
    case DEIT_PIXEL_FORMAT_BGR:  unpack_bgr(s + 3 * x0, n, dst[0], dst[1], dst[2]); break;
    case DEIT_PIXEL_FORMAT_RGBX:
    case DEIT_PIXEL_FORMAT_RGBA: unpack_rgbx(s + 4 * x0, n, dst[0], dst[1], dst[2]); break;
    case DEIT_PIXEL_FORMAT_BGRX:
    case DEIT_PIXEL_FORMAT_BGRA: unpack_bgrx(s + 4 * x0, n, dst[0], dst[1], dst[2]); break;
    case DEIT_PIXEL_FORMAT_XRGB:
    case DEIT_PIXEL_FORMAT_ARGB: unpack_xrgb(s + 4 * x0, n, dst[0], dst[1], dst[2]); break;
    case DEIT_PIXEL_FORMAT_XBGR:
    case DEIT_PIXEL_FORMAT_ABGR: unpack_xbgr(s + 4 * x0, n, dst[0], dst[1], dst[2]); break;
    case DEIT_PIXEL_FORMAT_GRAY8: unpack_gray(s + x0, n, dst[0]); break;
    case DEIT_PIXEL_FORMAT_I420:
    case DEIT_PIXEL_FORMAT_NV12:
    case DEIT_PIXEL_FORMAT_YUY2: unpack_yuv(img, m, y, x0, n, dst); break;
    default: break;
    }
}
