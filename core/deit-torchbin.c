/* deit-torchbin.c - pytorch_model.bin reader: the zip format torch.save() writes by default
 * since torch 1.6 (and what transformers' save_pretrained wrote before safetensors).
 *
 * Layout (pytorch: torch/serialization.py _save, caffe2/serialize/inline_container.cc):
 *   a ZIP archive, entries STORED (uncompressed, data 64-byte aligned), all under one
 *   top-level directory <prefix>/:
 *     <prefix>/data.pkl      pickle (protocol 2) of the state dict
 *     <prefix>/data/<key>    raw little-endian bytes of storage <key>
 *     <prefix>/byteorder     "little" (newer torch; absent = little)
 *     <prefix>/version
 *   The pickle is an OrderedDict of name -> torch._utils._rebuild_tensor_v2(storage,
 *   storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) where storage
 *   is a persistent id ('storage', torch.FloatStorage, key, location, numel).
 *
 * The pickle interpreter below implements only the opcodes and callables a state dict
 * uses and refuses everything else (it never imports or calls anything: REDUCE is only
 * understood for OrderedDict and the tensor / parameter rebuild functions). Tensors
 * must be contiguous (any storage_offset is fine); they point straight into the file,
 * so F32 weights of an mmap'd .bin are used in place like safetensors ones.
 * Not supported, each with a clear error: compressed (DEFLATE) entries, encrypted or
 * split archives, big-endian storages, the legacy pre-1.6 (non-zip) format.
 */
#include "deit-internal.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * ZIP (PKWARE APPNOTE.TXT 4.3: local header, central directory, end records, ZIP64)
 */
struct zip_entry {
    const char    *name;     /* not NUL-terminated */
    size_t         name_len;
    const uint8_t *data;
    size_t         size;
    int            method;   /* 0 stored, 8 deflate */
    int            flags;
};

struct zip {
    struct zip_entry *entries;
    size_t            n;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

/* end of central directory: count, offset and size of the central directory */
static enum deit_status zip_find_cd(const uint8_t *d, size_t size, uint64_t *count, uint64_t *cd_off,
                                    uint64_t *cd_size, const char *source, struct deit_error *err) {
    if (size < 22) goto not_found;
    size_t lo = size > 22 + 65535 ? size - 22 - 65535 : 0;
    for (size_t i = size - 22 + 1; i-- > lo;) {
        if (rd32(d + i) != 0x06054b50u) continue;
        *count   = rd16(d + i + 10);
        *cd_size = rd32(d + i + 12);
        *cd_off  = rd32(d + i + 16);
        if (*count == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu) {
            /* ZIP64: locator right before the end record points at the ZIP64 end record */
            if (i < 20 || rd32(d + i - 20) != 0x07064b50u) goto not_found;
            uint64_t z = rd64(d + i - 20 + 8);
            if (z > size || size - z < 56 || rd32(d + z) != 0x06064b50u) goto not_found;
            *count   = rd64(d + z + 32);
            *cd_size = rd64(d + z + 40);
            *cd_off  = rd64(d + z + 48);
        }
        if (*cd_off > size || *cd_size > size - *cd_off)
            return deit_set_error(err, DEIT_STATUS_ERROR_TRUNCATED,
                                  "%s: the zip central directory lies beyond the end of the file (%zu bytes); the file is "
                                  "truncated, download it again",
                                  source, size);
        return DEIT_STATUS_OK;
    }
not_found:
    return deit_set_error(err, DEIT_STATUS_ERROR_TRUNCATED,
                          "%s: no zip end-of-central-directory record: the file is truncated (interrupted download?) or "
                          "not a torch.save file; download it again",
                          source);
}

/* ZIP64 extended information extra field: replaces the 0xffffffff fields in order */
static void zip64_extra(const uint8_t *x, size_t n, uint64_t *usize, uint64_t *csize, uint64_t *off) {
    for (size_t p = 0; p + 4 <= n;) {
        uint16_t id = rd16(x + p), len = rd16(x + p + 2);
        if (p + 4 + len > n) return;
        if (id == 0x0001) {
            const uint8_t *q = x + p + 4, *e = q + len;
            if (*usize == 0xffffffffu && q + 8 <= e) *usize = rd64(q), q += 8;
            if (*csize == 0xffffffffu && q + 8 <= e) *csize = rd64(q), q += 8;
            if (*off == 0xffffffffu && q + 8 <= e) *off = rd64(q);
            return;
        }
        p += 4u + len;
    }
}

static enum deit_status zip_open(struct zip *z, const uint8_t *d, size_t size, const char *source,
                                 struct deit_error *err) {
    uint64_t         count = 0, cd_off = 0, cd_size = 0; /* set when the status is OK */
    enum deit_status st = zip_find_cd(d, size, &count, &cd_off, &cd_size, source, err);
    if (st != DEIT_STATUS_OK) return st;
    if (count > cd_size / 46)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: zip directory claims %llu entries in %llu bytes",
                              source, (unsigned long long)count, (unsigned long long)cd_size);
    z->entries = g_new0(struct zip_entry, count ? count : 1);
    z->n       = 0;
    const uint8_t *p = d + cd_off, *end = d + cd_off + cd_size;
    for (uint64_t i = 0; i < count; i++) {
        if (end - p < 46 || rd32(p) != 0x02014b50u)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: zip central directory entry %llu is corrupt",
                                  source, (unsigned long long)i);
        struct zip_entry *e = &z->entries[z->n++];
        e->flags            = rd16(p + 8);
        e->method           = rd16(p + 10);
        uint64_t csize = rd32(p + 20), usize = rd32(p + 24), off = rd32(p + 42);
        size_t   nlen = rd16(p + 28), xlen = rd16(p + 30), clen = rd16(p + 32);
        if ((size_t)(end - p) < 46 + nlen + xlen + clen)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: zip central directory entry %llu is corrupt",
                                  source, (unsigned long long)i);
        e->name     = (const char *)p + 46;
        e->name_len = nlen;
        zip64_extra(p + 46 + nlen, xlen, &usize, &csize, &off);
        p += 46 + nlen + xlen + clen;
        /* the local header repeats name and has its own extra field (torch pads with it) */
        if (off > size || size - off < 30 || rd32(d + off) != 0x04034b50u)
            return deit_set_error(err, off > size ? DEIT_STATUS_ERROR_TRUNCATED : DEIT_STATUS_ERROR_BAD_HEADER,
                                  "%s: zip entry '%.*s': local header at byte %llu is missing or corrupt", source,
                                  (int)nlen, e->name, (unsigned long long)off);
        uint64_t data_off = off + 30 + rd16(d + off + 26) + rd16(d + off + 28);
        if (data_off > size || csize > size - data_off)
            return deit_set_error(err, DEIT_STATUS_ERROR_TRUNCATED,
                                  "%s: zip entry '%.*s' (%llu bytes at byte %llu) ends beyond the end of the file (%zu "
                                  "bytes): the file is truncated, download it again",
                                  source, (int)nlen, e->name, (unsigned long long)csize, (unsigned long long)data_off,
                                  size);
        e->data = d + data_off;
        e->size = (size_t)csize;
        if (e->method == 0 && csize != usize)
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: stored zip entry '%.*s' has two sizes", source,
                                  (int)nlen, e->name);
    }
    return DEIT_STATUS_OK;
}

static const struct zip_entry *zip_find(const struct zip *z, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < z->n; i++)
        if (z->entries[i].name_len == n && memcmp(z->entries[i].name, name, n) == 0) return &z->entries[i];
    return NULL;
}

/* an entry's bytes, refusing what we cannot read in place */
static enum deit_status zip_entry_check(const struct zip_entry *e, const char *source, struct deit_error *err) {
    if (e->flags & 1)
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "%s: zip entry '%.*s' is encrypted", source,
                              (int)e->name_len, e->name);
    if (e->method != 0)
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                              "%s: zip entry '%.*s' is compressed (method %d); torch.save writes uncompressed archives: "
                              "re-save the state dict with torch.save(torch.load(path), path) or convert it to "
                              "model.safetensors",
                              source, (int)e->name_len, e->name, e->method);
    return DEIT_STATUS_OK;
}

/* ---------------------------------------------------------------------------------------
 * pickle values
 */
enum pv_type {
    PV_MARK, PV_NONE, PV_BOOL, PV_INT, PV_FLOAT, PV_STR, PV_TUPLE, PV_LIST, PV_DICT, PV_GLOBAL, PV_STORAGE,
    PV_TENSOR,
};

struct pv {
    enum pv_type type;
    int64_t      i;
    double       f;
    char        *s;            /* STR, GLOBAL ("module.name") */
    GPtrArray   *items;        /* TUPLE, LIST; DICT: key, value, key, value, ... */
    /* STORAGE */
    enum deit_dtype         dtype;
    size_t                  esize;
    const char             *type_name;
    const struct zip_entry *entry;
    int64_t                 numel;
    /* TENSOR */
    struct pv *storage;
    int64_t    offset;
    struct pv *size, *stride;
};

struct unpickler {
    const uint8_t   *p, *end, *start;
    GPtrArray       *all;      /* every value, freed together */
    GPtrArray       *stack;
    GHashTable      *memo;     /* index -> value */
    const struct zip *zip;
    const char      *prefix;   /* "<prefix>/" */
    const char      *source;
    struct deit_error *err;
};

static struct pv *pv_new(struct unpickler *u, enum pv_type t) {
    struct pv *v = g_new0(struct pv, 1);
    v->type      = t;
    g_ptr_array_add(u->all, v);
    return v;
}

static void pv_free(gpointer data) {
    struct pv *v = data;
    g_free(v->s);
    if (v->items) g_ptr_array_unref(v->items);
    g_free(v);
}

static enum deit_status bad_pickle(struct unpickler *u, const char *what) {
    return deit_set_error(u->err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: data.pkl is malformed at byte %td: %s", u->source,
                          u->p - u->start, what);
}

static enum deit_status pop(struct unpickler *u, struct pv **out) {
    if (u->stack->len == 0) return bad_pickle(u, "stack underflow");
    *out = g_ptr_array_steal_index(u->stack, u->stack->len - 1);
    if ((*out)->type == PV_MARK) return bad_pickle(u, "unexpected mark");
    return DEIT_STATUS_OK;
}

static struct pv *top(struct unpickler *u) { return u->stack->len ? g_ptr_array_index(u->stack, u->stack->len - 1) : NULL; }

/* pop everything above the topmost mark (and the mark) into a new container */
static enum deit_status pop_mark(struct unpickler *u, GPtrArray **items) {
    guint m = u->stack->len;
    while (m > 0 && ((struct pv *)g_ptr_array_index(u->stack, m - 1))->type != PV_MARK) m--;
    if (m == 0) return bad_pickle(u, "no mark on the stack");
    *items = g_ptr_array_new();
    for (guint i = m; i < u->stack->len; i++) g_ptr_array_add(*items, g_ptr_array_index(u->stack, i));
    g_ptr_array_set_size(u->stack, m - 1);
    return DEIT_STATUS_OK;
}

static bool need(struct unpickler *u, size_t n) { return (size_t)(u->end - u->p) >= n; }

static struct pv *make_tuple(struct unpickler *u, GPtrArray *items) {
    struct pv *t = pv_new(u, PV_TUPLE);
    t->items     = items;
    return t;
}

/* ---------------------------------------------------------------------------------------
 * what the pickle may reference
 */
struct storage_type {
    const char     *name;   /* torch.<name> */
    enum deit_dtype dtype;
    size_t          esize;
};
static const struct storage_type storage_types[] = {
    { "FloatStorage", DEIT_DTYPE_F32, 4 },      { "HalfStorage", DEIT_DTYPE_F16, 2 },
    { "BFloat16Storage", DEIT_DTYPE_BF16, 2 },  { "DoubleStorage", DEIT_DTYPE_OTHER, 8 },
    { "LongStorage", DEIT_DTYPE_OTHER, 8 },     { "IntStorage", DEIT_DTYPE_OTHER, 4 },
    { "ShortStorage", DEIT_DTYPE_OTHER, 2 },    { "CharStorage", DEIT_DTYPE_OTHER, 1 },
    { "ByteStorage", DEIT_DTYPE_OTHER, 1 },     { "BoolStorage", DEIT_DTYPE_OTHER, 1 },
    { "ComplexFloatStorage", DEIT_DTYPE_OTHER, 8 }, { "ComplexDoubleStorage", DEIT_DTYPE_OTHER, 16 },
};

static const char *const allowed_calls[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
};

static enum deit_status op_global(struct unpickler *u, const char *module, const char *name) {
    char *full = g_strdup_printf("%s.%s", module, name);
    bool  ok   = false;
    for (size_t i = 0; i < G_N_ELEMENTS(allowed_calls); i++) ok |= strcmp(full, allowed_calls[i]) == 0;
    if (strcmp(module, "torch") == 0)
        for (size_t i = 0; i < G_N_ELEMENTS(storage_types); i++) ok |= strcmp(name, storage_types[i].name) == 0;
    if (!ok) {
        enum deit_status st = deit_set_error(u->err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                                             "%s: data.pkl references %s, which a plain state dict of tensors does "
                                             "not use; save model.state_dict() or convert the file to "
                                             "model.safetensors",
                                             u->source, full);
        g_free(full);
        return st;
    }
    struct pv *g = pv_new(u, PV_GLOBAL);
    g->s         = full;
    g_ptr_array_add(u->stack, g);
    return DEIT_STATUS_OK;
}

/* ('storage', torch.XStorage, key, location, numel) -> STORAGE */
static enum deit_status op_persid(struct unpickler *u) {
    struct pv       *pid;
    enum deit_status st = pop(u, &pid);
    if (st) return st;
    GPtrArray *it = pid->items;
    if (pid->type != PV_TUPLE || it->len < 5 || ((struct pv *)it->pdata[0])->type != PV_STR ||
        strcmp(((struct pv *)it->pdata[0])->s, "storage") != 0 || ((struct pv *)it->pdata[1])->type != PV_GLOBAL ||
        ((struct pv *)it->pdata[2])->type != PV_STR || ((struct pv *)it->pdata[4])->type != PV_INT)
        return bad_pickle(u, "persistent id is not ('storage', type, key, location, numel)");
    /* tname checked for NULL first: glib >= 2.76's g_str_has_prefix() macro has a NULL
     * branch, through which gcc 14 saw strcmp(NULL + 6) (-Wstringop-overread) */
    const char *tname = ((struct pv *)it->pdata[1])->s;
    if (tname == NULL || !g_str_has_prefix(tname, "torch."))
        return bad_pickle(u, "persistent id names no storage type");
    const char *sname = tname + strlen("torch.");
    struct pv  *s     = pv_new(u, PV_STORAGE);
    for (size_t i = 0; i < G_N_ELEMENTS(storage_types); i++)
        if (strcmp(sname, storage_types[i].name) == 0) {
            s->dtype     = storage_types[i].dtype;
            s->esize     = storage_types[i].esize;
            s->type_name = storage_types[i].name;
        }
    if (!s->type_name) return bad_pickle(u, "persistent id names no storage type");
    s->numel  = ((struct pv *)it->pdata[4])->i;
    char *key = g_strdup_printf("%sdata/%s", u->prefix, ((struct pv *)it->pdata[2])->s);
    s->entry  = zip_find(u->zip, key);
    if (!s->entry) {
        st = deit_set_error(u->err, DEIT_STATUS_ERROR_TRUNCATED, "%s: storage '%s' is missing from the archive", u->source,
                            key);
        g_free(key);
        return st;
    }
    g_free(key);
    if ((st = zip_entry_check(s->entry, u->source, u->err))) return st;
    size_t bytes;
    if (s->numel < 0 || __builtin_mul_overflow((size_t)s->numel, s->esize, &bytes) || bytes > s->entry->size)
        return deit_set_error(u->err, DEIT_STATUS_ERROR_BAD_OFFSETS,
                              "%s: storage '%.*s' holds %zu bytes but data.pkl says %lld elements of %zu bytes; the "
                              "file is corrupt",
                              u->source, (int)s->entry->name_len, s->entry->name, s->entry->size, (long long)s->numel,
                              s->esize);
    g_ptr_array_add(u->stack, s);
    return DEIT_STATUS_OK;
}

static enum deit_status op_reduce(struct unpickler *u) {
    struct pv       *args, *fn;
    enum deit_status st;
    if ((st = pop(u, &args)) || (st = pop(u, &fn))) return st;
    if (fn->type != PV_GLOBAL || args->type != PV_TUPLE) return bad_pickle(u, "REDUCE needs a callable and a tuple");
    GPtrArray *a = args->items;
    if (strcmp(fn->s, "collections.OrderedDict") == 0) {
        if (a->len != 0) return bad_pickle(u, "OrderedDict with arguments");
        struct pv *d = pv_new(u, PV_DICT);
        d->items     = g_ptr_array_new();
        g_ptr_array_add(u->stack, d);
        return DEIT_STATUS_OK;
    }
    if (strcmp(fn->s, "torch._utils._rebuild_tensor_v2") == 0) {
        /* (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
        if (a->len < 4 || ((struct pv *)a->pdata[0])->type != PV_STORAGE || ((struct pv *)a->pdata[1])->type != PV_INT ||
            ((struct pv *)a->pdata[2])->type != PV_TUPLE || ((struct pv *)a->pdata[3])->type != PV_TUPLE)
            return bad_pickle(u, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
        struct pv *t = pv_new(u, PV_TENSOR);
        t->storage   = a->pdata[0];
        t->offset    = ((struct pv *)a->pdata[1])->i;
        t->size      = a->pdata[2];
        t->stride    = a->pdata[3];
        g_ptr_array_add(u->stack, t);
        return DEIT_STATUS_OK;
    }
    /* _rebuild_parameter(data, requires_grad, backward_hooks[, state]): the tensor itself */
    if (a->len < 1 || ((struct pv *)a->pdata[0])->type != PV_TENSOR)
        return bad_pickle(u, "_rebuild_parameter without a tensor");
    g_ptr_array_add(u->stack, a->pdata[0]);
    return DEIT_STATUS_OK;
}

static enum deit_status op_setitems(struct unpickler *u, GPtrArray *kv) {
    struct pv *d = top(u);
    if (!d || (d->type != PV_DICT) || kv->len % 2) {
        g_ptr_array_unref(kv);
        return bad_pickle(u, "SETITEM(S) without a dict or with an odd item count");
    }
    for (guint i = 0; i < kv->len; i++) g_ptr_array_add(d->items, kv->pdata[i]);
    g_ptr_array_unref(kv);
    return DEIT_STATUS_OK;
}

static enum deit_status push_str(struct unpickler *u, size_t n) {
    if (!need(u, n)) return bad_pickle(u, "string runs past the end");
    struct pv *s = pv_new(u, PV_STR);
    s->s         = g_strndup((const char *)u->p, n);
    u->p += n;
    g_ptr_array_add(u->stack, s);
    return DEIT_STATUS_OK;
}

static enum deit_status push_int(struct unpickler *u, int64_t v) {
    struct pv *i = pv_new(u, PV_INT);
    i->i         = v;
    g_ptr_array_add(u->stack, i);
    return DEIT_STATUS_OK;
}

static enum deit_status memo_put(struct unpickler *u, uint64_t idx) {
    struct pv *t = top(u);
    if (!t || t->type == PV_MARK) return bad_pickle(u, "memo put with nothing to store");
    g_hash_table_insert(u->memo, GSIZE_TO_POINTER((gsize)idx + 1), t);
    return DEIT_STATUS_OK;
}

static enum deit_status memo_get(struct unpickler *u, uint64_t idx) {
    struct pv *v = g_hash_table_lookup(u->memo, GSIZE_TO_POINTER((gsize)idx + 1));
    if (!v) return bad_pickle(u, "memo get of an unknown index");
    g_ptr_array_add(u->stack, v);
    return DEIT_STATUS_OK;
}

/* GLOBAL's "module\nname\n" */
static enum deit_status read_line(struct unpickler *u, char **out) {
    const uint8_t *nl = memchr(u->p, '\n', (size_t)(u->end - u->p));
    if (!nl || nl - u->p > 256) return bad_pickle(u, "unterminated GLOBAL name");
    *out = g_strndup((const char *)u->p, (size_t)(nl - u->p));
    u->p = nl + 1;
    return DEIT_STATUS_OK;
}

/* one opcode; *done set at STOP */
static enum deit_status step(struct unpickler *u, bool *done) {
    if (!need(u, 1)) return bad_pickle(u, "no STOP opcode");
    uint8_t          op = *u->p++;
    enum deit_status st = DEIT_STATUS_OK;
    struct pv       *a, *b, *c;
    GPtrArray       *items;
    switch (op) {
    case 0x80: /* PROTO */
        if (!need(u, 1) || *u->p > 5) return bad_pickle(u, "unknown protocol");
        u->p++;
        return DEIT_STATUS_OK;
    case 0x95: /* FRAME (protocol 4): 8-byte length, frames are just a hint */
        if (!need(u, 8)) return bad_pickle(u, "truncated FRAME");
        u->p += 8;
        return DEIT_STATUS_OK;
    case '.': *done = true; return DEIT_STATUS_OK;   /* STOP */
    case '(': g_ptr_array_add(u->stack, pv_new(u, PV_MARK)); return DEIT_STATUS_OK;   /* MARK */
    case '}': /* EMPTY_DICT */
    case ']': /* EMPTY_LIST */
        a        = pv_new(u, op == '}' ? PV_DICT : PV_LIST);
        a->items = g_ptr_array_new();
        g_ptr_array_add(u->stack, a);
        return DEIT_STATUS_OK;
    case ')': g_ptr_array_add(u->stack, make_tuple(u, g_ptr_array_new())); return DEIT_STATUS_OK;   /* EMPTY_TUPLE */
    case 'N': g_ptr_array_add(u->stack, pv_new(u, PV_NONE)); return DEIT_STATUS_OK;                  /* NONE */
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        (a = pv_new(u, PV_BOOL))->i = op == 0x88;
        g_ptr_array_add(u->stack, a);
        return DEIT_STATUS_OK;
    case 'K': /* BININT1 */
        if (!need(u, 1)) return bad_pickle(u, "truncated BININT1");
        return push_int(u, *u->p++);
    case 'M': /* BININT2 */
        if (!need(u, 2)) return bad_pickle(u, "truncated BININT2");
        u->p += 2;
        return push_int(u, rd16(u->p - 2));
    case 'J': /* BININT: signed 32-bit */
        if (!need(u, 4)) return bad_pickle(u, "truncated BININT");
        u->p += 4;
        return push_int(u, (int32_t)rd32(u->p - 4));
    case 0x8a: { /* LONG1: n-byte two's complement little endian */
        if (!need(u, 1) || *u->p > 8 || !need(u, 1u + *u->p)) return bad_pickle(u, "LONG1 too long");
        int      n = *u->p++;
        uint64_t v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | u->p[i];
        if (n > 0 && n < 8 && (u->p[n - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * n);
        u->p += n;
        return push_int(u, (int64_t)v);
    }
    case 'G': { /* BINFLOAT: big-endian double */
        if (!need(u, 8)) return bad_pickle(u, "truncated BINFLOAT");
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++) bits = (bits << 8) | u->p[i];
        u->p += 8;
        a = pv_new(u, PV_FLOAT);
        memcpy(&a->f, &bits, sizeof a->f);
        g_ptr_array_add(u->stack, a);
        return DEIT_STATUS_OK;
    }
    case 'X': /* BINUNICODE */
    case 'T': /* BINSTRING */
        if (!need(u, 4)) return bad_pickle(u, "truncated string length");
        u->p += 4;
        return push_str(u, rd32(u->p - 4));
    case 0x8c: /* SHORT_BINUNICODE */
    case 'U':  /* SHORT_BINSTRING */
        if (!need(u, 1)) return bad_pickle(u, "truncated string length");
        return push_str(u, *u->p++);
    case 0x8d: /* BINUNICODE8 */
        if (!need(u, 8) || rd64(u->p) > (uint64_t)(u->end - u->p)) return bad_pickle(u, "truncated string");
        u->p += 8;
        return push_str(u, (size_t)rd64(u->p - 8));
    case 'c': { /* GLOBAL */
        char *module = NULL, *name = NULL;
        if ((st = read_line(u, &module)) == DEIT_STATUS_OK && (st = read_line(u, &name)) == DEIT_STATUS_OK)
            st = op_global(u, module, name);
        g_free(module);
        g_free(name);
        return st;
    }
    case 0x93: /* STACK_GLOBAL */
        if ((st = pop(u, &b)) || (st = pop(u, &a))) return st;
        if (a->type != PV_STR || b->type != PV_STR) return bad_pickle(u, "STACK_GLOBAL needs two strings");
        return op_global(u, a->s, b->s);
    case 'Q': return op_persid(u);   /* BINPERSID */
    case 'R': return op_reduce(u);   /* REDUCE */
    case 't': /* TUPLE */
        if ((st = pop_mark(u, &items))) return st;
        g_ptr_array_add(u->stack, make_tuple(u, items));
        return DEIT_STATUS_OK;
    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: /* TUPLE3 */ {
        int        n = op - 0x84;
        struct pv *v[3];
        for (int i = n - 1; i >= 0; i--)
            if ((st = pop(u, &v[i]))) return st;
        items = g_ptr_array_new();
        for (int i = 0; i < n; i++) g_ptr_array_add(items, v[i]);
        g_ptr_array_add(u->stack, make_tuple(u, items));
        return DEIT_STATUS_OK;
    }
    case 'u': /* SETITEMS */
        if ((st = pop_mark(u, &items))) return st;
        return op_setitems(u, items);
    case 's': /* SETITEM */
        if ((st = pop(u, &b)) || (st = pop(u, &a))) return st;
        items = g_ptr_array_new();
        g_ptr_array_add(items, a);
        g_ptr_array_add(items, b);
        return op_setitems(u, items);
    case 'a': /* APPEND */
        if ((st = pop(u, &a))) return st;
        if (!(c = top(u)) || c->type != PV_LIST) return bad_pickle(u, "APPEND without a list");
        g_ptr_array_add(c->items, a);
        return DEIT_STATUS_OK;
    case 'e': /* APPENDS */
        if ((st = pop_mark(u, &items))) return st;
        if (!(c = top(u)) || c->type != PV_LIST) {
            g_ptr_array_unref(items);
            return bad_pickle(u, "APPENDS without a list");
        }
        for (guint i = 0; i < items->len; i++) g_ptr_array_add(c->items, items->pdata[i]);
        g_ptr_array_unref(items);
        return DEIT_STATUS_OK;
    case 'b': /* BUILD: object state (e.g. the state dict's _metadata); not needed */
        if ((st = pop(u, &a))) return st;
        if (!top(u) || top(u)->type == PV_MARK) return bad_pickle(u, "BUILD without an object");
        return DEIT_STATUS_OK;
    case 'q': /* BINPUT */
        if (!need(u, 1)) return bad_pickle(u, "truncated BINPUT");
        return memo_put(u, *u->p++);
    case 'r': /* LONG_BINPUT */
        if (!need(u, 4)) return bad_pickle(u, "truncated LONG_BINPUT");
        u->p += 4;
        return memo_put(u, rd32(u->p - 4));
    case 0x94: /* MEMOIZE */
        return memo_put(u, g_hash_table_size(u->memo));
    case 'h': /* BINGET */
        if (!need(u, 1)) return bad_pickle(u, "truncated BINGET");
        return memo_get(u, *u->p++);
    case 'j': /* LONG_BINGET */
        if (!need(u, 4)) return bad_pickle(u, "truncated LONG_BINGET");
        u->p += 4;
        return memo_get(u, rd32(u->p - 4));
    default:
        u->p--;
        return deit_set_error(u->err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                              "%s: data.pkl uses pickle opcode 0x%02x at byte %td, which a torch.save state dict does "
                              "not use; save model.state_dict() with torch.save or convert the file to "
                              "model.safetensors",
                              u->source, op, u->p - u->start);
    }
}

/* ---------------------------------------------------------------------------------------
 * state dict -> tensor table
 */
static enum deit_status add_tensor(struct deit_tensor_file *tf, const char *name, const struct pv *t,
                                   const char *source, struct deit_error *err) {
    const struct pv *s  = t->storage;
    GPtrArray       *sz = t->size->items, *sd = t->stride->items;
    if (sz->len > DEIT_MAX_DIMS || sz->len != sd->len)
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: tensor '%s': %u sizes and %u strides", source,
                              name, sz->len, sd->len);
    int64_t shape[DEIT_MAX_DIMS];
    size_t  numel = 1;
    for (guint i = 0; i < sz->len; i++) {
        const struct pv *v = sz->pdata[i];
        if (v->type != PV_INT || v->i < 0 || __builtin_mul_overflow(numel, (size_t)v->i, &numel))
            return deit_set_error(err, DEIT_STATUS_ERROR_BAD_SHAPE, "%s: tensor '%s' has an invalid size", source, name);
        shape[i] = v->i;
    }
    /* contiguous (row-major) strides; dims of size 1 may have any stride */
    int64_t expect = 1;
    for (int i = (int)sz->len - 1; i >= 0; i--) {
        const struct pv *v = sd->pdata[i];
        if (v->type != PV_INT) return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: tensor '%s': bad stride", source, name);
        if (shape[i] != 1 && v->i != expect) {
            GString *sh = g_string_new("["), *st = g_string_new("[");
            for (guint k = 0; k < sz->len; k++) {
                g_string_append_printf(sh, "%s%lld", k ? ", " : "", (long long)shape[k]);
                g_string_append_printf(st, "%s%lld", k ? ", " : "", (long long)((struct pv *)sd->pdata[k])->i);
            }
            enum deit_status r = deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                                                "%s: tensor '%s' is not contiguous (shape %s], stride %s]); save "
                                                "{k: v.contiguous() for k, v in state_dict.items()} instead",
                                                source, name, sh->str, st->str);
            g_string_free(sh, TRUE);
            g_string_free(st, TRUE);
            return r;
        }
        expect *= shape[i] ? shape[i] : 1;
    }
    size_t bytes;
    if (t->offset < 0 || numel > (size_t)s->numel || (size_t)t->offset > (size_t)s->numel - numel ||
        __builtin_mul_overflow(numel, s->esize, &bytes))
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_OFFSETS,
                              "%s: tensor '%s': elements [%lld, %lld) lie outside its storage of %lld elements; the file "
                              "is corrupt",
                              source, name, (long long)t->offset, (long long)(t->offset + (int64_t)numel),
                              (long long)s->numel);
    size_t first = (size_t)t->offset * s->esize;
    struct deit_tensor *dt = deit_tensor_file_add(tf, g_strdup(name));
    if (!dt) return deit_set_error(err, DEIT_STATUS_ERROR_BAD_HEADER, "%s: tensor '%s' appears twice", source, name);
    dt->dtype = s->dtype;
    g_strlcpy(dt->dtype_name, s->type_name, sizeof dt->dtype_name);
    dt->n_dims = (int)sz->len;
    memcpy(dt->shape, shape, sz->len * sizeof shape[0]);
    dt->data    = s->entry->data + first;
    dt->n_bytes = bytes;
    return DEIT_STATUS_OK;
}

/* find <prefix>/data.pkl: the archive has one top-level directory */
static const struct zip_entry *find_pickle(const struct zip *z, char **prefix) {
    for (size_t i = 0; i < z->n; i++) {
        const struct zip_entry *e = &z->entries[i];
        const char             *suffix = "data.pkl";
        size_t                  sl     = strlen(suffix);
        if (e->name_len < sl || memcmp(e->name + e->name_len - sl, suffix, sl) != 0) continue;
        size_t pl = e->name_len - sl;   /* "<prefix>/" or "" */
        if (pl > 0 && (e->name[pl - 1] != '/' || memchr(e->name, '/', pl - 1))) continue;
        *prefix = g_strndup(e->name, pl);
        return e;
    }
    return NULL;
}

enum deit_status deit_torchbin_parse(struct deit_tensor_file *tf, const uint8_t *data, size_t size,
                                     const char *source, struct deit_error *err) {
    memset(tf, 0, sizeof *tf);
    tf->format          = "pytorch_model.bin";
    struct zip       z  = { 0 };
    char            *prefix = NULL;
    enum deit_status st = zip_open(&z, data, size, source, err);
    struct unpickler u  = { 0 };
    if (st) goto done;
    const struct zip_entry *pkl = find_pickle(&z, &prefix);
    if (!pkl) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                            "%s: zip archive without <name>/data.pkl; it is not a torch.save file", source);
        goto done;
    }
    if ((st = zip_entry_check(pkl, source, err))) goto done;
    char                   *bo_name = g_strdup_printf("%sbyteorder", prefix);
    const struct zip_entry *bo      = zip_find(&z, bo_name);
    g_free(bo_name);
    if (bo && !(bo->size == 6 && memcmp(bo->data, "little", 6) == 0)) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                            "%s: storages are not little-endian; re-save the file on a little-endian machine", source);
        goto done;
    }

    u = (struct unpickler){ .p = pkl->data, .end = pkl->data + pkl->size, .start = pkl->data,
                            .all = g_ptr_array_new_with_free_func(pv_free), .stack = g_ptr_array_new(),
                            .memo = g_hash_table_new(g_direct_hash, g_direct_equal), .zip = &z, .prefix = prefix,
                            .source = source, .err = err };
    bool done = false;
    while (!done && st == DEIT_STATUS_OK) st = step(&u, &done);
    if (st) goto done;
    struct pv *root = top(&u);
    if (!root || root->type != PV_DICT || u.stack->len != 1) {
        st = deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                            "%s: data.pkl does not hold a state dict (a dict of name -> tensor); save "
                            "model.state_dict()",
                            source);
        goto done;
    }
    for (guint i = 0; i + 1 < root->items->len && st == DEIT_STATUS_OK; i += 2) {
        const struct pv *k = root->items->pdata[i], *v = root->items->pdata[i + 1];
        if (k->type != PV_STR || v->type != PV_TENSOR) {
            DEIT_LOG_DEBUG("%s: ignoring non-tensor entry %s", source, k->type == PV_STR ? k->s : "(non-string key)");
            continue;
        }
        st = add_tensor(tf, k->s, v, source, err);
    }
    if (st == DEIT_STATUS_OK) DEIT_LOG_DEBUG("%s: %zu tensors in %zu zip entries", source, tf->n_tensors, z.n);

done:
    if (u.all) {
        g_ptr_array_unref(u.stack);
        g_hash_table_destroy(u.memo);
        g_ptr_array_unref(u.all);
    }
    g_free(prefix);
    g_free(z.entries);
    if (st != DEIT_STATUS_OK) deit_tensor_file_free(tf);
    return st;
}
