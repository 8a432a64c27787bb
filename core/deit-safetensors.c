/* deit-safetensors.c - weight file bytes (mmap / read / memory), the tensor table, and
 * the safetensors parser.
 *
 * Format (huggingface/safetensors README.md, safetensors/src/tensor.rs):
 *   bytes 0..7   N, unsigned 64-bit little-endian header length
 *   bytes 8..    N bytes of UTF-8 JSON: {"name": {"dtype": "F32", "shape": [..],
 *                "data_offsets": [begin, end]}, ..., "__metadata__": {...}} (trailing
 *                spaces allowed: writers pad so that the data is 8-byte aligned)
 *   bytes 8+N..  the data region; offsets are relative to it, end exclusive.
 *
 * Checks, in this order, each with its own status:
 *   - header length beyond the file, unparsable or non-object header   -> BAD_HEADER
 *   - entry without dtype/shape/data_offsets, duplicate name           -> BAD_HEADER
 *   - dtype string unknown to safetensors                              -> BAD_DTYPE
 *   - end < begin, or end - begin != numel * sizeof(dtype)             -> BAD_OFFSETS
 *   - two tensors' byte ranges overlap                                 -> BAD_OFFSETS
 *   - ranges past the end of the file: when the ranges tile the data region contiguously
 *     from 0 (as every writer produces them) the header is self-consistent and the file
 *     was cut short                                                    -> TRUNCATED
 *     otherwise one tensor points outside the data it should be in     -> BAD_OFFSETS
 * dtypes that are valid safetensors but not weights (I64, F64, ...) are kept as
 * DEIT_DTYPE_OTHER; the model loader rejects them only if the architecture uses them.
 */
#include "deit-io.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* reference reader's limit (safetensors/src/tensor.rs MAX_HEADER_SIZE) */
#define SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u)

/* ---------------------------------------------------------------------------------------
 * tensor table
 */
struct deit_tensor *deit_tensor_file_add(struct deit_tensor_file *tf, char *name) {
    if (!tf->index) tf->index = g_hash_table_new(g_str_hash, g_str_equal);
    if (g_hash_table_contains(tf->index, name)) {
        g_free(name);
        return NULL;
    }
    /* capacity is implicit: 16, then doubled whenever n reaches a power of two >= 16 */
    size_t n = tf->n_tensors;
    if (n == 0 || (n >= 16 && (n & (n - 1)) == 0)) {
        struct deit_tensor *t = g_try_renew(struct deit_tensor, tf->tensors, n ? 2 * n : 16);
        if (!t) {
            g_free(name);
            return NULL;
        }
        tf->tensors = t;
    }
    /* the index stores position + 1 (0 = absent) */
    struct deit_tensor *t = &tf->tensors[n];
    memset(t, 0, sizeof *t);
    t->name = name;
    tf->n_tensors++;
    g_hash_table_insert(tf->index, name, GSIZE_TO_POINTER(n + 1));
    return t;
}

const struct deit_tensor *deit_tensor_file_find(const struct deit_tensor_file *tf, const char *name) {
    if (!tf->index) return NULL;
    gsize i = GPOINTER_TO_SIZE(g_hash_table_lookup(tf->index, name));
    return i ? &tf->tensors[i - 1] : NULL;
}

void deit_tensor_file_free(struct deit_tensor_file *tf) {
    if (!tf) return;
    if (tf->index) g_hash_table_destroy(tf->index);
    for (size_t i = 0; i < tf->n_tensors; i++) g_free(tf->tensors[i].name);
    g_free(tf->tensors);
    tf->tensors   = NULL;
    tf->n_tensors = 0;
    tf->index     = NULL;
}

/* ---------------------------------------------------------------------------------------
 * half precision
 */
float deit_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp  = (h >> 10) & 0x1fu;
    uint32_t man  = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {                    /* inf / nan */
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {                /* normal */
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {                /* zero */
        bits = sign;
    } else {                              /* subnormal: renormalise */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while ((man & 0x400u) == 0);
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* BF16 is the upper half of an IEEE binary32 */
float deit_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float    f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---------------------------------------------------------------------------------------
 * safetensors
 */
struct st_dtype {
    const char     *name;
    size_t          size;
    enum deit_dtype dtype;
};
static const struct st_dtype st_dtypes[] = {
    { "F32", 4, DEIT_DTYPE_F32 },     { "F16", 2, DEIT_DTYPE_F16 },       { "BF16", 2, DEIT_DTYPE_BF16 },
    { "F64", 8, DEIT_DTYPE_OTHER },   { "I64", 8, DEIT_DTYPE_OTHER },     { "U64", 8, DEIT_DTYPE_OTHER },
    { "I32", 4, DEIT_DTYPE_OTHER },   { "U32", 4, DEIT_DTYPE_OTHER },     { "I16", 2, DEIT_DTYPE_OTHER },
    { "U16", 2, DEIT_DTYPE_OTHER },   { "I8", 1, DEIT_DTYPE_OTHER },      { "U8", 1, DEIT_DTYPE_OTHER },
    { "BOOL", 1, DEIT_DTYPE_OTHER },  { "F8_E5M2", 1, DEIT_DTYPE_OTHER }, { "F8_E4M3", 1, DEIT_DTYPE_OTHER },
    { "C64", 8, DEIT_DTYPE_OTHER },
};

struct st_range {
    size_t begin, end;
    size_t tensor;
};

static int st_range_cmp(const void *a, const void *b) {
    const struct st_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* one header entry -> tensor (data pointer set later, once ranges are checked) */
static enum deit_status st_parse_entry(struct deit_tensor_file *tf, const char *name, JsonNode *node,
                                       const char *source, size_t *begin, size_t *end, struct deit_error *err) {
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: header entry '%s' is not an object", source, name);
    JsonObject *o     = json_node_get_object(node);
    JsonNode   *dtype = json_object_get_member(o, "dtype");
    JsonNode   *shape = json_object_get_member(o, "shape");
    JsonNode   *offs  = json_object_get_member(o, "data_offsets");
    if (!dtype || json_node_get_value_type(dtype) != G_TYPE_STRING || !shape || !JSON_NODE_HOLDS_ARRAY(shape) ||
        !offs || !JSON_NODE_HOLDS_ARRAY(offs))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s: header entry '%s' needs \"dtype\" (string), \"shape\" (array) and "
                              "\"data_offsets\" (array); the file is corrupt",
                              source, name);
    const char            *dt  = json_node_get_string(dtype);
    const struct st_dtype *sdt = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(st_dtypes); i++)
        if (strcmp(dt, st_dtypes[i].name) == 0) sdt = &st_dtypes[i];
    if (!sdt)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_DTYPE,
                              "%s: tensor '%s' has dtype \"%s\", which this reader does not know "
                              "(weights must be F32, F16 or BF16)",
                              source, name, dt);

    JsonArray *sa = json_node_get_array(shape);
    guint      nd = json_array_get_length(sa);
    if (nd > DEIT_MAX_DIMS)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: tensor '%s' has %u dimensions (at most %d supported)",
                              source, name, nd, DEIT_MAX_DIMS);
    int64_t dims[DEIT_MAX_DIMS];
    size_t  numel = 1;
    bool    ovf   = false;
    for (guint i = 0; i < nd; i++) {
        uint64_t d;
        if (!deit_json_uint(json_array_get_element(sa, i), &d) || d > (uint64_t)INT64_MAX)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                                  "%s: tensor '%s': shape entries must be non-negative integers", source, name);
        dims[i] = (int64_t)d;
        if (d > SIZE_MAX || __builtin_mul_overflow(numel, (size_t)d, &numel)) ovf = true;
    }
    size_t nbytes = 0;
    if (ovf || __builtin_mul_overflow(numel, sdt->size, &nbytes))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_SHAPE, "%s: tensor '%s': shape is too large (size overflows)",
                              source, name);

    JsonArray *oa = json_node_get_array(offs);
    uint64_t   b, e;
    if (json_array_get_length(oa) != 2 || !deit_json_uint(json_array_get_element(oa, 0), &b) ||
        !deit_json_uint(json_array_get_element(oa, 1), &e))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s: tensor '%s': data_offsets must be [begin, end] with non-negative integers", source,
                              name);
    char sbuf[192];
    deit_format_shape(sbuf, sizeof sbuf, dims, (int)nd);
    if (e < b || b > SIZE_MAX || e > SIZE_MAX)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_OFFSETS,
                              "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin; the file is corrupt",
                              source, name, (unsigned long long)b, (unsigned long long)e);
    if (e - b != nbytes)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_OFFSETS,
                              "%s: tensor '%s': data_offsets [%llu, %llu] span %llu bytes but dtype %s shape %s needs "
                              "%zu bytes; the file is corrupt",
                              source, name, (unsigned long long)b, (unsigned long long)e,
                              (unsigned long long)(e - b), sdt->name, sbuf, nbytes);

    struct deit_tensor *t = deit_tensor_file_add(tf, g_strdup(name));
    if (!t)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: tensor '%s' appears twice in the header", source,
                              name);
    t->dtype = sdt->dtype;
    g_strlcpy(t->dtype_name, sdt->name, sizeof t->dtype_name);
    t->n_dims = (int)nd;
    memcpy(t->shape, dims, nd * sizeof dims[0]);
    t->n_bytes = nbytes;
    *begin     = (size_t)b;
    *end       = (size_t)e;
    return DEIT_STATUS_OK;
}

/* overlap, then range-vs-file checks (see the top comment for the truncation rule) */
static enum deit_status st_check_ranges(struct deit_tensor_file *tf, struct st_range *r, size_t n, size_t data_len,
                                        size_t file_size, size_t header_len, const char *source,
                                        struct deit_error *err) {
    qsort(r, n, sizeof r[0], st_range_cmp);
    size_t prev = SIZE_MAX, max_end = 0;
    bool   tiled = true;
    size_t pos   = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].begin == r[i].end) continue;   /* empty tensors take no bytes */
        if (prev != SIZE_MAX && r[i].begin < r[prev].end)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_OFFSETS,
                                  "%s: tensors '%s' [%zu, %zu) and '%s' [%zu, %zu) overlap; the file is corrupt", source,
                                  tf->tensors[r[prev].tensor].name, r[prev].begin, r[prev].end,
                                  tf->tensors[r[i].tensor].name, r[i].begin, r[i].end);
        if (r[i].begin != pos) tiled = false;
        pos  = r[i].end;
        prev = i;
        if (r[i].end > max_end) max_end = r[i].end;
    }
    if (max_end <= data_len) return DEIT_STATUS_OK;
    if (tiled)
        return deit_set_error(err, DEIT_STATUS_ERROR_TRUNCATED,
                              "%s: file is %zu bytes but its header describes %zu bytes of tensor data (8 + %zu + %zu = "
                              "%zu bytes): the file is truncated (interrupted download?); download it again",
                              source, file_size, max_end, header_len, max_end, 8 + header_len + max_end);
    for (size_t i = 0; i < n; i++)
        if (r[i].end > data_len)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_OFFSETS,
                                  "%s: tensor '%s': data_offsets [%zu, %zu] lie outside the %zu-byte data region; the "
                                  "file is corrupt",
                                  source, tf->tensors[r[i].tensor].name, r[i].begin, r[i].end, data_len);
    return DEIT_STATUS_OK;
}

enum deit_status deit_safetensors_parse(struct deit_tensor_file *tf, const uint8_t *data, size_t size,
                                        const char *source, struct deit_error *err) {
    memset(tf, 0, sizeof *tf);
    tf->format = "safetensors";
    if (size < 8)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s: file is %zu bytes, too short for a safetensors header (8-byte length + JSON)", source,
                              size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | data[i];
    if (hlen > size - 8)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s: header length %llu goes beyond the end of the file (%zu bytes); the file is truncated "
                              "or not a safetensors file",
                              source, (unsigned long long)hlen, size);
    if (hlen < 2 || hlen > SAFETENSORS_MAX_HEADER || data[8] != '{')
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER,
                              "%s: not a safetensors file (header length %llu, header must be a JSON object of at most "
                              "%u bytes)",
                              source, (unsigned long long)hlen, SAFETENSORS_MAX_HEADER);

    enum deit_status st     = DEIT_STATUS_OK;
    struct st_range *ranges = NULL;
    char             what[512];
    g_snprintf(what, sizeof what, "%s: header", source);
    JsonObject *obj;
    JsonParser *parser = deit_json_parse((const char *)data + 8, (size_t)hlen, what, DEIT_STATUS_ERROR_BAD_HEADER,
                                         &obj, err);
    if (!parser) {
        deit_tensor_file_free(tf);
        return err ? err->status : DEIT_STATUS_ERROR_BAD_HEADER;
    }
    GList      *members = json_object_get_members(obj);
    ranges              = g_new0(struct st_range, json_object_get_size(obj) + 1);
    size_t n            = 0;
    for (GList *l = members; l; l = l->next) {
        const char *name = l->data;
        if (strcmp(name, "__metadata__") == 0) continue;
        st = st_parse_entry(tf, name, json_object_get_member(obj, name), source, &ranges[n].begin, &ranges[n].end, err);
        if (st != DEIT_STATUS_OK) break;
        ranges[n].tensor = tf->n_tensors - 1;
        n++;
    }
    g_list_free(members);
    if (st != DEIT_STATUS_OK) goto done;

    size_t data_off = 8 + (size_t)hlen;
    st = st_check_ranges(tf, ranges, n, size - data_off, size, (size_t)hlen, source, err);
    if (st != DEIT_STATUS_OK) goto done;
    for (size_t i = 0; i < n; i++) tf->tensors[ranges[i].tensor].data = data + data_off + ranges[i].begin;
    DEIT_LOG_DEBUG("%s: %zu tensors, header %llu bytes", source, tf->n_tensors, (unsigned long long)hlen);

done:
    g_free(ranges);
    g_object_unref(parser);
    if (st != DEIT_STATUS_OK) deit_tensor_file_free(tf);
    return st;
}
