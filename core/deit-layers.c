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
#include <string.h>

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
void layernorm_forward(float *out, const float *inp, const float *w, const float *b, int M, int D, float eps) {
    for (int m = 0; m < M; m++) {
        const float *x = inp + (size_t)m * D;
        float       *y = out + (size_t)m * D;
        double       sum = 0.0;
        for (int i = 0; i < D; i++) sum += x[i];
        const float mean = (float)(sum / D);
        double      var  = 0.0;
        for (int i = 0; i < D; i++) {
            const double d = (double)x[i] - mean;
            var += d * d;
        }
        const float rstd = (float)(1.0 / sqrt(var / D + (double)eps));
        for (int i = 0; i < D; i++) y[i] = (x[i] - mean) * rstd * w[i] + b[i];
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
 * 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))). */
void gelu_forward(float *x, size_t n, enum deit_act act) {
    if (act == DEIT_ACT_GELU) {
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
        const double v = x[i];
        if (act == DEIT_ACT_GELU)
            x[i] = (float)(0.5 * v * (1.0 + erf(v / sqrt(2.0))));
        else
            x[i] = (float)(0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
    }
}

/* Softmax of each row of x (M, N) in place; subtracts the row max first like PyTorch. */
void softmax_rows(float *x, int M, int N, int ld) {
    for (int m = 0; m < M; m++) {
        float *r  = x + (size_t)m * ld;
        float  mx = r[0];
        for (int i = 1; i < N; i++) mx = r[i] > mx ? r[i] : mx;
        float sum = 0.0f;
        for (int i = 0; i < N; i++) {
            r[i] = expf(r[i] - mx);
            sum += r[i];
        }
        const float inv = 1.0f / sum;
        for (int i = 0; i < N; i++) r[i] *= inv;
    }
}

/* Eager attention for query rows [r0, r1) of one head.
 * q, k, v, ctx are (T, ld) with the head's HD columns starting at the given pointers;
 * scores is scratch of (r1 - r0, T). reference: DeiTSelfAttention / eager_attention_forward:
 * scores = (q @ k^T) * HD^-0.5, softmax over keys, ctx = probs @ v. */
void attention_head_eager(float *ctx, const float *q, const float *k, const float *v, float *scores, int r0, int r1,
                          int T, int HD, int ld, float scale) {
    const int R = r1 - r0;
    if (R <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, T, HD, scale, q + (size_t)r0 * ld, ld, k, ld, 0.0f,
                scores, T);
    softmax_rows(scores, R, T, T);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, HD, T, 1.0f, scores, T, v, ld, 0.0f,
                ctx + (size_t)r0 * ld, ld);
}

/* Fused attention for query rows [r0, r1) of one head: keys in tiles of KT with an online
 * softmax (running max and sum, rescaling the accumulator), so no (R, T) score matrix
 * exists; like PyTorch's flash-attention CPU kernel behind sdpa. scratch holds
 * R*KT + 2*R floats. Equal to eager up to float rounding (tested to 1e-5). */
void attention_head_fused(float *ctx, const float *q, const float *k, const float *v, float *scratch, int r0, int r1,
                          int T, int HD, int ld, float scale, int KT) {
    const int R = r1 - r0;
    if (R <= 0) return;
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
            float *row = s + (size_t)r * kt;
            float  m   = mx[r];
            for (int i = 0; i < kt; i++) m = row[i] > m ? row[i] : m;
            const float corr = expf(mx[r] - m); /* 0 on the first tile (exp(-inf)) */
            float       acc  = 0.0f;
            for (int i = 0; i < kt; i++) {
                row[i] = expf(row[i] - m);
                acc += row[i];
            }
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
