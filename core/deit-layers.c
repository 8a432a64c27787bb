/* deit-layers.c - the kernels of the DeiT / ViT forward pass, each with a naive reference.
 *
 * Dimension legend (see deit-internal.h): M rows (B*T tokens), K inner, N outputs, D hidden.
 * The optimised kernels are what deit-forward.c calls (on column or row slices, from the
 * pool's workers); the *_ref versions are plain loops kept for tests (tests/core/test-layers.c).
 * Numerics follow transformers' modeling_deit.py (reference comments at each choice).
 */
#include "deit-internal.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Instruction sets, chosen at run time so the default build runs on any x86-64 (and the
 * portable code elsewhere). The register-tile GEMM kernels (linear layers, attention) come
 * from one source, deit-tiles.h, compiled per set; the element-wise kernels (exp, GELU,
 * softmax, LayerNorm: 3-9 % of a forward pass) have AVX2 + FMA versions, and AVX-512
 * copies of GELU, exp, softmax and LayerNorm that give the same bits (their sums go
 * through the same accumulator lanes in the same order). The GEMMs of the OpenBLAS paths
 * are OpenBLAS's, which dispatches on the CPU itself.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#define DEIT_HAVE_X86_SIMD 1
#include <cpuid.h>
#include <immintrin.h>
#define AVX2_FN   __attribute__((target("avx2,fma")))
#define AVX512_FN __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#endif
/* The first row tile of a linear panel pass prefetches the weights this many k steps
 * (64-byte panel rows) ahead; the later tiles find the panel in cache. See deit-tiles.h. */
#define PF_DIST 64

const char *deit_isa_to_string(enum deit_isa isa) {
    switch (isa) {
    case DEIT_ISA_AUTO: return "auto";
    case DEIT_ISA_PORTABLE: return "portable";
    case DEIT_ISA_AVX2: return "avx2";
    case DEIT_ISA_AVX512: return "avx512";
    }
    return "?";
}

bool deit_isa_from_string(const char *name, enum deit_isa *out) {
    for (int i = DEIT_ISA_AUTO; i <= DEIT_ISA_AVX512; i++)
        if (name && !strcmp(name, deit_isa_to_string((enum deit_isa)i))) {
            *out = (enum deit_isa)i;
            return true;
        }
    return false;
}

/* The best set of the CPU and the OS: cpuid feature bits, and XCR0 (XGETBV) showing that
 * the OS saves the YMM (bits 1-2) and, for AVX-512, the opmask and ZMM state (bits 5-7)
 * on context switches; without that the registers must not be used. */
static enum deit_isa cpu_best_isa(void) {
#if DEIT_HAVE_X86_SIMD
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return DEIT_ISA_PORTABLE;
    const bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
    if (!osxsave || !avx || !fma) return DEIT_ISA_PORTABLE;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0x6) != 0x6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return DEIT_ISA_PORTABLE;
    if (!(b & (1u << 5))) return DEIT_ISA_PORTABLE; /* AVX2 */
    const unsigned avx512 = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31); /* F, DQ, BW, VL */
    if ((b & avx512) == avx512 && (xlo & 0xe6) == 0xe6) return DEIT_ISA_AVX512;
    return DEIT_ISA_AVX2;
#else
    return DEIT_ISA_PORTABLE;
#endif
}

bool deit_isa_supported(enum deit_isa isa) {
    static atomic_int cached = -1; /* racing first callers store the same value */
    int               v      = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) atomic_store_explicit(&cached, v = (int)cpu_best_isa(), memory_order_relaxed);
    const int i = (int)isa; /* the enum may be unsigned: compare as int */
    return i == DEIT_ISA_AUTO || i == DEIT_ISA_PORTABLE || (i > DEIT_ISA_PORTABLE && i <= v);
}

enum deit_isa deit_isa_best(void) {
    static atomic_int cached = -1;
    int               v      = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        enum deit_isa best = DEIT_ISA_AVX512;
        while (best > DEIT_ISA_PORTABLE && !deit_isa_supported(best)) best--;
        /* DEIT_ISA=portable|avx2|avx512 caps it, DEIT_DISABLE_AVX2=1 forces portable
         * (tests run every path on one machine) */
        enum deit_isa env_isa;
        const char   *e = getenv("DEIT_ISA"), *off = getenv("DEIT_DISABLE_AVX2");
        if (e && deit_isa_from_string(e, &env_isa) && env_isa != DEIT_ISA_AUTO && env_isa < best) best = env_isa;
        if (off && *off && *off != '0') best = DEIT_ISA_PORTABLE;
        atomic_store_explicit(&cached, v = (int)best, memory_order_relaxed);
    }
    return (enum deit_isa)v;
}

bool deit_cpu_has_avx2(void) { return deit_isa_best() >= DEIT_ISA_AVX2; }

/* The scalar parts of every set's LayerNorm, inlined into each (so compiled for its set):
 * the mean and 1 / std of a row in double, each continuing from the vector loop's partial
 * sum (0 and i = 0 for the portable kernel) over elements [i, D), and the outputs [i, D). */
#define LN_INLINE static inline __attribute__((always_inline))
LN_INLINE float ln_mean(double sum, const float *x, int i, int D) {
    for (; i < D; i++) sum += x[i];
    return (float)(sum / D);
}
LN_INLINE float ln_rstd(double var, const float *x, int i, int D, float mean, float eps) {
    for (; i < D; i++) {
        const double d = (double)x[i] - mean;
        var += d * d;
    }
    return (float)(1.0 / sqrt(var / D + (double)eps));
}
LN_INLINE void ln_out(float *y, const float *x, const float *w, const float *b, int i, int D, float mean, float rstd) {
    for (; i < D; i++) y[i] = (x[i] - mean) * rstd * w[i] + b[i];
}

/* The activations other than the two GELUs, one float at a time in float32 as PyTorch
 * computes them (transformers activations.py ACT2FN: nn.ReLU, nn.SiLU, QuickGELUActivation
 * x * sigmoid(1.702 x), ClippedGELUActivation, nn.ReLU6, ReLUSquaredActivation,
 * nn.LeakyReLU (slope 0.01), nn.Sigmoid, nn.Tanh, LinearActivation, nn.Mish with
 * softplus' threshold 20). Fine-tuned ViTs with these are rare and the MLP activation is
 * a small part of a layer's time, so they get no vector code. */
static void act_other(float *x, size_t n, enum deit_act act) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i], r = v > 0.0f ? v : 0.0f;
        float       y;
        switch (act) {
        case DEIT_ACT_QUICK_GELU: y = v / (1.0f + expf(-1.702f * v)); break;
        case DEIT_ACT_RELU:       y = r; break;
        case DEIT_ACT_SILU:       y = v / (1.0f + expf(-v)); break;
        case DEIT_ACT_GELU_10:    y = fminf(fmaxf(0.5f * v * (1.0f + erff(v * (float)M_SQRT1_2)), -10.0f), 10.0f); break;
        case DEIT_ACT_RELU6:      y = fminf(r, 6.0f); break;
        case DEIT_ACT_RELU2:      y = r * r; break;
        case DEIT_ACT_LEAKY_RELU: y = v > 0.0f ? v : 0.01f * v; break;
        case DEIT_ACT_SIGMOID:    y = 1.0f / (1.0f + expf(-v)); break;
        case DEIT_ACT_TANH:       y = tanhf(v); break;
        case DEIT_ACT_MISH:       y = v * tanhf(v > 20.0f ? v : log1pf(expf(v))); break;
        case DEIT_ACT_LAPLACE:    y = 0.5f * (1.0f + erff((v - 0.707107f) / (float)(0.282095 * M_SQRT2))); break;
        default:                  y = v; break; /* DEIT_ACT_LINEAR */
        }
        x[i] = isnan(v) ? v : y;
    }
}

#if DEIT_HAVE_X86_SIMD
/* exp, erf and GELU of 8 floats (deit-vecmath.h): exp8_avx2, erf8_avx2, gelu8_avx2 */
#define VM_SFX       8_avx2
#define VM_TARGET    AVX2_FN
#define VF           __m256
#define VI           __m256i
#define VF_SET1(x)   _mm256_set1_ps(x)
#define VF_ADD(a, b) _mm256_add_ps((a), (b))
#define VF_MUL(a, b) _mm256_mul_ps((a), (b))
#define VF_DIV(a, b) _mm256_div_ps((a), (b))
#define VF_MIN(a, b) _mm256_min_ps((a), (b))
#define VF_MAX(a, b) _mm256_max_ps((a), (b))
#define VF_FMADD(a, b, c)  _mm256_fmadd_ps((a), (b), (c))
#define VF_FNMADD(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define VF_ROUND(x)  _mm256_round_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VF_AND(a, b) _mm256_and_ps((a), (b))
#define VF_OR(a, b)  _mm256_or_ps((a), (b))
#define VF_ANDNOT(a, b) _mm256_andnot_ps((a), (b))
#define VF_SELECT_GE(x, t, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), (t), _CMP_GE_OQ))
#define VI_CVT(x)    _mm256_cvtps_epi32(x)
#define VI_ADD(a, b) _mm256_add_epi32((a), (b))
#define VI_SET1(i)   _mm256_set1_epi32(i)
#define VI_SLLI(x, n) _mm256_slli_epi32((x), (n))
#define VI_MAX0(x)   _mm256_max_epi32((x), _mm256_setzero_si256())
#define VF_FROM_BITS(i) _mm256_castsi256_ps(i)
#include "deit-vecmath.h"

static inline AVX2_FN float hsum8_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s        = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s        = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline AVX2_FN float hmax8_avx2(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s        = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s        = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static AVX2_FN void gelu_avx2(float *x, size_t n, enum deit_act act) {
    size_t i = 0;
    if (act != DEIT_ACT_GELU && act != DEIT_ACT_GELU_TANH) {
        act_other(x, n, act);
    } else if (act == DEIT_ACT_GELU) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8_avx2(_mm256_loadu_ps(x + i)));
        for (; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
    } else {
        /* 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3) */
        const __m256 c = _mm256_set1_ps(-2.0f * 0.7978845608028654f), one = _mm256_set1_ps(1.0f);
        for (; i + 8 <= n; i += 8) {
            const __m256 v = _mm256_loadu_ps(x + i);
            const __m256 u = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), v), _mm256_mul_ps(v, v), v);
            const __m256 e = exp8_avx2(_mm256_mul_ps(c, u));
            _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
        }
        const float c0 = 0.7978845608028654f;
        for (; i < n; i++) {
            const float v = x[i];
            x[i]          = 0.5f * v * (1.0f + tanhf(c0 * (v + 0.044715f * v * v * v)));
        }
    }
}

/* lanes 0 .. n-1 of 8 set (0 <= n < 8; none for 0): the tail of a row in one masked vector
 * instead of up to 7 scalar expf calls (DeiT's T = 197/198 leaves a tail of 5/6 in every
 * row) */
static inline AVX2_FN __m256i tail_mask8(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* the n < 8 floats at r (masked load), -inf in the lanes past n */
static inline AVX2_FN __m256 load_tail_ninf(const float *r, __m256i mask) {
    return _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(r, mask), _mm256_castsi256_ps(mask));
}

/* r[i] = exp(r[i] - m) for i < n; returns the sum. */
static AVX2_FN float exp_sub_sum_avx2(float *r, int n, float m) {
    const __m256 vm = _mm256_set1_ps(m);
    __m256       vs = _mm256_setzero_ps();
    const int    n8 = n & ~7;
    for (int i = 0; i < n8; i += 8) {
        const __m256 e = exp8_avx2(_mm256_sub_ps(_mm256_loadu_ps(r + i), vm));
        _mm256_storeu_ps(r + i, e);
        vs = _mm256_add_ps(vs, e);
    }
    if (n > n8) {
        const __m256i mask = tail_mask8(n - n8);
        const __m256  e    = exp8_avx2(_mm256_sub_ps(load_tail_ninf(r + n8, mask), vm));
        _mm256_maskstore_ps(r + n8, mask, e);
        vs = _mm256_add_ps(vs, e);
    }
    return hsum8_avx2(vs);
}

/* max(m, r[0..n)) */
static AVX2_FN float row_max_avx2(const float *r, int n, float m) {
    __m256 vm = _mm256_set1_ps(m);
    int    i  = 0;
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(r + i));
    float mx = hmax8_avx2(vm);
    for (; i < n; i++) mx = r[i] > mx ? r[i] : mx;
    return mx;
}

/* Softmax of one row in place */
static AVX2_FN void softmax_row_avx2(float *r, int N) {
    const int     n8   = N & ~7;
    const __m256i mask = tail_mask8(N - n8);
    const __m256  vinv = _mm256_set1_ps(1.0f / exp_sub_sum_avx2(r, N, row_max_avx2(r, N, -INFINITY)));
    for (int i = 0; i < n8; i += 8) _mm256_storeu_ps(r + i, _mm256_mul_ps(_mm256_loadu_ps(r + i), vinv));
    if (N > n8) _mm256_maskstore_ps(r + n8, mask, _mm256_mul_ps(_mm256_maskload_ps(r + n8, mask), vinv));
}

/* LayerNorm of M rows with the statistics accumulated in double like the scalar code. */
static AVX2_FN void layernorm_avx2(float *out, const float *inp, const float *w, const float *b, int M, int D,
                                   float eps) {
    for (int m = 0; m < M; m++) {
        const float *x  = inp + (size_t)m * D;
        float       *y  = out + (size_t)m * D;
        __m256d      s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
        int          i  = 0;
        for (; i + 8 <= D; i += 8) {
            const __m256 v = _mm256_loadu_ps(x + i);
            s0             = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
            s1             = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        }
        double sa[4];
        _mm256_storeu_pd(sa, _mm256_add_pd(s0, s1));
        const float   mean = ln_mean((sa[0] + sa[1]) + (sa[2] + sa[3]), x, i, D);
        const __m256d vmd  = _mm256_set1_pd((double)mean);
        s0 = s1 = _mm256_setzero_pd();
        for (i = 0; i + 8 <= D; i += 8) {
            const __m256  v  = _mm256_loadu_ps(x + i);
            const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vmd);
            const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vmd);
            s0               = _mm256_fmadd_pd(d0, d0, s0);
            s1               = _mm256_fmadd_pd(d1, d1, s1);
        }
        _mm256_storeu_pd(sa, _mm256_add_pd(s0, s1));
        const float  rstd = ln_rstd((sa[0] + sa[1]) + (sa[2] + sa[3]), x, i, D, mean, eps);
        const __m256 vm = _mm256_set1_ps(mean), vr = _mm256_set1_ps(rstd);
        for (i = 0; i + 8 <= D; i += 8) {
            const __m256 n = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(n, _mm256_loadu_ps(w + i), _mm256_loadu_ps(b + i)));
        }
        ln_out(y, x, w, b, i, D, mean, rstd);
    }
}
#endif /* DEIT_HAVE_X86_SIMD */

/* out (M, N) = inp (M, K) . w^T + bias; w is (N, K) row-major (torch nn.Linear layout).
 * reference: torch.nn.functional.linear(x, W, b) = x @ W.T + b */
void linear_forward(float *out, const float *inp, const float *w, const float *bias, int M, int K, int N) {
    linear_forward_strided(out, N, inp, K, w, bias, M, K, N);
}

/* The same with explicit row strides (ldo for out, ldi for inp): used on column slices of
 * a wider output and on strided token rows (token 0 of every image). */
void linear_forward_strided(float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias,
                            int M, int K, int N) {
    if (M <= 0 || N <= 0) return;
    if (bias) {
        for (int m = 0; m < M; m++) memcpy(out + (size_t)m * ldo, bias, (size_t)N * sizeof(float));
    }
    if (M == 1) { /* one row (a classifier head at batch 1): sgemv reads W once, where sgemm
                   * would first copy all of it into its panels. beta = 1 on a zeroed row, not
                   * beta = 0: BLAS versions differ in whether beta = 0 ignores y's old NaNs */
        if (!bias) memset(out, 0, (size_t)N * sizeof(float));
        cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, w, K, inp, 1, 1.0f, out, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, inp, ldi, w, K, bias ? 1.0f : 0.0f, out,
                ldo);
}

void linear_forward_ref(float *out, const float *inp, const float *w, const float *bias, int M, int K, int N) {
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++) acc += (double)inp[(size_t)m * K + k] * w[(size_t)n * K + k];
            out[(size_t)m * N + n] = (float)acc;
        }
    }
}

/* out (M, D) = LayerNorm(inp (M, D)) * w + b, biased variance over D.
 * reference: torch.nn.LayerNorm(D, eps=config.layer_norm_eps); statistics accumulated in
 * double so the result is at least as accurate as PyTorch's float32 kernel. */
static void layernorm_portable(float *out, const float *inp, const float *w, const float *b, int M, int D,
                               float eps) {
    for (int m = 0; m < M; m++) {
        const float *x = inp + (size_t)m * D;
        float       *y = out + (size_t)m * D;
        const float  mean = ln_mean(0.0, x, 0, D);
        const float  rstd = ln_rstd(0.0, x, 0, D, mean, eps);
        ln_out(y, x, w, b, 0, D, mean, rstd);
    }
}

void layernorm_forward_ref(float *out, const float *inp, const float *w, const float *b, int M, int D, float eps) {
    for (int m = 0; m < M; m++) {
        long double mean = 0, var = 0;
        for (int i = 0; i < D; i++) mean += inp[(size_t)m * D + i];
        mean /= D;
        for (int i = 0; i < D; i++) {
            long double d = inp[(size_t)m * D + i] - mean;
            var += d * d;
        }
        var /= D;
        for (int i = 0; i < D; i++) {
            long double xn = (inp[(size_t)m * D + i] - mean) / sqrtl(var + eps);
            out[(size_t)m * D + i] = (float)(xn * w[i] + b[i]);
        }
    }
}

/* reference: transformers activations.py: "gelu" -> GELUActivation = nn.functional.gelu
 * (exact erf form); "gelu_new" / "gelu_pytorch_tanh" / "gelu_fast" -> tanh approximation
 * 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))); the other activations: act_other. */
static void gelu_portable(float *x, size_t n, enum deit_act act) {
    if (act != DEIT_ACT_GELU && act != DEIT_ACT_GELU_TANH) {
        act_other(x, n, act);
    } else if (act == DEIT_ACT_GELU) {
        for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
    } else {
        const float c = 0.7978845608028654f; /* sqrt(2/pi) */
        for (size_t i = 0; i < n; i++) {
            const float v = x[i];
            x[i]          = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
        }
    }
}

void gelu_forward_ref(float *x, size_t n, enum deit_act act) {
    for (size_t i = 0; i < n; i++) {
        const double v = x[i], g = 0.5 * v * (1.0 + erf(v / sqrt(2.0))), r = v > 0 ? v : 0;
        double       y;
        switch (act) {
        case DEIT_ACT_GELU:       y = g; break;
        case DEIT_ACT_GELU_TANH:  y = 0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))); break;
        case DEIT_ACT_QUICK_GELU: y = v / (1.0 + exp(-1.702 * v)); break;
        case DEIT_ACT_RELU:       y = r; break;
        case DEIT_ACT_SILU:       y = v / (1.0 + exp(-v)); break;
        case DEIT_ACT_GELU_10:    y = fmin(fmax(g, -10.0), 10.0); break;
        case DEIT_ACT_RELU6:      y = fmin(r, 6.0); break;
        case DEIT_ACT_RELU2:      y = r * r; break;
        case DEIT_ACT_LEAKY_RELU: y = v > 0 ? v : 0.01 * v; break;
        case DEIT_ACT_SIGMOID:    y = 1.0 / (1.0 + exp(-v)); break;
        case DEIT_ACT_TANH:       y = tanh(v); break;
        case DEIT_ACT_MISH:       y = v * tanh(log1p(exp(v))); break;
        case DEIT_ACT_LAPLACE:    y = 0.5 * (1.0 + erf((v - 0.707107) / (0.282095 * M_SQRT2))); break;
        default:                  y = v; break;
        }
        x[i] = (float)y;
    }
}

/* max(m, r[0..n)) and in-place exp(r - max) with its sum: the two halves of a softmax */
static float row_max_portable(const float *r, int n, float m) {
    for (int i = 0; i < n; i++) m = r[i] > m ? r[i] : m;
    return m;
}

static float exp_sub_sum_portable(float *r, int n, float m) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) {
        r[i] = expf(r[i] - m);
        acc += r[i];
    }
    return acc;
}

/* Softmax of one row in place; subtracts the row max first like PyTorch. */
static void softmax_row_portable(float *r, int N) {
    const float inv = 1.0f / exp_sub_sum_portable(r, N, row_max_portable(r + 1, N - 1, r[0]));
    for (int i = 0; i < N; i++) r[i] *= inv;
}

/* Softmax of each row of x (M, N) in place */
void softmax_rows(const struct deit_kernels *kn, float *x, int M, int N, int ld) {
    if (!kn) kn = deit_kernels_for(DEIT_ISA_AUTO);
    for (int m = 0; m < M; m++) kn->softmax_row(x + (size_t)m * ld, N);
}

/* Eager attention for query rows [r0, r1) of one head.
 * q, k, v, ctx are (T, ld) with the head's HD columns starting at the given pointers;
 * scores is scratch of (r1 - r0, T). reference: DeiTSelfAttention / eager_attention_forward:
 * scores = (q @ k^T) * HD^-0.5, softmax over keys, ctx = probs @ v. */
void attention_head_eager(const struct deit_kernels *kn, float *ctx, const float *q, const float *k, const float *v,
                          float *scores, int r0, int r1, int T, int HD, int ld, float scale) {
    const int R = r1 - r0;
    if (R <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, T, HD, scale, q + (size_t)r0 * ld, ld, k, ld, 0.0f,
                scores, T);
    softmax_rows(kn, scores, R, T, T);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, HD, T, 1.0f, scores, T, v, ld, 0.0f,
                ctx + (size_t)r0 * ld, ld);
}

/* Fused attention for query rows [r0, r1) of one head: keys in tiles of KT with an online
 * softmax (running max and sum, rescaling the accumulator), so no (R, T) score matrix
 * exists; like PyTorch's flash-attention CPU kernel behind sdpa. scratch holds
 * R*KT + 2*R floats. Equal to eager up to float rounding (tested to 1e-5). */
void attention_head_fused(const struct deit_kernels *kn, float *ctx, const float *q, const float *k, const float *v,
                          float *scratch, int r0, int r1, int T, int HD, int ld, float scale, int KT) {
    const int R = r1 - r0;
    if (R <= 0) return;
    if (!kn) kn = deit_kernels_for(DEIT_ISA_AUTO);
    float *s    = scratch;               /* (R, KT) */
    float *mx   = scratch + (size_t)R * KT; /* (R) running max */
    float *sum  = mx + R;                /* (R) running sum */
    float *out  = ctx + (size_t)r0 * ld;
    for (int r = 0; r < R; r++) {
        mx[r]  = -INFINITY;
        sum[r] = 0.0f;
        memset(out + (size_t)r * ld, 0, (size_t)HD * sizeof(float));
    }
    for (int t0 = 0; t0 < T; t0 += KT) {
        const int kt = T - t0 < KT ? T - t0 : KT;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, kt, HD, scale, q + (size_t)r0 * ld, ld,
                    k + (size_t)t0 * ld, ld, 0.0f, s, kt);
        for (int r = 0; r < R; r++) {
            float      *row  = s + (size_t)r * kt;
            const float m    = kn->row_max(row, kt, mx[r]);
            const float corr = expf(mx[r] - m); /* 0 on the first tile (exp(-inf)) */
            const float acc  = kn->exp_sub_sum(row, kt, m);
            sum[r] = sum[r] * corr + acc;
            mx[r]  = m;
            if (corr != 1.0f) {
                float *o = out + (size_t)r * ld;
                for (int j = 0; j < HD; j++) o[j] *= corr;
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, HD, kt, 1.0f, s, kt, v + (size_t)t0 * ld, ld, 1.0f,
                    out, ld);
    }
    for (int r = 0; r < R; r++) {
        const float inv = 1.0f / sum[r];
        float      *o   = out + (size_t)r * ld;
        for (int j = 0; j < HD; j++) o[j] *= inv;
    }
}

/* ---------------------------------------------------------------------------------------
 * Register-tile GEMMs: linear layers on weights packed once into 16-column panels, and
 * eager attention with K packed once per head into 16-key panels (the same layout).
 * OpenBLAS packs the weights again on every call (at batch 1 that copy was 8-13 % of the
 * forward pass), and on attention's shapes (inner dimension HD = 64, 64 output columns)
 * it reaches about half its GEMM speed because it packs both operands of every small
 * call. Here the tiles read the activations in place (broadcasts) and each panel
 * sequentially: AVX2 6 x 16 tiles, 84-95 GFLOP/s per core on DeiT's shapes on Zen 3
 * against OpenBLAS's 66-90; AVX-512 12 x 32 tiles (bench/README.md for Zen 4).
 */
int attention_packed_k_floats(int T, int HD) { return ((T + 15) / 16) * 16 * HD; }


#if DEIT_HAVE_X86_SIMD
/* 8 keys x 8 dims -> 8 dims x 8 keys (the classic unpack / shuffle / permute transpose) */
static AVX2_FN void pack_k_8x8_avx2(float *dst, const float *src, int ld) {
    __m256 r0 = _mm256_loadu_ps(src + 0 * (size_t)ld), r1 = _mm256_loadu_ps(src + 1 * (size_t)ld);
    __m256 r2 = _mm256_loadu_ps(src + 2 * (size_t)ld), r3 = _mm256_loadu_ps(src + 3 * (size_t)ld);
    __m256 r4 = _mm256_loadu_ps(src + 4 * (size_t)ld), r5 = _mm256_loadu_ps(src + 5 * (size_t)ld);
    __m256 r6 = _mm256_loadu_ps(src + 6 * (size_t)ld), r7 = _mm256_loadu_ps(src + 7 * (size_t)ld);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    /* dst row d holds keys 0..7 of dim d; rows are 16 floats apart (one panel row) */
    _mm256_storeu_ps(dst + 0 * 16, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * 16, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * 16, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * 16, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * 16, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * 16, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * 16, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * 16, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

/* kp[jb][d][l] = k[(jb*16 + l) * ld + d], zero past T */
static void pack_k_portable(float *kp, const float *k, int T, int HD, int ld);

#if DEIT_HAVE_X86_SIMD
static AVX2_FN void pack_k_avx2(float *kp, const float *k, int T, int HD, int ld) {
    const int nb = (T + 15) / 16;
    if (HD % 8 == 0) {
        const int full = T / 8; /* whole groups of 8 keys */
        for (int g = 0; g < full; g++) {
            float *dst = kp + (size_t)(g / 2) * HD * 16 + (g % 2) * 8;
            for (int d = 0; d < HD; d += 8) pack_k_8x8_avx2(dst + (size_t)d * 16, k + (size_t)g * 8 * ld + d, ld);
        }
        /* the last partial group and the zero padding up to the panel end */
        for (int j = full * 8; j < nb * 16; j++) {
            float *dst = kp + (size_t)(j / 16) * HD * 16 + (j % 16);
            for (int d = 0; d < HD; d++) dst[(size_t)d * 16] = j < T ? k[(size_t)j * ld + d] : 0.0f;
        }
        return;
    }
    pack_k_portable(kp, k, T, HD, ld);
}
#endif

static void pack_k_portable(float *kp, const float *k, int T, int HD, int ld) {
    const int nb = (T + 15) / 16;
    for (int jb = 0; jb < nb; jb++) {
        float *dst = kp + (size_t)jb * HD * 16;
        for (int l = 0; l < 16; l++) {
            const int j = jb * 16 + l;
            if (j < T) {
                const float *src = k + (size_t)j * ld;
                for (int d = 0; d < HD; d++) dst[(size_t)d * 16 + l] = src[d];
            } else {
                for (int d = 0; d < HD; d++) dst[(size_t)d * 16 + l] = 0.0f;
            }
        }
    }
}


/* the portable set: GCC vector extensions, 4 floats (SSE2 on x86-64, NEON on arm64) */
typedef float v4f __attribute__((vector_size(16)));
static inline v4f v4_loadu(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v4_storeu(float *p, v4f v) { memcpy(p, &v, sizeof v); }
/* the portable tiles' GELU epilogue: gelu_portable's formula lane by lane */
static inline v4f gelu_v4_portable(v4f v) {
    for (int i = 0; i < 4; i++) v[i] = 0.5f * v[i] * (1.0f + erff(v[i] * (float)M_SQRT1_2));
    return v;
}
#define TILE_SFX             _portable
#define TILE_TARGET
#define TILE_W               4
#define TILE_NR              6
#define VT                   v4f
#define V_LOADU(p)           v4_loadu(p)
#define V_STOREU(p, v)       v4_storeu((p), (v))
#define V_BCAST(p)           ((v4f){ *(p), *(p), *(p), *(p) })
#define V_ZERO               ((v4f){ 0, 0, 0, 0 })
#define V_FMA(a, b, c)       ((a) * (b) + (c))
#define V_ADD(a, b)          ((a) + (b))
#define V_MUL(a, b)          ((a) * (b))
#define V_SET1(x)            ((v4f){ (x), (x), (x), (x) })
#define V_PREFETCH(p)        __builtin_prefetch((p))
#define TILE_SOFTMAX_ROW(r, n) softmax_row_portable((r), (n))
#define TILE_GELU(v)         gelu_v4_portable(v)
#include "deit-tiles.h"

#if DEIT_HAVE_X86_SIMD
/* AVX2 + FMA: 6 x 16 tiles, 12 accumulators of 16 registers */
#define TILE_SFX       _avx2
#define V_PREFETCH(p)  _mm_prefetch((p), _MM_HINT_T0)
#define TILE_SOFTMAX_ROW(r, n) softmax_row_avx2((r), (n))
#define TILE_TARGET    AVX2_FN
#define TILE_W         8
#define TILE_NR        6
#define VT             __m256
#define V_LOADU(p)     _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define V_BCAST(p)     _mm256_broadcast_ss(p)
#define V_ZERO         _mm256_setzero_ps()
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_ADD(a, b)    _mm256_add_ps((a), (b))
#define V_MUL(a, b)    _mm256_mul_ps((a), (b))
#define V_SET1(x)      _mm256_set1_ps(x)
#define TILE_GELU(v)   gelu8_avx2(v)
#include "deit-tiles.h"
/* exp, erf and GELU of 16 floats, the operations of the 8-float ones (deit-vecmath.h):
 * exp16_avx512, erf16_avx512, gelu16_avx512 */
#define VM_SFX       16_avx512
#define VM_TARGET    AVX512_FN
#define VF           __m512
#define VI           __m512i
#define VF_SET1(x)   _mm512_set1_ps(x)
#define VF_ADD(a, b) _mm512_add_ps((a), (b))
#define VF_MUL(a, b) _mm512_mul_ps((a), (b))
#define VF_DIV(a, b) _mm512_div_ps((a), (b))
#define VF_MIN(a, b) _mm512_min_ps((a), (b))
#define VF_MAX(a, b) _mm512_max_ps((a), (b))
#define VF_FMADD(a, b, c)  _mm512_fmadd_ps((a), (b), (c))
#define VF_FNMADD(a, b, c) _mm512_fnmadd_ps((a), (b), (c))
#define VF_ROUND(x)  _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VF_AND(a, b) _mm512_and_ps((a), (b))
#define VF_OR(a, b)  _mm512_or_ps((a), (b))
#define VF_ANDNOT(a, b) _mm512_andnot_ps((a), (b))
#define VF_SELECT_GE(x, t, a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), (t), _CMP_GE_OQ), (b), (a))
#define VI_CVT(x)    _mm512_cvtps_epi32(x)
#define VI_ADD(a, b) _mm512_add_epi32((a), (b))
#define VI_SET1(i)   _mm512_set1_epi32(i)
#define VI_SLLI(x, n) _mm512_slli_epi32((x), (n))
#define VI_MAX0(x)   _mm512_max_epi32((x), _mm512_setzero_si512())
#define VF_FROM_BITS(i) _mm512_castsi512_ps(i)
#include "deit-vecmath.h"

/* layernorm_avx2 with the 8 doubles of an 8-float step in one register: lanes 0-3 are
 * layernorm_avx2's s0, lanes 4-7 its s1, so every sum is the same sequence of the same
 * operations (the same bits); the normalisation goes 16 floats a step */
static AVX512_FN void layernorm_avx512(float *out, const float *inp, const float *w, const float *b, int M, int D,
                                       float eps) {
    for (int m = 0; m < M; m++) {
        const float *x = inp + (size_t)m * D;
        float       *y = out + (size_t)m * D;
        __m512d      s = _mm512_setzero_pd();
        int          i = 0;
        for (; i + 8 <= D; i += 8) s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        double sa[4];
        _mm256_storeu_pd(sa, _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1)));
        const float   mean = ln_mean((sa[0] + sa[1]) + (sa[2] + sa[3]), x, i, D);
        const __m512d vmd  = _mm512_set1_pd((double)mean);
        s                  = _mm512_setzero_pd();
        for (i = 0; i + 8 <= D; i += 8) {
            const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), vmd);
            s               = _mm512_fmadd_pd(d, d, s);
        }
        _mm256_storeu_pd(sa, _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1)));
        const float  rstd = ln_rstd((sa[0] + sa[1]) + (sa[2] + sa[3]), x, i, D, mean, eps);
        const __m512 vm = _mm512_set1_ps(mean), vr = _mm512_set1_ps(rstd);
        for (i = 0; i + 16 <= D; i += 16) {
            const __m512 n = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm), vr);
            _mm512_storeu_ps(y + i, _mm512_fmadd_ps(n, _mm512_loadu_ps(w + i), _mm512_loadu_ps(b + i)));
        }
        if (i + 8 <= D) {
            const __m256 n = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), _mm512_castps512_ps256(vm)),
                                           _mm512_castps512_ps256(vr));
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(n, _mm256_loadu_ps(w + i), _mm256_loadu_ps(b + i)));
            i += 8;
        }
        ln_out(y, x, w, b, i, D, mean, rstd);
    }
}

/* gelu_avx2 16 floats a step (the erf form; the tanh form and the tail: gelu_avx2) */
static AVX512_FN void gelu_avx512(float *x, size_t n, enum deit_act act) {
    size_t i = 0;
    if (act == DEIT_ACT_GELU)
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu16_avx512(_mm512_loadu_ps(x + i)));
    gelu_avx2(x + i, n - i, act);
}

/* lanes 0 .. n-1 of 16 (0 <= n <= 16) */
static inline __mmask16 tail_mask16(int n) { return (__mmask16)((1u << n) - 1u); }

/* exp_sub_sum_avx2 16 floats a step: the sum goes through the same 8-lane accumulator in
 * the same order (each 16-float step adds its low, then its high half, the way the AVX2
 * loop adds two 8-float steps; lanes past n are exp(-inf) = 0), so the bits are the same */
static AVX512_FN float exp_sub_sum_avx512(float *r, int n, float m) {
    const __m512 vm = _mm512_set1_ps(m);
    __m256       vs = _mm256_setzero_ps();
    int          i  = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 e = exp16_avx512(_mm512_sub_ps(_mm512_loadu_ps(r + i), vm));
        _mm512_storeu_ps(r + i, e);
        vs = _mm256_add_ps(vs, _mm512_castps512_ps256(e));
        vs = _mm256_add_ps(vs, _mm512_extractf32x8_ps(e, 1));
    }
    if (i < n) {
        const __mmask16 k = tail_mask16(n - i);
        const __m512    x = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, r + i);
        const __m512    e = exp16_avx512(_mm512_sub_ps(x, vm));
        _mm512_mask_storeu_ps(r + i, k, e);
        vs = _mm256_add_ps(vs, _mm512_castps512_ps256(e));
        if (n - i > 8) vs = _mm256_add_ps(vs, _mm512_extractf32x8_ps(e, 1));
    }
    return hsum8_avx2(vs);
}

/* max(m, r[0..n)) */
static AVX512_FN float row_max_avx512(const float *r, int n, float m) {
    __m512 vm = _mm512_set1_ps(m);
    int    i  = 0;
    for (; i + 16 <= n; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(r + i));
    if (i < n) vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask16(n - i), r + i));
    return hmax8_avx2(_mm256_max_ps(_mm512_castps512_ps256(vm), _mm512_extractf32x8_ps(vm, 1)));
}

/* softmax_row_avx2 16 floats a step: the same bits */
static AVX512_FN void softmax_row_avx512(float *r, int N) {
    const __m512 vinv = _mm512_set1_ps(1.0f / exp_sub_sum_avx512(r, N, row_max_avx512(r, N, -INFINITY)));
    int          i    = 0;
    for (; i + 16 <= N; i += 16) _mm512_storeu_ps(r + i, _mm512_mul_ps(_mm512_loadu_ps(r + i), vinv));
    if (i < N) {
        const __mmask16 k = tail_mask16(N - i);
        _mm512_mask_storeu_ps(r + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, r + i), vinv));
    }
}

/* AVX-512: 12 x 32 tiles, 24 accumulators of 32 registers. GCC broadcasts each row's
 * value into a register for its two FMAs; only the one-vector tiles fold it into the FMA
 * as a {1to16} memory operand. Folding it in the 12 x 32 tile too (inline assembly, 24
 * loads a k step instead of 12 broadcasts) measured the same speed on Zen 4 in the
 * forward pass (bench/README.md) */
#define TILE_SFX       _avx512
#define V_PREFETCH(p)  _mm_prefetch((p), _MM_HINT_T0)
#define TILE_SOFTMAX_ROW(r, n) softmax_row_avx512((r), (n))
#define TILE_TARGET    AVX512_FN
#define TILE_W         16
#define TILE_NR        12
#define VT             __m512
#define V_LOADU(p)     _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define V_BCAST(p)     _mm512_set1_ps(*(p))
#define V_ZERO         _mm512_setzero_ps()
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_ADD(a, b)    _mm512_add_ps((a), (b))
#define V_MUL(a, b)    _mm512_mul_ps((a), (b))
#define V_SET1(x)      _mm512_set1_ps(x)
#define TILE_GELU(v)   gelu16_avx512(v)
#include "deit-tiles.h"

#endif

/* ---------------------------------------------------------------------------------------
 * Kernel sets
 */
static const struct deit_kernels kernels_portable = {
    .isa = DEIT_ISA_PORTABLE, .linear_packed = linear_packed_portable, .linear_packed_gelu = linear_packed_gelu_portable,
    .attention_packed = attention_packed_portable,
    .pack_k = pack_k_portable, .layernorm = layernorm_portable, .gelu = gelu_portable,
    .softmax_row = softmax_row_portable, .row_max = row_max_portable, .exp_sub_sum = exp_sub_sum_portable,
};
#if DEIT_HAVE_X86_SIMD
static const struct deit_kernels kernels_avx2 = {
    .isa = DEIT_ISA_AVX2, .linear_packed = linear_packed_avx2, .linear_packed_gelu = linear_packed_gelu_avx2,
    .attention_packed = attention_packed_avx2,
    .pack_k = pack_k_avx2, .layernorm = layernorm_avx2, .gelu = gelu_avx2,
    .softmax_row = softmax_row_avx2, .row_max = row_max_avx2, .exp_sub_sum = exp_sub_sum_avx2,
};
static const struct deit_kernels kernels_avx512 = {
    .isa = DEIT_ISA_AVX512, .linear_packed = linear_packed_avx512, .linear_packed_gelu = linear_packed_gelu_avx512,
    .attention_packed = attention_packed_avx512,
    .pack_k = pack_k_avx2, .layernorm = layernorm_avx512, .gelu = gelu_avx512,
    .softmax_row = softmax_row_avx512, .row_max = row_max_avx512, .exp_sub_sum = exp_sub_sum_avx512,
};
#endif

const struct deit_kernels *deit_kernels_for(enum deit_isa isa) {
    if (isa == DEIT_ISA_AUTO) isa = deit_isa_best();
#if DEIT_HAVE_X86_SIMD
    if (isa == DEIT_ISA_AVX512 && deit_isa_supported(isa)) return &kernels_avx512;
    if (isa == DEIT_ISA_AVX2 && deit_isa_supported(isa)) return &kernels_avx2;
#endif
    return &kernels_portable;
}

/* The entry points of the best set (tests, benchmarks and callers without a state) */
void layernorm_forward(float *out, const float *inp, const float *w, const float *b, int M, int D, float eps) {
    deit_kernels_for(DEIT_ISA_AUTO)->layernorm(out, inp, w, b, M, D, eps);
}

/* reference: transformers activations.py: "gelu" -> GELUActivation = nn.functional.gelu
 * (exact erf form); "gelu_new" / "gelu_pytorch_tanh" / "gelu_fast" -> tanh approximation
 * 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))). */
void gelu_forward(float *x, size_t n, enum deit_act act) { deit_kernels_for(DEIT_ISA_AUTO)->gelu(x, n, act); }

/* w (N, K) row-major -> panels [N/16][K][16] in place; tmp holds N*K floats */
void linear_pack_weights(float *w, int N, int K, float *tmp) {
    deit_kernels_for(DEIT_ISA_AUTO)->pack_k(tmp, w, N, K, K); /* the same panel layout: rows of w are the "keys" */
    memcpy(w, tmp, (size_t)N * K * sizeof(float));
}

/* kp[jb][d][l] = k[(jb*16 + l) * ld + d], zero past T */
void attention_pack_k(float *kp, const float *k, int T, int HD, int ld) {
    deit_kernels_for(DEIT_ISA_AUTO)->pack_k(kp, k, T, HD, ld);
}

/* Columns [n0, n1) (multiples of 16) of out (M, ldo) (+)= inp (M, K) . W^T + bias, with W
 * packed by linear_pack_weights. */
void linear_forward_packed(float *out, int ldo, const float *inp, int ldi, const float *wp, const float *bias, int M,
                           int K, int n0, int n1, bool accumulate) {
    deit_kernels_for(DEIT_ISA_AUTO)->linear_packed(out, ldo, inp, ldi, wp, bias, M, K, n0, n1, accumulate);
}

/* Eager attention of query rows [r0, r1) of one head with K packed by attention_pack_k
 * (kp) and scores scratch of (r1 - r0) * round_up(T, 16) floats. Same math as
 * attention_head_eager; HD a multiple of 16. */
void attention_head_packed(float *ctx, const float *q, const float *kp, const float *v, float *scores, int r0, int r1,
                           int T, int HD, int ld, float scale) {
    deit_kernels_for(DEIT_ISA_AUTO)->attention_packed(ctx, q, kp, v, scores, r0, r1, T, HD, ld, scale);
}

/* Naive attention of one whole head in double, for tests. */
void attention_head_ref(float *ctx, const float *q, const float *k, const float *v, int T, int HD, int ld,
                        float scale) {
    for (int i = 0; i < T; i++) {
        double mx = -INFINITY;
        for (int j = 0; j < T; j++) {
            double s = 0;
            for (int d = 0; d < HD; d++) s += (double)q[(size_t)i * ld + d] * k[(size_t)j * ld + d];
            s *= scale;
            mx = s > mx ? s : mx;
        }
        double sum = 0;
        for (int j = 0; j < T; j++) {
            double s = 0;
            for (int d = 0; d < HD; d++) s += (double)q[(size_t)i * ld + d] * k[(size_t)j * ld + d];
            sum += exp(s * scale - mx);
        }
        for (int d = 0; d < HD; d++) {
            double acc = 0;
            for (int j = 0; j < T; j++) {
                double s = 0;
                for (int e = 0; e < HD; e++) s += (double)q[(size_t)i * ld + e] * k[(size_t)j * ld + e];
                acc += exp(s * scale - mx) / sum * v[(size_t)j * ld + d];
            }
            ctx[(size_t)i * ld + d] = (float)acc;
        }
    }
}
