/* test-prune-last.c - a classifier's last layer computes only the tokens its heads read.
 *
 * By default (deit_state_params.full_hidden_state = false) the last layer of a
 * classification model runs the queries, attention, MLP and the final LayerNorm for the
 * class (and distillation) tokens alone. The forward tests compare those logits with
 * PyTorch; this test checks the pruned pass against the pass that computes every token, in
 * both layer schedules (DEIT_FUSE_ROWS=0|1), with eager and fused attention, for 1 and 3
 * workers at batch 1 and 3 and 2 workers at batch 9 (on T = 11 tokens a row chunk then
 * ends inside an image's prefix rows), each image its own pseudo-random pixels:
 *  - with the AVX2 packed GEMMs and packed eager attention every row runs through the same
 *    kernels in the same order, so the logits must be equal to the bit (memcmp);
 *  - otherwise (no AVX2 or DEIT_DISABLE_AVX2=1, DEIT_NO_PACKED_WEIGHTS=1, dims that are not
 *    multiples of 16, fused attention) OpenBLAS's sgemm may block a 2-row product
 *    differently from a 197-row one: |pruned - full| <= 1e-5 * max(1, |full|).
 * It also checks that the pruned state has no last_hidden_state and the full one has it,
 * and that base models are never pruned.
 *
 * usage: test-prune-last [--quick] FIXTURES_DIR (the core fixtures of gen_core_fixtures.py)
 *
 * --quick (meson passes it in cross builds, where the tests run under an emulator such as
 * qemu-aarch64: one DeiT-tiny image takes ~10 s there and the whole table over 480 s):
 * the 224 px fixtures run 3 threads at batch 1 only (both schedules and attentions), the
 * small fixtures (48 .. 96 px, among them the T = 11 case) the whole table, and DeiT-tiny
 * not at all: its pruned logits are still compared with PyTorch's full computation by the
 * forward-deit-tiny-* tests (within 1e-4 instead of 1e-5).
 */
#include "deit.h"
#include "deit-internal.h" /* which kernels ran: model->gemm_packed, attention_packed_supported */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int  failures;
static bool quick; /* --quick: reduced tables for emulated runs */

enum fixture_cost { SMALL, MEDIUM, BIG }; /* 48 .. 96 px; 224 px, 2-3 layers; DeiT-tiny */

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                 \
            fputc('\n', stderr);                          \
            failures++;                                   \
        }                                                 \
    } while (0)

/* runs batch images through a state with the given settings; returns malloc'd outputs */
static float *run(const struct deit_model *m, int batch, int threads, enum deit_attention attn, bool full,
                  enum deit_output which, size_t *n_out, bool *has_hidden) {
    struct deit_state_params sp = deit_state_default_params();
    sp.attention                = attn;
    sp.max_batch                = batch;
    sp.n_threads                = threads;
    sp.full_hidden_state        = full;
    struct deit_error  err;
    struct deit_state *st = deit_state_init(m, &sp, &err);
    if (!st) {
        fprintf(stderr, "deit_state_init: %s\n", err.message);
        return NULL;
    }
    const struct deit_model_info *mi = deit_model_get_info(m);
    const size_t pix = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    unsigned long long r = 0x9E3779B97F4A7C15ull;
    for (int b = 0; b < batch; b++) {
        float *in = deit_state_input(st, b);
        for (size_t i = 0; i < pix; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            in[i] = (float)((r >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
        }
    }
    float *out = NULL;
    if (deit_state_run(st, batch, NULL) == DEIT_STATUS_OK) {
        size_t n = 0;
        deit_state_get_output(st, which, 0, &n);
        *has_hidden = deit_state_get_output(st, DEIT_OUTPUT_LAST_HIDDEN_STATE, 0, NULL) != NULL;
        if (n > 0 && (out = malloc(sizeof(float) * n * (size_t)batch))) {
            for (int b = 0; b < batch; b++)
                memcpy(out + n * (size_t)b, deit_state_get_output(st, which, b, NULL), sizeof(float) * n);
            *n_out = n * (size_t)batch;
        }
    }
    deit_state_free(st);
    return out;
}

static void check_fixture(const char *fixtures, const char *name, bool classifier, enum fixture_cost cost) {
    if (quick && cost == BIG) {
        printf("%s: not run with --quick (forward-%s-* compare its pruned logits with PyTorch)\n", name, name);
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", fixtures, name);
    struct deit_error  err;
    struct deit_model *m = deit_model_load(dir, NULL, &err);
    if (!m) {
        CHECK(0, "%s: %s", dir, err.message);
        return;
    }
    const enum deit_output which = classifier ? DEIT_OUTPUT_LOGITS : DEIT_OUTPUT_LAST_HIDDEN_STATE;
    const struct deit_model_info *mi = deit_model_get_info(m);
    int n_exact = 0, n_close = 0;
    float worst = 0.0f;
    /* (threads, batch) runs: the whole table, or --quick's for the 224 px fixtures */
    static const int runs_all[][2] = { { 1, 1 }, { 3, 1 }, { 1, 3 }, { 3, 3 }, { 2, 9 } };
    static const int runs_quick[][2] = { { 3, 1 } };
    const bool reduced = quick && cost != SMALL;
    const int (*runs)[2] = reduced ? runs_quick : runs_all;
    const size_t n_runs  = reduced ? 1 : sizeof runs_all / sizeof runs_all[0];
    for (int schedule = 0; schedule < 2; schedule++) {
        setenv("DEIT_FUSE_ROWS", schedule ? "1" : "0", 1); /* read by deit_state_init */
        for (int a = 0; a < 2; a++) {
            const enum deit_attention attn  = a ? DEIT_ATTENTION_FUSED : DEIT_ATTENTION_EAGER;
            for (size_t ri = 0; ri < n_runs; ri++) {
                const int threads = runs[ri][0], batch = runs[ri][1];
                size_t n_p = 0, n_f = 0;
                bool   hid_p = false, hid_f = false;
                float *p = run(m, batch, threads, attn, false, which, &n_p, &hid_p);
                float *f = run(m, batch, threads, attn, true, which, &n_f, &hid_f);
                /* A base model is never pruned: both passes are the same computation.
                 * A classifier's are bit-exact when its GEMMs ran on the packed weights
                 * (set by the first deit_state_init) and attention on the packed kernel
                 * (eager, as deit_state_init chooses it). */
                const bool exact = !classifier || (m->gemm_packed && attn == DEIT_ATTENTION_EAGER &&
                                                   attention_packed_supported(mi->head_dim));
                CHECK(p && f && n_p == n_f && n_p > 0, "%s: no output", name);
                if (p && f && n_p == n_f) {
                    size_t i = 0;
                    if (exact) {
                        while (i < n_p && memcmp(&p[i], &f[i], sizeof(float)) == 0) i++;
                    } else {
                        for (; i < n_p; i++) {
                            const float d = fabsf(p[i] - f[i]);
                            if (!(d <= 1e-5f * fmaxf(1.0f, fabsf(f[i])))) break;
                            if (d > worst) worst = d;
                        }
                    }
                    CHECK(i == n_p,
                          "%s (fuse_rows %d, %s attention, %d threads, batch %d): output %zu differs%s: "
                          "%.9g vs %.9g",
                          name, schedule, a ? "fused" : "eager", threads, batch, i,
                          exact ? " (bit-exact expected)" : " by more than 1e-5", i < n_p ? p[i] : 0.0f,
                          i < n_p ? f[i] : 0.0f);
                    if (exact) n_exact++;
                    else n_close++;
                }
                CHECK(hid_p == !classifier, "%s: pruned state %s last_hidden_state", name,
                      hid_p ? "has" : "lacks");
                CHECK(hid_f, "%s: full_hidden_state state lacks last_hidden_state", name);
                free(p);
                free(f);
            }
        }
    }
    unsetenv("DEIT_FUSE_ROWS");
    if (classifier)
        printf("%s: pruned vs full logits: %d runs bit-exact, %d within 1e-5 (largest difference %.3g)%s\n", name,
               n_exact, n_close, (double)worst, reduced ? " [--quick: reduced table]" : "");
    else
        printf("%s: base model: never pruned\n", name);
    deit_model_free(m);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--quick") == 0) {
        quick = true;
        argv++, argc--;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test-prune-last [--quick] FIXTURES_DIR\n");
        return 2;
    }
    check_fixture(argv[1], "deit-teacher", true, MEDIUM);         /* two prefix tokens, two heads */
    check_fixture(argv[1], "deit-classifier", true, SMALL);       /* DeiTForImageClassification */
    check_fixture(argv[1], "vit-classifier", true, MEDIUM);       /* one prefix token */
    check_fixture(argv[1], "deit-tiny", true, BIG);               /* real DeiT-tiny dimensions */
    check_fixture(argv[1], "deit-batch5", true, SMALL);           /* T = 11: chunks that end inside the prefix rows */
    check_fixture(argv[1], "vit-1layer-noqkvbias", true, SMALL);  /* the only layer is the pruned one; q without bias */
    check_fixture(argv[1], "deit-model-pooler", false, SMALL);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
