/* bench-preprocess - our preprocessing vs Pillow's, side by side, in one run.
 *
 *   bench-preprocess [--repeats N] [--threads N] [--width W --height H] [--python PATH]
 *
 * Builds a deterministic 1920x1080 frame (smooth gradients plus noise, like a camera
 * frame) in RGB and I420, runs the DeiTImageProcessor default pipeline (bicubic 256x256,
 * crop 224, rescale, normalise -> float [3,224,224]) N times and reports the median.
 * The Pillow side runs bench_preprocess_pil.py (same frame, one thread) and its uint8 and
 * float results are compared with ours, so the table also says whether we were bit-exact.
 */
#include "deit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BENCH_SCRIPT
#define BENCH_SCRIPT "bench_preprocess_pil.py"
#endif

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median wall-clock ms; *cpu gets the median process CPU ms (less sensitive to a busy machine) */
static double median_run(struct deit_preprocessor *pp, const struct deit_image *img, float *out, int repeats,
                         double *cpu) {
    double *t = malloc(sizeof(double) * (size_t)repeats), *c = malloc(sizeof(double) * (size_t)repeats);
    deit_preprocess(pp, img, NULL, out); /* warm-up: builds the geometry plan */
    for (int i = 0; i < repeats; i++) {
        double c0 = cpu_ms(), t0 = now_ms();
        deit_preprocess(pp, img, NULL, out);
        t[i] = now_ms() - t0;
        c[i] = cpu_ms() - c0;
    }
    qsort(t, (size_t)repeats, sizeof(double), cmp_double);
    qsort(c, (size_t)repeats, sizeof(double), cmp_double);
    double m = t[repeats / 2];
    *cpu = c[repeats / 2];
    free(t);
    free(c);
    return m;
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 24;
}

static void make_frame(uint8_t *rgb, uint8_t *yuv, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            double   s = 0.5 + 0.5 * sin(x / 37.0) * cos(y / 23.0);
            p[0] = (uint8_t)fmin(255, 200 * s + (rnd() & 31));
            p[1] = (uint8_t)fmin(255, (x * 255.0 / w) * 0.8 + (rnd() & 31));
            p[2] = (uint8_t)fmin(255, (y * 255.0 / h) * 0.8 + (rnd() & 31));
        }
    /* I420 with BT.601 limited range (a typical decoder output) */
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    uint8_t *Y = yuv, *U = yuv + (size_t)w * h, *V = U + (size_t)cw * ch;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            Y[(size_t)y * w + x] = (uint8_t)(16 + (65.481 * p[0] + 128.553 * p[1] + 24.966 * p[2]) / 255 + 0.5);
        }
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            const uint8_t *p = rgb + ((size_t)(2 * y) * w + 2 * x) * 3;
            U[(size_t)y * cw + x] = (uint8_t)(128 + (-37.797 * p[0] - 74.203 * p[1] + 112.0 * p[2]) / 255 + 0.5);
            V[(size_t)y * cw + x] = (uint8_t)(128 + (112.0 * p[0] - 93.786 * p[1] - 18.214 * p[2]) / 255 + 0.5);
        }
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void *read_file(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *buf = malloc(n);
    if (fread(buf, 1, n, f) != n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    int repeats = 30, threads = 1, w = 1920, h = 1080;
    const char *python = "/usr/bin/python3", *script = BENCH_SCRIPT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--width") && i + 1 < argc) w = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--height") && i + 1 < argc) h = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--script") && i + 1 < argc) script = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--repeats N] [--threads N] [--width W --height H] [--python PATH]\n",
                    argv[0]);
            return 2;
        }
    }
    if (repeats < 1 || w < 1 || h < 1) return 2;
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    size_t n_rgb = (size_t)w * h * 3, n_yuv = (size_t)w * h + 2 * (size_t)cw * ch;
    uint8_t *rgb = malloc(n_rgb), *yuv = malloc(n_yuv);
    make_frame(rgb, yuv, w, h);

    struct deit_error err;
    struct deit_preprocess_config cfg = deit_preprocess_default_config("deit");
    struct deit_preprocessor *pp = deit_preprocessor_new(&cfg, threads, &err);
    if (!pp) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int oh, ow;
    deit_preprocessor_output_size(pp, &oh, &ow);
    float *out = malloc(sizeof(float) * 3 * oh * ow);
    uint8_t *out_u8 = malloc((size_t)3 * oh * ow);

    struct deit_image img_rgb = {.format = DEIT_PIXEL_FORMAT_RGB, .width = w, .height = h,
                                 .data = {rgb}, .stride = {3 * w}};
    struct deit_image img_yuv = {.format = DEIT_PIXEL_FORMAT_I420, .width = w, .height = h,
                                 .data = {yuv, yuv + (size_t)w * h, yuv + (size_t)w * h + (size_t)cw * ch},
                                 .stride = {w, cw, cw}, .matrix = DEIT_COLOR_MATRIX_BT601};
    double ours_rgb_cpu, ours_i420_cpu;
    double ours_rgb  = median_run(pp, &img_rgb, out, repeats, &ours_rgb_cpu);
    double ours_i420 = median_run(pp, &img_yuv, out, repeats, &ours_i420_cpu);
    deit_preprocess(pp, &img_rgb, NULL, out);
    deit_preprocess_u8(pp, &img_rgb, NULL, out_u8);

    /* Pillow side */
    char dir[] = "/tmp/bench-preprocess-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char f_rgb[512], f_yuv[512], prefix[512], cmd[2048], line[1024] = "";
    snprintf(f_rgb, sizeof f_rgb, "%s/frame.rgb", dir);
    snprintf(f_yuv, sizeof f_yuv, "%s/frame.i420", dir);
    snprintf(prefix, sizeof prefix, "%s/pil", dir);
    if (write_file(f_rgb, rgb, n_rgb) || write_file(f_yuv, yuv, n_yuv)) return 1;
    snprintf(cmd, sizeof cmd, "%s %s %s %d %d %s %d %s", python, script, f_rgb, w, h, f_yuv, repeats, prefix);
    FILE *pipe = popen(cmd, "r");
    double pil_rgb = NAN, pil_i420 = NAN, pil_rgb_cpu = NAN, pil_i420_cpu = NAN;
    char pil_ver[32] = "?";
    if (pipe) {
        if (fgets(line, sizeof line, pipe)) {
            char *p;
            if ((p = strstr(line, "\"rgb_ms\": "))) pil_rgb = atof(p + 10);
            if ((p = strstr(line, "\"i420_ms\": "))) pil_i420 = atof(p + 11);
            if ((p = strstr(line, "\"rgb_cpu_ms\": "))) pil_rgb_cpu = atof(p + 14);
            if ((p = strstr(line, "\"i420_cpu_ms\": "))) pil_i420_cpu = atof(p + 15);
            if ((p = strstr(line, "\"pillow\": \""))) sscanf(p + 11, "%31[^\"]", pil_ver);
        }
        pclose(pipe);
    }
    char path[600];
    snprintf(path, sizeof path, "%s.rgb.u8", prefix);
    uint8_t *pil_u8 = read_file(path, (size_t)3 * oh * ow);
    snprintf(path, sizeof path, "%s.rgb.f32", prefix);
    float *pil_f = read_file(path, sizeof(float) * 3 * oh * ow);
    long   u8_diff = -1;
    double f_diff  = -1;
    if (pil_u8 && pil_f) {
        u8_diff = 0;
        f_diff  = 0;
        for (int i = 0; i < 3 * oh * ow; i++) {
            if (pil_u8[i] != out_u8[i]) u8_diff++;
            double d = fabs((double)pil_f[i] - out[i]);
            if (d > f_diff) f_diff = d;
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);

    printf("bench-preprocess: %dx%d frame -> DeiT %dx%d tensor (bicubic 256, crop 224), median of %d runs, "
           "gst-deit on %d thread(s), Pillow %s on one\n", w, h, ow, oh, repeats, threads, pil_ver);
    printf("| input | gst-deit wall ms | Pillow wall ms | speed-up | gst-deit CPU ms | Pillow CPU ms | CPU ratio |\n");
    printf("|-------|-----------------:|---------------:|---------:|----------------:|--------------:|----------:|\n");
    printf("| RGB   | %16.3f | %14.3f | %7.1fx | %15.3f | %13.3f | %8.1fx |\n", ours_rgb, pil_rgb,
           pil_rgb / ours_rgb, ours_rgb_cpu, pil_rgb_cpu, pil_rgb_cpu / ours_rgb_cpu);
    printf("| I420  | %16.3f | %14.3f | %7.1fx | %15.3f | %13.3f | %8.1fx |\n", ours_i420, pil_i420,
           pil_i420 / ours_i420, ours_i420_cpu, pil_i420_cpu, pil_i420_cpu / ours_i420_cpu);
    if (u8_diff >= 0)
        printf("RGB result vs Pillow: %ld uint8 values differ (bit-exact: %s), max |float diff| %.3g\n", u8_diff,
               u8_diff == 0 ? "yes" : "NO", f_diff);
    else
        printf("RGB result vs Pillow: not compared (Pillow side failed: %s)\n", cmd);
    printf("I420 Pillow side: chroma upsampled with Image.resize(NEAREST), merged YCbCr, .convert(\"RGB\")"
           " (full-range JPEG matrix); cost comparison only.\n");
    free(pil_u8);
    free(pil_f);
    free(out);
    free(out_u8);
    free(rgb);
    free(yuv);
    deit_preprocessor_free(pp);
    return u8_diff == 0 ? 0 : 1;
}
