/* fuzz-npy.c - the .npy reader of deit-infer (tools/npy.c, npy_parse). */
#include "fuzz-common.h"
#include "npy.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct npy_array a;
    memset(&a, 0, sizeof a);
    char err[512];
    err[0] = '\0';
    if (npy_parse(buf, size, &a, err, sizeof err) == 0) {
        size_t item = a.dtype == NPY_DTYPE_F32 ? 4 : 1, n = 1;
        for (int i = 0; i < a.ndim; i++) n *= a.shape[i];
        if (n != a.n_elements || a.ndim < 0 || a.ndim > NPY_MAX_DIMS) __builtin_trap();
        volatile uint8_t sink = 0;
        if (n) sink = ((const uint8_t *)a.data)[n * item - 1];   /* the whole array was copied */
        (void)sink;
        if (a.dtype == NPY_DTYPE_BOOL)
            for (size_t i = 0; i < n; i++)
                if (((const uint8_t *)a.data)[i] > 1) __builtin_trap();
        npy_array_free(&a);
    } else if (err[0] == '\0' || !memchr(err, '\0', sizeof err)) {
        __builtin_trap();
    }
    free(buf);
    return 0;
}
