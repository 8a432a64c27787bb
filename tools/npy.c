/* npy.c - minimal NumPy .npy reader/writer (see npy.h). */
#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAGIC_LEN 6

__attribute__((format(printf, 3, 4)))
static int npy_fail(char *err, size_t err_size, const char *fmt, ...) {
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *npy_dtype_descr(enum npy_dtype dtype) {
    switch (dtype) {
    case NPY_DTYPE_F32:  return "<f4";
    case NPY_DTYPE_U8:   return "|u1";
    case NPY_DTYPE_BOOL: return "|b1";
    }
    return "?";
}

static size_t npy_itemsize(enum npy_dtype dtype) {
    return dtype == NPY_DTYPE_F32 ? 4 : 1;
}

void npy_array_free(struct npy_array *a) {
    if (!a) {
        return;
    }
    free(a->data);
    a->data = NULL;
}

/* ---- header dict parser ------------------------------------------------------------- */

struct npy_cursor {
    const char *p, *end;
};

static void skip_space(struct npy_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

static bool eat(struct npy_cursor *c, char ch) {
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A Python string literal in single or double quotes (no escapes needed for our keys). */
static bool parse_str(struct npy_cursor *c, char *out, size_t out_size) {
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) {
        return false;
    }
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= out_size) {
            return false;
        }
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) {
        return false;
    }
    c->p++;
    out[n] = '\0';
    return true;
}

static bool starts_with_word(struct npy_cursor *c, const char *w) {
    skip_space(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return true;
    }
    return false;
}

/* (d0, d1, ...) with an optional trailing comma; () is a 0-d array. */
static int parse_shape(struct npy_cursor *c, struct npy_array *out, char *err, size_t err_size) {
    if (!eat(c, '(')) {
        return npy_fail(err, err_size, "'shape' is not a tuple");
    }
    out->ndim = 0;
    out->n_elements = 1;
    for (;;) {
        if (eat(c, ')')) {
            return 0;
        }
        skip_space(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
            return npy_fail(err, err_size, "'shape' holds something other than non-negative integers");
        }
        size_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            size_t digit = (size_t)(*c->p++ - '0');
            if (v > (SIZE_MAX - digit) / 10) {
                return npy_fail(err, err_size, "'shape' dimension too large");
            }
            v = v * 10 + digit;
        }
        skip_space(c);
        if (c->p < c->end && *c->p == 'L') {  /* Python 2 long suffix */
            c->p++;
        }
        if (out->ndim >= NPY_MAX_DIMS) {
            return npy_fail(err, err_size, "more than %d dimensions", NPY_MAX_DIMS);
        }
        if (v != 0 && out->n_elements > SIZE_MAX / v) {
            return npy_fail(err, err_size, "'shape' element count overflows");
        }
        out->shape[out->ndim++] = v;
        out->n_elements *= v;
        if (!eat(c, ',')) {
            if (eat(c, ')')) {
                return 0;
            }
            return npy_fail(err, err_size, "'shape' tuple is malformed");
        }
    }
}

static int parse_descr(const char *descr, enum npy_dtype *dtype, char *err, size_t err_size) {
    if (strcmp(descr, "<f4") == 0) {
        *dtype = NPY_DTYPE_F32;
    } else if (strcmp(descr, "|u1") == 0 || strcmp(descr, "<u1") == 0 || strcmp(descr, ">u1") == 0) {
        *dtype = NPY_DTYPE_U8;
    } else if (strcmp(descr, "|b1") == 0 || strcmp(descr, "<b1") == 0 || strcmp(descr, ">b1") == 0) {
        *dtype = NPY_DTYPE_BOOL;
    } else if (strcmp(descr, ">f4") == 0) {
        return npy_fail(err, err_size, "dtype '>f4' is big-endian float32; save little-endian: "
                        "np.save(path, x.astype('<f4'))");
    } else if (strcmp(descr, "<f8") == 0 || strcmp(descr, "<f2") == 0) {
        return npy_fail(err, err_size, "dtype '%s' is not float32; convert first: "
                        "np.save(path, x.astype(np.float32))", descr);
    } else {
        return npy_fail(err, err_size, "dtype '%s' is not supported (float32 '<f4', uint8 '|u1' "
                        "or bool '|b1' expected)", descr);
    }
    return 0;
}

static int parse_header(const char *h, size_t len, struct npy_array *out, char *err, size_t err_size) {
    struct npy_cursor c = { h, h + len };
    bool have_descr = false, have_order = false, have_shape = false;
    if (!eat(&c, '{')) {
        return npy_fail(err, err_size, "header is not a dict literal");
    }
    for (;;) {
        if (eat(&c, '}')) {
            break;
        }
        char key[32], val[32];
        if (!parse_str(&c, key, sizeof(key)) || !eat(&c, ':')) {
            return npy_fail(err, err_size, "header dict is malformed");
        }
        if (strcmp(key, "descr") == 0) {
            if (!parse_str(&c, val, sizeof(val))) {
                return npy_fail(err, err_size, "'descr' is not a simple dtype string "
                                "(structured arrays are not supported)");
            }
            if (parse_descr(val, &out->dtype, err, err_size) != 0) {
                return -1;
            }
            have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (starts_with_word(&c, "True")) {
                return npy_fail(err, err_size, "array is in Fortran order; save a C-order copy: "
                                "np.save(path, np.ascontiguousarray(x))");
            }
            if (!starts_with_word(&c, "False")) {
                return npy_fail(err, err_size, "'fortran_order' is not True or False");
            }
            have_order = true;
        } else if (strcmp(key, "shape") == 0) {
            if (parse_shape(&c, out, err, err_size) != 0) {
                return -1;
            }
            have_shape = true;
        } else {
            return npy_fail(err, err_size, "unexpected header key '%s'", key);
        }
        if (!eat(&c, ',')) {
            if (eat(&c, '}')) {
                break;
            }
            return npy_fail(err, err_size, "header dict is malformed");
        }
    }
    if (!have_descr || !have_order || !have_shape) {
        return npy_fail(err, err_size, "header lacks '%s'",
                        !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    }
    skip_space(&c);
    if (c.p != c.end) {
        return npy_fail(err, err_size, "trailing characters after the header dict");
    }
    return 0;
}

int npy_parse(const void *buf, size_t len, struct npy_array *out, char *err, size_t err_size) {
    const uint8_t *b = buf;
    memset(out, 0, sizeof(*out));
    if (len < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        return npy_fail(err, err_size, "not a .npy file (no \\x93NUMPY magic)");
    }
    int major = b[6], minor = b[7];
    size_t hlen, hstart;
    if (major == 1) {
        if (len < 10) {
            return npy_fail(err, err_size, "truncated .npy preamble");
        }
        hlen = (size_t)b[8] | ((size_t)b[9] << 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            return npy_fail(err, err_size, "truncated .npy preamble");
        }
        hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
        hstart = 12;
    } else {
        return npy_fail(err, err_size, "unsupported .npy format version %d.%d (1.0, 2.0, 3.0 supported)",
                        major, minor);
    }
    if (minor != 0) {
        return npy_fail(err, err_size, "unsupported .npy format version %d.%d", major, minor);
    }
    if (hlen > len - hstart) {
        return npy_fail(err, err_size, "header length %zu runs past the end of the file (%zu bytes)", hlen, len);
    }
    const char *h = (const char *)b + hstart;
    if (hlen == 0 || h[hlen - 1] != '\n') {
        return npy_fail(err, err_size, "header does not end with a newline");
    }
    if (parse_header(h, hlen, out, err, err_size) != 0) {
        return -1;
    }
    size_t item = npy_itemsize(out->dtype);
    if (out->n_elements > SIZE_MAX / item) {
        return npy_fail(err, err_size, "array too large");
    }
    size_t nbytes = out->n_elements * item;
    size_t avail = len - hstart - hlen;
    if (avail < nbytes) {
        return npy_fail(err, err_size, "data truncated: shape needs %zu bytes, file has %zu", nbytes, avail);
    }
    if (avail > nbytes) {
        return npy_fail(err, err_size, "%zu unexpected bytes after the array data", avail - nbytes);
    }
    out->data = malloc(nbytes ? nbytes : 1);
    if (!out->data) {
        return npy_fail(err, err_size, "out of memory (%zu bytes)", nbytes);
    }
    memcpy(out->data, b + hstart + hlen, nbytes);
    if (out->dtype == NPY_DTYPE_BOOL) {
        const uint8_t *v = out->data;
        for (size_t i = 0; i < nbytes; i++) {
            if (v[i] > 1) {
                int bad = npy_fail(err, err_size, "bool element %zu holds %d (0 or 1 expected)", i, v[i]);
                npy_array_free(out);   /* after the message: v points into out->data */
                return bad;
            }
        }
    }
    return 0;
}

int npy_read(const char *path, struct npy_array *out, char *err, size_t err_size) {
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (!f) {
        return npy_fail(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return npy_fail(err, err_size, "%s: out of memory", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    bool read_error = ferror(f) != 0;
    fclose(f);
    if (read_error) {
        free(buf);
        return npy_fail(err, err_size, "%s: read error", path);
    }
    char msg[512];
    int rc = npy_parse(buf, len, out, msg, sizeof(msg));
    free(buf);
    if (rc != 0) {
        return npy_fail(err, err_size, "%s: %s", path, msg);
    }
    return 0;
}

int npy_write(const char *path, enum npy_dtype dtype, const void *data, int ndim, const size_t *shape,
              char *err, size_t err_size) {
    if (ndim < 0 || ndim > NPY_MAX_DIMS) {
        return npy_fail(err, err_size, "%s: %d dimensions not supported", path, ndim);
    }
    char dict[512];
    int n = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     npy_dtype_descr(dtype));
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof(dict) - (size_t)n, "%zu%s", shape[i], ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
        count *= shape[i];
    }
    n += snprintf(dict + n, sizeof(dict) - (size_t)n, "), }");
    /* pad with spaces so that magic + version + length + header is a multiple of 64,
     * with the final '\n' (numpy >= 1.19 alignment) */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    if (hlen > 65535) {
        return npy_fail(err, err_size, "%s: header too long", path);
    }
    uint8_t pre[10];
    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (uint8_t)(hlen & 0xff);
    pre[9] = (uint8_t)(hlen >> 8);
    FILE *f = fopen(path, "wb");
    if (!f) {
        return npy_fail(err, err_size, "%s: cannot create: %s", path, strerror(errno));
    }
    size_t nbytes = count * npy_itemsize(dtype);
    bool ok = fwrite(pre, 1, sizeof(pre), f) == sizeof(pre) && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++) {
        ok = fputc(' ', f) != EOF;
    }
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
    if (fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        return npy_fail(err, err_size, "%s: write failed: %s", path, strerror(errno));
    }
    return 0;
}
