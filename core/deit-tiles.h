/* deit-tiles.h - the register-tile GEMM kernels of the linear layers and of eager attention,
 * written once and compiled once per instruction set: deit-layers.c includes this file
 * for AVX-512 (W = 16 floats per vector, 12-row tiles), AVX2 + FMA (W = 8, 6 rows) and
 * portable C (W = 4, GCC vector extensions, 6 rows), after defining
 *
 *   TILE_SFX       suffix of the functions defined here (_avx512, _avx2, _portable)
 *   TILE_TARGET    function attribute (__attribute__((target("...")))) or nothing
 *   TILE_W         floats per vector;  TILE_NR  rows of a register tile
 *   VT             the vector type;    V_LOADU(p) V_STOREU(p, v) V_BCAST(p) V_ZERO
 *   V_FMA(a, b, c) a * b + c;          V_ADD(a, b) V_MUL(a, b) V_SET1(x)
 *   V_PREFETCH(p)  prefetch for reading (may be empty)
 *   TILE_SOFTMAX_ROW(row, n)  softmax of one row in place
 *   TILE_GELU(v)   exact (erf) GELU of every lane, the same bits as the set's gelu kernel
 * (this file #undefs them all at its end).
 *
 * A tile is NR rows x NV vectors (NV = 2, or 1 for a last odd 16-column panel when W = 16):
 * out[r][c] = sum_k a[r][k] b[k][c], with the NR x NV accumulators in registers. B comes
 * either from weights packed into 16-column panels (wp[N/16][K][16]: linear layers, and
 * attention's K packed per head) or from row-major rows (attention's V). Each output
 * element is one chain of fused multiply-adds over k in order, whatever W, NR or the
 * column / row slice a worker computes, so the AVX2 and AVX-512 kernels give identical
 * bits and the forward pass is deterministic for any split.
 */

#define TILE_CAT_(a, b) a##b
#define TILE_CAT(a, b)  TILE_CAT_(a, b)
#define TILE_FN(name)   TILE_CAT(name, TILE_SFX)

/* the register tiles must be fully unrolled to stay in registers (-O2 does not) */
#define TILE_UNROLL _Pragma("GCC unroll 16")

/* Pointer to column c (at k = 0) of B: panels of 16 columns, K rows each (ldb 16) */
static inline const float *TILE_FN(panel_col)(const float *wp, int K, int c) {
    return wp + (size_t)(c / 16) * K * 16 + c % 16;
}

/* out[r][0 .. NV*W) = epilogue(sum_k a[r][k] b_v[k * ldb]) for r < NR, where b_v = bv[v].
 * Epilogue: scale != 0: acc * scale (attention scores); else acc + bias (zero when bias
 * is NULL), then + out when accumulate. pf: prefetch B PF_DIST k steps ahead (the first
 * row tile of a pass over a panel; see linear_packed). */
static inline __attribute__((always_inline)) TILE_TARGET void
TILE_FN(tile)(int NR, int NV, bool pf, float *out, int ldo, const float *a, int lda, const float *b0,
              const float *b1, size_t ldb, int K, const float *bias, float scale, bool accumulate) {
    VT acc[TILE_NR][2];
    TILE_UNROLL for (int r = 0; r < TILE_NR; r++) acc[r][0] = acc[r][1] = V_ZERO;
    for (int k = 0; k < K; k++) {
        const VT w0 = V_LOADU(b0 + (size_t)k * ldb);
        const VT w1 = NV > 1 ? V_LOADU(b1 + (size_t)k * ldb) : w0;
        if (pf) { /* the address may lie past B (a prefetch never faults): form it as an integer */
            V_PREFETCH((const char *)((uintptr_t)b0 + ((size_t)k + PF_DIST) * ldb * sizeof(float)));
            if (NV > 1 && b1 - b0 >= 16) V_PREFETCH((const char *)((uintptr_t)b1 + ((size_t)k + PF_DIST) * ldb * sizeof(float)));
        }
        TILE_UNROLL for (int r = 0; r < TILE_NR; r++) {
            if (r < NR) {
                const VT x = V_BCAST(a + (size_t)r * lda + k);
                acc[r][0]  = V_FMA(x, w0, acc[r][0]);
                if (NV > 1) acc[r][1] = V_FMA(x, w1, acc[r][1]);
            }
        }
    }
    if (scale != 0.0f) {
        const VT vs = V_SET1(scale);
        TILE_UNROLL for (int r = 0; r < TILE_NR; r++) {
            if (r < NR) {
                V_STOREU(out + (size_t)r * ldo, V_MUL(acc[r][0], vs));
                if (NV > 1) V_STOREU(out + (size_t)r * ldo + TILE_W, V_MUL(acc[r][1], vs));
            }
        }
        return;
    }
    const VT c0 = bias ? V_LOADU(bias) : V_ZERO;
    const VT c1 = bias && NV > 1 ? V_LOADU(bias + TILE_W) : V_ZERO;
    TILE_UNROLL for (int r = 0; r < TILE_NR; r++) {
        if (r < NR) {
            float *o  = out + (size_t)r * ldo;
            VT     v0 = acc[r][0], v1 = acc[r][1];
            if (bias) v0 = V_ADD(v0, c0), v1 = V_ADD(v1, c1);
            if (accumulate) {
                v0 = V_ADD(v0, V_LOADU(o));
                if (NV > 1) v1 = V_ADD(v1, V_LOADU(o + TILE_W));
            }
            V_STOREU(o, v0);
            if (NV > 1) V_STOREU(o + TILE_W, v1);
        }
    }
}

/* One row tile of nr <= TILE_NR rows, NV vectors: the row count as a constant */
#define TILE_ROWS_CASE(n)                                                                                     \
    case n:                                                                                                   \
        if (NV == 2) TILE_FN(tile)(n, 2, pf, out, ldo, a, lda, b0, b1, ldb, K, bias, scale, accumulate);      \
        else TILE_FN(tile)(n, 1, pf, out, ldo, a, lda, b0, b1, ldb, K, bias, scale, accumulate);              \
        break;
static inline __attribute__((always_inline)) TILE_TARGET void
TILE_FN(tile_rows)(int nr, int NV, bool pf, float *out, int ldo, const float *a, int lda, const float *b0,
                   const float *b1, size_t ldb, int K, const float *bias, float scale, bool accumulate) {
    switch (nr) {
#if TILE_NR > 6
        TILE_ROWS_CASE(16) TILE_ROWS_CASE(15) TILE_ROWS_CASE(14) TILE_ROWS_CASE(13) TILE_ROWS_CASE(12)
        TILE_ROWS_CASE(11) TILE_ROWS_CASE(10) TILE_ROWS_CASE(9) TILE_ROWS_CASE(8) TILE_ROWS_CASE(7)
#endif
        TILE_ROWS_CASE(6) TILE_ROWS_CASE(5) TILE_ROWS_CASE(4) TILE_ROWS_CASE(3) TILE_ROWS_CASE(2)
    default:
        if (NV == 2) TILE_FN(tile)(1, 2, pf, out, ldo, a, lda, b0, b1, ldb, K, bias, scale, accumulate);
        else TILE_FN(tile)(1, 1, pf, out, ldo, a, lda, b0, b1, ldb, K, bias, scale, accumulate);
    }
}
#undef TILE_ROWS_CASE

/* GELU of a tile just stored (nr rows of NV vectors, in L1): a pass of its own, not in the
 * tile's registers, where its constants and temporaries made GCC spill the AVX2
 * accumulators in the k loop (fc1 of DeiT-base ran at half speed) */
static __attribute__((noinline)) TILE_TARGET void TILE_FN(gelu_tile)(float *out, int ldo, int nr, int NV) {
    for (int r = 0; r < nr; r++)
        for (int v = 0; v < NV; v++) {
            float *o = out + (size_t)r * ldo + v * TILE_W;
            V_STOREU(o, TILE_GELU(V_LOADU(o)));
        }
}

/* Columns [n0, n1) (multiples of 16) of out (M, ldo) (+)= inp (M, K) . W^T + bias, W packed
 * into 16-column panels; scale != 0 instead multiplies by scale (no bias, attention scores).
 * Column groups of 2W outer, row tiles inner: a group's panel(s) stay in L1/L2 while
 * every row tile reads them; the first row tile prefetches them. Inlined into each caller,
 * so scale, prefetch and gelu are constants there and the tiles carry no branches for
 * them: the AVX-512 tiles on DeiT's shapes went from 101-111 to 105-116 GFLOP/s on one
 * Zen 4 core (bench/fma-peak --gemm, bench/README.md). */
static inline __attribute__((always_inline)) TILE_TARGET void
TILE_FN(gemm_panels)(float *out, int ldo, const float *inp, int ldi, const float *wp, const float *bias, int M, int K,
                     int n0, int n1, bool accumulate, float scale, bool prefetch, bool gelu) {
    for (int n = n0; n < n1;) {
        const int    NV = n1 - n >= 2 * TILE_W ? 2 : 1;
        const float *b0 = TILE_FN(panel_col)(wp, K, n), *b1 = TILE_FN(panel_col)(wp, K, n + TILE_W);
        const float *bb = bias ? bias + n : NULL;
        for (int m = 0; m < M; m += TILE_NR) {
            const int nr = M - m < TILE_NR ? M - m : TILE_NR;
            TILE_FN(tile_rows)(nr, NV, prefetch && m == 0, out + (size_t)m * ldo + n, ldo, inp + (size_t)m * ldi,
                               ldi, b0, b1, 16, K, bb, scale, accumulate);
            if (gelu) TILE_FN(gelu_tile)(out + (size_t)m * ldo + n, ldo, nr, NV);
        }
        n += NV * TILE_W;
    }
}

static TILE_TARGET void TILE_FN(linear_packed)(float *out, int ldo, const float *inp, int ldi, const float *wp,
                                               const float *bias, int M, int K, int n0, int n1, bool accumulate) {
    if (M > 0 && n1 > n0)
        TILE_FN(gemm_panels)(out, ldo, inp, ldi, wp, bias, M, K, n0, n1, accumulate, 0.0f, true, false);
}

/* the same with GELU (exact erf form) on every output, no residual: fc1 of a layer, whose
 * outputs go through GELU tile by tile right after each is stored (gelu_tile, still in L1)
 * instead of in a second pass over the whole output */
static TILE_TARGET void TILE_FN(linear_packed_gelu)(float *out, int ldo, const float *inp, int ldi, const float *wp,
                                                    const float *bias, int M, int K, int n0, int n1) {
    if (M > 0 && n1 > n0) TILE_FN(gemm_panels)(out, ldo, inp, ldi, wp, bias, M, K, n0, n1, false, 0.0f, true, true);
}

/* Eager attention of query rows [r0, r1) of one head, K packed into 16-key panels (kp),
 * scores (r1 - r0, round_up(T, 16)): per row tile the scores against every key panel and
 * their softmax, then the context tiles p (rows, T) . V (T, HD) with V read in place. */
static TILE_TARGET void TILE_FN(attention_packed)(float *ctx, const float *q, const float *kp, const float *v,
                                                  float *scores, int r0, int r1, int T, int HD, int ld,
                                                  float scale) {
    const int R = r1 - r0, Tp = (T + 15) / 16 * 16;
    if (R <= 0) return;
    for (int r = 0; r < R; r += TILE_NR) {
        const int nr = R - r < TILE_NR ? R - r : TILE_NR;
        float    *s  = scores + (size_t)r * Tp;
        TILE_FN(gemm_panels)(s, Tp, q + (size_t)(r0 + r) * ld, ld, kp, NULL, nr, HD, 0, Tp, false, scale, false, false);
        for (int i = 0; i < nr; i++) TILE_SOFTMAX_ROW(s + (size_t)i * Tp, T);
    }
    for (int c = 0; c < HD;) {
        const int NV = HD - c >= 2 * TILE_W ? 2 : 1;
        for (int r = 0; r < R; r += TILE_NR) {
            const int nr = R - r < TILE_NR ? R - r : TILE_NR;
            TILE_FN(tile_rows)(nr, NV, false, ctx + (size_t)(r0 + r) * ld + c, ld, scores + (size_t)r * Tp, Tp,
                               v + c, v + c + TILE_W, (size_t)ld, T, NULL, 0.0f, false);
        }
        c += NV * TILE_W;
    }
}

/* the parameters, so the next instruction set can define its own */
#undef TILE_FN
#undef TILE_CAT
#undef TILE_CAT_
#undef TILE_UNROLL
#undef TILE_SFX
#undef TILE_TARGET
#undef TILE_W
#undef TILE_NR
#undef VT
#undef V_LOADU
#undef V_STOREU
#undef V_BCAST
#undef V_ZERO
#undef V_FMA
#undef V_ADD
#undef V_MUL
#undef V_SET1
#undef V_PREFETCH
#undef TILE_SOFTMAX_ROW
#undef TILE_GELU
