/* deit-resample.c - Pillow-exact resampling: filter weights, the two passes, a naive reference.
 *
 * Reference: python-pillow/Pillow src/libImaging/Resample.c (precompute_coeffs,
 * normalize_coeffs_8bpc, ImagingResampleHorizontal_8bpc / Vertical_8bpc,
 * ImagingResampleInner) and src/libImaging/Geometry.c (ImagingScaleAffine, used by
 * Image.resize for NEAREST). Every expression that feeds a weight is written in the same
 * order and precision as Pillow's, and floating-point contraction is disabled here so a
 * -march=native build cannot fuse a multiply-add Pillow's build does not fuse.
 */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "deit-resample.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Hot kernels get an AVX2 clone picked at load time (ifunc); the default clone is baseline
 * x86-64 (SSE2), so the binary still runs anywhere. Both clones are plain C that gcc
 * vectorises (pmaddwd for the int16 dot products). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__) /* ifunc resolvers run before TSan is initialised */
#define DEIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DEIT_CLONES
#endif

/* ---------------------------------------------------------------------------------------
 * Filters (Resample.c)
 */
static double box_filter(double x) {
    if (x > -0.5 && x <= 0.5) return 1.0;
    return 0.0;
}

static double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    if (x < 1.0) return 1.0 - x;
    return 0.0;
}

static double hamming_filter(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * M_PI;
    return sin(x) / x * (0.54f + 0.46f * cos(x));   /* float constants, as in Pillow */
}

static double bicubic_filter(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

static double lanczos_filter(double x) {
    if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
    return 0.0;
}

struct filter {
    double (*fn)(double x);
    double support;
};

static const struct filter FILTERS[6] = {
    [DEIT_RESAMPLE_NEAREST]  = {NULL, 0.0},
    [DEIT_RESAMPLE_LANCZOS]  = {lanczos_filter, 3.0},
    [DEIT_RESAMPLE_BILINEAR] = {bilinear_filter, 1.0},
    [DEIT_RESAMPLE_BICUBIC]  = {bicubic_filter, 2.0},
    [DEIT_RESAMPLE_BOX]      = {box_filter, 0.5},
    [DEIT_RESAMPLE_HAMMING]  = {hamming_filter, 1.0},
};

/* ---------------------------------------------------------------------------------------
 * Coefficients
 */

/* Pillow's ksize: (int)ceil(support * filterscale) * 2 + 1 */
static int coeff_ksize(int in_size, int out_size, const struct filter *f) {
    float  in1 = (float)in_size, in0 = 0.0f;
    double filterscale = (double)(in1 - in0) / out_size;
    if (filterscale < 1.0) filterscale = 1.0;
    return (int)ceil(f->support * filterscale) * 2 + 1;
}

/* precompute_coeffs + normalize_coeffs_8bpc for output indices [o0, o1) of a full-image
 * box (in0 = 0, in1 = in_size as a C float, as _imaging.c passes the box). */
static void precompute_coeffs(int in_size, int out_size, int o0, int o1, const struct filter *f, int ksize,
                              int *first, int *count, int32_t *kk, double *w) {
    float  in0 = 0.0f, in1 = (float)in_size;
    double scale, filterscale;
    filterscale = scale = (double)(in1 - in0) / out_size;
    if (filterscale < 1.0) filterscale = 1.0;
    double support = f->support * filterscale;
    for (int xx = o0; xx < o1; xx++) {
        double center = in0 + (xx + 0.5) * scale;
        double ww = 0.0;
        double ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        if (xmax > ksize) xmax = ksize; /* cannot happen; keeps the table in bounds */
        for (int x = 0; x < xmax; x++) {
            double v = f->fn((x + xmin - center + 0.5) * ss);
            w[x] = v;
            ww += v;
        }
        for (int x = 0; x < xmax; x++) {
            if (ww != 0.0) w[x] /= ww;
        }
        int32_t *k = kk + (size_t)(xx - o0) * ksize;
        for (int x = 0; x < ksize; x++) {
            if (x >= xmax) k[x] = 0;
            else if (w[x] < 0) k[x] = (int)(-0.5 + w[x] * (1 << DEIT_RS_PRECISION_BITS));
            else k[x] = (int)(0.5 + w[x] * (1 << DEIT_RS_PRECISION_BITS));
        }
        first[xx - o0] = xmin;
        count[xx - o0] = xmax < 0 ? 0 : xmax;
    }
}

/* ImagingScaleAffine's coordinate table: xo = a*0.5, then xo += a per output pixel
 * (accumulated, not recomputed), COORD(v) = v < 0 ? -1 : (int)v. Out-of-range -> -1. */
static void nearest_table(int in_size, int out_size, int o0, int o1, int *idx) {
    double a  = (double)((float)in_size - 0.0f) / out_size;
    double xo = 0.0 + a * 0.5;
    for (int x = 0; x < o1; x++) {
        int xin = xo < 0.0 ? -1 : (int)xo;
        if (x >= o0) idx[x - o0] = (xin >= 0 && xin < in_size) ? xin : -1;
        xo += a;
    }
}

void deit_axis_free(struct deit_axis *ax) {
    if (!ax) return;
    free(ax->first);
    free(ax->count);
    free(ax->k);
    memset(ax, 0, sizeof *ax);
}

enum deit_status deit_axis_init(struct deit_axis *ax, int in_size, int out_size, int o0, int o1,
                                enum deit_resample filter) {
    memset(ax, 0, sizeof *ax);
    if (in_size < 1 || out_size < 1 || o0 < 0 || o1 > out_size || o1 < o0 ||
        (unsigned)filter > DEIT_RESAMPLE_HAMMING)
        return DEIT_STATUS_ERROR_INVALID_ARG;
    int  n    = o1 - o0;
    bool pick = filter == DEIT_RESAMPLE_NEAREST || in_size == out_size;
    int  ksize = pick ? 1 : coeff_ksize(in_size, out_size, &FILTERS[filter]);
    ax->n     = n;
    ax->ksize = ksize;
    ax->pick  = pick;
    ax->first = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    ax->count = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    ax->k     = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1) * (size_t)ksize);
    double *w = pick ? NULL : malloc(sizeof(double) * (size_t)ksize);
    if (!ax->first || !ax->count || !ax->k || (!pick && !w)) {
        free(w);
        deit_axis_free(ax);
        return DEIT_STATUS_ERROR_NO_MEMORY;
    }
    if (pick) {
        /* Pillow skips a pass whose size does not change (copy), and NEAREST picks. A single
         * tap of weight 1<<22 reproduces the input value exactly. */
        if (in_size == out_size) {
            for (int i = 0; i < n; i++) ax->first[i] = o0 + i;
        } else {
            nearest_table(in_size, out_size, o0, o1, ax->first);
        }
        for (int i = 0; i < n; i++) {
            ax->count[i] = ax->first[i] < 0 ? 0 : 1;
            if (ax->first[i] < 0) ax->first[i] = 0;
            ax->k[i] = DEIT_RS_ONE;
        }
    } else {
        precompute_coeffs(in_size, out_size, o0, o1, &FILTERS[filter], ksize, ax->first, ax->count, ax->k, w);
    }
    free(w);
    return DEIT_STATUS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Kernels
 */
static inline uint8_t clip8(int32_t v) {
    v >>= DEIT_RS_PRECISION_BITS; /* arithmetic shift, as Pillow's clip8 */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Horizontal pass. Each output value is sum_t s[t] * k[t] with k = kh << 11 | kl; the two
 * int16 dot products map onto pmaddwd. The three channels of one output column share the
 * weight loads, and their four partial-sum vectors (R, G, B, unused) are reduced together.
 * Integer sums are exact modulo 2^32 in any order, so this equals Pillow's sequential sum. */
static void hpass_row_c(uint8_t *const dst[3], const int16_t *const src[3], int nplanes, int n, const int *off,
                        const int16_t *kh, const int16_t *kl, int kpad) {
    for (int c = 0; c < nplanes; c++) {
        for (int j = 0; j < n; j++) {
            const int16_t *sp = src[c] + off[j];
            const int16_t *h  = kh + (size_t)j * kpad, *l = kl + (size_t)j * kpad;
            int32_t hi = 0, lo = 0;
            for (int t = 0; t < kpad; t++) {
                hi += sp[t] * h[t];
                lo += sp[t] * l[t];
            }
            uint32_t acc = (1u << (DEIT_RS_PRECISION_BITS - 1)) + ((uint32_t)hi << DEIT_RS_KSPLIT) + (uint32_t)lo;
            dst[c][j] = clip8((int32_t)acc);
        }
    }
}

#if defined(__SSE2__) && defined(__GNUC__)
#include <immintrin.h>
#define HPASS_SIMD 1

/* lanes of v0..v3 summed: [sum v0, sum v1, sum v2, sum v3] */
static inline __m128i hsum4(__m128i v0, __m128i v1, __m128i v2, __m128i v3) {
    __m128i t0 = _mm_add_epi32(_mm_unpacklo_epi32(v0, v1), _mm_unpackhi_epi32(v0, v1));
    __m128i t1 = _mm_add_epi32(_mm_unpacklo_epi32(v2, v3), _mm_unpackhi_epi32(v2, v3));
    return _mm_add_epi32(_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1));
}

/* 1<<21 + x, >> 22, clamp to [0, 255]: 4 bytes */
static inline uint32_t clip8x4(__m128i x) {
    x = _mm_srai_epi32(_mm_add_epi32(x, _mm_set1_epi32(1 << (DEIT_RS_PRECISION_BITS - 1))), DEIT_RS_PRECISION_BITS);
    x = _mm_packs_epi32(x, x);   /* |x| <= 2^9 here, no saturation */
    x = _mm_packus_epi16(x, x);  /* clamp to [0, 255] */
    return (uint32_t)_mm_cvtsi128_si32(x);
}

static inline __m128i combine(__m128i hi, __m128i lo) {
    return _mm_add_epi32(_mm_slli_epi32(hi, DEIT_RS_KSPLIT), lo);
}

/* one output value (one plane, one column) as a vector of partial sums */
static inline __m128i dot_sse2(const int16_t *sp, const int16_t *h, const int16_t *l, int kpad) {
    __m128i hi = _mm_setzero_si128(), lo = hi;
    for (int t = 0; t < kpad; t += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(sp + t));
        hi = _mm_add_epi32(hi, _mm_madd_epi16(x, _mm_loadu_si128((const __m128i *)(h + t))));
        lo = _mm_add_epi32(lo, _mm_madd_epi16(x, _mm_loadu_si128((const __m128i *)(l + t))));
    }
    return combine(hi, lo);
}

static void hpass_row_sse2(uint8_t *const dst[3], const int16_t *const src[3], int nplanes, int n,
                           const int *off, const int16_t *kh, const int16_t *kl, int kpad) {
    const __m128i z = _mm_setzero_si128();
    if (nplanes == 3) {
        for (int j = 0; j < n; j++) {
            const int16_t *h = kh + (size_t)j * kpad, *l = kl + (size_t)j * kpad;
            const int16_t *s0 = src[0] + off[j], *s1 = src[1] + off[j], *s2 = src[2] + off[j];
            __m128i hi0 = z, lo0 = z, hi1 = z, lo1 = z, hi2 = z, lo2 = z;
            for (int t = 0; t < kpad; t += 8) {
                __m128i hh = _mm_loadu_si128((const __m128i *)(h + t));
                __m128i ll = _mm_loadu_si128((const __m128i *)(l + t));
                __m128i x  = _mm_loadu_si128((const __m128i *)(s0 + t));
                hi0 = _mm_add_epi32(hi0, _mm_madd_epi16(x, hh));
                lo0 = _mm_add_epi32(lo0, _mm_madd_epi16(x, ll));
                x   = _mm_loadu_si128((const __m128i *)(s1 + t));
                hi1 = _mm_add_epi32(hi1, _mm_madd_epi16(x, hh));
                lo1 = _mm_add_epi32(lo1, _mm_madd_epi16(x, ll));
                x   = _mm_loadu_si128((const __m128i *)(s2 + t));
                hi2 = _mm_add_epi32(hi2, _mm_madd_epi16(x, hh));
                lo2 = _mm_add_epi32(lo2, _mm_madd_epi16(x, ll));
            }
            uint32_t v = clip8x4(hsum4(combine(hi0, lo0), combine(hi1, lo1), combine(hi2, lo2), z));
            dst[0][j] = (uint8_t)v;
            dst[1][j] = (uint8_t)(v >> 8);
            dst[2][j] = (uint8_t)(v >> 16);
        }
        return;
    }
    /* one plane (GRAY8): four output columns per reduction */
    const int16_t *s = src[0];
    uint8_t       *d = dst[0];
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        __m128i v[4];
        for (int q = 0; q < 4; q++)
            v[q] = dot_sse2(s + off[j + q], kh + (size_t)(j + q) * kpad, kl + (size_t)(j + q) * kpad, kpad);
        uint32_t r = clip8x4(hsum4(v[0], v[1], v[2], v[3]));
        memcpy(d + j, &r, 4);
    }
    for (; j < n; j++)
        d[j] = (uint8_t)clip8x4(hsum4(dot_sse2(s + off[j], kh + (size_t)j * kpad, kl + (size_t)j * kpad, kpad), z, z, z));
}

#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 5)
#define HPASS_AVX2 1
/* The same with 16 taps per step (kpad % 16 == 8 leaves one 8-tap SSE step). */
__attribute__((target("avx2"))) static inline __m128i reduce256(__m256i v) {
    return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

__attribute__((target("avx2"))) static inline __m256i combine256(__m256i hi, __m256i lo) {
    return _mm256_add_epi32(_mm256_slli_epi32(hi, DEIT_RS_KSPLIT), lo);
}

__attribute__((target("avx2"))) static void hpass_row_avx2(uint8_t *const dst[3], const int16_t *const src[3],
                                                          int nplanes, int n, const int *off, const int16_t *kh,
                                                          const int16_t *kl, int kpad) {
    if (nplanes != 3) {
        hpass_row_sse2(dst, src, nplanes, n, off, kh, kl, kpad);
        return;
    }
    const int k16 = kpad & ~15;
    for (int j = 0; j < n; j++) {
        const int16_t *h = kh + (size_t)j * kpad, *l = kl + (size_t)j * kpad;
        const int16_t *s0 = src[0] + off[j], *s1 = src[1] + off[j], *s2 = src[2] + off[j];
        __m256i hi0 = _mm256_setzero_si256(), lo0 = hi0, hi1 = hi0, lo1 = hi0, hi2 = hi0, lo2 = hi0;
        for (int t = 0; t < k16; t += 16) {
            __m256i hh = _mm256_loadu_si256((const __m256i *)(h + t));
            __m256i ll = _mm256_loadu_si256((const __m256i *)(l + t));
            __m256i x  = _mm256_loadu_si256((const __m256i *)(s0 + t));
            hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(x, hh));
            lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(x, ll));
            x   = _mm256_loadu_si256((const __m256i *)(s1 + t));
            hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(x, hh));
            lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(x, ll));
            x   = _mm256_loadu_si256((const __m256i *)(s2 + t));
            hi2 = _mm256_add_epi32(hi2, _mm256_madd_epi16(x, hh));
            lo2 = _mm256_add_epi32(lo2, _mm256_madd_epi16(x, ll));
        }
        __m128i a0 = reduce256(combine256(hi0, lo0));
        __m128i a1 = reduce256(combine256(hi1, lo1));
        __m128i a2 = reduce256(combine256(hi2, lo2));
        if (k16 < kpad) {
            __m128i hh = _mm_loadu_si128((const __m128i *)(h + k16));
            __m128i ll = _mm_loadu_si128((const __m128i *)(l + k16));
            __m128i x  = _mm_loadu_si128((const __m128i *)(s0 + k16));
            a0 = _mm_add_epi32(a0, combine(_mm_madd_epi16(x, hh), _mm_madd_epi16(x, ll)));
            x  = _mm_loadu_si128((const __m128i *)(s1 + k16));
            a1 = _mm_add_epi32(a1, combine(_mm_madd_epi16(x, hh), _mm_madd_epi16(x, ll)));
            x  = _mm_loadu_si128((const __m128i *)(s2 + k16));
            a2 = _mm_add_epi32(a2, combine(_mm_madd_epi16(x, hh), _mm_madd_epi16(x, ll)));
        }
        uint32_t v = clip8x4(hsum4(a0, a1, a2, _mm_setzero_si128()));
        dst[0][j] = (uint8_t)v;
        dst[1][j] = (uint8_t)(v >> 8);
        dst[2][j] = (uint8_t)(v >> 16);
    }
}
#endif
#endif /* __SSE2__ */

int deit_hpass_simd = -1;

static int hpass_best(void) {
#if defined(HPASS_AVX2)
    if (deit_cpu_has_avx2()) return 2;   /* honours DEIT_DISABLE_AVX2=1, like the forward kernels */
#endif
#if defined(HPASS_SIMD)
    return 1;
#else
    return 0;
#endif
}

void deit_hpass_row(uint8_t *const dst[3], const int16_t *const src[3], int nplanes, int n, const int *off,
                    const int16_t *kh, const int16_t *kl, int kpad) {
    int best = hpass_best();
    int lvl  = deit_hpass_simd >= 0 && deit_hpass_simd < best ? deit_hpass_simd : best;
    switch (lvl) {
#if defined(HPASS_AVX2)
    case 2: hpass_row_avx2(dst, src, nplanes, n, off, kh, kl, kpad); break;
#endif
#if defined(HPASS_SIMD)
    case 1: hpass_row_sse2(dst, src, nplanes, n, off, kh, kl, kpad); break;
#endif
    default: hpass_row_c(dst, src, nplanes, n, off, kh, kl, kpad); break;
    }
}

DEIT_CLONES
void deit_vpass_row(uint8_t *dst, const uint8_t *src, size_t stride, const int32_t *k, int count, int n,
                    int32_t *acc) {
    if (count == 1 && k[0] == DEIT_RS_ONE) {
        memcpy(dst, src, (size_t)n);
        return;
    }
    for (int j = 0; j < n; j++) acc[j] = 1 << (DEIT_RS_PRECISION_BITS - 1);
    int t = 0;
    for (; t + 1 < count; t += 2) {
        const uint8_t *r0 = src + (size_t)t * stride, *r1 = r0 + stride;
        int32_t        k0 = k[t], k1 = k[t + 1];
        for (int j = 0; j < n; j++) acc[j] += r0[j] * k0 + r1[j] * k1;
    }
    if (t < count) {
        const uint8_t *r0 = src + (size_t)t * stride;
        int32_t        k0 = k[t];
        for (int j = 0; j < n; j++) acc[j] += r0[j] * k0;
    }
    for (int j = 0; j < n; j++) dst[j] = clip8(acc[j]);
}

/* ---------------------------------------------------------------------------------------
 * Naive reference with Pillow's structure (ImagingResampleInner, ImagingScaleAffine).
 */
static enum deit_status resize_ref_nearest(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih,
                                           int ch) {
    int *xi = malloc(sizeof(int) * (size_t)ow), *yi = malloc(sizeof(int) * (size_t)oh);
    if (!xi || !yi) {
        free(xi);
        free(yi);
        return DEIT_STATUS_ERROR_NO_MEMORY;
    }
    nearest_table(iw, ow, 0, ow, xi);
    nearest_table(ih, oh, 0, oh, yi);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int c = 0; c < ch; c++)
                out[((size_t)y * ow + x) * ch + c] =
                    (xi[x] < 0 || yi[y] < 0) ? 0 : in[((size_t)yi[y] * iw + xi[x]) * ch + c];
    free(xi);
    free(yi);
    return DEIT_STATUS_OK;
}

enum deit_status deit_resize_ref(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih, int ch,
                                 enum deit_resample filter) {
    if (ow < 1 || oh < 1 || iw < 1 || ih < 1 || ch < 1 || (unsigned)filter > DEIT_RESAMPLE_HAMMING)
        return DEIT_STATUS_ERROR_INVALID_ARG;
    if (ow == iw && oh == ih) { /* Image.resize: same size and full box -> copy */
        memcpy(out, in, (size_t)iw * ih * ch);
        return DEIT_STATUS_OK;
    }
    if (filter == DEIT_RESAMPLE_NEAREST) return resize_ref_nearest(out, ow, oh, in, iw, ih, ch);

    const struct filter *f = &FILTERS[filter];
    bool need_h = ow != iw, need_v = oh != ih;
    int  ksv = coeff_ksize(ih, oh, f), ksh = coeff_ksize(iw, ow, f);
    int *bv_first = malloc(sizeof(int) * (size_t)oh), *bv_count = malloc(sizeof(int) * (size_t)oh);
    int *bh_first = malloc(sizeof(int) * (size_t)ow), *bh_count = malloc(sizeof(int) * (size_t)ow);
    int32_t *kv = malloc(sizeof(int32_t) * (size_t)oh * ksv), *kh = malloc(sizeof(int32_t) * (size_t)ow * ksh);
    double  *w  = malloc(sizeof(double) * (size_t)(ksv > ksh ? ksv : ksh));
    uint8_t *tmp = NULL;
    enum deit_status st = DEIT_STATUS_ERROR_NO_MEMORY;
    if (!bv_first || !bv_count || !bh_first || !bh_count || !kv || !kh || !w) goto done;
    precompute_coeffs(ih, oh, 0, oh, f, ksv, bv_first, bv_count, kv, w);
    precompute_coeffs(iw, ow, 0, ow, f, ksh, bh_first, bh_count, kh, w);

    int ybox_first = bv_first[0];
    int ybox_last  = bv_first[oh - 1] + bv_count[oh - 1];
    const uint8_t *src = in;
    int src_w = iw;
    if (need_h) {
        for (int i = 0; i < oh; i++) bv_first[i] -= ybox_first;
        int th = ybox_last - ybox_first;
        tmp = malloc((size_t)ow * th * ch);
        if (!tmp) goto done;
        for (int yy = 0; yy < th; yy++)
            for (int xx = 0; xx < ow; xx++)
                for (int c = 0; c < ch; c++) {
                    int ss = 1 << (DEIT_RS_PRECISION_BITS - 1);
                    for (int x = 0; x < bh_count[xx]; x++)
                        ss += in[((size_t)(yy + ybox_first) * iw + x + bh_first[xx]) * ch + c] * kh[xx * ksh + x];
                    tmp[((size_t)yy * ow + xx) * ch + c] = clip8(ss);
                }
        src = tmp;
        src_w = ow;
    }
    if (need_v) {
        for (int yy = 0; yy < oh; yy++)
            for (int xx = 0; xx < src_w; xx++)
                for (int c = 0; c < ch; c++) {
                    int ss = 1 << (DEIT_RS_PRECISION_BITS - 1);
                    for (int y = 0; y < bv_count[yy]; y++)
                        ss += src[((size_t)(y + bv_first[yy]) * src_w + xx) * ch + c] * kv[yy * ksv + y];
                    out[((size_t)yy * src_w + xx) * ch + c] = clip8(ss);
                }
    } else {
        memcpy(out, src, (size_t)ow * oh * ch);
    }
    st = DEIT_STATUS_OK;
done:
    free(bv_first);
    free(bv_count);
    free(bh_first);
    free(bh_count);
    free(kv);
    free(kh);
    free(w);
    free(tmp);
    return st;
}
