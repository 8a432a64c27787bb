/* gstdeitclassifycaps.h - what deitclassify takes, and saying so when caps are refused. */
#ifndef __GST_DEIT_CLASSIFY_CAPS_H__
#define __GST_DEIT_CLASSIFY_CAPS_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

/* the formats the core reads (mapped in gstdeitclassifyframe.c) */
#define GST_DEIT_CLASSIFY_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, " \
    "BGRA, ARGB, ABGR, GRAY8, I420, NV12, YUY2 }"
/* the core takes 1..DEIT_MAX_IMAGE_DIM pixels per side */
#define GST_DEIT_CLASSIFY_MAX_DIM_STR G_STRINGIFY (DEIT_MAX_IMAGE_DIM)
#define GST_DEIT_CLASSIFY_CAPS "video/x-raw, format = (string) " \
    GST_DEIT_CLASSIFY_FORMATS ", " \
    "width = (int) [ 1, " GST_DEIT_CLASSIFY_MAX_DIM_STR " ], " \
    "height = (int) [ 1, " GST_DEIT_CLASSIFY_MAX_DIM_STR " ], " \
    "framerate = " GST_VIDEO_FPS_RANGE

G_GNUC_INTERNAL
gboolean gst_deit_classify_caps_set_info (GstDeitClassify * self,
    GstCaps * incaps, const GstVideoInfo * in_info);

G_GNUC_INTERNAL
void gst_deit_classify_caps_refused (GstDeitClassify * self,
    const gchar * what, GstCaps * caps);

G_GNUC_INTERNAL
void gst_deit_classify_caps_check_query (GstDeitClassify * self,
    GstQuery * query);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_CAPS_H__ */
