/* test-model-load.c - checkpoint loading: config.json parsing, safetensors validation,
 * F16/BF16 conversion, mmap in place, pytorch_model.bin, and one negative test per error.
 *
 * Checkpoints are built in memory here (a tiny DeiT: hidden 8, 2 heads, 1 layer, image 32,
 * patch 16), then corrupted one way per test; each negative test asserts the exact status
 * and that the message names the offending tensor or key. Expected values come from this
 * file's own construction (shapes, byte counts) and from IEEE 754 (F16/BF16 bit patterns
 * with exactly representable values), never from the loader.
 *
 * One file (about 1,500 lines) because one thing is built and broken throughout: the
 * in-memory checkpoint below; most of the length is the tables of corruptions, one row
 * per loader error.
 *
 * Usage: test-model-load                       safetensors / config tests
 *        test-model-load --torchbin PYTHON     pytorch_model.bin tests; PYTHON with torch
 *                                              writes the files (exit 77 if torch is absent)
 */
#include "deit-internal.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sys/wait.h>
#include <math.h>
#include <stdatomic.h>
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
static int g_extra_pad;   /* extra trailing spaces after the header JSON (multiple of 8) */

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
    for (int i = 0; i < g_extra_pad; i++) g_string_append_c(h, ' ');
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

/* writers pad the header JSON with trailing spaces; readers must accept any amount */
static void test_header_padding(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    char *cfg = config_json("DeiTForImageClassificationWithTeacher", NULL);
    for (int pad = 0; pad <= 64; pad += 8) {
        g_extra_pad           = pad;
        GByteArray       *st  = ckpt_serialize(&c);
        struct deit_error err;
        struct deit_model *m  = load_mem(cfg, st, st->len, &err);
        CHECK(m != NULL);
        if (m) {
            CHECK(weight_equals(m->w.layers[0].fc2_b, &c, "deit.encoder.layer.0.output.dense.bias"));
            CHECK_INT(m->info.weight_bytes_copied, 0);
        }
        deit_model_free(m);
        g_byte_array_unref(st);
    }
    g_extra_pad = 0;
    g_free(cfg);
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

/* ---------------------------------------------------------------------------------------
 * conversions and storage
 */

/* F16 / BF16 bit patterns and their exact float values (IEEE 754; cross-checked with
 * numpy .view(np.float16) and torch .view(torch.bfloat16)) */
static const uint16_t f16_bits[8] = { 0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000, 0x03FF, 0x7C00 };
static const float    f16_vals[8] = { 1.0f, -2.0f, 0.333251953125f, 0x1p-24f /* smallest subnormal */,
                                      65504.0f, -0.0f, 0x1.ff8p-15f /* largest subnormal */, INFINITY };
static const uint16_t bf16_bits[8] = { 0x3F80, 0xC040, 0x3EAB, 0x0001, 0x7F7F, 0x8000, 0xFF80, 0x4049 };
static const float    bf16_vals[8] = { 1.0f, -3.0f, 0.333984375f, 0x1p-133f /* float subnormal */,
                                       0x1.fep+127f /* largest finite */, -0.0f, -INFINITY, 3.140625f };

static void set_half(struct tspec *t, const char *dtype, const uint16_t *bits) {
    uint8_t le[16];
    for (int i = 0; i < 8; i++) {
        le[2 * i]     = (uint8_t)(bits[i] & 0xff);
        le[2 * i + 1] = (uint8_t)(bits[i] >> 8);
    }
    const int64_t shape[] = { 1, 1, D_ };
    tspec_set(t, dtype, 3, shape, le, sizeof le);
}

static void test_half_conversion(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    set_half(ckpt_find(&c, "deit.embeddings.cls_token"), "F16", f16_bits);
    set_half(ckpt_find(&c, "deit.embeddings.distillation_token"), "BF16", bf16_bits);
    GByteArray        *st  = ckpt_serialize(&c);
    char              *cfg = config_json("DeiTForImageClassificationWithTeacher", NULL);
    struct deit_error  err;
    struct deit_model *m = load_mem(cfg, st, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        /* bitwise: -0.0 must keep its sign, inf must stay inf */
        CHECK(memcmp(m->w.cls_token, f16_vals, sizeof f16_vals) == 0);
        CHECK(memcmp(m->w.dist_token, bf16_vals, sizeof bf16_vals) == 0);
        for (int i = 0; i < 8; i++)
            if (m->w.cls_token[i] != f16_vals[i] || m->w.dist_token[i] != bf16_vals[i])
                printf("  [%d] f16 %a (want %a), bf16 %a (want %a)\n", i, m->w.cls_token[i], f16_vals[i],
                       m->w.dist_token[i], bf16_vals[i]);
        CHECK(((uintptr_t)m->w.cls_token % 64) == 0);   /* converted tensors are 64-byte aligned */
        CHECK(!in_buffer(m->w.cls_token, st->data, st->len));
        CHECK(in_buffer(m->w.pos_embed, st->data, st->len));   /* F32 still in place */
        /* the file holds 2x8 halves; the model reads them as 2x8 floats, converted */
        CHECK_INT(m->info.weight_bytes, ckpt_f32_bytes(&c) + 2 * 8 * 2);
        CHECK_INT(m->info.weight_bytes_copied, 2 * 8 * 4);
        deit_model_free(m);
    } else {
        printf("  %s\n", err.message);
    }
    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* F32 data that is not 4-byte aligned in memory is copied, not read misaligned */
static void test_unaligned_copy(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    GByteArray *st  = ckpt_serialize(&c);
    char       *cfg = config_json("DeiTForImageClassificationWithTeacher", NULL);
    uint8_t    *buf = g_malloc(st->len + 1);
    memcpy(buf + 1, st->data, st->len);
    struct deit_error  err;
    struct deit_model *m = deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, buf + 1, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->info.weight_bytes_copied, m->info.weight_bytes);
        CHECK(weight_equals(m->w.layers[0].fc1_w, &c, "deit.encoder.layer.0.intermediate.dense.weight"));
        CHECK(((uintptr_t)m->w.layers[0].fc1_w % 64) == 0);
        deit_model_free(m);
    }
    g_free(buf);
    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* ---------------------------------------------------------------------------------------
 * checkpoint directories on disk
 */
static char *write_dir(const char *config, const GByteArray *st, const char *weights_name) {
    char *dir = g_dir_make_tmp("deit-test-model-load-XXXXXX", NULL);
    if (!dir) return NULL;
    if (config) {
        char *p = g_build_filename(dir, "config.json", NULL);
        g_file_set_contents(p, config, -1, NULL);
        g_free(p);
    }
    if (st) {
        char *p = g_build_filename(dir, weights_name ? weights_name : "model.safetensors", NULL);
        g_file_set_contents(p, (const char *)st->data, st->len, NULL);
        g_free(p);
    }
    return dir;
}

static void remove_dir(char *dir) {
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            char *p = g_build_filename(dir, name, NULL);
            g_unlink(p);
            g_free(p);
        }
        g_dir_close(d);
    }
    g_rmdir(dir);
    g_free(dir);
}

struct log_capture {
    GString *text;
};
static void capture_log(enum deit_log_level level, const char *message, void *user_data) {
    struct log_capture *lc = user_data;
    g_string_append_printf(lc->text, "%d %s\n", (int)level, message);
}

static void test_directory_mmap(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    /* an extra, unused I64 tensor (like an old position_ids buffer) is ignored */
    const int64_t ids_shape[] = { 1, T_DEIT };
    int64_t       ids[T_DEIT] = { 0, 1, 2, 3, 4, 5 };
    tspec_set(ckpt_add(&c, "deit.embeddings.position_ids", 2, ids_shape), "I64", 2, ids_shape, ids, sizeof ids);
    GByteArray *st  = ckpt_serialize(&c);
    char       *cfg = config_json("DeiTForImageClassificationWithTeacher", NULL);
    char       *dir = write_dir(cfg, st, NULL);
    CHECK(dir != NULL);

    struct log_capture lc = { g_string_new(NULL) };
    deit_log_set(capture_log, &lc);
    struct deit_error  err;
    struct deit_model *m = deit_model_load(dir, NULL, &err);
    deit_log_set(NULL, NULL);
    CHECK(m != NULL);
    if (m) {
        CHECK(m->map != NULL);
        CHECK_INT(m->info.weight_bytes_copied, 0);   /* mmap'd, aligned F32: no copy at all */
        CHECK_INT(m->info.weight_bytes, ckpt_f32_bytes(&c) - sizeof ids);
        CHECK(in_buffer(m->w.layers[0].k_w, m->map, m->map_size));
        CHECK(weight_equals(m->w.layers[0].k_w, &c, "deit.encoder.layer.0.attention.attention.key.weight"));
        CHECK(weight_equals(m->w.head_b, &c, "cls_classifier.bias"));
        /* no preprocessor_config.json: DeiTImageProcessor defaults (WARN) */
        const struct deit_preprocess_config *pp  = deit_model_get_preprocess_config(m);
        struct deit_preprocess_config        def = deit_preprocess_default_config("deit");
        CHECK(pp->do_resize == def.do_resize && pp->resize_height == def.resize_height &&
              pp->shortest_edge == def.shortest_edge && pp->resample == def.resample &&
              pp->do_center_crop == def.do_center_crop && pp->crop_height == def.crop_height &&
              pp->rescale_factor == def.rescale_factor && pp->image_mean[0] == def.image_mean[0] &&
              pp->image_std[2] == def.image_std[2]);
        deit_model_free(m);
    } else {
        printf("  %s\n", err.message);
    }
    CHECK(strstr(lc.text->str, "ignoring tensor 'deit.embeddings.position_ids'") != NULL);
    CHECK(strstr(lc.text->str, "preprocessor_config.json not found") != NULL);
    CHECK(strstr(lc.text->str, "2 log_summary: tiny/deit-test: DeiTForImageClassificationWithTeacher, D=8 L=1") != NULL);
    g_string_free(lc.text, TRUE);

    /* use_mmap = false: the file is read and every tensor lives in the owned buffer */
    struct deit_model_params p = deit_model_default_params();
    p.use_mmap                 = false;
    m                          = deit_model_load(dir, &p, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK(m->map == NULL);
        CHECK_INT(m->info.weight_bytes_copied, m->info.weight_bytes);
        CHECK(in_buffer(m->w.layers[0].k_w, m->owned, m->owned_size));
        CHECK(weight_equals(m->w.layers[0].k_w, &c, "deit.encoder.layer.0.attention.attention.key.weight"));
        deit_model_free(m);
    }

    /* weights_path naming the file explicitly, relative to the directory */
    p            = deit_model_default_params();
    p.weights_path = "model.safetensors";
    m              = deit_model_load(dir, &p, &err);
    CHECK(m != NULL);
    deit_model_free(m);
    p.weights_path = "nonexistent.safetensors";
    m              = deit_model_load(dir, &p, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "nonexistent.safetensors");

    remove_dir(dir);
    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* preprocessor_config.json is read from the directory (explicit values from the file),
 * a ViT without one gets ViTImageProcessor defaults, a broken one fails the load */
static void test_preprocessor_config(void) {
    struct ckpt c;
    ckpt_tiny(&c, "ViTForImageClassification");
    GByteArray        *st  = ckpt_serialize(&c);
    char              *cfg = config_json("ViTForImageClassification", NULL);
    char              *dir = write_dir(cfg, st, NULL);
    struct deit_error  err;
    struct deit_model *m = deit_model_load(dir, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        const struct deit_preprocess_config *pp  = deit_model_get_preprocess_config(m);
        struct deit_preprocess_config        vit = deit_preprocess_default_config("vit");
        struct deit_preprocess_config        dei = deit_preprocess_default_config("deit");
        CHECK(vit.do_center_crop != dei.do_center_crop || vit.resample != dei.resample);   /* distinguishable */
        CHECK(pp->do_center_crop == vit.do_center_crop && pp->resample == vit.resample &&
              pp->resize_height == vit.resize_height);
        deit_model_free(m);
    }
    char *pp_path = g_build_filename(dir, "preprocessor_config.json", NULL);
    g_file_set_contents(pp_path,
                        "{\"image_processor_type\": \"ViTImageProcessor\", \"do_resize\": true, "
                        "\"size\": {\"height\": 32, \"width\": 32}, \"resample\": 3, \"do_normalize\": true, "
                        "\"image_mean\": [0.25, 0.5, 0.75], \"image_std\": [0.5, 0.5, 0.125], "
                        "\"do_rescale\": true, \"rescale_factor\": 0.00390625}",
                        -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        const struct deit_preprocess_config *pp = deit_model_get_preprocess_config(m);
        CHECK_INT(pp->resize_height, 32);
        CHECK_INT(pp->resize_width, 32);
        CHECK_INT(pp->resample, DEIT_RESAMPLE_BICUBIC);
        CHECK(pp->image_mean[0] == 0.25f && pp->image_mean[2] == 0.75f && pp->image_std[2] == 0.125f);
        CHECK(pp->rescale_factor == 0.00390625);
        CHECK_INT(deit_model_check_preprocess(m, &err), DEIT_STATUS_OK);
        deit_model_free(m);
    } else {
        printf("  %s\n", err.message);
    }
    /* a processor whose output is not the model's image size loads (tensors can still be
     * fed directly), but cannot preprocess frames: said at the check, and by
     * deit_state_preprocess, with the fields to fix */
    g_file_set_contents(pp_path,
                        "{\"image_processor_type\": \"ViTImageProcessor\", \"do_resize\": true, "
                        "\"size\": {\"height\": 48, \"width\": 40}}",
                        -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(deit_model_check_preprocess(m, &err), DEIT_STATUS_ERROR_BAD_CONFIG);
        CHECK(strstr(err.message, "produces 40x48 images but the model takes 32x32") != NULL);
        CHECK(strstr(err.message, "size/crop_size") != NULL);
        struct deit_state_params sp = deit_state_default_params();
        sp.n_threads                = 1;
        /* the state is made without an error (nothing logged at ERROR: the element would
         * show it on every start of such a model) */
        struct log_capture lc = { g_string_new(NULL) };
        deit_log_set(capture_log, &lc);
        struct deit_state *st_ = deit_state_init(m, &sp, &err);
        deit_log_set(NULL, NULL);
        CHECK(st_ != NULL);
        CHECK(strstr(lc.text->str, "produces 40x48 images") != NULL);   /* at DEBUG */
        CHECK(strstr(lc.text->str, "\n0 ") == NULL && strncmp(lc.text->str, "0 ", 2) != 0);
        g_string_free(lc.text, TRUE);
        if (st_) {
            uint8_t          px[4 * 4 * 3] = { 0 };
            struct deit_image img = { .format = DEIT_PIXEL_FORMAT_RGB, .width = 4, .height = 4 };
            img.data[0]   = px;
            img.stride[0] = 12;
            CHECK_INT(deit_state_preprocess(st_, 0, &img, NULL, NULL), DEIT_STATUS_ERROR_BAD_CONFIG);
            deit_state_free(st_);
        }
        deit_model_free(m);
    }
    g_file_set_contents(pp_path,
                        "{\"image_processor_type\": \"ViTImageProcessor\", \"do_resize\": true, "
                        "\"size\": {\"shortest_edge\": 32}, \"do_center_crop\": false}",
                        -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(deit_model_check_preprocess(m, &err), DEIT_STATUS_ERROR_BAD_CONFIG);
        CHECK(strstr(err.message, "preprocessor_config.json: the output size would depend on each input") != NULL);
        /* a ViT processor ignores do_center_crop: the fix it can take comes first */
        CHECK(strstr(err.message, "set do_resize true with size {\"height\", \"width\"}") != NULL);
        deit_model_free(m);
    }
    /* shortest_edge then a crop: a fixed output, but a 16384x2 frame would first be resized
     * to 294912x36, past the size limit: refused per frame, saying what to do */
    g_file_set_contents(pp_path,
                        "{\"image_processor_type\": \"DeiTImageProcessor\", \"do_resize\": true, "
                        "\"size\": {\"shortest_edge\": 36}, \"do_center_crop\": true, "
                        "\"crop_size\": {\"height\": 32, \"width\": 32}}",
                        -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(deit_model_check_preprocess(m, &err), DEIT_STATUS_OK);
        struct deit_state_params sp = deit_state_default_params();
        sp.n_threads                = 1;
        struct deit_state *st_      = deit_state_init(m, &sp, &err);
        CHECK(st_ != NULL);
        if (st_) {
            uint8_t          *px  = g_malloc0(16384 * 2 * 3);
            struct deit_image img = { .format = DEIT_PIXEL_FORMAT_RGB, .width = 16384, .height = 2 };
            img.data[0]   = px;
            img.stride[0] = 16384 * 3;
            CHECK_INT(deit_state_preprocess(st_, 0, &img, NULL, &err), DEIT_STATUS_ERROR_INVALID_ARG);
            CHECK(strstr(err.message, "resized to 294912x36") && strstr(err.message, "crop it"));
            printf("ok   extreme aspect: %s\n", err.message);
            g_free(px);
            deit_state_free(st_);
        }
        deit_model_free(m);
    }
    /* no preprocessor_config.json at all: the message says so, not that the missing file
     * gives the wrong size (ViTImageProcessor's defaults: 224 x 224) */
    g_unlink(pp_path);
    m = deit_model_load(dir, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(deit_model_check_preprocess(m, &err), DEIT_STATUS_ERROR_BAD_CONFIG);
        CHECK(strstr(err.message, "there is no preprocessor_config.json, and ViTImageProcessor's defaults produce "
                                  "224x224 images but the model takes 32x32") != NULL);
        printf("ok   no processor: %s\n", err.message);
        deit_model_free(m);
    }
    g_file_set_contents(pp_path, "{\"size\": ", -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_JSON, "preprocessor_config.json");
    /* from memory: the same text is parsed, and its error is reported */
    m = deit_model_load_from_memory(cfg, strlen(cfg), "{\"size\": ", 9, st->data, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_JSON, "preprocessor_config.json");
    g_free(pp_path);
    remove_dir(dir);
    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* deit_state_init refuses a batch whose activations would overflow the kernels' int
 * indexing (B * per-image values > INT_MAX), with the largest batch that fits, instead
 * of computing garbage; one below the limit is accepted (the buffers are not touched
 * until a forward pass, so this costs only address space). */
static void test_state_batch_limit(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTModel");
    const int64_t pos[] = { 1, (2048 / P_) * (2048 / P_) + 2, D_ };
    struct tspec *t     = ckpt_find(&c, "embeddings.position_embeddings");
    size_t        nb    = (size_t)(pos[0] * pos[1] * pos[2]) * 4;
    void         *zeros = g_malloc0(nb);
    tspec_set(t, "F32", 3, pos, zeros, nb);
    g_free(zeros);
    GByteArray *st  = ckpt_serialize(&c);
    GString    *cfg = g_string_new(NULL);
    char       *c0  = config_json("DeiTModel", NULL);
    g_string_assign(cfg, c0);
    CHECK(g_string_replace(cfg, "\"image_size\": 32,", "\"image_size\": 2048,", 1) == 1);
    struct deit_error  err;
    struct deit_model *m = load_mem(cfg->str, st, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        /* 3 x 2048 x 2048 input values per image: INT_MAX / 12582912 = 170 */
        struct deit_state_params sp = deit_state_default_params();
        sp.n_threads                = 1;
        sp.max_batch                = 171;
        struct deit_state *s1       = deit_state_init(m, &sp, &err);
        CHECK(s1 == NULL);
        CHECK_INT(err.status, DEIT_STATUS_ERROR_INVALID_ARG);
        CHECK(strstr(err.message, "max_batch 171 is too large") && strstr(err.message, "at most 170"));
        printf("ok   batch limit: %s\n", err.message);
        deit_state_free(s1);
        sp.max_batch = 2;
        s1           = deit_state_init(m, &sp, &err);
        CHECK(s1 != NULL);
        deit_state_free(s1);
        deit_model_free(m);
    } else {
        printf("  %s\n", err.message);
    }
    g_free(c0);
    g_string_free(cfg, TRUE);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* deit_state_init refuses enum fields outside their enums and spin_us below -1 with
 * INVALID_ARG naming the field: an attention value of 7 used to size the scratch for the
 * fused kernel and then run the eager one, which wrote past it. */
static void test_state_bad_params(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTModel");
    GByteArray        *st = ckpt_serialize(&c);
    char              *c0 = config_json("DeiTModel", NULL);
    struct deit_error  err;
    struct deit_model *m = load_mem(c0, st, st->len, &err);
    CHECK(m != NULL);
    for (int i = 0; m && i < 7; i++) {
        struct deit_state_params sp = deit_state_default_params();
        const char              *want;
        sp.n_threads = 1;
        switch (i) {
        case 0: sp.attention = (enum deit_attention)7, want = "params->attention is 7"; break;
        case 1: sp.isa = (enum deit_isa)-1, want = "params->isa is -1"; break;
        case 2: sp.isa = (enum deit_isa)(DEIT_ISA_AVX512 + 1), want = "params->isa is 4"; break;
        case 3: sp.schedule = (enum deit_schedule)42, want = "params->schedule is 42"; break;
        case 4: sp.batch_split = (enum deit_batch_split)42, want = "params->batch_split is 42"; break;
        case 5: sp.affinity = (enum deit_affinity)-3, want = "params->affinity is -3"; break;
        default: sp.spin_us = -7, want = "params->spin_us is -7"; break;
        }
        struct deit_state *s1 = deit_state_init(m, &sp, &err);
        CHECK(s1 == NULL);
        CHECK_INT(err.status, DEIT_STATUS_ERROR_INVALID_ARG);
        CHECK(strstr(err.message, want) != NULL);
        printf("ok   bad params: %s\n", err.message);
        deit_state_free(s1);
    }
    CHECK(!deit_isa_supported((enum deit_isa)-1) && !deit_isa_supported((enum deit_isa)(DEIT_ISA_AVX512 + 1)));
    if (m) { /* the last value of each enum is accepted */
        struct deit_state_params sp = deit_state_default_params();
        sp.n_threads = 1, sp.attention = DEIT_ATTENTION_FUSED, sp.schedule = DEIT_SCHEDULE_ROWS;
        sp.batch_split = DEIT_BATCH_SPLIT_IMAGES, sp.affinity = DEIT_AFFINITY_PIN, sp.spin_us = 0;
        struct deit_state *s1 = deit_state_init(m, &sp, &err);
        CHECK(s1 != NULL);
        if (s1) {
            const struct deit_model_info *mi = deit_model_get_info(m);
            memset(deit_state_input(s1, 0), 0, sizeof(float) * mi->num_channels * mi->image_height * mi->image_width);
        }
        CHECK_INT(s1 ? deit_state_run(s1, 1, NULL) : -1, DEIT_STATUS_OK);
        deit_state_free(s1);
    }
    deit_model_free(m);
    g_free(c0);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* deit_state_run's abort callback: called once per layer (by a worker); returning
 * true ends the run with DEIT_STATUS_ABORTED and no outputs; the state stays usable and the
 * next run computes the same logits as a run that was never interrupted. Both layer
 * schedules (row-fused and one phase per operation), 1 and 3 threads. */
struct abort_ctx {
    atomic_int calls; /* several workers call it at once when a batch goes by images */
    int        abort_at;
};
static bool abort_cb(void *user_data) {
    struct abort_ctx *a = user_data;
    return atomic_fetch_add(&a->calls, 1) + 1 >= a->abort_at;
}

static void test_abort(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    char    *c0  = config_json("DeiTForImageClassificationWithTeacher", NULL);
    GString *cfg = g_string_new(c0);
    g_free(c0);
    CHECK(g_string_replace(cfg, "\"num_hidden_layers\": 1,", "\"num_hidden_layers\": 3,", 1) == 1);
    /* ckpt_tiny has L_ = 1 layer; layers 1 and 2 are copies of it under their names */
    int n0 = c.n;
    for (int l = 1; l < 3; l++)
        for (int i = 0; i < n0; i++)
            if (strstr(c.t[i].name, "encoder.layer.0.")) {
                char name[128];
                g_strlcpy(name, c.t[i].name, sizeof name);
                char *pos = strstr(name, "layer.0.");
                pos[6]    = (char)('0' + l);
                struct tspec *t = ckpt_add(&c, name, c.t[i].n_dims, c.t[i].shape);
                memcpy(t->data, c.t[i].data, t->n_bytes);
            }
    GByteArray        *st = ckpt_serialize(&c);
    struct deit_error  err;
    struct deit_model *m = load_mem(cfg->str, st, st->len, &err);
    CHECK(m != NULL);
    if (!m) printf("  %s\n", err.message);
    for (int fuse = 0; m && fuse < 2; fuse++)
        for (int threads = 1; threads <= 3; threads += 2) {
            g_setenv("DEIT_FUSE_ROWS", fuse ? "1" : "0", TRUE);
            struct deit_state_params sp = deit_state_default_params();
            sp.n_threads                = threads;
            struct deit_state *s1       = deit_state_init(m, &sp, &err);
            CHECK(s1 != NULL);
            if (!s1) continue;
            float *in = deit_state_input(s1, 0);
            for (int i = 0; i < C_ * IMG_ * IMG_; i++) in[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
            float ref[K_];
            size_t n = 0;
            CHECK_INT(deit_state_run(s1, 1, NULL), DEIT_STATUS_OK);
            memcpy(ref, deit_state_get_output(s1, DEIT_OUTPUT_LOGITS, 0, &n), sizeof ref);
            CHECK_INT((int)n, K_);
            for (int at = 1; at <= 3; at++) {
                struct abort_ctx       a  = { 0, at };
                struct deit_run_params rp = deit_run_default_params();
                rp.abort_callback         = abort_cb;
                rp.abort_user_data        = &a;
                CHECK_INT(deit_state_run(s1, 1, &rp), DEIT_STATUS_ABORTED);
                CHECK_INT(atomic_load(&a.calls), at);
                CHECK(deit_state_get_output(s1, DEIT_OUTPUT_LOGITS, 0, NULL) == NULL);
            }
            /* a callback that never aborts is called once per layer */
            struct abort_ctx       a  = { 0, 1000 };
            struct deit_run_params rp = deit_run_default_params();
            rp.abort_callback         = abort_cb;
            rp.abort_user_data        = &a;
            CHECK_INT(deit_state_run(s1, 1, &rp), DEIT_STATUS_OK);
            CHECK_INT(atomic_load(&a.calls), 3);
            const float *out = deit_state_get_output(s1, DEIT_OUTPUT_LOGITS, 0, NULL);
            CHECK(out && memcmp(out, ref, sizeof ref) == 0);
            deit_state_free(s1);
        }
    g_unsetenv("DEIT_FUSE_ROWS");
    /* a batch split by whole images: the worker of each image asks once per layer of it
     * (only worker 0 asked before, so the other workers' images could not be stopped),
     * and an abort stops the run with no outputs */
    for (int threads = 2; m && threads <= 3; threads++) {
        struct deit_state_params sp = deit_state_default_params();
        sp.n_threads                = threads;
        sp.max_batch                = 2 * threads;
        sp.batch_split              = DEIT_BATCH_SPLIT_IMAGES;
        struct deit_state *s1       = deit_state_init(m, &sp, &err);
        CHECK(s1 != NULL);
        if (!s1) continue;
        struct abort_ctx       a  = { 0, 1000 };
        struct deit_run_params rp = deit_run_default_params();
        rp.abort_callback         = abort_cb;
        rp.abort_user_data        = &a;
        CHECK_INT(deit_state_run(s1, 2 * threads, &rp), DEIT_STATUS_OK);
        CHECK_INT(atomic_load(&a.calls), 3 * 2 * threads);
        struct abort_ctx b = { 0, 1 };
        rp.abort_user_data = &b;
        CHECK_INT(deit_state_run(s1, 2 * threads, &rp), DEIT_STATUS_ABORTED);
        CHECK(deit_state_get_output(s1, DEIT_OUTPUT_LOGITS, 0, NULL) == NULL);
        deit_state_free(s1);
    }
    printf("ok   abort callback\n");
    deit_model_free(m);
    g_string_free(cfg, TRUE);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* ---------------------------------------------------------------------------------------
 * negative tests: files and config
 */
static void test_errors_files(void) {
    struct deit_error  err;
    struct deit_model *m = deit_model_load("/nonexistent/deit-checkpoint", NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "/nonexistent/deit-checkpoint", "does not exist");

    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    GByteArray *st  = ckpt_serialize(&c);
    char       *cfg = config_json("DeiTForImageClassificationWithTeacher", NULL);

    char *dir = write_dir(NULL, st, NULL);   /* weights but no config.json */
    m         = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "config.json");
    remove_dir(dir);

    dir = write_dir(cfg, NULL, NULL);        /* config.json but no weights */
    m   = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "model.safetensors", "pytorch_model.bin");
    remove_dir(dir);

    dir = write_dir("{\"architectures\": [\"DeiTModel\"], \"hidden_size\": 8,, }", st, NULL);
    m   = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_JSON, "config.json");
    remove_dir(dir);

    /* a legacy (non-zip) torch.save file: pickle protocol 2 magic first */
    GByteArray *legacy = g_byte_array_new();
    g_byte_array_append(legacy, (const guint8 *)"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14);
    dir = write_dir(cfg, legacy, "pytorch_model.bin");
    m   = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "pytorch_model.bin", "legacy", "re-save");
    remove_dir(dir);
    g_byte_array_unref(legacy);

    /* what failed downloads leave in place of the weights: the error says what the file is */
    static const struct {
        const char *name, *content, *needle, *needle2;
        enum deit_status status;
    } leftovers[] = {
        { "model.safetensors", "", "empty", "download the file again", DEIT_STATUS_ERROR_TRUNCATED },
        { "pytorch_model.bin",
          "version https://git-lfs.github.com/spec/v1\noid sha256:"
          "4f5b0e2b7b6c1d3e9a8f7c6b5a4d3c2b1a0f9e8d7c6b5a4d3c2b1a0f9e8d7c6b\nsize 22883256\n",
          "Git LFS pointer", "git lfs pull", DEIT_STATUS_ERROR_BAD_HEADER },
        { "model.safetensors", "\n<!DOCTYPE html>\n<html><body>Access denied</body></html>\n", "HTML",
          "download the file again", DEIT_STATUS_ERROR_BAD_HEADER },
        /* the first byte of a torch.save zip: named as the .bin it should be, not as safetensors */
        { "pytorch_model.bin", "P", "not a torch.save checkpoint", "download it again", DEIT_STATUS_ERROR_BAD_HEADER },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(leftovers); i++) {
        GByteArray *b = g_byte_array_new();
        g_byte_array_append(b, (const guint8 *)leftovers[i].content, strlen(leftovers[i].content));
        dir = write_dir(cfg, b, leftovers[i].name);
        m   = deit_model_load(dir, NULL, &err);
        EXPECT_ERROR(m, &err, leftovers[i].status, leftovers[i].name, leftovers[i].needle, leftovers[i].needle2);
        remove_dir(dir);
        g_byte_array_unref(b);
    }

    /* a PEFT adapter directory, with or without a config.json: merge it first */
    dir        = write_dir(NULL, NULL, NULL);
    char *adap = g_build_filename(dir, "adapter_config.json", NULL);
    g_file_set_contents(adap, "{\"peft_type\": \"LORA\"}", -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "PEFT adapter", "merge_and_unload");
    char *cfgp = g_build_filename(dir, "config.json", NULL);
    g_file_set_contents(cfgp, cfg, -1, NULL);
    m = deit_model_load(dir, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "PEFT adapter", "merge_and_unload");
    g_free(cfgp);
    g_free(adap);
    remove_dir(dir);

    /* the Hugging Face cache folder of a repository instead of its snapshot */
    char *hub  = g_dir_make_tmp("deit-test-hub-XXXXXX", NULL);
    char *snap = g_build_filename(hub, "snapshots", "0a1b2c3d", NULL);
    char *refs = g_build_filename(hub, "refs", NULL);
    char *refm = g_build_filename(refs, "main", NULL);
    g_mkdir_with_parents(snap, 0700);
    g_mkdir_with_parents(refs, 0700);
    g_file_set_contents(refm, "0a1b2c3d\n", -1, NULL);
    m = deit_model_load(hub, NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "Hugging Face cache", "snapshots/0a1b2c3d");
    g_unlink(refm);
    g_rmdir(refs);
    g_rmdir(snap);
    char *snaps = g_path_get_dirname(snap);
    g_rmdir(snaps);
    g_rmdir(hub);
    g_free(snaps);
    g_free(refm);
    g_free(refs);
    g_free(snap);
    g_free(hub);

    /* "~" that no shell expanded (a quoted path, dash, zsh after "=") */
    m = deit_model_load("~/no-such-deit-checkpoint", NULL, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_NOT_FOUND, "does not exist", "leading ~ is not expanded");

    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* config.json values: each error names the key */
static void test_errors_config(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    GByteArray *st = ckpt_serialize(&c);
    static const struct {
        const char      *arch;
        const char      *extra;   /* appended keys override the earlier ones (json-glib: last wins) */
        enum deit_status status;
        const char      *needle;
        const char      *needle2;
    } cases[] = {
        { "BeitForImageClassification", NULL, DEIT_STATUS_ERROR_UNKNOWN_ARCH, "BeitForImageClassification", "supported" },
        { "DeiTModel", "\"model_type\": \"beit\"", DEIT_STATUS_ERROR_UNKNOWN_ARCH, "beit", "model_type" },
        { "DeiTModel", "\"hidden_act\": \"prelu\"", DEIT_STATUS_ERROR_UNSUPPORTED_ACT, "prelu", "hidden_act" },
        { "DeiTModel", "\"hidden_act\": \"xielu\"", DEIT_STATUS_ERROR_UNSUPPORTED_ACT, "xielu", "quick_gelu" },
        { "DeiTModel", "\"hidden_act\": \"ReLU\"", DEIT_STATUS_ERROR_UNSUPPORTED_ACT, "ReLU", "relu" },
        { "DeiTModel", "\"pooler_act\": \"prelu\"", DEIT_STATUS_ERROR_UNSUPPORTED_ACT, "pooler_act", "prelu" },
        { "DeiTModel", "\"pooler_act\": 1", DEIT_STATUS_ERROR_BAD_CONFIG, "pooler_act", "string" },
        { "DeiTModel", "\"num_attention_heads\": 3", DEIT_STATUS_ERROR_BAD_CONFIG, "num_attention_heads", "hidden_size 8" },
        { "DeiTModel", "\"image_size\": 8", DEIT_STATUS_ERROR_BAD_CONFIG, "image_size 8x8", "smaller than patch_size" },
        { "DeiTModel", "\"patch_size\": [16, 8]", DEIT_STATUS_ERROR_BAD_CONFIG, "patch_size", "square" },
        { "DeiTModel", "\"hidden_size\": 0", DEIT_STATUS_ERROR_BAD_CONFIG, "hidden_size", "0" },
        { "DeiTModel", "\"hidden_size\": -8", DEIT_STATUS_ERROR_BAD_CONFIG, "hidden_size", "-8" },
        { "DeiTModel", "\"num_hidden_layers\": 99999999999", DEIT_STATUS_ERROR_BAD_CONFIG, "num_hidden_layers", "99999999999" },
        { "DeiTModel", "\"intermediate_size\": \"big\"", DEIT_STATUS_ERROR_BAD_CONFIG, "intermediate_size", "integer" },
        { "DeiTModel", "\"image_size\": [32, 32, 3]", DEIT_STATUS_ERROR_BAD_CONFIG, "image_size", "[height, width]" },
        { "DeiTModel", "\"image_size\": 16384, \"patch_size\": 1", DEIT_STATUS_ERROR_BAD_CONFIG, "image_size", "tokens" },
        { "DeiTModel", "\"qkv_bias\": 1", DEIT_STATUS_ERROR_BAD_CONFIG, "qkv_bias", "true or false" },
        { "DeiTModel", "\"layer_norm_eps\": -1", DEIT_STATUS_ERROR_BAD_CONFIG, "layer_norm_eps", "-1" },
        { "DeiTModel", "\"problem_type\": \"multi_label\"", DEIT_STATUS_ERROR_BAD_CONFIG, "problem_type",
          "multi_label_classification" },
        { "DeiTModel", "\"problem_type\": 2", DEIT_STATUS_ERROR_BAD_CONFIG, "problem_type", "regression" },
        { "DeiTModel", "\"id2label\": {\"zero\": \"cat\"}", DEIT_STATUS_ERROR_BAD_CONFIG, "id2label", "zero" },
        { "DeiTModel", "\"id2label\": {\"0\": 5}", DEIT_STATUS_ERROR_BAD_CONFIG, "id2label", "string" },
        { "DeiTForImageClassification", "\"id2label\": {}", DEIT_STATUS_ERROR_BAD_CONFIG, "id2label", "DeiTForImageClassification" },
        /* the decoder reshapes the patches to a square grid (encoder_stride != patch_size
         * is allowed: test_arch_variants) */
        { "DeiTForMaskedImageModeling", "\"image_size\": [32, 48]", DEIT_STATUS_ERROR_BAD_CONFIG, "square image_size", "32x48" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char              *cfg = config_json(cases[i].arch, cases[i].extra);
        struct deit_error  err;
        struct deit_model *m = load_mem(cfg, st, st->len, &err);
        EXPECT_ERROR(m, &err, cases[i].status, cases[i].needle, cases[i].needle2);
        /* the config parser alone reports the same */
        struct deit_model_info info;
        char                 **labels = NULL, *name = NULL;
        CHECK_INT(deit_config_parse(cfg, strlen(cfg), &info, &labels, &name, &err), cases[i].status);
        CHECK(labels == NULL && name == NULL);
        g_free(cfg);
    }
    /* neither architectures nor model_type */
    const char        *bare = "{\"hidden_size\": 8}";
    struct deit_error  err;
    struct deit_model *m = deit_model_load_from_memory(bare, strlen(bare), NULL, 0, st->data, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_UNKNOWN_ARCH, "architectures", "model_type");
    const char *notobj = "[1, 2]";
    m = deit_model_load_from_memory(notobj, strlen(notobj), NULL, 0, st->data, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_JSON, "config.json");
    /* a head's backbone has no pooler, so transformers never reads pooler_act: a name we
     * do not run loads (refused above for DeiTModel, which has one) */
    char *hc = config_json("DeiTForImageClassificationWithTeacher", "\"pooler_act\": \"prelu\"");
    m        = load_mem(hc, st, st->len, &err);
    CHECK(m != NULL);
    deit_model_free(m);
    g_free(hc);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* problem_type: parsed, and the default scores follow transformers' image-classification
 * pipeline (sigmoid for multi-label; softmax otherwise, whatever else problem_type says,
 * since the head has 3 outputs; none without a head) */
static void test_problem_type(void) {
    struct ckpt c;
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    GByteArray *st = ckpt_serialize(&c);
    static const struct {
        const char              *extra;
        enum deit_problem_type   type;
        enum deit_score_function fn;
    } cases[] = {
        { NULL, DEIT_PROBLEM_UNSET, DEIT_SCORE_SOFTMAX },
        { "\"problem_type\": null", DEIT_PROBLEM_UNSET, DEIT_SCORE_SOFTMAX },
        { "\"problem_type\": \"single_label_classification\"", DEIT_PROBLEM_SINGLE_LABEL, DEIT_SCORE_SOFTMAX },
        { "\"problem_type\": \"multi_label_classification\"", DEIT_PROBLEM_MULTI_LABEL, DEIT_SCORE_SIGMOID },
        { "\"problem_type\": \"regression\"", DEIT_PROBLEM_REGRESSION, DEIT_SCORE_SOFTMAX },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char              *cfg = config_json("DeiTForImageClassificationWithTeacher", cases[i].extra);
        struct deit_error  err;
        struct deit_model *m = load_mem(cfg, st, st->len, &err);
        CHECK(m != NULL);
        if (m) {
            CHECK_INT(deit_model_get_info(m)->problem_type, cases[i].type);
            CHECK_INT(deit_model_score_function(m), cases[i].fn);
            deit_model_free(m);
        }
        g_free(cfg);
    }
    CHECK_INT(deit_model_score_function(NULL), DEIT_SCORE_NONE);
    g_byte_array_unref(st);
    ckpt_clear(&c);
    /* a bare encoder has no logits to score */
    ckpt_tiny(&c, "DeiTModel");
    st = ckpt_serialize(&c);
    char              *cfg = config_json("DeiTModel", "\"problem_type\": \"multi_label_classification\"");
    struct deit_error  err;
    struct deit_model *m = load_mem(cfg, st, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(deit_model_score_function(m), DEIT_SCORE_NONE);
        deit_model_free(m);
    }
    g_free(cfg);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* config.json defaults and variants */
static void test_config_values(void) {
    struct deit_model_info info;
    char                 **labels = NULL, *name = NULL;
    struct deit_error      err;
    /* an empty DeiT config: DeiTConfig defaults (deit-reference.md §1.1), 2 labels */
    const char *j = "{\"model_type\": \"deit\"}";
    labels = NULL;
    CHECK_INT(deit_config_parse(j, strlen(j), &info, &labels, &name, &err), DEIT_STATUS_OK);
    CHECK_INT(info.arch, DEIT_ARCH_DEIT_MODEL);
    CHECK_INT(info.hidden_size, 768);
    CHECK_INT(info.num_layers, 12);
    CHECK_INT(info.num_heads, 12);
    CHECK_INT(info.head_dim, 64);
    CHECK_INT(info.intermediate_size, 3072);
    CHECK_INT(info.image_height, 224);
    CHECK_INT(info.image_width, 224);
    CHECK_INT(info.patch_size, 16);
    CHECK_INT(info.num_channels, 3);
    CHECK_INT(info.num_patches, 196);
    CHECK_INT(info.num_tokens, 198);
    CHECK_INT(info.encoder_stride, 16);
    CHECK_INT(info.pooler_output_size, 768);
    CHECK(info.qkv_bias);
    CHECK(info.layer_norm_eps == 1e-12f);
    CHECK_INT(info.hidden_act, DEIT_ACT_GELU);
    CHECK_INT(info.problem_type, DEIT_PROBLEM_UNSET);
    CHECK(name == NULL);
    CHECK(labels && labels[0] && strcmp(labels[0], "LABEL_0") == 0 && strcmp(labels[1], "LABEL_1") == 0 &&
          labels[2] == NULL);
    g_strfreev(labels);

    /* ViT 384, [h, w] image size, tanh GELU, num_labels without id2label, sparse id2label */
    j = "{\"architectures\": [\"ViTForImageClassification\"], \"image_size\": [384, 384], \"patch_size\": [16, 16], "
        "\"hidden_act\": \"gelu_pytorch_tanh\", \"qkv_bias\": false, \"num_labels\": 5}";
    labels = NULL;
    CHECK_INT(deit_config_parse(j, strlen(j), &info, &labels, &name, &err), DEIT_STATUS_OK);
    CHECK_INT(info.arch, DEIT_ARCH_VIT_CLASSIFICATION);
    CHECK_INT(info.num_tokens, 577);
    CHECK_INT(info.num_prefix_tokens, 1);
    CHECK_INT(info.hidden_act, DEIT_ACT_GELU_TANH);
    CHECK(!info.qkv_bias);
    CHECK_INT(info.num_labels, 5);
    CHECK(labels && strcmp(labels[4], "LABEL_4") == 0);
    CHECK_INT(info.pooler_output_size, 0);
    g_strfreev(labels);

    j = "{\"architectures\": [\"DeiTForImageClassification\"], \"image_size\": [32, 64], \"patch_size\": 16, "
        "\"hidden_act\": \"gelu_new\", \"id2label\": {\"2\": \"c\", \"0\": \"a\"}, \"hidden_size\": 96.0}";
    labels = NULL;
    CHECK_INT(deit_config_parse(j, strlen(j), &info, &labels, &name, &err), DEIT_STATUS_OK);
    CHECK_INT(info.image_height, 32);
    CHECK_INT(info.image_width, 64);
    CHECK_INT(info.num_patches, 8);
    CHECK_INT(info.hidden_size, 96);
    CHECK_INT(info.num_labels, 2);          /* len(id2label), as transformers */
    CHECK_INT(info.problem_type, DEIT_PROBLEM_UNSET);
    CHECK(labels && strcmp(labels[0], "a") == 0 && strcmp(labels[1], "LABEL_1") == 0 && labels[2] == NULL);
    g_strfreev(labels);

    /* a lone surrogate escape in a label (json-glib decodes it to bytes that are not
     * UTF-8): labels go into GValues, bus messages and JSON, so they are made valid */
    j = "{\"architectures\": [\"DeiTForImageClassification\"], "
        "\"id2label\": {\"0\": \"bad \\ud800 x\", \"1\": \"caf\\u00e9\"}}";
    labels = NULL;
    CHECK_INT(deit_config_parse(j, strlen(j), &info, &labels, &name, &err), DEIT_STATUS_OK);
    CHECK(labels && g_utf8_validate(labels[0], -1, NULL) && g_str_has_prefix(labels[0], "bad ") &&
          g_str_has_suffix(labels[0], "x"));
    CHECK(labels && strcmp(labels[1], "caf\xc3\xa9") == 0);
    g_strfreev(labels);
}

/* ---------------------------------------------------------------------------------------
 * negative tests: safetensors
 */
static void test_errors_safetensors(void) {
    const char *arch = "DeiTForImageClassificationWithTeacher";
    char       *cfg  = config_json(arch, NULL);
    struct ckpt c;
    struct deit_error  err;
    struct deit_model *m;
    GByteArray        *st;

    /* header length beyond the file */
    ckpt_tiny(&c, arch);
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, 300, &err);   /* cut inside the JSON header */
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_HEADER, "header length", "300 bytes");
    st->data[7] = 0x7f;                  /* absurd header length */
    m           = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_HEADER, "header length");
    m = load_mem(cfg, st, 5, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_HEADER, "too short");
    g_byte_array_unref(st);

    /* header that is not JSON */
    st = ckpt_serialize(&c);
    st->data[8 + strlen("{\"__metadata__\"")] = '#';   /* the ':' after the first key */
    m = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_HEADER, "not valid JSON");
    g_byte_array_unref(st);

    /* every header byte overwritten in turn: a load or a clean error, never a crash
     * (the status depends on the byte; valgrind-checked by hand) */
    st = ckpt_serialize(&c);
    size_t hend = 8 + (size_t)(st->data[0] | st->data[1] << 8);
    int    n_ok = 0, n_err = 0;
    for (size_t i = 0; i < hend; i++) {
        static const uint8_t vals[] = { 0x00, '9', '"', ']' };
        for (size_t v = 0; v < sizeof vals; v++) {
            uint8_t saved = st->data[i];
            st->data[i]   = vals[v];
            m             = load_mem(cfg, st, st->len, &err);
            if (m) n_ok++;
            else n_err++;
            CHECK(m != NULL || (err.status < 0 && err.message[0] != 0));
            deit_model_free(m);
            st->data[i] = saved;
        }
    }
    printf("ok   corrupted header sweep: %d loads, %d clean errors\n", n_ok, n_err);
    g_byte_array_unref(st);

    /* truncated data: the header is consistent, the file ends early */
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len - 100, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_TRUNCATED, "truncated");
    g_byte_array_unref(st);

    /* offsets out of range: one tensor points far past the data */
    struct tspec *t = ckpt_find(&c, "deit.encoder.layer.0.output.dense.bias");
    t->set_offsets  = true;
    t->begin        = 1000000;
    t->end          = 1000000 + t->n_bytes;
    st              = ckpt_serialize(&c);
    m               = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_OFFSETS, "deit.encoder.layer.0.output.dense.bias", "outside");
    g_byte_array_unref(st);

    /* byte range size disagrees with shape x dtype */
    t->begin = 0;
    t->end   = 16;
    st       = ckpt_serialize(&c);
    m        = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_OFFSETS, "deit.encoder.layer.0.output.dense.bias", "16 bytes",
                 "32 bytes");
    g_byte_array_unref(st);

    /* end before begin */
    t->begin = 64;
    t->end   = 32;
    st       = ckpt_serialize(&c);
    m        = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_OFFSETS, "deit.encoder.layer.0.output.dense.bias");
    g_byte_array_unref(st);

    /* overlapping: the distillation token claims the cls token's bytes (both 32 bytes) */
    t->set_offsets = false;
    t              = ckpt_find(&c, "deit.embeddings.distillation_token");
    t->set_offsets = true;
    t->begin       = 0;
    t->end         = 32;
    st             = ckpt_serialize(&c);
    m              = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_OFFSETS, "overlap", "deit.embeddings.cls_token",
                 "deit.embeddings.distillation_token");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* wrong dtype on a needed tensor */
    ckpt_tiny(&c, arch);
    const int64_t d1[]     = { D_ };
    int64_t       ints[D_] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    tspec_set(ckpt_find(&c, "deit.encoder.layer.0.layernorm_before.weight"), "I64", 1, d1, ints, sizeof ints);
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_DTYPE, "deit.encoder.layer.0.layernorm_before.weight", "I64");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* a dtype safetensors does not define */
    ckpt_tiny(&c, arch);
    ckpt_find(&c, "deit.layernorm.bias")->dtype = "F31";
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_DTYPE, "deit.layernorm.bias", "F31");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* wrong shape: position embeddings of a ViT (one prefix token fewer) */
    ckpt_tiny(&c, arch);
    const int64_t pos5[] = { 1, 5, D_ };
    float         zeros[5 * D_] = { 0 };
    tspec_set(ckpt_find(&c, "deit.embeddings.position_embeddings"), "F32", 3, pos5, zeros, sizeof zeros);
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_SHAPE, "deit.embeddings.position_embeddings", "expected [1, 6, 8]",
                 "found [1, 5, 8]");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* wrong shape: classifier for 1000 labels while config.json has 3 */
    ckpt_tiny(&c, arch);
    const int64_t k1000[] = { 1000 };
    float        *big     = g_new0(float, 1000);
    tspec_set(ckpt_find(&c, "cls_classifier.bias"), "F32", 1, k1000, big, 1000 * sizeof(float));
    g_free(big);
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_SHAPE, "cls_classifier.bias", "expected [3]", "found [1000]",
                 "num_labels 3");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* missing tensor */
    ckpt_tiny(&c, arch);
    ckpt_remove(&c, "deit.encoder.layer.0.attention.attention.key.bias");
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_MISSING_TENSOR, "deit.encoder.layer.0.attention.attention.key.bias",
                 "DeiTForImageClassificationWithTeacher");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* the distilled release's weights under a config naming DeiTForImageClassification */
    ckpt_tiny(&c, arch);
    st       = ckpt_serialize(&c);
    char *c2 = config_json("DeiTForImageClassification", NULL);
    m        = load_mem(c2, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_MISSING_TENSOR, "'classifier.weight'",
                 "is this a DeiTForImageClassificationWithTeacher checkpoint? config.json names "
                 "DeiTForImageClassification");
    g_free(c2);
    /* ViT weights under a DeiT config */
    ckpt_clear(&c);
    g_byte_array_unref(st);
    ckpt_tiny(&c, "ViTForImageClassification");
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_MISSING_TENSOR, "deit.embeddings.cls_token",
                 "is this a ViTForImageClassification checkpoint?");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* a head checkpoint whose backbone keys lost their "deit." prefix: the hint names the
     * prefix, not a config mismatch */
    ckpt_tiny(&c, arch);
    for (int i = 0; i < c.n; i++)
        if (g_str_has_prefix(c.t[i].name, "deit.")) memmove(c.t[i].name, c.t[i].name + 5, strlen(c.t[i].name + 5) + 1);
    st = ckpt_serialize(&c);
    m  = load_mem(cfg, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_MISSING_TENSOR, "deit.embeddings.cls_token", "no 'deit.' prefix",
                 "add 'deit.' to the backbone's keys");
    g_byte_array_unref(st);
    ckpt_clear(&c);

    g_free(cfg);
}

/* architecture and prefix handling */
static void test_arch_variants(void) {
    struct deit_error  err;
    struct deit_model *m;
    struct ckpt        c;
    GByteArray        *st;

    /* no "architectures": model_type + the weight names choose the class */
    ckpt_tiny(&c, "DeiTForImageClassificationWithTeacher");
    st              = ckpt_serialize(&c);
    const char *cfg = "{\"model_type\": \"deit\", \"hidden_size\": 8, \"num_hidden_layers\": 1, "
                      "\"num_attention_heads\": 2, \"intermediate_size\": 16, \"image_size\": 32, \"patch_size\": 16, "
                      "\"num_labels\": 3}";
    m = deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, st->data, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->info.arch, DEIT_ARCH_DEIT_WITH_TEACHER);
        CHECK_INT(m->info.num_labels, 3);
        CHECK(strcmp(m->info.name, "(memory)") == 0);
        CHECK(strcmp(deit_model_get_label(m, 1), "LABEL_1") == 0);
        deit_model_free(m);
    }
    /* the architecture the weights choose gets the checks config.json's would have: a
     * masked-image-modeling checkpoint with a non-square image is refused as with
     * "architectures" (the decoder reshapes the patches to a square grid) */
    {
        struct ckpt mc;
        ckpt_tiny(&mc, "DeiTForMaskedImageModeling");
        GByteArray *ms   = ckpt_serialize(&mc);
        const char *mcfg = "{\"model_type\": \"deit\", \"hidden_size\": 8, \"num_hidden_layers\": 1, "
                           "\"num_attention_heads\": 2, \"intermediate_size\": 16, \"image_size\": [32, 48], "
                           "\"patch_size\": 16}";
        m = deit_model_load_from_memory(mcfg, strlen(mcfg), NULL, 0, ms->data, ms->len, &err);
        EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_CONFIG, "square image_size", "no \"architectures\"",
                     "DeiTForMaskedImageModeling");
        g_byte_array_unref(ms);
        ckpt_clear(&mc);
    }
    /* encoder_stride 8 with patch_size 16 (a decoder of 8 * 8 * 3 outputs): transformers
     * runs it without bool_masked_pos, and the reconstruction is the 2 x 2 patch grid
     * times 8 = 16 x 16 pixels, not the 32 x 32 image; with a masked patch
     * ViTForMaskedImageModeling raises, and deit_state_run refuses */
    {
        struct ckpt mc;
        ckpt_tiny(&mc, "DeiTForMaskedImageModeling");
        const int64_t dw[] = { 8 * 8 * C_, D_, 1, 1 }, db[] = { 8 * 8 * C_ };
        void         *z    = g_malloc0(sizeof(float) * 8 * 8 * C_ * D_);
        tspec_set(ckpt_find(&mc, "decoder.0.weight"), "F32", 4, dw, z, sizeof(float) * 8 * 8 * C_ * D_);
        tspec_set(ckpt_find(&mc, "decoder.0.bias"), "F32", 1, db, z, sizeof(float) * 8 * 8 * C_);
        g_free(z);
        GByteArray *ms   = ckpt_serialize(&mc);
        const char *mcfg = "{\"model_type\": \"deit\", \"hidden_size\": 8, \"num_hidden_layers\": 1, "
                           "\"num_attention_heads\": 2, \"intermediate_size\": 16, \"image_size\": 32, "
                           "\"patch_size\": 16, \"encoder_stride\": 8}";
        m = deit_model_load_from_memory(mcfg, strlen(mcfg), NULL, 0, ms->data, ms->len, &err);
        CHECK(m != NULL);
        struct deit_state_params sp = deit_state_default_params();
        sp.n_threads                = 1;
        struct deit_state *ms_st    = m ? deit_state_init(m, &sp, &err) : NULL;
        CHECK(ms_st != NULL);
        if (ms_st) {
            size_t n = 0;
            memset(deit_state_input(ms_st, 0), 0, sizeof(float) * C_ * 32 * 32);
            CHECK_INT(deit_state_run(ms_st, 1, NULL), DEIT_STATUS_OK);
            CHECK(deit_state_get_output(ms_st, DEIT_OUTPUT_RECONSTRUCTION, 0, &n) != NULL);
            CHECK_INT((int)n, C_ * 16 * 16);
            deit_state_mask(ms_st, 0)[1] = 1;
            CHECK_INT(deit_state_run(ms_st, 1, NULL), DEIT_STATUS_ERROR_INVALID_ARG);
            deit_state_free(ms_st);
        }
        deit_model_free(m);
        g_byte_array_unref(ms);
        ckpt_clear(&mc);
    }
    /* the same weights loaded as a bare DeiTModel: prefixed keys accepted, no pooler */
    char *bare = config_json("DeiTModel", NULL);
    m          = load_mem(bare, st, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->info.pooler_output_size, 0);
        CHECK(m->w.pooler_w == NULL && m->w.pooler_b == NULL);
        CHECK(weight_equals(m->w.cls_token, &c, "deit.embeddings.cls_token"));
        CHECK_INT(m->info.num_labels, 0);
        CHECK(deit_model_get_label(m, 0) == NULL);
        deit_model_free(m);
    }
    g_free(bare);
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* qkv_bias false: the q/k/v biases are not needed */
    ckpt_tiny(&c, "ViTForImageClassification");
    ckpt_remove(&c, "vit.encoder.layer.0.attention.attention.query.bias");
    ckpt_remove(&c, "vit.encoder.layer.0.attention.attention.key.bias");
    ckpt_remove(&c, "vit.encoder.layer.0.attention.attention.value.bias");
    st        = ckpt_serialize(&c);
    char *nq  = config_json("ViTForImageClassification", "\"qkv_bias\": false");
    m         = load_mem(nq, st, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK(!m->info.qkv_bias);
        CHECK(m->w.layers[0].q_b == NULL && m->w.layers[0].k_b == NULL && m->w.layers[0].v_b == NULL);
        CHECK(m->w.layers[0].q_w != NULL);
        deit_model_free(m);
    }
    g_free(nq);
    /* ... but with qkv_bias true they are */
    nq = config_json("ViTForImageClassification", NULL);
    m  = load_mem(nq, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_MISSING_TENSOR, "vit.encoder.layer.0.attention.attention.query.bias",
                 "qkv_bias true");
    g_free(nq);
    g_byte_array_unref(st);
    ckpt_clear(&c);

    /* a bare model with a pooler of another width (pooler_output_size) */
    ckpt_tiny(&c, "ViTModel");
    const int64_t pw[] = { 4, D_ }, pb[] = { 4 };
    float         pz[4 * D_] = { 0 };
    tspec_set(ckpt_find(&c, "pooler.dense.weight"), "F32", 2, pw, pz, sizeof pz);
    tspec_set(ckpt_find(&c, "pooler.dense.bias"), "F32", 1, pb, pz, 4 * sizeof(float));
    st       = ckpt_serialize(&c);
    char *pc = config_json("ViTModel", "\"pooler_output_size\": 4");
    m        = load_mem(pc, st, st->len, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->info.pooler_output_size, 4);
        deit_model_free(m);
    }
    g_free(pc);
    pc = config_json("ViTModel", NULL);   /* default pooler_output_size = hidden_size = 8 */
    m  = load_mem(pc, st, st->len, &err);
    EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_BAD_SHAPE, "pooler.dense.weight", "expected [8, 8]", "found [4, 8]");
    g_free(pc);
    g_byte_array_unref(st);
    ckpt_clear(&c);
}

/* ---------------------------------------------------------------------------------------
 * pytorch_model.bin: files written by torch.save itself (run with --torchbin PYTHON)
 *
 * The script writes, with the real torch.save: good/ (an OrderedDict state dict with
 * _metadata, F32 + F16 + BF16 + an I64 buffer, q/k/v as row slices of one [3D, D] tensor
 * so they share a storage at different storage_offsets, two nn.Parameters), noncontig/
 * (a transposed view), legacy/ (_use_new_zipfile_serialization=False), evil/ (a pickle
 * calling os.system), deflate/ and rezip/ (good/ rewritten by Python's zipfile, compressed
 * and stored), tied/ (hidden size 16, key.weight the very tensor of query.weight), and
 * expected.json with every floating tensor's values as torch sees them (upcast to float32;
 * JSON round-trips doubles exactly).
 */
static const char torchbin_script[] =
    "import collections, json, os, sys, zipfile\n"
    "try:\n"
    "    import torch\n"
    "except ImportError:\n"
    "    sys.exit(77)\n"
    "out = sys.argv[1]\n"
    "D, I, C, P, K, T = 8, 16, 3, 16, 3, 6\n"
    "g = torch.Generator().manual_seed(0)\n"
    "def r(*s):\n"
    "    return torch.randn(*s, generator=g)\n"
    "sd = collections.OrderedDict()\n"
    "p = 'deit.'\n"
    "sd[p + 'embeddings.cls_token'] = r(1, 1, D)\n"
    "sd[p + 'embeddings.distillation_token'] = r(1, 1, D).half()\n"
    "sd[p + 'embeddings.position_embeddings'] = r(1, T, D).bfloat16()\n"
    "sd[p + 'embeddings.position_ids'] = torch.arange(T).unsqueeze(0)\n"
    "sd[p + 'embeddings.patch_embeddings.projection.weight'] = r(D, C, P, P)\n"
    "sd[p + 'embeddings.patch_embeddings.projection.bias'] = r(D)\n"
    "l = p + 'encoder.layer.0.'\n"
    "sd[l + 'layernorm_before.weight'] = r(D)\n"
    "sd[l + 'layernorm_before.bias'] = r(D)\n"
    "qkv_w, qkv_b = r(3 * D, D), r(3 * D)\n"
    "for j, n in enumerate(['query', 'key', 'value']):\n"
    "    sd[l + 'attention.attention.' + n + '.weight'] = qkv_w[j * D:(j + 1) * D]\n"
    "    sd[l + 'attention.attention.' + n + '.bias'] = qkv_b[j * D:(j + 1) * D]\n"
    "sd[l + 'attention.output.dense.weight'] = r(D, D)\n"
    "sd[l + 'attention.output.dense.bias'] = r(D)\n"
    "sd[l + 'layernorm_after.weight'] = r(D)\n"
    "sd[l + 'layernorm_after.bias'] = r(D)\n"
    "sd[l + 'intermediate.dense.weight'] = r(I, D)\n"
    "sd[l + 'intermediate.dense.bias'] = r(I)\n"
    "sd[l + 'output.dense.weight'] = r(D, I)\n"
    "sd[l + 'output.dense.bias'] = r(D)\n"
    "sd[p + 'layernorm.weight'] = r(D)\n"
    "sd[p + 'layernorm.bias'] = r(D)\n"
    "sd['cls_classifier.weight'] = torch.nn.Parameter(r(K, D))\n"
    "sd['cls_classifier.bias'] = torch.nn.Parameter(r(K))\n"
    "sd['distillation_classifier.weight'] = r(K, D)\n"
    "sd['distillation_classifier.bias'] = r(K)\n"
    "sd._metadata = collections.OrderedDict({'': {'version': 1}})\n"
    "def save(name, obj, **kw):\n"
    "    os.makedirs(os.path.join(out, name), exist_ok=True)\n"
    "    path = os.path.join(out, name, 'pytorch_model.bin')\n"
    "    torch.save(obj, path, **kw)\n"
    "    return path\n"
    "good = save('good', sd)\n"
    "with open(os.path.join(out, 'expected.json'), 'w') as f:\n"
    "    json.dump({k: v.detach().float().flatten().tolist() for k, v in sd.items() if v.is_floating_point()}, f)\n"
    "bad = collections.OrderedDict(sd)\n"
    "bad[l + 'intermediate.dense.weight'] = r(D, I).t()\n"
    "save('noncontig', bad)\n"
    "save('legacy', sd, _use_new_zipfile_serialization=False)\n"
    "class Evil:\n"
    "    def __reduce__(self):\n"
    "        return (os.system, ('true',))\n"
    "save('evil', {'x': Evil()})\n"
    "for name, method in [('deflate', zipfile.ZIP_DEFLATED), ('rezip', zipfile.ZIP_STORED)]:\n"
    "    os.makedirs(os.path.join(out, name), exist_ok=True)\n"
    "    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(os.path.join(out, name, 'pytorch_model.bin'), 'w', method) as zo:\n"
    "        for i in zin.infolist():\n"
    "            zo.writestr(i.filename, zin.read(i.filename))\n"
    "D, I = 16, 32\n"
    "tied = collections.OrderedDict()\n"
    "for k in ['cls_token', 'distillation_token']:\n"
    "    tied[p + 'embeddings.' + k] = r(1, 1, D)\n"
    "tied[p + 'embeddings.position_embeddings'] = r(1, T, D)\n"
    "tied[p + 'embeddings.patch_embeddings.projection.weight'] = r(D, C, P, P) * 0.05\n"
    "tied[p + 'embeddings.patch_embeddings.projection.bias'] = r(D)\n"
    "q = r(D, D)\n"
    "for n, s in [('layernorm_before', (D,)), ('layernorm_after', (D,)), ('attention.attention.query', (D, D)),\n"
    "             ('attention.attention.key', (D, D)), ('attention.attention.value', (D, D)),\n"
    "             ('attention.output.dense', (D, D)), ('intermediate.dense', (I, D)), ('output.dense', (D, I))]:\n"
    "    tied[l + n + '.weight'] = r(*s)\n"
    "    tied[l + n + '.bias'] = r(s[0])\n"
    "tied[l + 'attention.attention.key.weight'] = tied[l + 'attention.attention.query.weight']\n"
    "for n in ['layernorm', 'cls_classifier', 'distillation_classifier']:\n"
    "    s = (D,) if n == 'layernorm' else (K, D)\n"
    "    tied[(p if n == 'layernorm' else '') + n + '.weight'] = r(*s)\n"
    "    tied[(p if n == 'layernorm' else '') + n + '.bias'] = r(s[0])\n"
    "save('tied', tied)\n";

static void check_against_expected(const struct deit_model *m, JsonObject *exp, const char *name, const float *w) {
    JsonArray *a = json_object_has_member(exp, name) ? json_object_get_array_member(exp, name) : NULL;
    CHECK(a != NULL && w != NULL);
    if (!a || !w) return;
    guint n   = json_array_get_length(a), bad = 0;
    for (guint i = 0; i < n; i++)
        if (w[i] != (float)json_array_get_double_element(a, i)) bad++;
    if (bad) printf("FAIL %s: %u of %u values differ from torch\n", name, bad, n);
    g_failures += bad != 0;
}

static int test_torchbin(const char *python) {
    char *dir = g_dir_make_tmp("deit-test-torchbin-XXXXXX", NULL);
    CHECK(dir != NULL);
    if (!dir) return 1;
    char   *argv[] = { (char *)python, "-c", (char *)torchbin_script, dir, NULL };
    char   *out = NULL, *errout = NULL;
    int     wait = 0;
    GError *gerr = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout, &wait, &gerr)) {
        printf("FAIL cannot run %s: %s\n", python, gerr->message);
        g_error_free(gerr);
        return 1;
    }
    if (WIFEXITED(wait) && WEXITSTATUS(wait) == 77) {
        printf("SKIP: %s has no torch\n", python);
        return 77;
    }
    if (!g_spawn_check_wait_status(wait, NULL)) {
        printf("FAIL the torch.save script failed:\n%s%s\n", out, errout);
        return 1;
    }
    g_free(out);
    g_free(errout);

    const char *arch = "DeiTForImageClassificationWithTeacher";
    char       *cfg  = config_json(arch, NULL);
    const char *subs[] = { "good", "noncontig", "legacy", "evil", "deflate", "rezip", "truncated" };
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
        char *d = g_build_filename(dir, subs[i], NULL);
        g_mkdir_with_parents(d, 0700);
        char *p = g_build_filename(d, "config.json", NULL);
        g_file_set_contents(p, cfg, -1, NULL);
        g_free(p);
        g_free(d);
    }
    /* truncated: the first half of good/pytorch_model.bin */
    char  *good_bin = g_build_filename(dir, "good", "pytorch_model.bin", NULL);
    char  *bytes    = NULL;
    gsize  len      = 0;
    CHECK(g_file_get_contents(good_bin, &bytes, &len, NULL));
    char *trunc_bin = g_build_filename(dir, "truncated", "pytorch_model.bin", NULL);
    g_file_set_contents(trunc_bin, bytes, (gssize)(len / 2), NULL);

    char       *exp_path = g_build_filename(dir, "expected.json", NULL);
    JsonParser *jp       = json_parser_new();
    CHECK(json_parser_load_from_file(jp, exp_path, NULL));
    JsonObject *exp = json_node_get_object(json_parser_get_root(jp));

    struct deit_error  err;
    char              *d = g_build_filename(dir, "good", NULL);
    struct deit_model *m = deit_model_load(d, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        const struct deit_layer_weights *l  = &m->w.layers[0];
        const char                      *lp = "deit.encoder.layer.0.";
        char                             key[160];
        check_against_expected(m, exp, "deit.embeddings.cls_token", m->w.cls_token);
        check_against_expected(m, exp, "deit.embeddings.distillation_token", m->w.dist_token);   /* F16 */
        check_against_expected(m, exp, "deit.embeddings.position_embeddings", m->w.pos_embed);   /* BF16 */
        check_against_expected(m, exp, "deit.embeddings.patch_embeddings.projection.weight", m->w.patch_w);
        const float *ws[] = { l->ln1_w, l->q_w, l->q_b, l->k_w, l->k_b, l->v_w, l->v_b, l->o_w, l->ln2_b, l->fc1_w, l->fc2_w, l->fc2_b };
        const char  *ns[] = { "layernorm_before.weight", "attention.attention.query.weight",
                              "attention.attention.query.bias", "attention.attention.key.weight",
                              "attention.attention.key.bias", "attention.attention.value.weight",
                              "attention.attention.value.bias", "attention.output.dense.weight",
                              "layernorm_after.bias", "intermediate.dense.weight", "output.dense.weight",
                              "output.dense.bias" };
        for (size_t i = 0; i < G_N_ELEMENTS(ws); i++) {
            snprintf(key, sizeof key, "%s%s", lp, ns[i]);
            check_against_expected(m, exp, key, ws[i]);
        }
        check_against_expected(m, exp, "deit.layernorm.bias", m->w.ln_f_b);
        check_against_expected(m, exp, "cls_classifier.weight", m->w.head_w);          /* nn.Parameter */
        check_against_expected(m, exp, "distillation_classifier.bias", m->w.head_dist_b);
        /* q/k/v share one storage: in place, D*D floats apart (storage_offset honoured) */
        CHECK(l->k_w == l->q_w + D_ * D_ && l->v_w == l->q_w + 2 * D_ * D_);
        CHECK(l->k_b == l->q_b + D_);
        CHECK(m->map != NULL && in_buffer(l->q_w, m->map, m->map_size));
        /* only the F16 distillation token (8) and BF16 position embeddings (6*8) are converted */
        CHECK_INT(m->info.weight_bytes_copied, (8 + T_DEIT * D_) * 4);
        deit_model_free(m);
    } else {
        printf("  %s\n", err.message);
    }

    /* use_mmap = false: read, every tensor copied, same values */
    struct deit_model_params mp = deit_model_default_params();
    mp.use_mmap                 = false;
    m                           = deit_model_load(d, &mp, &err);
    CHECK(m != NULL);
    if (m) {
        CHECK(m->map == NULL);
        CHECK_INT(m->info.weight_bytes_copied, m->info.weight_bytes);
        check_against_expected(m, exp, "deit.encoder.layer.0.attention.attention.value.weight", m->w.layers[0].v_w);
        check_against_expected(m, exp, "deit.embeddings.distillation_token", m->w.dist_token);
        deit_model_free(m);
    }
    g_free(d);

    /* rewritten by Python's zipfile: no 64-byte alignment, same values */
    d = g_build_filename(dir, "rezip", NULL);
    m = deit_model_load(d, NULL, &err);
    CHECK(m != NULL);
    if (m) {
        check_against_expected(m, exp, "deit.encoder.layer.0.intermediate.dense.weight", m->w.layers[0].fc1_w);
        check_against_expected(m, exp, "deit.embeddings.position_embeddings", m->w.pos_embed);
        deit_model_free(m);
    } else {
        printf("  %s\n", err.message);
    }
    g_free(d);

    /* tied/: key.weight is query.weight (one storage, the same bytes), at a width whose
     * linear weights are packed in place at load: mapped, the key matrix must get a copy of
     * its own before the query matrix is rearranged, so the logits equal those of a load
     * that copies every tensor (use_mmap false); they differed by 0.5 */
    {
        const char *tcfg = "{\"architectures\": [\"DeiTForImageClassificationWithTeacher\"], \"model_type\": "
                           "\"deit\", \"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
                           "\"intermediate_size\": 32, \"image_size\": 32, \"patch_size\": 16, \"id2label\": "
                           "{\"0\": \"a\", \"1\": \"b\", \"2\": \"c\"}}";
        d       = g_build_filename(dir, "tied", NULL);
        char *p = g_build_filename(d, "config.json", NULL);
        g_file_set_contents(p, tcfg, -1, NULL);
        g_free(p);
        float logits[2][3] = { { 0 } };
        bool  packed[2]    = { false, false };
        for (int k = 0; k < 2; k++) {
            struct deit_model_params tp = deit_model_default_params();
            tp.use_mmap                 = k == 0;
            struct deit_model *tm       = deit_model_load(d, &tp, &err);
            CHECK(tm != NULL);
            if (!tm) {
                printf("  %s\n", err.message);
                continue;
            }
            packed[k] = tm->gemm_packed;
            CHECK(tm->w.layers[0].k_w != tm->w.layers[0].q_w);
            struct deit_state_params sp = deit_state_default_params();
            sp.n_threads                = 1;
            struct deit_state *ts       = deit_state_init(tm, &sp, &err);
            CHECK(ts != NULL);
            if (ts) {
                float *in = deit_state_input(ts, 0);
                for (int i = 0; i < 3 * 32 * 32; i++) in[i] = sinf(0.37f * (float)i);
                CHECK_INT(deit_state_run(ts, 1, NULL), DEIT_STATUS_OK);
                size_t       nl = 0;
                const float *lo = deit_state_get_output(ts, DEIT_OUTPUT_LOGITS, 0, &nl);
                CHECK(lo != NULL && nl == 3);
                if (lo && nl == 3) memcpy(logits[k], lo, sizeof logits[k]);
            }
            deit_state_free(ts);
            deit_model_free(tm);
        }
        float diff = 0;
        for (int i = 0; i < 3; i++) diff = fmaxf(diff, fabsf(logits[0][i] - logits[1][i]));
        CHECK(diff <= 1e-6f);
        printf("%s tied weights: mapped and packed %s against copied %s: logits differ by %.2g\n",
               diff <= 1e-6f ? "ok  " : "FAIL", packed[0] ? "yes" : "no", packed[1] ? "yes" : "no", diff);
        g_free(d);
    }

    static const struct {
        const char      *sub;
        enum deit_status status;
        const char      *needle, *needle2;
    } bad[] = {
        { "noncontig", DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "deit.encoder.layer.0.intermediate.dense.weight", "not contiguous" },
        { "legacy", DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "legacy", "re-save" },
        { "evil", DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "posix.system", "state_dict" },
        { "deflate", DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "compressed", "data.pkl" },
        { "truncated", DEIT_STATUS_ERROR_TRUNCATED, "pytorch_model.bin", "truncated" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        d = g_build_filename(dir, bad[i].sub, NULL);
        m = deit_model_load(d, NULL, &err);
        EXPECT_ERROR(m, &err, bad[i].status, bad[i].needle, bad[i].needle2);
        g_free(d);
    }

    /* from memory, with patched copies: a callable outside the allow-list is refused by
     * name; then every byte of the local header and data.pkl overwritten in turn must give
     * a load or a clean error, never a crash (valgrind-checked by hand, see the report) */
    m = deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, bytes, len, &err);
    CHECK(m != NULL);
    deit_model_free(m);
    char *hit = NULL;   /* the file has NUL bytes: no strstr */
    for (size_t i = 0; i + 18 <= len && !hit; i++)
        if (memcmp(bytes + i, "_rebuild_tensor_v2", 18) == 0) hit = bytes + i;
    CHECK(hit != NULL);
    if (hit) {
        hit[17] = '9';
        m       = deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, bytes, len, &err);
        EXPECT_ERROR(m, &err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "torch._utils._rebuild_tensor_v9");
        hit[17] = '2';
    }
    const uint8_t *u8      = (const uint8_t *)bytes;
    size_t         pkl_end = len < 4096 ? len : 4096;   /* local header + data.pkl (~2.6 kB) */
    int            n_ok = 0, n_err = 0;
    for (size_t i = 0; i < pkl_end && i < len; i++) {
        static const uint8_t vals[] = { 0x00, 0xff, 'K' };
        for (size_t v = 0; v < sizeof vals; v++) {
            uint8_t saved = u8[i];
            bytes[i]      = (char)vals[v];
            m             = deit_model_load_from_memory(cfg, strlen(cfg), NULL, 0, bytes, len, &err);
            if (m) n_ok++;
            else n_err++;
            CHECK(m != NULL || (err.status < 0 && err.message[0] != 0));
            deit_model_free(m);
            bytes[i] = (char)saved;
        }
    }
    printf("ok   corrupted pickle sweep: %d loads, %d clean errors\n", n_ok, n_err);
    g_object_unref(jp);
    g_free(exp_path);
    g_free(bytes);
    g_free(good_bin);
    g_free(trunc_bin);
    g_free(cfg);
    const char *rm[] = { "good", "noncontig", "legacy", "evil", "deflate", "rezip", "truncated", "tied" };
    for (size_t i = 0; i < G_N_ELEMENTS(rm); i++) remove_dir(g_build_filename(dir, rm[i], NULL));
    remove_dir(dir);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--torchbin") == 0) {
        int r = test_torchbin(argv[2]);
        if (r == 77) return 77;
        if (g_failures || r) {
            printf("%d failure(s)\n", g_failures);
            return 1;
        }
        printf("all passed\n");
        return 0;
    }
    test_valid_teacher();
    test_valid_archs();
    test_header_padding();
    test_half_conversion();
    test_unaligned_copy();
    test_directory_mmap();
    test_config_values();
    test_problem_type();
    test_preprocessor_config();
    test_state_batch_limit();
    test_state_bad_params();
    test_abort();
    test_arch_variants();
    test_errors_files();
    test_errors_config();
    test_errors_safetensors();
    if (g_failures) {
        printf("%d failure(s)\n", g_failures);
        return 1;
    }
    printf("all passed\n");
    return 0;
}
