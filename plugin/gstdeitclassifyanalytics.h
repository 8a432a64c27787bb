/* gstdeitclassifyanalytics.h - deitclassify's results as GstAnalytics metadata
 * (gstreamer-analytics-1.0 >= 1.24; compiled only with -Danalytics, HAVE_GST_ANALYTICS).
 *
 *  - a classification (full frame or region) becomes one GstAnalyticsClsMtd on the
 *    frame's GstAnalyticsRelationMeta: the top-k, label quarks and confidences (scores);
 *  - in roi-list mode the GstAnalyticsODMtd detections of the frame are regions too
 *    (same object-class and size filters; the OD type quark is the class); a box that
 *    an ROI meta already describes is classified once;
 *  - a region's ClsMtd is related to its ODMtd as upstream's consumers read it
 *    (objectdetectionoverlay: od -RELATE_TO-> cls), and cls -IS_PART_OF-> od; a region
 *    from an ROI meta only gets an ODMtd of the ROI meta's rectangle (unclipped; type:
 *    the ROI type) first.
 */
#ifndef __GST_DEIT_CLASSIFY_ANALYTICS_H__
#define __GST_DEIT_CLASSIFY_ANALYTICS_H__

#include <gst/gst.h>
#include "gstdeitclassifyregions.h"

G_BEGIN_DECLS

/* Adds one GstAnalyticsClsMtd with @res (n > 0) to @buf's relation meta (made if
 * missing); returns its id, or -1 (n == 0, or failure). @buf must be writable. */
G_GNUC_INTERNAL
gint gst_deit_analytics_add_cls (GstBuffer * buf,
    const GstDeitClassification * res, guint n);

/* The region's result: a ClsMtd related to the region's ODMtd (added for a region
 * that has none). */
G_GNUC_INTERNAL
void gst_deit_analytics_add_region (GstBuffer * buf, GstDeitRegion * r,
    const GstDeitClassification * res, guint n);

/* Appends to @regions the ODMtd boxes of @buf that pass @filter, clipped like ROI
 * metas; a box equal (after clipping) to one already in @regions is not appended, the
 * existing region is linked to the ODMtd instead (and takes the detection's tracking
 * identity when its ROI meta gives none); boxes sharing a tracking identity are
 * untracked. Returns how many were appended. */
G_GNUC_INTERNAL
guint gst_deit_analytics_collect (GstBuffer * buf, gint frame_width,
    gint frame_height, const GstDeitRegionFilter * filter, GArray * regions);

/* For deitoverlay and deitjsonenc, on a frame that has no GstDeitClassifyMeta: adds to
 * @dest one GstDeitClassifyMeta per GstAnalyticsClsMtd of @src (another classifier's
 * results, or ours past an element that dropped our meta): a ClsMtd related to an
 * ODMtd (od -RELATE_TO-> cls) is a region (roi_id: the ODMtd id, its box clipped to
 * @frame_w x @frame_h; 0 x 0: not clipped), any other one the full-frame result
 * (roi_id -1). Class ids are -1 (a ClsMtd has labels only), the model name
 * "analytics", fresh TRUE, the inference PTS @dest's PTS. Returns how many metas were
 * added. */
G_GNUC_INTERNAL
guint gst_deit_analytics_to_metas (GstBuffer * src, GstBuffer * dest,
    gint frame_w, gint frame_h, guint64 frame_number);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_ANALYTICS_H__ */
