/* fuzz-config.c - config.json parsing (deit_config_parse): architectures, sizes,
 * id2label, everything bounded and validated. */
#include "fuzz-common.h"
#include "deit-internal.h"

#include <glib.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *json = malloc(size ? size : 1);
    memcpy(json, data, size);
    struct deit_model_info info   = {0};
    char                 **labels = NULL;
    char                  *name   = NULL;
    struct deit_error      err    = {0};
    enum deit_status st = deit_config_parse(json, size, &info, &labels, &name, &err);
    fuzz_check_error(st, &err);
    if (st == DEIT_STATUS_OK) {
        /* what the loader relies on */
        if (info.hidden_size < 1 || info.num_heads < 1 || info.hidden_size % info.num_heads != 0) __builtin_trap();
        if (info.patch_size < 1 || info.image_height < info.patch_size || info.image_width < info.patch_size)
            __builtin_trap();
        if (info.num_labels < 0 || info.num_layers < 1) __builtin_trap();
        for (char **l = labels; l && *l; l++) (void)strlen(*l);
        if (name) (void)strlen(name);
    } else if (labels || name) {
        __builtin_trap();   /* documented: both stay NULL on failure */
    }
    g_strfreev(labels);
    g_free(name);
    free(json);
    return 0;
}
