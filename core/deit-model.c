/* deit-model.c - load a Hugging Face DeiT / ViT checkpoint directory: config.json,
 * preprocessor_config.json, and the weights (model.safetensors, else pytorch_model.bin),
 * validate every tensor the architecture needs against the config, and expose the
 * immutable struct deit_model the forward pass reads.
 *
 * Sources for key names, shapes and defaults: deit-reference.md §1 (DeiTConfig /
 * ViTConfig defaults, transformers configuration_deit.py / configuration_vit.py) and §3
 * (state-dict keys, modeling_deit.py / modeling_vit.py module names).
 *
 * Architecture choice: config.json "architectures"[0] names the transformers class. When
 * it is absent, "model_type" picks the family ("deit" or "vit") and the weights pick the
 * class (cls_classifier -> ...WithTeacher, decoder.0 -> MaskedImageModeling, classifier ->
 * ...ForImageClassification, else the bare model), which is what the user meant by
 * pointing us at those weights; with no model_type either, the config is rejected.
 *
 * Weights: F32 tensors are used in place (pointers into the mmap'd file or the caller's
 * buffer) when 4-byte aligned; F16 / BF16 / unaligned tensors, and everything when mmap is
 * off, are converted into one 64-byte aligned owned buffer (info.weight_bytes_copied).
 * Limits: single-file checkpoints only (no sharded *.index.json), no interpolated position
 * embeddings (the image size is config.image_size).
 */
#include "deit-internal.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* sanity bounds for config values: far above any released checkpoint, low enough that
 * every size product below fits in 64 bits */
#define MAX_HIDDEN       65536
#define MAX_LAYERS       1024
#define MAX_INTERMEDIATE (1 << 20)
#define MAX_CHANNELS     64
#define MAX_STRIDE       1024
#define MAX_LABELS       (1 << 20)
#define MAX_TOKENS       ((1 << 20) + 2)

struct deit_model_params deit_model_default_params(void) {
    return (struct deit_model_params){
        .weights_path = NULL,   /* <dir>/model.safetensors, else <dir>/pytorch_model.bin */
        .use_mmap     = true,   /* map the file, use aligned F32 tensors in place */
    };
}

/* ---------------------------------------------------------------------------------------
 * config.json
 */
struct parsed_config {
    struct deit_model_info info;
    char **labels;        /* NULL-terminated; the config's labels even for base models */
    int    n_labels;
    char  *name;
    bool   arch_explicit; /* architectures[0] given (else chosen from model_type + weights) */
    bool   vit_type;      /* model_type "vit" (or a ViT architecture without model_type) */
};

static const enum deit_arch all_archs[] = {
    DEIT_ARCH_DEIT_WITH_TEACHER, DEIT_ARCH_DEIT_CLASSIFICATION, DEIT_ARCH_DEIT_MODEL, DEIT_ARCH_DEIT_MIM,
    DEIT_ARCH_VIT_CLASSIFICATION, DEIT_ARCH_VIT_MODEL,         DEIT_ARCH_VIT_MIM,
};

static bool arch_is_vit(enum deit_arch a) {
    return a == DEIT_ARCH_VIT_CLASSIFICATION || a == DEIT_ARCH_VIT_MODEL || a == DEIT_ARCH_VIT_MIM;
}
static bool arch_is_classifier(enum deit_arch a) {
    return a == DEIT_ARCH_DEIT_WITH_TEACHER || a == DEIT_ARCH_DEIT_CLASSIFICATION || a == DEIT_ARCH_VIT_CLASSIFICATION;
}
static bool arch_is_base(enum deit_arch a) { return a == DEIT_ARCH_DEIT_MODEL || a == DEIT_ARCH_VIT_MODEL; }
static bool arch_is_mim(enum deit_arch a) { return a == DEIT_ARCH_DEIT_MIM || a == DEIT_ARCH_VIT_MIM; }

static bool node_int(JsonNode *n, gint64 *out) {
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE) return false;
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) {
        *out = json_node_get_int(n);
        return true;
    }
    if (t == G_TYPE_DOUBLE) {   /* accept 224.0: integral doubles only */
        double d = json_node_get_double(n);
        if (d >= -1e15 && d <= 1e15 && d == (double)(gint64)d) {
            *out = (gint64)d;
            return true;
        }
    }
    return false;
}

static JsonNode *member(JsonObject *o, const char *key) {
    JsonNode *n = json_object_get_member(o, key);
    return (n && !JSON_NODE_HOLDS_NULL(n)) ? n : NULL;
}

static enum deit_status cfg_int_value(JsonNode *n, const char *key, int lo, int hi, int *out, struct deit_error *err) {
    gint64 v;
    if (!node_int(n, &v))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"%s\" must be an integer", key);
    if (v < lo || v > hi)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"%s\" is %lld; it must be in [%d, %d]",
                              key, (long long)v, lo, hi);
    *out = (int)v;
    return DEIT_STATUS_OK;
}

static enum deit_status cfg_int(JsonObject *o, const char *key, int def, int lo, int hi, int *out,
                                struct deit_error *err) {
    JsonNode *n = member(o, key);
    if (!n) {
        *out = def;
        return DEIT_STATUS_OK;
    }
    return cfg_int_value(n, key, lo, hi, out, err);
}

/* int or [a, b] (image_size, patch_size) */
static enum deit_status cfg_pair(JsonObject *o, const char *key, int def, int lo, int hi, int out[2],
                                 struct deit_error *err) {
    JsonNode *n = member(o, key);
    if (!n) {
        out[0] = out[1] = def;
        return DEIT_STATUS_OK;
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        if (json_array_get_length(a) != 2)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "config.json: \"%s\" must be an integer or [height, width]", key);
        for (int i = 0; i < 2; i++) {
            enum deit_status st = cfg_int_value(json_array_get_element(a, (guint)i), key, lo, hi, &out[i], err);
            if (st != DEIT_STATUS_OK) return st;
        }
        return DEIT_STATUS_OK;
    }
    enum deit_status st = cfg_int_value(n, key, lo, hi, &out[0], err);
    out[1]              = out[0];
    return st;
}

static enum deit_status cfg_arch(JsonObject *o, struct parsed_config *pc, struct deit_error *err) {
    const char *model_type = NULL;
    JsonNode   *mt         = member(o, "model_type");
    if (mt) {
        if (json_node_get_value_type(mt) != G_TYPE_STRING)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"model_type\" must be a string");
        model_type = json_node_get_string(mt);
        if (strcmp(model_type, "deit") != 0 && strcmp(model_type, "vit") != 0)
            return deit_set_error(err, DEIT_STATUS_ERROR_UNKNOWN_ARCH,
                                  "config.json: model_type \"%s\" is not supported; this engine runs \"deit\" and \"vit\" "
                                  "checkpoints",
                                  model_type);
    }
    const char *arch_name = NULL;
    JsonNode   *an        = member(o, "architectures");
    if (an && JSON_NODE_HOLDS_ARRAY(an) && json_array_get_length(json_node_get_array(an)) > 0) {
        JsonNode *first = json_array_get_element(json_node_get_array(an), 0);
        if (JSON_NODE_TYPE(first) == JSON_NODE_VALUE && json_node_get_value_type(first) == G_TYPE_STRING)
            arch_name = json_node_get_string(first);
        if (!arch_name)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "config.json: \"architectures\" must be a list of class names");
    } else if (an && !JSON_NODE_HOLDS_ARRAY(an)) {
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"architectures\" must be a list");
    }

    if (arch_name) {
        bool found = false;
        for (size_t i = 0; i < G_N_ELEMENTS(all_archs); i++)
            if (strcmp(arch_name, deit_arch_to_string(all_archs[i])) == 0) {
                pc->info.arch = all_archs[i];
                found         = true;
            }
        if (!found)
            return deit_set_error(err, DEIT_STATUS_ERROR_UNKNOWN_ARCH,
                                  "config.json: architectures[0] is \"%s\"; supported: "
                                  "DeiTForImageClassificationWithTeacher, DeiTForImageClassification, DeiTModel, "
                                  "DeiTForMaskedImageModeling, ViTForImageClassification, ViTModel, "
                                  "ViTForMaskedImageModeling",
                                  arch_name);
        pc->arch_explicit = true;
        pc->vit_type      = model_type ? strcmp(model_type, "vit") == 0 : arch_is_vit(pc->info.arch);
        if (model_type && pc->vit_type != arch_is_vit(pc->info.arch))
            DEIT_LOG_WARN("config.json: model_type \"%s\" but architectures[0] \"%s\"; using %s", model_type,
                          arch_name, arch_name);
        return DEIT_STATUS_OK;
    }
    if (!model_type)
        return deit_set_error(err, DEIT_STATUS_ERROR_UNKNOWN_ARCH,
                              "config.json has neither \"architectures\" nor \"model_type\"; add e.g. "
                              "\"architectures\": [\"DeiTForImageClassificationWithTeacher\"], \"model_type\": \"deit\"");
    pc->vit_type      = strcmp(model_type, "vit") == 0;
    pc->info.arch     = pc->vit_type ? DEIT_ARCH_VIT_MODEL : DEIT_ARCH_DEIT_MODEL;
    pc->arch_explicit = false;
    return DEIT_STATUS_OK;
}

static enum deit_status cfg_act(JsonObject *o, struct parsed_config *pc, struct deit_error *err) {
    JsonNode *n = member(o, "hidden_act");
    if (!n) {
        pc->info.hidden_act = DEIT_ACT_GELU;
        return DEIT_STATUS_OK;
    }
    if (json_node_get_value_type(n) != G_TYPE_STRING)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"hidden_act\" must be a string");
    const char *a = json_node_get_string(n);
    /* transformers activations.py ACT2FN: "gelu" / "gelu_python" are the exact erf GELU;
     * "gelu_new", "gelu_pytorch_tanh", "gelu_fast" are the tanh approximation */
    if (strcmp(a, "gelu") == 0 || strcmp(a, "gelu_python") == 0) {
        pc->info.hidden_act = DEIT_ACT_GELU;
    } else if (strcmp(a, "gelu_new") == 0 || strcmp(a, "gelu_pytorch_tanh") == 0 || strcmp(a, "gelu_fast") == 0) {
        pc->info.hidden_act = DEIT_ACT_GELU_TANH;
    } else {
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_ACT,
                              "config.json: hidden_act \"%s\" is not supported; supported: \"gelu\" (exact), "
                              "\"gelu_new\", \"gelu_pytorch_tanh\", \"gelu_fast\" (tanh approximation)",
                              a);
    }
    return DEIT_STATUS_OK;
}

static enum deit_status cfg_labels(JsonObject *o, struct parsed_config *pc, struct deit_error *err) {
    JsonNode *idn = member(o, "id2label");
    int       num_labels_key = -1;
    JsonNode *nl  = member(o, "num_labels");
    if (nl) {
        enum deit_status st = cfg_int_value(nl, "num_labels", 0, MAX_LABELS, &num_labels_key, err);
        if (st != DEIT_STATUS_OK) return st;
    }
    if (!idn) {
        /* transformers PretrainedConfig: num_labels kwarg, else 2 */
        pc->n_labels = num_labels_key >= 0 ? num_labels_key : 2;
        pc->labels   = g_new0(char *, (size_t)pc->n_labels + 1);
        for (int i = 0; i < pc->n_labels; i++) pc->labels[i] = g_strdup_printf("LABEL_%d", i);
        return DEIT_STATUS_OK;
    }
    if (!JSON_NODE_HOLDS_OBJECT(idn))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: \"id2label\" must be an object {\"0\": \"label\", ...}");
    JsonObject *io = json_node_get_object(idn);
    guint       n  = json_object_get_size(io);
    if (n > MAX_LABELS)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: id2label has %u entries (at most %d)", n,
                              MAX_LABELS);
    if (num_labels_key >= 0 && (guint)num_labels_key != n)
        DEIT_LOG_WARN("config.json: num_labels is %d but id2label has %u entries; using id2label (as transformers does)",
                      num_labels_key, n);
    pc->n_labels        = (int)n;
    pc->labels          = g_new0(char *, (size_t)n + 1);
    GList *members      = json_object_get_members(io);
    enum deit_status st = DEIT_STATUS_OK;
    for (GList *l = members; l; l = l->next) {
        const char *key = l->data;
        guint64     id;
        JsonNode   *v = json_object_get_member(io, key);
        if (!g_ascii_string_to_unsigned(key, 10, 0, G_MAXINT32, &id, NULL)) {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                "config.json: id2label key \"%s\" is not a class index (0, 1, 2, ...)", key);
            break;
        }
        if (!v || JSON_NODE_TYPE(v) != JSON_NODE_VALUE || json_node_get_value_type(v) != G_TYPE_STRING) {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: id2label[\"%s\"] must be a string",
                                key);
            break;
        }
        if (id >= n) {
            DEIT_LOG_WARN("config.json: id2label has %u entries but names class %s; that label is ignored", n, key);
            continue;
        }
        g_free(pc->labels[id]);
        pc->labels[id] = g_strdup(json_node_get_string(v));
    }
    g_list_free(members);
    for (guint i = 0; i < n; i++)
        if (!pc->labels[i]) pc->labels[i] = g_strdup_printf("LABEL_%u", i);
    return st;
}

static enum deit_status cfg_validate(struct parsed_config *pc, struct deit_error *err) {
    struct deit_model_info *in = &pc->info;
    if (in->num_heads > in->hidden_size || in->hidden_size % in->num_heads != 0)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: hidden_size %d is not a multiple of num_attention_heads %d", in->hidden_size,
                              in->num_heads);
    if (in->patch_size > in->image_height || in->patch_size > in->image_width ||
        in->image_height % in->patch_size != 0 || in->image_width % in->patch_size != 0)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: image_size %dx%d is not a multiple of patch_size %d", in->image_height,
                              in->image_width, in->patch_size);
    int64_t patches = (int64_t)(in->image_height / in->patch_size) * (in->image_width / in->patch_size);
    in->head_dim          = in->hidden_size / in->num_heads;
    in->num_prefix_tokens = arch_is_vit(in->arch) ? 1 : 2;
    if (patches + in->num_prefix_tokens > MAX_TOKENS)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: image_size %dx%d with patch_size %d gives %lld patches (at most %d tokens)",
                              in->image_height, in->image_width, in->patch_size, (long long)patches, MAX_TOKENS);
    in->num_patches = (int)patches;
    in->num_tokens  = in->num_patches + in->num_prefix_tokens;
    in->num_labels  = arch_is_classifier(in->arch) ? pc->n_labels : 0;
    if (arch_is_classifier(in->arch) && in->num_labels < 1)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: %s needs at least one label (id2label is empty; an identity head is not "
                              "supported)",
                              deit_arch_to_string(in->arch));
    if (arch_is_mim(in->arch)) {
        /* reference: the decoder reshapes patch tokens to a square grid (int(sqrt(N))) and
         * pixel-shuffles by encoder_stride, so the output is image-sized only if
         * encoder_stride == patch_size (ViTForMaskedImageModeling checks the same) */
        if (in->image_height != in->image_width)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "config.json: masked image modeling needs a square image_size, found %dx%d",
                                  in->image_height, in->image_width);
        if (in->encoder_stride != in->patch_size)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "config.json: masked image modeling needs encoder_stride == patch_size (found %d and "
                                  "%d)",
                                  in->encoder_stride, in->patch_size);
    }
    if (!arch_is_base(in->arch)) in->pooler_output_size = 0;
    return DEIT_STATUS_OK;
}

static void parsed_config_clear(struct parsed_config *pc) {
    g_strfreev(pc->labels);
    g_free(pc->name);
    pc->labels = NULL;
    pc->name   = NULL;
}

static enum deit_status config_parse_full(const char *json, size_t len, struct parsed_config *pc,
                                          struct deit_error *err) {
    memset(pc, 0, sizeof *pc);
    if (!json) return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "config.json: no text given");
    GError     *gerr   = NULL;
    JsonParser *parser = json_parser_new_immutable();
    enum deit_status st = DEIT_STATUS_OK;
    if (!json_parser_load_from_data(parser, json, (gssize)len, &gerr)) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_JSON, "config.json is not valid JSON: %s; fix or re-download it",
                            gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        goto done;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_JSON, "config.json: top level must be a JSON object");
        goto done;
    }
    JsonObject             *o  = json_node_get_object(root);
    struct deit_model_info *in = &pc->info;
    int                     img[2], patch[2];
    if ((st = cfg_arch(o, pc, err)) || (st = cfg_act(o, pc, err)) ||
        (st = cfg_int(o, "hidden_size", 768, 1, MAX_HIDDEN, &in->hidden_size, err)) ||
        (st = cfg_int(o, "num_hidden_layers", 12, 1, MAX_LAYERS, &in->num_layers, err)) ||
        (st = cfg_int(o, "num_attention_heads", 12, 1, MAX_HIDDEN, &in->num_heads, err)) ||
        (st = cfg_int(o, "intermediate_size", 3072, 1, MAX_INTERMEDIATE, &in->intermediate_size, err)) ||
        (st = cfg_pair(o, "image_size", 224, 1, DEIT_MAX_IMAGE_DIM, img, err)) ||
        (st = cfg_pair(o, "patch_size", 16, 1, DEIT_MAX_IMAGE_DIM, patch, err)) ||
        (st = cfg_int(o, "num_channels", 3, 1, MAX_CHANNELS, &in->num_channels, err)) ||
        (st = cfg_int(o, "encoder_stride", 16, 1, MAX_STRIDE, &in->encoder_stride, err)) ||
        (st = cfg_int(o, "pooler_output_size", in->hidden_size, 1, MAX_HIDDEN, &in->pooler_output_size, err)) ||
        (st = cfg_labels(o, pc, err)))
        goto done;
    in->image_height = img[0];
    in->image_width  = img[1];
    if (patch[0] != patch[1]) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                            "config.json: patch_size %dx%d is not square; only square patches are supported", patch[0],
                            patch[1]);
        goto done;
    }
    in->patch_size = patch[0];

    JsonNode *n = member(o, "qkv_bias");
    in->qkv_bias = true;
    if (n) {
        if (JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"qkv_bias\" must be true or false");
            goto done;
        }
        in->qkv_bias = json_node_get_boolean(n);
    }
    double eps = 1e-12;
    if ((n = member(o, "layer_norm_eps"))) {
        GType t = JSON_NODE_TYPE(n) == JSON_NODE_VALUE ? json_node_get_value_type(n) : G_TYPE_INVALID;
        if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"layer_norm_eps\" must be a number");
            goto done;
        }
        eps = json_node_get_double(n);
        if (!(eps >= 0.0 && eps <= 1.0)) {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                "config.json: \"layer_norm_eps\" is %g; it must be in [0, 1]", eps);
            goto done;
        }
    }
    in->layer_norm_eps = (float)eps;   /* torch LayerNorm stores eps as double but adds it to float32 var */
    if ((n = member(o, "_name_or_path")) && JSON_NODE_TYPE(n) == JSON_NODE_VALUE &&
        json_node_get_value_type(n) == G_TYPE_STRING && json_node_get_string(n)[0])
        pc->name = g_strdup(json_node_get_string(n));
    st = cfg_validate(pc, err);

done:
    g_object_unref(parser);
    if (st != DEIT_STATUS_OK) parsed_config_clear(pc);
    return st;
}

enum deit_status deit_config_parse(const char *json, size_t len, struct deit_model_info *info, char ***labels,
                                   char **name, struct deit_error *err) {
    if (labels) *labels = NULL;
    if (name) *name = NULL;
    struct parsed_config pc;
    enum deit_status     st = config_parse_full(json, len, &pc, err);
    if (st != DEIT_STATUS_OK) return st;
    if (info) *info = pc.info;
    if (labels) {
        *labels = pc.labels;
        pc.labels = NULL;
    }
    if (name) {
        *name = pc.name;
        pc.name = NULL;
    }
    parsed_config_clear(&pc);
    return DEIT_STATUS_OK;
}

/* ---------------------------------------------------------------------------------------
 * weights: what the architecture needs
 */
struct want {
    char          name[192];
    const float **slot;
    int           n_dims;
    int64_t       shape[4];
};

static void want_add(GArray *wants, const float **slot, int n_dims, const int64_t *shape, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void want_add(GArray *wants, const float **slot, int n_dims, const int64_t *shape, const char *fmt, ...) {
    struct want w = { .slot = slot, .n_dims = n_dims };
    va_list     ap;
    va_start(ap, fmt);
    vsnprintf(w.name, sizeof w.name, fmt, ap);
    va_end(ap);
    memcpy(w.shape, shape, (size_t)n_dims * sizeof shape[0]);
    g_array_append_val(wants, w);
}
/* the backbone (embeddings, encoder layers, final layernorm); pre = "deit." / "vit." / "" */
static void wants_backbone(GArray *wants, struct deit_model *m, const char *pre) {
    const struct deit_model_info *in = &m->info;
    struct deit_weights          *w  = &m->w;
    int64_t D = in->hidden_size, I = in->intermediate_size, T = in->num_tokens, C = in->num_channels,
            P = in->patch_size;
    const int64_t d1[] = { D }, dd[] = { D, D }, tok[] = { 1, 1, D }, pos[] = { 1, T, D }, pw[] = { D, C, P, P },
                  id[] = { I, D }, di[] = { D, I }, i1[] = { I };
    want_add(wants, &w->cls_token, 3, tok, "%sembeddings.cls_token", pre);
    if (!arch_is_vit(in->arch)) want_add(wants, &w->dist_token, 3, tok, "%sembeddings.distillation_token", pre);
    if (arch_is_mim(in->arch)) want_add(wants, &w->mask_token, 3, tok, "%sembeddings.mask_token", pre);
    want_add(wants, &w->pos_embed, 3, pos, "%sembeddings.position_embeddings", pre);
    want_add(wants, &w->patch_w, 4, pw, "%sembeddings.patch_embeddings.projection.weight", pre);
    want_add(wants, &w->patch_b, 1, d1, "%sembeddings.patch_embeddings.projection.bias", pre);
    for (int i = 0; i < in->num_layers; i++) {
        struct deit_layer_weights *l = &w->layers[i];
        const char                *q = "attention.attention";
        want_add(wants, &l->ln1_w, 1, d1, "%sencoder.layer.%d.layernorm_before.weight", pre, i);
        want_add(wants, &l->ln1_b, 1, d1, "%sencoder.layer.%d.layernorm_before.bias", pre, i);
        want_add(wants, &l->q_w, 2, dd, "%sencoder.layer.%d.%s.query.weight", pre, i, q);
        if (in->qkv_bias) want_add(wants, &l->q_b, 1, d1, "%sencoder.layer.%d.%s.query.bias", pre, i, q);
        want_add(wants, &l->k_w, 2, dd, "%sencoder.layer.%d.%s.key.weight", pre, i, q);
        if (in->qkv_bias) want_add(wants, &l->k_b, 1, d1, "%sencoder.layer.%d.%s.key.bias", pre, i, q);
        want_add(wants, &l->v_w, 2, dd, "%sencoder.layer.%d.%s.value.weight", pre, i, q);
        if (in->qkv_bias) want_add(wants, &l->v_b, 1, d1, "%sencoder.layer.%d.%s.value.bias", pre, i, q);
        want_add(wants, &l->o_w, 2, dd, "%sencoder.layer.%d.attention.output.dense.weight", pre, i);
        want_add(wants, &l->o_b, 1, d1, "%sencoder.layer.%d.attention.output.dense.bias", pre, i);
        want_add(wants, &l->ln2_w, 1, d1, "%sencoder.layer.%d.layernorm_after.weight", pre, i);
        want_add(wants, &l->ln2_b, 1, d1, "%sencoder.layer.%d.layernorm_after.bias", pre, i);
        want_add(wants, &l->fc1_w, 2, id, "%sencoder.layer.%d.intermediate.dense.weight", pre, i);
        want_add(wants, &l->fc1_b, 1, i1, "%sencoder.layer.%d.intermediate.dense.bias", pre, i);
        want_add(wants, &l->fc2_w, 2, di, "%sencoder.layer.%d.output.dense.weight", pre, i);
        want_add(wants, &l->fc2_b, 1, d1, "%sencoder.layer.%d.output.dense.bias", pre, i);
    }
    want_add(wants, &w->ln_f_w, 1, d1, "%slayernorm.weight", pre);
    want_add(wants, &w->ln_f_b, 1, d1, "%slayernorm.bias", pre);
}

static void wants_head(GArray *wants, struct deit_model *m, const char *pre, bool has_pooler) {
    const struct deit_model_info *in = &m->info;
    struct deit_weights          *w  = &m->w;
    int64_t       D = in->hidden_size, K = in->num_labels, Dp = in->pooler_output_size;
    int64_t       R = (int64_t)in->encoder_stride * in->encoder_stride * in->num_channels;
    const int64_t kd[] = { K, D }, k1[] = { K }, pd[] = { Dp, D }, p1[] = { Dp }, rw[] = { R, D, 1, 1 }, r1[] = { R };
    switch (in->arch) {
    case DEIT_ARCH_DEIT_WITH_TEACHER:
        want_add(wants, &w->head_w, 2, kd, "cls_classifier.weight");
        want_add(wants, &w->head_b, 1, k1, "cls_classifier.bias");
        want_add(wants, &w->head_dist_w, 2, kd, "distillation_classifier.weight");
        want_add(wants, &w->head_dist_b, 1, k1, "distillation_classifier.bias");
        break;
    case DEIT_ARCH_DEIT_CLASSIFICATION:
    case DEIT_ARCH_VIT_CLASSIFICATION:
        want_add(wants, &w->head_w, 2, kd, "classifier.weight");
        want_add(wants, &w->head_b, 1, k1, "classifier.bias");
        break;
    case DEIT_ARCH_DEIT_MIM:
    case DEIT_ARCH_VIT_MIM:
        want_add(wants, &w->decoder_w, 4, rw, "decoder.0.weight");
        want_add(wants, &w->decoder_b, 1, r1, "decoder.0.bias");
        break;
    case DEIT_ARCH_DEIT_MODEL:
    case DEIT_ARCH_VIT_MODEL:
        if (has_pooler) {
            want_add(wants, &w->pooler_w, 2, pd, "%spooler.dense.weight", pre);
            want_add(wants, &w->pooler_b, 1, p1, "%spooler.dense.bias", pre);
        }
        break;
    }
}

/* ---------------------------------------------------------------------------------------
 * weights: guessing what a file holds (hints, and the class when config.json has none)
 */
static bool has(const struct deit_tensor_file *tf, const char *name) { return deit_tensor_file_find(tf, name) != NULL; }

/* returns false when the file holds no DeiT/ViT backbone we know; *timm set for timm names */
static bool guess_arch(const struct deit_tensor_file *tf, enum deit_arch *arch, const char **prefix, bool *timm) {
    *timm = has(tf, "patch_embed.proj.weight") || has(tf, "blocks.0.attn.qkv.weight");
    const char *p;
    if (has(tf, "deit.embeddings.cls_token")) p = "deit.";
    else if (has(tf, "vit.embeddings.cls_token")) p = "vit.";
    else if (has(tf, "embeddings.cls_token")) p = "";
    else return false;
    char buf[96];
    snprintf(buf, sizeof buf, "%sembeddings.distillation_token", p);
    bool deit = has(tf, buf) || strcmp(p, "deit.") == 0;
    if (has(tf, "cls_classifier.weight")) *arch = DEIT_ARCH_DEIT_WITH_TEACHER;
    else if (has(tf, "decoder.0.weight")) *arch = deit ? DEIT_ARCH_DEIT_MIM : DEIT_ARCH_VIT_MIM;
    else if (has(tf, "classifier.weight")) *arch = deit ? DEIT_ARCH_DEIT_CLASSIFICATION : DEIT_ARCH_VIT_CLASSIFICATION;
    else *arch = deit ? DEIT_ARCH_DEIT_MODEL : DEIT_ARCH_VIT_MODEL;
    *prefix = p;
    return true;
}

static enum deit_status missing_error(const struct deit_model *m, const struct deit_tensor_file *tf,
                                      const char *tensor, const char *source, struct deit_error *err) {
    enum deit_arch g;
    const char    *gp;
    bool           timm = false;
    bool           ok   = guess_arch(tf, &g, &gp, &timm);
    const char    *cfg  = deit_arch_to_string(m->info.arch);
    char           hint[512];
    if (timm && !ok)
        snprintf(hint, sizeof hint,
                 "the file uses timm key names (e.g. 'patch_embed.proj.weight'): convert it with transformers' "
                 "convert_deit_timm_to_pytorch.py first");
    else if (ok && g != m->info.arch)
        snprintf(hint, sizeof hint,
                 "is this a %s checkpoint? config.json names %s: fix \"architectures\" in config.json or use the "
                 "weights that belong to it",
                 deit_arch_to_string(g), cfg);
    else if (!ok)
        snprintf(hint, sizeof hint, "the file holds no DeiT/ViT embeddings; is it the right file for this config.json?");
    else
        snprintf(hint, sizeof hint,
                 "check that config.json (num_hidden_layers %d, qkv_bias %s) and the weights come from the same "
                 "checkpoint",
                 m->info.num_layers, m->info.qkv_bias ? "true" : "false");
    return deit_set_error(err, DEIT_STATUS_ERROR_MISSING_TENSOR, "%s: tensor '%s' needed by %s is missing; %s", source,
                          tensor, cfg, hint);
}

/* ---------------------------------------------------------------------------------------
 * weights: check and bind
 */
static void fmt_shape(char *buf, size_t n, const int64_t *shape, int n_dims) {
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < n_dims && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

static enum deit_status check_tensor(const struct deit_model *m, const struct want *w, const struct deit_tensor *t,
                                     const char *source, struct deit_error *err) {
    if (t->dtype == DEIT_DTYPE_OTHER)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_DTYPE,
                              "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16 (re-export the checkpoint "
                              "in float32)",
                              source, t->name, t->dtype_name);
    bool same = t->n_dims == w->n_dims;
    for (int i = 0; same && i < w->n_dims; i++) same = t->shape[i] == w->shape[i];
    if (same) return DEIT_STATUS_OK;
    char e[128], f[192];
    fmt_shape(e, sizeof e, w->shape, w->n_dims);
    fmt_shape(f, sizeof f, t->shape, t->n_dims);
    const struct deit_model_info *in = &m->info;
    return deit_set_error(err, DEIT_STATUS_ERROR_BAD_SHAPE,
                          "%s: tensor '%s': expected %s, found %s; config.json (hidden_size %d, intermediate_size %d, "
                          "image_size %dx%d, patch_size %d, num_channels %d, num_labels %d, encoder_stride %d) does "
                          "not match the weights",
                          source, t->name, e, f, in->hidden_size, in->intermediate_size, in->image_height,
                          in->image_width, in->patch_size, in->num_channels, in->num_labels, in->encoder_stride);
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Find every wanted tensor, check it, then point the slots at the data (in place) or at
 * converted copies in m->owned. in_place: the bytes outlive the model (mmap / caller). */
static enum deit_status bind_weights(struct deit_model *m, const struct deit_tensor_file *tf, GArray *wants,
                                     const char *alt_prefix, bool in_place, const char *source,
                                     struct deit_error *err) {
    size_t                     n    = wants->len;
    const struct deit_tensor **hits = g_new0(const struct deit_tensor *, n);
    size_t                     owned = 0, total = 0, copied = 0;
    enum deit_status           st    = DEIT_STATUS_OK;
    for (size_t i = 0; i < n && st == DEIT_STATUS_OK; i++) {
        struct want              *w = &g_array_index(wants, struct want, i);
        const struct deit_tensor *t = deit_tensor_file_find(tf, w->name);
        if (!t && alt_prefix) {  /* bare models: also accept "deit." / "vit." keys */
            char alt[256];
            snprintf(alt, sizeof alt, "%s%s", alt_prefix, w->name);
            t = deit_tensor_file_find(tf, alt);
        }
        if (!t) {
            st = missing_error(m, tf, w->name, source, err);
            break;
        }
        if ((st = check_tensor(m, w, t, source, err)) != DEIT_STATUS_OK) break;
        hits[i]      = t;
        size_t numel = t->dtype == DEIT_DTYPE_F32 ? t->n_bytes / 4 : t->n_bytes / 2;
        total += numel * 4;
        if (!in_place || t->dtype != DEIT_DTYPE_F32 || ((uintptr_t)t->data & 3u) != 0) {
            owned += align64(numel * 4);
            copied += numel * 4;
        }
    }
    if (st == DEIT_STATUS_OK && owned > 0) {
        if (posix_memalign(&m->owned, 64, owned) != 0) {
            m->owned = NULL;
            st = deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY, "cannot allocate %zu bytes for converted weights",
                                owned);
        }
        m->owned_size = owned;
    }
    uint8_t *dst = m->owned;
    for (size_t i = 0; i < n && st == DEIT_STATUS_OK; i++) {
        struct want              *w = &g_array_index(wants, struct want, i);
        const struct deit_tensor *t = hits[i];
        if (in_place && t->dtype == DEIT_DTYPE_F32 && ((uintptr_t)t->data & 3u) == 0) {
            *w->slot = (const float *)(const void *)t->data;
            continue;
        }
        float *out = (float *)(void *)dst;
        if (t->dtype == DEIT_DTYPE_F32) {
            memcpy(out, t->data, t->n_bytes);
            dst += align64(t->n_bytes);
        } else {
            size_t count = t->n_bytes / 2;
            for (size_t k = 0; k < count; k++) {
                uint16_t h = (uint16_t)(t->data[2 * k] | (t->data[2 * k + 1] << 8));   /* little endian */
                out[k]     = t->dtype == DEIT_DTYPE_F16 ? deit_fp16_to_fp32(h) : deit_bf16_to_fp32(h);
            }
            dst += align64(count * 4);
        }
        *w->slot = out;
    }
    if (st == DEIT_STATUS_OK) {
        m->info.weight_bytes        = total;
        m->info.weight_bytes_copied = copied;
        /* extra tensors are fine (e.g. position_ids buffers, unused heads) */
        if (deit_log_enabled()) {
            GHashTable *used = g_hash_table_new(g_direct_hash, g_direct_equal);
            for (size_t i = 0; i < n; i++) g_hash_table_add(used, (gpointer)hits[i]);
            for (size_t i = 0; i < tf->n_tensors; i++)
                if (!g_hash_table_contains(used, &tf->tensors[i]))
                    DEIT_LOG_DEBUG("%s: ignoring tensor '%s' (not used by %s)", source, tf->tensors[i].name,
                                   deit_arch_to_string(m->info.arch));
            g_hash_table_destroy(used);
        }
    }
    g_free(hits);
    return st;
}

static enum deit_status load_weights(struct deit_model *m, bool arch_explicit, const struct deit_tensor_file *tf,
                                     bool in_place, const char *source, struct deit_error *err) {
    struct deit_model_info *in = &m->info;
    enum deit_arch          g;
    const char             *gp;
    bool                    timm;
    if (!arch_explicit && guess_arch(tf, &g, &gp, &timm) && arch_is_vit(g) == arch_is_vit(in->arch)) {
        DEIT_LOG_INFO("config.json has no \"architectures\"; the weights look like %s", deit_arch_to_string(g));
        in->arch = g;
        if (arch_is_classifier(g)) in->num_labels = (int)g_strv_length(m->labels);
        else in->num_labels = 0;
        if (!arch_is_base(g)) in->pooler_output_size = 0;
    }
    const char *fam = arch_is_vit(in->arch) ? "vit." : "deit.";
    const char *pre = fam, *alt = NULL;
    if (arch_is_base(in->arch)) {
        pre = "";
        alt = fam;
        /* a bare model's keys have no prefix; a head checkpoint loaded as the bare model has */
        char buf[64];
        snprintf(buf, sizeof buf, "%sembeddings.cls_token", fam);
        if (!has(tf, "embeddings.cls_token") && has(tf, buf)) {
            pre = fam;
            alt = NULL;
        }
    }
    bool has_pooler = false;
    if (arch_is_base(in->arch)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%spooler.dense.weight", pre);
        has_pooler = has(tf, buf);
        if (!has_pooler) in->pooler_output_size = 0;
    }
    if (in->num_layers > 0) m->w.layers = g_new0(struct deit_layer_weights, (size_t)in->num_layers);
    GArray *wants = g_array_new(FALSE, TRUE, sizeof(struct want));
    wants_backbone(wants, m, pre);
    wants_head(wants, m, pre, has_pooler);
    enum deit_status st = bind_weights(m, tf, wants, alt, in_place, source, err);
    g_array_free(wants, TRUE);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * model
 */
void deit_model_free(struct deit_model *model) {
    if (!model) return;
    g_strfreev(model->labels);
    g_free(model->name);
    g_free(model->w.layers);
    free(model->owned);
    if (model->map) munmap(model->map, model->map_size);
    g_free(model);
}

const struct deit_model_info *deit_model_get_info(const struct deit_model *model) { return model ? &model->info : NULL; }

const struct deit_preprocess_config *deit_model_get_preprocess_config(const struct deit_model *model) {
    return model ? &model->preprocess : NULL;
}

const char *deit_model_get_label(const struct deit_model *model, int class_id) {
    if (!model || class_id < 0 || class_id >= model->info.num_labels) return NULL;
    return model->labels[class_id];
}

static struct deit_model *model_from_config(struct parsed_config *pc, const char *fallback_name) {
    struct deit_model *m = g_new0(struct deit_model, 1);
    m->info              = pc->info;
    m->labels            = pc->labels;
    m->name              = pc->name ? pc->name : g_strdup(fallback_name);
    m->info.name         = m->name;
    pc->labels           = NULL;
    pc->name             = NULL;
    return m;
}

/* parse the weight file in blob and bind the model's weights. On success with in-place
 * tensors the blob's mapping moves into the model. */
static enum deit_status model_bind_blob(struct deit_model *m, bool arch_explicit, struct deit_blob *blob,
                                        const char *source, struct deit_error *err) {
    struct deit_tensor_file tf = { 0 };
    enum deit_status        st;
    const uint8_t          *d = blob->data;
    if (blob->size >= 9 && d[8] == '{') {
        st = deit_safetensors_parse(&tf, d, blob->size, source, err);
    } else if (blob->size >= 4 && memcmp(d, "PK\x03\x04", 4) == 0) {
        st = deit_torchbin_parse(&tf, d, blob->size, source, err);
    } else if (blob->size >= 2 && d[0] == 0x80 && d[1] <= 5) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                            "%s is a legacy (pre-1.6, non-zip) torch.save file, which is not supported; re-save it "
                            "with torch.save(torch.load(path), path) from torch >= 1.6, or convert it to "
                            "model.safetensors",
                            source);
    } else {
        st = deit_safetensors_parse(&tf, d, blob->size, source, err);   /* reports the header problem */
    }
    if (st != DEIT_STATUS_OK) return st;
    bool in_place = blob->heap == NULL;   /* mmap or caller memory: stays valid */
    st            = load_weights(m, arch_explicit, &tf, in_place, source, err);
    if (st == DEIT_STATUS_OK && in_place && blob->map && m->info.weight_bytes_copied < m->info.weight_bytes) {
        m->map      = blob->map;           /* some tensors point into the mapping: keep it */
        m->map_size = blob->size;
        blob->map   = NULL;
    }
    deit_tensor_file_free(&tf);
    return st;
}

static void log_summary(const struct deit_model *m, const char *source) {
    const struct deit_model_info *in = &m->info;
    DEIT_LOG_INFO("%s: %s, D=%d L=%d H=%d I=%d, image %dx%d patch %d, %d tokens, %d labels, %s, eps %g, "
                  "qkv_bias %d, pooler %d, weights %.1f MB (%.1f MB copied) from %s",
                  in->name, deit_arch_to_string(in->arch), in->hidden_size, in->num_layers, in->num_heads,
                  in->intermediate_size, in->image_height, in->image_width, in->patch_size, in->num_tokens,
                  in->num_labels, in->hidden_act == DEIT_ACT_GELU ? "gelu" : "gelu (tanh)", (double)in->layer_norm_eps,
                  in->qkv_bias, in->pooler_output_size, (double)in->weight_bytes / 1e6,
                  (double)in->weight_bytes_copied / 1e6, source);
}

static enum deit_status find_weights(const char *dir, const struct deit_model_params *p, char **path,
                                     struct deit_error *err) {
    *path = NULL;
    if (p->weights_path) {
        if (g_file_test(p->weights_path, G_FILE_TEST_EXISTS)) {
            *path = g_strdup(p->weights_path);
            return DEIT_STATUS_OK;
        }
        char *in_dir = g_build_filename(dir, p->weights_path, NULL);
        if (!g_path_is_absolute(p->weights_path) && g_file_test(in_dir, G_FILE_TEST_EXISTS)) {
            *path = in_dir;
            return DEIT_STATUS_OK;
        }
        g_free(in_dir);
        return deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND, "weight file %s does not exist", p->weights_path);
    }
    static const char *const names[] = { "model.safetensors", "pytorch_model.bin" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        char *f = g_build_filename(dir, names[i], NULL);
        if (g_file_test(f, G_FILE_TEST_EXISTS)) {
            *path = f;
            return DEIT_STATUS_OK;
        }
        g_free(f);
    }
    static const char *const sharded[] = { "model.safetensors.index.json", "pytorch_model.bin.index.json" };
    for (size_t i = 0; i < G_N_ELEMENTS(sharded); i++) {
        char *f   = g_build_filename(dir, sharded[i], NULL);
        bool  yes = g_file_test(f, G_FILE_TEST_EXISTS);
        g_free(f);
        if (yes)
            return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                                  "%s holds a sharded checkpoint (%s), which is not supported; merge the shards into "
                                  "one model.safetensors",
                                  dir, sharded[i]);
    }
    return deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                          "%s has neither model.safetensors nor pytorch_model.bin; download the weights of the "
                          "checkpoint into it",
                          dir);
}

struct deit_model *deit_model_load(const char *dir, const struct deit_model_params *params, struct deit_error *err) {
    if (err) {
        err->status     = DEIT_STATUS_OK;
        err->message[0] = 0;
    }
    if (!dir) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "deit_model_load: dir is NULL");
        return NULL;
    }
    struct deit_model_params p = params ? *params : deit_model_default_params();
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                       g_file_test(dir, G_FILE_TEST_EXISTS)
                           ? "%s is not a directory; pass the checkpoint directory that holds config.json"
                           : "model directory %s does not exist",
                       dir);
        return NULL;
    }
    struct deit_model   *m = NULL;
    struct parsed_config pc;
    memset(&pc, 0, sizeof pc);
    char            *cfg_path = g_build_filename(dir, "config.json", NULL);
    char            *pp_path  = g_build_filename(dir, "preprocessor_config.json", NULL);
    char            *w_path   = NULL, *text = NULL, *base = NULL;
    gsize            len      = 0;
    GError          *gerr     = NULL;
    struct deit_blob blob     = { 0 };
    if (!g_file_get_contents(cfg_path, &text, &len, &gerr)) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                           "%s not found: a checkpoint directory needs config.json (and model.safetensors or "
                           "pytorch_model.bin) as downloaded from the Hugging Face Hub",
                           cfg_path);
        else
            deit_set_error(err, DEIT_STATUS_ERROR_IO, "cannot read %s: %s", cfg_path, gerr->message);
        g_clear_error(&gerr);
        goto fail;
    }
    if (config_parse_full(text, len, &pc, err) != DEIT_STATUS_OK) goto fail;
    base = g_path_get_basename(dir);
    m    = model_from_config(&pc, base);
    const char *ptype = pc.vit_type ? "vit" : "deit";
    if (g_file_test(pp_path, G_FILE_TEST_EXISTS)) {
        if (deit_preprocess_config_load(pp_path, ptype, &m->preprocess, err) != DEIT_STATUS_OK) goto fail;
    } else {
        DEIT_LOG_WARN("%s not found; using the defaults of %s", pp_path,
                      pc.vit_type ? "ViTImageProcessor" : "DeiTImageProcessor");
        m->preprocess = deit_preprocess_default_config(ptype);
    }
    if (find_weights(dir, &p, &w_path, err) != DEIT_STATUS_OK) goto fail;
    if (deit_blob_open(&blob, w_path, p.use_mmap, err) != DEIT_STATUS_OK) goto fail;
    if (model_bind_blob(m, pc.arch_explicit, &blob, w_path, err) != DEIT_STATUS_OK) goto fail;
    deit_blob_close(&blob);
    log_summary(m, w_path);
    g_free(cfg_path);
    g_free(pp_path);
    g_free(w_path);
    g_free(text);
    g_free(base);
    return m;

fail:
    deit_blob_close(&blob);
    deit_model_free(m);
    parsed_config_clear(&pc);
    g_free(cfg_path);
    g_free(pp_path);
    g_free(w_path);
    g_free(text);
    g_free(base);
    return NULL;
}

struct deit_model *deit_model_load_from_memory(const char *config_json, size_t config_len,
                                               const char *preprocessor_json, size_t preprocessor_len,
                                               const void *safetensors, size_t safetensors_len,
                                               struct deit_error *err) {
    if (err) {
        err->status     = DEIT_STATUS_OK;
        err->message[0] = 0;
    }
    if (!config_json || !safetensors) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "deit_model_load_from_memory: config_json and the weights "
                                                           "are required");
        return NULL;
    }
    struct parsed_config pc;
    if (config_parse_full(config_json, config_len, &pc, err) != DEIT_STATUS_OK) return NULL;
    struct deit_model *m     = model_from_config(&pc, "(memory)");
    const char        *ptype = pc.vit_type ? "vit" : "deit";
    struct deit_blob   blob;
    if (preprocessor_json) {
        if (deit_preprocess_config_parse(preprocessor_json, preprocessor_len, ptype, &m->preprocess, err) !=
            DEIT_STATUS_OK)
            goto fail;
    } else {
        m->preprocess = deit_preprocess_default_config(ptype);
    }
    deit_blob_from_memory(&blob, safetensors, safetensors_len);
    if (model_bind_blob(m, pc.arch_explicit, &blob, "weights (memory)", err) != DEIT_STATUS_OK) goto fail;
    log_summary(m, "memory");
    parsed_config_clear(&pc);
    return m;
fail:
    deit_model_free(m);
    parsed_config_clear(&pc);
    return NULL;
}
