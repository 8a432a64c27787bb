/* test-isa.c - every instruction set this CPU supports, through the whole forward pass,
 * against PyTorch; and bit-determinism under the dynamic schedule.
 *
 *   test-isa FIXTURES_DIR                  (the core fixtures of gen_core_fixtures.py)
 *   test-isa --determinism FIXTURES_DIR
 *
 * Default mode: for each fixture and each set (portable, avx2, avx512), when
 * deit_isa_supported() says the CPU and OS can run it, a state with
 * deit_state_params.isa = that set computes the logits of the fixture's pixel_values,
 * which must match PyTorch's float32 logits (logits.npy) within compare_outputs.py's
 * tolerance (1e-4 * max(1, max|ref|) + 1e-4 |ref|). The AVX2 and AVX-512 kernels compute
 * every output as the same chain of fused multiply-adds, so their logits must also be equal
 * to the bit. It prints which sets ran and FAILS when the CPU supports a set that did not
 * run. It also runs DeiT-tiny at batch 8, whose GEMMs are split by row blocks, against
 * batch 1. (isa = portable here still reads the model's packed weights, through the
 * vector-extension tiles of deit-tiles.h; the OpenBLAS path of a CPU without AVX2 is what
 * the forward-*-portable and layers-portable tests force with DEIT_DISABLE_AVX2=1.)
 *
 * --batch-split: whole images per worker (DEIT_BATCH_SPLIT_IMAGES, a batch of 5 with 2 and
 * 3 workers: 4 or 3 images alone, the rest shared) against every image shared among the
 * workers (DEIT_BATCH_SPLIT_SHARED) on every output of every architecture (logits, the
 * final sequence, pooler, the reconstruction of a masked batch), pruned last layer or
 * not: equal to the bit on the packed kernels, within 1e-5 on OpenBLAS (whose blocking
 * depends on the rows of a call).
 *
 * --determinism: the same input through the same state 20 times with 1, 2 and 3 workers
 * (chunks claimed dynamically, so which worker runs which chunk changes from run to run)
 * gives bit-identical logits every time, in both layer schedules; with our packed kernels
 * also across worker counts; and the same bits with the steps of a busy machine
 * (DEIT_ASSUME_BUSY=1: row-fused chunks in steps of 4 row tiles on our kernels) and with
 * attention in a phase of its own (DEIT_MERGE_ATTN=0) instead of sharing the row-fused one.
 */
#include "deit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/* float32 little-endian C-order .npy: the data as a malloc'd array, *n elements */
static float *read_npy(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char h[10];
    float        *data = NULL;
    if (fread(h, 1, 10, f) == 10 && !memcmp(h, "\x93NUMPY", 6)) {
        size_t hl = h[8] | (size_t)h[9] << 8, off = 10;
        if (h[6] >= 2) { /* version 2: 4-byte header length */
            unsigned char e[2];
            if (fread(e, 1, 2, f) != 2) goto out;
            hl |= (size_t)e[0] << 16 | (size_t)e[1] << 24;
            off = 12;
        }
        char *hdr = malloc(hl + 1);
        if (!hdr || fread(hdr, 1, hl, f) != hl) {
            free(hdr);
            goto out;
        }
        hdr[hl] = 0;
        const bool f32 = strstr(hdr, "'<f4'") != NULL;
        free(hdr);
        if (!f32) goto out;
        fseek(f, 0, SEEK_END);
        const size_t bytes = (size_t)ftell(f) - off - hl;
        fseek(f, (long)(off + hl), SEEK_SET);
        *n   = bytes / 4;
        data = malloc(bytes ? bytes : 1);
        if (data && fread(data, 4, *n, f) != *n) free(data), data = NULL;
    }
out:
    fclose(f);
    return data;
}

/* logits of every image of the fixture (batch from pixel_values) through one state */
static float *run(const struct deit_model *m, const float *pix, int batch, enum deit_isa isa, int threads,
                  enum deit_schedule schedule, int reps, size_t *n_out, bool *same) {
    struct deit_state_params sp = deit_state_default_params();
    sp.max_batch = batch, sp.n_threads = threads, sp.isa = isa, sp.schedule = schedule;
    struct deit_error  err;
    struct deit_state *st = deit_state_init(m, &sp, &err);
    if (!st) {
        fprintf(stderr, "FAIL deit_state_init(isa %s): %s\n", deit_isa_to_string(isa), err.message);
        failures++;
        return NULL;
    }
    if (isa != DEIT_ISA_AUTO && deit_state_isa(st) != isa) {
        fprintf(stderr, "FAIL state runs %s, asked for %s\n", deit_isa_to_string(deit_state_isa(st)),
                deit_isa_to_string(isa));
        failures++;
    }
    const struct deit_model_info *mi = deit_model_get_info(m);
    const size_t per = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    for (int b = 0; b < batch; b++) memcpy(deit_state_input(st, b), pix + per * b, per * sizeof(float));
    const size_t K   = (size_t)mi->num_labels;
    float       *out = malloc(K * batch * sizeof(float)), *again = malloc(K * batch * sizeof(float));
    *same            = true;
    for (int r = 0; r < reps; r++) {
        if (deit_state_run(st, batch, NULL) != DEIT_STATUS_OK) {
            fprintf(stderr, "FAIL deit_state_run\n");
            failures++;
            break;
        }
        for (int b = 0; b < batch; b++)
            memcpy((r ? again : out) + K * b, deit_state_get_output(st, DEIT_OUTPUT_LOGITS, b, NULL), K * sizeof(float));
        if (r && memcmp(out, again, K * batch * sizeof(float))) *same = false;
    }
    *n_out = K * batch;
    free(again);
    deit_state_free(st);
    return out;
}

struct fixture {
    struct deit_model *m;
    float             *pix, *ref;
    size_t             n_ref;
    int                batch;
};

static bool load_fixture_logits(const char *dir, const char *name, struct fixture *fx, bool logits);
static bool load_fixture(const char *dir, const char *name, struct fixture *fx) {
    return load_fixture_logits(dir, name, fx, true);
}

/* logits false: the model and pixel_values alone (base and MIM models have no logits) */
static bool load_fixture_logits(const char *dir, const char *name, struct fixture *fx, bool logits) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct deit_error err;
    fx->m = deit_model_load(path, NULL, &err);
    if (!fx->m) {
        fprintf(stderr, "FAIL %s: %s\n", name, err.message);
        failures++;
        return false;
    }
    size_t np = 0;
    snprintf(path, sizeof path, "%s/%s/pixel_values.npy", dir, name);
    fx->pix = read_npy(path, &np);
    snprintf(path, sizeof path, "%s/%s/logits.npy", dir, name);
    if (logits) fx->ref = read_npy(path, &fx->n_ref);
    const struct deit_model_info *mi = deit_model_get_info(fx->m);
    const size_t per = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    fx->batch = per ? (int)(np / per) : 0;
    if (!fx->pix || fx->batch < 1 || (logits && (!fx->ref || fx->n_ref != (size_t)fx->batch * mi->num_labels))) {
        fprintf(stderr, "FAIL %s: cannot read pixel_values.npy / logits.npy\n", name);
        failures++;
        return false;
    }
    return true;
}

static void free_fixture(struct fixture *fx) {
    deit_model_free(fx->m);
    free(fx->pix);
    free(fx->ref);
}

static const char *const FIXTURES[] = { "deit-tiny", "deit-teacher", "deit-384", "deit-batch5", "vit-classifier",
                                        "deit-gelu-tanh", "deit-noqkvbias" };

/* DeiT-tiny at batch 8: the GEMMs' inputs pass 4 MB, so they are split by blocks of rows
 * instead of column panels (gemm_row_block); each image's logits must agree with its
 * batch-1 logits within 1e-5 (not to the bit: the classifier heads are OpenBLAS's sgemv
 * at batch 1 and sgemm at batch 8). */
static void batch_rows(const char *dir) {
    struct fixture fx = { 0 };
    if (!load_fixture(dir, "deit-tiny", &fx)) return;
    const struct deit_model_info *mi = deit_model_get_info(fx.m);
    const size_t per = (size_t)mi->num_channels * mi->image_height * mi->image_width, K = mi->num_labels;
    float       *pix = malloc(per * 8 * sizeof(float));
    for (int b = 0; b < 8; b++) memcpy(pix + per * b, fx.pix, per * sizeof(float));
    size_t n1 = 0, n8 = 0;
    bool   same = true;
    float *one   = run(fx.m, fx.pix, 1, DEIT_ISA_AUTO, 2, DEIT_SCHEDULE_PHASES, 1, &n1, &same);
    float *eight = run(fx.m, pix, 8, DEIT_ISA_AUTO, 2, DEIT_SCHEDULE_PHASES, 1, &n8, &same);
    double maxd = 0;
    for (int b = 0; one && eight && b < 8; b++)
        for (size_t i = 0; i < K; i++) {
            const double d = fabs((double)eight[K * b + i] - one[i]);
            maxd           = d > maxd ? d : maxd;
        }
    const bool ok = one && eight && maxd <= 1e-5;
    printf("deit-tiny batch 8 (GEMMs split by row blocks) vs batch 1: max |diff| = %.3g %s\n", maxd,
           ok ? "ok" : "FAIL");
    if (!ok) failures++;
    free(one), free(eight), free(pix);
    free_fixture(&fx);
}

/* 5 runs of fx with the environment variable var = val (read at deit_state_init), the
 * same logits every time and the same as got (n floats), to the bit */
static bool same_with_env(const char *var, const char *val, const struct fixture *fx, int threads,
                          enum deit_schedule schedule, const float *got, size_t n) {
    size_t m    = 0;
    bool   same = false;
    setenv(var, val, 1);
    float *o = run(fx->m, fx->pix, fx->batch, DEIT_ISA_AUTO, threads, schedule, 5, &m, &same);
    unsetenv(var);
    const bool ok = o && same && m == n && !memcmp(o, got, n * sizeof(float));
    free(o);
    return ok;
}

/* What isa = AUTO runs, against /proc/cpuinfo: AVX-512 when the CPU lists avx512f, bw,
 * vl and dq (and no DEIT_ISA / DEIT_DISABLE_AVX2 caps the set), in both layer schedules,
 * Zen 4 included (its AVX-512 tiles are as fast as or faster than its AVX2 ones: 0.92x on
 * DeiT-base b1, bench/README.md) */
static void auto_plan(const char *dir) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192];
    bool avx512 = false, avx2 = false;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "flags", 5)) {
            avx512 = strstr(line, " avx512f") && strstr(line, " avx512bw") && strstr(line, " avx512vl") &&
                     strstr(line, " avx512dq");
            avx2 = strstr(line, " avx2") && strstr(line, " fma");
            break;
        }
    }
    fclose(f);
    const char *cap = getenv("DEIT_ISA"), *off = getenv("DEIT_DISABLE_AVX2");
    const bool  capped = (cap && *cap) || (off && *off && *off != '0');
    struct fixture fx = { 0 };
    if (!load_fixture(dir, "deit-tiny", &fx)) return;
    for (int s = DEIT_SCHEDULE_PHASES; s <= DEIT_SCHEDULE_ROWS; s++) {
        struct deit_state_params sp = deit_state_default_params();
        sp.schedule                 = (enum deit_schedule)s;
        struct deit_error  err;
        struct deit_state *st   = deit_state_init(fx.m, &sp, &err);
        const enum deit_isa want = capped ? deit_isa_best() : avx512 ? DEIT_ISA_AVX512 : avx2 ? DEIT_ISA_AVX2 : DEIT_ISA_PORTABLE;
        const enum deit_isa got  = st ? deit_state_isa(st) : DEIT_ISA_AUTO;
        printf("isa auto, %s layers (cpuinfo: avx512 %s, avx2 %s%s): runs %s, want %s %s\n",
               s == DEIT_SCHEDULE_ROWS ? "row-fused" : "phase-per-operation", avx512 ? "yes" : "no", avx2 ? "yes" : "no",
               capped ? ", capped by the environment" : "", deit_isa_to_string(got), deit_isa_to_string(want),
               got == want ? "ok" : "FAIL");
        if (got != want) failures++;
        deit_state_free(st);
    }
    free_fixture(&fx);
}

static void isa_paths(const char *dir) {
    bool ran[DEIT_ISA_AVX512 + 1] = { false };
    for (size_t f = 0; f < sizeof FIXTURES / sizeof FIXTURES[0]; f++) {
        struct fixture fx = { 0 };
        if (!load_fixture(dir, FIXTURES[f], &fx)) continue;
        float *prev = NULL;
        for (int isa = DEIT_ISA_PORTABLE; isa <= DEIT_ISA_AVX512; isa++) {
            if (!deit_isa_supported((enum deit_isa)isa)) continue;
            size_t n    = 0;
            bool   same = true;
            float *got  = run(fx.m, fx.pix, fx.batch, (enum deit_isa)isa, 2, DEIT_SCHEDULE_AUTO, 1, &n, &same);
            if (!got) continue;
            double scale = 0, maxd = 0;
            for (size_t i = 0; i < n; i++) scale = fabs(fx.ref[i]) > scale ? fabs(fx.ref[i]) : scale;
            int bad = 0;
            for (size_t i = 0; i < n; i++) {
                const double d = fabs((double)got[i] - fx.ref[i]);
                if (!(d <= 1e-4 * (scale > 1 ? scale : 1) + 1e-4 * fabs(fx.ref[i]))) bad++;
                maxd = d > maxd ? d : maxd;
            }
            /* avx512 after avx2: the same FMA chains, the same bits */
            const bool bitwise = isa == DEIT_ISA_AVX512 && prev;
            const bool equal   = bitwise && !memcmp(prev, got, n * sizeof(float));
            printf("%-15s isa %-8s max |ours - torch| = %.3g%s %s\n", FIXTURES[f],
                   deit_isa_to_string((enum deit_isa)isa), maxd,
                   bitwise ? (equal ? ", bit-identical to avx2" : ", DIFFERS from avx2") : "", bad ? "FAIL" : "ok");
            if (bad || (bitwise && !equal)) failures++;
            ran[isa] = true;
            if (isa == DEIT_ISA_AVX2) prev = got, got = NULL;
            free(got);
        }
        free(prev);
        free_fixture(&fx);
    }
    batch_rows(dir);
    auto_plan(dir);
    printf("instruction sets run:");
    for (int isa = DEIT_ISA_PORTABLE; isa <= DEIT_ISA_AVX512; isa++)
        if (ran[isa]) printf(" %s", deit_isa_to_string((enum deit_isa)isa));
    printf(" (best on this CPU: %s)\n", deit_isa_to_string(deit_isa_best()));
    for (int isa = DEIT_ISA_PORTABLE; isa <= DEIT_ISA_AVX512; isa++)
        if (deit_isa_supported((enum deit_isa)isa) && !ran[isa]) {
            printf("FAIL: the CPU supports %s but it was not run\n", deit_isa_to_string((enum deit_isa)isa));
            failures++;
        }
}

static void determinism(const char *dir) {
    static const char *const names[] = { "deit-tiny", "deit-batch5" };
    for (size_t f = 0; f < 2; f++) {
        struct fixture fx = { 0 };
        if (!load_fixture(dir, names[f], &fx)) continue;
        for (int s = DEIT_SCHEDULE_PHASES; s <= DEIT_SCHEDULE_ROWS; s++) {
            float *first = NULL;
            for (int t = 1; t <= 3; t++) {
                size_t n    = 0;
                bool   same = false;
                float *got  = run(fx.m, fx.pix, fx.batch, DEIT_ISA_AUTO, t, (enum deit_schedule)s, 20, &n, &same);
                if (!got) continue;
                /* and as on a busy machine (row-fused chunks in small steps on our kernels) */
                const bool busy_ok = same_with_env("DEIT_ASSUME_BUSY", "1", &fx, t, (enum deit_schedule)s, got, n);
                printf("%-12s %s schedule, %d thread%s, busy-machine steps: %s\n", names[f],
                       s == DEIT_SCHEDULE_ROWS ? "row-fused" : "phases   ", t, t > 1 ? "s" : " ",
                       busy_ok ? "bit-identical" : "DIFFER (FAIL)");
                if (!busy_ok) failures++;
                if (s == DEIT_SCHEDULE_ROWS) {
                    /* attention in a phase of its own (DEIT_MERGE_ATTN=0): the same bits */
                    const bool sep_ok = same_with_env("DEIT_MERGE_ATTN", "0", &fx, t, (enum deit_schedule)s, got, n);
                    printf("%-12s row-fused schedule, %d thread%s, attention in its own phase: %s\n", names[f], t,
                           t > 1 ? "s" : " ", sep_ok ? "bit-identical" : "DIFFER (FAIL)");
                    if (!sep_ok) failures++;
                }
                const bool across = first && !memcmp(first, got, n * sizeof(float));
                printf("%-12s %s schedule, %d thread%s, %s kernels: 20 runs %s%s\n", names[f],
                       s == DEIT_SCHEDULE_ROWS ? "row-fused" : "phases   ", t, t > 1 ? "s" : " ",
                       deit_isa_to_string(deit_isa_best()), same ? "bit-identical" : "DIFFER (FAIL)",
                       t == 1 ? "" : across ? ", = 1 thread" : ", differs from 1 thread (OpenBLAS blocking)");
                if (!same) failures++;
                if (t == 1) first = got, got = NULL;
                free(got);
            }
            free(first);
        }
        free_fixture(&fx);
    }
}

/* Every output of a batch of 5 distinct images (the fixture's first image scaled per
 * image; MIM: a different mask per image) through one state; NULL when the state fails */
static float *run_outputs(const struct deit_model *m, const float *pix, int threads, enum deit_batch_split split,
                          bool full_hidden, size_t *n_out, bool *packed) {
    enum { BATCH = 5 };
    struct deit_state_params sp = deit_state_default_params();
    sp.max_batch = BATCH, sp.n_threads = threads, sp.batch_split = split, sp.full_hidden_state = full_hidden;
    struct deit_error  err;
    struct deit_state *st = deit_state_init(m, &sp, &err);
    if (!st) {
        fprintf(stderr, "FAIL deit_state_init: %s\n", err.message);
        failures++;
        return NULL;
    }
    *packed = deit_state_packed_gemm(st);
    const struct deit_model_info *mi = deit_model_get_info(m);
    const size_t per = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    for (int b = 0; b < BATCH; b++) {
        float *in = deit_state_input(st, b);
        for (size_t i = 0; i < per; i++) in[i] = pix[i] * (1.0f - 0.15f * (float)b) + 0.05f * (float)b;
        uint8_t *mask = deit_state_mask(st, b);
        for (int p = 0; mask && p < mi->num_patches; p++) mask[p] = (uint8_t)((p * 7 + b * 3) % 5 == 0);
    }
    float *out = NULL;
    *n_out     = 0;
    if (deit_state_run(st, BATCH, NULL) != DEIT_STATUS_OK) {
        fprintf(stderr, "FAIL deit_state_run\n");
        failures++;
    } else {
        for (int pass = 0; pass < 2; pass++) { /* sizes, then copies */
            size_t total = 0;
            for (int o = DEIT_OUTPUT_LOGITS; o <= DEIT_OUTPUT_RECONSTRUCTION; o++)
                for (int b = 0; b < BATCH; b++) {
                    size_t       n = 0;
                    const float *y = deit_state_get_output(st, (enum deit_output)o, b, &n);
                    if (y && pass) memcpy(out + total, y, n * sizeof(float));
                    if (y) total += n;
                }
            if (!pass) out = malloc((total ? total : 1) * sizeof(float));
            *n_out = total;
        }
    }
    deit_state_free(st);
    return out;
}

static void batch_split(const char *dir) {
    static const char *const names[] = { "deit-tiny", "deit-teacher", "deit-384", "vit-classifier", "deit-mim",
                                         "vit-mim", "deit-model-pooler", "vit-model-nopooler", "vit-1layer-noqkvbias",
                                         "deit-nonsquare", "deit-patch8", "deit-gelu-tanh" };
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        struct fixture fx = { 0 };
        if (!load_fixture_logits(dir, names[f], &fx, false)) continue;
        for (int full = 0; full < 2; full++) {
            size_t n_ref = 0, n = 0;
            bool   packed = false;
            float *ref    = run_outputs(fx.m, fx.pix, 2, DEIT_BATCH_SPLIT_SHARED, full, &n_ref, &packed);
            for (int t = 2; ref && t <= 3; t++) {
                float *got = run_outputs(fx.m, fx.pix, t, DEIT_BATCH_SPLIT_IMAGES, full, &n, &packed);
                if (!got) continue;
                double maxd = 0, scale = 0;
                for (size_t i = 0; n == n_ref && i < n; i++) {
                    const double d = fabs((double)got[i] - ref[i]);
                    maxd           = d > maxd ? d : maxd;
                    scale          = fabs(ref[i]) > scale ? fabs(ref[i]) : scale;
                }
                const bool bits = n == n_ref && !memcmp(got, ref, n * sizeof(float));
                const bool ok   = n == n_ref && n > 0 && (bits || (!packed && maxd <= 1e-5 * (scale > 1 ? scale : 1)));
                printf("%-20s %s, batch 5, %d workers by images vs shared: %zu outputs, %s %s\n", names[f],
                       full ? "every token" : "pruned last layer", t, n,
                       bits ? "bit-identical" : packed ? "DIFFER" : "max |diff| below", ok ? "ok" : "FAIL");
                if (!bits) printf("    max |diff| = %.3g (%s GEMMs)\n", maxd, packed ? "packed" : "OpenBLAS");
                if (!ok) failures++;
                free(got);
            }
            free(ref);
        }
        free_fixture(&fx);
    }
}

int main(int argc, char **argv) {
    const bool det   = argc == 3 && !strcmp(argv[1], "--determinism");
    const bool split = argc == 3 && !strcmp(argv[1], "--batch-split");
    if (argc != 2 && !det && !split) {
        fprintf(stderr, "usage: test-isa [--determinism | --batch-split] FIXTURES_DIR\n");
        return 2;
    }
    if (det) determinism(argv[2]);
    else if (split) batch_split(argv[2]);
    else isa_paths(argv[1]);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
