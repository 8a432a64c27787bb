/* test-state.h - for the core tests: a state of m with params sp, or the test ends at once
 * (exit 1) with deit_state_init's error: a test that needs a state has nothing to check
 * without one. */
#ifndef TEST_STATE_H
#define TEST_STATE_H

#include "deit.h"
#include <stdio.h>
#include <stdlib.h>

static inline struct deit_state *state_or_exit(const struct deit_model *m, const struct deit_state_params *sp) {
    struct deit_error  err;
    struct deit_state *st = deit_state_init(m, sp, &err);
    if (!st) {
        printf("FAIL deit_state_init: %s\n", err.message);
        exit(1);
    }
    return st;
}

#endif
