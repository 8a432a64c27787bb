/* bench-roi.c - regions of a 1080p frame: one forward pass for all of them (what
 * deitclassify inference-region=roi-list does) against one forward pass per region.
 *
 *   bench-roi --model DIR [--threads N] [--reps R] [--rois 1,4,16,64]
 *
 * Per ROI count: a 1920x1080 I420 frame of seeded noise with N boxes of 96x96 to 320x320
 * spread over it. "batched" (the element's path): the boxes preprocessed into input slots
 * of their own by all workers (deit_state_preprocess_many: Pillow's crop + processor),
 * then deit_state_run() once per 64, whole images per worker (the default batch split).
 * "one by one": deit_state_preprocess() into slot 0 and run batch 1, N times.
 * Both include preprocessing. Reps alternate the two modes; the medians are printed with
 * frames/s, regions/s and the per-region speed-up of batching, then one JSON line.
 */
#include "deit.h"
#include "bench-util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fail(const char *what, const struct deit_error *err) {
    fprintf(stderr, "bench-roi: %s: %s\n", what, err->message);
    exit(1);
}

/* box i of n: sizes 96..320, spread over the frame deterministically */
static struct deit_rect box(int i, int W, int H) {
    uint32_t s = 2654435761u * (uint32_t)(i + 1);
    int      w = 96 + (int)(s % 225), h = 96 + (int)((s >> 8) % 225);
    return (struct deit_rect){(int)((s >> 3) % (uint32_t)(W - w)), (int)((s >> 13) % (uint32_t)(H - h)), w, h};
}

int main(int argc, char **argv) {
    const char *model_dir = NULL, *rois_arg = "1,4,16,64";
    int         threads = 0, reps = 9;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model_dir = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rois") && i + 1 < argc) rois_arg = argv[++i];
        else {
            fprintf(stderr, "usage: bench-roi --model DIR [--threads N] [--reps R] [--rois 1,4,16,64]\n");
            return 2;
        }
    }
    if (!model_dir || reps < 1) {
        fprintf(stderr, "usage: bench-roi --model DIR [--threads N] [--reps R] [--rois 1,4,16,64]\n");
        return 2;
    }
    struct deit_error  err;
    struct deit_model *model = deit_model_load(model_dir, NULL, &err);
    if (!model) fail("loading the model", &err);
    const struct deit_model_info *mi = deit_model_get_info(model);

    enum { CHUNK = 64 };
    struct deit_state_params sp = deit_state_default_params();
    sp.max_batch                = CHUNK;
    sp.n_threads                = threads;
    struct deit_state *st       = deit_state_init(model, &sp, &err);
    if (!st) fail("deit_state_init", &err);

    const int W = 1920, H = 1080;
    uint8_t  *yuv = malloc((size_t)W * H * 3 / 2);
    uint32_t  r   = 12345;
    for (size_t i = 0; i < (size_t)W * H * 3 / 2; i++) {
        r      = r * 1664525u + 1013904223u;
        yuv[i] = (uint8_t)(r >> 24);
    }
    struct deit_image img = {.format = DEIT_PIXEL_FORMAT_I420, .width = W, .height = H,
                             .data = {yuv, yuv + W * H, yuv + W * H + W * H / 4},
                             .stride = {W, W / 2, W / 2}, .matrix = DEIT_COLOR_MATRIX_BT709};

    printf("bench-roi: %s (%s, %d tokens, hidden %d, %d layers), 1920x1080 I420, %d threads, "
           "%d reps per mode\n",
           mi->name, deit_arch_to_string(mi->arch), mi->num_tokens, mi->hidden_size, mi->num_layers,
           threads > 0 ? threads : deit_default_threads(), reps);
    printf("%6s %14s %14s %12s %12s %12s\n", "ROIs", "batched ms/fr", "1-by-1 ms/fr", "frames/s", "regions/s",
           "speed-up");
    char json[4096];
    int  jn = snprintf(json, sizeof json, "{\"model\":\"%s\",\"threads\":%d,\"results\":[", mi->name,
                       threads > 0 ? threads : deit_default_threads());

    char *list = strdup(rois_arg);
    int   first = 1;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int     n  = atoi(tok);
        double *tb = calloc((size_t)reps, sizeof *tb), *to = calloc((size_t)reps, sizeof *to);
        if (n < 1) continue;
        for (int rep = -1; rep < reps; rep++) {   /* rep -1: warm-up */
            for (int mode = 0; mode < 2; mode++) {
                int    m  = (rep & 1) ? 1 - mode : mode;   /* alternate which goes first */
                double t0 = (1e-3 * bench_now_ms());
                if (m == 0) {
                    for (int i = 0; i < n; i += CHUNK) {
                        int                      k = n - i < CHUNK ? n - i : CHUNK;
                        struct deit_rect         b[CHUNK];
                        const struct deit_image *im[CHUNK];
                        for (int j = 0; j < k; j++) b[j] = box(i + j, W, H), im[j] = &img;
                        if (deit_state_preprocess_many(st, 0, k, im, b, &err)) fail("preprocess", &err);
                        if (deit_state_run(st, k, NULL)) fail("run", &err);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        struct deit_rect b = box(i, W, H);
                        if (deit_state_preprocess(st, 0, &img, &b, &err)) fail("preprocess", &err);
                        if (deit_state_run(st, 1, NULL)) fail("run", &err);
                    }
                }
                double t = (1e-3 * bench_now_ms()) - t0;
                if (rep >= 0) (m == 0 ? tb : to)[rep] = t;
            }
        }
        double mb = bench_median(tb, reps), mo = bench_median(to, reps);
        printf("%6d %14.2f %14.2f %12.2f %12.1f %11.2fx\n", n, 1e3 * mb, 1e3 * mo, 1.0 / mb, n / mb, mo / mb);
        jn += snprintf(json + jn, sizeof json - (size_t)jn,
                       "%s{\"rois\":%d,\"batched_ms\":%.3f,\"one_by_one_ms\":%.3f,\"speedup\":%.3f}",
                       first ? "" : ",", n, 1e3 * mb, 1e3 * mo, mo / mb);
        first = 0;
        free(tb);
        free(to);
    }
    printf("%s]}\n", json);
    free(list);
    free(yuv);
    deit_state_free(st);
    deit_model_free(model);
    return 0;
}
