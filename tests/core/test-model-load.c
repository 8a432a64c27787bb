/* test-model-load.c - checkpoint loading: config.json parsing, safetensors validation,
 * F16/BF16 conversion, mmap in place, pytorch_model.bin, and one negative test per error.
 *
 * Checkpoints are built in memory here (a tiny DeiT: hidden 8, 2 heads, 1 layer, image 32,
 * patch 16), then corrupted one way per test; each negative test asserts the exact status
 * and that the message names the offending tensor or key. Expected values come from this
 * file's own construction (shapes, byte counts) and from IEEE 754 (F16/BF16 bit patterns
 * with exactly representable values), never from the loader.
 *
 * Usage: test-model-load                       safetensors / config tests
 *        test-model-load --torchbin PYTHON     pytorch_model.bin tests; PYTHON with torch
 *                                              writes the files (exit 77 if torch is absent)
 */
#include "deit-internal.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
            g_failures++;                                                       \
        }                                                                       \
    } while (0)
#define CHECK_INT(a, b)                                                                          \
    do {                                                                                         \
        long long a_ = (long long)(a), b_ = (long long)(b);                                      \
        if (a_ != b_) {                                                                          \
            printf("FAIL %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
            g_failures++;                                                                        \
        }                                                                                        \
    } while (0)

/* ---------------------------------------------------------------------------------------
 * an in-memory checkpoint
 */
#define D_ 8
#define H_ 2
#define I_ 16
#define L_ 1
#define C_ 3
#define P_ 16
#define IMG_ 32
#define K_ 3
#define T_DEIT 6   /* (32/16)^2 = 4 patches + cls + distillation */

struct tspec {
    char        name[128];
    const char *dtype;        /* "F32", "F16", ... */
    int         n_dims;
    int64_t     shape[4];
    uint8_t    *data;
    size_t      n_bytes;
    bool        set_offsets;  /* write offsets below instead of the real ones */
    uint64_t    begin, end;
};

struct ckpt {
    struct tspec t[64];
    int          n;
};

static struct tspec *ckpt_add(struct ckpt *c, const char *name, int n_dims, const int64_t *shape) {
    struct tspec *t = &c->t[c->n++];
    memset(t, 0, sizeof *t);
    g_strlcpy(t->name, name, sizeof t->name);
    t->dtype  = "F32";
    t->n_dims = n_dims;
    size_t numel = 1;
    for (int i = 0; i < n_dims; i++) {
        t->shape[i] = shape[i];
        numel *= (size_t)shape[i];
    }
    t->n_bytes = numel * 4;
    t->data    = g_malloc(t->n_bytes ? t->n_bytes : 1);
    float *f   = (float *)(void *)t->data;
    for (size_t i = 0; i < numel; i++) f[i] = (float)c->n + 0.001f * (float)i;   /* recognisable values */
    return t;
}

static struct tspec *ckpt_find(struct ckpt *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->t[i].name, name) == 0) return &c->t[i];
    return NULL;
}

static void ckpt_remove(struct ckpt *c, const char *name) {
    struct tspec *t = ckpt_find(c, name);
    if (!t) return;
    g_free(t->data);
    int i = (int)(t - c->t);
    memmove(&c->t[i], &c->t[i + 1], (size_t)(c->n - i - 1) * sizeof c->t[0]);
    c->n--;
}

/* replace a tensor's dtype/shape/data */
static void tspec_set(struct tspec *t, const char *dtype, int n_dims, const int64_t *shape, const void *data,
                      size_t n_bytes) {
    g_free(t->data);
    t->dtype  = dtype;
    t->n_dims = n_dims;
    memcpy(t->shape, shape, (size_t)n_dims * sizeof shape[0]);
    t->data    = g_memdup2(data, n_bytes ? n_bytes : 1);
    t->n_bytes = n_bytes;
}

static void ckpt_clear(struct ckpt *c) {
    for (int i = 0; i < c->n; i++) g_free(c->t[i].data);
    c->n = 0;
}

/* the tensors of a tiny checkpoint of class arch, key names per deit-reference.md §3 */
static void ckpt_tiny(struct ckpt *c, const char *arch) {
    c->n         = 0;
    bool vit     = g_str_has_prefix(arch, "ViT");
    bool bare    = strcmp(arch, "DeiTModel") == 0 || strcmp(arch, "ViTModel") == 0;
    const char *pre = bare ? "" : vit ? "vit." : "deit.";
    int64_t T = vit ? T_DEIT - 1 : T_DEIT;
    char    n[128];
#define ADD(shape_init, ...)                           \
    do {                                               \
        const int64_t s_[] = shape_init;               \
        snprintf(n, sizeof n, __VA_ARGS__);            \
        ckpt_add(c, n, (int)(sizeof s_ / sizeof s_[0]), s_); \
    } while (0)
#define S(...) { __VA_ARGS__ }
    ADD(S(1, 1, D_), "%sembeddings.cls_token", pre);
    if (!vit) ADD(S(1, 1, D_), "%sembeddings.distillation_token", pre);
    if (strstr(arch, "MaskedImageModeling")) ADD(S(1, 1, D_), "%sembeddings.mask_token", pre);
    ADD(S(1, T, D_), "%sembeddings.position_embeddings", pre);
    ADD(S(D_, C_, P_, P_), "%sembeddings.patch_embeddings.projection.weight", pre);
    ADD(S(D_), "%sembeddings.patch_embeddings.projection.bias", pre);
    for (int l = 0; l < L_; l++) {
        ADD(S(D_), "%sencoder.layer.%d.layernorm_before.weight", pre, l);
        ADD(S(D_), "%sencoder.layer.%d.layernorm_before.bias", pre, l);
        const char *qkv[] = { "query", "key", "value" };
        for (int j = 0; j < 3; j++) {
            ADD(S(D_, D_), "%sencoder.layer.%d.attention.attention.%s.weight", pre, l, qkv[j]);
            ADD(S(D_), "%sencoder.layer.%d.attention.attention.%s.bias", pre, l, qkv[j]);
        }
        ADD(S(D_, D_), "%sencoder.layer.%d.attention.output.dense.weight", pre, l);
        ADD(S(D_), "%sencoder.layer.%d.attention.output.dense.bias", pre, l);
        ADD(S(D_), "%sencoder.layer.%d.layernorm_after.weight", pre, l);
        ADD(S(D_), "%sencoder.layer.%d.layernorm_after.bias", pre, l);
        ADD(S(I_, D_), "%sencoder.layer.%d.intermediate.dense.weight", pre, l);
        ADD(S(I_), "%sencoder.layer.%d.intermediate.dense.bias", pre, l);
        ADD(S(D_, I_), "%sencoder.layer.%d.output.dense.weight", pre, l);
        ADD(S(D_), "%sencoder.layer.%d.output.dense.bias", pre, l);
    }
    ADD(S(D_), "%slayernorm.weight", pre);
    ADD(S(D_), "%slayernorm.bias", pre);
    if (strcmp(arch, "DeiTForImageClassificationWithTeacher") == 0) {
        ADD(S(K_, D_), "cls_classifier.weight");
        ADD(S(K_), "cls_classifier.bias");
        ADD(S(K_, D_), "distillation_classifier.weight");
        ADD(S(K_), "distillation_classifier.bias");
    } else if (strstr(arch, "ForImageClassification")) {
        ADD(S(K_, D_), "classifier.weight");
        ADD(S(K_), "classifier.bias");
    } else if (strstr(arch, "MaskedImageModeling")) {
        ADD(S(P_ * P_ * C_, D_, 1, 1), "decoder.0.weight");
        ADD(S(P_ * P_ * C_), "decoder.0.bias");
    } else if (bare) {
        ADD(S(D_, D_), "pooler.dense.weight");
        ADD(S(D_), "pooler.dense.bias");
    }
#undef ADD
#undef S
}

/* safetensors bytes: 8-byte LE header length, JSON header padded with spaces to a multiple
 * of 8, then the tensors' data in order. */
static GByteArray *ckpt_serialize(const struct ckpt *c) {
    GString *h   = g_string_new("{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int i = 0; i < c->n; i++) {
        const struct tspec *t = &c->t[i];
        g_string_append_printf(h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name, t->dtype);
        for (int d = 0; d < t->n_dims; d++) g_string_append_printf(h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        uint64_t b = t->set_offsets ? t->begin : off, e = t->set_offsets ? t->end : off + t->n_bytes;
        g_string_append_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)b, (unsigned long long)e);
        off += t->n_bytes;
    }
    g_string_append(h, "}");
    while ((8 + h->len) % 8) g_string_append_c(h, ' ');
    GByteArray *out = g_byte_array_new();
    uint8_t     len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h->len >> (8 * i));
    g_byte_array_append(out, len8, 8);
    g_byte_array_append(out, (const guint8 *)h->str, (guint)h->len);
    for (int i = 0; i < c->n; i++) g_byte_array_append(out, c->t[i].data, (guint)c->t[i].n_bytes);
    g_string_free(h, TRUE);
    return out;
}

static char *config_json(const char *arch, const char *extra) {
    return g_strdup_printf("{\"_name_or_path\": \"tiny/deit-test\", \"architectures\": [\"%s\"], "
                           "\"model_type\": \"%s\", \"hidden_size\": %d, \"num_hidden_layers\": %d, "
                           "\"num_attention_heads\": %d, \"intermediate_size\": %d, \"image_size\": %d, "
                           "\"patch_size\": %d, \"layer_norm_eps\": 1e-06, \"hidden_act\": \"gelu\", "
                           "\"id2label\": {\"0\": \"cat\", \"1\": \"dog\", \"2\": \"bird\"}%s%s}",
                           arch, g_str_has_prefix(arch, "ViT") ? "vit" : "deit", D_, L_, H_, I_, IMG_, P_,
                           extra ? ", " : "", extra ? extra : "");
}

/* ---------------------------------------------------------------------------------------
 * helpers
 */
static struct deit_model *load_mem(const char *cfg, const GByteArray *st, size_t len, struct deit_error *err) {
    return deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, st->data, len, err);
}

/* expect a failure with status and a message containing each of needles (NULL-terminated) */
static void expect_error_(int line, struct deit_model *m, const struct deit_error *err, enum deit_status status,
                          const char *const *needles) {
    if (m) {
        printf("FAIL line %d: loaded, expected %s\n", line, deit_status_to_string(status));
        g_failures++;
        deit_model_free(m);
        return;
    }
    if (err->status != status) {
        printf("FAIL line %d: status %s, expected %s (message: %s)\n", line, deit_status_to_string(err->status),
               deit_status_to_string(status), err->message);
        g_failures++;
        return;
    }
    for (int i = 0; needles[i]; i++)
        if (!strstr(err->message, needles[i])) {
            printf("FAIL line %d: message lacks \"%s\": %s\n", line, needles[i], err->message);
            g_failures++;
        }
    printf("ok   line %d: %s: %s\n", line, deit_status_to_string(status), err->message);
}
#define EXPECT_ERROR(m, err, status, ...) \
    expect_error_(__LINE__, (m), (err), (status), (const char *const[]){ __VA_ARGS__, NULL })

static bool in_buffer(const void *p, const void *base, size_t len) {
    return (const uint8_t *)p >= (const uint8_t *)base && (const uint8_t *)p < (const uint8_t *)base + len;
}

static size_t ckpt_f32_bytes(const struct ckpt *c) {
    size_t n = 0;
    for (int i = 0; i < c->n; i++) n += c->t[i].n_bytes;
    return n;
}

/* the loaded weight equals the test's data for tensor name */
static bool weight_equals(const float *w, const struct ckpt *c, const char *name) {
    const struct tspec *t = NULL;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->t[i].name, name) == 0) t = &c->t[i];
    return t && w && memcmp(w, t->data, t->n_bytes) == 0;
}

/* ---------------------------------------------------------------------------------------
 * positive tests
 */
static void test_valid_teacher(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    GByteArray        *st  = ckpt_serialize(&c);
    char              *cfg = config_json("DeiTForImageClassificationWithTeacher", NULL);
    struct deit_error  err;
    struct deit_model *m = load_mem(cfg, st, st->len, &err);
    CHECK(m != NULL);
    if (!m) {
        printf("  %s\n", err.message);
        goto out;
    }
    const struct deit_model_info *in = deit_model_get_info(m);
    CHECK_INT(in->arch, DEIT_ARCH_DEIT_WITH_TEACHER);
    CHECK(strcmp(in->name, "tiny/deit-test") == 0);
    CHECK_INT(in->hidden_size, D_);
    CHECK_INT(in->num_layers, L_);
    CHECK_INT(in->num_heads, H_);
    CHECK_INT(in->head_dim, D_ / H_);
    CHECK_INT(in->intermediate_size, I_);
    CHECK_INT(in->image_height, IMG_);
    CHECK_INT(in->image_width, IMG_);
    CHECK_INT(in->patch_size, P_);
    CHECK_INT(in->num_channels, C_);
    CHECK_INT(in->num_patches, 4);
    CHECK_INT(in->num_prefix_tokens, 2);
    CHECK_INT(in->num_tokens, T_DEIT);
    CHECK_INT(in->num_labels, K_);
    CHECK_INT(in->encoder_stride, 16);
    CHECK_INT(in->pooler_output_size, 0);
    CHECK(in->qkv_bias);
    CHECK(in->layer_norm_eps == 1e-6f);
    CHECK_INT(in->hidden_act, DEIT_ACT_GELU);
    CHECK_INT(in->weight_bytes, ckpt_f32_bytes(&c));
    CHECK_INT(in->weight_bytes_copied, 0);   /* F32, 8-byte aligned data: used in place */
    CHECK(strcmp(deit_model_get_label(m, 0), "cat") == 0);
    CHECK(strcmp(deit_model_get_label(m, 2), "bird") == 0);
    CHECK(deit_model_get_label(m, 3) == NULL);
    CHECK(deit_model_get_label(m, -1) == NULL);
    /* every pointer is in the caller's buffer and holds that tensor's bytes */
    CHECK(in_buffer(m->w.cls_token, st->data, st->len));
    CHECK(weight_equals(m->w.cls_token, &c, "deit.embeddings.cls_token"));
    CHECK(weight_equals(m->w.dist_token, &c, "deit.embeddings.distillation_token"));
    CHECK(weight_equals(m->w.pos_embed, &c, "deit.embeddings.position_embeddings"));
    CHECK(weight_equals(m->w.patch_w, &c, "deit.embeddings.patch_embeddings.projection.weight"));
    CHECK(weight_equals(m->w.layers[0].q_b, &c, "deit.encoder.layer.0.attention.attention.query.bias"));
    CHECK(weight_equals(m->w.layers[0].v_w, &c, "deit.encoder.layer.0.attention.attention.value.weight"));
    CHECK(weight_equals(m->w.layers[0].o_w, &c, "deit.encoder.layer.0.attention.output.dense.weight"));
    CHECK(weight_equals(m->w.layers[0].fc1_w, &c, "deit.encoder.layer.0.intermediate.dense.weight"));
    CHECK(weight_equals(m->w.layers[0].fc2_w, &c, "deit.encoder.layer.0.output.dense.weight"));
    CHECK(weight_equals(m->w.layers[0].ln2_b, &c, "deit.encoder.layer.0.layernorm_after.bias"));
    CHECK(weight_equals(m->w.ln_f_w, &c, "deit.layernorm.weight"));
    CHECK(weight_equals(m->w.head_w, &c, "cls_classifier.weight"));
    CHECK(weight_equals(m->w.head_dist_b, &c, "distillation_classifier.bias"));
    CHECK(m->w.mask_token == NULL && m->w.pooler_w == NULL && m->w.decoder_w == NULL);
    deit_model_free(m);
out:
    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* each architecture loads; check the arch-specific fields */
static void test_valid_archs(void) {
    static const char *archs[] = { "DeiTForImageClassification", "DeiTModel", "DeiTForMaskedImageModeling",
                                   "ViTForImageClassification", "ViTModel", "ViTForMaskedImageModeling" };
    for (size_t a = 0; a < G_N_ELEMENTS(archs); a++) {
        struct ckpt c;
        ckpt_tiny(&c, archs[a]);
        GByteArray        *st  = ckpt_serialize(&c);
        char              *cfg = config_json(archs[a], NULL);
        struct deit_error  err;
        struct deit_model *m = load_mem(cfg, st, st->len, &err);
        CHECK(m != NULL);
        if (!m) {
            printf("  %s: %s\n", archs[a], err.message);
        } else {
            const struct deit_model_info *in  = &m->info;
            bool                          vit = g_str_has_prefix(archs[a], "ViT");
            CHECK(strcmp(deit_arch_to_string(in->arch), archs[a]) == 0);
            CHECK_INT(in->num_prefix_tokens, vit ? 1 : 2);
            CHECK_INT(in->num_tokens, vit ? 5 : 6);
            CHECK((m->w.dist_token != NULL) == !vit);
            if (strstr(archs[a], "Classification")) {
                CHECK_INT(in->num_labels, K_);
                CHECK(m->w.head_w != NULL && m->w.head_dist_w == NULL);
            } else {
                CHECK_INT(in->num_labels, 0);
            }
            if (strstr(archs[a], "Masked")) {
                CHECK(m->w.mask_token != NULL && m->w.decoder_w != NULL && m->w.decoder_b != NULL);
                CHECK(weight_equals(m->w.decoder_w, &c, "decoder.0.weight"));
            }
            if (strstr(archs[a], "Model") && !strstr(archs[a], "Modeling")) {
                CHECK_INT(in->pooler_output_size, D_);
                CHECK(weight_equals(m->w.pooler_w, &c, "pooler.dense.weight"));
                CHECK(weight_equals(m->w.cls_token, &c, "embeddings.cls_token"));
            }
            CHECK_INT(in->weight_bytes, ckpt_f32_bytes(&c));
            deit_model_free(m);
        }
        g_free(cfg);
        g_byte_array_unref(st);
        ckpt_clear(&c);
    }
}

int main(int argc, char **argv) {
    test_valid_teacher();
    test_valid_archs();
    if (g_failures) {
        printf("%d failure(s)\n", g_failures);
        return 1;
    }
    printf("all passed\n");
    return 0;
}
