/* deit-infer.c - run a Hugging Face DeiT / ViT checkpoint directory on a NumPy input.
 *
 *   deit-infer --model DIR --input pixel_values.npy --output out.npy [--top-k 5]
 *
 * The input is what transformers' image processor returns as pixel_values: float32
 * [B, C, H, W] (or [C, H, W] for one image). The output is the head's tensor, in the
 * shape transformers returns it, so the two can be compared with numpy. Uses only the
 * public deit.h API. See --help. */
#include "deit.h"
#include "npy.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

enum output_kind {
    OUTPUT_KIND_DEFAULT = -1,
    OUTPUT_KIND_LOGITS = 0,
    OUTPUT_KIND_HIDDEN,
    OUTPUT_KIND_POOLER,
    OUTPUT_KIND_RECONSTRUCTION,
};

struct options {
    const char *model_dir;
    const char *weights;
    const char *input;
    const char *output;
    const char *pooler_output;
    const char *mask;
    enum output_kind kind;
    int n_threads;
    enum deit_attention attention;
    int top_k;
    enum deit_score_function scores;
    bool list_labels;
    bool info;
    bool no_mmap;
    int verbose;
};

static void usage(FILE *out) {
    fprintf(out,
"Usage: deit-infer --model DIR --input PIXELS.npy [--output OUT.npy] [options]\n"
"\n"
"Run a Hugging Face DeiT / ViT checkpoint directory (config.json + model.safetensors or\n"
"pytorch_model.bin, as downloaded from the Hub) on preprocessed pixel values and write\n"
"the model's output as a NumPy .npy file, to compare with transformers.\n"
"\n"
"Options:\n"
"  -m, --model DIR          checkpoint directory (required)\n"
"  -w, --weights FILE       weight file to use instead of DIR/model.safetensors\n"
"                           (e.g. DIR/pytorch_model.bin)\n"
"  -i, --input FILE         float32 .npy [B, C, H, W] or [C, H, W]: transformers'\n"
"                           pixel_values; H, W must equal the config's image_size (required)\n"
"  -o, --output FILE        write the output tensor here (float32 .npy), by architecture:\n"
"                             classification heads: logits [B, num_labels]\n"
"                             DeiTModel / ViTModel: last_hidden_state [B, tokens, hidden]\n"
"                             *ForMaskedImageModeling: reconstruction [B, C, H, W] (H = W =\n"
"                             patch grid x encoder_stride: the image size in checkpoints)\n"
"  -k, --output-kind KIND   logits | hidden | pooler | reconstruction: pick another output\n"
"                           (pooler: pooler_output [B, hidden] of a base model with pooler)\n"
"      --pooler-output FILE also write pooler_output of a base model to FILE\n"
"  -M, --mask FILE          bool or uint8 .npy [B, num_patches] (or [num_patches] for all\n"
"                           images): bool_masked_pos for masked image modeling, 1 = masked\n"
"  -t, --threads N          worker threads (default 0 = all cores)\n"
"  -a, --attention IMPL     eager | fused | auto (default auto)\n"
"      --no-mmap            read the weight file into memory instead of mapping it (a\n"
"                           file on a network or FUSE file system is always read; see\n"
"                           docs/reliability.md)\n"
"  -K, --top-k K            print the K highest-scoring classes of each image: rank, class\n"
"                           id, score, logit, label\n"
"  -s, --scores FN          auto | softmax | sigmoid | none: the --top-k scores (default auto:\n"
"                           as transformers' image-classification pipeline, sigmoid for\n"
"                           problem_type multi_label_classification and one-output heads,\n"
"                           else softmax; none: the logits)\n"
"  -l, --labels             print the model's class labels (id<TAB>label) and exit\n"
"      --info               print the model's configuration to stdout\n"
"  -v, --verbose            log engine messages to stderr (twice: debug)\n"
"  -h, --help               show this help\n"
"\n"
"Exit status: 0 on success, 1 on error (message on stderr), 2 on bad usage.\n"
"\n"
"Example: classify a photo with a checkpoint downloaded from the Hub, e.g.\n"
"  hf download facebook/deit-tiny-distilled-patch16-224 --local-dir deit-tiny\n"
"\n"
"  python3 - <<'EOF'\n"
"  import numpy as np\n"
"  from PIL import Image\n"
"  from transformers import AutoImageProcessor\n"
"  proc = AutoImageProcessor.from_pretrained('deit-tiny', backend='pil')  # v4: use_fast=False\n"
"  px = proc(images=Image.open('cat.jpg').convert('RGB'), return_tensors='np').pixel_values\n"
"  np.save('pixel_values.npy', px.astype(np.float32))\n"
"  EOF\n"
"\n"
"  deit-infer --model deit-tiny --input pixel_values.npy --output logits.npy --top-k 5\n"
"\n"
"Without transformers, the processor of the distilled checkpoints is (Pillow + numpy):\n"
"  import numpy as np; from PIL import Image\n"
"  img = Image.open('cat.jpg').convert('RGB').resize((256, 256), Image.BICUBIC)\n"
"  x = np.asarray(img)[16:240, 16:240].astype(np.float64) / 255   # center crop 224\n"
"  x = (x.astype(np.float32) - np.float32([0.485, 0.456, 0.406])) / np.float32([0.229, 0.224, 0.225])\n"
"  np.save('pixel_values.npy', x.transpose(2, 0, 1)[None].astype(np.float32))\n"
"(read size / crop_size / image_mean / image_std from the checkpoint's preprocessor_config.json).\n");
}

static void log_to_stderr(enum deit_log_level level, const char *message, void *user_data) {
    static const char *names[] = { "error", "warning", "info", "debug" };
    int verbose = *(const int *)user_data;
    /* errors also come back as statuses and are reported by the caller: only show the
     * engine's own copy with -v */
    if (level == DEIT_LOG_LEVEL_ERROR && verbose == 0) {
        return;
    }
    if ((int)level <= DEIT_LOG_LEVEL_WARN + verbose) {
        fprintf(stderr, "deit-infer: %s: %s\n", names[level], message);
    }
}

static bool parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = (int)v;
    return true;
}

static int parse_options(int argc, char **argv, struct options *o) {
    enum { OPT_POOLER_OUTPUT = 1000, OPT_INFO, OPT_NO_MMAP };
    static const struct option long_opts[] = {
        { "model", required_argument, NULL, 'm' },
        { "weights", required_argument, NULL, 'w' },
        { "input", required_argument, NULL, 'i' },
        { "output", required_argument, NULL, 'o' },
        { "output-kind", required_argument, NULL, 'k' },
        { "pooler-output", required_argument, NULL, OPT_POOLER_OUTPUT },
        { "mask", required_argument, NULL, 'M' },
        { "threads", required_argument, NULL, 't' },
        { "attention", required_argument, NULL, 'a' },
        { "top-k", required_argument, NULL, 'K' },
        { "scores", required_argument, NULL, 's' },
        { "labels", no_argument, NULL, 'l' },
        { "info", no_argument, NULL, OPT_INFO },
        { "no-mmap", no_argument, NULL, OPT_NO_MMAP },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof(*o));
    o->kind = OUTPUT_KIND_DEFAULT;
    o->attention = DEIT_ATTENTION_AUTO;
    int c;
    while ((c = getopt_long(argc, argv, "m:w:i:o:k:M:t:a:K:s:lvh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model_dir = optarg; break;
        case 'w': o->weights = optarg; break;
        case 'i': o->input = optarg; break;
        case 'o': o->output = optarg; break;
        case OPT_POOLER_OUTPUT: o->pooler_output = optarg; break;
        case 'M': o->mask = optarg; break;
        case 'l': o->list_labels = true; break;
        case OPT_INFO: o->info = true; break;
        case OPT_NO_MMAP: o->no_mmap = true; break;
        case 'v': o->verbose++; break;
        case 'h': usage(stdout); exit(0);
        case 'k':
            if (strcmp(optarg, "logits") == 0) {
                o->kind = OUTPUT_KIND_LOGITS;
            } else if (strcmp(optarg, "hidden") == 0 || strcmp(optarg, "last_hidden_state") == 0) {
                o->kind = OUTPUT_KIND_HIDDEN;
            } else if (strcmp(optarg, "pooler") == 0 || strcmp(optarg, "pooler_output") == 0) {
                o->kind = OUTPUT_KIND_POOLER;
            } else if (strcmp(optarg, "reconstruction") == 0) {
                o->kind = OUTPUT_KIND_RECONSTRUCTION;
            } else {
                fprintf(stderr, "deit-infer: --output-kind '%s': expected logits, hidden, pooler or "
                        "reconstruction\n", optarg);
                return -1;
            }
            break;
        case 't':
            if (!parse_int(optarg, 0, 1024, &o->n_threads)) {
                fprintf(stderr, "deit-infer: --threads '%s': expected an integer 0..1024\n", optarg);
                return -1;
            }
            break;
        case 'a':
            if (strcmp(optarg, "eager") == 0) {
                o->attention = DEIT_ATTENTION_EAGER;
            } else if (strcmp(optarg, "fused") == 0) {
                o->attention = DEIT_ATTENTION_FUSED;
            } else if (strcmp(optarg, "auto") == 0) {
                o->attention = DEIT_ATTENTION_AUTO;
            } else {
                fprintf(stderr, "deit-infer: --attention '%s': expected eager, fused or auto\n", optarg);
                return -1;
            }
            break;
        case 's': {
            bool found = false;
            for (int f = DEIT_SCORE_AUTO; f <= DEIT_SCORE_NONE && !found; f++) {
                if (strcmp(optarg, deit_score_function_to_string((enum deit_score_function)f)) == 0) {
                    o->scores = (enum deit_score_function)f;
                    found = true;
                }
            }
            if (!found) {
                fprintf(stderr, "deit-infer: --scores '%s': expected auto, softmax, sigmoid or none\n", optarg);
                return -1;
            }
            break;
        }
        case 'K':
            if (!parse_int(optarg, 1, INT_MAX, &o->top_k)) {
                fprintf(stderr, "deit-infer: --top-k '%s': expected a positive integer\n", optarg);
                return -1;
            }
            break;
        default:
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "deit-infer: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->model_dir) {
        fprintf(stderr, "deit-infer: --model DIR is required\n");
        return -1;
    }
    if (o->list_labels || (o->info && !o->input)) {
        return 0;
    }
    if (!o->input) {
        fprintf(stderr, "deit-infer: --input FILE is required\n");
        return -1;
    }
    if (!o->output && !o->pooler_output && o->top_k == 0) {
        fprintf(stderr, "deit-infer: nothing to do: give --output FILE and/or --top-k K\n");
        return -1;
    }
    return 0;
}

static const char *act_name(enum deit_act a) {
    return a == DEIT_ACT_GELU ? "gelu (erf)" : a == DEIT_ACT_GELU_TANH ? "gelu (tanh approximation)" : deit_act_to_string(a);
}

static void print_info(const struct deit_model *model) {
    const struct deit_model_info *mi = deit_model_get_info(model);
    printf("name               %s\n", mi->name ? mi->name : "");
    printf("architecture       %s\n", deit_arch_to_string(mi->arch));
    printf("hidden_size        %d\n", mi->hidden_size);
    printf("num_hidden_layers  %d\n", mi->num_layers);
    printf("num_attention_heads %d (head_dim %d)\n", mi->num_heads, mi->head_dim);
    printf("intermediate_size  %d\n", mi->intermediate_size);
    printf("image_size         %d x %d (height x width)\n", mi->image_height, mi->image_width);
    printf("patch_size         %d (%d patches, %d tokens)\n", mi->patch_size, mi->num_patches, mi->num_tokens);
    printf("num_channels       %d\n", mi->num_channels);
    printf("num_labels         %d\n", mi->num_labels);
    printf("pooler_output_size %d\n", mi->pooler_output_size);
    printf("qkv_bias           %s\n", mi->qkv_bias ? "true" : "false");
    printf("layer_norm_eps     %g\n", (double)mi->layer_norm_eps);
    printf("hidden_act         %s\n", act_name(mi->hidden_act));
    if (deit_arch_is_base(mi->arch) && mi->pooler_output_size > 0)
        printf("pooler_act         %s\n", deit_act_to_string(mi->pooler_act));
    static const char *problem_types[] = { "(unset)", "single_label_classification", "multi_label_classification",
                                           "regression" };
    printf("problem_type       %s\n", problem_types[mi->problem_type]);
    printf("scores             %s\n", deit_score_function_to_string(deit_model_score_function(model)));
    printf("weights            %zu bytes float32 (%zu converted or copied at load)\n",
           mi->weight_bytes, mi->weight_bytes_copied);
}

/* Check the input tensor against the model; returns the batch size or -1. */
static int check_input(const struct npy_array *x, const struct deit_model_info *mi, const char *path) {
    if (x->dtype != NPY_DTYPE_F32) {
        fprintf(stderr, "deit-infer: %s: dtype %s, expected float32 ('<f4'): "
                "np.save(path, x.astype(np.float32))\n", path, npy_dtype_descr(x->dtype));
        return -1;
    }
    if (x->ndim != 3 && x->ndim != 4) {
        fprintf(stderr, "deit-infer: %s: %d dimensions, expected [B, C, H, W] or [C, H, W]\n", path, x->ndim);
        return -1;
    }
    const size_t *s = x->shape + (x->ndim - 3);
    size_t batch = x->ndim == 4 ? x->shape[0] : 1;
    if (s[0] != (size_t)mi->num_channels || s[1] != (size_t)mi->image_height || s[2] != (size_t)mi->image_width) {
        fprintf(stderr, "deit-infer: %s: image tensor is [%zu, %zu, %zu] (C, H, W), the model expects "
                "[%d, %d, %d] (config.json num_channels, image_size); preprocess to the model's size "
                "(H, W first: pixel_values is channels-first)\n",
                path, s[0], s[1], s[2], mi->num_channels, mi->image_height, mi->image_width);
        return -1;
    }
    if (batch < 1 || batch > 4096) {
        fprintf(stderr, "deit-infer: %s: batch of %zu images, expected 1..4096\n", path, batch);
        return -1;
    }
    return (int)batch;
}

/* Copy the mask (bool/uint8 [B, N] or [N]) into the state's mask slots. */
static int load_mask(struct deit_state *st, const struct deit_model_info *mi, const char *path, int batch) {
    char err[1024];
    struct npy_array m;
    if (npy_read(path, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "deit-infer: %s\n", err);
        return -1;
    }
    int rc = -1;
    size_t n = (size_t)mi->num_patches;
    if (m.dtype == NPY_DTYPE_F32) {
        fprintf(stderr, "deit-infer: %s: mask dtype float32, expected bool or uint8: "
                "np.save(path, mask.astype(bool))\n", path);
    } else if (!((m.ndim == 2 && m.shape[0] == (size_t)batch && m.shape[1] == n) ||
                 (m.ndim == 1 && m.shape[0] == n))) {
        fprintf(stderr, "deit-infer: %s: mask shape (", path);
        for (int i = 0; i < m.ndim; i++) {
            fprintf(stderr, "%s%zu", i ? ", " : "", m.shape[i]);
        }
        fprintf(stderr, "), expected (%d, %zu) = (batch, num_patches) or (%zu,)\n", batch, n, n);
    } else {
        const uint8_t *src = m.data;
        bool bad = false;
        for (int b = 0; b < batch && !bad; b++) {
            uint8_t *dst = deit_state_mask(st, b);
            const uint8_t *row = m.ndim == 2 ? src + (size_t)b * n : src;
            for (size_t i = 0; i < n; i++) {
                if (row[i] > 1) {
                    fprintf(stderr, "deit-infer: %s: mask value %d at image %d patch %zu (0 or 1 expected)\n",
                            path, row[i], b, i);
                    bad = true;
                    break;
                }
                dst[i] = row[i];
            }
        }
        rc = bad ? -1 : 0;
    }
    npy_array_free(&m);
    return rc;
}

static const char *kind_name(enum output_kind k) {
    static const char *names[] = { "logits", "hidden", "pooler", "reconstruction" };
    return names[k];
}

/* Gather one output of all images into [B, ...] and write it. */
static int write_output(const struct deit_state *st, const struct deit_model_info *mi, enum output_kind kind,
                        int batch, const char *path) {
    static const enum deit_output which[] = {
        DEIT_OUTPUT_LOGITS, DEIT_OUTPUT_LAST_HIDDEN_STATE, DEIT_OUTPUT_POOLER, DEIT_OUTPUT_RECONSTRUCTION,
    };
    size_t n = 0;
    const float *first = deit_state_get_output(st, which[kind], 0, &n);
    if (!first || n == 0) {
        const char *why = "";
        if (kind == OUTPUT_KIND_POOLER)
            why = deit_arch_is_base(mi->arch) ? " (the checkpoint has no pooler.dense weights)"
                                              : " (only DeiTModel and ViTModel have a pooler)";
        fprintf(stderr, "deit-infer: %s has no %s output%s\n", deit_arch_to_string(mi->arch), kind_name(kind), why);
        return -1;
    }
    size_t shape[5];
    int ndim = 0;
    shape[ndim++] = (size_t)batch;
    switch (kind) {
    case OUTPUT_KIND_LOGITS:
    case OUTPUT_KIND_POOLER:
        shape[ndim++] = n;
        break;
    case OUTPUT_KIND_HIDDEN:
        shape[ndim++] = (size_t)mi->num_tokens;
        shape[ndim++] = (size_t)mi->hidden_size;
        break;
    case OUTPUT_KIND_RECONSTRUCTION: /* the patch grid times encoder_stride (deit.h) */
        shape[ndim++] = (size_t)mi->num_channels;
        shape[ndim++] = (size_t)(mi->image_height / mi->patch_size) * (size_t)mi->encoder_stride;
        shape[ndim++] = (size_t)(mi->image_width / mi->patch_size) * (size_t)mi->encoder_stride;
        break;
    case OUTPUT_KIND_DEFAULT:
        break;
    }
    size_t expect = 1;
    for (int i = 1; i < ndim; i++) {
        expect *= shape[i];
    }
    if (expect != n) {
        fprintf(stderr, "deit-infer: internal error: %s output has %zu elements, expected %zu\n",
                kind_name(kind), n, expect);
        return -1;
    }
    float *all = malloc((size_t)batch * n * sizeof(float));
    if (!all) {
        fprintf(stderr, "deit-infer: out of memory\n");
        return -1;
    }
    for (int b = 0; b < batch; b++) {
        size_t nb = 0;
        const float *o = deit_state_get_output(st, which[kind], b, &nb);
        if (!o || nb != n) {
            fprintf(stderr, "deit-infer: internal error: no %s output for image %d\n", kind_name(kind), b);
            free(all);
            return -1;
        }
        memcpy(all + (size_t)b * n, o, n * sizeof(float));
    }
    char err[1024];
    int rc = npy_write(path, NPY_DTYPE_F32, all, ndim, shape, err, sizeof(err));
    free(all);
    if (rc != 0) {
        fprintf(stderr, "deit-infer: %s\n", err);
    }
    return rc;
}

static int print_top_k(const struct deit_state *st, const struct deit_model *model, int batch, int k,
                       enum deit_score_function fn) {
    const struct deit_model_info *mi = deit_model_get_info(model);
    if (mi->num_labels <= 0) {
        fprintf(stderr, "deit-infer: --top-k: %s has no classification head\n", deit_arch_to_string(mi->arch));
        return -1;
    }
    if (k > mi->num_labels) {
        k = mi->num_labels;
    }
    struct deit_class_score *top = calloc((size_t)k, sizeof(*top));
    if (!top) {
        fprintf(stderr, "deit-infer: out of memory\n");
        return -1;
    }
    for (int b = 0; b < batch; b++) {
        size_t       n_logits = 0;
        const float *logits   = deit_state_get_output(st, DEIT_OUTPUT_LOGITS, b, &n_logits);
        /* every class, whatever its score: -inf lets the logits of "none" through too */
        int n = deit_top_k_scores(logits, (int)n_logits, fn, k, -INFINITY, top);
        printf("image %d:\n", b);
        for (int i = 0; i < n; i++) {
            const char *label = deit_model_get_label(model, top[i].class_id);
            printf("  %d\t%5d\t%.6f\t%.6f\t%s\n", i + 1, top[i].class_id, (double)top[i].score,
                   (double)top[i].logit, label ? label : "?");
        }
    }
    free(top);
    return 0;
}

static int run(const struct options *o) {
    struct deit_error err;
    struct deit_model_params mp = deit_model_default_params();
    mp.weights_path = o->weights;
    mp.use_mmap = !o->no_mmap;
    struct deit_model *model = deit_model_load(o->model_dir, &mp, &err);
    if (!model) {
        fprintf(stderr, "deit-infer: cannot load the model: %s (%s)\n", err.message,
                deit_status_to_string(err.status));
        return 1;
    }
    const struct deit_model_info *mi = deit_model_get_info(model);
    int ret = 1;
    struct deit_state *st = NULL;
    struct npy_array x = { 0 };

    if (o->info) {
        print_info(model);
    }
    if (o->list_labels) {
        if (mi->num_labels <= 0) {
            fprintf(stderr, "deit-infer: --labels: %s has no classification head, so no labels\n",
                    deit_arch_to_string(mi->arch));
            goto done;
        }
        for (int i = 0; i < mi->num_labels; i++) {
            printf("%d\t%s\n", i, deit_model_get_label(model, i));
        }
        ret = 0;
        goto done;
    }
    if (!o->input) {
        ret = 0;
        goto done;
    }

    enum output_kind kind = o->kind;
    if (kind == OUTPUT_KIND_DEFAULT) {
        kind = deit_arch_is_mim(mi->arch) ? OUTPUT_KIND_RECONSTRUCTION
             : deit_arch_is_base(mi->arch) ? OUTPUT_KIND_HIDDEN : OUTPUT_KIND_LOGITS;
    }
    if (o->mask && !deit_arch_is_mim(mi->arch)) {
        fprintf(stderr, "deit-infer: --mask: %s does not do masked image modeling (no mask_token)\n",
                deit_arch_to_string(mi->arch));
        goto done;
    }

    char msg[1024];
    if (npy_read(o->input, &x, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "deit-infer: %s\n", msg);
        goto done;
    }
    int batch = check_input(&x, mi, o->input);
    if (batch < 0) {
        goto done;
    }

    struct deit_state_params sp = deit_state_default_params();
    sp.max_batch = batch;
    sp.n_threads = o->n_threads;
    sp.attention = o->attention;
    sp.full_hidden_state = kind == OUTPUT_KIND_HIDDEN; /* a classifier's last layer skips unread tokens otherwise */
    st = deit_state_init(model, &sp, &err);
    if (!st) {
        fprintf(stderr, "deit-infer: cannot create inference state: %s (%s)\n", err.message,
                deit_status_to_string(err.status));
        goto done;
    }
    size_t per_image = (size_t)mi->num_channels * (size_t)mi->image_height * (size_t)mi->image_width;
    for (int b = 0; b < batch; b++) {
        memcpy(deit_state_input(st, b), (const float *)x.data + (size_t)b * per_image, per_image * sizeof(float));
    }
    if (o->mask && mi->encoder_stride != mi->patch_size) {
        fprintf(stderr, "deit-infer: --mask: this model's encoder_stride (%d) is not its patch_size (%d), so its "
                "reconstruction is not image-sized and transformers refuses bool_masked_pos for it; run it "
                "without --mask\n", mi->encoder_stride, mi->patch_size);
        goto done;
    }
    if (o->mask && load_mask(st, mi, o->mask, batch) != 0) {
        goto done;
    }

    enum deit_status status = deit_state_run(st, batch, NULL);
    if (status != DEIT_STATUS_OK) {
        fprintf(stderr, "deit-infer: inference failed: %s\n", deit_status_to_string(status));
        goto done;
    }
    if (o->output && write_output(st, mi, kind, batch, o->output) != 0) {
        goto done;
    }
    if (o->pooler_output && write_output(st, mi, OUTPUT_KIND_POOLER, batch, o->pooler_output) != 0) {
        goto done;
    }
    if (o->top_k > 0 && print_top_k(st, model, batch, o->top_k,
                                       o->scores == DEIT_SCORE_AUTO ? deit_model_score_function(model) : o->scores) != 0) {
        goto done;
    }
    ret = 0;

done:
    npy_array_free(&x);
    deit_state_free(st);
    deit_model_free(model);
    return ret;
}

int main(int argc, char **argv) {
    struct options o;
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "Try 'deit-infer --help'.\n");
        return EXIT_USAGE;
    }
    deit_log_set(log_to_stderr, &o.verbose);
    return run(&o);
}
