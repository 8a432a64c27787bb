/* gstdeitoverlay.h - draws GstDeitClassifyMeta results on video frames.
 *
 * Full-frame results become a panel in one corner (top-k labels with probability
 * bars and percentages); results of regions of interest become a box with a label.
 * Text is rendered with Pango/Cairo into small premultiplied ARGB patches that the
 * element blends into the frame by hand, in the frame's own format (8-bit RGB or YUV:
 * patch colours converted with the frame's matrix and range, chroma averaged over its
 * subsampling block; see gstdeitoverlayblend.c). No GstVideoOverlayComposition is
 * involved and pixels outside the patches are not written.
 */
#ifndef __GST_DEIT_OVERLAY_H__
#define __GST_DEIT_OVERLAY_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_DEIT_OVERLAY (gst_deit_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstDeitOverlay, gst_deit_overlay, GST, DEIT_OVERLAY,
    GstVideoFilter)

/**
 * GstDeitOverlayCorner:
 * @GST_DEIT_OVERLAY_CORNER_TOP_LEFT: panel in the top-left corner
 * @GST_DEIT_OVERLAY_CORNER_TOP_RIGHT: panel in the top-right corner
 * @GST_DEIT_OVERLAY_CORNER_BOTTOM_LEFT: panel in the bottom-left corner
 * @GST_DEIT_OVERLAY_CORNER_BOTTOM_RIGHT: panel in the bottom-right corner
 *
 * Where the panel with the full-frame results is drawn.
 */
typedef enum
{
  GST_DEIT_OVERLAY_CORNER_TOP_LEFT,
  GST_DEIT_OVERLAY_CORNER_TOP_RIGHT,
  GST_DEIT_OVERLAY_CORNER_BOTTOM_LEFT,
  GST_DEIT_OVERLAY_CORNER_BOTTOM_RIGHT,
} GstDeitOverlayCorner;

#define GST_TYPE_DEIT_OVERLAY_CORNER (gst_deit_overlay_corner_get_type ())
GType gst_deit_overlay_corner_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (deitoverlay);

G_END_DECLS

#endif /* __GST_DEIT_OVERLAY_H__ */
