/* deit-bench.c - time the core's forward pass: ms per image, GFLOP/s, peak RSS, load time.
 *
 *   deit-bench --config tiny|small|base|base-384 [--distilled|--no-distilled]
 *              [--batch N] [--threads N] [--attention auto|eager|fused]
 *              [--warmup N] [--iters N] [--in-memory] [--save DIR]
 *   deit-bench --model DIR [same run options] [--input FILE.f32] [--output FILE.f32]
 *
 * --config builds random weights of a named architecture (DeiT-tiny/small/base,
 * DeiTForImageClassificationWithTeacher with --distilled (default), ViTForImageClassification
 * with --no-distilled, 1000 labels) as a real safetensors file plus a config.json, written
 * to a temporary directory (or --save DIR, kept) and loaded with deit_model_load(), so the
 * load time is that of a checkpoint directory with a warm page cache (the file was just
 * written). --in-memory instead keeps the safetensors bytes in a heap buffer and loads them
 * with deit_model_load_from_memory() (no load-time figure for a directory then).
 *
 * Timing: --warmup runs, then --iters runs of deit_state_run(batch); each run's wall time
 * divided by the batch is one sample of "ms per image"; median and min are printed.
 * Pixel values are a fixed pseudo-random pattern in [-1, 1] (what normalisation yields),
 * or --input FILE: raw little-endian float32 [batch, C, H, W] (used by bench-peers.sh to
 * check that ours, PyTorch and ONNX Runtime agree on the same weights and input);
 * --output FILE writes the logits of the last run as raw float32 [batch, num_labels].
 *
 * --serve (lockstep with a peer runtime, bench-peers.py --lockstep): after loading and the
 * --warmup runs it prints {"ready":true}, then answers each stdin line "W N" with W untimed
 * and N timed runs and a line {"samples":[ms per image, ...]}; at end of input the report
 * below covers the timed runs of every burst (--iters is not used).
 *
 * FLOPs per image (multiply-adds x 2), with N patches, T tokens, D hidden, I intermediate,
 * L layers, K labels, C*P*P patch pixels, NH heads (1 or 2 for the distilled teacher):
 *   patch embedding      N * (C*P*P) * D
 *   per layer  q, k, v   3 * T * D * D
 *              scores    T * T * D          (all heads: H * T * T * HD)
 *              context   T * T * D
 *              out proj  T * D * D
 *              mlp       2 * T * D * I
 *   heads                NH * D * K
 * A classifier's last layer (unless --full-hidden-state) runs scores, context, out proj
 * and mlp, and the queries of q, k, v, for its NP prefix tokens only
 * (deit_state_params.full_hidden_state): there T becomes NP in those terms (one third of
 * the q, k, v term). That executed count gives GFLOP/s; "gflop_model" in the
 * JSON is the full count, the work the same model costs in a runtime that computes every
 * token (ONNX Runtime, PyTorch).
 *   GFLOP/s = 2 * multiply-adds / (median seconds per image) / 1e9.
 * LayerNorm, softmax, GELU and bias adds are not counted (O(T*D) each, < 1 %).
 *
 * Peak RSS is getrusage(RUSAGE_SELF).ru_maxrss: mapped weight pages that were touched
 * count, so this is weights + activations + code. The last output line is a JSON object:
 *   {"config":..,"distilled":..,"batch":..,"threads":..,"attention":..,"median_ms":..,
 *    "min_ms":..,"gflops":..,"peak_rss_mb":..,"load_ms":..,"weight_mb":..,...}
 */
#include "deit.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* OpenBLAS (for the --blas-threads experiment) */
void openblas_set_num_threads(int num_threads);

/* ---------------------------------------------------------------------------------------
 * Configurations (transformers' facebook/deit-*-patch16-* config.json values)
 */
struct bench_config {
    const char *name;
    int         hidden, layers, heads, inter, image, patch;
};

static const struct bench_config CONFIGS[] = {
    { "tiny", 192, 12, 3, 768, 224, 16 },
    { "small", 384, 12, 6, 1536, 224, 16 },
    { "base", 768, 12, 12, 3072, 224, 16 },
    { "base-384", 768, 12, 12, 3072, 384, 16 },
};

#define NUM_LABELS 1000


static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* current resident set from /proc/self/status (the baseline before the model exists) */
static double current_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char  line[256];
    double mb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) mb = atof(line + 6) / 1024.0;
    if (f) fclose(f);
    return mb;
}

/* bytes of the state's activation buffers for one batch, as deit_state_init allocates
 * them: input, im2col patches, 7 (B*T, D) buffers (h, a, q, k, v, ctx, seq), the (B*T, I)
 * MLP buffer, logits; per-worker attention scratch is bounded by 256 KB + packed K */
static double activation_mb(const struct deit_model_info *mi, int batch, int threads) {
    const double B = batch, T = mi->num_tokens, D = mi->hidden_size, I = mi->intermediate_size;
    const double pix = (double)mi->num_channels * mi->image_height * mi->image_width;
    const double patches = (double)mi->num_patches * mi->num_channels * mi->patch_size * mi->patch_size;
    double floats = B * (pix + patches + 7 * T * D + T * I + 2.0 * mi->num_labels);
    floats += threads * (64.0 * 1024 + ((mi->num_tokens + 15) / 16 * 16.0) * mi->head_dim);
    return floats * 4 / (1024.0 * 1024.0);
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* xorshift64*: deterministic weights and inputs without libc rand state */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float rng_uniform(void) { /* [-1, 1) */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545F4914F6CDD1Dull;
    return (float)((r >> 40) * (1.0 / (1 << 23)) - 1.0);
}

/* ---------------------------------------------------------------------------------------
 * A safetensors writer for random weights. Tensors are listed first (name, shape, fill),
 * then the header is built and the data streamed to a FILE or a heap buffer.
 */
enum fill { FILL_RANDOM, FILL_ONE_PLUS, FILL_SMALL };

struct tensor_spec {
    char      name[128];
    int       n_dims;
    long long shape[4];
    enum fill fill;
    size_t    numel;
};

struct tensor_list {
    struct tensor_spec *t;
    int                 n, cap;
};

/* name: "<prefix>.<suffix>", "<prefix>.encoder.layer.<layer>.<suffix>" (layer >= 0), or
 * "<suffix>" (empty prefix) */
static void add_tensor(struct tensor_list *tl, enum fill fill, int n_dims, const long long *shape, const char *prefix,
                       int layer, const char *suffix) {
    if (tl->n == tl->cap) {
        tl->cap = tl->cap ? 2 * tl->cap : 64;
        tl->t   = realloc(tl->t, (size_t)tl->cap * sizeof *tl->t);
        if (!tl->t) {
            fprintf(stderr, "deit-bench: out of memory\n");
            exit(1);
        }
    }
    struct tensor_spec *s = &tl->t[tl->n++];
    memset(s, 0, sizeof *s);
    if (layer >= 0)
        snprintf(s->name, sizeof s->name, "%s.encoder.layer.%d.%s", prefix, layer, suffix);
    else
        snprintf(s->name, sizeof s->name, "%s%s%s", prefix, *prefix ? "." : "", suffix);
    s->n_dims = n_dims;
    s->numel  = 1;
    for (int i = 0; i < n_dims; i++) {
        s->shape[i] = shape[i];
        s->numel *= (size_t)shape[i];
    }
    s->fill = fill;
}

#define SHAPE(...) ((const long long[]){ __VA_ARGS__ })

static void build_tensor_list(struct tensor_list *tl, const struct bench_config *c, bool distilled) {
    const long long D = c->hidden, I = c->inter, P = c->patch, G = c->image / c->patch;
    const long long T = G * G + (distilled ? 2 : 1);
    const char     *pre = distilled ? "deit" : "vit";
    add_tensor(tl, FILL_RANDOM, 3, SHAPE(1, 1, D), pre, -1, "embeddings.cls_token");
    if (distilled) add_tensor(tl, FILL_RANDOM, 3, SHAPE(1, 1, D), pre, -1, "embeddings.distillation_token");
    add_tensor(tl, FILL_RANDOM, 3, SHAPE(1, T, D), pre, -1, "embeddings.position_embeddings");
    add_tensor(tl, FILL_RANDOM, 4, SHAPE(D, 3, P, P), pre, -1, "embeddings.patch_embeddings.projection.weight");
    add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, -1, "embeddings.patch_embeddings.projection.bias");
    for (int l = 0; l < c->layers; l++) {
        add_tensor(tl, FILL_ONE_PLUS, 1, SHAPE(D), pre, l, "layernorm_before.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "layernorm_before.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(D, D), pre, l, "attention.attention.query.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "attention.attention.query.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(D, D), pre, l, "attention.attention.key.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "attention.attention.key.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(D, D), pre, l, "attention.attention.value.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "attention.attention.value.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(D, D), pre, l, "attention.output.dense.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "attention.output.dense.bias");
        add_tensor(tl, FILL_ONE_PLUS, 1, SHAPE(D), pre, l, "layernorm_after.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "layernorm_after.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(I, D), pre, l, "intermediate.dense.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(I), pre, l, "intermediate.dense.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(D, I), pre, l, "output.dense.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, l, "output.dense.bias");
    }
    add_tensor(tl, FILL_ONE_PLUS, 1, SHAPE(D), pre, -1, "layernorm.weight");
    add_tensor(tl, FILL_SMALL, 1, SHAPE(D), pre, -1, "layernorm.bias");
    if (distilled) {
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(NUM_LABELS, D), "", -1, "cls_classifier.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(NUM_LABELS), "", -1, "cls_classifier.bias");
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(NUM_LABELS, D), "", -1, "distillation_classifier.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(NUM_LABELS), "", -1, "distillation_classifier.bias");
    } else {
        add_tensor(tl, FILL_RANDOM, 2, SHAPE(NUM_LABELS, D), "", -1, "classifier.weight");
        add_tensor(tl, FILL_SMALL, 1, SHAPE(NUM_LABELS), "", -1, "classifier.bias");
    }
}

/* JSON header of the safetensors file, padded so the data starts 8-byte aligned (64 here,
 * like a cache line: the loader uses aligned F32 tensors in place). */
static char *build_header(const struct tensor_list *tl, size_t *header_len, size_t *data_len) {
    size_t cap = 256 + (size_t)tl->n * 256, len = 0, off = 0;
    char  *h   = malloc(cap);
    if (!h) return NULL;
    len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < tl->n; i++) {
        const struct tensor_spec *s = &tl->t[i];
        len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", s->name);
        for (int d = 0; d < s->n_dims; d++)
            len += (size_t)snprintf(h + len, cap - len, "%s%lld", d ? "," : "", s->shape[d]);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off, off + s->numel * 4);
        off += s->numel * 4;
    }
    h[len++] = '}';
    while ((8 + len) % 64) h[len++] = ' ';
    *header_len = len;
    *data_len   = off;
    return h;
}

static void fill_tensor(float *dst, const struct tensor_spec *s, float scale) {
    for (size_t i = 0; i < s->numel; i++) {
        const float u = rng_uniform();
        dst[i]        = s->fill == FILL_RANDOM ? scale * u : s->fill == FILL_ONE_PLUS ? 1.0f + 0.1f * u : 0.02f * u;
    }
}

/* Writes the file to f, or to a heap buffer *out (when f is NULL). */
static int write_safetensors(const struct tensor_list *tl, FILE *f, uint8_t **out, size_t *out_len) {
    size_t hl = 0, dl = 0;
    char  *h  = build_header(tl, &hl, &dl);
    if (!h) return -1;
    uint8_t *buf = NULL, *p = NULL;
    if (!f) {
        buf = malloc(8 + hl + dl);
        if (!buf) {
            free(h);
            return -1;
        }
        p = buf;
    }
    uint8_t lenbytes[8];
    for (int i = 0; i < 8; i++) lenbytes[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    if (f) {
        fwrite(lenbytes, 1, 8, f);
        fwrite(h, 1, hl, f);
    } else {
        memcpy(p, lenbytes, 8);
        memcpy(p + 8, h, hl);
        p += 8 + hl;
    }
    free(h);
    float *tmp = NULL;
    size_t tmp_cap = 0;
    rng_state      = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < tl->n; i++) {
        const struct tensor_spec *s = &tl->t[i];
        /* weights ~ U(-a, a) with std 0.02 (initializer_range) on 768-wide rows: keeps
         * activations in a realistic range through 12 layers */
        const float scale = 0.02f * 1.7320508f;
        if (f) {
            if (s->numel > tmp_cap) {
                free(tmp);
                tmp_cap = s->numel;
                tmp     = malloc(tmp_cap * sizeof(float));
                if (!tmp) return -1;
            }
            fill_tensor(tmp, s, scale);
            if (fwrite(tmp, sizeof(float), s->numel, f) != s->numel) {
                free(tmp);
                return -1;
            }
        } else {
            fill_tensor((float *)p, s, scale);
            p += s->numel * 4;
        }
    }
    free(tmp);
    if (out) *out = buf;
    if (out_len) *out_len = 8 + hl + dl;
    return 0;
}

static char *build_config_json(const struct bench_config *c, bool distilled) {
    size_t cap = 64 * 1024 + NUM_LABELS * 32, len = 0;
    char  *j   = malloc(cap);
    if (!j) return NULL;
    len += (size_t)snprintf(j + len, cap - len,
                            "{\"_name_or_path\":\"deit-bench/%s%s\",\"architectures\":[\"%s\"],"
                            "\"model_type\":\"%s\",\"hidden_size\":%d,\"num_hidden_layers\":%d,"
                            "\"num_attention_heads\":%d,\"intermediate_size\":%d,\"hidden_act\":\"gelu\","
                            "\"hidden_dropout_prob\":0.0,\"attention_probs_dropout_prob\":0.0,"
                            "\"initializer_range\":0.02,\"layer_norm_eps\":1e-12,\"image_size\":%d,"
                            "\"patch_size\":%d,\"num_channels\":3,\"qkv_bias\":true,\"encoder_stride\":16,"
                            "\"torch_dtype\":\"float32\",\"id2label\":{",
                            c->name, distilled ? "-distilled" : "",
                            distilled ? "DeiTForImageClassificationWithTeacher" : "ViTForImageClassification",
                            distilled ? "deit" : "vit", c->hidden, c->layers, c->heads, c->inter, c->image, c->patch);
    for (int i = 0; i < NUM_LABELS; i++)
        len += (size_t)snprintf(j + len, cap - len, "%s\"%d\":\"class_%d\"", i ? "," : "", i, i);
    len += (size_t)snprintf(j + len, cap - len, "},\"label2id\":{");
    for (int i = 0; i < NUM_LABELS; i++)
        len += (size_t)snprintf(j + len, cap - len, "%s\"class_%d\":%d", i ? "," : "", i, i);
    snprintf(j + len, cap - len, "}}\n");
    return j;
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* ---------------------------------------------------------------------------------------
 * FLOP count, see the header comment.
 */
static double flops_per_image(const struct deit_model_info *mi, bool pruned) {
    const double N = mi->num_patches, T = mi->num_tokens, D = mi->hidden_size, I = mi->intermediate_size;
    const double KK = (double)mi->num_channels * mi->patch_size * mi->patch_size;
    const double NH = mi->arch == DEIT_ARCH_DEIT_WITH_TEACHER ? 2 : 1;
    const double TQ = pruned ? mi->num_prefix_tokens : T; /* query rows of the last layer */
    double       macs = N * KK * D;
    macs += (mi->num_layers - 1) * (3 * T * D * D + 2 * T * T * D + T * D * D + 2 * T * D * I);
    macs += (TQ + 2 * T) * D * D + 2 * TQ * T * D + TQ * D * D + 2 * TQ * D * I; /* queries: TQ rows */
    macs += NH * D * mi->num_labels;
    return 2.0 * macs;
}

/* n runs of a batch; with out, each run's ms per image goes there */
static int run_timed(struct deit_state *st, int batch, int n, double *out) {
    for (int i = 0; i < n; i++) {
        const double           t0 = now_ms();
        const enum deit_status s  = deit_state_run(st, batch, NULL);
        const double           dt = now_ms() - t0;
        if (s != DEIT_STATUS_OK) {
            fprintf(stderr, "deit-bench: run failed: %s\n", deit_status_to_string(s));
            return -1;
        }
        if (out) out[i] = dt / batch;
    }
    return 0;
}

/* "[v0,v1,...]" (4 decimals): the samples of the JSON lines */
static void print_samples(const double *v, int n) {
    putchar('[');
    for (int i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", v[i]);
    putchar(']');
}

/* ---------------------------------------------------------------------------------------
 */
/* Names of the values of the state parameters, in enum order (for --flags and the JSON) */
static const char *const SCHEDULES[3]    = { "auto", "phases", "rows" };    /* enum deit_schedule */
static const char *const BATCH_SPLITS[3] = { "auto", "shared", "images" };  /* enum deit_batch_split */
static const char *const AFFINITIES[3]   = { "auto", "none", "pin" };       /* enum deit_affinity */

/* The index of value among names, or -1 after saying what flag accepts */
static int parse_choice(const char *flag, const char *value, const char *const names[3]) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(value, names[i])) return i;
    fprintf(stderr, "deit-bench: %s must be %s, %s or %s\n", flag, names[0], names[1], names[2]);
    return -1;
}

static void usage(void) {
    fprintf(stderr,
            "usage: deit-bench (--config tiny|small|base|base-384 [--distilled|--no-distilled] | --model DIR)\n"
            "                  [--batch N] [--threads N] [--attention auto|eager|fused] [--warmup N] [--iters N]\n"
            "                  [--in-memory] [--save DIR] [--input FILE.f32] [--output FILE.f32] [--load-iters N]\n"
            "                  [--blas-threads N]  (experiment: OpenBLAS's own threads for the GEMMs)\n"
            "                  [--no-packed-weights]  (deit_model_params.packed_weights false: OpenBLAS GEMMs on\n"
            "                                          the weights as stored)\n"
            "                  [--isa auto|portable|avx2|avx512]  (deit_state_params.isa; default auto = %s here)\n"
            "                  [--schedule auto|phases|rows]  (deit_state_params.schedule: layer schedule)\n"
            "                  [--spin-us N]  (deit_state_params.spin_us: spin before sleeping, default 50)\n"
            "                  [--affinity auto|none|pin]  (deit_state_params.affinity: workers one per CPU)\n"
            "                  [--batch-split auto|shared|images]  (deit_state_params.batch_split: whole images\n"
            "                                          per worker or every image shared)\n"
            "                  [--full-hidden-state]  (classifiers: compute every token of the last layer)\n"
            "                  [--serve]  (lockstep with another runtime: bursts on request, see bench-peers.py)\n"
            "Environment defaults (experiments): DEIT_ISA, DEIT_DISABLE_AVX2, DEIT_FUSE_ROWS, DEIT_SPIN_US,\n"
            "DEIT_NO_PACKED_WEIGHTS, DEIT_BATCH_SPLIT, DEIT_AFFINITY, DEIT_MERGE_ATTN=0 (row-fused layers keep\n"
            "attention in a phase of its own).\n",
            deit_isa_to_string(deit_isa_best()));
}

static void log_cb(enum deit_log_level level, const char *message, void *user_data) {
    if (level <= DEIT_LOG_LEVEL_WARN) fprintf(stderr, "deit: %s\n", message);
}

int main(int argc, char **argv) {
    const char *config_name = NULL, *model_dir = NULL, *save_dir = NULL, *input_path = NULL, *output_path = NULL;
    const char *attention = "auto", *isa_name = "auto", *schedule_name = NULL, *split_name = NULL, *affinity_name = NULL;
    int         spin_us   = -2;
    bool        distilled = true, in_memory = false, no_packed = false, full_hidden = false, serve = false;
    int         batch = 1, threads = 0, warmup = 3, iters = 20, load_iters = 5, blas_threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), exit(2), ""))
        if (!strcmp(a, "--config")) config_name = NEXT();
        else if (!strcmp(a, "--model")) model_dir = NEXT();
        else if (!strcmp(a, "--distilled")) distilled = true;
        else if (!strcmp(a, "--no-distilled")) distilled = false;
        else if (!strcmp(a, "--batch")) batch = atoi(NEXT());
        else if (!strcmp(a, "--threads")) threads = atoi(NEXT());
        else if (!strcmp(a, "--attention")) attention = NEXT();
        else if (!strcmp(a, "--warmup")) warmup = atoi(NEXT());
        else if (!strcmp(a, "--iters")) iters = atoi(NEXT());
        else if (!strcmp(a, "--load-iters")) load_iters = atoi(NEXT());
        else if (!strcmp(a, "--blas-threads")) blas_threads = atoi(NEXT());
        else if (!strcmp(a, "--no-packed-weights")) no_packed = true;
        else if (!strcmp(a, "--isa")) isa_name = NEXT();
        else if (!strcmp(a, "--schedule")) schedule_name = NEXT();
        else if (!strcmp(a, "--batch-split")) split_name = NEXT();
        else if (!strcmp(a, "--affinity")) affinity_name = NEXT();
        else if (!strcmp(a, "--spin-us")) spin_us = atoi(NEXT());
        else if (!strcmp(a, "--full-hidden-state")) full_hidden = true;
        else if (!strcmp(a, "--serve")) serve = true;
        else if (!strcmp(a, "--in-memory")) in_memory = true;
        else if (!strcmp(a, "--save")) save_dir = NEXT();
        else if (!strcmp(a, "--input")) input_path = NEXT();
        else if (!strcmp(a, "--output")) output_path = NEXT();
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "deit-bench: unknown option %s\n", a);
            usage();
            return 2;
        }
#undef NEXT
    }
    if ((!config_name) == (!model_dir) || batch < 1 || iters < 1 || warmup < 0 || threads < 0 || load_iters < 1) {
        usage();
        return 2;
    }
    enum deit_attention att;
    if (!strcmp(attention, "auto")) att = DEIT_ATTENTION_AUTO;
    else if (!strcmp(attention, "eager")) att = DEIT_ATTENTION_EAGER;
    else if (!strcmp(attention, "fused")) att = DEIT_ATTENTION_FUSED;
    else {
        fprintf(stderr, "deit-bench: --attention must be auto, eager or fused\n");
        return 2;
    }
    enum deit_isa isa;
    if (!deit_isa_from_string(isa_name, &isa)) {
        fprintf(stderr, "deit-bench: --isa must be auto, portable, avx2 or avx512\n");
        return 2;
    }
    struct deit_state_params sp = deit_state_default_params();
    int choice;
    if (schedule_name) {
        if ((choice = parse_choice("--schedule", schedule_name, SCHEDULES)) < 0) return 2;
        sp.schedule = (enum deit_schedule)choice;
    }
    if (split_name) {
        if ((choice = parse_choice("--batch-split", split_name, BATCH_SPLITS)) < 0) return 2;
        sp.batch_split = (enum deit_batch_split)choice;
    }
    if (affinity_name) {
        if ((choice = parse_choice("--affinity", affinity_name, AFFINITIES)) < 0) return 2;
        sp.affinity = (enum deit_affinity)choice;
    }
    if (spin_us >= -1) sp.spin_us = spin_us;
    sp.isa = isa;
    if (threads == 0) threads = deit_default_threads();
    /* OpenBLAS threading only applies to GEMMs that go through OpenBLAS: keep the weights
     * as stored (no panel packing at load) for that scheme */
    struct deit_model_params mp = deit_model_default_params();
    if (blas_threads > 0 || no_packed) mp.packed_weights = false;
    deit_log_set(log_cb, NULL);
    const double base_rss = current_rss_mb();

    struct deit_error  err;
    struct deit_model *model   = NULL;
    uint8_t           *blob    = NULL;
    char               tmpdir[256] = "";
    char              *dir     = NULL;
    double             load_ms = -1, load_min_ms = -1;
    const char        *label   = model_dir;

    if (config_name) {
        const struct bench_config *c = NULL;
        for (size_t i = 0; i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
            if (!strcmp(CONFIGS[i].name, config_name)) c = &CONFIGS[i];
        if (!c) {
            fprintf(stderr, "deit-bench: unknown --config %s (tiny, small, base, base-384)\n", config_name);
            return 2;
        }
        label                 = c->name;
        struct tensor_list tl = { 0 };
        build_tensor_list(&tl, c, distilled);
        char *cfg = build_config_json(c, distilled);
        if (!cfg) return 1;
        if (in_memory) {
            size_t blob_len = 0;
            if (write_safetensors(&tl, NULL, &blob, &blob_len) != 0) {
                fprintf(stderr, "deit-bench: out of memory building weights\n");
                return 1;
            }
            double t0 = now_ms();
            model = deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, blob, blob_len, &err);
            load_ms = load_min_ms = now_ms() - t0;
        } else {
            if (save_dir) {
                if (g_mkdir_with_parents(save_dir, 0755) != 0) {
                    fprintf(stderr, "deit-bench: cannot create %s: %s\n", save_dir, g_strerror(errno));
                    return 1;
                }
                dir = strdup(save_dir);
            } else {
                const char *t = getenv("TMPDIR");
                snprintf(tmpdir, sizeof tmpdir, "%s/deit-bench-XXXXXX", t && *t ? t : "/tmp");
                if (!mkdtemp(tmpdir)) {
                    fprintf(stderr, "deit-bench: mkdtemp %s: %s\n", tmpdir, strerror(errno));
                    return 1;
                }
                dir = strdup(tmpdir);
            }
            char path[512];
            snprintf(path, sizeof path, "%s/config.json", dir);
            if (write_text(path, cfg) != 0) {
                fprintf(stderr, "deit-bench: cannot write %s\n", path);
                return 1;
            }
            snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
            /* facebook/deit-*-distilled-patch16-* preprocessor_config.json (the benchmark
             * does not preprocess; written so the directory is a complete checkpoint) */
            char pp[512];
            snprintf(pp, sizeof pp,
                     "{\"crop_size\":%d,\"do_center_crop\":true,\"do_normalize\":true,\"do_resize\":true,"
                     "\"feature_extractor_type\":\"DeiTFeatureExtractor\",\"image_mean\":[0.485,0.456,0.406],"
                     "\"image_std\":[0.229,0.224,0.225],\"resample\":3,\"size\":%d}\n",
                     c->image, c->image * 256 / 224);
            if (write_text(path, pp) != 0) {
                fprintf(stderr, "deit-bench: cannot write %s\n", path);
                return 1;
            }
            snprintf(path, sizeof path, "%s/model.safetensors", dir);
            FILE *f = fopen(path, "wb");
            if (!f || write_safetensors(&tl, f, NULL, NULL) != 0 || fclose(f) != 0) {
                fprintf(stderr, "deit-bench: cannot write %s\n", path);
                return 1;
            }
        }
        free(cfg);
        free(tl.t);
    } else {
        dir = strdup(model_dir);
    }

    if (!model) {
        /* load time of the directory, page cache warm: load + free load_iters times, keep
         * the last model; median reported */
        double lt[64];
        if (load_iters > 64) load_iters = 64;
        for (int i = 0; i < load_iters; i++) {
            if (model) deit_model_free(model);
            double t0 = now_ms();
            model     = deit_model_load(dir, &mp, &err);
            lt[i]     = now_ms() - t0;
            if (!model) break;
        }
        if (model) {
            load_ms = median(lt, load_iters);
            load_min_ms = lt[0];
            for (int i = 1; i < load_iters; i++) load_min_ms = lt[i] < load_min_ms ? lt[i] : load_min_ms;
        }
    }
    if (!model) {
        fprintf(stderr, "deit-bench: cannot load model: %s (%s)\n", err.message, deit_status_to_string(err.status));
        return 1;
    }
    const struct deit_model_info *mi = deit_model_get_info(model);

    sp.max_batch = batch;
    sp.n_threads = threads;
    sp.attention = att;
    sp.full_hidden_state = full_hidden;
    const double t_init = now_ms();
    struct deit_state *st = deit_state_init(model, &sp, &err);
    const double init_ms = now_ms() - t_init;
    if (!st) {
        fprintf(stderr, "deit-bench: cannot create state: %s\n", err.message);
        return 1;
    }
    if (blas_threads > 0) {
        /* the other parallelism scheme, for measurement only: OpenBLAS threads the GEMMs
         * and the core's own loops run on --threads workers (use --threads 1 so the two
         * never nest) */
        openblas_set_num_threads(blas_threads);
    }
    const size_t pix = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    if (input_path) {
        FILE  *f  = fopen(input_path, "rb");
        size_t rd = 0;
        for (int b = 0; f && b < batch; b++) rd += fread(deit_state_input(st, b), sizeof(float), pix, f);
        if (f) fclose(f);
        if (rd != pix * (size_t)batch) {
            fprintf(stderr, "deit-bench: %s must hold %zu float32 values [%d, %d, %d, %d]\n", input_path,
                    pix * (size_t)batch, batch, mi->num_channels, mi->image_height, mi->image_width);
            return 1;
        }
    } else {
        rng_state = 12345;
        for (int b = 0; b < batch; b++) {
            float *in = deit_state_input(st, b);
            for (size_t i = 0; i < pix; i++) in[i] = rng_uniform();
        }
    }

    double *samples = NULL;
    if (run_timed(st, batch, warmup, NULL) != 0) return 1;
    if (serve) {
        /* lockstep mode: say we are warm, then one burst per stdin line "W N" (W untimed
         * runs, then N timed ones), answered with a {"samples":[...]} line; at end of input
         * the usual report follows over the samples of every burst */
        printf("{\"ready\":true}\n");
        fflush(stdout);
        int  cap = 0;
        char line[64];
        iters = 0;
        while (fgets(line, sizeof line, stdin)) {
            int w = 0, n = 0;
            if (sscanf(line, "%d %d", &w, &n) != 2 || w < 0 || n < 1 || n > 100000) {
                fprintf(stderr, "deit-bench: --serve expects lines \"WARMUP ITERS\", got: %s", line);
                return 2;
            }
            if (iters + n > cap) {
                cap     = 2 * (iters + n);
                samples = realloc(samples, (size_t)cap * sizeof *samples);
                if (!samples) return 1;
            }
            if (run_timed(st, batch, w, NULL) != 0 || run_timed(st, batch, n, samples + iters) != 0) return 1;
            printf("{\"samples\":");
            print_samples(samples + iters, n);
            printf("}\n");
            fflush(stdout);
            iters += n;
        }
        if (iters == 0) {
            fprintf(stderr, "deit-bench: --serve: no burst was requested\n");
            return 2;
        }
    } else {
        samples = calloc((size_t)iters, sizeof *samples);
        if (!samples) return 1;
        if (run_timed(st, batch, iters, samples) != 0) return 1;
    }
    if (output_path) {
        FILE *f = fopen(output_path, "wb");
        for (int b = 0; f && b < batch; b++) {
            size_t       n   = 0;
            const float *out = deit_state_get_output(st, DEIT_OUTPUT_LOGITS, b, &n);
            if (out) fwrite(out, sizeof(float), n, f);
        }
        if (!f || fclose(f) != 0) fprintf(stderr, "deit-bench: cannot write %s\n", output_path);
    }
    double *order = malloc((size_t)iters * sizeof *order); /* samples in run order, for the JSON line */
    if (!order) return 1;
    memcpy(order, samples, (size_t)iters * sizeof *order);
    double min_ms = samples[0];
    for (int i = 1; i < iters; i++) min_ms = samples[i] < min_ms ? samples[i] : min_ms;
    const double med_ms = median(samples, iters);
    /* the forward pass skips the unread tokens of a classifier's last layer (see deit.h) */
    const bool   pruned = !full_hidden && deit_state_get_output(st, DEIT_OUTPUT_LAST_HIDDEN_STATE, 0, NULL) == NULL;
    const double gflop  = flops_per_image(mi, pruned) / 1e9;
    const double gflop_model = flops_per_image(mi, false) / 1e9;
    const double gflops = gflop / (med_ms / 1e3);
    const double rss    = peak_rss_mb();
    const double wmb    = mi->weight_bytes / (1024.0 * 1024.0);
    const double amb    = activation_mb(mi, batch, threads);
    const char  *attn_s = att == DEIT_ATTENTION_EAGER ? "eager" : att == DEIT_ATTENTION_FUSED ? "fused" : "auto";

    printf("model      %s (%s, D=%d L=%d H=%d I=%d, %dx%d, T=%d)\n", label, deit_arch_to_string(mi->arch),
           mi->hidden_size, mi->num_layers, mi->num_heads, mi->intermediate_size, mi->image_width,
           mi->image_height, mi->num_tokens);
    printf("run        batch %d, %d threads%s, attention %s, %s kernels, %s GEMMs, %d warm-up + %d timed runs\n",
           batch, threads, blas_threads > 0 ? " + OpenBLAS threads" : "", attn_s, deit_isa_to_string(deit_state_isa(st)),
           deit_state_packed_gemm(st) ? "packed-weight" : "OpenBLAS", warmup, iters);
    printf("time       median %.3f ms/image, min %.3f ms/image\n", med_ms, min_ms);
    printf("compute    %.3f GFLOP/image executed (the full model: %.3f), %.1f GFLOP/s at the median\n", gflop,
           gflop_model, gflops);
    printf("memory     peak RSS %.1f MB = F32 weights %.1f MB (%.1f MB of them copied at load) + activations "
           "%.1f MB + process baseline %.1f MB %+.1f MB\n",
           rss, wmb, mi->weight_bytes_copied / (1024.0 * 1024.0), amb, base_rss, rss - wmb - amb - base_rss);
    if (load_ms >= 0)
        printf("load       %.2f ms median, %.2f ms min (%s); first deit_state_init %.1f ms\n", load_ms,
               load_min_ms, blob ? "from memory" : "checkpoint directory, warm page cache", init_ms);
    printf("{\"config\":\"%s\",\"arch\":\"%s\",\"distilled\":%s,\"image_size\":%d,\"batch\":%d,\"threads\":%d,"
           "\"attention\":\"%s\",\"iters\":%d,\"median_ms\":%.4f,\"min_ms\":%.4f,\"gflop_per_image\":%.4f,\"gflop_model\":%.4f,"
           "\"gflops\":%.2f,\"peak_rss_mb\":%.1f,\"weight_mb\":%.1f,\"activation_mb\":%.1f,\"base_rss_mb\":%.1f,\"load_ms\":%.3f,"
           "\"state_init_ms\":%.1f,\"blas_threads\":%d,\"serve\":%s,\"isa\":\"%s\",\"packed_weights\":%s,"
           "\"schedule\":\"%s\",\"spin_us\":%d,\"batch_split\":\"%s\",\"affinity\":\"%s\"",
           label, deit_arch_to_string(mi->arch), mi->arch == DEIT_ARCH_DEIT_WITH_TEACHER ? "true" : "false",
           mi->image_height, batch, threads, attn_s, iters, med_ms, min_ms, gflop, gflop_model, gflops, rss, wmb, amb, base_rss,
           load_ms, init_ms, blas_threads, serve ? "true" : "false", deit_isa_to_string(deit_state_isa(st)),
           deit_state_packed_gemm(st) ? "true" : "false",
           SCHEDULES[sp.schedule],
           sp.spin_us < 0 ? 50 : sp.spin_us,
           BATCH_SPLITS[sp.batch_split], AFFINITIES[sp.affinity]);
    /* the JSON line goes on: per-run ms/image so that scripts can pool runs */
    printf(",\"samples\":");
    print_samples(order, iters);
    printf("}\n");
    free(order);

    free(samples);
    deit_state_free(st);
    deit_model_free(model);
    free(blob);
    if (tmpdir[0]) {
        char path[512];
        snprintf(path, sizeof path, "%s/config.json", tmpdir);
        unlink(path);
        snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
        unlink(path);
        snprintf(path, sizeof path, "%s/preprocessor_config.json", tmpdir);
        unlink(path);
        rmdir(tmpdir);
    }
    free(dir);
    return 0;
}
