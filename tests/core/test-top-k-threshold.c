/* test-top-k-threshold.c - deit_top_k keeps a class whose probability equals the
 * threshold exactly ("probability >= threshold", deit.h), on plain logits (no
 * checkpoint, no PyTorch: it runs everywhere).
 *
 * The probabilities come from a first call without threshold; the threshold is then
 * each of those floats exactly, and the next float above it. */
#include "deit.h"

#include <math.h>
#include <stdio.h>

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL: " __VA_ARGS__); printf("\n"); failures++; } } while (0)

int main(void) {
    /* distinct logits, one tie (classes 4 and 5) */
    const float logits[8] = { 0.5f, 2.25f, -1.0f, 1.5f, 0.75f, 0.75f, -3.0f, 3.125f };
    const int n = 8;
    struct deit_class_score all[8], got[8];

    int n_all = deit_top_k(logits, n, n, 0.0f, all);
    CHECK(n_all == n, "threshold 0: %d classes, expected %d", n_all, n);
    for (int i = 0; i < n_all; i++) {
        float t = all[i].score;
        /* every class at least as probable as the i-th: i + 1, plus those tied with it */
        int expect = i + 1;
        while (expect < n_all && all[expect].score == t) expect++;
        int m = deit_top_k(logits, n, n, t, got);
        CHECK(m == expect, "threshold = probability of rank %d (%.9g, class %d): %d classes, expected %d",
              i, (double)t, all[i].class_id, m, expect);
        int found = 0;
        for (int j = 0; j < m; j++) found |= got[j].class_id == all[i].class_id;
        CHECK(found, "class %d with probability exactly the threshold %.9g was dropped",
              all[i].class_id, (double)t);
        /* the next float above: that class (and its ties) no longer pass */
        int above = i;
        while (above > 0 && all[above - 1].score == t) above--;
        m = deit_top_k(logits, n, n, nextafterf(t, 2.0f), got);
        CHECK(m == above, "threshold just above rank %d: %d classes, expected %d", i, m, above);
    }
    /* k smaller than the number passing: still the k best */
    int m = deit_top_k(logits, n, 2, all[3].score, got);
    CHECK(m == 2 && got[0].class_id == all[0].class_id && got[1].class_id == all[1].class_id,
          "k=2 with 4 passing: %d classes", m);
    /* logits that are not numbers (damaged weights): no class, whatever the threshold */
    const float nan_logits[4] = { 0.5f, NAN, 1.0f, -2.0f }, inf_logits[3] = { 1.0f, INFINITY, 0.0f };
    m = deit_top_k(nan_logits, 4, 4, 0.0f, got);
    CHECK(m == 0, "a NaN logit: %d classes, expected none (every probability is NaN)", m);
    m = deit_top_k(inf_logits, 3, 3, 0.0f, got);
    CHECK(m == 0, "an infinite logit: %d classes, expected none", m);

    /* sigmoid (multi-label) and none: scores as transformers' pipeline computes them,
     * 1 / (1 + exp(-x)) and x itself, each class on its own */
    struct deit_class_score sig[8], raw[8], sm[8];
    m = deit_top_k_scores(logits, n, DEIT_SCORE_SIGMOID, n, 0.0f, sig);
    CHECK(m == n, "sigmoid, threshold 0: %d classes", m);
    for (int i = 0; i < m; i++) {
        double want = 1.0 / (1.0 + exp(-(double)logits[sig[i].class_id]));
        CHECK(fabs(sig[i].score - want) <= 1e-7, "sigmoid of class %d: %.9g, expected %.9g", sig[i].class_id,
              (double)sig[i].score, want);
        CHECK(sig[i].class_id == all[i].class_id, "sigmoid rank %d: class %d, softmax's order has %d", i,
              sig[i].class_id, all[i].class_id);
    }
    m = deit_top_k_scores(logits, n, DEIT_SCORE_SIGMOID, n, 0.5f, sig);
    CHECK(m == 6, "sigmoid >= 0.5: %d classes, expected the 6 with a positive logit", m);
    m = deit_top_k_scores(logits, n, DEIT_SCORE_NONE, n, -1.0f, raw);
    CHECK(m == 7, "none >= -1: %d classes, expected 7 (all but the -3 logit)", m);
    for (int i = 0; i < m; i++)
        CHECK(raw[i].score == logits[raw[i].class_id], "none: class %d score %.9g != logit", raw[i].class_id,
              (double)raw[i].score);
    m = deit_top_k_scores(logits, n, DEIT_SCORE_AUTO, n, 0.0f, sm);
    CHECK(m == n, "auto on plain logits: %d classes", m);
    for (int i = 0; i < m; i++)
        CHECK(sm[i].class_id == all[i].class_id && sm[i].score == all[i].score, "auto is not softmax at rank %d", i);
    /* -inf: under softmax too it is left out (not reported with probability 0) */
    const float minf_logits[3] = { 1.0f, -INFINITY, 0.0f };
    m = deit_top_k(minf_logits, 3, 3, 0.0f, got);
    CHECK(m == 2 && got[0].class_id == 0 && got[1].class_id == 2, "softmax with a -inf logit: %d classes, expected "
          "the 2 finite ones", m);
    /* a function outside the enum: nothing, not a division by zero */
    m = deit_top_k_scores(logits, n, (enum deit_score_function)(DEIT_SCORE_NONE + 1), n, 0.0f, got);
    CHECK(m == 0, "unknown score function: %d classes, expected none", m);
    /* multi-label: a damaged class does not hide the others */
    m = deit_top_k_scores(nan_logits, 4, DEIT_SCORE_SIGMOID, 4, 0.0f, got);
    CHECK(m == 3, "sigmoid with a NaN logit: %d classes, expected the 3 finite ones", m);
    m = deit_top_k_scores(inf_logits, 3, DEIT_SCORE_SIGMOID, 3, 0.0f, got);
    CHECK(m == 2, "sigmoid with an infinite logit: %d classes, expected the 2 finite ones", m);

    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok: a probability equal to the threshold is kept (%d thresholds)\n", n_all);
    return 0;
}
