/* deit-internal.h - structures shared by the core's translation units. Not installed.
 *
 * Dimension legend used across core/:
 *   B  images in a batch          T  tokens per image (N patches + 1 or 2 prefix tokens)
 *   D  hidden_size                H  attention heads        HD head size (D / H)
 *   I  intermediate_size          K  num_labels             P  patch_size
 *   C  num_channels               N  patches
 */
#ifndef DEIT_INTERNAL_H
#define DEIT_INTERNAL_H

#include "deit.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---- logging (deit-log.c) ---------------------------------------------------------- */
void deit_log_message(enum deit_log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool deit_log_enabled(void);

#define DEIT_LOG_ERROR(...) deit_log_message(DEIT_LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define DEIT_LOG_WARN(...)  deit_log_message(DEIT_LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define DEIT_LOG_INFO(...)  deit_log_message(DEIT_LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define DEIT_LOG_DEBUG(...) deit_log_message(DEIT_LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)

/* Fill err (may be NULL) with status and a printf-style message; also logs it at ERROR,
 * after the name of the calling function. Returns status so callers can
 * `return deit_set_error(err, ...)`. */
enum deit_status deit_set_error_in(const char *func, struct deit_error *err, enum deit_status status, const char *fmt,
                                   ...) __attribute__((format(printf, 4, 5)));
#define deit_set_error(err, status, ...) deit_set_error_in(__func__, err, status, __VA_ARGS__)
/* deit_errors_quiet(true) ... deit_errors_quiet(false): errors this thread fills in
 * between are logged at DEBUG, not ERROR (an error kept for later, which is not a
 * failure of the call at hand). Nests. */
void deit_errors_quiet(bool quiet);

/* ---- errors (deit-io.c) ------------------------------------------------------------ */
void deit_error_clear(struct deit_error *err);                        /* OK, empty message; err may be NULL */
void deit_error_prefix(struct deit_error *err, const char *prefix);   /* "prefix: message" when failed */
/* "[d0, d1, ...]" into buf (always terminated) */
void deit_format_shape(char *buf, size_t n, const int64_t *shape, int n_dims);

/* Whether environment variable name is set to something other than "" or "0" (the
 * experiment switches: DEIT_NO_PACKED_WEIGHTS, DEIT_DISABLE_AVX2, ...) */
static inline bool deit_env_flag(const char *name) {
    const char *e = getenv(name);
    return e && *e && *e != '0';
}

/* Spin-wait hint for busy loops (pause / yield). */
static inline void deit_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ---- thread pool (deit-threads.c) --------------------------------------------------- */
/* A persistent pool of n workers; the calling thread is worker 0. deit_pool_run() calls
 * fn(ctx, i, n) on every worker i in [0, n) and returns when all have returned. */
struct deit_pool;
typedef void (*deit_pool_fn)(void *ctx, int thread_index, int n_threads);
/* spin_us: how long a waiting worker spins before it sleeps; < 0 = the default (50 us, or
 * DEIT_SPIN_US). affinity: AUTO and PIN pin the workers one per CPU (worker 0 a thread of
 * its own, the caller waits) when they are exactly as many as the CPUs of the caller's
 * affinity mask; NONE never. NULL on failure. */
struct deit_pool *deit_pool_new(int n_threads, int spin_us, enum deit_affinity affinity);
void deit_pool_free(struct deit_pool *pool);
int  deit_pool_size(const struct deit_pool *pool);
void deit_pool_run(struct deit_pool *pool, deit_pool_fn fn, void *ctx);
/* CLOCK_MONOTONIC in nanoseconds (spin budgets, long waits) */
long long deit_now_ns(void);
/* [begin, end) share of `total` items for worker i of n, in chunks of `align` items. */
void deit_pool_split(int total, int align, int i, int n, int *begin, int *end);
/* Make OpenBLAS single-threaded (we own parallelism). Idempotent. */
void deit_blas_single_thread(void);

/* ---- configs (deit-config.c) -------------------------------------------------------- */
/* config.json as parsed, before the weights are seen. */
struct deit_parsed_config {
    struct deit_model_info info;
    char **labels;        /* NULL-terminated; the config's labels even for base models */
    int    n_labels;
    char  *name;
    bool   arch_explicit; /* architectures[0] given (else chosen from model_type + weights) */
    bool   vit_type;      /* model_type "vit" (or a ViT architecture without model_type) */
};
enum deit_status deit_parsed_config_parse(const char *json, size_t len, struct deit_parsed_config *pc,
                                          struct deit_error *err);
/* The checks that depend on the architecture (classifier labels, masked image modeling's
 * square image and encoder_stride), for an architecture set after parsing */
enum deit_status deit_config_check_arch(const struct deit_model_info *info, struct deit_error *err);
void deit_parsed_config_clear(struct deit_parsed_config *pc);

/* Range checks of a processor config (sizes, resample code, finite mean/std). */
enum deit_status deit_preprocess_config_check(const struct deit_preprocess_config *c, struct deit_error *err);
/* Size of the tensor the processor produces; BAD_CONFIG when it would depend on the input. */
enum deit_status deit_preprocess_config_output_size(const struct deit_preprocess_config *c, int *out_height,
                                                    int *out_width, struct deit_error *err);

/* ---- preprocessing (deit-preprocess.c) ---------------------------------------------- */
/* Preprocessor using an existing pool (owned by a state); the pool must outlive it. */
struct deit_preprocessor *deit_preprocessor_new_with_pool(const struct deit_preprocess_config *config,
                                                          struct deit_pool *pool, struct deit_error *err);
/* deit_preprocess() that also reports the failure's message in err (may be NULL). */
enum deit_status deit_preprocess_into(struct deit_preprocessor *pp, const struct deit_image *image,
                                      const struct deit_rect *roi, float *out, struct deit_error *err);

/* ---- model (deit-model.c) ----------------------------------------------------------- */
struct deit_layer_weights {
    const float *ln1_w, *ln1_b;  /* layernorm_before.{weight,bias}            (D) */
    const float *q_w, *q_b;      /* attention.attention.query.{weight,bias}   (D, D), (D); bias NULL if !qkv_bias */
    const float *k_w, *k_b;      /* attention.attention.key.{weight,bias}     (D, D), (D) */
    const float *v_w, *v_b;      /* attention.attention.value.{weight,bias}   (D, D), (D) */
    const float *o_w, *o_b;      /* attention.output.dense.{weight,bias}      (D, D), (D) */
    const float *ln2_w, *ln2_b;  /* layernorm_after.{weight,bias}             (D) */
    const float *fc1_w, *fc1_b;  /* intermediate.dense.{weight,bias}          (I, D), (I) */
    const float *fc2_w, *fc2_b;  /* output.dense.{weight,bias}                (D, I), (D) */
};

struct deit_weights {
    const float *cls_token;      /* embeddings.cls_token                      (1, 1, D) */
    const float *dist_token;     /* embeddings.distillation_token             (1, 1, D)  DeiT only */
    const float *mask_token;     /* embeddings.mask_token                     (1, 1, D)  MIM only */
    const float *pos_embed;      /* embeddings.position_embeddings            (1, T, D) */
    const float *patch_w;        /* embeddings.patch_embeddings.projection.weight (D, C, P, P) */
    const float *patch_b;        /* embeddings.patch_embeddings.projection.bias   (D) */
    struct deit_layer_weights *layers; /* encoder.layer.{i}.*                 [L] */
    const float *ln_f_w, *ln_f_b;      /* layernorm.{weight,bias}             (D) */
    const float *pooler_w, *pooler_b;  /* pooler.dense.{weight,bias}          (Dp, D), (Dp) */
    const float *head_w, *head_b;      /* classifier / cls_classifier         (K, D), (K) */
    const float *head_dist_w, *head_dist_b; /* distillation_classifier        (K, D), (K) */
    const float *decoder_w, *decoder_b;     /* decoder.0.{weight,bias}  (stride^2*C, D, 1, 1), (stride^2*C) */
};

struct deit_model {
    struct deit_model_info        info;
    struct deit_preprocess_config preprocess;
    /* NULL, or the processor whose defaults preprocess holds: no preprocessor config
     * was given ("DeiTImageProcessor" / "ViTImageProcessor") */
    const char *preprocess_default;
    char   *name;
    char  **labels;              /* [num_labels]: id2label, or "LABEL_<id>" where absent */
    struct deit_weights w;

    /* storage behind the weight pointers */
    void   *map;                 /* mmap of the weight file, or NULL */
    size_t  map_size;
    void   *owned;               /* 64-byte aligned buffer of converted/copied tensors */
    size_t  owned_size;

    /* the encoder's linear weights (patch, q, k, v, o, fc1, fc2) were rearranged in place
     * into 16-column panels by deit_model_load() (deit_model_pack_weights) */
    bool    gemm_packed;
};

/* Parse config.json into info (no weights). Exposed for tests. labels (may be NULL)
 * receives a NULL-terminated array (g_strfreev) of the config's id2label entries, also for
 * base / MIM models whose info.num_labels is 0; name (may be NULL) gets _name_or_path or
 * NULL (g_free). Both stay NULL on failure. Without "architectures", info.arch is the bare
 * model of model_type's family (deit_model_load then picks the head from the weights). */
enum deit_status deit_config_parse(const char *json, size_t len, struct deit_model_info *info,
                                   char ***labels, char **name, struct deit_error *err);

/* ---- weight files (deit-io.c, deit-safetensors.c, deit-torchbin.c) ----------------- */
/* A weight file's bytes: mmap of a file, a heap copy of it, or caller memory. */
struct deit_blob {
    const uint8_t *data;
    size_t         size;
    void          *map;          /* munmap(map, size) on close, or NULL */
    void          *heap;         /* free(heap) on close, or NULL */
};
/* use_mmap: map the file, unless DEIT_NO_MMAP=1 is in the environment or the file is on a
 * network / cluster / FUSE file system (deit_fs_remote_name), where it is read instead. */
enum deit_status deit_blob_open(struct deit_blob *blob, const char *path, bool use_mmap, struct deit_error *err);
/* Name of a statfs() f_type whose files may change under a mapping from elsewhere (nfs,
 * cifs, fuse, 9p, ...), or NULL for a local file system. */
const char *deit_fs_remote_name(unsigned long f_type);
void deit_blob_from_memory(struct deit_blob *blob, const void *data, size_t size);
void deit_blob_close(struct deit_blob *blob);

enum deit_dtype {
    DEIT_DTYPE_F32 = 0,
    DEIT_DTYPE_F16,
    DEIT_DTYPE_BF16,
    DEIT_DTYPE_OTHER,            /* present in the file but not usable as a weight */
};

#define DEIT_MAX_DIMS 8
/* One tensor of a weight file; data/n_bytes lie within the file (checked by the parser). */
struct deit_tensor {
    char           *name;
    enum deit_dtype dtype;
    char            dtype_name[32];   /* as the file names it, e.g. "I64", "LongStorage" */
    int             n_dims;
    int64_t         shape[DEIT_MAX_DIMS];
    const uint8_t  *data;
    size_t          n_bytes;          /* numel * element size */
};

struct deit_tensor_file {
    const char         *format;       /* "safetensors" or "pytorch_model.bin" */
    struct deit_tensor *tensors;
    size_t              n_tensors;
    void               *index;        /* name -> tensor (GHashTable) */
};
/* Parse a weight file held in memory. source names it in messages. On failure the file
 * is left empty (deit_tensor_file_free() is still safe). */
enum deit_status deit_safetensors_parse(struct deit_tensor_file *tf, const uint8_t *data, size_t size,
                                        const char *source, struct deit_error *err);
enum deit_status deit_torchbin_parse(struct deit_tensor_file *tf, const uint8_t *data, size_t size,
                                     const char *source, struct deit_error *err);
const struct deit_tensor *deit_tensor_file_find(const struct deit_tensor_file *tf, const char *name);
void deit_tensor_file_free(struct deit_tensor_file *tf);
/* internal: add a tensor (takes ownership of name) and build the index */
struct deit_tensor *deit_tensor_file_add(struct deit_tensor_file *tf, char *name);
float deit_fp16_to_fp32(uint16_t h);
float deit_bf16_to_fp32(uint16_t h);

/* Rearrange the encoder's linear weights into 16-column panels, in place, when the plan
 * picks our kernels (deit-forward.c); called by deit_model_load() before it returns. */
void deit_model_pack_weights(struct deit_model *m);

/* ---- forward pass (deit-forward.c, deit-layers.c) ------------------------------------ */
/* Kernels; each has a naive reference (suffix _ref) used by tests.
 * Linear: out (M, N) = inp (M, K) . w^T (w is (N, K), torch layout) + bias (N) */
void linear_forward(float *out, const float *inp, const float *w, const float *bias, int M, int K, int N);
void linear_forward_strided(float *out, int ldo, const float *inp, int ldi, const float *w, const float *bias,
                            int M, int K, int N);
void linear_forward_ref(float *out, const float *inp, const float *w, const float *bias, int M, int K, int N);
void layernorm_forward(float *out, const float *inp, const float *w, const float *b, int M, int D, float eps);
void layernorm_forward_ref(float *out, const float *inp, const float *w, const float *b, int M, int D, float eps);
void gelu_forward(float *x, size_t n, enum deit_act act);
void gelu_forward_ref(float *x, size_t n, enum deit_act act);

/* One instruction set's kernels (deit-layers.c); a state holds the set it runs. The
 * register-tile GEMMs come from one source (deit-tiles.h) compiled per set. */
struct deit_kernels {
    enum deit_isa isa;
    /* Columns [n0, n1) (multiples of 16) of out (M, ldo) (+)= inp (M, K) . W^T + bias, W
     * packed into 16-column panels by linear_pack_weights */
    void (*linear_packed)(float *out, int ldo, const float *inp, int ldi, const float *wp, const float *bias, int M,
                          int K, int n0, int n1, bool accumulate);
    /* the same, no residual, with GELU (erf form) on each output tile right after it is
     * stored: the same bits as linear_packed followed by gelu(DEIT_ACT_GELU) */
    void (*linear_packed_gelu)(float *out, int ldo, const float *inp, int ldi, const float *wp, const float *bias,
                               int M, int K, int n0, int n1);
    /* Eager attention of query rows [r0, r1) of one head with K packed by pack_k (kp);
     * scores holds (r1 - r0) * round_up(T, 16) floats; HD a multiple of 16 */
    void (*attention_packed)(float *ctx, const float *q, const float *kp, const float *v, float *scores, int r0,
                             int r1, int T, int HD, int ld, float scale);
    /* kp[jb][d][l] = k[(jb*16 + l) * ld + d], zero past T */
    void (*pack_k)(float *kp, const float *k, int T, int HD, int ld);
    void (*layernorm)(float *out, const float *inp, const float *w, const float *b, int M, int D, float eps);
    void (*gelu)(float *x, size_t n, enum deit_act act);
    void (*softmax_row)(float *r, int n);
    float (*row_max)(const float *r, int n, float m);      /* max(m, r[0..n)) */
    float (*exp_sub_sum)(float *r, int n, float m);        /* r = exp(r - m) in place; returns the sum */
};
/* The set of isa (AUTO: deit_isa_best()); the portable set for one the CPU lacks. */
const struct deit_kernels *deit_kernels_for(enum deit_isa isa);

/* Softmax of each row of x (M, N) in place; kn NULL = the best set */
void softmax_rows(const struct deit_kernels *kn, float *x, int M, int N, int ld);
/* true when deit_isa_best() is AVX2 or better (the preprocessing's resampler asks) */
bool deit_cpu_has_avx2(void);
/* Attention of query rows [r0, r1) of one head; q/k/v/ctx point at the head's first column
 * of (T, ld) matrices. OpenBLAS GEMMs with kn's softmax. */
void attention_head_eager(const struct deit_kernels *kn, float *ctx, const float *q, const float *k, const float *v,
                          float *scores, int r0, int r1, int T, int HD, int ld, float scale);
void attention_head_fused(const struct deit_kernels *kn, float *ctx, const float *q, const float *k, const float *v,
                          float *scratch, int r0, int r1, int T, int HD, int ld, float scale, int KT);
/* Packed kernels need dimensions that are multiples of the 16-column panel */
static inline bool linear_packed_supported(int N) { return N % 16 == 0; }
static inline bool attention_packed_supported(int HD) { return HD % 16 == 0; }
void linear_pack_weights(float *w, int N, int K, float *tmp);
int  attention_packed_k_floats(int T, int HD);
/* The best set's kernels (see struct deit_kernels) */
void linear_forward_packed(float *out, int ldo, const float *inp, int ldi, const float *wp, const float *bias, int M,
                           int K, int n0, int n1, bool accumulate);
void attention_pack_k(float *kp, const float *k, int T, int HD, int ld);
void attention_head_packed(float *ctx, const float *q, const float *kp, const float *v, float *scores, int r0, int r1,
                           int T, int HD, int ld, float scale);
void attention_head_ref(float *ctx, const float *q, const float *k, const float *v, int T, int HD, int ld,
                        float scale);

#endif /* DEIT_INTERNAL_H */
