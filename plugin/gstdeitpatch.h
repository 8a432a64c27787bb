/* gstdeitpatch.h - premultiplied ARGB patches for deitoverlay: drawn with cairo, then
 * converted once into a frame's own format (RGB, or YUV with the frame's matrix and range,
 * subsampled chroma averaged over its block) and blended "over" the frame by hand, so no
 * videoconvert is needed and pixels outside the patches are never written. Not installed.
 */
#ifndef __GST_DEIT_PATCH_H__
#define __GST_DEIT_PATCH_H__

#include <cairo.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* A premultiplied ARGB32 image (cairo's native-endian layout) and where it goes in
 * the frame; the drawing of a frame is a list of these. */
typedef struct
{
  gint comp;                    /* GST_VIDEO_COMP_* index in the frame's format */
  gint cx0, cy0, cw, ch;        /* covered samples, in the component's grid */
  gint32 *c;                    /* per sample: Q16 colour contribution, and */
  gint32 *inv;                  /* (255 - mean alpha) * 257; 65535: untouched */
} GstDeitPatchConv;

typedef struct
{
  guint8 *data;
  gint stride;
  gint x, y, width, height;
  GstDeitPatchConv conv[4];            /* the patch in the frame's format, made once */
  gint n_conv;
} GstDeitPatch;

/* A cairo context drawing into a new GstDeitPatch. */
typedef struct
{
  GstDeitPatch patch;
  cairo_surface_t *surface;
  cairo_t *cr;
} GstDeitCanvas;

void gst_deit_cairo_set_source_argb (cairo_t * cr, guint32 argb, gdouble alpha_scale);
/* A canvas of width x height for a new patch; FALSE (nothing allocated) when empty. */
gboolean gst_deit_canvas_init (GstDeitCanvas * c, gint width, gint height);
/* Finishes drawing and appends the canvas' patch to @patches, to go at (x, y). */
void gst_deit_canvas_finish (GstDeitCanvas * c, GArray * patches, gint x, gint y);
/* GArray clear function of a GstDeitPatch */
void gst_deit_patch_clear (gpointer data);
/* A solid rectangle in @argb, clipped to the frame. */
void gst_deit_patch_add_solid_rect (GArray * patches, guint32 argb, gint x,
    gint y, gint w, gint h, gint frame_w, gint frame_h);
/* Converts @p into the format of @info (once per patch and caps). */
void gst_deit_patch_convert (const GstVideoInfo * info, GstDeitPatch * p);
/* "over" of the converted patch into the frame. */
void gst_deit_patch_blend (GstVideoFrame * f, const GstDeitPatch * p);

G_END_DECLS

#endif /* __GST_DEIT_PATCH_H__ */
