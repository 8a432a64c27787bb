/* sgemm-bench.c - the machine's practical float32 GEMM throughput: OpenBLAS cblas_sgemm on
 * square n x n matrices with OpenBLAS's own threading (openblas_set_num_threads(threads)).
 *
 *   sgemm-bench [--n 2048] [--threads N] [--iters 10] [--warmup 2]
 *
 * FLOPs = 2 * n^3 per call. Prints the median and best GFLOP/s, and last a JSON line:
 *   {"n":2048,"threads":2,"median_ms":..,"gflops":..,"best_gflops":..}
 * bench-peers.sh divides deit-bench's GFLOP/s by this median to get "% of sgemm".
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void openblas_set_num_threads(int num_threads);

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int n = 2048, threads = 0, iters = 10, warmup = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: sgemm-bench [--n N] [--threads N] [--iters N] [--warmup N]\n");
            return 2;
        }
    }
    if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 16 || iters < 1 || iters > 1000 || warmup < 0) return 2;
    openblas_set_num_threads(threads);
    const size_t nn = (size_t)n * n;
    float *a = aligned_alloc(64, nn * sizeof(float)), *b = aligned_alloc(64, nn * sizeof(float));
    float *c = aligned_alloc(64, nn * sizeof(float));
    if (!a || !b || !c) return 1;
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)((i * 7 + 3) % 101) / 101.0f - 0.5f;
        b[i] = (float)((i * 13 + 5) % 97) / 97.0f - 0.5f;
    }
    memset(c, 0, nn * sizeof(float));
    double *t = calloc((size_t)iters, sizeof *t);
    for (int i = 0; i < warmup + iters; i++) {
        double t0 = now_ms();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = now_ms() - t0;
        if (i >= warmup) t[i - warmup] = dt;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    const double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
    const double gf  = 2.0 * n * (double)n * n / 1e9;
    printf("sgemm %dx%d, %d OpenBLAS threads: median %.2f ms = %.1f GFLOP/s, best %.1f GFLOP/s (c[0]=%g)\n", n, n,
           threads, med, gf / (med / 1e3), gf / (t[0] / 1e3), (double)c[0]);
    printf("{\"n\":%d,\"threads\":%d,\"median_ms\":%.3f,\"gflops\":%.2f,\"best_gflops\":%.2f}\n", n, threads, med,
           gf / (med / 1e3), gf / (t[0] / 1e3));
    free(a);
    free(b);
    free(c);
    free(t);
    return 0;
}
