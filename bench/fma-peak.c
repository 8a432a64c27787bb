/* fma-peak.c - the machine's floating-point limit per instruction set, and our GEMM
 * kernels against it and against OpenBLAS on DeiT's shapes.
 *
 *     fma-peak [--threads N] [--reps R] [--gemm] [--json]
 *
 * Peak: each thread runs independent chains of fused multiply-adds (24 zmm / 12 ymm
 * accumulators, more than latency x throughput on any current core, all in registers) on
 * AVX-512 zmm and AVX2 ymm registers
 * (each only where the CPU and OS support it); GFLOP/s = 2 x lanes x FMAs / the thread's
 * CPU time, summed over the threads, best of R repetitions, for 1 thread and for N threads
 * at once. This is what
 * "% of FMA peak" in bench-peers.py divides by.
 * --gemm: one thread, the linear-layer shapes of DeiT-tiny and DeiT-base (198 token rows)
 * through our packed kernels of every supported set and through OpenBLAS's sgemm on the
 * weights as stored, interleaved in R rounds (median GFLOP/s of the thread's CPU time, so
 * that preemption by other processes is not counted; weights 2-9 MB, so they come from
 * L2/L3 as in a forward pass at batch 1). The last line is JSON.
 */
#include "deit-internal.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* CPU time of this thread: a run preempted by another process on this shared machine is
 * not charged for the wait (wall time gave 5-117 GFLOP/s for the same loop here) */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define STEPS (1L << 20)

#if defined(__x86_64__)
/* CHAINS accumulators stay in registers: 12 of AVX2's 16 ymm, 24 of AVX-512's 32 zmm */
#define FMA_CHAINS(CHAINS, T, SET1, FMA, ADD, RED)                                          \
    T acc[CHAINS];                                                                          \
    const T a = SET1(0.999999f), b = SET1(1e-7f);                                           \
    for (int i = 0; i < CHAINS; i++) acc[i] = SET1((float)i);                               \
    for (long s = 0; s < STEPS; s++) {                                                      \
        _Pragma("GCC unroll 24") for (int i = 0; i < CHAINS; i++) acc[i] = FMA(acc[i], a, b); \
    }                                                                                       \
    for (int i = 1; i < CHAINS; i++) acc[0] = ADD(acc[0], acc[i]);                          \
    return RED(acc[0]);

__attribute__((target("avx512f"))) static float chains_avx512(void) {
    FMA_CHAINS(24, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps)
}
__attribute__((target("avx2,fma"))) static float red8(__m256 v) {
    float f[8];
    memcpy(f, &v, sizeof f);
    return f[0] + f[7];
}
__attribute__((target("avx2,fma"))) static float chains_avx2(void) {
    FMA_CHAINS(12, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, red8)
}
#endif

struct peak_job {
    enum deit_isa isa;
    pthread_barrier_t *bar;
    double t0, t1;
    float  sink;
};

static void *peak_thread(void *p) {
    struct peak_job *j = p;
    pthread_barrier_wait(j->bar);
    j->t0 = cpu_s();
#if defined(__x86_64__)
    j->sink = j->isa == DEIT_ISA_AVX512 ? chains_avx512() : chains_avx2();
#endif
    j->t1 = cpu_s();
    return NULL;
}

/* GFLOP/s of n threads running the chains at once: best of reps */
static double peak(enum deit_isa isa, int n, int reps) {
    const int lanes = isa == DEIT_ISA_AVX512 ? 16 : 8, chains = isa == DEIT_ISA_AVX512 ? 24 : 12;
    double    best  = 0;
    for (int r = 0; r < reps; r++) {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, (unsigned)n);
        struct peak_job j[64];
        pthread_t       th[64];
        for (int i = 0; i < n; i++) {
            j[i] = (struct peak_job){ .isa = isa, .bar = &bar };
            if (i > 0) pthread_create(&th[i], NULL, peak_thread, &j[i]);
        }
        peak_thread(&j[0]);
        for (int i = 1; i < n; i++) pthread_join(th[i], NULL);
        pthread_barrier_destroy(&bar);
        double g = 0; /* the threads run at once; each at the rate of its own CPU time */
        for (int i = 0; i < n; i++) g += 2.0 * lanes * chains * (double)STEPS / (j[i].t1 - j[i].t0) / 1e9;
        best = g > best ? g : best;
    }
    return best;
}

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *randf(size_t n) {
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, n * sizeof(float))) exit(1);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

int main(int argc, char **argv) {
    int  threads = deit_default_threads(), reps = 20;
    bool gemm = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--gemm")) gemm = true;
        else {
            fprintf(stderr, "usage: fma-peak [--threads N] [--reps R] [--gemm]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || reps < 1) return 2;
    deit_blas_single_thread();
    printf("{");
    const char *sep = "";
    double      p1[3] = { 0 }, pn[3] = { 0 };
    for (int isa = DEIT_ISA_AVX2; isa <= DEIT_ISA_AVX512; isa++) {
        if (!deit_isa_supported((enum deit_isa)isa)) continue;
        p1[isa - 1] = peak((enum deit_isa)isa, 1, reps);
        pn[isa - 1] = threads > 1 ? peak((enum deit_isa)isa, threads, reps) : p1[isa - 1];
        fprintf(stderr, "peak %-7s 1 thread %7.1f GFLOP/s, %d threads %7.1f GFLOP/s\n",
                deit_isa_to_string((enum deit_isa)isa), p1[isa - 1], threads, pn[isa - 1]);
        printf("%s\"peak_%s_1\":%.1f", sep, deit_isa_to_string((enum deit_isa)isa), p1[isa - 1]);
        if (threads > 1) printf(",\"peak_%s_%d\":%.1f", deit_isa_to_string((enum deit_isa)isa), threads, pn[isa - 1]);
        sep = ",";
    }
    printf("%s\"threads\":%d", sep, threads);
    if (gemm) {
        /* M, K, N, row stride of the input: DeiT-tiny qkv / fc1 / fc2, DeiT-base qkv / fc1 /
         * fc2, and fc2 with the input rows padded by 16 floats as the forward pass stores
         * them (12 KB apart, 12 rows of a tile would share one L1 set); DeiT-base 384 qkv
         * (578 rows) and batch 8 fc1 / fc2 (1584 rows), whose inputs do not fit in L2 */
        static const int shapes[][4] = { { 198, 192, 576, 192 },   { 198, 192, 768, 192 },
                                         { 198, 768, 192, 768 },   { 198, 768, 2304, 768 },
                                         { 198, 768, 3072, 768 },  { 198, 3072, 768, 3072 },
                                         { 198, 3072, 768, 3088 }, { 578, 768, 2304, 768 },
                                         { 1584, 768, 3072, 768 },  { 1584, 3072, 768, 3072 } };
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2], ldx = shapes[s][3];
            float    *x = randf((size_t)M * ldx), *w = randf((size_t)N * K), *wp = randf((size_t)N * K);
            float    *tmp = randf((size_t)N * K), *out = randf((size_t)M * N), *bias = randf((size_t)N);
            memcpy(wp, w, (size_t)N * K * sizeof(float));
            linear_pack_weights(wp, N, K, tmp);
            double t[4][64];
            int    R = reps > 64 ? 64 : reps;
            for (int r = 0; r < R; r++)
                for (int v = 0; v < 4; v++) { /* 0 OpenBLAS, then portable / avx2 / avx512 */
                    if (v > 0 && !deit_isa_supported((enum deit_isa)v)) continue;
                    const double t0 = cpu_s();
                    if (v == 0)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, ldx, w, K, 0.0f, out, N);
                    else
                        deit_kernels_for((enum deit_isa)v)->linear_packed(out, N, x, ldx, wp, bias, M, K, 0, N, false);
                    t[v][r] = cpu_s() - t0;
                }
            static const char *names[4] = { "openblas", "portable", "avx2", "avx512" };
            fprintf(stderr, "gemm %4dx%-4d->%-4d ld %-4d", M, K, N, ldx);
            for (int v = 0; v < 4; v++) {
                if (v > 0 && !deit_isa_supported((enum deit_isa)v)) continue;
                qsort(t[v], (size_t)R, sizeof(double), cmp_d);
                const double g = 2.0 * M * K * N / t[v][R / 2] / 1e9;
                fprintf(stderr, "  %s %6.1f", names[v], g);
                printf(",\"gemm_%d_%d_%d_ld%d_%s\":%.1f", M, K, N, ldx, names[v], g);
            }
            fprintf(stderr, " GFLOP/s (median of %d)\n", R);
            free(x), free(w), free(wp), free(tmp), free(out), free(bias);
        }
    }
    printf("}\n");
    return 0;
}
