/* deit-model.c - STUB, being written (config.json parsing, weight loading, validation). */
#include "deit-internal.h"
#include <stdlib.h>
struct deit_model_params deit_model_default_params(void) {
    return (struct deit_model_params){ .weights_path = NULL, .use_mmap = true };
}
struct deit_model *deit_model_load(const char *dir, const struct deit_model_params *params, struct deit_error *err) {
    deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "not implemented yet"); return NULL;
}
struct deit_model *deit_model_load_from_memory(const char *c, size_t cl, const char *p, size_t pl, const void *s, size_t sl, struct deit_error *err) {
    deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "not implemented yet"); return NULL;
}
void deit_model_free(struct deit_model *model) { free(model); }
const struct deit_model_info *deit_model_get_info(const struct deit_model *m) { return &m->info; }
const struct deit_preprocess_config *deit_model_get_preprocess_config(const struct deit_model *m) { return &m->preprocess; }
const char *deit_model_get_label(const struct deit_model *m, int id) {
    return (id >= 0 && id < m->info.num_labels) ? m->labels[id] : NULL;
}
