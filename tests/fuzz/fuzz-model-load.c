/* fuzz-model-load.c - deit_model_load_from_memory on a whole fuzzed checkpoint:
 * config.json, preprocessor_config.json and the weight file (safetensors or
 * pytorch_model.bin) in one input, separated by FUZZ_SEP lines. A model it accepts is
 * run once (one thread) on a fuzzer-chosen input, so weights and shapes that pass the
 * loader's checks are also safe to compute with. */
#include "fuzz-common.h"

#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    return 0;
}

static void *dup_part(const uint8_t *p, size_t n) {
    void *c = malloc(n ? n : 1);
    memcpy(c, p, n);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *part[3] = {NULL, NULL, NULL};
    size_t         len[3]  = {0, 0, 0}, pos = 0;
    for (int i = 0; i < 3; i++)
        if (!fuzz_next_part(data, size, &pos, &part[i], &len[i])) part[i] = NULL;
    if (!part[0]) return 0;
    /* private copies, exactly sized, so ASan sees any read past a part */
    char *config = dup_part(part[0], len[0]);
    char *pre    = part[1] && len[1] ? dup_part(part[1], len[1]) : NULL;
    void *w      = part[2] ? dup_part(part[2], len[2]) : NULL;
    struct deit_error  err   = {0};
    struct deit_model *model = deit_model_load_from_memory(config, len[0], pre, pre ? len[1] : 0, w,
                                                           w ? len[2] : 0, &err);
    if (!model) {
        if (err.status == DEIT_STATUS_OK || !err.message[0]) __builtin_trap();
    } else {
        const struct deit_model_info *mi = deit_model_get_info(model);
        for (int i = 0; i < mi->num_labels; i++)
            if (!deit_model_get_label(model, i)) __builtin_trap();
        if (deit_model_get_label(model, mi->num_labels) || deit_model_get_label(model, -1)) __builtin_trap();
        struct deit_error perr;
        bool can_pre = deit_model_check_preprocess(model, &perr) == DEIT_STATUS_OK;
        /* bounded work per input: small models only */
        if (mi->weight_bytes <= (4u << 20) && (size_t)mi->num_tokens * mi->num_tokens * mi->num_heads <= (1u << 20)) {
            struct deit_state_params sp = deit_state_default_params();
            sp.max_batch                = 1;
            sp.n_threads                = 1;
            sp.attention                = (enum deit_attention)(len[0] % 3);
            struct deit_state *st       = deit_state_init(model, &sp, &err);
            if (st) {
                if (can_pre) {
                    uint8_t rgb[8 * 8 * 3];
                    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 13 + len[2]);
                    struct deit_image img = {.format = DEIT_PIXEL_FORMAT_RGB, .width = 8, .height = 8,
                                             .data = {rgb}, .stride = {8 * 3}};
                    if (deit_state_preprocess(st, 0, &img, NULL, &perr) != DEIT_STATUS_OK) __builtin_trap();
                }
                if (deit_state_run(st, 1, NULL) != DEIT_STATUS_OK) __builtin_trap();
                struct deit_class_score top[5];
                int n = deit_state_top_k(st, 0, 5, 0.0f, top);
                if (n < 0 || n > 5 || n > mi->num_labels) __builtin_trap();
                deit_state_free(st);
            }
        }
        deit_model_free(model);
    }
    free(w);
    free(pre);
    free(config);
    return 0;
}
