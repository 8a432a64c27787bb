/* test-affinity.c - where a state's workers run (deit_state_params.affinity).
 *
 *   test-affinity FIXTURES_DIR      (the core fixtures of gen_core_fixtures.py)
 *
 * With as many workers as the CPUs this thread may run on (the default thread count on
 * an unrestricted machine), AUTO and PIN give each worker a CPU of its own: the process
 * then has that many threads pinned to one CPU each, covering every CPU of the mask, and
 * the calling thread's own affinity is unchanged after a run. NONE, and a worker count
 * that differs from the CPU count, pin nothing. The logits are the same bits either way.
 * deit_default_threads() ("0 = all cores") counts the CPUs of the caller's mask, so a
 * process under taskset does not start more workers than it has CPUs.
 * Linux only; skipped (77) on a single CPU.
 */
#define _GNU_SOURCE
#include "deit.h"
#include "test-state.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/* threads of this process whose affinity is exactly one CPU; seen[c] counts them per CPU */
static int pinned_threads(int *seen, int n_seen) {
    DIR *d = opendir("/proc/self/task");
    int  n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        cpu_set_t set;
        if (sched_getaffinity(atoi(e->d_name), sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) continue;
        n++;
        for (int c = 0; c < n_seen; c++)
            if (CPU_ISSET(c, &set)) seen[c]++;
    }
    if (d) closedir(d);
    return n;
}

static float *run(const struct deit_model *m, int threads, enum deit_affinity aff, int n_cpus, int *pinned,
                  bool *covered) {
    struct deit_state_params sp = deit_state_default_params();
    sp.n_threads = threads, sp.affinity = aff;
    struct deit_state *st = state_or_exit(m, &sp);
    const struct deit_model_info *mi = deit_model_get_info(m);
    float *in = deit_state_input(st, 0);
    for (size_t i = 0; i < (size_t)mi->num_channels * mi->image_height * mi->image_width; i++)
        in[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    cpu_set_t before, after;
    sched_getaffinity(0, sizeof before, &before);
    if (deit_state_run(st, 1, NULL) != DEIT_STATUS_OK) {
        printf("FAIL deit_state_run\n");
        exit(1);
    }
    sched_getaffinity(0, sizeof after, &after);
    if (!CPU_EQUAL(&before, &after)) {
        printf("FAIL the calling thread's affinity changed\n");
        failures++;
    }
    int seen[CPU_SETSIZE] = { 0 };
    *pinned  = pinned_threads(seen, CPU_SETSIZE);
    *covered = true;
    for (int c = 0, k = 0; c < CPU_SETSIZE && k < n_cpus; c++)
        if (CPU_ISSET(c, &before)) k++, *covered = *covered && seen[c] == 1;
    size_t n   = 0;
    float *out = malloc((size_t)mi->num_labels * sizeof(float));
    memcpy(out, deit_state_get_output(st, DEIT_OUTPUT_LOGITS, 0, &n), (size_t)mi->num_labels * sizeof(float));
    deit_state_free(st);
    return out;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test-affinity FIXTURES_DIR\n");
        return 2;
    }
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0 || CPU_COUNT(&mask) < 2) {
        printf("SKIP: one CPU, nothing to pin\n");
        return 77;
    }
    const int n = CPU_COUNT(&mask);
    printf("deit_default_threads() = %d, CPUs of this thread's mask = %d\n", deit_default_threads(), n);
    if (deit_default_threads() != n) failures++;
    {
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &mask)) {
                CPU_SET(c, &one);
                break;
            }
        sched_setaffinity(0, sizeof one, &one);
        const int d = deit_default_threads();
        sched_setaffinity(0, sizeof mask, &mask);
        printf("restricted to one CPU: deit_default_threads() = %d\n", d);
        if (d != 1) failures++;
    }
    char      path[4096];
    snprintf(path, sizeof path, "%s/deit-tiny", argv[1]);
    struct deit_error  err;
    struct deit_model *m = deit_model_load(path, NULL, &err);
    if (!m) {
        printf("FAIL %s: %s\n", path, err.message);
        return 1;
    }
    const size_t K = (size_t)deit_model_get_info(m)->num_labels;
    int          pinned;
    bool         covered;
    float       *ref = run(m, n, DEIT_AFFINITY_NONE, n, &pinned, &covered);
    printf("%d workers, affinity none: %d threads pinned\n", n, pinned);
    if (pinned != 0) failures++;
    const enum deit_affinity modes[] = { DEIT_AFFINITY_AUTO, DEIT_AFFINITY_PIN };
    for (int i = 0; i < 2; i++) {
        float     *got  = run(m, n, modes[i], n, &pinned, &covered);
        const bool same = !memcmp(got, ref, K * sizeof(float));
        printf("%d workers, affinity %s: %d threads pinned, one on each of the %d CPUs: %s; logits %s\n", n,
               i ? "pin" : "auto", pinned, n, covered ? "yes" : "NO", same ? "bit-identical" : "DIFFER");
        if (pinned != n || !covered || !same) failures++;
        free(got);
    }
    float *got = run(m, n + 1, DEIT_AFFINITY_PIN, n, &pinned, &covered);
    printf("%d workers on %d CPUs, affinity pin: %d threads pinned\n", n + 1, n, pinned);
    if (pinned != 0) failures++;
    free(got);
    free(ref);
    deit_model_free(m);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
