/* gstdeitclassifyanalytics.c - deitclassify's results as GstAnalytics metadata, and the
 * GstAnalyticsODMtd detections of 1.24+ detectors as roi-list regions. Compiled only
 * with -Danalytics (gstreamer-analytics-1.0 >= 1.24). See gstdeitclassifyanalytics.h.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifyanalytics.h"
#include "gstdeitclassifymeta.h"

#include <gst/analytics/analytics.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (deit_classify_debug);
#define GST_CAT_DEFAULT deit_classify_debug

static GstAnalyticsRelationMeta *
gst_deit_analytics_relation_meta (GstBuffer * buf)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (buf);

  if (!rmeta)
    rmeta = gst_buffer_add_analytics_relation_meta (buf);
  return rmeta;
}

gint
gst_deit_analytics_add_cls (GstBuffer * buf, const GstDeitClassification * res,
    guint n)
{
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsClsMtd cls;
  gfloat *levels;
  GQuark *quarks;
  gboolean ok;
  guint i;

  if (n == 0 || !(rmeta = gst_deit_analytics_relation_meta (buf)))
    return -1;
  levels = g_new (gfloat, n);
  quarks = g_new (GQuark, n);
  for (i = 0; i < n; i++) {
    levels[i] = res[i].score;
    quarks[i] = g_quark_from_string (res[i].label ? res[i].label : "");
  }
  ok = gst_analytics_relation_meta_add_cls_mtd (rmeta, n, levels, quarks, &cls);
  g_free (levels);
  g_free (quarks);
  if (!ok) {
    GST_WARNING ("could not add a GstAnalyticsClsMtd");
    return -1;
  }
  return (gint) cls.id;
}

void
gst_deit_analytics_add_region (GstBuffer * buf, GstDeitRegion * r,
    const GstDeitClassification * res, guint n)
{
  GstAnalyticsRelationMeta *rmeta;
  gint cls_id = gst_deit_analytics_add_cls (buf, res, n);

  if (cls_id < 0 || !(rmeta = gst_buffer_get_analytics_relation_meta (buf)))
    return;
  if (!r->has_od) {
    GstAnalyticsODMtd od;
    gint x = r->x, y = r->y, w = r->width, h = r->height;

    /* an ROI meta's box: described as a detection too, so OD consumers
     * (objectdetectionoverlay) show the region's class. The ROI meta's own
     * rectangle, not the clipped one: a scaler moves both alike, so that a
     * deitclassify further down finds them equal (after its clipping) and
     * classifies the box once; a clipped box scaled is not the scaled box
     * clipped (rounding) */
    if (r->meta) {
      x = (gint) MIN (r->meta->x, (guint) G_MAXINT);
      y = (gint) MIN (r->meta->y, (guint) G_MAXINT);
      w = (gint) MIN (r->meta->w, (guint) G_MAXINT);
      h = (gint) MIN (r->meta->h, (guint) G_MAXINT);
    }
    if (!gst_analytics_relation_meta_add_od_mtd (rmeta, r->roi_type, x, y, w,
            h, 1.0f, &od))
      return;
    r->has_od = TRUE;
    r->od_id = od.id;
  }
  gst_analytics_relation_meta_set_relation (rmeta,
      GST_ANALYTICS_REL_TYPE_RELATE_TO, r->od_id, (guint) cls_id);
  gst_analytics_relation_meta_set_relation (rmeta,
      GST_ANALYTICS_REL_TYPE_IS_PART_OF, (guint) cls_id, r->od_id);
}

/* A tracker's identity for the box of detection @od_id (e.g. upstream's ioutracker:
 * od -RELATE_TO-> tracking), if it has one. */
static void
gst_deit_analytics_track (GstAnalyticsRelationMeta * rmeta, guint od_id,
    GstDeitRegion * r)
{
  GstAnalyticsTrackingMtd trk;
  guint64 tid = 0;

  if (!gst_analytics_relation_meta_get_direct_related (rmeta, od_id,
          GST_ANALYTICS_REL_TYPE_RELATE_TO,
          gst_analytics_tracking_mtd_get_mtd_type (), NULL,
          (GstAnalyticsMtd *) & trk))
    return;
  gst_analytics_tracking_mtd_get_info (&trk, &tid, NULL, NULL, NULL);
  r->id_source = GST_DEIT_OBJECT_ID_ANALYTICS_TRACK;
  r->object_id = (gint) (guint32) tid;
}

guint
gst_deit_analytics_collect (GstBuffer * buf, gint frame_width,
    gint frame_height, const GstDeitRegionFilter * filter, GArray * regions)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (buf);
  GstAnalyticsMtd mtd;
  gpointer state = NULL;
  guint n = 0, n_roi, i;

  if (!rmeta)
    return 0;
  n_roi = regions->len;
  while (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_od_mtd_get_mtd_type (), &mtd)) {
    GstAnalyticsODMtd *od = (GstAnalyticsODMtd *) & mtd;
    GQuark type = gst_analytics_od_mtd_get_obj_type (od);
    gint x, y, w, h;
    gint64 x0, y0, x1, y1;
    struct deit_error err;
    GstDeitRegion r;
    gboolean dup = FALSE;

    if (!gst_analytics_od_mtd_get_location (od, &x, &y, &w, &h, NULL))
      continue;
    if (!gst_deit_region_filter_accepts (filter, type)) {
      GST_LOG ("OD %u (%s) skipped: type not in object-class", od->id,
          g_quark_to_string (type));
      continue;
    }
    x0 = MAX (x, 0);
    y0 = MAX (y, 0);
    x1 = MIN ((gint64) x + w, frame_width);
    y1 = MIN ((gint64) y + h, frame_height);
    if (w <= 0 || h <= 0 || x1 <= x0 || y1 <= y0) {
      GST_DEBUG ("OD %u (%s) at %d,%d %dx%d skipped: %s", od->id,
          g_quark_to_string (type), x, y, w, h,
          w <= 0 || h <= 0 ? "zero area" : "outside the frame");
      continue;
    }
    if (x1 - x0 < filter->min_width || y1 - y0 < filter->min_height) {
      GST_DEBUG ("OD %u (%s) skipped: smaller than object-min-width/height",
          od->id, g_quark_to_string (type));
      continue;
    }
    if (deit_preprocess_config_check_input (&filter->preprocess,
            (gint) (x1 - x0), (gint) (y1 - y0), &err) != DEIT_STATUS_OK) {
      GST_WARNING ("OD %u (%s) skipped: %s", od->id, g_quark_to_string (type),
          err.message);
      continue;
    }
    /* the same box as an ROI meta of the frame: classified once, as that region */
    for (i = 0; i < n_roi; i++) {
      GstDeitRegion *o = &g_array_index (regions, GstDeitRegion, i);

      if (!o->has_od && o->x == x0 && o->y == y0 && o->width == x1 - x0
          && o->height == y1 - y0) {
        o->has_od = TRUE;
        o->od_id = od->id;
        /* the ROI meta names no object: the detection's tracker may */
        if (o->id_source == GST_DEIT_OBJECT_ID_NONE)
          gst_deit_analytics_track (rmeta, od->id, o);
        dup = TRUE;
        GST_LOG ("OD %u is ROI %d's box", od->id, o->roi_id);
        break;
      }
    }
    if (dup)
      continue;
    memset (&r, 0, sizeof (r));
    r.roi_id = (gint) od->id;   /* >= 0: a region, like an ROI meta's id */
    r.roi_type = type;
    r.x = (gint) x0;
    r.y = (gint) y0;
    r.width = (gint) (x1 - x0);
    r.height = (gint) (y1 - y0);
    r.has_od = TRUE;
    r.od_id = od->id;
    gst_deit_analytics_track (rmeta, od->id, &r);
    g_array_append_val (regions, r);
    n++;
  }
  /* two detections related to one tracking id (or to ids equal in their low 32
   * bits) are not one object: classified on their own, as ROI boxes are (ROI
   * boxes too, that took a detection's tracking id above) */
  gst_deit_regions_untrack_duplicates (regions, 0);
  return n;
}

static void
gst_deit_analytics_add_meta (GstBuffer * dest, GstAnalyticsClsMtd * cls,
    gint roi_id, gint x, gint y, gint w, gint h, gint frame_w, gint frame_h,
    guint64 frame_number)
{
  gsize n = gst_analytics_cls_mtd_get_length (cls), i;
  GstDeitClassification *res = g_new0 (GstDeitClassification, MAX (n, 1));
  GstDeitClassifyMeta *meta;

  for (i = 0; i < n; i++) {
    res[i].class_id = -1;
    res[i].label = (gchar *) g_quark_to_string (gst_analytics_cls_mtd_get_quark
        (cls, i));
    res[i].score = gst_analytics_cls_mtd_get_level (cls, i);
  }
  meta = gst_buffer_add_deit_classify_meta (dest, "analytics", res, (guint) n,
      GST_BUFFER_PTS (dest), TRUE);
  if (meta) {
    meta->frame_number = frame_number;
    meta->roi_id = roi_id;
    meta->x = (guint) MAX (x, 0);
    meta->y = (guint) MAX (y, 0);
    meta->width = (guint) MAX (w, 0);
    meta->height = (guint) MAX (h, 0);
    meta->frame_width = (guint) MAX (frame_w, 0);
    meta->frame_height = (guint) MAX (frame_h, 0);
  }
  g_free (res);
}

guint
gst_deit_analytics_to_metas (GstBuffer * src, GstBuffer * dest, gint frame_w,
    gint frame_h, guint64 frame_number)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (src);
  GHashTable *in_region;
  GstAnalyticsMtd mtd, cls;
  gpointer state = NULL;
  guint n = 0;

  if (!rmeta)
    return 0;
  in_region = g_hash_table_new (NULL, NULL);
  /* regions first: each detection's related classification */
  while (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_od_mtd_get_mtd_type (), &mtd)) {
    gpointer cstate = NULL;
    gint x, y, w, h;
    gint64 x1, y1;

    if (!gst_analytics_od_mtd_get_location ((GstAnalyticsODMtd *) & mtd, &x,
            &y, &w, &h, NULL))
      continue;
    /* in 64 bits: our own ODMtds hold a detector's unclipped rectangle, whose
     * x + w can pass G_MAXINT; the width is then at most G_MAXINT, at least 0 */
    x1 = (gint64) x + w;
    y1 = (gint64) y + h;
    if (frame_w > 0)
      x1 = MIN (x1, frame_w);
    if (frame_h > 0)
      y1 = MIN (y1, frame_h);
    x = MAX (x, 0);
    y = MAX (y, 0);
    x1 = CLAMP (x1, x, G_MAXINT);
    y1 = CLAMP (y1, y, G_MAXINT);
    while (gst_analytics_relation_meta_get_direct_related (rmeta, mtd.id,
            GST_ANALYTICS_REL_TYPE_RELATE_TO,
            gst_analytics_cls_mtd_get_mtd_type (), &cstate, &cls)) {
      g_hash_table_add (in_region, GUINT_TO_POINTER (cls.id + 1));
      gst_deit_analytics_add_meta (dest, (GstAnalyticsClsMtd *) & cls,
          (gint) mtd.id, x, y, (gint) (x1 - x), (gint) (y1 - y), frame_w,
          frame_h, frame_number);
      n++;
    }
  }
  state = NULL;
  while (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_cls_mtd_get_mtd_type (), &cls)) {
    if (g_hash_table_contains (in_region, GUINT_TO_POINTER (cls.id + 1)))
      continue;
    gst_deit_analytics_add_meta (dest, (GstAnalyticsClsMtd *) & cls, -1, 0, 0,
        frame_w, frame_h, frame_w, frame_h, frame_number);
    n++;
  }
  g_hash_table_unref (in_region);
  return n;
}
