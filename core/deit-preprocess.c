/* deit-preprocess.c - STUB, being written (Pillow-exact resize, crop, normalise). */
#include "deit-internal.h"
struct deit_preprocess_config deit_preprocess_default_config(const char *t) { struct deit_preprocess_config c = {0}; return c; }
enum deit_status deit_preprocess_config_parse(const char *json, size_t len, const char *d, struct deit_preprocess_config *out, struct deit_error *err) {
    *out = deit_preprocess_default_config(d); return DEIT_STATUS_OK;
}
enum deit_status deit_preprocess_config_load(const char *path, const char *d, struct deit_preprocess_config *out, struct deit_error *err) {
    *out = deit_preprocess_default_config(d); return DEIT_STATUS_OK;
}
struct deit_preprocessor *deit_preprocessor_new(const struct deit_preprocess_config *c, int n, struct deit_error *err) { return NULL; }
struct deit_preprocessor *deit_preprocessor_new_with_pool(const struct deit_preprocess_config *c, struct deit_pool *p, struct deit_error *err) { return NULL; }
void deit_preprocessor_free(struct deit_preprocessor *pp) {}
void deit_preprocessor_output_size(const struct deit_preprocessor *pp, int *h, int *w) { *h = *w = 0; }
enum deit_status deit_preprocess(struct deit_preprocessor *pp, const struct deit_image *i, const struct deit_rect *r, float *o) { return DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT; }
enum deit_status deit_preprocess_u8(struct deit_preprocessor *pp, const struct deit_image *i, const struct deit_rect *r, uint8_t *o) { return DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT; }
