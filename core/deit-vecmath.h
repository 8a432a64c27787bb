/* deit-vecmath.h - exp, erf and GELU of a vector of floats, written once and compiled once
 * per instruction set: deit-layers.c includes this file for AVX2 (8 lanes) and AVX-512 (16
 * lanes) after defining
 *
 *   VM_SFX          suffix of the functions defined here (8_avx2 -> exp8_avx2, erf8_avx2, ...)
 *   VM_TARGET       function attribute (__attribute__((target("..."))))
 *   VF, VI          the float and int32 vector types
 *   VF_SET1(x)      VF_ADD(a, b) VF_MUL(a, b) VF_DIV(a, b) VF_MIN(a, b) VF_MAX(a, b)
 *                   (min / max return b when a lane of either is NaN)
 *   VF_FMADD(a, b, c)  a * b + c;  VF_FNMADD(a, b, c)  c - a * b  (one rounding each)
 *   VF_ROUND(x)     to the nearest integer, ties to even;  VF_AND VF_OR VF_ANDNOT(a, b) (~a & b)
 *   VF_SELECT_GE(x, t, a, b)  lane-wise x >= t (ordered) ? a : b
 *   VI_CVT(x)       float to int32, rounding to nearest;  VI_ADD(a, b) VI_SET1(i)
 *   VI_SLLI(x, n)   shift left;  VI_MAX0(x)  max(x, 0);  VF_FROM_BITS(i)  reinterpret
 *
 * (this file #undefs them all at its end). Every lane goes through the same operations in
 * the same order on every set, so the AVX2 and AVX-512 kernels give the same bits
 * (tests/core/test-attention-packed.c compares them).
 */

#define VM_CAT_(a, b) a##b
#define VM_CAT(a, b)  VM_CAT_(a, b)
#define VM_FN(name)   VM_CAT(name, VM_SFX)

/* exp(x), Cephes expf: x = n ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n
 * through the exponent bits. Max relative error ~2 ulp over the float range; x below -87.3
 * gives 0 (so exp(-inf) = 0), above 88.4 gives the clamp value. */
static inline VM_TARGET VF VM_FN(exp)(VF x) {
    /* constant first: min / max return their second operand when one is NaN, so NaN stays
     * NaN (and a softmax row with a NaN becomes NaN, as in PyTorch) */
    x    = VF_MIN(VF_SET1(88.3762626647949f), x);
    x    = VF_MAX(VF_SET1(-88.3762626647949f), x);
    VF n = VF_ROUND(VF_MUL(x, VF_SET1(1.44269504088896341f)));
    VF r = VF_FNMADD(n, VF_SET1(0.693359375f), x);
    r    = VF_FNMADD(n, VF_SET1(-2.12194440e-4f), r);
    VF y = VF_SET1(1.9875691500e-4f);
    y    = VF_FMADD(y, r, VF_SET1(1.3981999507e-3f));
    y    = VF_FMADD(y, r, VF_SET1(8.3334519073e-3f));
    y    = VF_FMADD(y, r, VF_SET1(4.1665795894e-2f));
    y    = VF_FMADD(y, r, VF_SET1(1.6666665459e-1f));
    y    = VF_FMADD(y, r, VF_SET1(5.0000001201e-1f));
    y    = VF_FMADD(y, VF_MUL(r, r), VF_ADD(r, VF_SET1(1.0f)));
    /* 2^n; n = -128 (x clamped low) makes the exponent field 0 -> scale 0 */
    VI e = VI_SLLI(VI_ADD(VI_CVT(n), VI_SET1(127)), 23);
    e    = VI_MAX0(e);
    return VF_MUL(y, VF_FROM_BITS(e));
}

/* erf: the odd/even rational function x P(x^2) / Q(x^2) that Eigen and XLA use for float
 * erf (degree 13 over 8), about half the instructions of the Abramowitz & Stegun 7.1.26
 * form PyTorch's vectorised erf evaluates: no exp, one division (GELU was 4 % of DeiT-tiny's
 * forward pass with A&S). The rational is least accurate towards its clamp at |x| = 4,
 * where GELU multiplies the error by x / 2, so from |x| >= ERF_ONE on the result is +-1,
 * which erf(x) rounds to in float within 6e-8. Max |error| on a dense grid of [-10, 10]:
 * erf 3.8e-7, GELU 1.0e-6 at |x| ~ 3.8 (A&S: 5.6e-7, 4.7e-7). The operand order of min /
 * max lets NaN through (they return the second operand when one is NaN). */
#ifndef ERF_ONE
#define ERF_ONE 3.8325f
#endif
static inline VM_TARGET VF VM_FN(erf)(VF x) {
    const VF one  = VF_SET1(1.0f);
    const VF sign = VF_AND(x, VF_SET1(-0.0f));
    const VF ax   = VF_ANDNOT(VF_SET1(-0.0f), x);
    x             = VF_MAX(VF_SET1(-4.0f), VF_MIN(VF_SET1(4.0f), x));
    const VF x2   = VF_MUL(x, x);
    VF       p    = VF_FMADD(x2, VF_SET1(-2.72614225801306e-10f), VF_SET1(2.77068142495902e-08f));
    p             = VF_FMADD(x2, p, VF_SET1(-2.10102402082508e-06f));
    p             = VF_FMADD(x2, p, VF_SET1(-5.69250639462346e-05f));
    p             = VF_FMADD(x2, p, VF_SET1(-7.34990630326855e-04f));
    p             = VF_FMADD(x2, p, VF_SET1(-2.95459980854025e-03f));
    p             = VF_FMADD(x2, p, VF_SET1(-1.60960333262415e-02f));
    VF q          = VF_FMADD(x2, VF_SET1(-1.45660718464996e-05f), VF_SET1(-2.13374055278905e-04f));
    q             = VF_FMADD(x2, q, VF_SET1(-1.68282697438203e-03f));
    q             = VF_FMADD(x2, q, VF_SET1(-7.37332916720468e-03f));
    q             = VF_FMADD(x2, q, VF_SET1(-1.42647390514189e-02f));
    return VF_SELECT_GE(ax, VF_SET1(ERF_ONE), VF_OR(one, sign), VF_DIV(VF_MUL(x, p), q));
}

/* GELU, erf form: 0.5 v (1 + erf(v / sqrt 2)) */
static inline VM_TARGET VF VM_FN(gelu)(VF v) {
    const VF e = VM_FN(erf)(VF_MUL(v, VF_SET1((float)M_SQRT1_2)));
    return VF_MUL(VF_MUL(VF_SET1(0.5f), v), VF_ADD(VF_SET1(1.0f), e));
}

#undef VM_FN
#undef VM_CAT
#undef VM_CAT_
#undef VM_SFX
#undef VM_TARGET
#undef VF
#undef VI
#undef VF_SET1
#undef VF_ADD
#undef VF_MUL
#undef VF_DIV
#undef VF_MIN
#undef VF_MAX
#undef VF_FMADD
#undef VF_FNMADD
#undef VF_ROUND
#undef VF_AND
#undef VF_OR
#undef VF_ANDNOT
#undef VF_SELECT_GE
#undef VI_CVT
#undef VI_ADD
#undef VI_SET1
#undef VI_SLLI
#undef VI_MAX0
#undef VF_FROM_BITS
