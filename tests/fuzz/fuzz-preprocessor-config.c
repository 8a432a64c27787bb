/* fuzz-preprocessor-config.c - preprocessor_config.json parsing
 * (deit_preprocess_config_parse), then a preprocessor built from what it accepts. */
#include "fuzz-common.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *classes[] = {"deit", "vit", NULL, "unknown"};
    const char *cls       = classes[data[0] & 3];
    char       *json      = malloc(size);
    memcpy(json, data + 1, size - 1);
    struct deit_preprocess_config cfg;
    struct deit_error             err = {0};
    enum deit_status st = deit_preprocess_config_parse(json, size - 1, cls, &cfg, &err);
    fuzz_check_error(st, &err);
    if (st == DEIT_STATUS_OK) {
        struct deit_preprocessor *pp = deit_preprocessor_new(&cfg, 1, &err);
        if (pp) {
            int h = 0, w = 0;
            deit_preprocessor_output_size(pp, &h, &w);
            if (h < 1 || w < 1 || h > DEIT_MAX_IMAGE_DIM || w > DEIT_MAX_IMAGE_DIM) __builtin_trap();
            /* one small frame through it when the output is small enough to be quick */
            if ((size_t)h * (size_t)w <= 256 * 256) {
                static uint8_t rgb[16 * 16 * 3];
                for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 7);
                struct deit_image img = {.format = DEIT_PIXEL_FORMAT_RGB, .width = 16, .height = 16,
                                         .data = {rgb}, .stride = {16 * 3}};
                float *out = malloc(sizeof(float) * 3 * (size_t)h * (size_t)w);
                enum deit_status ps = deit_preprocess(pp, &img, NULL, out);
                if (ps != DEIT_STATUS_OK && ps != DEIT_STATUS_ERROR_INVALID_ARG) __builtin_trap();
                free(out);
            }
            deit_preprocessor_free(pp);
        } else {
            fuzz_check_error(err.status, &err);
        }
    }
    free(json);
    return 0;
}
