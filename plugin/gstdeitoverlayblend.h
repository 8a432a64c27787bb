/* gstdeitoverlayblend.h - deitoverlay's blending: premultiplied ARGB patches into a
 * video frame in its own format (8-bit RGB or YUV). */
#ifndef __GST_DEIT_OVERLAY_BLEND_H__
#define __GST_DEIT_OVERLAY_BLEND_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* One component of the frame covered by a patch, ready to blend (made by
 * gst_deit_overlay_patch_convert()). */
typedef struct
{
  gint comp;                    /* GST_VIDEO_COMP_* index in the frame's format */
  gint cx0, cy0, cw, ch;        /* covered samples, in the component's grid */
  gint32 *c;                    /* per sample: Q16 colour contribution, and */
  gint32 *inv;                  /* (255 - mean alpha) * 257; 65535: untouched */
} Converted;

/* A premultiplied ARGB32 image (cairo's native-endian layout) and where it goes in
 * the frame; the drawing of a frame is a list of these. */
typedef struct
{
  guint8 *data;
  gint stride;
  gint x, y, width, height;
  Converted conv[4];            /* the patch in the frame's format, made once */
  gint n_conv;
} Patch;

G_GNUC_INTERNAL
void gst_deit_overlay_patch_convert (Patch * p, const GstVideoInfo * info);

G_GNUC_INTERNAL
void gst_deit_overlay_patch_blend (const Patch * p, GstVideoFrame * f);

G_GNUC_INTERNAL
void gst_deit_overlay_patch_clear (gpointer data);

G_END_DECLS

#endif /* __GST_DEIT_OVERLAY_BLEND_H__ */
