/* fuzz-common.h - helpers shared by the libFuzzer targets (see README.md). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem */
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "deit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Multi-file inputs (model-load): the parts are separated by this line. */
#define FUZZ_SEP "\n@@@@\n"

/* Next part of data[*pos..size) up to FUZZ_SEP or the end; false when none is left. */
static inline int fuzz_next_part(const uint8_t *data, size_t size, size_t *pos, const uint8_t **part,
                                 size_t *len) {
    if (*pos > size) return 0;
    const size_t   seplen = sizeof FUZZ_SEP - 1;
    const uint8_t *start  = data + *pos;
    size_t         left   = size - *pos;
    const uint8_t *hit    = left >= seplen ? memmem(start, left, FUZZ_SEP, seplen) : NULL;
    *part                 = start;
    *len                  = hit ? (size_t)(hit - start) : left;
    *pos += *len + seplen;   /* past the end when there was no separator */
    return 1;
}

/* A successful call must leave err clean, a failed one must say why. */
static inline void fuzz_check_error(enum deit_status st, const struct deit_error *err) {
    if (st != DEIT_STATUS_OK && (err->status != st || err->message[0] == '\0')) __builtin_trap();
}

#endif
