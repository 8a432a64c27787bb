/* deit-yuv.c - row unpackers: one source row of any supported pixel format to planar
 * int16 R, G, B, the input of the horizontal resampling pass. Colour conversion happens
 * here, row by row, so no full-frame RGB copy is ever made.
 *
 * Packed RGB formats drop the alpha / padding byte, like PIL's .convert("RGB"). GRAY8
 * unpacks to a single plane (PIL "L" -> "RGB" sets R = G = B = L, and resampling each
 * channel separately with the same weights gives three equal planes, so one is enough).
 */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "deit-yuv.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__) /* ifunc resolvers run before TSan is initialised */
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
 * YUV -> RGB exactly as GStreamer 1.22 videoconvert (GstVideoConverter) computes it for
 * an RGB output (reference: gst-plugins-base gst-libs/gst/video/video-converter.c
 * compute_matrix_to_RGB / prepare_matrix / video_converter_matrix8_AYUV_ARGB,
 * video-orc.orc video_orc_convert_AYUV_ARGB, video-chroma.c; checked bit for bit
 * against gst-launch-1.0 ... videoconvert ! video/x-raw,format=RGB):
 *
 * Matrix: dm = 256 * 255 * YCbCr_to_RGB(Kr, Kb) * diag(1/(float)range) * offset(-range
 * offsets), in double, im = rint(dm). The fast "AYUV -> RGB" orc routine then uses only
 * five coefficients and works around 128 (it ignores the matrix's offset column, so in
 * limited range Y=235 gives 253, not 255 - that is what videoconvert outputs):
 *   s(x) = (int16)((x ^ 0x80) * 257)             (splatbw of x - 128)
 *   t    = (s(Y) * im00) >> 16                   (mulhsw)
 *   R    = clamp(t + (s(V) * im02 >> 16), -128, 127) + 128
 *   G    = clamp(t + (s(U) * im11 >> 16) + (s(V) * im12 >> 16), -128, 127) + 128
 *   B    = clamp(t + (s(U) * im21 >> 16), -128, 127) + 128
 *
 * Chroma: I420 -> RGB takes a fast path that repeats each chroma sample over its 2x2
 * block (nearest), whatever the chroma siting. NV12 and YUY2 take the generic path:
 * chroma upsampling of each unpacked line, horizontally first (centred siting:
 * (3a+b+2)>>2 / (a+3b+2)>>2; H-cosited: a, (a+b+1)>>1; the last pixel of an even width
 * keeps its sample), then for 4:2:0 vertically on line pairs (2k-1, 2k): line 2k+1 =
 * (3*row k + row k+1 + 2)>>2, line 2k = (row k-1 + 3*row k + 2)>>2, line 0 = row 0,
 * rows clamped to the frame (V-cosited: each line keeps row y/2).
 */

static void mat_mul(double d[4][4], const double a[4][4], const double b[4][4]) {
    double t[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double x = 0;
            for (int k = 0; k < 4; k++) x += a[i][k] * b[k][j];
            t[i][j] = x;
        }
    memcpy(d, t, sizeof t);
}

static void mat_diag(double a[4][4], double d0, double d1, double d2) {
    memset(a, 0, sizeof(double) * 16);
    a[0][0] = d0;
    a[1][1] = d1;
    a[2][2] = d2;
    a[3][3] = 1;
}

void deit_yuv_matrix_init(struct deit_yuv_matrix *m, enum deit_color_matrix matrix, bool full_range) {
    /* gst_video_color_matrix_get_Kr_Kb */
    double Kr = 0.2990, Kb = 0.1140;
    switch (matrix) {
    case DEIT_COLOR_MATRIX_BT709: Kr = 0.2126, Kb = 0.0722; break;
    case DEIT_COLOR_MATRIX_BT2020: Kr = 0.2627, Kb = 0.0593; break;
    case DEIT_COLOR_MATRIX_SMPTE240M: Kr = 0.212, Kb = 0.087; break;
    case DEIT_COLOR_MATRIX_FCC: Kr = 0.30, Kb = 0.11; break;
    default: break;
    }
    double Kg = 1.0 - Kr - Kb;
    /* gst_video_color_range_offsets for 8 bits */
    double off[3]   = {full_range ? 0 : 16, 128, 128};
    int    scale[3] = {full_range ? 255 : 219, full_range ? 255 : 224, full_range ? 255 : 224};
    double dm[4][4], a[4][4];
    mat_diag(dm, 1, 1, 1);
    mat_diag(a, 1, 1, 1);
    a[0][3] = -off[0];
    a[1][3] = -off[1];
    a[2][3] = -off[2];
    mat_mul(dm, a, dm);
    mat_diag(a, 1 / (float)scale[0], 1 / (float)scale[1], 1 / (float)scale[2]);   /* float, as gst */
    mat_mul(dm, a, dm);
    const double k[4][4] = {
        {1., 0., 2 * (1 - Kr), 0.},
        {1., -2 * Kb * (1 - Kb) / Kg, -2 * Kr * (1 - Kr) / Kg, 0.},
        {1., 2 * (1 - Kb), 0., 0.},
        {0., 0., 0., 1.},
    };
    mat_mul(dm, k, dm);
    mat_diag(a, 255.0f, 255.0f, 255.0f);   /* RGB output range */
    mat_mul(dm, a, dm);
    mat_diag(a, 256.0f, 256.0f, 256.0f);   /* SCALE_F */
    mat_mul(dm, a, dm);
    m->cy  = (int16_t)rint(dm[0][0]);
    m->crv = (int16_t)rint(dm[0][2]);
    m->cbu = (int16_t)rint(dm[2][1]);
    m->cgu = (int16_t)rint(dm[1][1]);
    m->cgv = (int16_t)rint(dm[1][2]);
}

static inline int16_t splat(uint8_t x) { return (int16_t)(uint16_t)((x ^ 0x80) * 257); }
static inline int16_t mulhs(int16_t a, int16_t b) { return (int16_t)(((int32_t)a * b) >> 16); }

/* always_inline: the hot loops must be compiled inside each target clone of deit_unpack_row */
#define HOT static inline __attribute__((always_inline))

HOT void yuv_to_rgb(const struct deit_yuv_matrix *m, const uint8_t *restrict yr, const uint8_t *restrict ur,
                       const uint8_t *restrict vr, int n, int16_t *restrict r, int16_t *restrict g,
                       int16_t *restrict b) {
    const int16_t cy = m->cy, crv = m->crv, cbu = m->cbu, cgu = m->cgu, cgv = m->cgv;
    /* clamp(x, -128, 127) + 128 == clamp(x + 128, 0, 255); all sums fit int16 */
    for (int i = 0; i < n; i++) {
        int16_t t = (int16_t)(mulhs(splat(yr[i]), cy) + 128);
        int16_t u = splat(ur[i]), v = splat(vr[i]);
        int16_t x = (int16_t)(t + mulhs(v, crv));
        r[i] = x < 0 ? 0 : x > 255 ? 255 : x;
        x = (int16_t)(t + mulhs(u, cgu) + mulhs(v, cgv));
        g[i] = x < 0 ? 0 : x > 255 ? 255 : x;
        x = (int16_t)(t + mulhs(u, cbu));
        b[i] = x < 0 ? 0 : x > 255 ? 255 : x;
    }
}

static const uint8_t *plane_row(const struct deit_image *img, int p, int y) {
    return img->data[p] + (ptrdiff_t)y * img->stride[p];
}

/* video-chroma.c horizontal 2x upsampling of one unpacked line (full frame width W), value
 * at column x; chroma sample k is c[k * step]. */
static inline int chroma_up_h1(const uint8_t *c, int step, int W, int x, bool cosited) {
    int k = x >> 1;
    if (cosited) return ((x & 1) && x < W - 1) ? (c[k * step] + c[(k + 1) * step] + 1) >> 1 : c[k * step];
    if (x == 0 || ((x & 1) && x == W - 1)) return c[k * step];
    if (x & 1) return (3 * c[k * step] + c[(k + 1) * step] + 2) >> 2;
    return (c[(k - 1) * step] + 3 * c[k * step] + 2) >> 2;
}

/* columns [xs, xs + n): scalar at the edges, pairs (2k+1, 2k+2) inside */
HOT void chroma_up_h(uint8_t *restrict out, const uint8_t *restrict c, int step, int W, int xs, int n,
                     bool cosited) {
    int i = 0;
    if (i < n && !((xs + i) & 1)) {
        out[i] = (uint8_t)chroma_up_h1(c, step, W, xs + i, cosited);
        i++;
    }
    int k = (xs + i) >> 1;   /* x = 2k + 1 */
    int pairs = (n - i) / 2;
    if (pairs > (W - 1 - (xs + i)) / 2) pairs = (W - 1 - (xs + i)) / 2;   /* need x + 1 <= W - 1 */
    if (pairs < 0) pairs = 0;
    const uint8_t *ck = c + (size_t)k * step;
    uint8_t *o = out + i;
    if (cosited) {
        for (int p = 0; p < pairs; p++) {
            int a = ck[p * step], b = ck[(p + 1) * step];
            o[2 * p]     = (uint8_t)((a + b + 1) >> 1);
            o[2 * p + 1] = (uint8_t)b;
        }
    } else {
        for (int p = 0; p < pairs; p++) {
            int a = ck[p * step], b = ck[(p + 1) * step];
            o[2 * p]     = (uint8_t)((3 * a + b + 2) >> 2);
            o[2 * p + 1] = (uint8_t)((a + 3 * b + 2) >> 2);
        }
    }
    for (i += 2 * pairs; i < n; i++) out[i] = (uint8_t)chroma_up_h1(c, step, W, xs + i, cosited);
}

/* NV12 chroma of line y: horizontal then vertical upsampling (see above) */
HOT void chroma_nv12(const struct deit_image *img, int y, int xs, int n, int off, uint8_t *out, uint8_t *tmp) {
    bool hcos = img->chroma_site & DEIT_CHROMA_SITE_H_COSITED;
    int  W = img->width, H = img->height;
    if ((img->chroma_site & DEIT_CHROMA_SITE_V_COSITED) || y == 0) {
        chroma_up_h(out, plane_row(img, 1, y >> 1) + off, 2, W, xs, n, hcos);
        return;
    }
    int a, b, wa, wb;
    if (y & 1) {
        a = y >> 1;
        b = (y + 1 < H ? y + 1 : H - 1) >> 1;
        wa = 3;
        wb = 1;
    } else {
        a = (y - 1) >> 1;
        b = y >> 1;
        wa = 1;
        wb = 3;
    }
    chroma_up_h(out, plane_row(img, 1, a) + off, 2, W, xs, n, hcos);
    chroma_up_h(tmp, plane_row(img, 1, b) + off, 2, W, xs, n, hcos);
    for (int i = 0; i < n; i++) out[i] = (uint8_t)((wa * out[i] + wb * tmp[i] + 2) >> 2);
}

#define YUV_CHUNK 512

/* each chroma sample twice: dst[i] = c[(xs + i) >> 1] */
HOT void dup2(uint8_t *restrict dst, const uint8_t *restrict c, int xs, int n) {
    c += xs >> 1;
    int i = 0;
    if (xs & 1) dst[i++] = *c++;
    int pairs = (n - i) >> 1;
    for (int k = 0; k < pairs; k++) {
        dst[i + 2 * k]     = c[k];
        dst[i + 2 * k + 1] = c[k];
    }
    i += 2 * pairs;
    if (i < n) dst[i] = c[pairs];
}

HOT void unpack_yuv(const struct deit_image *img, const struct deit_yuv_matrix *m, int y, int x0, int n,
                       int16_t *const dst[3]) {
    uint8_t yb[YUV_CHUNK], ub[YUV_CHUNK], vb[YUV_CHUNK], tb[YUV_CHUNK];
    const uint8_t *s0 = plane_row(img, 0, y);
    bool hcos = img->chroma_site & DEIT_CHROMA_SITE_H_COSITED;
    for (int c0 = 0; c0 < n; c0 += YUV_CHUNK) {
        int cn = n - c0 < YUV_CHUNK ? n - c0 : YUV_CHUNK;
        int xs = x0 + c0;
        const uint8_t *yp = yb;
        switch (img->format) {
        case DEIT_PIXEL_FORMAT_I420: {
            dup2(ub, plane_row(img, 1, y >> 1), xs, cn);
            dup2(vb, plane_row(img, 2, y >> 1), xs, cn);
            yp = s0 + xs;
            break;
        }
        case DEIT_PIXEL_FORMAT_NV12:
            chroma_nv12(img, y, xs, cn, 0, ub, tb);
            chroma_nv12(img, y, xs, cn, 1, vb, tb);
            yp = s0 + xs;
            break;
        default: /* YUY2: Y0 U Y1 V */
            for (int i = 0; i < cn; i++) yb[i] = s0[2 * (xs + i)];
            chroma_up_h(ub, s0 + 1, 4, img->width, xs, cn, hcos);
            chroma_up_h(vb, s0 + 3, 4, img->width, xs, cn, hcos);
            break;
        }
        yuv_to_rgb(m, yp, ub, vb, cn, dst[0] + c0, dst[1] + c0, dst[2] + c0);
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
