/* test-layers.c - every optimised kernel of core/deit-layers.c against its naive reference,
 * and the thread pool's work split, on seeded random inputs.
 *
 * Tolerance: |fast - ref| <= atol + rtol * |ref| with rtol = 1e-5 and atol = 1e-5 * scale,
 * where the references accumulate in double (long double for LayerNorm) and the fast paths
 * in float32: float32 sums of K <= 1024 terms of magnitude ~1 stay within ~1e-6 relative.
 * Exits non-zero on the first failure, printing the max difference.
 */
#include "deit-internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;

static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static float *randv(size_t n, float scale) {
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = frand() * scale;
    return v;
}

static int failures;

static void check_close(const char *what, const float *got, const float *ref, size_t n, double atol, double rtol) {
    double maxdiff = 0;
    size_t worst   = 0;
    int    bad     = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= atol + rtol * fabs(ref[i]))) bad++;
        if (!(d <= maxdiff)) maxdiff = d, worst = i;
    }
    printf("%-40s n=%-8zu maxdiff=%.3g %s\n", what, n, maxdiff, bad ? "FAIL" : "ok");
    if (bad) {
        printf("  first worst at %zu: got %.9g ref %.9g (%d elements out of tolerance)\n", worst, got[worst],
               ref[worst], bad);
        failures++;
    }
}

static void test_linear(int M, int K, int N, bool bias) {
    float *x = randv((size_t)M * K, 1.0f), *w = randv((size_t)N * K, 0.1f), *b = bias ? randv(N, 0.5f) : NULL;
    float *o1 = malloc((size_t)M * N * sizeof(float)), *o2 = malloc((size_t)M * N * sizeof(float));
    linear_forward(o1, x, w, b, M, K, N);
    linear_forward_ref(o2, x, w, b, M, K, N);
    char name[64];
    snprintf(name, sizeof name, "linear %dx%dx%d%s", M, K, N, bias ? "+bias" : "");
    check_close(name, o1, o2, (size_t)M * N, 1e-5, 1e-5);
    free(x), free(w), free(b), free(o1), free(o2);
}

/* M == 1 (the heads at batch 1) goes through sgemv: row strides above N and K, the output
 * row pre-filled with NaN (must be overwritten, not scaled), the rows past it untouched */
static void test_linear_m1(int K, int N, bool bias) {
    float *x = randv((size_t)K * 3, 1.0f), *w = randv((size_t)N * K, 0.1f), *b = bias ? randv(N, 0.5f) : NULL;
    float *o1 = malloc((size_t)N * 3 * sizeof(float)), *o2 = malloc((size_t)N * sizeof(float));
    for (int i = 0; i < N * 3; i++) o1[i] = NAN;
    linear_forward_strided(o1, 3 * N, x, 3 * K, w, b, 1, K, N);
    linear_forward_ref(o2, x, w, b, 1, K, N);
    char name[64];
    snprintf(name, sizeof name, "linear 1x%dx%d%s, NaN-filled output", K, N, bias ? " +bias" : "");
    check_close(name, o1, o2, (size_t)N, 1e-5, 1e-5);
    int untouched = 1;
    for (int i = N; i < 3 * N; i++) untouched = untouched && isnan(o1[i]);
    printf("%-40s %s\n", "  rows past the output untouched", untouched ? "ok" : "FAIL");
    if (!untouched) failures++;
    free(x), free(w), free(b), free(o1), free(o2);
}

/* every float step of 1e-5 over [-10, 10]: the random samples of test_gelu can miss the
 * narrow ranges where an erf approximation is worst (near its clamp) */
static void test_gelu_grid(enum deit_act act) {
    const size_t n  = 2000001;
    float       *x1 = malloc(n * sizeof(float)), *x2 = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x1[i] = x2[i] = -10.0f + 20.0f * (float)i / (float)(n - 1);
    gelu_forward(x1, n, act);
    gelu_forward_ref(x2, n, act);
    char name[64];
    snprintf(name, sizeof name, "%s, grid over [-10, 10]", deit_act_to_string(act));
    check_close(name, x1, x2, n, 1e-6, 1e-5);
    free(x1), free(x2);
}

/* NaN in, NaN out, as in PyTorch: GELU of NaN, and a softmax row holding a NaN in the
 * vector body or in the tail is NaN throughout */
static void test_nan_propagation(void) {
    float g[9] = { NAN, 1, 2, 3, 4, 5, 6, 7, NAN };
    gelu_forward(g, 9, DEIT_ACT_GELU);
    int ok = isnan(g[0]) && isnan(g[8]) && !isnan(g[1]);
    for (int pos = 0; pos < 13; pos += 12) { /* body (lane 0) and tail (element 12 of 13) */
        float row[13];
        for (int i = 0; i < 13; i++) row[i] = (float)i * 0.1f;
        row[pos] = NAN;
        softmax_rows(NULL, row, 1, 13, 13);
        for (int i = 0; i < 13; i++) ok = ok && isnan(row[i]);
    }
    printf("%-40s %s\n", "NaN propagates (gelu, softmax)", ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

static void test_layernorm(int M, int D, float eps, float offset) {
    float *x = randv((size_t)M * D, 3.0f), *w = randv(D, 1.0f), *b = randv(D, 1.0f);
    for (size_t i = 0; i < (size_t)M * D; i++) x[i] += offset; /* large mean: tests the two-pass variance */
    float *o1 = malloc((size_t)M * D * sizeof(float)), *o2 = malloc((size_t)M * D * sizeof(float));
    layernorm_forward(o1, x, w, b, M, D, eps);
    layernorm_forward_ref(o2, x, w, b, M, D, eps);
    char name[64];
    snprintf(name, sizeof name, "layernorm %dx%d eps=%g offset=%g", M, D, eps, offset);
    check_close(name, o1, o2, (size_t)M * D, 1e-5, 1e-5);
    free(x), free(w), free(b), free(o1), free(o2);
}

static void test_gelu(enum deit_act act) {
    const size_t n  = 4096;
    float       *x1 = randv(n, 6.0f), *x2 = malloc(n * sizeof(float));
    memcpy(x2, x1, n * sizeof(float));
    gelu_forward(x1, n, act);
    gelu_forward_ref(x2, n, act);
    check_close(act == DEIT_ACT_GELU ? "gelu (erf)" : "gelu (tanh)", x1, x2, n, 1e-6, 1e-5);
    /* known values: gelu_erf(1) = 0.8413447460685429, gelu_tanh(1) = 0.8411919906082768 */
    float one = 1.0f;
    gelu_forward(&one, 1, act);
    const float want = act == DEIT_ACT_GELU ? 0.8413447460685429f : 0.8411919906082768f;
    if (fabsf(one - want) > 1e-6f) {
        printf("gelu(1) = %.9g, want %.9g FAIL\n", one, want);
        failures++;
    }
    free(x1), free(x2);
}

static void test_attention(int T, int HD, int H) {
    const int D = HD * H;
    float    *q = randv((size_t)T * D, 2.0f), *k = randv((size_t)T * D, 2.0f), *v = randv((size_t)T * D, 1.0f);
    float    *ce = calloc((size_t)T * D, sizeof(float)), *cf = calloc((size_t)T * D, sizeof(float));
    float    *cr = calloc((size_t)T * D, sizeof(float));
    float    *scratch = malloc(((size_t)64 * (T > 32 ? T : 32) + 128) * sizeof(float));
    const float scale = 1.0f / sqrtf((float)HD);
    for (int h = 0; h < H; h++) {
        const size_t off = (size_t)h * HD;
        for (int r0 = 0; r0 < T; r0 += 64) {
            int r1 = r0 + 64 < T ? r0 + 64 : T;
            attention_head_eager(NULL, ce + off, q + off, k + off, v + off, scratch, r0, r1, T, HD, D, scale);
            attention_head_fused(NULL, cf + off, q + off, k + off, v + off, scratch, r0, r1, T, HD, D, scale, 32);
        }
        attention_head_ref(cr + off, q + off, k + off, v + off, T, HD, D, scale);
    }
    char name[64];
    snprintf(name, sizeof name, "attention eager T=%d HD=%d H=%d", T, HD, H);
    check_close(name, ce, cr, (size_t)T * D, 1e-5, 1e-5);
    snprintf(name, sizeof name, "attention fused T=%d HD=%d H=%d", T, HD, H);
    check_close(name, cf, cr, (size_t)T * D, 1e-5, 1e-5);
    snprintf(name, sizeof name, "attention fused vs eager T=%d", T);
    check_close(name, cf, ce, (size_t)T * D, 1e-5, 1e-5);
    free(q), free(k), free(v), free(ce), free(cf), free(cr), free(scratch);
}

static void test_softmax_extremes(void) {
    /* large logits must not overflow: the row max is subtracted first */
    float row[4] = { 1000.0f, 999.0f, -1000.0f, 1000.0f };
    softmax_rows(NULL, row, 1, 4, 4);
    const double e = exp(-1.0), z = 2 + e;
    const float  want[4] = { (float)(1 / z), (float)(e / z), 0.0f, (float)(1 / z) };
    check_close("softmax with |x| = 1000", row, want, 4, 1e-7, 1e-6);
}

/* every tail length of the vector path (N mod 8 = 0..7), rows with a row stride > N, and
 * the padding between rows left as it was */
static void test_softmax_rows(int N) {
    const int ld = N + 3, M = 5;
    float    *x = randv((size_t)M * ld, 8.0f), *want = malloc((size_t)M * ld * sizeof(float));
    memcpy(want, x, (size_t)M * ld * sizeof(float));
    for (int m = 0; m < M; m++) {
        float *r = want + (size_t)m * ld;
        double mx = r[0], z = 0;
        for (int i = 1; i < N; i++) mx = r[i] > mx ? r[i] : mx;
        for (int i = 0; i < N; i++) z += exp((double)r[i] - mx);
        for (int i = 0; i < N; i++) r[i] = (float)(exp((double)r[i] - mx) / z);
    }
    softmax_rows(NULL, x, M, N, ld);
    char name[64];
    snprintf(name, sizeof name, "softmax rows N=%d (stride %d)", N, ld);
    check_close(name, x, want, (size_t)M * ld, 1e-7, 1e-5);
    free(x), free(want);
}

static void test_top_k(void) {
    /* ties keep the lower class id first; threshold filters; k larger than n */
    const float logits[6] = { 1.0f, 3.0f, 3.0f, -2.0f, 0.5f, 2.0f };
    struct deit_class_score out[8];
    int n = deit_top_k(logits, 6, 8, 0.0f, out);
    const int want_ids[6] = { 1, 2, 5, 0, 4, 3 };
    int ok = n == 6;
    for (int i = 0; ok && i < 6; i++) ok = out[i].class_id == want_ids[i];
    double sum = 0, mx = 3.0;
    for (int i = 0; i < 6; i++) sum += exp(logits[i] - mx);
    ok = ok && fabs(out[0].score - 1.0 / sum) < 1e-7;
    n  = deit_top_k(logits, 6, 3, 0.2f, out); /* p(3.0) = 0.35, p(2.0) = 0.13: only two pass */
    ok = ok && n == 2 && out[0].class_id == 1 && out[1].class_id == 2;
    printf("%-40s %s\n", "top-k order, ties, threshold", ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

static void split_task(void *ctx, int i, int n) {
    int *hits = ctx;
    int  b, e;
    deit_pool_split(1000, 16, i, n, &b, &e);
    for (int j = b; j < e; j++) __atomic_add_fetch(&hits[j], 1, __ATOMIC_RELAXED);
}

static void test_pool(int n_threads) {
    struct deit_pool *pool = deit_pool_new(n_threads, -1, DEIT_AFFINITY_NONE);
    int              *hits = calloc(1000, sizeof(int));
    for (int rep = 0; rep < 100; rep++) deit_pool_run(pool, split_task, hits);
    int ok = deit_pool_size(pool) == n_threads;
    for (int j = 0; j < 1000; j++) ok = ok && hits[j] == 100;
    printf("pool of %d: every item exactly once x100   %s\n", n_threads, ok ? "ok" : "FAIL");
    if (!ok) failures++;
    free(hits);
    deit_pool_free(pool);
}

int main(void) {
    test_linear(1, 16, 8, true);
    test_linear(198, 192, 192, true);
    test_linear(197, 192, 768, false);
    test_linear(7, 768, 1000, true);
    test_layernorm(198, 192, 1e-12f, 0.0f);
    test_layernorm(5, 768, 1e-6f, 100.0f);
    test_linear_m1(192, 1000, true);
    test_linear_m1(192, 1000, false);
    test_linear_m1(37, 5, false);
    test_gelu(DEIT_ACT_GELU);
    test_gelu(DEIT_ACT_GELU_TANH);
    test_gelu_grid(DEIT_ACT_GELU);
    test_gelu_grid(DEIT_ACT_GELU_TANH);
    for (enum deit_act a = DEIT_ACT_QUICK_GELU; a <= DEIT_ACT_LAPLACE; a++) test_gelu_grid(a);
    test_nan_propagation();
    test_softmax_extremes();
    for (int N = 1; N <= 17; N++) test_softmax_rows(N);
    test_softmax_rows(197);
    test_softmax_rows(198);
    test_attention(198, 64, 3);
    test_attention(70, 16, 2);
    test_attention(1, 8, 1);
    test_top_k();
    test_pool(1);
    test_pool(2);
    test_pool(5);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
