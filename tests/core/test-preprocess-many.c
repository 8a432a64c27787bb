/* test-preprocess-many.c - deit_state_preprocess_many() against deit_state_preprocess().
 *
 *   test-preprocess-many FIXTURES_DIR      (the core fixtures of gen_core_fixtures.py)
 *
 * The regions of a frame are preprocessed by the state's workers, one region each at a
 * time through a single-threaded preprocessor of their own. Every input slot must hold
 * exactly (to the bit) what deit_state_preprocess() writes for the same image and region
 * (which tests/preprocess compares with Pillow): 1080p I420 and 640x480 RGB frames, 11
 * regions from 1x1 to the whole frame, some partly outside the frame, with 1, 2 and 3
 * workers. A region outside the frame fails the call with its status and a message that
 * names it, and the other slots are still written.
 */
#include "deit.h"
#include "test-state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            printf("FAIL: " __VA_ARGS__);                                                                              \
            printf("\n");                                                                                              \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

static struct deit_state *new_state(const struct deit_model *m, int batch, int threads) {
    struct deit_state_params sp = deit_state_default_params();
    sp.max_batch = batch, sp.n_threads = threads;
    return state_or_exit(m, &sp);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test-preprocess-many FIXTURES_DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/deit-tiny", argv[1]);
    struct deit_error  err;
    struct deit_model *m = deit_model_load(path, NULL, &err);
    if (!m) {
        printf("FAIL %s: %s\n", path, err.message);
        return 1;
    }
    const struct deit_model_info *mi = deit_model_get_info(m);
    const size_t per = (size_t)mi->num_channels * mi->image_height * mi->image_width;

    /* two frames of noise with some structure */
    const int W = 1920, H = 1080, RW = 640, RH = 480;
    uint8_t  *yuv = malloc((size_t)W * H * 3 / 2), *rgb = malloc((size_t)RW * RH * 3);
    uint32_t  r   = 7;
    for (size_t i = 0; i < (size_t)W * H * 3 / 2; i++) r = r * 1664525u + 1013904223u, yuv[i] = (uint8_t)((r >> 24) ^ i);
    for (size_t i = 0; i < (size_t)RW * RH * 3; i++) r = r * 1664525u + 1013904223u, rgb[i] = (uint8_t)(r >> 25) + (uint8_t)(i / 3 % RW);
    const struct deit_image i420 = { .format = DEIT_PIXEL_FORMAT_I420, .width = W, .height = H,
                                     .data = { yuv, yuv + W * H, yuv + W * H + W * H / 4 },
                                     .stride = { W, W / 2, W / 2 }, .matrix = DEIT_COLOR_MATRIX_BT709 };
    const struct deit_image rgbi = { .format = DEIT_PIXEL_FORMAT_RGB, .width = RW, .height = RH, .data = { rgb },
                                     .stride = { 3 * RW } };
    enum { N = 11 };
    const struct deit_rect rois[N] = { { 0, 0, W, H },      { 100, 50, 224, 224 }, { 1, 1, 1, 1 },
                                       { 1800, 1000, 300, 200 }, { -40, -30, 120, 90 }, { 10, 10, 500, 60 },
                                       { 0, 0, RW, RH },    { 300, 200, 97, 313 },  { 600, 400, 100, 100 },
                                       { 33, 44, 17, 250 }, { 5, 5, 630, 470 } };
    const struct deit_image *images[N];
    for (int i = 0; i < N; i++) images[i] = i < 6 ? &i420 : &rgbi;

    /* the reference: one region at a time */
    struct deit_state *ref = new_state(m, N, 1);
    for (int i = 0; i < N; i++)
        if (deit_state_preprocess(ref, i, images[i], &rois[i], &err) != DEIT_STATUS_OK) {
            printf("FAIL deit_state_preprocess region %d: %s\n", i, err.message);
            return 1;
        }
    for (int t = 1; t <= 3; t++) {
        struct deit_state *st = new_state(m, N + 2, t);
        /* twice: the workers' plans are cached per region size */
        for (int rep = 0; rep < 2; rep++) {
            for (int i = 0; i < N + 2; i++) memset(deit_state_input(st, i), 0xff, per * sizeof(float));
            const enum deit_status s = deit_state_preprocess_many(st, 2, N, images, rois, &err);
            CHECK(s == DEIT_STATUS_OK, "%d workers: deit_state_preprocess_many: %s", t, err.message);
            int same = 0;
            for (int i = 0; i < N; i++) same += !memcmp(deit_state_input(st, 2 + i), deit_state_input(ref, i), per * sizeof(float));
            printf("%d worker%s, pass %d: %d of %d slots equal to deit_state_preprocess to the bit\n", t,
                   t > 1 ? "s" : " ", rep + 1, same, N);
            CHECK(same == N, "%d workers: %d of %d slots differ", t, N - same, N);
            const uint32_t untouched = 0xffffffffu;
            CHECK(!memcmp(deit_state_input(st, 0), &untouched, 4) && !memcmp(deit_state_input(st, 1), &untouched, 4),
                  "slots before b0 were written");
        }
        /* region 4 outside the frame: its status, named in the message; the others written */
        struct deit_rect bad[N];
        memcpy(bad, rois, sizeof bad);
        bad[4] = (struct deit_rect){ W + 10, 0, 50, 50 };
        bad[9] = (struct deit_rect){ 0, 0, 0, 10 };
        for (int i = 0; i < N + 2; i++) memset(deit_state_input(st, i), 0xff, per * sizeof(float));
        const enum deit_status s = deit_state_preprocess_many(st, 2, N, images, bad, &err);
        int same = 0;
        for (int i = 0; i < N; i++)
            if (i != 4 && i != 9) same += !memcmp(deit_state_input(st, 2 + i), deit_state_input(ref, i), per * sizeof(float));
        printf("%d worker%s, regions 4 and 9 bad: %s: \"%s\"; %d of %d others written\n", t, t > 1 ? "s" : " ",
               deit_status_to_string(s), err.message, same, N - 2);
        CHECK(s == DEIT_STATUS_ERROR_INVALID_ARG && strstr(err.message, "region 4") && strstr(err.message, "intersect"),
              "%d workers: a region outside the frame gave %s: %s", t, deit_status_to_string(s), err.message);
        CHECK(same == N - 2, "%d workers: the good regions of a failing call were not all written", t);
        /* misuse */
        CHECK(deit_state_preprocess_many(st, 3, N, images, rois, &err) == DEIT_STATUS_ERROR_INVALID_ARG,
              "slots past the batch accepted");
        CHECK(deit_state_preprocess_many(st, 0, 0, images, rois, &err) == DEIT_STATUS_ERROR_INVALID_ARG,
              "n = 0 accepted");
        CHECK(deit_state_preprocess_many(st, 0, 2, NULL, rois, &err) == DEIT_STATUS_ERROR_INVALID_ARG,
              "images NULL accepted");
        deit_state_free(st);
    }
    deit_state_free(ref);
    deit_model_free(m);
    free(yuv);
    free(rgb);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
