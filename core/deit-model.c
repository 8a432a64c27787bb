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
#include "deit-io.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct deit_model_params deit_model_default_params(void) {
    return (struct deit_model_params){
        .weights_path = NULL,   /* <dir>/model.safetensors, else <dir>/pytorch_model.bin */
        .use_mmap     = true,   /* map the file, use aligned F32 tensors in place */
        /* rearrange the linear weights into GEMM panels at load; DEIT_NO_PACKED_WEIGHTS=1
         * (benchmarks: OpenBLAS on the weights as stored) changes the default */
        .packed_weights = !deit_env_flag("DEIT_NO_PACKED_WEIGHTS"),
    };
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
    if (!deit_arch_is_vit(in->arch)) want_add(wants, &w->dist_token, 3, tok, "%sembeddings.distillation_token", pre);
    if (deit_arch_is_mim(in->arch)) want_add(wants, &w->mask_token, 3, tok, "%sembeddings.mask_token", pre);
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
    const char    *fam  = deit_arch_is_vit(m->info.arch) ? "vit." : "deit.";
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
    else if (*gp == '\0' && !deit_arch_is_base(m->info.arch))
        /* transformers' from_pretrained refuses this too ("The state dictionary of the model
         * you are trying to load is corrupted"): a head class's backbone keys carry the
         * base_model_prefix */
        snprintf(hint, sizeof hint,
                 "the backbone's keys have no '%s' prefix (as a bare %s saves them) although the file holds a "
                 "head too, which transformers refuses as well: add '%s' to the backbone's keys, or save the "
                 "model again with save_pretrained() on the %s",
                 fam, deit_arch_is_vit(m->info.arch) ? "ViTModel" : "DeiTModel", fam, cfg);
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
    deit_format_shape(e, sizeof e, w->shape, w->n_dims);
    deit_format_shape(f, sizeof f, t->shape, t->n_dims);
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
    bool                      *copy = g_new0(bool, n); /* converted or given a copy of its own */
    size_t                     owned = 0, total = 0, copied = 0, shared = 0;
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
        copy[i] = !in_place || t->dtype != DEIT_DTYPE_F32 || ((uintptr_t)t->data & 3u) != 0;
        /* pytorch_model.bin tensors may share a storage (tied weights): the linear weights
         * are packed in place after binding, so a tensor whose bytes overlap one already
         * bound in place gets a copy of its own, taken before any packing */
        for (size_t j = 0; !copy[i] && j < i; j++)
            if (!copy[j] && t->data < hits[j]->data + hits[j]->n_bytes && hits[j]->data < t->data + t->n_bytes)
                copy[i] = true, shared++;
        if (copy[i]) {
            owned += align64(numel * 4);
            copied += numel * 4;
        }
    }
    if (shared) DEIT_LOG_INFO("%s: %zu tensors share bytes with others; copied", source, shared);
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
        if (!copy[i]) {
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
    g_free(copy);
    return st;
}

static enum deit_status load_weights(struct deit_model *m, bool arch_explicit, const struct deit_tensor_file *tf,
                                     bool in_place, const char *source, struct deit_error *err) {
    struct deit_model_info *in = &m->info;
    enum deit_arch          g;
    const char             *gp;
    bool                    timm;
    if (!arch_explicit && guess_arch(tf, &g, &gp, &timm) && deit_arch_is_vit(g) == deit_arch_is_vit(in->arch)) {
        DEIT_LOG_INFO("config.json has no \"architectures\"; the weights look like %s", deit_arch_to_string(g));
        in->arch = g;
        if (deit_arch_is_classifier(g)) in->num_labels = (int)g_strv_length(m->labels);
        else in->num_labels = 0;
        if (!deit_arch_is_base(g)) in->pooler_output_size = 0;
        struct deit_error e;
        if (deit_config_check_arch(in, &e) != DEIT_STATUS_OK)
            return deit_set_error(err, e.status, "%s (config.json names no \"architectures\"; the weights in %s are %s)",
                                  e.message, source, deit_arch_to_string(g));
    }
    const char *fam = deit_arch_is_vit(in->arch) ? "vit." : "deit.";
    const char *pre = fam, *alt = NULL;
    if (deit_arch_is_base(in->arch)) {
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
    if (deit_arch_is_base(in->arch)) {
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

static struct deit_model *model_from_config(struct deit_parsed_config *pc, const char *fallback_name) {
    struct deit_model *m = g_new0(struct deit_model, 1);
    m->info              = pc->info;
    m->labels            = pc->labels;
    m->name              = pc->name ? pc->name : g_strdup(fallback_name);
    m->info.name         = m->name;
    pc->labels           = NULL;
    pc->name             = NULL;
    return m;
}

/* What a weight file that is no weight file at all most likely is, as an error naming the
 * fix, or OK when it may be one: what a failed or partial download leaves behind. */
static enum deit_status check_not_a_download_leftover(const uint8_t *d, size_t size, const char *source,
                                                      struct deit_error *err) {
    static const char lfs[] = "version https://git-lfs.github.com/spec/";
    if (size == 0)
        return deit_set_error(err, DEIT_STATUS_ERROR_TRUNCATED,
                              "%s is empty (0 bytes): the download did not finish; download the file again", source);
    /* git clone of a Hub repository without git-lfs: a ~130-byte text pointer */
    if (size >= sizeof lfs - 1 && memcmp(d, lfs, sizeof lfs - 1) == 0)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s is a Git LFS pointer (%zu bytes), not the weights: the repository was cloned "
                              "without git-lfs; run \"git lfs install && git lfs pull\" in it, or download the file "
                              "with \"hf download\" (huggingface_hub)",
                              source, size);
    /* an error or login page saved in place of the file (wget, curl without -f) */
    size_t i = 0;
    while (i < size && i < 64 && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n')) i++;
    if (size - i >= 5 && (g_ascii_strncasecmp((const char *)d + i, "<!doc", 5) == 0 ||
                          g_ascii_strncasecmp((const char *)d + i, "<html", 5) == 0))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s is a web page (HTML), not the weights: the download saved an error or login page; "
                              "download the file again (hf download, or curl -fL, which fails on HTTP "
                              "errors instead of saving them)",
                              source);
    return DEIT_STATUS_OK;
}

/* parse the weight file in blob and bind the model's weights. On success with in-place
 * tensors the blob's mapping moves into the model. */
static enum deit_status model_bind_blob(struct deit_model *m, bool arch_explicit, struct deit_blob *blob,
                                        const char *source, struct deit_error *err) {
    struct deit_tensor_file tf = { 0 };
    enum deit_status        st;
    const uint8_t          *d = blob->data;
    if ((st = check_not_a_download_leftover(d, blob->size, source, err)) != DEIT_STATUS_OK) return st;
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
    } else if (g_str_has_suffix(source, ".bin")) {
        /* neither format: name the one the file name promises, not safetensors' header */
        st = deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                            "%s is not a torch.save checkpoint (%zu bytes; torch.save writes a zip archive, which "
                            "starts with \"PK\"): the file is cut short or is something else; download it again",
                            source, blob->size);
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
                  in->num_labels, deit_act_to_string(in->hidden_act), (double)in->layer_norm_eps,
                  in->qkv_bias, in->pooler_output_size, (double)in->weight_bytes / 1e6,
                  (double)in->weight_bytes_copied / 1e6, source);
}
/* Directories users point at by mistake, recognised so the error can say where the
 * checkpoint really is. */
static bool is_peft_adapter(const char *dir) {
    char *f   = g_build_filename(dir, "adapter_config.json", NULL);
    bool  yes = g_file_test(f, G_FILE_TEST_EXISTS);
    g_free(f);
    return yes;
}

static enum deit_status peft_adapter_error(const char *dir, struct deit_error *err) {
    return deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                          "%s holds a PEFT adapter (adapter_config.json), not a whole checkpoint: merge it into its "
                          "base model and save the result (in Python: PeftModel.from_pretrained(base, dir)"
                          ".merge_and_unload().save_pretrained(out), plus the base model's "
                          "preprocessor_config.json), then use that directory",
                          dir);
}

/* The Hugging Face cache keeps a repository as models--org--name/{blobs,refs,snapshots}:
 * the checkpoint directory is snapshots/<revision>/. The revision refs/main names, else
 * any snapshot (g_free), else NULL. */
static char *hf_cache_snapshot(const char *dir) {
    char *snaps = g_build_filename(dir, "snapshots", NULL);
    if (!g_file_test(snaps, G_FILE_TEST_IS_DIR)) {
        g_free(snaps);
        return NULL;
    }
    char *ref = g_build_filename(dir, "refs", "main", NULL), *rev = NULL, *out = NULL;
    if (g_file_get_contents(ref, &rev, NULL, NULL)) {
        g_strstrip(rev);
        char *p = g_build_filename(snaps, rev, NULL);
        if (rev[0] && !strchr(rev, '/') && g_file_test(p, G_FILE_TEST_IS_DIR)) out = g_steal_pointer(&p);
        g_free(p);
    }
    if (!out) {
        GDir       *d    = g_dir_open(snaps, 0, NULL);
        const char *name = d ? g_dir_read_name(d) : NULL;
        if (name) out = g_build_filename(snaps, name, NULL);
        if (d) g_dir_close(d);
    }
    if (!out) out = g_build_filename(snaps, "<revision>", NULL);
    g_free(rev);
    g_free(ref);
    g_free(snaps);
    return out;
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
    if (is_peft_adapter(dir)) return peft_adapter_error(dir, err);
    return deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                          "%s has neither model.safetensors nor pytorch_model.bin; download the weights of the "
                          "checkpoint into it",
                          dir);
}



struct deit_model *deit_model_load(const char *dir, const struct deit_model_params *params, struct deit_error *err) {
    deit_error_clear(err);
    if (!dir) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "deit_model_load: dir is NULL");
        return NULL;
    }
    struct deit_model_params p = params ? *params : deit_model_default_params();
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                       g_file_test(dir, G_FILE_TEST_EXISTS)
                           ? "%s is not a directory; pass the checkpoint directory that holds config.json"
                       : dir[0] == '~' ? "model directory %s does not exist (a leading ~ is not expanded here: "
                                         "write the full path, e.g. with $HOME)"
                                       : "model directory %s does not exist",
                       dir);
        return NULL;
    }
    struct deit_model   *m = NULL;
    struct deit_parsed_config pc;
    memset(&pc, 0, sizeof pc);
    char            *cfg_path = g_build_filename(dir, "config.json", NULL);
    char            *pp_path  = g_build_filename(dir, "preprocessor_config.json", NULL);
    char            *w_path   = NULL, *text = NULL, *base = NULL;
    size_t           len      = 0;
    struct deit_blob blob     = { 0 };
    if (!g_file_test(cfg_path, G_FILE_TEST_EXISTS)) {
        char *snapshot = hf_cache_snapshot(dir);
        if (snapshot) {
            deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                           "%s is a Hugging Face cache folder, not a checkpoint directory: the checkpoint is in "
                           "its snapshots/ folder, e.g. %s",
                           dir, snapshot);
            g_free(snapshot);
            goto fail;
        }
        if (is_peft_adapter(dir)) {
            peft_adapter_error(dir, err);
            goto fail;
        }
        deit_set_error(err, DEIT_STATUS_ERROR_NOT_FOUND,
                       "%s not found: a checkpoint directory needs config.json (and model.safetensors or "
                       "pytorch_model.bin) as downloaded from the Hugging Face Hub",
                       cfg_path);
        goto fail;
    }
    if (deit_read_text_file(cfg_path, "config.json", DEIT_MAX_JSON_FILE_BYTES, &text, &len, err) != DEIT_STATUS_OK)
        goto fail;
    if (deit_parsed_config_parse(text, len, &pc, err) != DEIT_STATUS_OK) goto fail;
    base = g_path_get_basename(dir);
    m    = model_from_config(&pc, base);
    const char *ptype = pc.vit_type ? "vit" : "deit";
    if (g_file_test(pp_path, G_FILE_TEST_EXISTS)) {
        if (deit_preprocess_config_load(pp_path, ptype, &m->preprocess, err) != DEIT_STATUS_OK) goto fail;
    } else {
        m->preprocess_default = pc.vit_type ? "ViTImageProcessor" : "DeiTImageProcessor";
        DEIT_LOG_WARN("%s not found; using the defaults of %s", pp_path, m->preprocess_default);
        m->preprocess = deit_preprocess_default_config(ptype);
    }
    if (find_weights(dir, &p, &w_path, err) != DEIT_STATUS_OK) goto fail;
    if (deit_blob_open(&blob, w_path, p.use_mmap, err) != DEIT_STATUS_OK) goto fail;
    if (model_bind_blob(m, pc.arch_explicit, &blob, w_path, err) != DEIT_STATUS_OK) goto fail;
    deit_blob_close(&blob);
    if (p.packed_weights) deit_model_pack_weights(m); /* before anyone else sees the model */
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
    deit_parsed_config_clear(&pc);
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
    deit_error_clear(err);
    if (!config_json || !safetensors) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "deit_model_load_from_memory: config_json and the weights "
                                                           "are required");
        return NULL;
    }
    struct deit_parsed_config pc;
    if (deit_parsed_config_parse(config_json, config_len, &pc, err) != DEIT_STATUS_OK) return NULL;
    struct deit_model *m     = model_from_config(&pc, "(memory)");
    const char        *ptype = pc.vit_type ? "vit" : "deit";
    struct deit_blob   blob;
    if (preprocessor_json) {
        if (deit_preprocess_config_parse(preprocessor_json, preprocessor_len, ptype, &m->preprocess, err) !=
            DEIT_STATUS_OK)
            goto fail;
    } else {
        m->preprocess_default = pc.vit_type ? "ViTImageProcessor" : "DeiTImageProcessor";
        m->preprocess         = deit_preprocess_default_config(ptype);
    }
    deit_blob_from_memory(&blob, safetensors, safetensors_len);
    if (model_bind_blob(m, pc.arch_explicit, &blob, "weights (memory)", err) != DEIT_STATUS_OK) goto fail;
    deit_model_pack_weights(m); /* only tensors converted into the model's own buffer */
    log_summary(m, "memory");
    deit_parsed_config_clear(&pc);
    return m;
fail:
    deit_model_free(m);
    deit_parsed_config_clear(&pc);
    return NULL;
}
