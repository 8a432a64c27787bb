/* deit-yuv.h - source rows of every supported pixel format to planar int16 RGB, with
 * GStreamer videoconvert's YUV -> RGB arithmetic (deit-yuv.c). Not installed.
 */
#ifndef DEIT_YUV_H
#define DEIT_YUV_H

#include "deit-internal.h"

/* YUV -> RGB coefficients of GStreamer videoconvert's 8-bit AYUV -> RGB routine (deit-yuv.c). */
struct deit_yuv_matrix {
    int16_t cy, crv, cbu, cgu, cgv;  /* im[0][0], im[0][2], im[2][1], im[1][1], im[1][2] */
};
void deit_yuv_matrix_init(struct deit_yuv_matrix *m, enum deit_color_matrix matrix, bool full_range);

/* Unpack source row y (absolute coordinates in the image), columns [x0, x0 + n), to planar
 * int16 R, G, B (dst[0..2]) or, for GRAY8, to dst[0] only. */
void deit_unpack_row(const struct deit_image *img, const struct deit_yuv_matrix *m, int y, int x0, int n,
                     int16_t *const dst[3]);

/* Number of planes the unpacker writes: 1 for GRAY8 (R = G = B), else 3. */
static inline int deit_format_planes(enum deit_pixel_format f) { return f == DEIT_PIXEL_FORMAT_GRAY8 ? 1 : 3; }

#endif /* DEIT_YUV_H */
