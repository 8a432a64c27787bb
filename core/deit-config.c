/* deit-config.c - the two JSON files of a checkpoint directory: config.json (model
 * hyperparameters, architecture, labels) and preprocessor_config.json (what
 * DeiTImageProcessor / ViTImageProcessor do to an image), parsed and range-checked.
 *
 * Sources for key names and defaults: transformers configuration_deit.py /
 * configuration_vit.py (DeiTConfig, ViTConfig), configuration_utils.py (PretrainedConfig:
 * id2label, num_labels), image_processing_deit.py / image_processing_vit.py (processor
 * defaults) and image_processing_utils.py (get_size_dict: the forms "size" can take).
 * Files are read and parsed with the bounds of deit-io.c.
 */
#include "deit-io.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* sanity bounds for config values: far above any released checkpoint, low enough that
 * every size product below fits in 64 bits */
#define MAX_HIDDEN       65536
#define MAX_LAYERS       1024
#define MAX_INTERMEDIATE (1 << 20)
#define MAX_CHANNELS     64
#define MAX_STRIDE       1024
#define MAX_LABELS       (1 << 20)
#define MAX_TOKENS       ((1 << 20) + 2)

/* ---------------------------------------------------------------------------------------
 * config.json
 */

static const enum deit_arch all_archs[] = {
    DEIT_ARCH_DEIT_WITH_TEACHER, DEIT_ARCH_DEIT_CLASSIFICATION, DEIT_ARCH_DEIT_MODEL, DEIT_ARCH_DEIT_MIM,
    DEIT_ARCH_VIT_CLASSIFICATION, DEIT_ARCH_VIT_MODEL,         DEIT_ARCH_VIT_MIM,
};

static enum deit_status cfg_int_value(JsonNode *n, const char *key, int lo, int hi, int *out, struct deit_error *err) {
    int64_t v;
    if (!deit_json_int(n, &v))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"%s\" must be an integer", key);
    if (v < lo || v > hi)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"%s\" is %lld; it must be in [%d, %d]",
                              key, (long long)v, lo, hi);
    *out = (int)v;
    return DEIT_STATUS_OK;
}

static enum deit_status cfg_int(JsonObject *o, const char *key, int def, int lo, int hi, int *out,
                                struct deit_error *err) {
    JsonNode *n = deit_json_member(o, key);
    if (!n) {
        *out = def;
        return DEIT_STATUS_OK;
    }
    return cfg_int_value(n, key, lo, hi, out, err);
}

/* int or [a, b] (image_size, patch_size) */
static enum deit_status cfg_pair(JsonObject *o, const char *key, int def, int lo, int hi, int out[2],
                                 struct deit_error *err) {
    JsonNode *n = deit_json_member(o, key);
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

static enum deit_status cfg_arch(JsonObject *o, struct deit_parsed_config *pc, struct deit_error *err) {
    const char *model_type = NULL;
    JsonNode   *mt         = deit_json_member(o, "model_type");
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
    JsonNode   *an        = deit_json_member(o, "architectures");
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
        pc->vit_type      = model_type ? strcmp(model_type, "vit") == 0 : deit_arch_is_vit(pc->info.arch);
        if (model_type && pc->vit_type != deit_arch_is_vit(pc->info.arch))
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

/* transformers activations.py ACT2FN, the parameter-free entries: "gelu" / "gelu_python"
 * are the exact erf GELU; "gelu_new", "gelu_pytorch_tanh", "gelu_fast" and
 * "gelu_accurate" the same tanh approximation (gelu_fast's 0.7978845608 is sqrt(2/pi));
 * "swish" is nn.SiLU. Not here: "prelu" and "xielu", which have weights of their own. */
static const struct {
    const char   *name;
    enum deit_act act;
} act_names[] = {
    { "gelu", DEIT_ACT_GELU },           { "gelu_python", DEIT_ACT_GELU },       { "gelu_new", DEIT_ACT_GELU_TANH },
    { "gelu_pytorch_tanh", DEIT_ACT_GELU_TANH }, { "gelu_fast", DEIT_ACT_GELU_TANH },
    { "gelu_accurate", DEIT_ACT_GELU_TANH }, { "quick_gelu", DEIT_ACT_QUICK_GELU }, { "relu", DEIT_ACT_RELU },
    { "silu", DEIT_ACT_SILU },           { "swish", DEIT_ACT_SILU },             { "gelu_10", DEIT_ACT_GELU_10 },
    { "relu6", DEIT_ACT_RELU6 },         { "relu2", DEIT_ACT_RELU2 },            { "leaky_relu", DEIT_ACT_LEAKY_RELU },
    { "sigmoid", DEIT_ACT_SIGMOID },     { "tanh", DEIT_ACT_TANH },              { "linear", DEIT_ACT_LINEAR },
    { "mish", DEIT_ACT_MISH },           { "laplace", DEIT_ACT_LAPLACE },
};
#define ACT_NAMES                                                                                                    \
    "\"gelu\", \"gelu_python\", \"gelu_new\", \"gelu_pytorch_tanh\", \"gelu_fast\", \"gelu_accurate\", "         \
    "\"quick_gelu\", \"relu\", \"silu\", \"swish\", \"gelu_10\", \"relu6\", \"relu2\", \"leaky_relu\", "           \
    "\"sigmoid\", \"tanh\", \"linear\", \"mish\", \"laplace\""

static bool act_from_name(const char *name, enum deit_act *out) {
    for (size_t i = 0; i < G_N_ELEMENTS(act_names); i++)
        if (strcmp(name, act_names[i].name) == 0) {
            *out = act_names[i].act;
            return true;
        }
    return false;
}

static enum deit_status cfg_act(JsonObject *o, struct deit_parsed_config *pc, struct deit_error *err) {
    JsonNode *n = deit_json_member(o, "hidden_act");
    pc->info.hidden_act = DEIT_ACT_GELU;
    if (n && json_node_get_value_type(n) != G_TYPE_STRING)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"hidden_act\" must be a string");
    const char *a = n ? json_node_get_string(n) : NULL;
    if (a && !act_from_name(a, &pc->info.hidden_act))
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_ACT,
                              "config.json: hidden_act \"%s\" is not supported; supported: %s", a, ACT_NAMES);
    /* reference: ViTPooler / DeiTPooler: activation = ACT2FN[config.pooler_act], "tanh"
     * by default (ViTConfig / DeiTConfig). Only the bare models have a pooler (the heads
     * build their backbone with add_pooling_layer=False and never look the name up), so
     * a head's config with a name we do not run still loads, as in transformers. */
    pc->info.pooler_act = DEIT_ACT_TANH;
    if ((n = deit_json_member(o, "pooler_act"))) {
        if (JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"pooler_act\" must be a string");
        a = json_node_get_string(n);
        if (!act_from_name(a, &pc->info.pooler_act)) {
            if (pc->arch_explicit && !deit_arch_is_base(pc->info.arch))
                DEIT_LOG_INFO("config.json: pooler_act \"%s\" ignored: %s has no pooler", a,
                              deit_arch_to_string(pc->info.arch));
            else
                return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_ACT,
                                      "config.json: pooler_act \"%s\" is not supported; supported: %s", a,
                                      ACT_NAMES);
        }
    }
    return DEIT_STATUS_OK;
}

static enum deit_status cfg_labels(JsonObject *o, struct deit_parsed_config *pc, struct deit_error *err) {
    JsonNode *idn = deit_json_member(o, "id2label");
    int       num_labels_key = -1;
    JsonNode *nl  = deit_json_member(o, "num_labels");
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
        /* json-glib turns a lone surrogate escape ("\ud800") into bytes that are not
         * UTF-8; labels end up in GValues, bus messages and JSON, which need UTF-8 */
        const char *label = json_node_get_string(v);
        g_free(pc->labels[id]);
        if (g_utf8_validate(label, -1, NULL)) {
            pc->labels[id] = g_strdup(label);
        } else {
            pc->labels[id] = g_utf8_make_valid(label, -1);
            DEIT_LOG_WARN("config.json: id2label[\"%s\"] is not valid UTF-8 (a lone surrogate escape?); "
                          "invalid bytes replaced by U+FFFD",
                          key);
        }
    }
    g_list_free(members);
    for (guint i = 0; i < n; i++)
        if (!pc->labels[i]) pc->labels[i] = g_strdup_printf("LABEL_%u", i);
    return st;
}

/* What an architecture needs of the config: a classifier at least one label, masked image
 * modeling a square image. Run again by the model loader when config.json names no
 * architecture and the weights decide it. */
enum deit_status deit_config_check_arch(const struct deit_model_info *in, struct deit_error *err) {
    if (deit_arch_is_classifier(in->arch) && in->num_labels < 1)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: %s needs at least one label (id2label is empty; an identity head is not "
                              "supported)",
                              deit_arch_to_string(in->arch));
    if (deit_arch_is_mim(in->arch)) {
        /* reference: the decoder reshapes patch tokens to a square grid (int(sqrt(N))) and
         * pixel-shuffles by encoder_stride: the reconstruction is (grid * encoder_stride)
         * pixels a side, the image size only when encoder_stride == patch_size. transformers'
         * ViTForMaskedImageModeling refuses the other case only with bool_masked_pos (so
         * does deit_state_run, for a mask with a masked patch) */
        if (in->image_height != in->image_width)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "config.json: masked image modeling needs a square image_size, found %dx%d",
                                  in->image_height, in->image_width);
    }
    return DEIT_STATUS_OK;
}

static enum deit_status cfg_validate(struct deit_parsed_config *pc, struct deit_error *err) {
    struct deit_model_info *in = &pc->info;
    if (in->num_heads > in->hidden_size || in->hidden_size % in->num_heads != 0)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: hidden_size %d is not a multiple of num_attention_heads %d", in->hidden_size,
                              in->num_heads);
    /* reference: ViTPatchEmbeddings is a Conv2d with kernel = stride = patch_size, so an
     * image_size that is not a multiple of patch_size runs in transformers: the grid is
     * (H // P) x (W // P) and the last H % P rows and W % P columns are never read */
    if (in->patch_size > in->image_height || in->patch_size > in->image_width)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: image_size %dx%d is smaller than patch_size %d (no patch fits)",
                              in->image_height, in->image_width, in->patch_size);
    int64_t patches = (int64_t)(in->image_height / in->patch_size) * (in->image_width / in->patch_size);
    in->head_dim          = in->hidden_size / in->num_heads;
    in->num_prefix_tokens = deit_arch_is_vit(in->arch) ? 1 : 2;
    if (patches + in->num_prefix_tokens > MAX_TOKENS)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "config.json: image_size %dx%d with patch_size %d gives %lld patches (at most %d tokens)",
                              in->image_height, in->image_width, in->patch_size, (long long)patches, MAX_TOKENS);
    in->num_patches = (int)patches;
    in->num_tokens  = in->num_patches + in->num_prefix_tokens;
    in->num_labels  = deit_arch_is_classifier(in->arch) ? pc->n_labels : 0;
    enum deit_status st = deit_config_check_arch(in, err);
    if (st != DEIT_STATUS_OK) return st;
    if (!deit_arch_is_base(in->arch)) in->pooler_output_size = 0;
    return DEIT_STATUS_OK;
}

void deit_parsed_config_clear(struct deit_parsed_config *pc) {
    g_strfreev(pc->labels);
    g_free(pc->name);
    pc->labels = NULL;
    pc->name   = NULL;
}

enum deit_status deit_parsed_config_parse(const char *json, size_t len, struct deit_parsed_config *pc,
                                          struct deit_error *err) {
    memset(pc, 0, sizeof *pc);
    if (!json) return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "config.json: no text given");
    JsonObject *o;
    JsonParser *parser = deit_json_parse(json, len, "config.json", DEIT_STATUS_ERROR_BAD_JSON, &o, err);
    if (!parser) return err ? err->status : DEIT_STATUS_ERROR_BAD_JSON;
    enum deit_status st = DEIT_STATUS_OK;
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

    JsonNode *n = deit_json_member(o, "qkv_bias");
    in->qkv_bias = true;
    if (n) {
        if (JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "config.json: \"qkv_bias\" must be true or false");
            goto done;
        }
        in->qkv_bias = json_node_get_boolean(n);
    }
    double eps = 1e-12;
    if ((n = deit_json_member(o, "layer_norm_eps"))) {
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
    /* PretrainedConfig refuses any other problem_type, and so do we */
    in->problem_type = DEIT_PROBLEM_UNSET;
    if ((n = deit_json_member(o, "problem_type"))) {
        const char *pt = JSON_NODE_TYPE(n) == JSON_NODE_VALUE && json_node_get_value_type(n) == G_TYPE_STRING
                             ? json_node_get_string(n)
                             : NULL;
        if (pt && strcmp(pt, "single_label_classification") == 0) in->problem_type = DEIT_PROBLEM_SINGLE_LABEL;
        else if (pt && strcmp(pt, "multi_label_classification") == 0) in->problem_type = DEIT_PROBLEM_MULTI_LABEL;
        else if (pt && strcmp(pt, "regression") == 0) in->problem_type = DEIT_PROBLEM_REGRESSION;
        else {
            st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                "config.json: \"problem_type\" must be \"single_label_classification\", "
                                "\"multi_label_classification\", \"regression\" or null (as in transformers' "
                                "PretrainedConfig)");
            goto done;
        }
    }
    if ((n = deit_json_member(o, "_name_or_path")) && JSON_NODE_TYPE(n) == JSON_NODE_VALUE &&
        json_node_get_value_type(n) == G_TYPE_STRING && json_node_get_string(n)[0])
        pc->name = g_strdup(json_node_get_string(n));
    st = cfg_validate(pc, err);

done:
    g_object_unref(parser);
    if (st != DEIT_STATUS_OK) deit_parsed_config_clear(pc);
    return st;
}

enum deit_status deit_config_parse(const char *json, size_t len, struct deit_model_info *info, char ***labels,
                                   char **name, struct deit_error *err) {
    if (labels) *labels = NULL;
    if (name) *name = NULL;
    struct deit_parsed_config pc;
    enum deit_status     st = deit_parsed_config_parse(json, len, &pc, err);
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
    deit_parsed_config_clear(&pc);
    return DEIT_STATUS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Configuration
 */
enum proc_type { PROC_DEIT, PROC_VIT, PROC_UNKNOWN };

static enum proc_type proc_type_from_name(const char *name) {
    if (!name) return PROC_DEIT;
    if (!g_ascii_strcasecmp(name, "deit") || g_str_has_prefix(name, "DeiTImageProcessor") ||
        g_str_has_prefix(name, "DeiTFeatureExtractor"))
        return PROC_DEIT;
    if (!g_ascii_strcasecmp(name, "vit") || g_str_has_prefix(name, "ViTImageProcessor") ||
        g_str_has_prefix(name, "ViTFeatureExtractor"))
        return PROC_VIT;
    return PROC_UNKNOWN;
}

static struct deit_preprocess_config default_config(enum proc_type t) {
    struct deit_preprocess_config c = {
        .do_resize      = true,
        .resize_height  = 256,
        .resize_width   = 256,
        .shortest_edge  = 0,
        .resample       = DEIT_RESAMPLE_BICUBIC,
        .do_center_crop = true,
        .crop_height    = 224,
        .crop_width     = 224,
        .do_rescale     = true,
        .rescale_factor = 1.0 / 255.0,   /* transformers: rescale_factor = 1 / 255 */
        .do_normalize   = true,
        .image_mean     = {0.5f, 0.5f, 0.5f},  /* IMAGENET_STANDARD_MEAN */
        .image_std      = {0.5f, 0.5f, 0.5f},  /* IMAGENET_STANDARD_STD */
    };
    if (t == PROC_VIT) {
        /* ViTImageProcessor: size 224x224, BILINEAR, no center crop */
        c.resize_height = c.resize_width = 224;
        c.resample = DEIT_RESAMPLE_BILINEAR;
        c.do_center_crop = false;
        c.crop_height = c.crop_width = 0;
    }
    return c;
}

struct deit_preprocess_config deit_preprocess_default_config(const char *processor_type) {
    enum proc_type t = proc_type_from_name(processor_type);
    if (t == PROC_UNKNOWN) {
        DEIT_LOG_WARN("unknown processor type \"%s\", using DeiTImageProcessor defaults", processor_type);
        t = PROC_DEIT;
    }
    return default_config(t);
}

/* an integral JSON number in [1, DEIT_MAX_IMAGE_DIM] */
static bool node_get_dim(JsonNode *n, int *out) {
    if (!deit_json_is_number(n)) return false;
    double v = json_node_get_double(n);
    if (v != floor(v) || v < 1 || v > DEIT_MAX_IMAGE_DIM) return false;
    *out = (int)v;
    return true;
}

static enum deit_status get_bool(JsonObject *o, const char *key, bool *out, struct deit_error *err) {
    if (!deit_json_member(o, key)) return DEIT_STATUS_OK;
    JsonNode *n = json_object_get_member(o, key);
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN) {
        *out = json_node_get_boolean(n);
        return DEIT_STATUS_OK;
    }
    if (deit_json_is_number(n) && (json_node_get_double(n) == 0 || json_node_get_double(n) == 1)) {
        *out = json_node_get_double(n) != 0;
        return DEIT_STATUS_OK;
    }
    return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                          "preprocessor_config.json: \"%s\" must be true or false", key);
}

/* size / crop_size: {"height": h, "width": w}, {"shortest_edge": s} (size only), a legacy
 * int n (= {"height": n, "width": n}, transformers' convert_to_size_dict with
 * default_to_square=True) or a [height, width] list. */
static enum deit_status get_size(JsonObject *o, const char *key, bool allow_shortest, int *h, int *w, int *se,
                                 struct deit_error *err) {
    if (!deit_json_member(o, key)) return DEIT_STATUS_OK;
    JsonNode *n = json_object_get_member(o, key);
    int a, b;
    if (node_get_dim(n, &a)) {
        *h = *w = a;
        if (se) *se = 0;
        return DEIT_STATUS_OK;
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *arr = json_node_get_array(n);
        if (json_array_get_length(arr) == 2 && node_get_dim(json_array_get_element(arr, 0), &a) &&
            node_get_dim(json_array_get_element(arr, 1), &b)) {
            *h = a;
            *w = b;
            if (se) *se = 0;
            return DEIT_STATUS_OK;
        }
    } else if (JSON_NODE_HOLDS_OBJECT(n)) {
        JsonObject *so = json_node_get_object(n);
        bool has_h = deit_json_member(so, "height"), has_w = deit_json_member(so, "width");
        bool has_se = deit_json_member(so, "shortest_edge");
        if (deit_json_member(so, "longest_edge"))
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "preprocessor_config.json: \"%s\".longest_edge is not supported by the "
                                  "DeiT/ViT processors; use {\"height\", \"width\"} or {\"shortest_edge\"}",
                                  key);
        if (has_h && has_w && !has_se && node_get_dim(json_object_get_member(so, "height"), &a) &&
            node_get_dim(json_object_get_member(so, "width"), &b)) {
            *h = a;
            *w = b;
            if (se) *se = 0;
            return DEIT_STATUS_OK;
        }
        if (has_se && !has_h && !has_w && allow_shortest &&
            node_get_dim(json_object_get_member(so, "shortest_edge"), &a)) {
            *h = *w = 0;
            *se = a;
            return DEIT_STATUS_OK;
        }
    }
    return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                          "preprocessor_config.json: \"%s\" must be {\"height\": H, \"width\": W}%s, an integer "
                          "or [H, W] with values 1..%d",
                          key, allow_shortest ? ", {\"shortest_edge\": S}" : "", DEIT_MAX_IMAGE_DIM);
}

/* image_mean / image_std: a list of 3 numbers or one number (used for every channel) */
static enum deit_status get_triplet(JsonObject *o, const char *key, float out[3], struct deit_error *err) {
    if (!deit_json_member(o, key)) return DEIT_STATUS_OK;
    JsonNode *n = json_object_get_member(o, key);
    if (deit_json_is_number(n)) {
        out[0] = out[1] = out[2] = (float)json_node_get_double(n);
        return DEIT_STATUS_OK;
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *arr = json_node_get_array(n);
        if (json_array_get_length(arr) == 3) {
            float v[3];
            bool  ok = true;
            for (int i = 0; i < 3; i++) {
                JsonNode *e = json_array_get_element(arr, i);
                if (!deit_json_is_number(e)) ok = false;
                else v[i] = (float)json_node_get_double(e);
            }
            if (ok) {
                memcpy(out, v, sizeof v);
                return DEIT_STATUS_OK;
            }
        }
    }
    return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                          "preprocessor_config.json: \"%s\" must be a list of 3 numbers (one per RGB channel) "
                          "or a single number",
                          key);
}

enum deit_status deit_preprocess_config_check(const struct deit_preprocess_config *c, struct deit_error *err) {
    if ((unsigned)c->resample > DEIT_RESAMPLE_HAMMING)
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                              "resample %d is not a Pillow filter code: use 0 nearest, 1 lanczos, 2 bilinear, "
                              "3 bicubic, 4 box or 5 hamming",
                              (int)c->resample);
    if (c->do_resize && c->shortest_edge <= 0 &&
        (c->resize_height < 1 || c->resize_height > DEIT_MAX_IMAGE_DIM || c->resize_width < 1 || c->resize_width > DEIT_MAX_IMAGE_DIM))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "resize size %dx%d is out of range 1..%d (width x height)", c->resize_width,
                              c->resize_height, DEIT_MAX_IMAGE_DIM);
    if (c->do_resize && c->shortest_edge > DEIT_MAX_IMAGE_DIM)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "shortest_edge %d is out of range 1..%d",
                              c->shortest_edge, DEIT_MAX_IMAGE_DIM);
    if (c->do_center_crop &&
        (c->crop_height < 1 || c->crop_height > DEIT_MAX_IMAGE_DIM || c->crop_width < 1 || c->crop_width > DEIT_MAX_IMAGE_DIM))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "crop_size %dx%d is out of range 1..%d",
                              c->crop_width, c->crop_height, DEIT_MAX_IMAGE_DIM);
    if (c->do_rescale && !isfinite(c->rescale_factor))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG, "rescale_factor is not a finite number");
    if (c->do_normalize)
        for (int i = 0; i < 3; i++)
            if (!isfinite(c->image_mean[i]) || !isfinite(c->image_std[i]) || c->image_std[i] == 0.0f)
                return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                      "image_mean/image_std[%d] = %g/%g: std must be a non-zero finite number",
                                      i, c->image_mean[i], c->image_std[i]);
    return DEIT_STATUS_OK;
}

static enum deit_status parse_object(JsonObject *o, const char *default_processor_type,
                                     struct deit_preprocess_config *out, struct deit_error *err) {
    enum proc_type dt = proc_type_from_name(default_processor_type);
    if (dt == PROC_UNKNOWN)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                              "default processor type \"%s\" is neither \"deit\" nor \"vit\"",
                              default_processor_type);
    /* transformers: image_processor_type first, then feature_extractor_type */
    const char *name = NULL;
    for (int i = 0; i < 2 && !name; i++) {
        /* only a string names a processor: json-glib's string getters print a critical
         * on an object or array, and nothing here prints on bad input */
        JsonNode *n = deit_json_member(o, i == 0 ? "image_processor_type" : "feature_extractor_type");
        if (n && JSON_NODE_TYPE(n) == JSON_NODE_VALUE && json_node_get_value_type(n) == G_TYPE_STRING)
            name = json_node_get_string(n);
    }
    enum proc_type t = dt;
    if (name) {
        t = proc_type_from_name(name);
        if (t == PROC_UNKNOWN) {
            DEIT_LOG_WARN("preprocessor_config.json names processor \"%s\"; using %s defaults for missing keys",
                          name, dt == PROC_VIT ? "ViTImageProcessor" : "DeiTImageProcessor");
            t = dt;
        }
    }
    struct deit_preprocess_config c = default_config(t);
    enum deit_status st;
    int rs = (int)c.resample;
    if ((st = get_bool(o, "do_resize", &c.do_resize, err))) return st;
    if ((st = get_size(o, "size", true, &c.resize_height, &c.resize_width, &c.shortest_edge, err))) return st;
    if (deit_json_member(o, "resample")) {
        JsonNode *n = json_object_get_member(o, "resample");
        double    v = deit_json_is_number(n) ? json_node_get_double(n) : -1;
        if (v != floor(v) || v < 0 || v > DEIT_RESAMPLE_HAMMING)
            return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                                  "preprocessor_config.json: resample must be a Pillow filter code: 0 nearest, "
                                  "1 lanczos, 2 bilinear, 3 bicubic, 4 box or 5 hamming");
        rs = (int)v;
    }
    c.resample = (enum deit_resample)rs;
    if (t == PROC_DEIT) {
        if ((st = get_bool(o, "do_center_crop", &c.do_center_crop, err))) return st;
        if ((st = get_size(o, "crop_size", false, &c.crop_height, &c.crop_width, NULL, err))) return st;
    } else if (deit_json_member(o, "do_center_crop") || deit_json_member(o, "crop_size")) {
        DEIT_LOG_INFO("ViTImageProcessor has no center crop; ignoring do_center_crop / crop_size");
    }
    if ((st = get_bool(o, "do_rescale", &c.do_rescale, err))) return st;
    if (deit_json_member(o, "rescale_factor")) {
        JsonNode *n = json_object_get_member(o, "rescale_factor");
        if (!deit_json_is_number(n))
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                                  "preprocessor_config.json: rescale_factor must be a number (e.g. 0.00392156862745098)");
        c.rescale_factor = json_node_get_double(n);
    }
    if ((st = get_bool(o, "do_normalize", &c.do_normalize, err))) return st;
    if ((st = get_triplet(o, "image_mean", c.image_mean, err))) return st;
    if ((st = get_triplet(o, "image_std", c.image_std, err))) return st;
    if ((st = deit_preprocess_config_check(&c, err))) return st;
    *out = c;
    return DEIT_STATUS_OK;
}

enum deit_status deit_preprocess_config_parse(const char *json, size_t len, const char *default_processor_type,
                                              struct deit_preprocess_config *out, struct deit_error *err) {
    if (!json || !out)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "json and out must not be NULL");
    JsonObject *o;
    JsonParser *parser = deit_json_parse(json, len, "preprocessor_config.json", DEIT_STATUS_ERROR_BAD_JSON, &o, err);
    if (!parser) return err ? err->status : DEIT_STATUS_ERROR_BAD_JSON;
    enum deit_status st = parse_object(o, default_processor_type, out, err);
    g_object_unref(parser);
    if (st == DEIT_STATUS_OK) deit_error_clear(err);
    return st;
}

/* A missing file is not an error: transformers' defaults of the processor class apply and
 * a warning is logged (checkpoints without preprocessor_config.json exist). */
enum deit_status deit_preprocess_config_load(const char *path, const char *default_processor_type,
                                             struct deit_preprocess_config *out, struct deit_error *err) {
    if (!path || !out)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "path and out must not be NULL");
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (proc_type_from_name(default_processor_type) == PROC_UNKNOWN)
            return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                                  "default processor type \"%s\" is neither \"deit\" nor \"vit\"",
                                  default_processor_type);
        DEIT_LOG_WARN("%s not found: using %s defaults", path,
                      proc_type_from_name(default_processor_type) == PROC_VIT ? "ViTImageProcessor"
                                                                             : "DeiTImageProcessor");
        *out = deit_preprocess_default_config(default_processor_type);
        deit_error_clear(err);
        return DEIT_STATUS_OK;
    }
    char  *text = NULL;
    size_t len  = 0;
    enum deit_status st = deit_read_text_file(path, "preprocessor_config.json", DEIT_MAX_JSON_FILE_BYTES, &text,
                                              &len, err);
    if (st != DEIT_STATUS_OK) return st;
    st = deit_preprocess_config_parse(text, len, default_processor_type, out, err);
    if (st != DEIT_STATUS_OK) deit_error_prefix(err, path);
    g_free(text);
    return st;
}

/* Size of the tensor the processor produces, or BAD_CONFIG when it would depend on the
 * input (shortest_edge, or no resize, without a center crop). */
enum deit_status deit_preprocess_config_output_size(const struct deit_preprocess_config *c, int *out_height,
                                                    int *out_width, struct deit_error *err) {
    enum deit_status st = deit_preprocess_config_check(c, err);
    if (st != DEIT_STATUS_OK) return st;
    if (c->do_center_crop) {
        *out_height = c->crop_height;
        *out_width  = c->crop_width;
    } else if (c->do_resize && c->shortest_edge <= 0) {
        *out_height = c->resize_height;
        *out_width  = c->resize_width;
    } else {
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "the output size would depend on each input image (%s without center crop): set "
                              "do_resize true with size {\"height\", \"width\"}, or, with DeiTImageProcessor "
                              "(ViTImageProcessor has no center crop), do_center_crop with crop_size",
                              c->do_resize ? "size.shortest_edge" : "do_resize false");
    }
    return DEIT_STATUS_OK;
}
