/* test-attention-packed.c - the packed eager attention (K packed once per head into
 * 16-key panels, register tiles of core/deit-tiles.h) of every instruction set the CPU
 * supports (portable, AVX2, AVX-512: each set's kernel table) against the naive double
 * reference attention_head_ref, on seeded random q/k/v.
 *
 * Also the linear layers on weights packed into 16-column panels (linear_forward_packed)
 * against linear_forward_ref, and their GELU epilogue (linear_packed_gelu, fc1) against
 * the same GEMM followed by the set's GELU pass: the same bits, NaN and the clamp of erf
 * at |x| >= 3.8325 included.
 * Shapes: DeiT-tiny/base at 224 (T = 198, HD = 64), 384 (T = 578), a ragged T (not a
 * multiple of 16, so the zero-padded key panel must not leak into the softmax), HD = 16
 * and 32, and query blocks whose row counts are not multiples of the 6-row tile.
 * and query blocks whose row counts are not multiples of the 6- or 12-row tile, column
 * slices that start or end on an odd 16-column panel (AVX-512's 32-column tiles then end
 * with a 16-column one).
 * Tolerance: |got - ref| <= 1e-5 + 1e-5 |ref| (float32 sums of <= 578 terms of magnitude
 * <= 4 against a double reference, as in test-layers.c). Prints the sets it ran and fails
 * when the CPU supports one it did not run.
 */
#include "deit-internal.h"

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long long rng = 0x243F6A8885A308D3ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static const struct deit_kernels *kn;

static int check(int T, int HD, int H, int block) {
    const int D = HD * H;
    float *q = malloc(sizeof(float) * T * D), *k = malloc(sizeof(float) * T * D), *v = malloc(sizeof(float) * T * D);
    for (int i = 0; i < T * D; i++) q[i] = 2.0f * frand(), k[i] = 2.0f * frand(), v[i] = frand();
    float *got = calloc((size_t)T * D, sizeof(float)), *ref = calloc((size_t)T * D, sizeof(float));
    float *kp = NULL, *scores = NULL;
    if (posix_memalign((void **)&kp, 64, sizeof(float) * attention_packed_k_floats(T, HD)) ||
        posix_memalign((void **)&scores, 64, sizeof(float) * (size_t)block * ((T + 15) / 16 * 16)))
        return 1;
    const float scale = 1.0f / sqrtf((float)HD);
    for (int h = 0; h < H; h++) {
        kn->pack_k(kp, k + h * HD, T, HD, D);
        for (int r0 = 0; r0 < T; r0 += block) {
            const int r1 = r0 + block < T ? r0 + block : T;
            kn->attention_packed(got + h * HD, q + h * HD, kp, v + h * HD, scores, r0, r1, T, HD, D, scale);
        }
        attention_head_ref(ref + h * HD, q + h * HD, k + h * HD, v + h * HD, T, HD, D, scale);
    }
    double maxd = 0;
    int    bad  = 0;
    for (int i = 0; i < T * D; i++) {
        const double d = fabs((double)got[i] - ref[i]);
        if (!(d <= 1e-5 + 1e-5 * fabs(ref[i]))) bad++;
        if (!(d <= maxd)) maxd = d;
    }
    printf("%-8s packed attention T=%-4d HD=%-3d H=%d block=%-4d maxdiff=%.3g %s\n", deit_isa_to_string(kn->isa), T, HD, H, block, maxd,
           bad ? "FAIL" : "ok");
    free(q), free(k), free(v), free(got), free(ref), free(kp), free(scores);
    return bad != 0;
}

/* linear_forward_packed on columns [n0, n1) against linear_forward_ref (double) */
static int check_linear(int M, int K, int N, int n0, int n1, bool bias, bool accumulate) {
    float *x = malloc(sizeof(float) * M * K), *w = malloc(sizeof(float) * N * K), *b = malloc(sizeof(float) * N);
    float *tmp = malloc(sizeof(float) * N * K), *got = malloc(sizeof(float) * M * N), *ref = malloc(sizeof(float) * M * N);
    float *init = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) x[i] = frand();
    for (int i = 0; i < N * K; i++) w[i] = 0.1f * frand();
    for (int i = 0; i < N; i++) b[i] = 0.5f * frand();
    for (int i = 0; i < M * N; i++) init[i] = got[i] = frand();
    linear_forward_ref(ref, x, w, bias ? b : NULL, M, K, N);
    linear_pack_weights(w, N, K, tmp);
    kn->linear_packed(got, N, x, K, w, bias ? b : NULL, M, K, n0, n1, accumulate);
    double maxd = 0;
    int    bad  = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const size_t i    = (size_t)m * N + n;
            const double want = n < n0 || n >= n1 ? init[i] : ref[i] + (accumulate ? init[i] : 0.0);
            const double d    = fabs((double)got[i] - want);
            if (!(d <= 1e-5 + 1e-5 * fabs(want))) bad++;
            if (!(d <= maxd)) maxd = d;
        }
    printf("%-8s packed linear %4dx%-4d->%-3d cols [%d,%d)%s%s maxdiff=%.3g %s\n", deit_isa_to_string(kn->isa), M, K, N, n0, n1, bias ? " +bias" : "",
           accumulate ? " +=" : "", maxd, bad ? "FAIL" : "ok");
    free(x), free(w), free(b), free(tmp), free(got), free(ref), free(init);
    return bad != 0;
}

/* linear_packed_gelu against linear_packed + gelu(DEIT_ACT_GELU) of the same set, bit for
 * bit, and against the double reference within the GELU's error (1e-6) on top */
static int check_linear_gelu(int M, int K, int N, int n0, int n1) {
    float *x = malloc(sizeof(float) * M * K), *w = malloc(sizeof(float) * N * K), *b = malloc(sizeof(float) * N);
    float *tmp = malloc(sizeof(float) * N * K), *got = malloc(sizeof(float) * M * N), *two = malloc(sizeof(float) * M * N);
    float *ref = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) x[i] = frand();
    for (int i = 0; i < N * K; i++) w[i] = 0.2f * frand();
    /* outputs spread over [-8, 8]: the rational part of erf, its clamp, and both signs;
     * one column NaN */
    for (int i = 0; i < N; i++) b[i] = 6.0f * frand();
    b[n0] = NAN;
    for (int i = 0; i < M * N; i++) got[i] = two[i] = -7.0f; /* outside [n0, n1): untouched */
    linear_forward_ref(ref, x, w, b, M, K, N);
    linear_pack_weights(w, N, K, tmp);
    kn->linear_packed_gelu(got, N, x, K, w, b, M, K, n0, n1);
    kn->linear_packed(two, N, x, K, w, b, M, K, n0, n1, false);
    for (int m = 0; m < M; m++) kn->gelu(two + (size_t)m * N + n0, (size_t)(n1 - n0), DEIT_ACT_GELU);
    gelu_forward_ref(ref, (size_t)M * N, DEIT_ACT_GELU);
    int    bad = 0, clamped = 0;
    double maxd = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const size_t i = (size_t)m * N + n;
            if (memcmp(&got[i], &two[i], sizeof(float))) bad++;
            if (n < n0 || n >= n1) {
                if (got[i] != -7.0f) bad++;
                continue;
            }
            if (n == n0) {
                if (!isnan(got[i])) bad++;
                continue;
            }
            if (fabs(ref[i]) > 4.0 * M_SQRT2) clamped++;
            const double d = fabs((double)got[i] - ref[i]);
            if (!(d <= 2e-5 + 2e-5 * fabs(ref[i]))) bad++;
            if (!(d <= maxd)) maxd = d;
        }
    if (!clamped) bad++; /* the inputs must reach the clamp */
    printf("%-8s packed linear+gelu %4dx%-4d->%-3d cols [%d,%d) bit-identical to linear + gelu pass: %s, maxdiff=%.3g %s\n",
           deit_isa_to_string(kn->isa), M, K, N, n0, n1, bad ? "no" : "yes", maxd, bad ? "FAIL" : "ok");
    free(x), free(w), free(b), free(tmp), free(got), free(two), free(ref);
    return bad != 0;
}

static int check_all(void) {
    int fails = 0;
    fails += check(198, 64, 3, 198);  /* DeiT-tiny, whole heads */
    fails += check(198, 64, 2, 99);   /* two workers' halves: 99 = 16 tiles of 6 + 3 */
    fails += check(578, 64, 1, 113);  /* DeiT-base 384 block size */
    fails += check(197, 64, 2, 64);   /* ViT: T = 197 */
    fails += check(70, 16, 2, 7);     /* small head, ragged key panel */
    fails += check(5, 32, 1, 5);      /* fewer keys than one panel */
    fails += check(1, 16, 1, 1);      /* one token */
    fails += check(40, 48, 1, 25);    /* HD = 3 panels: AVX-512 context tiles of 32 + 16 */
    /* linear layers on packed weights: row tiles with remainders, column slices (a
     * worker's share), K not a multiple of 8, no bias, accumulate into a residual */
    fails += check_linear(198, 192, 48, 0, 48, true, false);
    fails += check_linear(7, 64, 32, 16, 32, true, true);
    fails += check_linear(1, 3, 16, 0, 16, false, false);
    fails += check_linear(13, 768, 64, 16, 48, false, true);
    fails += check_linear(301, 768, 32, 0, 32, true, true); /* 3 row blocks of 126 */
    fails += check_linear(70, 3072, 16, 0, 16, true, false); /* row blocks of 30 */
    fails += check_linear(25, 96, 80, 16, 64, true, false);  /* 3 panels from an odd one */
    fails += check_linear_gelu(198, 192, 64, 0, 64);           /* DeiT-tiny fc1 shape, 4 panels */
    fails += check_linear_gelu(13, 96, 80, 16, 64);            /* a worker's slice, odd panel, row tails */
    return fails;
}

/* The element-wise kernels of every set against double references, and the AVX-512 set's
 * against the AVX2 set's bit for bit (its copies of exp, softmax, LayerNorm and GELU
 * promise that):
 * row lengths 1-40 (every tail of an 8- and a 16-float step), DeiT's 198 and 577, a row
 * with -inf (a masked score), and GELU inputs beyond the erf clamp */
static int check_elementwise(void) {
    const struct deit_kernels *ref_set = kn->isa == DEIT_ISA_AVX512 ? deit_kernels_for(DEIT_ISA_AVX2) : NULL;
    static const int lens[] = { 1, 2, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 198, 577 };
    int              bad    = 0;
    double           maxd   = 0;
    float           *a = malloc(sizeof(float) * 600), *b = malloc(sizeof(float) * 600), *in = malloc(sizeof(float) * 600);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int n = lens[li];
        for (int i = 0; i < n; i++) in[i] = 12.0f * frand();
        if (n > 3) in[n / 2] = -INFINITY;
        /* softmax_row */
        memcpy(a, in, sizeof(float) * n);
        kn->softmax_row(a, n);
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < n; i++) mx = in[i] > mx ? in[i] : mx;
        for (int i = 0; i < n; i++) sum += exp((double)in[i] - mx);
        for (int i = 0; i < n; i++) {
            const double want = exp((double)in[i] - mx) / sum, d = fabs(a[i] - want);
            if (!(d <= 1e-6 + 1e-5 * want)) bad++;
            if (d > maxd) maxd = d;
        }
        if (ref_set) {
            memcpy(b, in, sizeof(float) * n);
            ref_set->softmax_row(b, n);
            if (memcmp(a, b, sizeof(float) * n)) bad++;
            /* row_max and exp_sub_sum (the sum's bits too) */
            const float m1 = kn->row_max(in, n, -INFINITY), m2 = ref_set->row_max(in, n, -INFINITY);
            memcpy(a, in, sizeof(float) * n), memcpy(b, in, sizeof(float) * n);
            const float s1 = kn->exp_sub_sum(a, n, m1), s2 = ref_set->exp_sub_sum(b, n, m2);
            if (m1 != m2 || memcmp(&s1, &s2, sizeof s1) || memcmp(a, b, sizeof(float) * n)) bad++;
        }
        /* LayerNorm of 3 rows of n, off-centre (mean 2; a row of 2 loses ~4 digits to the
         * mean's cancellation in float, hence the tolerance) */
        {
            float *x = malloc(sizeof(float) * 3 * n), *g = malloc(sizeof(float) * n), *bb = malloc(sizeof(float) * n);
            float *y1 = malloc(sizeof(float) * 3 * n), *y2 = malloc(sizeof(float) * 3 * n), *yr = malloc(sizeof(float) * 3 * n);
            for (int i = 0; i < 3 * n; i++) x[i] = 2.0f + frand();
            for (int i = 0; i < n; i++) g[i] = 1.0f + 0.5f * frand(), bb[i] = 0.1f * frand();
            kn->layernorm(y1, x, g, bb, 3, n, 1e-6f);
            layernorm_forward_ref(yr, x, g, bb, 3, n, 1e-6f);
            for (int i = 0; i < 3 * n; i++)
                if (!(fabs(y1[i] - yr[i]) <= 1e-4 + 1e-4 * fabs(yr[i]))) bad++;
            if (ref_set) {
                ref_set->layernorm(y2, x, g, bb, 3, n, 1e-6f);
                if (memcmp(y1, y2, sizeof(float) * 3 * n)) bad++;
            }
            free(x), free(g), free(bb), free(y1), free(y2), free(yr);
        }
        /* GELU, erf form, over [-8, 8] */
        for (int i = 0; i < n; i++) in[i] = 8.0f * frand();
        memcpy(a, in, sizeof(float) * n);
        kn->gelu(a, (size_t)n, DEIT_ACT_GELU);
        for (int i = 0; i < n; i++) {
            const double v = in[i], want = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
            if (!(fabs(a[i] - want) <= 2e-6 + 1e-6 * fabs(want))) bad++;
        }
        if (ref_set) {
            memcpy(b, in, sizeof(float) * n);
            ref_set->gelu(b, (size_t)n, DEIT_ACT_GELU);
            if (memcmp(a, b, sizeof(float) * n)) bad++;
        }
    }
    printf("%-8s softmax / row max / exp sum / layernorm / gelu, 18 row lengths: max softmax diff %.3g%s %s\n",
           deit_isa_to_string(kn->isa), maxd, ref_set ? ", bits against avx2 compared" : "", bad ? "FAIL" : "ok");
    free(a), free(b), free(in);
    return bad != 0;
}

int main(void) {
    int  fails = 0;
    bool ran[DEIT_ISA_AVX512 + 1] = { false };
    for (int isa = DEIT_ISA_PORTABLE; isa <= DEIT_ISA_AVX512; isa++) {
        if (!deit_isa_supported((enum deit_isa)isa)) continue;
        kn = deit_kernels_for((enum deit_isa)isa);
        fails += check_all();
        fails += check_elementwise();
        ran[kn->isa] = true;
    }
    printf("instruction sets run:");
    for (int isa = DEIT_ISA_PORTABLE; isa <= DEIT_ISA_AVX512; isa++)
        if (ran[isa]) printf(" %s", deit_isa_to_string((enum deit_isa)isa));
    printf("\n");
    for (int isa = DEIT_ISA_PORTABLE; isa <= DEIT_ISA_AVX512; isa++)
        if (deit_isa_supported((enum deit_isa)isa) && !ran[isa]) {
            printf("FAIL: the CPU supports %s but it was not run\n", deit_isa_to_string((enum deit_isa)isa));
            fails++;
        }
    printf("%s\n", fails ? "FAILED" : "all passed");
    return fails ? 1 : 0;
}
