/* gstdeitoverlaydraw.h - what deitoverlay draws for a frame: the panel of the full-frame
 * result and a labelled box per region, as patches (gstdeitpatch.h), from the metas on
 * the buffer and a snapshot of the element's properties. Not installed.
 */
#ifndef __GST_DEIT_OVERLAY_DRAW_H__
#define __GST_DEIT_OVERLAY_DRAW_H__

#include <pango/pangocairo.h>

#include "gstdeitoverlay.h"
#include "gstdeitpatch.h"

G_BEGIN_DECLS

#define GST_DEIT_OVERLAY_DEFAULT_FONT "Sans Bold"

/* A copy of the properties taken once per frame, so drawing runs without the lock. */
typedef struct
{
  GstDeitOverlayCorner corner;
  gchar *font_desc;
  guint max_results;
  gboolean show_scores;
  gboolean show_stale;
  guint32 text_color;
  guint32 background_color;
  guint32 box_color;
  guint cookie;
} GstDeitDrawSettings;

/* A string naming everything that would be drawn on this frame, or NULL when nothing
 * is: equal keys give equal drawings, so the patches can be reused. */
gchar *gst_deit_overlay_make_key (GstBuffer * buf, const GstDeitDrawSettings * s,
    gint frame_w, gint frame_h);
/* Draws the results on @buf as patches appended to @patches: boxes, then the panel. */
void gst_deit_overlay_build_patches (PangoContext * ctx, GstBuffer * buf,
    const GstDeitDrawSettings * s, gint frame_w, gint frame_h, GArray * patches);

G_END_DECLS

#endif /* __GST_DEIT_OVERLAY_DRAW_H__ */
