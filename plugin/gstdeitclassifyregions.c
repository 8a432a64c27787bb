/* gstdeitclassifyregions.c - which boxes deitclassify classifies in roi-list mode, the
 * identity of the objects they show, and the results of tracked objects between
 * classifications. See gstdeitclassifyregions.h.
 *
 * A region is the ROI rectangle clipped to the frame. Boxes partly outside are clipped;
 * boxes entirely outside, of zero area, of a type the filter does not name, smaller
 * than the minimum size after clipping, or so thin that the model's shortest_edge resize
 * would make them wider or taller than 16384 pixels are skipped with a debug line (a
 * warning for the last), never an error.
 * deitclassify's own full-frame ROI (type "classification" with our parameter
 * structure) is never a region: a second deitclassify after a full-frame one classifies
 * the detector's boxes, not the first one's result.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifyregions.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (deit_classify_debug);
#define GST_CAT_DEFAULT deit_classify_debug

guint
gst_deit_region_filter_set_classes (GstDeitRegionFilter * f, const gchar * csv)
{
  gchar **names;
  guint i, dropped = 0;

  f->n_classes = 0;
  if (csv == NULL)
    return 0;
  names = g_strsplit (csv, ",", -1);
  for (i = 0; names[i]; i++) {
    gchar *name = g_strstrip (names[i]);

    if (*name == '\0')
      continue;
    if (f->n_classes == GST_DEIT_REGIONS_MAX_CLASSES) {
      dropped++;
      continue;
    }
    f->classes[f->n_classes++] = g_quark_from_string (name);
  }
  g_strfreev (names);
  return dropped;
}

gboolean
gst_deit_region_filter_accepts (const GstDeitRegionFilter * f, GQuark type)
{
  guint i;

  if (f->n_classes == 0)
    return TRUE;
  for (i = 0; i < f->n_classes; i++)
    if (f->classes[i] == type)
      return TRUE;
  return FALSE;
}

GstDeitObjectIdSource
gst_deit_region_object_id (GstVideoRegionOfInterestMeta * roi, gint * object_id)
{
  GstStructure *s = gst_video_region_of_interest_meta_get_param (roi,
      "object_id");

  if (s && gst_structure_get_int (s, "id", object_id))
    return GST_DEIT_OBJECT_ID_TRACKER;
  if (roi->id != 0) {
    *object_id = roi->id;
    return GST_DEIT_OBJECT_ID_ROI_ID;
  }
  *object_id = 0;
  return GST_DEIT_OBJECT_ID_NONE;
}

/* our own full-frame result of an earlier deitclassify */
static gboolean
gst_deit_region_is_ours (GstVideoRegionOfInterestMeta * roi)
{
  return roi->roi_type ==
      g_quark_from_static_string (GST_DEIT_CLASSIFY_ROI_TYPE)
      && gst_video_region_of_interest_meta_get_param (roi,
      GST_DEIT_CLASSIFY_ROI_PARAM) != NULL;
}

static void
gst_deit_region_clear (gpointer data)
{
  GstDeitRegion *r = data;

  g_free (r->res);
  r->res = NULL;
  r->n_res = 0;
}

GArray *
gst_deit_regions_new (void)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (GstDeitRegion));

  g_array_set_clear_func (a, gst_deit_region_clear);
  return a;
}

GArray *
gst_deit_regions_copy (const GArray * regions)
{
  GArray *a = gst_deit_regions_new ();
  guint i;

  for (i = 0; i < regions->len; i++) {
    GstDeitRegion r = g_array_index (regions, GstDeitRegion, i);

    r.meta = NULL;
    r.res = NULL;
    r.n_res = 0;
    g_array_append_val (a, r);
  }
  return a;
}

/* the two id spaces never collide: the source is part of the key; meta ids are
 * per ROI type, tracker ids are not */
typedef struct
{
  GstDeitObjectIdSource source;
  gint id;
  GQuark type;
} GstDeitObjectKey;

static GstDeitObjectKey
gst_deit_object_key (GstDeitObjectIdSource source, gint object_id,
    GQuark roi_type)
{
  GstDeitObjectKey key = { source, object_id,
    source == GST_DEIT_OBJECT_ID_ROI_ID ? roi_type : 0
  };

  return key;
}

static guint
gst_deit_object_key_hash (gconstpointer p)
{
  const GstDeitObjectKey *k = p;

  return ((guint) k->id * 2654435761u) ^ ((guint) k->type * 40503u) ^
      (guint) k->source;
}

static gboolean
gst_deit_object_key_equal (gconstpointer a, gconstpointer b)
{
  const GstDeitObjectKey *x = a, *y = b;

  return x->source == y->source && x->id == y->id && x->type == y->type;
}

/* Quadratic, but only over the boxes of one frame. */
void
gst_deit_regions_untrack_duplicates (GArray * regions, guint first)
{
  guint i, j;

  for (i = first; i < regions->len; i++) {
    GstDeitRegion *a = &g_array_index (regions, GstDeitRegion, i);
    GstDeitObjectKey ka =
        gst_deit_object_key (a->id_source, a->object_id, a->roi_type);
    gboolean dup = FALSE;

    if (a->id_source == GST_DEIT_OBJECT_ID_NONE)
      continue;
    for (j = i + 1; j < regions->len; j++) {
      GstDeitRegion *b = &g_array_index (regions, GstDeitRegion, j);
      GstDeitObjectKey kb =
          gst_deit_object_key (b->id_source, b->object_id, b->roi_type);

      if (gst_deit_object_key_equal (&ka, &kb)) {
        b->id_source = GST_DEIT_OBJECT_ID_NONE;
        dup = TRUE;
      }
    }
    if (dup)
      a->id_source = GST_DEIT_OBJECT_ID_NONE;
  }
}

guint
gst_deit_regions_collect (GstBuffer * buf, gint frame_width, gint frame_height,
    const GstDeitRegionFilter * filter, GArray * out)
{
  gpointer state = NULL;
  GstMeta *m;
  guint n = 0;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    /* in 64 bits: x + w of a guint box can exceed G_MAXINT */
    gint64 x0 = roi->x, y0 = roi->y;
    gint64 x1 = x0 + roi->w, y1 = y0 + roi->h;
    struct deit_error err;
    GstDeitRegion r;

    if (gst_deit_region_is_ours (roi))
      continue;
    if (!gst_deit_region_filter_accepts (filter, roi->roi_type)) {
      GST_LOG ("ROI %d (%s) skipped: type not in object-class", roi->id,
          g_quark_to_string (roi->roi_type));
      continue;
    }
    x1 = MIN (x1, frame_width);
    y1 = MIN (y1, frame_height);
    if (roi->w == 0 || roi->h == 0 || x1 <= x0 || y1 <= y0) {
      GST_DEBUG ("ROI %d (%s) at %u,%u %ux%u skipped: %s", roi->id,
          g_quark_to_string (roi->roi_type), roi->x, roi->y, roi->w, roi->h,
          roi->w == 0 || roi->h == 0 ? "zero area" : "outside the frame");
      continue;
    }
    if (x1 - x0 < filter->min_width || y1 - y0 < filter->min_height) {
      GST_DEBUG ("ROI %d (%s) skipped: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
          " in the frame, smaller than object-min-width/height %ux%u", roi->id,
          g_quark_to_string (roi->roi_type), x1 - x0, y1 - y0,
          filter->min_width, filter->min_height);
      continue;
    }
    /* a shortest_edge resize keeps the aspect ratio: a thin box would be stretched
     * beyond what the preprocessing takes, and fail the whole frame's pass */
    if (deit_preprocess_config_check_input (&filter->preprocess, (gint) (x1 - x0),
            (gint) (y1 - y0), &err) != DEIT_STATUS_OK) {
      GST_WARNING ("ROI %d (%s) skipped: %s", roi->id,
          g_quark_to_string (roi->roi_type), err.message);
      continue;
    }
    memset (&r, 0, sizeof (r));
    r.roi_id = roi->id;
    r.roi_type = roi->roi_type;
    r.x = (gint) x0;
    r.y = (gint) y0;
    r.width = (gint) (x1 - x0);
    r.height = (gint) (y1 - y0);
    r.id_source = gst_deit_region_object_id (roi, &r.object_id);
    r.meta = roi;
    g_array_append_val (out, r);
    n++;
  }
  gst_deit_regions_untrack_duplicates (out, out->len - n);
  return n;
}

/* ------------------------------------------------------------------------------------
 * Object cache: (id source, object id, type) -> latest result, frame found due, frame
 * seen
 */
typedef struct
{
  guint64 seen_frame;
  gboolean classified;
  guint64 scheduled_frame;      /* last frame it was found due on (its result may
                                 * still be pending: batch mode) */
  gboolean scheduled;
  GstClockTime pts;
  GstDeitClassification *res;   /* labels not owned */
  guint n_res;
} GstDeitObjectEntry;

struct _GstDeitObjectCache
{
  GHashTable *objects;          /* GstDeitObjectKey -> entry */
};


static void
gst_deit_object_entry_free (gpointer data)
{
  GstDeitObjectEntry *e = data;

  g_free (e->res);
  g_free (e);
}

GstDeitObjectCache *
gst_deit_object_cache_new (void)
{
  GstDeitObjectCache *cache = g_new0 (GstDeitObjectCache, 1);

  cache->objects = g_hash_table_new_full (gst_deit_object_key_hash,
      gst_deit_object_key_equal, g_free, gst_deit_object_entry_free);
  return cache;
}

void
gst_deit_object_cache_free (GstDeitObjectCache * cache)
{
  if (!cache)
    return;
  g_hash_table_unref (cache->objects);
  g_free (cache);
}

void
gst_deit_object_cache_clear (GstDeitObjectCache * cache)
{
  g_hash_table_remove_all (cache->objects);
}

guint
gst_deit_object_cache_size (GstDeitObjectCache * cache)
{
  return g_hash_table_size (cache->objects);
}

static GstDeitObjectEntry *
gst_deit_object_cache_entry (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    gboolean create)
{
  GstDeitObjectKey key = gst_deit_object_key (source, object_id, roi_type);
  GstDeitObjectEntry *e = g_hash_table_lookup (cache->objects, &key);

  if (!e && create) {
    e = g_new0 (GstDeitObjectEntry, 1);
    g_hash_table_insert (cache->objects, g_memdup2 (&key, sizeof (key)), e);
  }
  return e;
}

void
gst_deit_object_cache_seen (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint64 frame)
{
  GstDeitObjectEntry *e;

  if (source == GST_DEIT_OBJECT_ID_NONE)
    return;
  e = gst_deit_object_cache_entry (cache, source, object_id, roi_type, TRUE);
  e->seen_frame = MAX (e->seen_frame, frame);
}

gboolean
gst_deit_object_cache_due (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint64 frame, guint interval)
{
  GstDeitObjectEntry *e;

  if (source == GST_DEIT_OBJECT_ID_NONE)
    return TRUE;
  e = gst_deit_object_cache_entry (cache, source, object_id, roi_type, TRUE);
  e->seen_frame = MAX (e->seen_frame, frame);
  /* every stored result was found due on its frame first: the frame it was found
   * due on is the last classified one, or one whose result is still pending */
  if (e->scheduled && frame < e->scheduled_frame + MAX (interval, 1))
    return FALSE;
  e->scheduled = TRUE;
  e->scheduled_frame = frame;
  return TRUE;
}

void
gst_deit_object_cache_store (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint64 frame, GstClockTime pts, const GstDeitClassification * res,
    guint n_res)
{
  GstDeitObjectEntry *e;

  if (source == GST_DEIT_OBJECT_ID_NONE)
    return;
  e = gst_deit_object_cache_entry (cache, source, object_id, roi_type, TRUE);
  g_free (e->res);
  e->res = n_res ? g_memdup2 (res, n_res * sizeof (*res)) : NULL;
  e->n_res = n_res;
  e->classified = TRUE;
  e->seen_frame = MAX (e->seen_frame, frame);
  e->pts = pts;
}

const GstDeitClassification *
gst_deit_object_cache_lookup (GstDeitObjectCache * cache,
    GstDeitObjectIdSource source, gint object_id, GQuark roi_type,
    guint * n_res, GstClockTime * pts)
{
  GstDeitObjectEntry *e;
  static const GstDeitClassification none = { -1, NULL, 0.0f, 0.0f };

  *n_res = 0;
  if (source == GST_DEIT_OBJECT_ID_NONE)
    return NULL;
  e = gst_deit_object_cache_entry (cache, source, object_id, roi_type, FALSE);
  if (!e || !e->classified)
    return NULL;
  *n_res = e->n_res;
  if (pts)
    *pts = e->pts;
  return e->res ? e->res : &none;
}

static gboolean
gst_deit_object_is_old (gpointer key, gpointer value, gpointer user_data)
{
  const GstDeitObjectEntry *e = value;
  const guint64 *limit = user_data;     /* [frame, max_age] */

  return limit[0] > e->seen_frame && limit[0] - e->seen_frame > limit[1];
}

guint
gst_deit_object_cache_expire (GstDeitObjectCache * cache, guint64 frame,
    guint64 max_age)
{
  guint64 limit[2] = { frame, max_age };

  return g_hash_table_foreach_remove (cache->objects, gst_deit_object_is_old,
      limit);
}
