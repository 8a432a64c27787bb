/* pptest-shim.c - a flat C interface to the core preprocessor for the Python tests
 * (ctypes), so one Python process can compare hundreds of cases against Pillow without
 * writing files. Only plain ints and pointers cross the boundary. */
#include "deit-resample.h"

#include <string.h>

#define SHIM __attribute__((visibility("default")))

SHIM void *pptest_new(const char *json, const char *default_type, int n_threads, char *errbuf, int errlen);
SHIM void  pptest_free(void *pp);
SHIM void  pptest_output_size(void *pp, int *h, int *w);
SHIM int   pptest_run(void *pp, int format, int width, int height, const uint8_t *d0, const uint8_t *d1,
                      const uint8_t *d2, int s0, int s1, int s2, int matrix, int full_range, int chroma_site,
                      const int *roi, float *out_f32, uint8_t *out_u8);
SHIM int   pptest_resize_ref(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih, int ch, int filter);
SHIM void  pptest_set_simd(int level);
SHIM int   pptest_config(const char *json, const char *default_type, int *ints, double *dbls, char *errbuf,
                         int errlen);

static void copy_err(const struct deit_error *e, char *errbuf, int errlen) {
    if (errbuf && errlen > 0) {
        strncpy(errbuf, e->message, (size_t)errlen - 1);
        errbuf[errlen - 1] = '\0';
    }
}

void *pptest_new(const char *json, const char *default_type, int n_threads, char *errbuf, int errlen) {
    struct deit_error err = {0};
    struct deit_preprocess_config cfg;
    enum deit_status st = json ? deit_preprocess_config_parse(json, strlen(json), default_type, &cfg, &err)
                               : (cfg = deit_preprocess_default_config(default_type), DEIT_STATUS_OK);
    if (st != DEIT_STATUS_OK) {
        copy_err(&err, errbuf, errlen);
        return NULL;
    }
    struct deit_preprocessor *pp = deit_preprocessor_new(&cfg, n_threads, &err);
    if (!pp) copy_err(&err, errbuf, errlen);
    return pp;
}

void pptest_free(void *pp) { deit_preprocessor_free(pp); }

void pptest_output_size(void *pp, int *h, int *w) { deit_preprocessor_output_size(pp, h, w); }

int pptest_run(void *pp, int format, int width, int height, const uint8_t *d0, const uint8_t *d1, const uint8_t *d2,
               int s0, int s1, int s2, int matrix, int full_range, int chroma_site, const int *roi, float *out_f32,
               uint8_t *out_u8) {
    struct deit_image img = {
        .format = (enum deit_pixel_format)format, .width = width, .height = height,
        .data = {d0, d1, d2}, .stride = {s0, s1, s2},
        .matrix = (enum deit_color_matrix)matrix, .full_range = full_range != 0,
        .chroma_site = (unsigned)chroma_site,
    };
    struct deit_rect r, *rp = NULL;
    if (roi) {
        r  = (struct deit_rect){roi[0], roi[1], roi[2], roi[3]};
        rp = &r;
    }
    if (out_u8) return deit_preprocess_u8(pp, &img, rp, out_u8);
    return deit_preprocess(pp, &img, rp, out_f32);
}

int pptest_resize_ref(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih, int ch, int filter) {
    return deit_resize_ref(out, ow, oh, in, iw, ih, ch, (enum deit_resample)filter);
}

void pptest_set_simd(int level) { deit_hpass_simd = level; }

/* ints: do_resize, resize_h, resize_w, shortest_edge, resample, do_center_crop, crop_h, crop_w,
 *       do_rescale, do_normalize, status; dbls: rescale_factor, mean[3], std[3] */
int pptest_config(const char *json, const char *default_type, int *ints, double *dbls, char *errbuf, int errlen) {
    struct deit_error err = {0};
    struct deit_preprocess_config c;
    enum deit_status st = deit_preprocess_config_parse(json, strlen(json), default_type, &c, &err);
    if (st != DEIT_STATUS_OK) {
        copy_err(&err, errbuf, errlen);
        return st;
    }
    int v[] = {c.do_resize, c.resize_height, c.resize_width, c.shortest_edge, (int)c.resample, c.do_center_crop,
               c.crop_height, c.crop_width, c.do_rescale, c.do_normalize};
    memcpy(ints, v, sizeof v);
    dbls[0] = c.rescale_factor;
    for (int i = 0; i < 3; i++) {
        dbls[1 + i] = c.image_mean[i];
        dbls[4 + i] = c.image_std[i];
    }
    return st;
}
