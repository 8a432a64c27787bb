/* test-preprocess-api.c - the preprocessing API's handling of bad input, through the
 * public header only: every misuse returns the documented status with a message, never
 * a crash. (Numerical results are compared with Pillow by test_preprocess.py.) */
#include "deit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int  failures;
static char last_log[1024];

static void on_log(enum deit_log_level level, const char *message, void *user_data) {
    (void)level;
    (void)user_data;
    snprintf(last_log, sizeof last_log, "%s", message);
}

#define EXPECT(cond, ...)                                      \
    do {                                                       \
        if (!(cond)) {                                         \
            failures++;                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                      \
            fprintf(stderr, "\n");                             \
        }                                                      \
    } while (0)

static void expect_status(enum deit_status got, enum deit_status want, const char *what) {
    EXPECT(got == want, "%s: status %s (%d), expected %s (%d); last log: %s", what, deit_status_to_string(got),
           (int)got, deit_status_to_string(want), (int)want, last_log);
    if (got != DEIT_STATUS_OK) printf("%-44s -> %s: %s\n", what, deit_status_to_string(got), last_log);
}

static void test_preprocessor_new(void) {
    struct deit_error err;
    EXPECT(!deit_preprocessor_new(NULL, 1, &err) && err.status == DEIT_STATUS_ERROR_INVALID_ARG, "NULL config");
    struct deit_preprocess_config c = deit_preprocess_default_config("deit");
    c.resample = (enum deit_resample)9;
    EXPECT(!deit_preprocessor_new(&c, 1, &err) && err.status == DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
           "resample 9 accepted");
    EXPECT(strstr(err.message, "resample") != NULL, "message does not name resample: %s", err.message);
    c = deit_preprocess_default_config("deit");
    c.crop_height = 0;
    EXPECT(!deit_preprocessor_new(&c, 1, &err) && err.status == DEIT_STATUS_ERROR_BAD_CONFIG, "crop 0 accepted");
    c = deit_preprocess_default_config("deit");
    c.image_std[2] = 0.0f;
    EXPECT(!deit_preprocessor_new(&c, 1, &err) && err.status == DEIT_STATUS_ERROR_BAD_CONFIG, "std 0 accepted");
    c = deit_preprocess_default_config("vit");
    c.shortest_edge = 224;
    EXPECT(!deit_preprocessor_new(&c, 1, &err) && err.status == DEIT_STATUS_ERROR_BAD_CONFIG,
           "variable output size accepted");
    /* the class defaults documented in deit.h */
    c = deit_preprocess_default_config("deit");
    EXPECT(c.resize_height == 256 && c.crop_height == 224 && c.resample == DEIT_RESAMPLE_BICUBIC && c.do_center_crop,
           "DeiT defaults");
    c = deit_preprocess_default_config("vit");
    EXPECT(c.resize_height == 224 && !c.do_center_crop && c.resample == DEIT_RESAMPLE_BILINEAR, "ViT defaults");
    struct deit_preprocessor *pp = deit_preprocessor_new(&c, 2, &err);
    EXPECT(pp != NULL, "ViT defaults refused: %s", err.message);
    int h = -1, w = -1;
    deit_preprocessor_output_size(pp, &h, &w);
    EXPECT(h == 224 && w == 224, "output size %dx%d", w, h);
    deit_preprocessor_free(pp);
    deit_preprocessor_free(NULL);
    deit_preprocessor_output_size(NULL, &h, &w);
    EXPECT(h == 0 && w == 0, "output size of NULL");
}

static void test_bad_images(void) {
    struct deit_error err;
    struct deit_preprocess_config c = deit_preprocess_default_config("deit");
    struct deit_preprocessor *pp = deit_preprocessor_new(&c, 1, &err);
    static uint8_t pix[64 * 64 * 4];
    static float   out[3 * 224 * 224];
    static uint8_t out8[3 * 224 * 224];
    struct deit_image ok = {.format = DEIT_PIXEL_FORMAT_RGB, .width = 64, .height = 64, .data = {pix},
                            .stride = {64 * 3}};
    expect_status(deit_preprocess(pp, &ok, NULL, out), DEIT_STATUS_OK, "valid RGB");
    expect_status(deit_preprocess(NULL, &ok, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "NULL preprocessor");
    expect_status(deit_preprocess(pp, NULL, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "NULL image");
    expect_status(deit_preprocess(pp, &ok, NULL, NULL), DEIT_STATUS_ERROR_INVALID_ARG, "NULL output");
    expect_status(deit_preprocess_u8(pp, &ok, NULL, NULL), DEIT_STATUS_ERROR_INVALID_ARG, "NULL u8 output");
    struct deit_image b = ok;
    b.format = DEIT_PIXEL_FORMAT_COUNT;
    expect_status(deit_preprocess(pp, &b, NULL, out), DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "format COUNT");
    b.format = (enum deit_pixel_format)-1;
    expect_status(deit_preprocess(pp, &b, NULL, out), DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "format -1");
    b = ok;
    b.width = 16385;
    expect_status(deit_preprocess(pp, &b, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "width 16385");
    b = ok;
    b.height = 0;
    expect_status(deit_preprocess(pp, &b, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "height 0");
    b = ok;
    b.stride[0] = 64 * 3 - 1;
    expect_status(deit_preprocess(pp, &b, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "short stride");
    b = ok;
    b.data[0] = NULL;
    expect_status(deit_preprocess(pp, &b, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "NULL plane");
    /* I420 needs three planes and a known matrix */
    struct deit_image yuv = {.format = DEIT_PIXEL_FORMAT_I420, .width = 64, .height = 64,
                             .data = {pix, pix + 4096, pix + 5120}, .stride = {64, 32, 32}};
    expect_status(deit_preprocess(pp, &yuv, NULL, out), DEIT_STATUS_OK, "valid I420");
    yuv.data[2] = NULL;
    expect_status(deit_preprocess(pp, &yuv, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "I420 without V plane");
    yuv.data[2] = pix + 5120;
    yuv.stride[1] = 31;
    expect_status(deit_preprocess(pp, &yuv, NULL, out), DEIT_STATUS_ERROR_INVALID_ARG, "I420 short chroma stride");
    yuv.stride[1] = 32;
    yuv.matrix = (enum deit_color_matrix)7;
    expect_status(deit_preprocess(pp, &yuv, NULL, out), DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "matrix 7");
    /* ROIs */
    struct deit_rect r = {10, 10, 20, 20};
    expect_status(deit_preprocess_u8(pp, &ok, &r, out8), DEIT_STATUS_OK, "ROI inside");
    r = (struct deit_rect){-5, -5, 20, 20};
    expect_status(deit_preprocess_u8(pp, &ok, &r, out8), DEIT_STATUS_OK, "ROI clipped");
    r = (struct deit_rect){64, 0, 5, 5};
    expect_status(deit_preprocess_u8(pp, &ok, &r, out8), DEIT_STATUS_ERROR_INVALID_ARG, "ROI outside");
    r = (struct deit_rect){0, 0, 0, 5};
    expect_status(deit_preprocess_u8(pp, &ok, &r, out8), DEIT_STATUS_ERROR_INVALID_ARG, "ROI empty");
    r = (struct deit_rect){2147483000, 0, 2000, 5};
    expect_status(deit_preprocess_u8(pp, &ok, &r, out8), DEIT_STATUS_ERROR_INVALID_ARG, "ROI overflowing int");
    deit_preprocessor_free(pp);
}

static void test_config_files(void) {
    struct deit_error err;
    struct deit_preprocess_config c;
    char dir[] = "/tmp/test-preprocess-api-XXXXXX";
    if (!mkdtemp(dir)) {
        failures++;
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/missing.json", dir);
    expect_status(deit_preprocess_config_load(path, "vit", &c, &err), DEIT_STATUS_OK, "missing file");
    EXPECT(c.resize_height == 224 && !c.do_center_crop, "missing file: not the ViT defaults");
    expect_status(deit_preprocess_config_load(dir, "deit", &c, &err), DEIT_STATUS_ERROR_IO, "directory");
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"size\": 256,", f);
    fclose(f);
    expect_status(deit_preprocess_config_load(path, "deit", &c, &err), DEIT_STATUS_ERROR_BAD_JSON, "truncated JSON");
    EXPECT(strstr(err.message, "bad.json") != NULL, "message does not name the file: %s", err.message);
    f = fopen(path, "w");
    fputs("{\"size\": 438, \"crop_size\": 384, \"image_mean\": [0.485, 0.456, 0.406]}", f);
    fclose(f);
    expect_status(deit_preprocess_config_load(path, "deit", &c, &err), DEIT_STATUS_OK, "good file");
    EXPECT(c.resize_width == 438 && c.crop_width == 384 && c.image_mean[0] == 0.485f, "good file values");
    expect_status(deit_preprocess_config_load(path, "beit", &c, &err), DEIT_STATUS_ERROR_INVALID_ARG,
                  "unknown default type");
    expect_status(deit_preprocess_config_load(NULL, "deit", &c, &err), DEIT_STATUS_ERROR_INVALID_ARG, "NULL path");
    expect_status(deit_preprocess_config_parse(NULL, 0, "deit", &c, &err), DEIT_STATUS_ERROR_INVALID_ARG,
                  "NULL json");
    unlink(path);
    rmdir(dir);
}

int main(void) {
    deit_log_set(on_log, NULL);
    test_preprocessor_new();
    test_bad_images();
    test_config_files();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
