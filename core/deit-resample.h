/* deit-resample.h - Pillow's resize, as deit-preprocess.c and deit-resample.c share it.
 * Not installed.
 *
 * The resize reproduces Pillow's Resample.c (8 bits per channel) bit for bit:
 *   - per axis, precompute_coeffs(): double weights normalised to sum 1, then
 *     normalize_coeffs_8bpc(): 22-bit fixed point, round half away from zero;
 *   - horizontal pass first into a uint8 image, then vertical pass on that image;
 *   - acc = 1 << 21, acc += pixel * k (int32), out = clamp(acc >> 22, 0, 255).
 * NEAREST is Pillow's ImagingScaleAffine (accumulated double coordinate, truncated).
 *
 * Fast path layout: rows of the source are unpacked (colour conversion included) into
 * planar int16 rows; each output column is a dot product of `kpad` taps. The 22-bit
 * weight is split as k = kh * 2^11 + kl (kl in [0, 2^11)) so that both halves fit int16
 * and the dot products map onto pmaddwd; (hi << 11) + lo equals Pillow's int32 sum
 * exactly (modulo 2^32, like Pillow's own int accumulator).
 */
#ifndef DEIT_RESAMPLE_H
#define DEIT_RESAMPLE_H

#include "deit-internal.h"

#define DEIT_RS_PRECISION_BITS 22   /* Pillow: PRECISION_BITS = 32 - 8 - 2 */
#define DEIT_RS_KSPLIT         11   /* k = kh << 11 | kl */
#define DEIT_RS_ONE            (1 << DEIT_RS_PRECISION_BITS)

/* One axis of a resize, restricted to the output indices [o0, o1) that are needed.
 * For output index o0 + i: taps start at input index first[i], count[i] of them, weights
 * k[i * ksize + t] (22-bit fixed point). Identity and nearest axes are single taps of
 * weight 1 << 22, which reproduces the input value exactly. */
struct deit_axis {
    int      n;          /* o1 - o0 */
    int      ksize;      /* row stride of k (>= max count) */
    bool     pick;       /* single taps: identity (size unchanged) or NEAREST */
    int     *first;      /* [n] */
    int     *count;      /* [n] */
    int32_t *k;          /* [n * ksize] */
};

/* Pillow's resize of one axis from in_size to out_size (full box), outputs [o0, o1).
 * Identity when in_size == out_size (Pillow skips that pass). */
enum deit_status deit_axis_init(struct deit_axis *ax, int in_size, int out_size, int o0, int o1,
                                enum deit_resample filter);
void deit_axis_free(struct deit_axis *ax);

/* Naive reference: Pillow's ImagingResample / ImagingScaleAffine loop structure on an
 * interleaved uint8 image of `channels` channels (no crop): the algorithm stated plainly.
 * pp-ref checks it against Pillow, and the fast path against it on random geometries. */
enum deit_status deit_resize_ref(uint8_t *out, int out_w, int out_h, const uint8_t *in, int in_w, int in_h,
                                 int channels, enum deit_resample filter);

/* ---- kernels (deit-resample.c) ----------------------------------------------------- */
/* Horizontal pass of one row: for j in [0, n): dst_c[j] = clip8(1<<21 + sum_t src_c[off[j] + t] * k[j][t]),
 * k split into kh/kl int16 [n * kpad], kpad a multiple of 8. nplanes 1 or 3. */
void deit_hpass_row(uint8_t *const dst[3], const int16_t *const src[3], int nplanes, int n, const int *off,
                    const int16_t *kh, const int16_t *kl, int kpad);
/* Highest horizontal-pass implementation to use: -1 best available (default), 0 plain C
 * loop, 1 SSE2, 2 AVX2. Set by tests so every path is compared with Pillow. */
extern int deit_hpass_simd;

/* Vertical pass of one output row: dst[j] = clip8(1<<21 + sum_t rows[t][j] * k[t]),
 * rows[t] = src + t * stride. acc is scratch of n int32. */
void deit_vpass_row(uint8_t *dst, const uint8_t *src, size_t stride, const int32_t *k, int count, int n,
                    int32_t *acc);

#endif /* DEIT_RESAMPLE_H */
