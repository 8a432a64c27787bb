/* gstdeitclassifymeta.c - the classification meta that deitclassify attaches to buffers.
 *
 * Built as the shared library gstdeitmeta-1.0 (header and pkg-config file installed) so
 * that applications and other elements can read results without linking the plugin.
 *
 * The API type is registered with no tags: a classification of the whole picture does
 * not depend on its colour space, size or orientation, so elements that filter metas by
 * tags (videoconvert, videoscale, videoflip, videocrop, ...) keep it. With tags
 * ("video", "size") GStreamer 1.22's videocrop and videobox dropped even full-frame
 * results. Without them, 1.22's videoscale copies the meta instead of calling its scale
 * transform, so each meta records the frame size its rectangle refers to and readers
 * scale the rectangle to the frame at hand (gst_deit_classify_meta_get_rectangle). The
 * transform copies the results on copy and on scale; on scale (elements that call it)
 * it also rescales the classified rectangle.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifymeta.h"

#include <string.h>

/**
 * gst_deit_classify_meta_api_get_type:
 *
 * Returns: the #GType of the classification meta API ("GstDeitClassifyMetaAPI").
 */
GType
gst_deit_classify_meta_api_get_type (void)
{
  static GType type = 0;
  /* no tags: the result survives colour conversion, scaling and flipping */
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType _type = gst_meta_api_type_register ("GstDeitClassifyMetaAPI", tags);
    g_once_init_leave (&type, _type);
  }
  return type;
}

static gboolean
gst_deit_classify_meta_init (GstMeta * meta, gpointer params,
    GstBuffer * buffer)
{
  GstDeitClassifyMeta *dmeta = (GstDeitClassifyMeta *) meta;

  dmeta->model_name = NULL;
  dmeta->n_results = 0;
  dmeta->results = NULL;
  dmeta->inference_pts = GST_CLOCK_TIME_NONE;
  dmeta->fresh = FALSE;
  dmeta->frame_number = 0;
  dmeta->roi_id = -1;
  dmeta->x = dmeta->y = dmeta->width = dmeta->height = 0;
  dmeta->frame_width = dmeta->frame_height = 0;
  return TRUE;
}

static void
gst_deit_classify_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstDeitClassifyMeta *dmeta = (GstDeitClassifyMeta *) meta;
  guint i;

  for (i = 0; i < dmeta->n_results; i++)
    g_free (dmeta->results[i].label);
  g_free (dmeta->results);
  g_free (dmeta->model_name);
  dmeta->results = NULL;
  dmeta->model_name = NULL;
  dmeta->n_results = 0;
}

/* Copy results, model name and bookkeeping of src into a new meta on dest. */
static GstDeitClassifyMeta *
gst_deit_classify_meta_copy_to (GstBuffer * dest,
    const GstDeitClassifyMeta * src)
{
  GstDeitClassifyMeta *dmeta;

  dmeta = gst_buffer_add_deit_classify_meta (dest, src->model_name,
      src->results, src->n_results, src->inference_pts, src->fresh);
  if (!dmeta)
    return NULL;
  dmeta->frame_number = src->frame_number;
  dmeta->roi_id = src->roi_id;
  dmeta->x = src->x;
  dmeta->y = src->y;
  dmeta->width = src->width;
  dmeta->height = src->height;
  dmeta->frame_width = src->frame_width;
  dmeta->frame_height = src->frame_height;
  return dmeta;
}

/* A classification ROI meta of @buffer. With @owner (a full-frame meta of @buffer):
 * the one deitclassify attached together with it, i.e. the last classification ROI
 * meta with parameters naming its model between the previous full-frame
 * GstDeitClassifyMeta and @owner (deitclassify attaches its ROI meta just before its
 * meta; with several deitclassify elements in a chain, even on the same model, each
 * has its own). Without @owner: the first one that has no parameters. */
static GstVideoRegionOfInterestMeta *
find_classification_roi (GstBuffer * buffer, const GstDeitClassifyMeta * owner)
{
  GQuark roi_type = g_quark_from_static_string (GST_DEIT_CLASSIFY_ROI_TYPE);
  GstVideoRegionOfInterestMeta *candidate = NULL;
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta (buffer, &state))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *p;

    if (owner && m == (GstMeta *) owner)
      return candidate;
    if (m->info->api == GST_DEIT_CLASSIFY_META_API_TYPE &&
        ((GstDeitClassifyMeta *) m)->roi_id == -1) {
      candidate = NULL;         /* an earlier element's ROI meta is not ours */
      continue;
    }
    if (m->info->api != GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE ||
        roi->roi_type != roi_type)
      continue;
    p = gst_video_region_of_interest_meta_get_param (roi,
        GST_DEIT_CLASSIFY_ROI_PARAM);
    if (!owner && !p)
      return roi;
    if (owner && p && g_strcmp0 (gst_structure_get_string (p, "model_name"),
            owner->model_name) == 0)
      candidate = roi;
  }
  return NULL;
}

/* Gives @droi a copy of each parameter structure of @sroi it has none of (by name). */
static void
copy_missing_params (GstVideoRegionOfInterestMeta * droi,
    const GstVideoRegionOfInterestMeta * sroi)
{
  GList *l;

  for (l = sroi->params; l; l = l->next) {
    GstStructure *s = l->data;

    if (!gst_video_region_of_interest_meta_get_param (droi,
            gst_structure_get_name (s)))
      gst_video_region_of_interest_meta_add_param (droi,
          gst_structure_copy (s));
  }
}

/* GStreamer 1.22's scale transform of GstVideoRegionOfInterestMeta (which
 * videoconvert and videoscale apply to it, as it is tagged "size") keeps the
 * rectangle but drops the parameter structures. deitclassify attaches its ROI meta
 * before this meta, so when this meta is transformed the destination already holds
 * the transformed ROI meta (the first one still without parameters): give it back
 * the parameters of this meta's own ROI meta. */
static void
gst_deit_classify_meta_restore_roi_params (GstBuffer * dest, GstBuffer * src,
    const GstDeitClassifyMeta * smeta)
{
  GstVideoRegionOfInterestMeta *sroi, *droi;

  sroi = find_classification_roi (src, smeta);
  if (!sroi)
    return;
  droi = find_classification_roi (dest, NULL);
  if (droi)
    copy_missing_params (droi, sroi);
}

/* The same for the boxes of a detector (inference-region=roi-list): the transform
 * dropped the parameters of their ROI metas too, ours among them. They precede every
 * region meta of ours, so their transformed copies are on @dest already, in their
 * order on @src: pair them by position (same id and type, or stop), and give each the
 * parameters its source has and it lacks. Positions, not ids, since a detector may
 * give every box the same id. Idempotent: each region meta of ours calls it. */
static void
gst_deit_classify_meta_restore_region_params (GstBuffer * dest, GstBuffer * src)
{
  GQuark own_type = g_quark_from_static_string (GST_DEIT_CLASSIFY_ROI_TYPE);
  gpointer sstate = NULL, dstate = NULL;
  GstMeta *sm, *dm;

  while ((dm = gst_buffer_iterate_meta_filtered (dest, &dstate,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *droi = (GstVideoRegionOfInterestMeta *) dm;
    GstVideoRegionOfInterestMeta *sroi;

    sm = gst_buffer_iterate_meta_filtered (src, &sstate,
        GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
    sroi = (GstVideoRegionOfInterestMeta *) sm;
    if (!sroi || sroi->id != droi->id || sroi->roi_type != droi->roi_type)
      return;                   /* not copies of one list: leave them */
    if (sroi->roi_type != own_type)     /* full-frame: restore_roi_params */
      copy_missing_params (droi, sroi);
  }
}

/* Both of the above, for @smeta's kind of result. */
static void
gst_deit_classify_meta_restore_params (GstBuffer * dest, GstBuffer * src,
    const GstDeitClassifyMeta * smeta)
{
  if (smeta->roi_id == -1)
    gst_deit_classify_meta_restore_roi_params (dest, src, smeta);
  else
    gst_deit_classify_meta_restore_region_params (dest, src);
}

static gboolean
gst_deit_classify_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstDeitClassifyMeta *smeta = (GstDeitClassifyMeta *) meta;
  GstDeitClassifyMeta *dmeta;

  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GstMetaTransformCopy *copy = data;

    /* a region copy keeps the result only when it keeps the whole buffer */
    if (copy->region && (copy->offset != 0
            || copy->size != gst_buffer_get_size (buffer)))
      return TRUE;
    if (!gst_deit_classify_meta_copy_to (dest, smeta))
      return FALSE;
    gst_deit_classify_meta_restore_params (dest, buffer, smeta);
    return TRUE;
  }

  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *trans = data;
    gint ow, oh, nw, nh;

    ow = GST_VIDEO_INFO_WIDTH (trans->in_info);
    oh = GST_VIDEO_INFO_HEIGHT (trans->in_info);
    nw = GST_VIDEO_INFO_WIDTH (trans->out_info);
    nh = GST_VIDEO_INFO_HEIGHT (trans->out_info);
    /* the rectangle is in pixels of frame_width x frame_height, which a copy (1.22's
     * videoscale copies this meta as is) may have left behind the input frame's */
    if (smeta->frame_width > 0 && smeta->frame_height > 0) {
      ow = (gint) smeta->frame_width;
      oh = (gint) smeta->frame_height;
    }
    if (ow <= 0 || oh <= 0)
      return FALSE;

    dmeta = gst_deit_classify_meta_copy_to (dest, smeta);
    if (!dmeta)
      return FALSE;
    /* the scores do not depend on the geometry; only the rectangle moves */
    dmeta->x = (guint) gst_util_uint64_scale_int (smeta->x, nw, ow);
    dmeta->y = (guint) gst_util_uint64_scale_int (smeta->y, nh, oh);
    dmeta->width = (guint) gst_util_uint64_scale_int (smeta->width, nw, ow);
    dmeta->height = (guint) gst_util_uint64_scale_int (smeta->height, nh, oh);
    if (smeta->frame_width > 0 && smeta->frame_height > 0) {
      dmeta->frame_width = (guint) nw;
      dmeta->frame_height = (guint) nh;
    }
    gst_deit_classify_meta_restore_params (dest, buffer, smeta);
    return TRUE;
  }

  /* unknown transform: do not pretend the result still applies */
  return FALSE;
}

/**
 * gst_deit_classify_meta_get_info:
 *
 * Returns: the #GstMetaInfo of the classification meta ("GstDeitClassifyMeta").
 */
const GstMetaInfo *
gst_deit_classify_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_DEIT_CLASSIFY_META_API_TYPE,
        "GstDeitClassifyMeta", sizeof (GstDeitClassifyMeta),
        gst_deit_classify_meta_init, gst_deit_classify_meta_free,
        gst_deit_classify_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_deit_classify_meta:
 * @buffer: a writable #GstBuffer
 * @model_name: (nullable): name of the model
 * @results: (array length=n_results) (nullable): results, most probable first
 * @n_results: number of @results
 * @inference_pts: PTS of the frame the inference ran on
 * @fresh: whether the inference ran on @buffer itself
 *
 * Adds a full-frame classification meta (roi_id -1, empty rectangle: set the
 * fields after the call for a region). @model_name, @results and their labels
 * are copied.
 *
 * Returns: (transfer none): the new meta, owned by @buffer
 */
GstDeitClassifyMeta *
gst_buffer_add_deit_classify_meta (GstBuffer * buffer,
    const gchar * model_name, const GstDeitClassification * results,
    guint n_results, GstClockTime inference_pts, gboolean fresh)
{
  GstDeitClassifyMeta *dmeta;
  guint i;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (n_results == 0 || results != NULL, NULL);

  dmeta = (GstDeitClassifyMeta *) gst_buffer_add_meta (buffer,
      GST_DEIT_CLASSIFY_META_INFO, NULL);
  if (!dmeta)
    return NULL;

  dmeta->model_name = g_strdup (model_name);
  dmeta->n_results = n_results;
  dmeta->results = n_results ? g_new0 (GstDeitClassification, n_results) : NULL;
  for (i = 0; i < n_results; i++) {
    dmeta->results[i] = results[i];
    dmeta->results[i].label = g_strdup (results[i].label);
  }
  dmeta->inference_pts = inference_pts;
  dmeta->fresh = fresh;
  return dmeta;
}

/**
 * gst_buffer_get_deit_classify_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the full-frame classification meta
 *   (roi_id == -1) if there is one, else the first classification meta, else %NULL
 */
GstDeitClassifyMeta *
gst_buffer_get_deit_classify_meta (GstBuffer * buffer)
{
  gpointer state = NULL;
  GstMeta *meta;
  GstDeitClassifyMeta *first = NULL;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *dmeta = (GstDeitClassifyMeta *) meta;

    if (dmeta->roi_id == -1)
      return dmeta;
    if (!first)
      first = dmeta;
  }
  return first;
}

/**
 * gst_deit_classify_meta_get_rectangle:
 * @meta: a #GstDeitClassifyMeta
 * @width: width of the frame the rectangle is wanted for
 * @height: height of that frame
 * @x: (out): left
 * @y: (out): top
 * @rect_width: (out): width
 * @rect_height: (out): height
 *
 * The classified rectangle scaled from the frame it was classified in
 * (@meta->frame_width x @meta->frame_height) to a @width x @height frame, for
 * elements downstream of a scaler that copied the meta (GStreamer 1.22's videoscale
 * does). Unchanged when the frame size is unknown or the same.
 */
void
gst_deit_classify_meta_get_rectangle (const GstDeitClassifyMeta * meta,
    gint width, gint height, guint * x, guint * y, guint * rect_width,
    guint * rect_height)
{
  guint fw, fh;

  g_return_if_fail (meta != NULL);
  fw = meta->frame_width;
  fh = meta->frame_height;
  if (fw == 0 || fh == 0 || width <= 0 || height <= 0 || ((guint) width == fw
          && (guint) height == fh)) {
    *x = meta->x;
    *y = meta->y;
    *rect_width = meta->width;
    *rect_height = meta->height;
    return;
  }
  /* the same rounding as the scale transform */
  *x = (guint) gst_util_uint64_scale_int (meta->x, width, fw);
  *y = (guint) gst_util_uint64_scale_int (meta->y, height, fh);
  *rect_width = (guint) gst_util_uint64_scale_int (meta->width, width, fw);
  *rect_height = (guint) gst_util_uint64_scale_int (meta->height, height, fh);
}
