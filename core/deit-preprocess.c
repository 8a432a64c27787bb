/* deit-preprocess.c - frames -> model tensors exactly as
 * transformers' DeiTImageProcessor / ViTImageProcessor (Pillow path) compute them.
 *
 * Pipeline per frame (reference: transformers image_processing_deit.py / _vit.py,
 * image_transforms.py resize / center_crop / rescale / normalize; Pillow Resample.c):
 *   1. colour conversion to RGB (deit-yuv.c), row by row inside the horizontal pass;
 *   2. Pillow resize to size (or shortest_edge, aspect kept), uint8 result;
 *   3. center crop: top = (h - crop_h) // 2 (floor); an image smaller than the crop is
 *      zero-padded, top_pad = ceil((crop_h - h) / 2), exactly as center_crop does;
 *   4. rescale: (float)((double)u8 * rescale_factor);
 *   5. normalise in float32: (x - mean[c]) / std[c];
 *   6. channels-first float [3, H, W] written straight to the caller's buffer.
 * Only the resized pixels that survive the crop are computed (each output pixel of
 * Pillow's separable resize depends only on its own row and column weights, so this is
 * exact). Steps 4-5 depend only on (channel, u8 value): a 3 x 256 table holds them.
 *
 * Work is split in two parallel phases over the pool: horizontal pass (source rows), then
 * vertical pass (output rows).
 */
#include "deit-resample.h"
#include "deit-yuv.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Geometry plan: everything that depends only on the (ROI) input size, cached.
 */
struct pp_plan {
    int in_w, in_h;          /* input (ROI) size the plan is for; 0 = no plan */
    int rw, rh;              /* resized size */
    int i0, i1, j0, j1;      /* output rows / cols that come from the image (others: zero pad) */
    int tw;                  /* j1 - j0 */
    /* horizontal pass */
    int      sx0, sxn;       /* source columns [sx0, sx0 + sxn) are unpacked (ROI-relative) */
    int      kpad;           /* taps per output column, multiple of 8 */
    int     *hoff;           /* [tw] first tap, relative to sx0 */
    int16_t *kh, *kl;        /* [tw * kpad] weights split k = kh << 11 | kl */
    /* rows of the intermediate image */
    int  nrows;
    int *rowsrc;             /* [nrows] ROI-relative source row of intermediate row r */
    /* vertical pass: first[] indexes intermediate rows */
    struct deit_axis vax;
    /* buffers */
    uint8_t *tmp;            /* [3][nrows][tw] */
    size_t   tmp_plane;
    int16_t *unpack;         /* per thread [3][upad] */
    int      upad;
    int32_t *acc;            /* per thread [tw] int32 then [tw] uint8 */
    size_t   acc_stride;     /* bytes per thread */
};

struct deit_preprocessor {
    struct deit_preprocess_config cfg;
    struct deit_pool *pool;
    bool   own_pool;
    int    n_threads;
    int    out_h, out_w;
    float  lut[3][256];      /* rescale + normalise of each (channel, u8 value) */
    struct pp_plan plan;
};

static void plan_free(struct pp_plan *p) {
    free(p->hoff);
    free(p->kh);
    free(p->kl);
    free(p->rowsrc);
    deit_axis_free(&p->vax);
    free(p->tmp);
    free(p->unpack);
    free(p->acc);
    memset(p, 0, sizeof *p);
}

static int floor_div2(int a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

/* transformers get_resize_output_image_size(image, size=s, default_to_square=False):
 * short side -> s, long side -> int(s * long / short) (Python true division, truncated). */
static void shortest_edge_size(int w, int h, int s, int *rw, int *rh) {
    int shrt = w <= h ? w : h, lng = w <= h ? h : w;
    if (shrt == s) {
        *rw = w;
        *rh = h;
        return;
    }
    int new_long = (int)((double)((long long)s * lng) / (double)shrt);
    if (new_long < 1) new_long = 1;
    if (w <= h) {
        *rw = s;
        *rh = new_long;
    } else {
        *rw = new_long;
        *rh = s;
    }
}

/* The size config's resize gives a W x H image; INVALID_ARG beyond DEIT_MAX_IMAGE_DIM. */
static enum deit_status resized_size(const struct deit_preprocess_config *c, int W, int H, int *rw, int *rh,
                                     struct deit_error *err) {
    *rw = W;
    *rh = H;
    if (c->do_resize && c->shortest_edge > 0) {
        shortest_edge_size(W, H, c->shortest_edge, rw, rh);
    } else if (c->do_resize) {
        *rw = c->resize_width;
        *rh = c->resize_height;
    }
    if (*rw > DEIT_MAX_IMAGE_DIM || *rh > DEIT_MAX_IMAGE_DIM)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                              "a %dx%d input would be resized to %dx%d, larger than %d: crop it to a less extreme "
                              "aspect ratio first (videocrop, or a region)",
                              W, H, *rw, *rh, DEIT_MAX_IMAGE_DIM);
    return DEIT_STATUS_OK;
}

enum deit_status deit_preprocess_config_check_input(const struct deit_preprocess_config *config, int width,
                                                    int height, struct deit_error *err) {
    int rw, rh;
    if (!config || width < 1 || height < 1)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "no config, or an empty %dx%d input", width,
                              height);
    enum deit_status st = resized_size(config, width, height, &rw, &rh, err);
    if (st == DEIT_STATUS_OK) deit_error_clear(err);
    return st;
}

/* Horizontal taps of the needed output columns, split into int16 halves, padded to kpad. */
static enum deit_status plan_columns(struct pp_plan *p, int W, int left, enum deit_resample filter) {
    struct deit_axis hax;
    enum deit_status st = deit_axis_init(&hax, W, p->rw, left + p->j0, left + p->j1, filter);
    if (st) return st;
    int sx0 = W, sx1 = 0, maxc = 1;
    for (int j = 0; j < p->tw; j++) {
        if (hax.count[j] == 0) continue;
        if (hax.first[j] < sx0) sx0 = hax.first[j];
        if (hax.first[j] + hax.count[j] > sx1) sx1 = hax.first[j] + hax.count[j];
        if (hax.count[j] > maxc) maxc = hax.count[j];
    }
    if (sx1 <= sx0) sx0 = 0, sx1 = 1;
    p->sx0  = sx0;
    p->sxn  = sx1 - sx0;
    p->kpad = (maxc + 7) & ~7;
    p->upad = (p->sxn + p->kpad + 15) & ~15;   /* dot products read up to kpad past a tap start */
    size_t nk = (size_t)(p->tw > 0 ? p->tw : 1) * p->kpad;
    p->hoff = calloc((size_t)(p->tw > 0 ? p->tw : 1), sizeof(int));
    p->kh   = calloc(nk, sizeof(int16_t));
    p->kl   = calloc(nk, sizeof(int16_t));
    if (!p->hoff || !p->kh || !p->kl) st = DEIT_STATUS_ERROR_NO_MEMORY;
    for (int j = 0; j < p->tw && !st; j++) {
        p->hoff[j] = hax.count[j] ? hax.first[j] - sx0 : 0;
        for (int t = 0; t < hax.count[j]; t++) {
            int32_t k  = hax.k[(size_t)j * hax.ksize + t];
            int32_t hi = k >> DEIT_RS_KSPLIT;   /* floor; kl = k - hi * 2^11 in [0, 2^11) */
            if (hi < INT16_MIN || hi > INT16_MAX) st = DEIT_STATUS_ERROR_INVALID_ARG;   /* |w| >= 2^4: no filter */
            p->kh[(size_t)j * p->kpad + t] = (int16_t)hi;
            p->kl[(size_t)j * p->kpad + t] = (int16_t)(k & ((1 << DEIT_RS_KSPLIT) - 1));
        }
    }
    deit_axis_free(&hax);
    return st;
}

/* Vertical taps of the needed output rows, and which source rows the horizontal pass
 * must produce: a contiguous range for filters, one row per output row for pick axes
 * (identity, NEAREST) so that skipped rows are never touched. */
static enum deit_status plan_rows(struct pp_plan *p, int H, int top, enum deit_resample filter) {
    int th = p->i1 - p->i0;
    enum deit_status st = deit_axis_init(&p->vax, H, p->rh, top + p->i0, top + p->i1, filter);
    if (st) return st;
    int y0 = 0, y1 = th;
    if (!p->vax.pick) {
        y0 = H;
        y1 = 0;
        for (int i = 0; i < th; i++) {
            if (p->vax.first[i] < y0) y0 = p->vax.first[i];
            if (p->vax.first[i] + p->vax.count[i] > y1) y1 = p->vax.first[i] + p->vax.count[i];
        }
        if (y1 <= y0) y0 = y1 = 0;
    }
    p->nrows  = y1 - y0;
    p->rowsrc = malloc(sizeof(int) * (size_t)(p->nrows > 0 ? p->nrows : 1));
    if (!p->rowsrc) return DEIT_STATUS_ERROR_NO_MEMORY;
    for (int r = 0; r < p->nrows; r++) p->rowsrc[r] = p->vax.pick ? p->vax.first[r] : y0 + r;
    for (int i = 0; i < th; i++) p->vax.first[i] = p->vax.pick ? i : p->vax.first[i] - y0;
    return DEIT_STATUS_OK;
}

static enum deit_status plan_build(struct deit_preprocessor *pp, int W, int H, struct deit_error *err) {
    struct pp_plan *p = &pp->plan;
    const struct deit_preprocess_config *c = &pp->cfg;
    plan_free(p);
    int rw, rh;
    enum deit_status cst = resized_size(c, W, H, &rw, &rh, err);
    if (cst != DEIT_STATUS_OK) return cst;
    int oh = pp->out_h, ow = pp->out_w;
    int top  = c->do_center_crop ? floor_div2(rh - oh) : 0;   /* (h - crop_h) // 2; < 0: zero padding */
    int left = c->do_center_crop ? floor_div2(rw - ow) : 0;
    p->rw = rw;
    p->rh = rh;
    p->i0 = top < 0 ? -top : 0;
    p->i1 = rh - top < oh ? rh - top : oh;
    p->j0 = left < 0 ? -left : 0;
    p->j1 = rw - left < ow ? rw - left : ow;
    p->tw = p->j1 - p->j0;
    enum deit_status st = plan_columns(p, W, left, c->resample);
    if (!st) st = plan_rows(p, H, top, c->resample);
    if (!st) {
        p->tmp_plane  = (size_t)p->nrows * p->tw;
        p->tmp        = malloc(3 * p->tmp_plane + 64);
        p->unpack     = calloc((size_t)pp->n_threads * 3 * p->upad, sizeof(int16_t));
        p->acc_stride = ((size_t)p->tw * 5 + 63) & ~(size_t)63;   /* int32 acc[tw] + uint8 row[tw] */
        p->acc        = malloc((size_t)pp->n_threads * p->acc_stride + 64);
        if (!p->tmp || !p->unpack || !p->acc) st = DEIT_STATUS_ERROR_NO_MEMORY;
    }
    if (st) {
        plan_free(p);
        return deit_set_error(err, st, "cannot prepare the %dx%d -> %dx%d resize (%s)", W, H, rw, rh,
                              deit_status_to_string(st));
    }
    p->in_w = W;
    p->in_h = H;
    return DEIT_STATUS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Preprocessor
 */
static void build_lut(struct deit_preprocessor *pp) {
    const struct deit_preprocess_config *c = &pp->cfg;
    for (int ch = 0; ch < 3; ch++) {
        for (int v = 0; v < 256; v++) {
            /* image_transforms.rescale: float64 multiply, then astype(float32) */
            float x = c->do_rescale ? (float)((double)v * c->rescale_factor) : (float)v;
            /* image_transforms.normalize: float32 (x - mean) / std */
            if (c->do_normalize) {
                volatile float d = x - c->image_mean[ch];  /* two float32 roundings, no fusion */
                x = d / c->image_std[ch];
            }
            pp->lut[ch][v] = x;
        }
    }
}

struct deit_preprocessor *deit_preprocessor_new_with_pool(const struct deit_preprocess_config *config,
                                                          struct deit_pool *pool, struct deit_error *err) {
    if (!config) {
        deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "config must not be NULL");
        return NULL;
    }
    int oh, ow;
    if (deit_preprocess_config_output_size(config, &oh, &ow, err) != DEIT_STATUS_OK) return NULL;
    struct deit_preprocessor *pp = calloc(1, sizeof *pp);
    if (!pp) {
        deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY, "out of memory");
        return NULL;
    }
    pp->cfg       = *config;
    pp->pool      = pool;
    pp->n_threads = deit_pool_size(pool);
    pp->out_h     = oh;
    pp->out_w     = ow;
    build_lut(pp);
    deit_error_clear(err);
    return pp;
}

struct deit_preprocessor *deit_preprocessor_new(const struct deit_preprocess_config *config, int n_threads,
                                                struct deit_error *err) {
    struct deit_pool *pool = NULL;
    if (n_threads <= 0) n_threads = deit_default_threads();
    if (n_threads > 1) {
        pool = deit_pool_new(n_threads, -1, DEIT_AFFINITY_NONE);
        if (!pool) {
            deit_set_error(err, DEIT_STATUS_ERROR_THREAD, "could not start %d preprocessing threads", n_threads);
            return NULL;
        }
    }
    struct deit_preprocessor *pp = deit_preprocessor_new_with_pool(config, pool, err);
    if (!pp) {
        deit_pool_free(pool);
        return NULL;
    }
    pp->own_pool = pool != NULL;
    return pp;
}

void deit_preprocessor_free(struct deit_preprocessor *pp) {
    if (!pp) return;
    plan_free(&pp->plan);
    if (pp->own_pool) deit_pool_free(pp->pool);
    free(pp);
}

void deit_preprocessor_output_size(const struct deit_preprocessor *pp, int *out_height, int *out_width) {
    if (out_height) *out_height = pp ? pp->out_h : 0;
    if (out_width) *out_width = pp ? pp->out_w : 0;
}

/* ---------------------------------------------------------------------------------------
 * Running
 */
static enum deit_status check_image(const struct deit_image *img, struct deit_error *err) {
    if ((unsigned)img->format >= DEIT_PIXEL_FORMAT_COUNT)
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                              "pixel format %d is not supported (see enum deit_pixel_format)", (int)img->format);
    if (img->width < 1 || img->height < 1 || img->width > DEIT_MAX_IMAGE_DIM || img->height > DEIT_MAX_IMAGE_DIM)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "image size %dx%d is out of range 1..%d",
                              img->width, img->height, DEIT_MAX_IMAGE_DIM);
    int planes = 1;
    long row[3] = {0, 0, 0};
    switch (img->format) {
    case DEIT_PIXEL_FORMAT_RGB:
    case DEIT_PIXEL_FORMAT_BGR: row[0] = 3L * img->width; break;
    case DEIT_PIXEL_FORMAT_GRAY8: row[0] = img->width; break;
    case DEIT_PIXEL_FORMAT_I420:
        planes = 3;
        row[0] = img->width;
        row[1] = row[2] = (img->width + 1) / 2;
        break;
    case DEIT_PIXEL_FORMAT_NV12:
        planes = 2;
        row[0] = img->width;
        row[1] = 2L * ((img->width + 1) / 2);
        break;
    case DEIT_PIXEL_FORMAT_YUY2: row[0] = 4L * ((img->width + 1) / 2); break;
    default: row[0] = 4L * img->width; break;
    }
    for (int p = 0; p < planes; p++) {
        if (!img->data[p])
            return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "image plane %d pointer is NULL", p);
        if (labs((long)img->stride[p]) < row[p])
            return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                                  "image plane %d stride %d is smaller than a row (%ld bytes)", p, img->stride[p],
                                  row[p]);
    }
    if (img->format >= DEIT_PIXEL_FORMAT_I420 && (unsigned)img->matrix > DEIT_COLOR_MATRIX_FCC)
        return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT, "colour matrix %d is not supported",
                              (int)img->matrix);
    return DEIT_STATUS_OK;
}

static enum deit_status resolve_roi(const struct deit_image *img, const struct deit_rect *roi, struct deit_rect *r,
                                    struct deit_error *err) {
    *r = (struct deit_rect){0, 0, img->width, img->height};
    if (!roi) return DEIT_STATUS_OK;
    if (roi->width < 1 || roi->height < 1)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "roi %dx%d is empty", roi->width, roi->height);
    long x0 = roi->x, y0 = roi->y, x1 = (long)roi->x + roi->width, y1 = (long)roi->y + roi->height;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    if (x1 <= x0 || y1 <= y0)
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG,
                              "roi (%d,%d %dx%d) does not intersect the %dx%d image", roi->x, roi->y, roi->width,
                              roi->height, img->width, img->height);
    if (x0 != roi->x || y0 != roi->y || x1 - x0 != roi->width || y1 - y0 != roi->height)
        DEIT_LOG_DEBUG("roi (%d,%d %dx%d) clipped to the image: (%ld,%ld %ldx%ld)", roi->x, roi->y, roi->width,
                       roi->height, x0, y0, x1 - x0, y1 - y0);
    *r = (struct deit_rect){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
    return DEIT_STATUS_OK;
}

struct run_ctx {
    struct deit_preprocessor *pp;
    const struct deit_image  *img;
    struct deit_rect          roi;
    struct deit_yuv_matrix    yuv;
    int                       nplanes;
    float                    *out;      /* float tensor, or */
    uint8_t                  *out_u8;   /* interleaved RGB */
};

static void hpass_worker(void *arg, int ti, int nt) {
    struct run_ctx *ctx = arg;
    struct pp_plan *p   = &ctx->pp->plan;
    int r0, r1;
    deit_pool_split(p->nrows, 1, ti, nt, &r0, &r1);
    int16_t *ub = p->unpack + (size_t)ti * 3 * p->upad;
    int16_t *const planes[3] = {ub, ub + p->upad, ub + 2 * (size_t)p->upad};
    const int16_t *const cplanes[3] = {planes[0], planes[1], planes[2]};
    for (int r = r0; r < r1; r++) {
        deit_unpack_row(ctx->img, &ctx->yuv, ctx->roi.y + p->rowsrc[r], ctx->roi.x + p->sx0, p->sxn, planes);
        uint8_t *const dst[3] = {p->tmp + (size_t)r * p->tw, p->tmp + p->tmp_plane + (size_t)r * p->tw,
                                 p->tmp + 2 * p->tmp_plane + (size_t)r * p->tw};
        deit_hpass_row(dst, cplanes, ctx->nplanes, p->tw, p->hoff, p->kh, p->kl, p->kpad);
    }
}

static void vpass_worker(void *arg, int ti, int nt) {
    struct run_ctx *ctx = arg;
    struct deit_preprocessor *pp = ctx->pp;
    struct pp_plan *p = &pp->plan;
    int th = p->i1 - p->i0, a, b;
    deit_pool_split(th, 1, ti, nt, &a, &b);
    int32_t *acc = (int32_t *)((uint8_t *)p->acc + (size_t)ti * p->acc_stride);
    uint8_t *row[3];
    row[0] = (uint8_t *)(acc + p->tw);
    size_t plane = (size_t)pp->out_h * pp->out_w;
    for (int i = a; i < b; i++) {
        const int32_t *k = p->vax.k + (size_t)i * p->vax.ksize;
        int oi = p->i0 + i;
        for (int c = 0; c < 3; c++) {
            int pl = ctx->nplanes == 1 ? 0 : c;
            if (c == 0 || ctx->nplanes == 3) {
                deit_vpass_row(row[0], p->tmp + pl * p->tmp_plane + (size_t)p->vax.first[i] * p->tw, (size_t)p->tw,
                               k, p->vax.count[i], p->tw, acc);
            }
            if (ctx->out) {
                float       *o   = ctx->out + c * plane + (size_t)oi * pp->out_w + p->j0;
                const float *lut = pp->lut[c];
                for (int j = 0; j < p->tw; j++) o[j] = lut[row[0][j]];
            } else {
                uint8_t *o = ctx->out_u8 + ((size_t)oi * pp->out_w + p->j0) * 3 + c;
                for (int j = 0; j < p->tw; j++) o[3 * j] = row[0][j];
            }
        }
    }
}

/* parallel only when the frame is large enough to amortise waking the workers */
static void run_phase(struct deit_preprocessor *pp, deit_pool_fn fn, struct run_ctx *ctx, size_t work) {
    if (pp->n_threads > 1 && work >= 65536) deit_pool_run(pp->pool, fn, ctx);
    else fn(ctx, 0, 1);
}

static enum deit_status run(struct deit_preprocessor *pp, const struct deit_image *image, const struct deit_rect *roi,
                            float *out, uint8_t *out_u8, struct deit_error *err) {
    if (!pp || !image || (!out && !out_u8))
        return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "preprocessor, image and output must not be NULL");
    enum deit_status st;
    struct run_ctx ctx = {.pp = pp, .img = image, .out = out, .out_u8 = out_u8};
    if ((st = check_image(image, err))) return st;
    if ((st = resolve_roi(image, roi, &ctx.roi, err))) return st;
    struct pp_plan *p = &pp->plan;
    if (p->in_w != ctx.roi.width || p->in_h != ctx.roi.height) {
        if ((st = plan_build(pp, ctx.roi.width, ctx.roi.height, err))) return st;
    }
    ctx.nplanes = deit_format_planes(image->format);
    if (image->format >= DEIT_PIXEL_FORMAT_I420) deit_yuv_matrix_init(&ctx.yuv, image->matrix, image->full_range);

    /* zero padding where the image is smaller than the crop (center_crop pads with 0) */
    int oh = pp->out_h, ow = pp->out_w;
    if (p->i0 > 0 || p->i1 < oh || p->j0 > 0 || p->j1 < ow) {
        if (out) {
            for (int c = 0; c < 3; c++)
                for (size_t i = 0; i < (size_t)oh * ow; i++) out[c * (size_t)oh * ow + i] = pp->lut[c][0];
        } else {
            memset(out_u8, 0, (size_t)oh * ow * 3);
        }
    }
    if (p->tw <= 0 || p->i1 <= p->i0) return DEIT_STATUS_OK;
    run_phase(pp, hpass_worker, &ctx, (size_t)p->nrows * p->sxn);
    run_phase(pp, vpass_worker, &ctx, (size_t)(p->i1 - p->i0) * p->tw * 8);
    return DEIT_STATUS_OK;
}

enum deit_status deit_preprocess(struct deit_preprocessor *pp, const struct deit_image *image,
                                 const struct deit_rect *roi, float *out) {
    if (!out) return deit_set_error(NULL, DEIT_STATUS_ERROR_INVALID_ARG, "out must not be NULL");
    return run(pp, image, roi, out, NULL, NULL);
}

enum deit_status deit_preprocess_into(struct deit_preprocessor *pp, const struct deit_image *image,
                                      const struct deit_rect *roi, float *out, struct deit_error *err) {
    if (!out) return deit_set_error(err, DEIT_STATUS_ERROR_INVALID_ARG, "out must not be NULL");
    return run(pp, image, roi, out, NULL, err);
}

enum deit_status deit_preprocess_u8(struct deit_preprocessor *pp, const struct deit_image *image,
                                    const struct deit_rect *roi, uint8_t *out_rgb) {
    if (!out_rgb) return deit_set_error(NULL, DEIT_STATUS_ERROR_INVALID_ARG, "out_rgb must not be NULL");
    return run(pp, image, roi, NULL, out_rgb, NULL);
}
