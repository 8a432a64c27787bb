/* npy.h - minimal NumPy .npy reader/writer for deit-infer and the tests.
 *
 * Format (numpy/lib/format.py, "NPY format"): magic "\x93NUMPY", major, minor version
 * bytes, header length (u16 LE for v1.0, u32 LE for v2.0/v3.0), then an ASCII (v3: UTF-8)
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ending in '\n', then the raw data in C order.
 *
 * Supported: little-endian float32 ('<f4'), uint8 ('|u1'), bool ('|b1'), C order, up to
 * NPY_MAX_DIMS dimensions. Anything else is rejected with a message that says what was
 * found and how to save a supported array instead. Not part of the engine library. */
#ifndef NPY_H
#define NPY_H

#include <stdbool.h>
#include <stddef.h>

#define NPY_MAX_DIMS 8

enum npy_dtype {
    NPY_DTYPE_F32 = 0,  /* '<f4' */
    NPY_DTYPE_U8,       /* '|u1' */
    NPY_DTYPE_BOOL,     /* '|b1', one byte per element, 0 or 1 */
};

struct npy_array {
    enum npy_dtype dtype;
    int    ndim;
    size_t shape[NPY_MAX_DIMS];
    size_t n_elements;        /* product of shape (1 for a 0-d array) */
    void  *data;              /* n_elements items of dtype, owned (free with npy_array_free) */
};

/* Parse a .npy file held in memory. Returns 0 on success; on failure fills err (may be
 * NULL) with a one-line message and returns -1. out->data is a fresh copy. */
int npy_parse(const void *buf, size_t len, struct npy_array *out, char *err, size_t err_size);

/* Read a .npy file (npy_parse on its contents; the message names the file). */
int npy_read(const char *path, struct npy_array *out, char *err, size_t err_size);

/* Write n = product(shape) items of dtype as a v1.0 .npy file. 0 or -1 (err filled). */
int npy_write(const char *path, enum npy_dtype dtype, const void *data, int ndim, const size_t *shape,
              char *err, size_t err_size);

void npy_array_free(struct npy_array *a);

const char *npy_dtype_descr(enum npy_dtype dtype);

#endif /* NPY_H */
