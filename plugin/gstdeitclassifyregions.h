/* gstdeitclassifyregions.h - the regions deitclassify classifies in
 * inference-region=roi-list mode: the GstVideoRegionOfInterestMeta boxes an upstream
 * detector put on the frame, filtered and clipped, with the identity of the object each
 * box shows (from a tracker), and the results of tracked objects kept between
 * classifications (reclassify-interval).
 */
#ifndef __GST_DEIT_CLASSIFY_REGIONS_H__
#define __GST_DEIT_CLASSIFY_REGIONS_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "deit.h"
#include "gstdeitclassifymeta.h"

G_BEGIN_DECLS

/* at most this many object-class entries are kept (more are ignored, with a warning) */
#define GST_DEIT_REGIONS_MAX_CLASSES 32

/* Which boxes are classified: a snapshot of the element's properties. */
typedef struct
{
  GQuark classes[GST_DEIT_REGIONS_MAX_CLASSES]; /* roi_type quarks; none: every box */
  guint n_classes;
  guint min_width, min_height;  /* after clipping; 0: no limit */
  /* the model's preprocessing (all zero: none): boxes its resize cannot take (a
   * shortest_edge resize stretched beyond DEIT_MAX_IMAGE_DIM) are skipped */
  struct deit_preprocess_config preprocess;
} GstDeitRegionFilter;

/* How the object a box shows was identified. */
typedef enum
{
  GST_DEIT_OBJECT_ID_NONE = 0,  /* no identity: classified as a new object each time */
  GST_DEIT_OBJECT_ID_TRACKER,   /* the "object_id" parameter's "id" (gvatrack's) */
  GST_DEIT_OBJECT_ID_ROI_ID,    /* a non-zero GstVideoRegionOfInterestMeta.id */
  GST_DEIT_OBJECT_ID_ANALYTICS_TRACK,   /* a GstAnalyticsTrackingMtd related to the
                                         * box's GstAnalyticsODMtd (low 32 bits) */
} GstDeitObjectIdSource;

/* One box to classify. */
typedef struct
{
  gint roi_id;                  /* GstVideoRegionOfInterestMeta.id */
  GQuark roi_type;
  gint x, y, width, height;     /* clipped to the frame, width and height >= 1 */
  GstDeitObjectIdSource id_source;
  gint object_id;               /* meaningful unless id_source is NONE */
  /* -Danalytics: the GstAnalyticsODMtd (id in the frame's relation meta) describing the
   * same box, if any; regions found only as OD mtds have roi_id = od_id and meta NULL */
  gboolean has_od;
  guint od_id;

  /* set by deitclassify as the frame goes through it */
  GstVideoRegionOfInterestMeta *meta;   /* the box's meta on the frame's own buffer;
                                         * NULL on the async worker's copy */
  gboolean due;                 /* to be classified on this frame */
  GstDeitClassification *res;   /* fresh result (g_free; labels not owned) */
  guint n_res;
} GstDeitRegion;

/* A new array of GstDeitRegion that frees the results it holds. */
G_GNUC_INTERNAL
GArray *gst_deit_regions_new (void);

/* A copy of @regions without results and meta pointers (for another buffer). */
G_GNUC_INTERNAL
GArray *gst_deit_regions_copy (const GArray * regions);

/* Parses a comma-separated list of ROI types into f (spaces around names ignored,
 * empty entries skipped); returns how many names did not fit (0 normally). */
G_GNUC_INTERNAL
guint gst_deit_region_filter_set_classes (GstDeitRegionFilter * f,
    const gchar * csv);

/* Whether the filter's object-class list names @type (an empty list: every type). */
G_GNUC_INTERNAL
gboolean gst_deit_region_filter_accepts (const GstDeitRegionFilter * f,
    GQuark type);

/* Appends to @out (of GstDeitRegion) the boxes of @buf to classify, in the order of
 * their metas: every GstVideoRegionOfInterestMeta but deitclassify's own full-frame
 * one, whose type passes the filter, clipped to the frame, not empty after clipping,
 * at least the filter's minimum size, that the filter's preprocessing can resize.
 * Returns how many were appended. */
G_GNUC_INTERNAL
guint gst_deit_regions_collect (GstBuffer * buf, gint frame_width,
    gint frame_height, const GstDeitRegionFilter * filter, GArray * out);

/* Boxes of one frame (from index @first of @regions on) that name the same object
 * (the same tracker id, the same meta id and type, the same GstAnalyticsTrackingMtd
 * id) cannot all be it: none of them is tracked, each is classified on its own. */
G_GNUC_INTERNAL
void gst_deit_regions_untrack_duplicates (GArray * regions, guint first);

/* The identity of a box: the tracker's "object_id" parameter (field "id", as Intel DL
 * Streamer's gvatrack writes it) wins over a non-zero meta id, which applications may
 * set; without either the box has no identity. */
G_GNUC_INTERNAL
GstDeitObjectIdSource gst_deit_region_object_id (GstVideoRegionOfInterestMeta *
    roi, gint * object_id);

/* ------------------------------------------------------------------------------------
 * Results of tracked objects between classifications
 */
typedef struct _GstDeitObjectCache GstDeitObjectCache;

G_GNUC_INTERNAL
GstDeitObjectCache *gst_deit_object_cache_new (void);
G_GNUC_INTERNAL
void gst_deit_object_cache_free (GstDeitObjectCache * cache);
G_GNUC_INTERNAL
void gst_deit_object_cache_clear (GstDeitObjectCache * cache);
G_GNUC_INTERNAL
guint gst_deit_object_cache_size (GstDeitObjectCache * cache);

/* Marks the object as seen on @frame (objects unseen for long are forgotten). */
G_GNUC_INTERNAL
void gst_deit_object_cache_seen (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint64 frame);

/* An object is (source, id), and for meta ids also the ROI type (two detectors may
 * each number their boxes from 1); tracker ids are the tracker's across types.
 *
 * Whether the object seen on frame @frame is due for classification with
 * reclassify-interval @interval: never found due (or forgotten), or found due at
 * least @interval frames before (its result may still be pending in a batch). Marks
 * the object as seen on @frame, and as found due when it is. */
G_GNUC_INTERNAL
gboolean gst_deit_object_cache_due (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint64 frame, guint interval);

/* Stores the result of the object's classification on frame @frame (@res copied,
 * labels not: they belong to the element). */
G_GNUC_INTERNAL
void gst_deit_object_cache_store (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint64 frame, GstClockTime pts, const GstDeitClassification * res,
    guint n_res);

/* The latest result of the object, or NULL (never classified or forgotten); *pts gets
 * the PTS of the frame it was computed on. Valid until the next store or expire. */
G_GNUC_INTERNAL
const GstDeitClassification *gst_deit_object_cache_lookup (GstDeitObjectCache *
    cache, GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint * n_res, GstClockTime * pts);

/* Forgets the objects last seen more than @max_age frames before @frame. */
G_GNUC_INTERNAL
guint gst_deit_object_cache_expire (GstDeitObjectCache * cache, guint64 frame,
    guint64 max_age);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_REGIONS_H__ */
