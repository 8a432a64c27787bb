/* deit-forward.c - inference state and the forward pass of DeiT / ViT models.
 *
 * One file (about 1,500 lines) because one thing lives here: the forward pass as a single
 * parallel region. The state's buffers, the phase list built from them, the chunk
 * scheduler and the per-phase bodies all read the same region and state structs; the
 * kernels themselves are in deit-layers.c and deit-tiles.h.
 *
 * Dimension legend: B images, T tokens (N patches + NP prefix tokens), D hidden, H heads,
 * HD head size, I intermediate, K labels, C channels, P patch size.
 *
 * Order of operations mirrors transformers' modeling_deit.py / modeling_vit.py:
 *   patch_embed_forward  Conv2d(C->D, P, stride P) as im2col + GEMM      (DeiTPatchEmbeddings)
 *   pos_embed_forward    [cls, (dist), patches (mask_token where masked)] + position_embeddings
 *   layer x L            h += o_proj(attn(LN1(h)));  h += fc2(gelu(fc1(LN2(h))))   (pre-norm)
 *   layernorm            final LayerNorm over all tokens (DeiTModel.layernorm)
 *   head_forward         classifier(s) on token 0 (and 1), pooler, or the MIM decoder
 *
 * Parallelism: everything up to the final LayerNorm is one deit_pool_run() over the
 * state's workers, a sequence of phases whose chunks the workers claim dynamically (see
 * "The forward pass as one parallel region"). GEMM phases are cut by output columns (each
 * chunk packs only its slice of the weights) or, when a layer has more rows than outputs,
 * by rows; attention by query rows of (image, head); row-wise ops by rows. OpenBLAS itself
 * runs single-threaded (deit_blas_single_thread), so there is one owner of the cores
 * (measured against OpenBLAS's own threading in bench/README.md). A batch with at least
 * one image per worker instead goes by whole images, each worker running its images alone
 * through every phase (images_task; deit_state_params.batch_split), and the regions of a
 * frame are preprocessed the same way (deit_state_preprocess_many).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getcpu */
#endif
#include "deit-internal.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define QBLOCK       64  /* query rows per fused attention block */
#define KTILE        128 /* key tile of the fused attention */
#define EAGER_SCORES_FLOATS (64 * 1024) /* per-worker eager score block: 256 KB */
#define PRE_PHASES   3   /* forward region: im2col, patch GEMM, position embeddings */
#define LAYER_PHASES 7   /* forward region: LN1, qkv, attention, out proj, LN2, fc1, fc2 */
/* chunks per worker of a GEMM phase that is not a guided split (OpenBLAS, row splits):
 * every chunk repacks an operand in OpenBLAS, and 2 was 5 % slower than 1 on DeiT-tiny
 * (2 threads, min of 40 runs: 37.8-38.4 vs 35.8-36.1 ms) */
#ifndef GEMM_CHUNKS_PER_WORKER
#define GEMM_CHUNKS_PER_WORKER 1
#endif
/* the unit of a row-fused phase's split: 12 token rows, one AVX-512 row tile, two AVX2
 * ones (with 6-row units every chunk of an odd count ended in a half-filled AVX-512 tile:
 * DeiT-tiny b1, 2 threads, 0.984x and 0.993x the time in two A/Bs, 29 of 44 rounds faster);
 * and its smallest chunk, in units: every chunk streams all of the layer's weights */
#define ROW_UNIT       12
#define ROWS_MIN_UNITS 2
/* smallest chunk of an attention phase, in query rows, and the step a chunk is worked off
 * in (a multiple of the 6- and 12-row tiles) */
#define ATTN_MIN_ROWS 32
#define ATTN_STEP_ROWS 48
/* a worker waiting for the end of a phase spins this many pause instructions (~20-60 us),
 * then sleeps on the phase's counter */
#ifndef SLEEP_AFTER_SPINS
#define SLEEP_AFTER_SPINS 2048
#endif
/* a wait at a phase boundary longer than this means the machine is busy (wait_phase); the
 * state then behaves accordingly for this many runs */
#define BUSY_WAIT_NS 1000000LL
#define BUSY_RUNS    16
#define COL_ALIGN    16  /* GEMM column split granularity */
/* the unit of a guided GEMM column split: 32 columns, one AVX-512 tile (two 16-column
 * panels), so no chunk or step ends in a half-width tile (NV = 1 in deit-tiles.h: half the
 * FMAs per loaded broadcast; with 16-column units the odd chunks of DeiT-base's phases put
 * 7 % of linear_packed's samples there); the smallest chunk is one unit */
#define GUIDED_COL_UNIT 32
#define GUIDED_MIN_UNITS 1
#define ROW_ALIGN    4   /* GEMM row split granularity */

/* chunk counters of one phase of the forward region (deit_state_run), a cache line each */
struct phase_sync {
    atomic_int next;     /* next chunk to claim */
    atomic_int done;     /* chunks finished (a futex word: the last one wakes the sleepers) */
    atomic_int sleepers; /* workers asleep on done */
    char       pad[64 - 3 * sizeof(atomic_int)];
};

/* One phase of the forward region for one batch size, built once (build_plan): what it
 * runs, how many chunks, and for guided splits the first unit of every chunk. */
struct phase_plan {
    int  kind;      /* enum phase_kind */
    int  layer;
    int  n_chunks;
    int *bounds;    /* guided: [n_chunks + 1] units; else NULL (split by chunk index) */
    /* guided: a chunk is worked off in steps of `step` units claimed from cur[c], so a
     * worker that runs out of chunks takes the rest of a chunk whose owner the OS has
     * preempted (work_steps); done counts units, else chunks, up to want */
    int         step, want;
    int         busy_step; /* the step while the state sees a busy machine (deit_state.busy) */
    atomic_int *cur;
};

struct deit_state {
    const struct deit_model  *model;
    struct deit_state_params  params;
    const struct deit_kernels *kn;      /* the instruction set's kernels (params.isa resolved) */
    struct deit_pool         *pool;
    struct deit_preprocessor *pp;       /* frames -> input slots; NULL when the model cannot take frames */
    struct deit_error         pp_err;   /* why pp is NULL: returned by deit_state_preprocess() */
    struct deit_preprocessor **pp_one;  /* per worker, single-threaded: deit_state_preprocess_many */
    int                      *pp_failed; /* per worker: its first failing region there */
    struct deit_error        *pp_errs;   /* per worker: why */
    enum deit_attention       attention; /* resolved (never AUTO) */
    int                       last_batch;

    float   *input;    /* (B, C, Hi, Wi) pixel_values */
    uint8_t *mask;     /* (B, N) bool_masked_pos, MIM only */
    float   *patches;  /* (B*N, C*P*P) im2col */
    float   *h;        /* (B*T, D) residual stream */
    float   *a;        /* (B*T, D) LayerNorm output / patch embeddings */
    float   *q, *k, *v, *ctx; /* (B*T, D) */
    float   *mlp;      /* (B*T, I), rows mlp_ld apart */
    int      mlp_ld;
    float   *seq;      /* (B*T, D) last_hidden_state */
    float   *scratch;  /* per worker: attention scores (attn_rows, T) or fused tiles */
    int     *kp_key;   /* per worker and K slot: which head's K the slot holds packed (attention_rows) */
    int      kp_slots; /* packed-K slots per worker: 1, or every head (merge_attn) */
    size_t   kp_floats; /* floats per slot */
    /* row-fused layers with attention in the same phase (merge_attn): one phase per layer;
     * K and V of odd layers in k2, v2, so a worker that has moved on to the next layer's
     * rows never overwrites keys another worker still reads */
    bool     merge_attn;
    float   *k2, *v2;
    atomic_int *cpu_of; /* per worker: the CPU it last started a phase on (wait_phase) */
    /* runs left to treat the machine as busy: set when a worker waited long for another
     * (wait_phase), counted down per run; in the state, not in views of it (state_view) */
    atomic_int busy;
    struct deit_state *self; /* the state a view was made of (itself for the state) */
    bool     assume_busy; /* DEIT_ASSUME_BUSY=1 (tests): every run as on a busy machine */
    size_t   scratch_per_thread;
    int      attn_rows; /* query rows per attention block */
    bool     attn_packed; /* eager attention through the AVX2 packed-K kernels */
    struct phase_sync *sync; /* per phase of the forward region: chunk counters */
    int      n_phases;
    struct phase_plan *plan;  /* [n_phases] for batch plan_batch (0: not built) */
    int     *plan_bounds;
    atomic_int *plan_cur;
    int      plan_batch;
    /* the same for the images a per-image run leaves to all workers (run_tail) */
    struct phase_sync *tail_sync;
    struct phase_plan *tail_plan;
    int     *tail_bounds;
    atomic_int *tail_cur;
    int      tail_batch;
    bool     per_image; /* batches of >= n_threads images: whole images per worker */
    bool     fuse_rows; /* per layer two phases: attention, then everything row-wise (below) */
    size_t   attn_kp_off; /* offset of the packed K of the current head in a worker's scratch */
    bool     prune_last; /* last layer: only the prefix tokens after attention (see layer_pruned) */
    float   *hp;       /* (B*NP, D) residual of the prefix tokens in the last layer (prune_last) */
    float   *logits;   /* (B, K) */
    float   *logits2;  /* (B, K) distillation head */
    float   *pooler;   /* (B, Dp) */
    float   *dec;      /* (B*N, r*r*C) MIM decoder conv output */
    float   *recon;    /* (B, C, gh*r, gw*r) */
};

/* ---------------------------------------------------------------------------------------- */

struct deit_state_params deit_state_default_params(void) {
    struct deit_state_params p = {
        .max_batch = 1,                     /* images per run */
        .n_threads = 0,                     /* 0 = all cores */
        .attention = DEIT_ATTENTION_AUTO,   /* the fastest: eager (see deit_state_init) */
        .full_hidden_state = false,         /* classifiers: last layer for the read tokens only */
        .isa = DEIT_ISA_AUTO,               /* deit_isa_best(): DEIT_ISA / DEIT_DISABLE_AVX2 cap it */
        .schedule = DEIT_SCHEDULE_AUTO,     /* DEIT_FUSE_ROWS=0|1 overrides the default */
        .spin_us = -1,                      /* 50 us, or DEIT_SPIN_US (deit_pool_new) */
        .batch_split = DEIT_BATCH_SPLIT_AUTO, /* DEIT_BATCH_SPLIT=shared|images overrides the default */
        .affinity = DEIT_AFFINITY_AUTO,     /* DEIT_AFFINITY=none|pin overrides the default */
    };
    const char *aff = getenv("DEIT_AFFINITY");
    if (aff && !strcmp(aff, "none")) p.affinity = DEIT_AFFINITY_NONE;
    if (aff && !strcmp(aff, "pin")) p.affinity = DEIT_AFFINITY_PIN;
    const char *split = getenv("DEIT_BATCH_SPLIT");
    if (split && !strcmp(split, "shared")) p.batch_split = DEIT_BATCH_SPLIT_SHARED;
    if (split && !strcmp(split, "images")) p.batch_split = DEIT_BATCH_SPLIT_IMAGES;
    const char *fuse = getenv("DEIT_FUSE_ROWS");
    if (fuse && *fuse) p.schedule = *fuse != '0' ? DEIT_SCHEDULE_ROWS : DEIT_SCHEDULE_PHASES;
    return p;
}

struct deit_run_params deit_run_default_params(void) {
    return (struct deit_run_params){ .abort_callback = NULL, .abort_user_data = NULL };
}

static float *alloc_floats(size_t n, bool *ok) {
    if (n == 0) return NULL;
    void *p = NULL;
    if (n > SIZE_MAX / sizeof(float) - 64 || posix_memalign(&p, 64, ((n * sizeof(float)) + 63) & ~(size_t)63) != 0) {
        *ok = false;
        return NULL;
    }
    return p;
}

void deit_state_free(struct deit_state *st) {
    if (!st) return;
    deit_preprocessor_free(st->pp);
    for (int t = 0; st->pp_one && t < deit_pool_size(st->pool); t++) deit_preprocessor_free(st->pp_one[t]);
    free(st->pp_one);
    free(st->pp_failed);
    free(st->pp_errs);
    deit_pool_free(st->pool);
    free(st->input);
    free(st->mask);
    free(st->patches);
    free(st->h);
    free(st->a);
    free(st->q);
    free(st->k);
    free(st->v);
    free(st->k2);
    free(st->v2);
    free(st->ctx);
    free(st->mlp);
    free(st->seq);
    free(st->hp);
    free(st->scratch);
    free(st->kp_key);
    free(st->cpu_of);
    free(st->logits);
    free(st->logits2);
    free(st->pooler);
    free(st->dec);
    free(st->recon);
    free(st->sync);
    free(st->plan);
    free(st->plan_bounds);
    free(st->plan_cur);
    free(st->tail_sync);
    free(st->tail_plan);
    free(st->tail_bounds);
    free(st->tail_cur);
    free(st);
}


/* ---------------------------------------------------------------------------------------
 * Weights in GEMM panels, once per model
 *
 * deit_model_load() rearranges the encoder's linear weights (patch embedding, q, k, v,
 * output, fc1, fc2) in place into 16-column panels for the register-tile kernels
 * (deit-tiles.h), so no GEMM repacks them per call. Every instruction set reads the same
 * panels, so a state of any set can use them. In place means
 * no second copy: the weight file is mapped MAP_PRIVATE, so the rewritten pages become
 * private copies of the file pages they replace (RSS stays one set of weights) and the
 * file on disk is untouched; converted tensors live in the model's own buffer. It is done
 * before deit_model_load() returns the model, and the mapping is made read-only again
 * afterwards, so the model is immutable for every state.
 *
 * The plan (our kernels or OpenBLAS) is a table, not a measurement: our kernels wherever
 * the best instruction set is AVX2 or AVX-512 (measured faster than OpenBLAS 0.3.21 on
 * DeiT's shapes on Zen 3 with AVX2 and on Zen 4 with both sets: bench/README.md; the
 * Ice Lake case of issue 13, where OpenBLAS's AVX-512 kernels beat our AVX2 ones, is what
 * the AVX-512 set answers), OpenBLAS elsewhere (other CPUs, arm64: OpenBLAS has tuned
 * kernels there and we have no measurement), when a dimension is not a multiple of 16,
 * when a weight lies in caller memory (deit_model_load_from_memory) or with
 * deit_model_params.packed_weights false. A table keeps the choice, and so the bits of
 * the results, independent of how busy the machine was when the process started.
 * Cost: one pass over the weights at load (DeiT-base: see bench/README.md),
 * single-threaded, before any thread of ours exists for this model.
 */

static bool in_range(const void *p, size_t bytes, const void *base, size_t size) {
    const char *c = p, *b = base;
    return base && c >= b && c + bytes <= b + size;
}

struct pack_job {
    struct pack_mat { const float *w; int N, K; } *mat;
    int    n_mat;
    float *tmp;      /* per worker: biggest matrix */
    size_t tmp_floats;
};

static void pack_task(void *ctx, int i, int n) {
    struct pack_job *j = ctx;
    for (int k = i; k < j->n_mat; k += n)
        linear_pack_weights((float *)j->mat[k].w, j->mat[k].N, j->mat[k].K, j->tmp + j->tmp_floats * (size_t)i);
}

void deit_model_pack_weights(struct deit_model *m) {
    struct deit_pool *pool = NULL; /* the caller's thread alone */
    const struct deit_model_info *mi = &m->info;
    const int D = mi->hidden_size, NI = mi->intermediate_size, KK = mi->num_channels * mi->patch_size * mi->patch_size;
    const int L = mi->num_layers;
    /* (pointer, N, K) of every matrix to pack */
    const int n_mat = 1 + 6 * L;
    struct pack_mat *mat = calloc((size_t)n_mat, sizeof *mat);
    bool ok = mat && deit_isa_best() >= DEIT_ISA_AVX2 && linear_packed_supported(D) && linear_packed_supported(NI);
    bool in_map = false;
    size_t biggest = 0;
    if (ok) {
        int i = 0;
        mat[i++] = (struct pack_mat){ m->w.patch_w, D, KK };
        for (int l = 0; l < L; l++) {
            const struct deit_layer_weights *lw = &m->w.layers[l];
            mat[i++] = (struct pack_mat){ lw->q_w, D, D };
            mat[i++] = (struct pack_mat){ lw->k_w, D, D };
            mat[i++] = (struct pack_mat){ lw->v_w, D, D };
            mat[i++] = (struct pack_mat){ lw->o_w, D, D };
            mat[i++] = (struct pack_mat){ lw->fc1_w, NI, D };
            mat[i++] = (struct pack_mat){ lw->fc2_w, D, NI };
        }
        for (i = 0; ok && i < n_mat; i++) {
            const size_t bytes = (size_t)mat[i].N * mat[i].K * sizeof(float);
            if (in_range(mat[i].w, bytes, m->map, m->map_size))
                in_map = true;
            else if (!in_range(mat[i].w, bytes, m->owned, m->owned_size))
                ok = false; /* caller memory: not ours to rearrange */
            if (bytes > biggest) biggest = bytes;
        }
    }
    float    *tmp = NULL;
    const int nt  = deit_pool_size(pool);
    biggest       = (biggest + 63) & ~(size_t)63;
    if (ok && posix_memalign((void **)&tmp, 64, biggest * (size_t)nt) != 0) ok = false, tmp = NULL;
    if (ok && in_map && mprotect(m->map, m->map_size, PROT_READ | PROT_WRITE) != 0) ok = false;
    if (ok) {
        struct pack_job pj = { mat, n_mat, tmp, biggest / sizeof(float) };
        deit_pool_run(pool, pack_task, &pj); /* matrices dealt out to the state's workers */
        if (in_map) mprotect(m->map, m->map_size, PROT_READ);
        m->gemm_packed = true;
    }
    DEIT_LOG_DEBUG("linear weights %s", ok ? "packed into 16-column panels" : "used as stored (OpenBLAS packs per call)");
    free(tmp);
    free(mat);
}

/* Whether the model's preprocessor config can feed it: 3 channels, and a processor whose
 * output is the model's image size. Allocates nothing. */
static enum deit_status preprocess_check(const struct deit_model *model, struct deit_error *err) {
    const struct deit_model_info *mi = &model->info;
    if (mi->num_channels != 3)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json num_channels is %d but frames are preprocessed to RGB (3 channels): "
                              "this model runs on tensors only (fill deit_state_input(), or deit-infer), "
                              "not on images or video frames; use a 3-channel checkpoint",
                              mi->num_channels);
    int oh = 0, ow = 0;
    enum deit_status st = deit_preprocess_config_output_size(&model->preprocess, &oh, &ow, err);
    if (st != DEIT_STATUS_OK) {
        deit_error_prefix(err, "preprocessor_config.json");
        return st;
    }
    if ((oh != mi->image_height || ow != mi->image_width) && model->preprocess_default)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "there is no preprocessor_config.json, and %s's defaults produce %dx%d images but the "
                              "model takes %dx%d: put the checkpoint's preprocessor_config.json next to its "
                              "config.json",
                              model->preprocess_default, ow, oh, mi->image_width, mi->image_height);
    if (oh != mi->image_height || ow != mi->image_width)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "preprocessor_config.json produces %dx%d images but the model takes %dx%d: "
                              "fix size/crop_size to match config.json image_size",
                              ow, oh, mi->image_width, mi->image_height);
    deit_error_clear(err);
    return DEIT_STATUS_OK;
}

struct deit_state *deit_state_init(const struct deit_model *model, const struct deit_state_params *params,
                                   struct deit_error *err) {
    if (!model) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "deit_state_init: model is NULL");
        return NULL;
    }
    struct deit_state_params p = params ? *params : deit_state_default_params();
    /* enums from C callers can hold any int: one outside its range would pick a kernel
     * path the scratch was not sized for */
    {
        const char *field = NULL;
        int         value = 0, last = 0;
#define CHECK_ENUM(f, max)                                                  \
    if (!field && ((int)p.f < 0 || (int)p.f > (int)(max)))                  \
        field = #f, value = (int)p.f, last = (int)(max);
        CHECK_ENUM(attention, DEIT_ATTENTION_FUSED)
        CHECK_ENUM(isa, DEIT_ISA_AVX512)
        CHECK_ENUM(schedule, DEIT_SCHEDULE_ROWS)
        CHECK_ENUM(batch_split, DEIT_BATCH_SPLIT_IMAGES)
        CHECK_ENUM(affinity, DEIT_AFFINITY_PIN)
#undef CHECK_ENUM
        if (field) {
            deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                           "deit_state_init: params->%s is %d, not one of its enum's values 0..%d; start from "
                           "deit_state_default_params()", field, value, last);
            return NULL;
        }
        if (p.spin_us < -1) {
            deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                           "deit_state_init: params->spin_us is %d; use microseconds >= 0, or -1 for the default",
                           p.spin_us);
            return NULL;
        }
    }
    if (!deit_isa_supported(p.isa)) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                       "deit_state_init: this CPU (or its OS) cannot run the %s kernels; use isa auto (here: %s)",
                       deit_isa_to_string(p.isa), deit_isa_to_string(deit_isa_best()));
        return NULL;
    }
    if (p.max_batch < 1 || p.max_batch > 4096 || p.n_threads < 0 || p.n_threads > 1024) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                       "deit_state_init: max_batch must be 1..4096 (got %d) and n_threads 0..1024 (got %d)",
                       p.max_batch, p.n_threads);
        return NULL;
    }
    /* the kernels index one batch's activations with int: B * T * max(D, I) (and the
     * patch and pixel buffers) must stay below INT_MAX */
    {
        const struct deit_model_info *m0 = &model->info;
        int64_t per_image = (int64_t)m0->num_tokens * ((m0->hidden_size > m0->intermediate_size
                                                            ? m0->hidden_size : m0->intermediate_size) + 16);
        int64_t pix = (int64_t)m0->num_channels * m0->image_height * m0->image_width;
        int64_t hd  = (int64_t)m0->num_heads * m0->num_tokens;
        if (pix > per_image) per_image = pix;
        if (hd > per_image) per_image = hd;
        if ((int64_t)p.max_batch * per_image > INT_MAX) {
            deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                           "deit_state_init: max_batch %d is too large for this model (%lld activations per "
                           "image in one buffer): use at most %lld",
                           p.max_batch, (long long)per_image, (long long)(INT_MAX / per_image));
            return NULL;
        }
    }
    struct deit_state *st = calloc(1, sizeof *st);
    if (!st) {
        deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY, "deit_state_init: out of memory");
        return NULL;
    }
    const struct deit_model_info *mi = &model->info;
    st->model  = model;
    st->self   = st;
    st->assume_busy = getenv("DEIT_ASSUME_BUSY") && !strcmp(getenv("DEIT_ASSUME_BUSY"), "1");
    st->params = p;
    st->kn     = deit_kernels_for(p.isa);
    deit_blas_single_thread();
    st->pool = deit_pool_new(p.n_threads, p.spin_us, p.affinity);
    if (!st->pool) {
        deit_state_free(st);
        deit_set_error(err, DEIT_STATUS_ERROR_THREAD, "deit_state_init: could not start %d worker threads",
                       p.n_threads);
        return NULL;
    }
    /* frames -> input slots on the state's workers; a model that cannot take frames (not
     * 3 channels, or a processor config that does not produce its image size) still gets a
     * state, for callers that fill the input slots themselves: no error, so the reason is
     * kept for deit_state_preprocess() and logged at DEBUG only */
    deit_errors_quiet(true);
    const enum deit_status pp_status = preprocess_check(model, &st->pp_err);
    deit_errors_quiet(false);
    if (pp_status == DEIT_STATUS_OK) {
        st->pp = deit_preprocessor_new_with_pool(&model->preprocess, st->pool, err);
        if (!st->pp) {
            deit_state_free(st);
            return NULL;
        }
        const int n = deit_pool_size(st->pool);
        if (n > 1 && (!(st->pp_one = calloc((size_t)n, sizeof *st->pp_one)) ||
                      !(st->pp_failed = calloc((size_t)n, sizeof *st->pp_failed)) ||
                      !(st->pp_errs = calloc((size_t)n, sizeof *st->pp_errs)))) {
            deit_state_free(st);
            deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY, "deit_state_init: out of memory");
            return NULL;
        }
        for (int t = 0; st->pp_one && t < n; t++)
            if (!(st->pp_one[t] = deit_preprocessor_new_with_pool(&model->preprocess, NULL, err))) {
                deit_state_free(st);
                return NULL;
            }
    }
    st->attention = p.attention;
    /* auto = eager: with blocks of <= 256 KB of scores per worker, eager never holds the full
     * (T, T) matrix either, and it is the faster one at every DeiT/ViT size measured
     * (one head on this machine, bench/README.md: T = 198: packed eager 0.18 ms, OpenBLAS
     * eager 0.22 ms, fused 0.31 ms; T = 578: 1.26 / 1.72 / 2.26 ms): the fused kernel's
     * online softmax costs 2 small GEMM calls per 64 x 128 tile and a rescale. */
    if (st->attention == DEIT_ATTENTION_AUTO) st->attention = DEIT_ATTENTION_EAGER;

    const size_t B = (size_t)p.max_batch, T = (size_t)mi->num_tokens, D = (size_t)mi->hidden_size;
    const size_t N = (size_t)mi->num_patches, C = (size_t)mi->num_channels, P = (size_t)mi->patch_size;
    const size_t NI = (size_t)mi->intermediate_size, K = (size_t)mi->num_labels;
    const size_t pix = C * (size_t)mi->image_height * (size_t)mi->image_width;
    const int    nt  = deit_pool_size(st->pool);
    bool         ok  = true;
    st->input   = alloc_floats(B * pix, &ok);
    st->patches = alloc_floats(B * N * C * P * P, &ok);
    st->h       = alloc_floats(B * T * D, &ok);
    st->a       = alloc_floats(B * T * D, &ok);
    st->q       = alloc_floats(B * T * D, &ok);
    st->k       = alloc_floats(B * T * D, &ok);
    st->v       = alloc_floats(B * T * D, &ok);
    st->ctx     = alloc_floats(B * T * D, &ok);
    /* rows of the MLP activations 16 floats longer when they would be a multiple of 1 KB
     * apart: at 4 KB (DeiT-base's 3072) the 12 rows an AVX-512 tile of fc2 reads all map
     * to one L1 set (8 ways), and padded, fc2 runs 8-9 % faster (bench/fma-peak --gemm);
     * from 1 KB on (DeiT-tiny's 768) it is harmless and lets the tests run the padding */
    st->mlp_ld  = (int)NI + (NI * sizeof(float) % 1024 == 0 ? 16 : 0);
    st->mlp     = alloc_floats(B * T * (size_t)st->mlp_ld, &ok);
    st->seq     = alloc_floats(B * T * D, &ok);
    /* The heads of a classifier read tokens 0 (and 1) of the final sequence: in the last
     * layer only attention's keys and values need every token, so its queries are computed
     * for the NP prefix rows of each image alone (linear_job.pfx_T), and after attention it
     * runs on those rows alone, their residual gathered into hp. Each row
     * is computed by the same kernels in the same order either way with the AVX2 packed
     * GEMMs and packed eager attention, so the logits are equal to the bit; OpenBLAS may
     * block a 2-row GEMM differently from a 197-row one, so on its paths (no AVX2, dims
     * not multiples of 16, fused attention) they agree within float rounding
     * (tests/core: test-prune-last). */
    st->prune_last = deit_arch_is_classifier(mi->arch) && !p.full_hidden_state;
    if (st->prune_last) st->hp = alloc_floats(B * (size_t)mi->num_prefix_tokens * D, &ok);
    /* Row-fused layers (one phase per layer besides attention) split every GEMM of a layer
     * by rows, so each worker streams all of the layer's weights: a win when they are small
     * enough to stay in the shared cache (DeiT-tiny, 1.8 MB per layer: 7 % faster median,
     * fewer barriers), a loss when they come from DRAM twice (DeiT-base, 28 MB per layer:
     * 12 % slower at batch 1; DeiT-small, 7 MB: even). bench/README.md has the runs.
     * deit_state_params.schedule (DEIT_FUSE_ROWS=0|1 for the default) overrides the choice
     * (tests run both). */
    {
        const size_t layer_bytes = 4 * ((size_t)4 * mi->hidden_size * mi->hidden_size +
                                        (size_t)2 * mi->hidden_size * mi->intermediate_size);
        st->fuse_rows = p.schedule == DEIT_SCHEDULE_AUTO ? layer_bytes <= ((size_t)4 << 20)
                                                         : p.schedule == DEIT_SCHEDULE_ROWS;
        /* Batches of at least one image per worker go by whole images (deit_state_run):
         * per image 4-9 % less time than the shared phases for DeiT-tiny, -small and
         * -base at batch 2 and 8 on 2 workers (Zen 4, bench/README.md), the same results
         * to the bit on the packed kernels (tests/core: batch-split) */
        st->per_image = nt > 1 && p.batch_split != DEIT_BATCH_SPLIT_SHARED;
    }
    /* eager: as many query rows per block as keep the (rows, T) scores within ~256 KB (half
     * of L2 on common x86 cores; a whole head for 224-pixel models); fused: QBLOCK rows
     * against KTILE keys */
    st->kp_slots = 1;
    if (st->attention == DEIT_ATTENTION_EAGER) {
        /* with the AVX2 kernels: scores rows padded to 16 keys, plus the head's packed K */
        st->attn_packed = st->kn->isa >= DEIT_ISA_AVX2 && attention_packed_supported(mi->head_dim);
        const size_t Tp = st->attn_packed ? (T + 15) / 16 * 16 : T;
        size_t rows     = (size_t)EAGER_SCORES_FLOATS / Tp;
        st->attn_rows   = (int)(rows < 16 ? 16 : rows > T ? T : rows);
        st->attn_kp_off = ((size_t)st->attn_rows * Tp + 15) & ~(size_t)15;
        /* merged: attention and the row-wise rest of a layer in one phase, on our packed
         * kernels (MERGE_ATTN) */
        const char *merge = getenv("DEIT_MERGE_ATTN");
        st->merge_attn    = st->fuse_rows && st->attn_packed && model->gemm_packed && !(merge && !strcmp(merge, "0"));
        st->kp_floats     = st->attn_packed ? ((size_t)attention_packed_k_floats((int)T, mi->head_dim) + 15) & ~(size_t)15 : 0;
        st->kp_slots      = st->merge_attn ? mi->num_heads : 1;
        st->scratch_per_thread = st->attn_kp_off + st->kp_floats * (size_t)st->kp_slots;
    } else {
        st->attn_rows          = QBLOCK;
        st->scratch_per_thread = (size_t)QBLOCK * KTILE + 2 * QBLOCK;
    }
    st->scratch_per_thread = (st->scratch_per_thread + 15) & ~(size_t)15; /* 64-byte aligned slices */
    st->scratch = alloc_floats(st->scratch_per_thread * (size_t)nt, &ok);
    st->kp_key  = malloc(sizeof(int) * (size_t)nt * (size_t)st->kp_slots);
    if (st->merge_attn) {
        st->k2 = alloc_floats(B * T * D, &ok);
        st->v2 = alloc_floats(B * T * D, &ok);
    }
    st->cpu_of  = calloc((size_t)nt, sizeof(atomic_int));
    ok          = ok && st->kp_key && st->cpu_of;
    if (K > 0) {
        st->logits  = alloc_floats(B * K, &ok);
        st->logits2 = alloc_floats(B * K, &ok);
    }
    if (mi->pooler_output_size > 0) st->pooler = alloc_floats(B * (size_t)mi->pooler_output_size, &ok);
    if (deit_arch_is_mim(mi->arch)) {
        const size_t r = (size_t)mi->encoder_stride;
        st->dec   = alloc_floats(B * N * r * r * C, &ok);
        st->recon = alloc_floats(B * N * r * r * C, &ok);
        st->mask  = calloc(B * N, 1);
        ok        = ok && st->mask;
    }
    /* merged: one phase per layer, but a pruned last layer keeps its attention phase */
    st->n_phases = st->merge_attn ? PRE_PHASES + 1 + mi->num_layers + st->prune_last
                   : st->fuse_rows ? PRE_PHASES + 1 + 2 * mi->num_layers
                                   : PRE_PHASES + LAYER_PHASES * mi->num_layers + 1;
    if (posix_memalign((void **)&st->sync, 64, sizeof(struct phase_sync) * (size_t)st->n_phases) != 0) {
        st->sync = NULL;
        ok       = false;
    }
    if (posix_memalign((void **)&st->tail_sync, 64, sizeof(struct phase_sync) * (size_t)st->n_phases) != 0) {
        st->tail_sync = NULL;
        ok            = false;
    }
    st->plan      = calloc((size_t)st->n_phases, sizeof *st->plan);
    st->tail_plan = calloc((size_t)st->n_phases, sizeof *st->tail_plan);
    ok            = ok && st->plan && st->tail_plan;
    if (!ok) {
        deit_state_free(st);
        deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY,
                       "deit_state_init: out of memory for batch %d (%zu tokens x %zu hidden); try a smaller batch",
                       p.max_batch, T, D);
        return NULL;
    }
    memset(st->input, 0, B * pix * sizeof(float));
    DEIT_LOG_DEBUG("state: %s kernels, %s GEMMs, batch %d, %d threads, %s attention, %s layers (%d phases)",
                   deit_isa_to_string(st->kn->isa), model->gemm_packed ? "packed" : "OpenBLAS", p.max_batch, nt,
                   st->attention == DEIT_ATTENTION_FUSED ? "fused" : "eager",
                   st->fuse_rows ? "row-fused" : "phase-per-operation", st->n_phases);
    return st;
}

enum deit_isa deit_state_isa(const struct deit_state *st) { return st ? st->kn->isa : DEIT_ISA_AUTO; }

bool deit_state_packed_gemm(const struct deit_state *st) { return st && st->model->gemm_packed; }

float *deit_state_input(struct deit_state *st, int b) {
    if (!st || b < 0 || b >= st->params.max_batch) return NULL;
    const struct deit_model_info *mi = &st->model->info;
    return st->input + (size_t)b * mi->num_channels * mi->image_height * mi->image_width;
}

uint8_t *deit_state_mask(struct deit_state *st, int b) {
    if (!st || !st->mask || b < 0 || b >= st->params.max_batch) return NULL;
    return st->mask + (size_t)b * st->model->info.num_patches;
}

enum deit_status deit_model_check_preprocess(const struct deit_model *model, struct deit_error *err) {
    if (!model) return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "deit_model_check_preprocess: model is NULL");
    return preprocess_check(model, err);
}

enum deit_status deit_state_preprocess(struct deit_state *st, int b, const struct deit_image *image,
                                       const struct deit_rect *roi, struct deit_error *err) {
    float *slot = deit_state_input(st, b);
    if (!slot || !image)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                              "deit_state_preprocess: %s", !image ? "image is NULL" : "no such state or input slot");
    if (!st->pp) {
        if (err) *err = st->pp_err;
        return st->pp_err.status;
    }
    return deit_preprocess_into(st->pp, image, roi, slot, err);
}

/* deit_state_preprocess_many: workers claim regions one at a time, each through its own
 * single-threaded preprocessor (its plan and buffers; a pool run cannot start another) */
struct pp_many {
    struct deit_state              *st;
    int                             b0, n;
    const struct deit_image *const *images;
    const struct deit_rect         *rois;
    atomic_int                      next;
    int                            *failed; /* per worker: first failing region, or n */
    struct deit_error              *errs;   /* per worker: its message */
};

static void pp_many_task(void *ctx, int thread, int n_threads) {
    struct pp_many *j = ctx;
    (void)n_threads;
    for (;;) {
        const int i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->n) return;
        struct deit_error e;
        const enum deit_status s =
            !j->images[i] ? deit_set_error(&e, DEIT_STATUS_ERROR_INVALID_ARG, "image is NULL")
                          : deit_preprocess_into(j->st->pp_one[thread], j->images[i], j->rois ? &j->rois[i] : NULL,
                                                 deit_state_input(j->st, j->b0 + i), &e);
        if (s != DEIT_STATUS_OK && i < j->failed[thread]) j->failed[thread] = i, j->errs[thread] = e;
    }
}

/* err = "region i: " + e's message */
static void region_error(struct deit_error *err, int i, const struct deit_error *e) {
    char what[48];
    snprintf(what, sizeof what, "region %d", i);
    if (err) *err = *e;
    deit_error_prefix(err, what);
}

enum deit_status deit_state_preprocess_many(struct deit_state *st, int b0, int n, const struct deit_image *const *images,
                                            const struct deit_rect *rois, struct deit_error *err) {
    if (!st || !images || n < 1 || b0 < 0 || b0 > st->params.max_batch - n)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                              "deit_state_preprocess_many: %s", !st || !images ? "state or images is NULL"
                                                                               : "no such input slots");
    if (n == 1 || !st->pp_one) { /* one worker (or no preprocessor: its error) */
        enum deit_status  first = DEIT_STATUS_OK;
        struct deit_error e;
        for (int i = 0; i < n; i++) {
            const enum deit_status s = deit_state_preprocess(st, b0 + i, images[i], rois ? &rois[i] : NULL, &e);
            if (s != DEIT_STATUS_OK && first == DEIT_STATUS_OK) {
                if (n > 1) region_error(err, i, &e);
                else if (err) *err = e;
                first = s;
            }
        }
        if (first == DEIT_STATUS_OK) deit_error_clear(err);
        return first;
    }
    const int          nt = deit_pool_size(st->pool);
    int               *failed = st->pp_failed;
    struct deit_error *errs   = st->pp_errs;
    struct pp_many     j = { .st = st, .b0 = b0, .n = n, .images = images, .rois = rois, .failed = failed, .errs = errs };
    atomic_init(&j.next, 0);
    for (int t = 0; t < nt; t++) failed[t] = n;
    deit_pool_run(st->pool, pp_many_task, &j);
    int first = 0;
    for (int t = 1; t < nt; t++)
        if (failed[t] < failed[first]) first = t;
    if (failed[first] == n) {
        deit_error_clear(err);
        return DEIT_STATUS_OK;
    }
    region_error(err, failed[first], &errs[first]);
    return errs[first].status;
}

/* ---------------------------------------------------------------------------------------
 * Parallel sections
 */

/* Linear layers that read the same input, as one parallel section: segment g computes
 * out_g (M, N_g) [+]= inp (M, K) . w_g^T + bias_g. The concatenated output columns of all
 * segments are split evenly across the workers (q, k and v: 3 * D columns in one pass, so
 * each worker packs the input once or twice instead of three times and there is one
 * synchronisation instead of three); each worker runs one single-threaded sgemm per
 * segment piece it owns, then GELU on that piece while it is still in cache.
 * accumulate: out already holds a residual; the bias is added into it, then beta = 1. */
#define MAX_SEGMENTS 3
struct linear_seg {
    float       *out;
    const float *w, *bias;
    int          N;
    bool         packed; /* w is in 16-column panels (model->gemm_packed) */
    int          ld;     /* row stride of out; 0 = N */
};

static inline int seg_ld(const struct linear_seg *g) { return g->ld ? g->ld : g->N; }

struct linear_job {
    const struct deit_kernels *kn;
    const float      *inp;
    int               M, K, ldi;
    int               n_seg;
    struct linear_seg seg[MAX_SEGMENTS];
    bool              accumulate;
    bool              gelu;
    enum deit_act     act;
    /* pfx_T > 0: segment 0 only for the rows r with r % pfx_T < pfx_NP (the queries of a
     * pruned last layer, where attention reads the prefix rows of q alone) */
    int               pfx_T, pfx_NP;
    /* > 0: a guided split by blocks of this many rows instead of by columns (gemm_row_block) */
    int               row_block;
};

static void linear_piece(const struct linear_job *j, const struct linear_seg *g, int n0, int n1) {
    const int cols = n1 - n0;
    if (cols <= 0) return;
    if (g->packed && j->gelu && j->act == DEIT_ACT_GELU && !j->accumulate) {
        /* GELU on each output tile right after it is stored, no second pass over the outputs */
        j->kn->linear_packed_gelu(g->out, seg_ld(g), j->inp, j->ldi, g->w, g->bias, j->M, j->K, n0, n1);
        return;
    } else if (g->packed) {
        j->kn->linear_packed(g->out, seg_ld(g), j->inp, j->ldi, g->w, g->bias, j->M, j->K, n0, n1, j->accumulate);
    } else if (j->accumulate) {
        if (g->bias)
            for (int m = 0; m < j->M; m++) {
                float *o = g->out + (size_t)m * seg_ld(g) + n0;
                for (int c = 0; c < cols; c++) o[c] += g->bias[n0 + c];
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->M, cols, j->K, 1.0f, j->inp, j->ldi,
                    g->w + (size_t)n0 * j->K, j->K, 1.0f, g->out + n0, seg_ld(g));
    } else {
        linear_forward_strided(g->out + n0, seg_ld(g), j->inp, j->ldi, g->w + (size_t)n0 * j->K,
                               g->bias ? g->bias + n0 : NULL, j->M, j->K, cols);
    }
    if (j->gelu)
        for (int m = 0; m < j->M; m++) j->kn->gelu(g->out + (size_t)m * seg_ld(g) + n0, (size_t)cols, j->act);
}

/* Segment s of j on rows [m0, m1) and columns [n0, n1); with j->pfx_T, segment 0 on the
 * prefix rows among them only. */
static void linear_block(const struct linear_job *j, int s, int m0, int m1, int n0, int n1) {
    if (s == 0 && j->pfx_T > 0) {
        struct linear_job pj = *j;
        pj.pfx_T             = 0;
        for (int b0 = m0 - m0 % j->pfx_T; b0 < m1; b0 += j->pfx_T) {
            const int r0 = b0 > m0 ? b0 : m0, r1 = b0 + j->pfx_NP < m1 ? b0 + j->pfx_NP : m1;
            if (r0 < r1) linear_block(&pj, 0, r0, r1, n0, n1);
        }
        return;
    }
    if (m1 <= m0 || n1 <= n0) return;
    struct linear_job sub = *j;
    sub.M                 = m1 - m0;
    sub.inp               = j->inp + (size_t)m0 * j->ldi;
    sub.seg[s].out        = j->seg[s].out + (size_t)m0 * seg_ld(&j->seg[s]);
    linear_piece(&sub, &sub.seg[s], n0, n1);
}

/* One segment with more rows than columns (DeiT-tiny's fc2 and output projection, the
 * output projection and fc2 of any model at batch >= 8): split rows instead, so each
 * worker packs the smaller operand (the weights) in full rather than the larger (the
 * activations). */
static void linear_task_rows(const struct linear_job *j, int i, int n) {
    int m0, m1;
    deit_pool_split(j->M, ROW_ALIGN, i, n, &m0, &m1);
    linear_block(j, 0, m0, m1, 0, j->seg[0].N);
}

/* Columns [c0, c1) of the concatenated outputs of every segment of j */
static void linear_cols(const struct linear_job *j, int c0, int c1) {
    for (int s = 0, base = 0; s < j->n_seg; base += j->seg[s].N, s++) {
        const int a = c0 > base ? c0 - base : 0;
        const int b = c1 - base < j->seg[s].N ? c1 - base : j->seg[s].N;
        if (a < b) linear_block(j, s, 0, j->M, a, b);
    }
}

static void linear_task(void *ctx, int i, int n) {
    const struct linear_job *j     = ctx;
    int                      total = 0;
    for (int s = 0; s < j->n_seg; s++) total += j->seg[s].N;
    if (j->n_seg == 1 && n > 1 && j->M > total) {
        linear_task_rows(j, i, n);
        return;
    }
    int c0, c1;
    deit_pool_split(total, COL_ALIGN, i, n, &c0, &c1);
    linear_cols(j, c0, c1);
}

static void par_linear(struct deit_state *st, float *out, const float *inp, int ldi, const float *w,
                       const float *bias, int M, int K, int N, bool accumulate, bool gelu) {
    struct linear_job j = { .kn = st->kn, .inp = inp, .M = M, .K = K, .ldi = ldi, .n_seg = 1, .accumulate = accumulate,
                            .gelu = gelu, .act = st->model->info.hidden_act };
    j.seg[0] = (struct linear_seg){ out, w, bias, N, false };
    deit_pool_run(st->pool, linear_task, &j);
}

struct layernorm_job {
    const struct deit_kernels *kn;
    float       *out;
    const float *inp;
    const float *w, *b;
    int          M, D;
    float        eps;
};

static void layernorm_task(void *ctx, int i, int n) {
    struct layernorm_job *j = ctx;
    int                   m0, m1;
    deit_pool_split(j->M, 1, i, n, &m0, &m1);
    j->kn->layernorm(j->out + (size_t)m0 * j->D, j->inp + (size_t)m0 * j->D, j->w, j->b, m1 - m0, j->D, j->eps);
}

/* Query rows of every (image, head) pair form one list of B*H*T rows, split into chunks;
 * a worker walks the rows [q0, q1) of a chunk in blocks of at most st->attn_rows rows that
 * stay within one head (eager: scores of the block are (rows, T) in the worker's scratch;
 * fused: (QBLOCK, KTILE) tiles). */
/* K and V of layer l: odd layers in k2, v2 when attention shares a phase with the rest of
 * the layer (merge_attn) */
static float *layer_k(const struct deit_state *st, int l) { return st->merge_attn && (l & 1) ? st->k2 : st->k; }
static float *layer_v(const struct deit_state *st, int l) { return st->merge_attn && (l & 1) ? st->v2 : st->v; }

static void attention_rows(struct deit_state *st, int B, int l, int q0, int q1, int thread, bool pruned) {
    const struct deit_model_info *mi = &st->model->info;
    const int T = mi->num_tokens, D = mi->hidden_size, H = mi->num_heads, HD = mi->head_dim;
    /* pruned (last layer of a classifier): only the prefix query rows, whose context rows go
     * to ctx row b*NP + i (the compact rows the rest of the layer reads) */
    const int NP = mi->num_prefix_tokens, TQ = pruned ? NP : T;
    const float scale = 1.0f / sqrtf((float)HD); /* reference: DeiTSelfAttention.scaling = HD**-0.5 */
    float *scratch = st->scratch + st->scratch_per_thread * (size_t)thread;
    const float *K = layer_k(st, l), *V = layer_v(st, l);
    (void)B;
    for (int q = q0; q < q1;) {
        const int    bh = q / TQ, r0 = q % TQ;
        const int    b = bh / H, hh = bh % H;
        int          r1 = r0 + st->attn_rows;
        if (r1 > TQ) r1 = TQ;
        if (r1 - r0 > q1 - q) r1 = r0 + (q1 - q);
        const size_t off  = (size_t)b * T * D + (size_t)hh * HD;
        float       *ctx  = st->ctx + (size_t)b * TQ * D + (size_t)hh * HD;
        if (st->attn_packed) {
            /* slot of this head (merge_attn: one per head, else one): the (layer, image,
             * head) whose K it holds is kept across the steps a worker takes in one run
             * (reset by deit_state_run) */
            const int slot   = st->kp_slots > 1 ? hh : 0;
            float    *kp     = scratch + st->attn_kp_off + st->kp_floats * (size_t)slot;
            int      *packed = &st->kp_key[thread * st->kp_slots + slot];
            if (*packed != l * B * H + bh) {
                st->kn->pack_k(kp, K + off, T, HD, D);
                *packed = l * B * H + bh;
            }
            st->kn->attention_packed(ctx, st->q + off, kp, V + off, scratch, r0, r1, T, HD, D, scale);
        } else if (st->attention == DEIT_ATTENTION_FUSED)
            attention_head_fused(st->kn, ctx, st->q + off, K + off, V + off, scratch, r0, r1, T, HD, D,
                                 scale, KTILE);
        else
            attention_head_eager(st->kn, ctx, st->q + off, K + off, V + off, scratch, r0, r1, T, HD, D,
                                 scale);
        q += r1 - r0;
    }
}

/* Attention of layer l for the query rows among token rows [m0, m1), every head (the
 * rows of a merged phase, PH_AROWS) */
static void attention_block(struct deit_state *st, int B, int l, int m0, int m1, int thread) {
    const struct deit_model_info *mi = &st->model->info;
    const int T = mi->num_tokens, H = mi->num_heads;
    for (int b = m0 / T; b * T < m1; b++) {
        const int r0 = (m0 > b * T ? m0 : b * T) - b * T, r1 = (m1 < (b + 1) * T ? m1 : (b + 1) * T) - b * T;
        for (int h = 0; h < H; h++) attention_rows(st, B, l, (b * H + h) * T + r0, (b * H + h) * T + r1, thread, false);
    }
}

/* ---------------------------------------------------------------------------------------
 * Forward pieces
 */

/* patches (B*N, C*P*P) <- pixel_values (B, C, Hi, Wi); row n = patch (py, px) in raster
 * order, column (c, ky, kx) matching the Conv2d weight layout (D, C, P, P). */
struct im2col_job {
    struct deit_state *st;
    int                B;
};

/* patch rows [r0, r1) of all B*N */
static void im2col_rows(struct deit_state *st, int r0, int r1) {
    const struct deit_model_info *mi = &st->model->info;
    const int C = mi->num_channels, P = mi->patch_size, Hi = mi->image_height, Wi = mi->image_width;
    const int gw = Wi / P, N = mi->num_patches, KK = C * P * P;
    for (int r = r0; r < r1; r++) {
        const int    b = r / N, p = r % N, py = p / gw, px = p % gw;
        const float *img = st->input + (size_t)b * C * Hi * Wi;
        float       *dst = st->patches + (size_t)r * KK;
        for (int c = 0; c < C; c++)
            for (int ky = 0; ky < P; ky++)
                memcpy(dst + (size_t)(c * P + ky) * P, img + ((size_t)c * Hi + (size_t)py * P + ky) * Wi + (size_t)px * P,
                       (size_t)P * sizeof(float));
    }
}

static void im2col_task(void *ctx, int i, int n) {
    struct im2col_job *j = ctx;
    int                r0, r1;
    deit_pool_split(j->B * j->st->model->info.num_patches, 1, i, n, &r0, &r1);
    im2col_rows(j->st, r0, r1);
}

/* h (B*T, D) = [cls, (dist), patch_embeddings with mask_token where masked] + pos_embed.
 * reference: DeiTEmbeddings.forward: mask applied before the prefix tokens are
 * concatenated, then position_embeddings added to every token. */
static void pos_embed_image(struct deit_state *st, int b) {
    const struct deit_model      *m  = st->model;
    const struct deit_model_info *mi = &m->info;
    const int D = mi->hidden_size, N = mi->num_patches, NP = mi->num_prefix_tokens, T = mi->num_tokens;
    float    *hb = st->h + (size_t)b * T * D;
    for (int d = 0; d < D; d++) hb[d] = m->w.cls_token[d] + m->w.pos_embed[d];
    if (NP == 2)
        for (int d = 0; d < D; d++) hb[D + d] = m->w.dist_token[d] + m->w.pos_embed[D + d];
    const uint8_t *mask = st->mask ? st->mask + (size_t)b * N : NULL;
    for (int p = 0; p < N; p++) {
        const float *e   = (mask && mask[p]) ? m->w.mask_token : st->a + ((size_t)b * N + p) * D;
        const float *pos = m->w.pos_embed + (size_t)(NP + p) * D;
        float       *dst = hb + (size_t)(NP + p) * D;
        for (int d = 0; d < D; d++) dst[d] = e[d] + pos[d];
    }
}

static void pos_embed_forward(struct deit_state *st, int B) {
    for (int b = 0; b < B; b++) pos_embed_image(st, b);
}

/* Heads on the final sequence seq (B*T, D). */
static void head_forward(struct deit_state *st, int B) {
    const struct deit_model      *m  = st->model;
    const struct deit_model_info *mi = &m->info;
    const int D = mi->hidden_size, T = mi->num_tokens, K = mi->num_labels;
    switch (mi->arch) {
    case DEIT_ARCH_DEIT_WITH_TEACHER:
        /* reference: (cls_classifier(seq[:, 0]) + distillation_classifier(seq[:, 1])) / 2 */
        linear_forward_strided(st->logits, K, st->seq, T * D, m->w.head_w, m->w.head_b, B, D, K);
        linear_forward_strided(st->logits2, K, st->seq + D, T * D, m->w.head_dist_w, m->w.head_dist_b, B, D, K);
        for (size_t i = 0; i < (size_t)B * K; i++) st->logits[i] = (st->logits[i] + st->logits2[i]) / 2.0f;
        break;
    case DEIT_ARCH_DEIT_CLASSIFICATION:
    case DEIT_ARCH_VIT_CLASSIFICATION:
        linear_forward_strided(st->logits, K, st->seq, T * D, m->w.head_w, m->w.head_b, B, D, K);
        break;
    case DEIT_ARCH_DEIT_MODEL:
    case DEIT_ARCH_VIT_MODEL:
        if (st->pooler) {
            const int Dp = mi->pooler_output_size;
            linear_forward_strided(st->pooler, Dp, st->seq, T * D, m->w.pooler_w, m->w.pooler_b, B, D, Dp);
            /* reference: ViTPooler: ACT2FN[config.pooler_act], tanh unless the config says otherwise */
            st->kn->gelu(st->pooler, (size_t)B * Dp, mi->pooler_act);
        }
        break;
    case DEIT_ARCH_DEIT_MIM:
    case DEIT_ARCH_VIT_MIM: {
        /* reference (transformers v5 modular_deit.py): patch tokens seq[:, NP:] (the older v4
         * code took seq[:, 1:-1], keeping the distillation token and dropping the last patch),
         * 1x1 conv D -> r*r*C, PixelShuffle(r): out[c, y*r+i, x*r+j] = conv[c*r*r + i*r + j, y, x]. */
        const int N = mi->num_patches, NP = mi->num_prefix_tokens, r = mi->encoder_stride, C = mi->num_channels;
        const int gw = mi->image_width / mi->patch_size, gh = mi->image_height / mi->patch_size;
        const int OC = r * r * C, OH = gh * r, OW = gw * r;
        for (int b = 0; b < B; b++)
            par_linear(st, st->dec + (size_t)b * N * OC, st->seq + ((size_t)b * T + NP) * D, D, m->w.decoder_w,
                       m->w.decoder_b, N, D, OC, false, false);
        for (int b = 0; b < B; b++) {
            const float *dec = st->dec + (size_t)b * N * OC;
            float       *out = st->recon + (size_t)b * C * OH * OW;
            for (int y = 0; y < gh; y++)
                for (int x = 0; x < gw; x++)
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < r; i++)
                            for (int jx = 0; jx < r; jx++)
                                out[((size_t)c * OH + y * r + i) * OW + x * r + jx] =
                                    dec[(size_t)(y * gw + x) * OC + c * r * r + i * r + jx];
        }
        break;
    }
    }
}

/* ---------------------------------------------------------------------------------------
 * The forward pass as one parallel region
 *
 * Embeddings, the L layers and the final LayerNorm are a list of phases (im2col, patch
 * GEMM, position embeddings; per layer LN1, q/k/v, attention, output projection, LN2,
 * fc1 + GELU, fc2; final LN), each cut into chunks. All workers enter one
 * deit_pool_run(); in every phase they claim chunks with an atomic counter, and a phase
 * starts when the previous one has all its chunks done. A worker the OS has not
 * scheduled (a busy machine) therefore holds nobody up: the others take its chunks, and
 * it joins whatever phase is current when it runs, where a fixed split with one pool run
 * per phase waited for every worker at each of the ~90 phase boundaries.
 * The list of phases with their chunk counts and guided bounds is built once per state and
 * batch size (build_plan). A worker that runs out of chunks spins briefly, then sleeps on
 * the phase's counter until the last chunk is done (wait_phase), so on a machine with more
 * runnable threads than CPUs it hands its CPU to the worker it waits for. Each chunk
 * writes its own outputs in a fixed order, whoever runs it, so the results do not depend
 * on the schedule (tests/core/test-isa.c --determinism).
 * GEMM column splits on packed weights, attention and row-fused phases are guided splits
 * (guided_split: large chunks first, ever smaller ones last, so whichever worker finishes
 * first takes the tail instead of waiting); OpenBLAS GEMMs (each chunk repacks an
 * operand, see linear_task) and row-split GEMMs have one chunk per worker, LayerNorm
 * phases two.
 */
enum phase_kind { PH_IM2COL, PH_PATCH, PH_POS, PH_LN1, PH_QKV, PH_ATTN, PH_OPROJ, PH_LN2, PH_FC1, PH_FC2, PH_LNF,
                  PH_ROWS, PH_AROWS };

struct region {
    struct deit_state            *st;
    const struct deit_run_params *rp;
    int                           B, n_phases;
    bool                          busy;       /* steps of plan.busy_step (deit_state.busy) */
    atomic_int                    aborted;
    int                           n_images;   /* per-image run: images [0, n_images) ... */
    atomic_int                    next_image; /* ... claimed one at a time */
    struct region                *parent;     /* one image of a per-image run: that run */
};

static enum phase_kind phase_kind_of(const struct region *rg, int p, int *layer) {
    *layer = 0;
    if (p < PRE_PHASES) return (enum phase_kind)p;
    if (rg->st->merge_attn) {
        /* PH_ROWS of layer -1 starts layer 0; PH_AROWS of layer l runs its attention, finishes
         * it and starts layer l + 1 on the same rows; a pruned last layer: PH_ATTN, PH_ROWS */
        const int q = p - PRE_PHASES, L = rg->st->model->info.num_layers;
        if (q == 0) return *layer = -1, PH_ROWS;
        if (q <= L - rg->st->prune_last) return *layer = q - 1, PH_AROWS;
        *layer = L - 1;
        return q == L ? PH_ATTN : PH_ROWS;
    }
    if (rg->st->fuse_rows) {
        /* PH_ROWS of layer l finishes layer l (l >= 0) and starts layer l + 1 */
        const int q = p - PRE_PHASES;
        *layer      = q / 2 - (q % 2 == 0);
        return q % 2 == 0 ? PH_ROWS : PH_ATTN;
    }
    if (p == rg->n_phases - 1) return PH_LNF;
    *layer = (p - PRE_PHASES) / LAYER_PHASES;
    return (enum phase_kind)(PH_LN1 + (p - PRE_PHASES) % LAYER_PHASES);
}

/* Whether layer l runs its post-attention part on the prefix rows alone (st->prune_last):
 * those are then B*NP compact rows (row b*NP + i = token i of image b) of ctx, a and mlp,
 * with the residual in st->hp, gathered from h before the layer's attention. */
static bool layer_pruned(const struct deit_state *st, int l) {
    return st->prune_last && l == st->model->info.num_layers - 1;
}

/* hp row b*NP + i = h row b*T + i, for the prefix rows among token rows [m0, m1) */
static void gather_prefix_rows(struct deit_state *st, int m0, int m1) {
    const struct deit_model_info *mi = &st->model->info;
    const int T = mi->num_tokens, NP = mi->num_prefix_tokens, D = mi->hidden_size;
    for (int r = m0; r < m1; r++)
        if (r % T < NP)
            memcpy(st->hp + ((size_t)(r / T) * NP + r % T) * D, st->h + (size_t)r * D, (size_t)D * sizeof(float));
}

/* the final LayerNorm of compact prefix rows [r0, r1) of hp into their rows of seq */
static void final_layernorm_prefix(struct deit_state *st, int r0, int r1) {
    const struct deit_model      *m  = st->model;
    const struct deit_model_info *mi = &m->info;
    const int T = mi->num_tokens, NP = mi->num_prefix_tokens, D = mi->hidden_size;
    for (int r = r0; r < r1; r++)
        st->kn->layernorm(st->seq + ((size_t)(r / NP) * T + r % NP) * D, st->hp + (size_t)r * D, m->w.ln_f_w,
                          m->w.ln_f_b, 1, D, mi->layer_norm_eps);
}

/* The linear job of one of layer l's GEMM phases (PH_QKV, PH_OPROJ, PH_FC1, PH_FC2) over
 * all B * T token rows (B * NP compact rows after a pruned attention): what run_chunk
 * splits by columns and rows_chunk by rows. */
static struct linear_job layer_linear(const struct deit_state *st, int B, int l, enum phase_kind k) {
    const struct deit_model          *m  = st->model;
    const struct deit_model_info     *mi = &m->info;
    const struct deit_layer_weights *lw = &m->w.layers[l];
    const int D = mi->hidden_size, NI = mi->intermediate_size;
    const bool pruned = k != PH_QKV && layer_pruned(st, l);
    float     *h      = pruned ? st->hp : st->h;
    struct linear_job lj = { .kn = st->kn, .M = B * (pruned ? mi->num_prefix_tokens : mi->num_tokens), .K = D, .ldi = D,
                             .n_seg = 1, .act = mi->hidden_act };
    switch (k) {
    case PH_QKV: /* q, k, v = a Wqkv^T + bqkv */
        lj.inp = st->a, lj.n_seg = 3;
        if (layer_pruned(st, l)) lj.pfx_T = mi->num_tokens, lj.pfx_NP = mi->num_prefix_tokens;
        lj.seg[0] = (struct linear_seg){ st->q, lw->q_w, lw->q_b, D, m->gemm_packed };
        lj.seg[1] = (struct linear_seg){ layer_k(st, l), lw->k_w, lw->k_b, D, m->gemm_packed };
        lj.seg[2] = (struct linear_seg){ layer_v(st, l), lw->v_w, lw->v_b, D, m->gemm_packed };
        break;
    case PH_OPROJ: /* h += ctx Wo^T + bo */
        lj.inp = st->ctx, lj.accumulate = true;
        lj.seg[0] = (struct linear_seg){ h, lw->o_w, lw->o_b, D, m->gemm_packed };
        break;
    case PH_FC1: /* mlp = gelu(a W1^T + b1) */
        lj.inp = st->a, lj.gelu = true;
        lj.seg[0] = (struct linear_seg){ st->mlp, lw->fc1_w, lw->fc1_b, NI, m->gemm_packed, st->mlp_ld };
        break;
    case PH_FC2: /* h += mlp W2^T + b2 */
        lj.inp = st->mlp, lj.K = NI, lj.ldi = st->mlp_ld, lj.accumulate = true;
        lj.seg[0] = (struct linear_seg){ h, lw->fc2_w, lw->fc2_b, D, m->gemm_packed };
        break;
    default:
        break;
    }
    return lj;
}

/* Chunk c of a guided split of U units among n workers: each chunk takes
 * ceil(rest / 2n) units, at least minu, so the first chunks are large and the last ones
 * small. Sets [u0, u1) for chunk c and returns the number of chunks. */
static int guided_split(int U, int n, int minu, int c, int *u0, int *u1) {
    int start = 0, k = 0;
    while (start < U) {
        int size = n > 1 ? (U - start + 2 * n - 1) / (2 * n) : U - start; /* one worker: one chunk */
        if (size < minu) size = minu;
        if (size > U - start) size = U - start;
        if (k == c) *u0 = start, *u1 = start + size;
        start += size;
        k++;
    }
    return k;
}

/* rows [m0, m1) of out (M, N) [+]= inp (M, K) W^T + b for every segment of j */
static void linear_rows(const struct linear_job *j, int m0, int m1) {
    for (int s = 0; s < j->n_seg; s++) linear_block(j, s, m0, m1, 0, j->seg[s].N);
}

/* Everything between two attentions is row-wise: token rows [m0, m1) go through
 *   (layer l >= 0)  h += ctx Wo^T + bo;  a = LN2(h);  mlp = gelu(a W1^T + b1);  h += mlp W2^T + b2
 *   (then)          a = LN1'(h); q, k, v = a Wqkv'^T + bqkv' of layer l + 1, or seq = LNF(h) after the last
 * with no barrier in between: a forward pass has 2 L + 4 phases instead of 7 L + 4.
 * After a pruned attention (layer_pruned) the rows are compact prefix rows and h is hp.
 * The context of a query row needs every key and value of its layer, but nothing else of
 * other rows, so with our packed kernels attention shares that phase too (merge_attn,
 * PH_AROWS: the rows' attention over every head, then the above): L + 4 phases (+1 for a
 * pruned last layer), the next layer's K and V written to the other buffer of a pair
 * (layer_k) while slower workers still read this layer's. DeiT-tiny at 2 threads: median
 * 3-4 % faster (bench/README.md), the same bits. */
static void rows_chunk(struct deit_state *st, int B, int l, int m0, int m1) {
    const struct deit_model      *m  = st->model;
    const struct deit_model_info *mi = &m->info;
    const int D = mi->hidden_size, rows = m1 - m0;
    if (rows <= 0) return;
    const size_t off    = (size_t)m0 * D;
    const bool   pruned = l >= 0 && layer_pruned(st, l);
    float       *h      = pruned ? st->hp : st->h;
    if (l >= 0) {
        const struct deit_layer_weights *lw = &m->w.layers[l];
        struct linear_job                oproj = layer_linear(st, B, l, PH_OPROJ);
        struct linear_job                fc1   = layer_linear(st, B, l, PH_FC1);
        struct linear_job                fc2   = layer_linear(st, B, l, PH_FC2);
        linear_rows(&oproj, m0, m1);
        st->kn->layernorm(st->a + off, h + off, lw->ln2_w, lw->ln2_b, rows, D, mi->layer_norm_eps);
        linear_rows(&fc1, m0, m1);
        linear_rows(&fc2, m0, m1);
    }
    if (l + 1 == mi->num_layers) {
        if (pruned)
            final_layernorm_prefix(st, m0, m1);
        else
            st->kn->layernorm(st->seq + off, h + off, m->w.ln_f_w, m->w.ln_f_b, rows, D, mi->layer_norm_eps);
        return;
    }
    const struct deit_layer_weights *nw  = &m->w.layers[l + 1];
    struct linear_job                qkv = layer_linear(st, B, l + 1, PH_QKV);
    if (layer_pruned(st, l + 1)) gather_prefix_rows(st, m0, m1); /* h of these rows is final for layer l */
    st->kn->layernorm(st->a + off, st->h + off, nw->ln1_w, nw->ln1_b, rows, D, mi->layer_norm_eps);
    linear_rows(&qkv, m0, m1);
}

/* The GEMM of a phase-per-operation GEMM phase (patch embedding, q/k/v, output projection,
 * fc1, fc2 of layer l); false for the other phases. */
static bool phase_gemm(const struct region *rg, enum phase_kind k, int l, struct linear_job *lj) {
    const struct deit_state      *st = rg->st;
    const struct deit_model      *m  = st->model;
    const struct deit_model_info *mi = &m->info;
    if (k == PH_PATCH) {
        const int KK = mi->num_channels * mi->patch_size * mi->patch_size;
        /* row-fused states (small layers): by blocks of rows, each reading all of the patch
         * weights (DeiT-tiny: 590 KB, from L2). By columns DeiT-tiny's 192 outputs are 12
         * panels in 5 guided chunks (3, 3, 2, 2, 2) that left one worker 45-90 us idle at
         * the end of the phase; by rows they are 17 units of 12 */
        *lj = (struct linear_job){ .kn = st->kn, .inp = st->patches, .M = rg->B * mi->num_patches, .K = KK, .ldi = KK, .n_seg = 1,
                                   .act = mi->hidden_act, .row_block = st->fuse_rows ? ROW_UNIT : 0 };
        lj->seg[0] = (struct linear_seg){ st->a, m->w.patch_w, m->w.patch_b, mi->hidden_size, m->gemm_packed };
        return true;
    }
    if (k == PH_QKV || k == PH_OPROJ || k == PH_FC1 || k == PH_FC2) {
        *lj = layer_linear(st, rg->B, l, k);
        return true;
    }
    return false;
}

/* Columns of a GEMM on packed weights go out in a guided split (GUIDED_COL_UNIT): two
 * large chunks first, then ever smaller ones, so the worker that finishes first takes the
 * tail instead of waiting for the other's half (DeiT-base: 4-6 % faster than one chunk
 * per worker, bench/README.md), in steps a worker with nothing left can take. Also when
 * the GEMM has more rows than columns (output projection and fc2 at batch >= 8): the row
 * split that suits OpenBLAS (each worker packs the smaller operand) gains nothing with
 * packed weights, where each column group re-reads its rows either way (1584 rows: 97-106
 * GFLOP/s per core, bench/fma-peak --gemm), and a fixed half per worker cannot be taken
 * over. OpenBLAS GEMMs (which repack an operand per call) keep GEMM_CHUNKS_PER_WORKER even
 * chunks, by rows when M > N (linear_task). */
static bool gemm_guided(const struct linear_job *lj, int n, int *total) {
    *total = 0;
    for (int s = 0; s < lj->n_seg; s++) *total += lj->seg[s].N;
    return n > 1 && lj->seg[0].packed; /* else linear_task's even split */
}

/* Row-fused and attention phases are guided splits too (ROWS_MIN_UNITS, ATTN_MIN_ROWS):
 * the units are ROW_UNIT blocks of the token rows (the prefix rows of a pruned last layer) and
 * query rows of all (image, head) pairs. DeiT-tiny: 1-3 % faster than 2 even chunks per
 * worker in an in-process A/B on the busy host, about even on an idle one. */
static bool phase_rows(const struct region *rg, enum phase_kind k, int l, int *units) {
    const struct deit_model_info *mi = &rg->st->model->info;
    const bool pruned = l >= 0 && layer_pruned(rg->st, l);
    const int  T      = pruned ? mi->num_prefix_tokens : mi->num_tokens;
    if (k == PH_ROWS || k == PH_AROWS) *units = (rg->B * T + ROW_UNIT - 1) / ROW_UNIT;
    else if (k == PH_ATTN) *units = rg->B * mi->num_heads * T;
    else return false;
    return true;
}

/* Units and smallest chunk of a guided phase; false for a fixed split of the chunk count */
/* Rows per unit of a guided GEMM split by row blocks, or 0 for a split by columns. A
 * column step re-reads all M input rows; once they exceed 4 MB (batch 8: 4.8 MB, fc2's
 * 19.5 MB, next to a layer's 28 MB of weights in a 32 MB L3) they come from DRAM for every
 * 32 columns, so such GEMMs go by blocks of rows that stay in L2 (~512 KB, a multiple of
 * the 12-row tile) through all columns, re-reading the weights from L3 instead. */
static int gemm_row_block(const struct linear_job *lj) {
    if (lj->row_block > 0) return lj->row_block;
    if ((size_t)lj->M * lj->K * sizeof(float) <= ((size_t)4 << 20) || lj->pfx_T > 0) return 0;
    const int rb = (int)(((size_t)512 << 10) / ((size_t)lj->K * sizeof(float))) / 12 * 12;
    return rb < 12 ? 12 : rb;
}

static bool phase_guided(const struct region *rg, enum phase_kind k, int l, int *units, int *minu) {
    struct linear_job lj;
    int               total;
    if (phase_gemm(rg, k, l, &lj)) {
        if (!gemm_guided(&lj, deit_pool_size(rg->st->pool), &total)) return false;
        const int rb = gemm_row_block(&lj);
        if (rb) *units = (lj.M + rb - 1) / rb, *minu = 1;
        else *units = (total + GUIDED_COL_UNIT - 1) / GUIDED_COL_UNIT, *minu = GUIDED_MIN_UNITS;
        return true;
    }
    *minu = k == PH_ROWS || k == PH_AROWS ? ROWS_MIN_UNITS : ATTN_MIN_ROWS;
    return phase_rows(rg, k, l, units);
}

static int phase_chunks(const struct region *rg, enum phase_kind k, int l) {
    const int n = deit_pool_size(rg->st->pool);
    int       units, minu, u0, u1;
    if (phase_guided(rg, k, l, &units, &minu)) return guided_split(units, n, minu, -1, &u0, &u1);
    if (n == 1 || k == PH_POS) return 1;
    struct linear_job lj;
    return phase_gemm(rg, k, l, &lj) ? GEMM_CHUNKS_PER_WORKER * n : 2 * n;
}

/* The phase list of a batch size: once per state and batch size, not per chunk */
static bool build_plan(struct deit_state *st, int B) {
    struct region rg    = { .st = st, .B = B, .n_phases = st->n_phases };
    const int     n     = deit_pool_size(st->pool);
    size_t        total = 0;
    free(st->plan_bounds);
    free(st->plan_cur);
    st->plan_bounds = NULL;
    st->plan_cur    = NULL;
    st->plan_batch  = 0;
    for (int p = 0; p < st->n_phases; p++) {
        struct phase_plan *pl = &st->plan[p];
        pl->kind              = phase_kind_of(&rg, p, &pl->layer);
        pl->n_chunks          = phase_chunks(&rg, pl->kind, pl->layer);
        total += (size_t)pl->n_chunks + 1;
    }
    if (!(st->plan_bounds = malloc(total * sizeof(int))) || !(st->plan_cur = malloc(total * sizeof(atomic_int))))
        return false;
    int        *b   = st->plan_bounds;
    atomic_int *cur = st->plan_cur;
    for (int p = 0; p < st->n_phases; p++) {
        struct phase_plan *pl = &st->plan[p];
        int                units, minu, u1 = 0;
        pl->bounds = NULL, pl->cur = NULL, pl->want = pl->n_chunks;
        if (!phase_guided(&rg, pl->kind, pl->layer, &units, &minu)) continue;
        pl->bounds = b, pl->cur = cur, pl->want = units;
        for (int c = 0; c < pl->n_chunks; c++) guided_split(units, n, minu, c, &b[c], &u1);
        b[pl->n_chunks] = units;
        /* row-fused chunks stream all of a layer's weights once per call: one step each;
         * GEMM columns in steps of their smallest chunk (the column loop is outermost
         * anyway), attention in steps of 48 query rows (a worker keeps its packed K
         * across steps) */
        const bool rows = pl->kind == PH_ROWS || pl->kind == PH_AROWS;
        pl->step        = rows ? units : pl->kind == PH_ATTN ? ATTN_STEP_ROWS : minu;
        /* on a busy machine row-fused chunks go in steps too (wait_phase), on our packed
         * kernels only: OpenBLAS blocks a GEMM by its row count, so its results would
         * depend on the steps */
        pl->busy_step = rows && st->model->gemm_packed ? ROWS_MIN_UNITS : pl->step;
        b += pl->n_chunks + 1, cur += pl->n_chunks + 1;
    }
    st->plan_batch = B;
    return true;
}

/* Chunk c of a fixed split, or units [u0, u1) of a guided phase */
static void run_chunk(struct region *rg, const struct phase_plan *pl, int c, int u0, int u1, int thread) {
    const enum phase_kind k = (enum phase_kind)pl->kind;
    const int             l = pl->layer, nc = pl->n_chunks;
    struct deit_state              *st = rg->st;
    const struct deit_model        *m  = st->model;
    const struct deit_model_info   *mi = &m->info;
    /* l is -1 for the first row-fused phase (nothing of layer -1 is read there) */
    const struct deit_layer_weights *lw = l >= 0 ? &m->w.layers[l] : NULL;
    const int D = mi->hidden_size, M = rg->B * mi->num_tokens;
    struct linear_job    lj = { .kn = st->kn, .M = M, .K = D, .ldi = D, .n_seg = 1, .act = mi->hidden_act };
    struct layernorm_job nj = { .kn = st->kn, .M = M, .D = D, .eps = mi->layer_norm_eps };
    switch (k) {
    case PH_AROWS: { /* attention of layer l for these query rows, then the rest as PH_ROWS */
        const int m1 = u1 * ROW_UNIT < M ? u1 * ROW_UNIT : M;
        attention_block(st, rg->B, l, u0 * ROW_UNIT, m1, thread);
        rows_chunk(st, rg->B, l, u0 * ROW_UNIT, m1);
        return;
    }
    case PH_ROWS: {
        /* ROW_UNIT blocks of the token rows, or of the compact prefix rows of a pruned last
         * layer */
        const int rows = l >= 0 && layer_pruned(st, l) ? rg->B * mi->num_prefix_tokens : M;
        rows_chunk(st, rg->B, l, u0 * ROW_UNIT, u1 * ROW_UNIT < rows ? u1 * ROW_UNIT : rows);
        return;
    }
    case PH_IM2COL: {
        struct im2col_job ij = { st, rg->B };
        im2col_task(&ij, c, nc);
        return;
    }
    case PH_POS:
        pos_embed_forward(st, rg->B);
        return;
    case PH_LNF:
        if (st->prune_last) { /* the last layer left compact prefix rows in hp */
            int r0, r1;
            deit_pool_split(rg->B * mi->num_prefix_tokens, 1, c, nc, &r0, &r1);
            final_layernorm_prefix(st, r0, r1);
            return;
        }
        /* fall through */
    case PH_LN1:
    case PH_LN2: {
        const bool pruned = k == PH_LN2 && layer_pruned(st, l);
        nj.inp = pruned ? st->hp : st->h;
        nj.M   = pruned ? rg->B * mi->num_prefix_tokens : M;
        nj.out = k == PH_LNF ? st->seq : st->a;
        nj.w   = k == PH_LN1 ? lw->ln1_w : k == PH_LN2 ? lw->ln2_w : m->w.ln_f_w;
        nj.b   = k == PH_LN1 ? lw->ln1_b : k == PH_LN2 ? lw->ln2_b : m->w.ln_f_b;
        layernorm_task(&nj, c, nc);
        if (k == PH_LN1 && layer_pruned(st, l)) { /* the same rows layernorm_task took */
            int m0, m1;
            deit_pool_split(M, 1, c, nc, &m0, &m1);
            gather_prefix_rows(st, m0, m1);
        }
        return;
    }
    case PH_PATCH:
    case PH_QKV:
    case PH_OPROJ:
    case PH_FC1:
    case PH_FC2: {
        int total;
        phase_gemm(rg, k, l, &lj);
        if (!pl->bounds) break;
        gemm_guided(&lj, deit_pool_size(st->pool), &total);
        const int rb = gemm_row_block(&lj);
        if (rb) linear_rows(&lj, u0 * rb, u1 * rb < lj.M ? u1 * rb : lj.M);
        else linear_cols(&lj, u0 * GUIDED_COL_UNIT, u1 * GUIDED_COL_UNIT < total ? u1 * GUIDED_COL_UNIT : total);
        return;
    }
    case PH_ATTN: {
        attention_rows(st, rg->B, l, u0, u1, thread, layer_pruned(st, l));
        return;
    }
    default:
        break;
    }
    linear_task(&lj, c, nc);
}

/* The CPU this thread runs on, or -1 where that is unknown */
static int current_cpu(void) {
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Whether the run is aborted, asked at the start of phase kind k: the caller's
 * abort_callback is asked once per layer (at its first phase) by worker 0 of a shared
 * region, or by the worker of each image of a per-image run, where an abort also stops
 * the other workers' images at their next phase */
static bool aborted_at(struct region *rg, enum phase_kind k, int thread) {
    const struct deit_state *st = rg->st;
    if ((st->fuse_rows ? k == PH_ATTN || k == PH_AROWS : k == PH_LN1) && (thread == 0 || rg->parent) &&
        rg->rp->abort_callback && rg->rp->abort_callback(rg->rp->abort_user_data)) {
        atomic_store(&rg->aborted, 1);
        if (rg->parent) atomic_store(&rg->parent->aborted, 1);
    }
    if (rg->parent && atomic_load_explicit(&rg->parent->aborted, memory_order_relaxed)) return true;
    return atomic_load_explicit(&rg->aborted, memory_order_relaxed) != 0;
}

/* Wait until every chunk of phase ps is done: spin briefly, then sleep on the counter (a
 * futex) so that a worker preempted in its last chunk gets this CPU instead of a spinner.
 * No spinning when another worker last started a phase on this very CPU: the OS has put
 * both on one CPU (a busy machine: two workers and another process on two CPUs are
 * balanced as two and one), and the one we wait for cannot run until we sleep. */
static void wait_phase(struct deit_state *st, struct phase_sync *ps, int want, int thread) {
    const int me = current_cpu();
    int       spins_left = SLEEP_AFTER_SPINS;
    for (int t = 0; me >= 0 && t < deit_pool_size(st->pool); t++)
        if (t != thread && atomic_load_explicit(&st->cpu_of[t], memory_order_relaxed) == me) spins_left = 0;
    for (; spins_left > 0; spins_left--) {
        if (atomic_load_explicit(&ps->done, memory_order_acquire) >= want) return;
        deit_cpu_relax();
    }
    const long long t0 = deit_now_ns();
    atomic_fetch_add(&ps->sleepers, 1);
    for (;;) {
        const int d = atomic_load(&ps->done);
        if (d >= want) break;
#if defined(__linux__)
        syscall(SYS_futex, &ps->done, FUTEX_WAIT_PRIVATE, d, NULL, NULL, 0);
#else
        sched_yield();
#endif
    }
    atomic_fetch_sub(&ps->sleepers, 1);
    /* longer than any phase of an undisturbed run takes: the worker we waited for was not
     * running (the OS preempted it for another process); for the next runs, row-fused
     * chunks go in small steps that the running worker can take over (busy_step: 2-3 %
     * slower undisturbed, 15-20 % faster on a busy machine for DeiT-tiny, bench/README.md) */
    if (deit_now_ns() - t0 > BUSY_WAIT_NS) atomic_store_explicit(&st->self->busy, BUSY_RUNS, memory_order_relaxed);
}

/* count items of ps are done; the last ones wake the workers asleep in wait_phase */
static void chunk_done(struct phase_sync *ps, int count, int want) {
    if (atomic_fetch_add(&ps->done, count) + count == want && atomic_load(&ps->sleepers) > 0) {
#if defined(__linux__)
        syscall(SYS_futex, &ps->done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#endif
    }
}

/* Steps of guided chunk c until none is left: the owner's, or the rest of someone else's */
static void work_steps(struct region *rg, const struct phase_plan *pl, struct phase_sync *ps, int c, int thread) {
    const int end = pl->bounds[c + 1], step = rg->busy ? pl->busy_step : pl->step;
    for (;;) {
        const int u0 = atomic_fetch_add_explicit(&pl->cur[c], step, memory_order_relaxed);
        if (u0 >= end) return;
        const int u1 = u0 + step < end ? u0 + step : end;
        run_chunk(rg, pl, c, u0, u1, thread);
        chunk_done(ps, u1 - u0, pl->want);
    }
}

static void region_task(void *ctx, int thread, int n_threads) {
    struct region     *rg = ctx;
    struct deit_state *st = rg->st;
    (void)n_threads;
    for (int p = 0; p < rg->n_phases; p++) {
        const struct phase_plan *pl = &st->plan[p];
        /* the previous phase must be complete: every chunk of it has been claimed by a
         * running worker (we only get here after failing to claim one), so this ends */
        if (p > 0) wait_phase(st, &st->sync[p - 1], st->plan[p - 1].want, thread);
        atomic_store_explicit(&st->cpu_of[thread], current_cpu(), memory_order_relaxed);
        if (aborted_at(rg, (enum phase_kind)pl->kind, thread)) return;
        struct phase_sync *ps = &st->sync[p];
        for (;;) {
            const int c = atomic_fetch_add_explicit(&ps->next, 1, memory_order_relaxed);
            if (c >= pl->n_chunks) break;
            if (pl->cur) {
                work_steps(rg, pl, ps, c, thread);
            } else {
                run_chunk(rg, pl, c, 0, 0, thread);
                chunk_done(ps, 1, pl->want);
            }
        }
        /* out of chunks: help finish the ones still in progress (their owners may be
         * preempted); with one step per chunk (row-fused) there is nothing to take */
        if (pl->cur && (rg->busy ? pl->busy_step : pl->step) < pl->want)
            for (int c = 0; c < pl->n_chunks; c++) work_steps(rg, pl, ps, c, thread);
    }
}

/* A batch of one image through every phase of the forward region on one worker (a view
 * of the state, images_task): the same bodies as run_chunk on all of its rows, query rows
 * and patches, so no worker waits for another between phases. */
static void image_forward(struct region *rg, int thread) {
    struct deit_state            *st = rg->st;
    const struct deit_model      *m  = st->model;
    const struct deit_model_info *mi = &m->info;
    const int T = mi->num_tokens, N = mi->num_patches, NP = mi->num_prefix_tokens, H = mi->num_heads;
    const int D = mi->hidden_size;
    for (int p = 0; p < rg->n_phases; p++) {
        int                   l;
        const enum phase_kind k      = phase_kind_of(rg, p, &l);
        const bool            pruned = l >= 0 && layer_pruned(st, l);
        const int             TR     = pruned ? NP : T; /* rows after a pruned attention */
        if (aborted_at(rg, k, thread)) return;
        switch (k) {
        case PH_IM2COL:
            im2col_rows(st, 0, N);
            break;
        case PH_POS:
            pos_embed_image(st, 0);
            break;
        case PH_PATCH:
        case PH_QKV:
        case PH_OPROJ:
        case PH_FC1:
        case PH_FC2: {
            struct linear_job lj;
            phase_gemm(rg, k, l, &lj);
            const int R = k == PH_PATCH ? N : k == PH_QKV ? T : TR;
            linear_rows(&lj, 0, R);
            break;
        }
        case PH_LN1:
        case PH_LN2:
        case PH_LNF: {
            if (k == PH_LNF && st->prune_last) {
                final_layernorm_prefix(st, 0, NP);
                break;
            }
            const struct deit_layer_weights *lw = l >= 0 ? &m->w.layers[l] : NULL;
            const bool   cpt = k == PH_LN2 && pruned; /* compact prefix rows of hp */
            st->kn->layernorm(k == PH_LNF ? st->seq : st->a, cpt ? st->hp : st->h,
                              k == PH_LN1 ? lw->ln1_w : k == PH_LN2 ? lw->ln2_w : m->w.ln_f_w,
                              k == PH_LN1 ? lw->ln1_b : k == PH_LN2 ? lw->ln2_b : m->w.ln_f_b, cpt ? NP : T, D,
                              mi->layer_norm_eps);
            if (k == PH_LN1 && pruned) gather_prefix_rows(st, 0, T);
            break;
        }
        case PH_ATTN:
            attention_rows(st, 1, l, 0, H * TR, thread, pruned);
            break;
        case PH_ROWS:
            rows_chunk(st, 1, l, 0, TR);
            break;
        case PH_AROWS:
            attention_rows(st, 1, l, 0, H * T, thread, false);
            rows_chunk(st, 1, l, 0, T);
            break;
        }
    }
}

/* The shared forward region of st's batch (or of a view of its last images) */
static void run_region(struct deit_state *st, struct region *rg) {
    for (int t = 0; t < deit_pool_size(st->pool) * st->kp_slots; t++) st->kp_key[t] = -1;
    for (int p = 0; p < st->n_phases; p++) {
        const struct phase_plan *pl = &st->plan[p];
        for (int c = 0; pl->cur && c < pl->n_chunks; c++)
            atomic_store_explicit(&pl->cur[c], pl->bounds[c], memory_order_relaxed);
        atomic_store_explicit(&st->sync[p].next, 0, memory_order_relaxed);
        atomic_store_explicit(&st->sync[p].done, 0, memory_order_relaxed);
        atomic_store_explicit(&st->sync[p].sleepers, 0, memory_order_relaxed);
    }
    deit_pool_run(st->pool, region_task, rg); /* publishes the resets to the workers */
}

/* v = st with every per-image buffer starting at image b0: the images from b0 on as a
 * batch of their own, compact rows (a pruned last layer's) included */
static void state_view(const struct deit_state *st, int b0, struct deit_state *v) {
    const struct deit_model_info *mi = &st->model->info;
    const size_t T = (size_t)mi->num_tokens, D = (size_t)mi->hidden_size, N = (size_t)mi->num_patches;
    const size_t pix = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    const size_t KK = (size_t)mi->num_channels * mi->patch_size * mi->patch_size, b = (size_t)b0;
    *v = *st;
    v->input += b * pix;
    if (v->mask) v->mask += b * N;
    v->patches += b * N * KK;
    v->h += b * T * D, v->a += b * T * D, v->seq += b * T * D;
    v->q += b * T * D, v->k += b * T * D, v->v += b * T * D, v->ctx += b * T * D;
    if (v->k2) v->k2 += b * T * D, v->v2 += b * T * D;
    v->mlp += b * T * (size_t)st->mlp_ld;
    if (v->hp) v->hp += b * mi->num_prefix_tokens * D;
}

/* Per-image run: workers claim whole images until none is left; each image is a batch of
 * one (state_view) that reads its input slot and writes its final sequence, and works in
 * the activation buffers of slot `thread` (the batch has at least one image per worker):
 * each worker reuses one set, which stays in its core's L2 from image to image (DeiT-tiny:
 * 1.3 MB), and the rows one image reuses (patch embeddings in a, the compact rows of a
 * pruned last layer) never overlap another worker's */
static void images_task(void *ctx, int thread, int n_threads) {
    struct region *rg = ctx;
    (void)n_threads;
    for (;;) {
        const int b = atomic_fetch_add_explicit(&rg->next_image, 1, memory_order_relaxed);
        if (b >= rg->n_images || atomic_load_explicit(&rg->aborted, memory_order_relaxed)) return;
        struct deit_state v, img;
        state_view(rg->st, thread, &v); /* activations: those of slot `thread`, hot in this core's cache */
        state_view(rg->st, b, &img);
        v.input = img.input, v.mask = img.mask, v.seq = img.seq; /* what image b reads and keeps */
        struct region one = { .st = &v, .rp = rg->rp, .B = 1, .n_phases = rg->n_phases, .parent = rg };
        atomic_init(&one.aborted, 0);
        for (int slot = 0; slot < v.kp_slots; slot++) /* a packed K of the previous image has the same key */
            v.kp_key[thread * v.kp_slots + slot] = -1;
        image_forward(&one, thread);
        if (atomic_load(&one.aborted)) atomic_store(&rg->aborted, 1);
    }
}

/* Images [b0, b0 + n) of st through the shared region, with the second plan (tail_*) */
static bool run_tail(struct deit_state *st, int b0, int n, struct region *parent) {
    struct deit_state v;
    state_view(st, b0, &v);
    v.sync = st->tail_sync, v.plan = st->tail_plan, v.plan_bounds = st->tail_bounds, v.plan_cur = st->tail_cur;
    v.plan_batch = st->tail_batch;
    const bool ok = v.plan_batch == n || build_plan(&v, n);
    st->tail_bounds = v.plan_bounds, st->tail_cur = v.plan_cur, st->tail_batch = v.plan_batch;
    if (!ok) return false;
    struct region rg = { .st = &v, .rp = parent->rp, .B = n, .n_phases = v.n_phases, .busy = parent->busy };
    atomic_init(&rg.aborted, 0);
    run_region(&v, &rg);
    if (atomic_load(&rg.aborted)) atomic_store(&parent->aborted, 1);
    return true;
}

/* A batch of at least one image per worker goes by whole images (st->per_image): each
 * worker runs its images alone through every layer, with no phase boundary to wait at;
 * the batch % workers images left over, too few to go round, then share the region like a
 * small batch. Every image is computed by the same kernels on the same rows either way. */
enum deit_status deit_state_run(struct deit_state *st, int batch, const struct deit_run_params *params) {
    if (!st || batch < 1 || batch > st->params.max_batch) return DEIT_STATUS_ERROR_INVALID_ARG;
    if (st->mask && st->model->info.encoder_stride != st->model->info.patch_size)
        for (size_t i = 0; i < (size_t)batch * st->model->info.num_patches; i++)
            if (st->mask[i]) return DEIT_STATUS_ERROR_INVALID_ARG; /* see deit.h */
    const struct deit_run_params rp = params ? *params : deit_run_default_params();
    const int                    nt = deit_pool_size(st->pool);
    st->last_batch = 0;
    struct region rg = { .st = st, .rp = &rp, .B = batch, .n_phases = st->n_phases };
    atomic_init(&rg.aborted, 0);
    const int busy = atomic_load_explicit(&st->busy, memory_order_relaxed);
    rg.busy        = busy > 0 || st->assume_busy;
    if (busy > 0) atomic_store_explicit(&st->busy, busy - 1, memory_order_relaxed);
    if (st->per_image && batch >= nt) {
        const int whole = batch - batch % nt;
        rg.n_images     = whole;
        atomic_init(&rg.next_image, 0);
        deit_pool_run(st->pool, images_task, &rg);
        if (whole < batch && !atomic_load(&rg.aborted) && !run_tail(st, whole, batch - whole, &rg))
            return DEIT_STATUS_ERROR_NO_MEMORY;
    } else {
        if (st->plan_batch != batch && !build_plan(st, batch)) return DEIT_STATUS_ERROR_NO_MEMORY;
        run_region(st, &rg);
    }
    if (atomic_load(&rg.aborted)) return DEIT_STATUS_ABORTED;
    head_forward(st, batch);
    st->last_batch = batch;
    return DEIT_STATUS_OK;
}

const float *deit_state_get_output(const struct deit_state *st, enum deit_output which, int b, size_t *n_elements) {
    if (n_elements) *n_elements = 0;
    if (!st || b < 0 || b >= st->last_batch) return NULL;
    const struct deit_model_info *mi = &st->model->info;
    size_t       n   = 0;
    const float *out = NULL;
    switch (which) {
    case DEIT_OUTPUT_LOGITS:
        if (st->logits) n = (size_t)mi->num_labels, out = st->logits + (size_t)b * n;
        break;
    case DEIT_OUTPUT_LAST_HIDDEN_STATE:
        if (!st->prune_last) n = (size_t)mi->num_tokens * mi->hidden_size, out = st->seq + (size_t)b * n;
        break;
    case DEIT_OUTPUT_POOLER:
        if (st->pooler) n = (size_t)mi->pooler_output_size, out = st->pooler + (size_t)b * n;
        break;
    case DEIT_OUTPUT_RECONSTRUCTION:
        if (st->recon) {
            const size_t r = (size_t)mi->encoder_stride;
            n   = (size_t)mi->num_patches * r * r * mi->num_channels;
            out = st->recon + (size_t)b * n;
        }
        break;
    }
    if (out && n_elements) *n_elements = n;
    return out;
}

/* ---------------------------------------------------------------------------------------
 * Top-k
 */
static int cmp_score_desc(const void *pa, const void *pb) {
    const struct deit_class_score *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->class_id - b->class_id;
}

int deit_top_k_scores(const float *logits, int n, enum deit_score_function fn, int k, float threshold,
                      struct deit_class_score *out) {
    if (!logits || n < 1 || k < 1 || !out || (int)fn < DEIT_SCORE_AUTO || (int)fn > DEIT_SCORE_NONE) return 0;
    /* softmax in double: probabilities as torch.softmax(logits, -1) computes them, without
     * float32 summation error */
    double mx = logits[0], sum = 0.0;
    if (fn == DEIT_SCORE_AUTO || fn == DEIT_SCORE_SOFTMAX) {
        fn = DEIT_SCORE_SOFTMAX;
        for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
        for (int i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
    }
    /* keep the best k in out (insertion into a sorted list: k is small) */
    int count = 0;
    for (int i = 0; i < n; i++) {
        const double x = logits[i];
        /* a non-finite logit is damage (broken weights), never reported, whatever the
         * function: softmax would give -inf a probability of 0 that passes threshold 0 */
        if (!isfinite(x)) continue;
        double s;
        switch (fn) {
        case DEIT_SCORE_SIGMOID: s = 1.0 / (1.0 + exp(-x)); break; /* transformers' pipeline */
        case DEIT_SCORE_NONE: s = x; break;
        default: s = exp(x - mx) / sum; break;
        }
        struct deit_class_score c = { i, (float)s, logits[i] };
        if (!(c.score >= threshold)) continue; /* NaN (+inf elsewhere in softmax) never passes */
        if (count == k && cmp_score_desc(&c, &out[k - 1]) >= 0) continue;
        int pos = count < k ? count++ : k - 1;
        while (pos > 0 && cmp_score_desc(&c, &out[pos - 1]) < 0) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = c;
    }
    return count;
}

int deit_top_k(const float *logits, int n, int k, float threshold, struct deit_class_score *out) {
    return deit_top_k_scores(logits, n, DEIT_SCORE_SOFTMAX, k, threshold, out);
}

const char *deit_score_function_to_string(enum deit_score_function fn) {
    switch (fn) {
    case DEIT_SCORE_AUTO: return "auto";
    case DEIT_SCORE_SOFTMAX: return "softmax";
    case DEIT_SCORE_SIGMOID: return "sigmoid";
    case DEIT_SCORE_NONE: return "none";
    }
    return "?";
}

enum deit_score_function deit_model_score_function(const struct deit_model *model) {
    if (!model || model->info.num_labels < 1) return DEIT_SCORE_NONE;
    /* transformers ImageClassificationPipeline.postprocess, function_to_apply unset */
    if (model->info.problem_type == DEIT_PROBLEM_MULTI_LABEL || model->info.num_labels == 1)
        return DEIT_SCORE_SIGMOID;
    return DEIT_SCORE_SOFTMAX;
}

int deit_state_top_k(const struct deit_state *st, int b, int k, float threshold, struct deit_class_score *out) {
    size_t       n      = 0;
    const float *logits = deit_state_get_output(st, DEIT_OUTPUT_LOGITS, b, &n);
    if (!logits) return 0;
    return deit_top_k_scores(logits, (int)n, deit_model_score_function(st->model), k, threshold, out);
}
