/* fuzz-tensor-file.h - the body shared by the two weight-file targets (fuzz-safetensors,
 * fuzz-torchbin): parse arbitrary bytes; every tensor the parser accepts must lie inside
 * the buffer and be found by its name. */
#ifndef FUZZ_TENSOR_FILE_H
#define FUZZ_TENSOR_FILE_H

#include "fuzz-common.h"
#include "deit-internal.h"

#include <stdlib.h>

typedef enum deit_status (*fuzz_tensor_parser)(struct deit_tensor_file *tf, const uint8_t *data, size_t size,
                                               const char *source, struct deit_error *err);

static inline int fuzz_tensor_file(fuzz_tensor_parser parse, const char *source, const uint8_t *data,
                                   size_t size) {
    /* a private copy, so ASan sees reads past the end of exactly `size` bytes */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct deit_tensor_file tf  = {0};
    struct deit_error       err = {0};
    enum deit_status st = parse(&tf, buf, size, source, &err);
    fuzz_check_error(st, &err);
    if (st == DEIT_STATUS_OK) {
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < tf.n_tensors; i++) {
            const struct deit_tensor *t = &tf.tensors[i];
            if (t->data < buf || t->n_bytes > size || t->data + t->n_bytes > buf + size) __builtin_trap();
            if (t->n_bytes) sink ^= t->data[0] ^ t->data[t->n_bytes - 1];
            if (deit_tensor_file_find(&tf, t->name) != t) __builtin_trap();
        }
        (void)sink;
    }
    deit_tensor_file_free(&tf);
    free(buf);
    return 0;
}

#endif
