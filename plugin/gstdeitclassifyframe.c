/* gstdeitclassifyframe.c - the per-frame path of deitclassify, shared by every mode.
 *
 *   frame_begin(): settings snapshot (once per frame, object lock), frame number,
 *                  due for inference? (async: offered to the worker)
 *     -> preprocess (the frame into an input slot of the state)
 *     -> run (one frame, or a batch) -> top-k
 *     -> publish_result(): store the latest result, attach GstDeitClassifyMeta and
 *        the ROI meta, post the element message.
 *
 * Sync mode runs all of it on the streaming thread for one frame; async mode runs the
 * inference on the worker (gstdeitclassifyasync.c) and the streaming thread only
 * publishes (attaches) the latest result; batch mode (gstdeitclassifybatch.c)
 * preprocesses as frames arrive and runs and publishes a batch at once.
 * The preprocess / run / results functions use self->state: only the inference thread
 * calls them. publish_result() takes the element's mutex itself.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifyframe.h"
#include "gstdeitclassifyasync.h"
#include "gstdeitclassifylatency.h"
#include "gstdeitclassifyroi.h"
#ifdef HAVE_GST_ANALYTICS
#include "gstdeitclassifyanalytics.h"
#endif

#include <math.h>
#include <string.h>

#define GST_CAT_DEFAULT deit_classify_debug

/* The properties that may change while playing, as they are now: taken once per frame
 * (and by queries that need the interval). */
void
gst_deit_classify_settings_snapshot (GstDeitClassify * self,
    GstDeitClassifySettings * out)
{
  GST_OBJECT_LOCK (self);
  *out = self->settings;
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------------------------
 * Frames to core images
 */
static gboolean
gst_deit_classify_format_to_core (GstVideoFormat format,
    enum deit_pixel_format *out)
{
  static const struct
  {
    GstVideoFormat gst;
    enum deit_pixel_format core;
  } map[] = {
    {GST_VIDEO_FORMAT_RGB, DEIT_PIXEL_FORMAT_RGB},
    {GST_VIDEO_FORMAT_BGR, DEIT_PIXEL_FORMAT_BGR},
    {GST_VIDEO_FORMAT_RGBx, DEIT_PIXEL_FORMAT_RGBX},
    {GST_VIDEO_FORMAT_BGRx, DEIT_PIXEL_FORMAT_BGRX},
    {GST_VIDEO_FORMAT_xRGB, DEIT_PIXEL_FORMAT_XRGB},
    {GST_VIDEO_FORMAT_xBGR, DEIT_PIXEL_FORMAT_XBGR},
    {GST_VIDEO_FORMAT_RGBA, DEIT_PIXEL_FORMAT_RGBA},
    {GST_VIDEO_FORMAT_BGRA, DEIT_PIXEL_FORMAT_BGRA},
    {GST_VIDEO_FORMAT_ARGB, DEIT_PIXEL_FORMAT_ARGB},
    {GST_VIDEO_FORMAT_ABGR, DEIT_PIXEL_FORMAT_ABGR},
    {GST_VIDEO_FORMAT_GRAY8, DEIT_PIXEL_FORMAT_GRAY8},
    {GST_VIDEO_FORMAT_I420, DEIT_PIXEL_FORMAT_I420},
    {GST_VIDEO_FORMAT_NV12, DEIT_PIXEL_FORMAT_NV12},
    {GST_VIDEO_FORMAT_YUY2, DEIT_PIXEL_FORMAT_YUY2},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (map); i++) {
    if (map[i].gst == format) {
      *out = map[i].core;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
gst_deit_classify_format_supported (GstVideoFormat format)
{
  enum deit_pixel_format core;

  return gst_deit_classify_format_to_core (format, &core);
}

static enum deit_color_matrix
gst_deit_classify_matrix_to_core (GstVideoColorMatrix matrix)
{
  switch (matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT709:
      return DEIT_COLOR_MATRIX_BT709;
    case GST_VIDEO_COLOR_MATRIX_BT2020:
      return DEIT_COLOR_MATRIX_BT2020;
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M:
      return DEIT_COLOR_MATRIX_SMPTE240M;
    case GST_VIDEO_COLOR_MATRIX_FCC:
      return DEIT_COLOR_MATRIX_FCC;
    default:
      return DEIT_COLOR_MATRIX_BT601;
  }
}

/* Describe a mapped frame to the core: planes, strides, colorimetry. FALSE, after
 * posting a "Wrong caps." error, when the core does not take its format. */
gboolean
gst_deit_classify_frame_to_image (GstDeitClassify * self,
    const GstVideoFrame * vframe, struct deit_image *img)
{
  const GstVideoInfo *info = &vframe->info;
  guint i;

  memset (img, 0, sizeof (*img));
  if (!gst_deit_classify_format_to_core (GST_VIDEO_INFO_FORMAT (info),
          &img->format)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Wrong caps."),
        ("format %s is not supported", GST_VIDEO_INFO_NAME (info)));
    return FALSE;
  }
  img->width = GST_VIDEO_INFO_WIDTH (info);
  img->height = GST_VIDEO_INFO_HEIGHT (info);
  for (i = 0; i < GST_VIDEO_FRAME_N_PLANES (vframe) && i < 3; i++) {
    img->data[i] = GST_VIDEO_FRAME_PLANE_DATA (vframe, i);
    img->stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE (vframe, i);
  }
  /* the info's colorimetry and chroma siting as they are: GstVideoInfo already
   * holds GStreamer's defaults for caps without them, the same ones videoconvert
   * uses, so the core reproduces videoconvert's RGB exactly */
  img->matrix = gst_deit_classify_matrix_to_core (info->colorimetry.matrix);
  img->full_range = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  img->chroma_site = GST_VIDEO_INFO_CHROMA_SITE (info);
  return TRUE;
}

/* ------------------------------------------------------------------------------------
 * The per-frame struct
 */

/* Describe the frame in buf (streaming thread: uses the segment); frame_number,
 * flush_seq and slot are the caller's to set. */
static void
gst_deit_classify_frame_init (GstDeitClassify * self, GstDeitClassifyFrame * f,
    GstBuffer * buf, const GstVideoInfo * info,
    const GstDeitClassifySettings * settings)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;

  memset (f, 0, sizeof (*f));
  f->info = *info;
  f->pts = GST_BUFFER_PTS (buf);
  f->duration = GST_BUFFER_DURATION (buf);
  f->stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
      f->pts);
  f->running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
      f->pts);
  f->slot = -1;
  f->settings = *settings;
}

/**
 * gst_deit_classify_frame_begin:
 * @vframe: the mapped input frame (streaming thread)
 * @f: (out caller-allocates): filled with the frame's description
 *
 * The start of every frame, in every mode: the settings snapshot (the only time
 * the object lock is taken for it), the frame's description, its number and
 * whether it is due for inference (interval). In async mode a due frame is offered
 * to the worker (taken if it is idle) and %FALSE is returned: the frame itself is
 * not classified here.
 *
 * Returns: whether the caller classifies the frame
 */
gboolean
gst_deit_classify_frame_begin (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f)
{
  GstDeitClassifySettings settings;
  gboolean run;

  gst_deit_classify_settings_snapshot (self, &settings);
  gst_deit_classify_frame_init (self, f, vframe->buffer, &vframe->info,
      &settings);
  /* roi-list: the boxes, before the frame may go to the worker */
  if (self->roi_active)
    gst_deit_classify_roi_collect (self, vframe, f);

  g_mutex_lock (&self->lock);
  f->frame_number = self->frame_count++;
  f->flush_seq = self->flush_seq;
  run = !self->submitted_any ||
      f->frame_number - self->last_submitted >= settings.interval;
  if (self->async_active) {
    if (run)
      gst_deit_classify_async_submit (self, vframe, f);
    run = FALSE;
  } else if (run) {
    self->last_submitted = f->frame_number;
    self->submitted_any = TRUE;
    f->slot = 0;
  }
  g_mutex_unlock (&self->lock);
  return run;
}

/* A heap copy to hold or hand over; buffer not copied (NULL). */
GstDeitClassifyFrame *
gst_deit_classify_frame_dup (const GstDeitClassifyFrame * f)
{
  GstDeitClassifyFrame *copy = g_memdup2 (f, sizeof (*f));

  copy->buffer = NULL;
  if (f->regions) {
    /* same buffer (batch mode): the box metas stay valid; the async worker's
     * copy drops them (see gst_deit_classify_async_submit) */
    copy->regions = gst_deit_regions_copy (f->regions);
    for (guint i = 0; i < f->regions->len; i++)
      g_array_index (copy->regions, GstDeitRegion, i).meta =
          g_array_index (f->regions, GstDeitRegion, i).meta;
  }
  return copy;
}

/* Releases what a frame on the stack owns (its regions). */
void
gst_deit_classify_frame_clear (GstDeitClassifyFrame * f)
{
  if (f->regions)
    g_array_unref (f->regions);
  f->regions = NULL;
}

void
gst_deit_classify_frame_free (GstDeitClassifyFrame * f)
{
  if (!f)
    return;
  if (f->buffer)
    gst_buffer_unref (f->buffer);
  gst_deit_classify_frame_clear (f);
  g_free (f);
}

/* ------------------------------------------------------------------------------------
 * Inference (the inference thread only: self->state)
 */
static bool
gst_deit_classify_abort_cb (void *user_data)
{
  GstDeitClassify *self = user_data;

  return g_atomic_int_get (&self->abort) != 0;
}

/* Preprocess a frame, or the region @rect of it (NULL: all of it), into input slot
 * "slot" of the state; *us gets the time taken. */
GstFlowReturn
gst_deit_classify_preprocess (GstDeitClassify * self,
    const GstVideoFrame * vframe, const struct deit_rect *rect, gint slot,
    gint64 * us)
{
  struct deit_image img;
  struct deit_error err;
  enum deit_status status;
  gint64 t0;

  if (!gst_deit_classify_frame_to_image (self, vframe, &img))
    return GST_FLOW_NOT_NEGOTIATED;

  t0 = g_get_monotonic_time ();
  status = deit_state_preprocess (self->state, slot, &img, rect, &err);
  if (status != DEIT_STATUS_OK)
    goto preprocess_failed;
  *us = g_get_monotonic_time () - t0;
  return GST_FLOW_OK;

  /* ERRORS */
preprocess_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not preprocess a %dx%d %s frame for the model: %s", img.width,
            img.height, GST_VIDEO_INFO_NAME (&vframe->info), err.message),
        ("deit_state_preprocess: %s: %s", deit_status_to_string (status),
            err.message));
    return GST_FLOW_ERROR;
  }
}

/* Run the first n input slots. */
GstFlowReturn
gst_deit_classify_run (GstDeitClassify * self, gint n)
{
  struct deit_run_params rp = deit_run_default_params ();
  enum deit_status status;

  rp.abort_callback = gst_deit_classify_abort_cb;
  rp.abort_user_data = self;
  status = deit_state_run (self->state, n, &rp);
  if (status == DEIT_STATUS_ABORTED)
    return GST_FLOW_FLUSHING;
  if (status != DEIT_STATUS_OK)
    goto run_failed;
  return GST_FLOW_OK;

  /* ERRORS */
run_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed."),
        ("deit_state_run: %s", deit_status_to_string (status)));
    return GST_FLOW_ERROR;
  }
}

static const gchar *
gst_deit_classify_label (GstDeitClassify * self, gint class_id)
{
  const gchar *label;

  if (self->labels)
    return self->labels[class_id];
  label = deit_model_get_label (self->model, class_id);
  return label ? label : "";
}

/* A checkpoint with NaN or infinite weights gives logits that are not numbers: their
 * classes never pass the threshold (deit_top_k), and the application is told once per
 * model, rather than seeing frames with no results and no reason. */
static void
gst_deit_classify_check_finite (GstDeitClassify * self, gint slot)
{
  size_t n = 0, i;
  const float *logits;

  if (self->warned_non_finite)
    return;
  logits = deit_state_get_output (self->state, DEIT_OUTPUT_LOGITS, slot, &n);
  for (i = 0; logits && i < n; i++) {
    if (!isfinite (logits[i])) {
      self->warned_non_finite = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("The model computed outputs that are not numbers (NaN or "
              "infinity): its weights are probably damaged. Download the "
              "checkpoint again."),
          ("logit %u of %s is %f; classes with such logits are left out of "
              "the results", (guint) i, self->model_name, (double) logits[i]));
      return;
    }
  }
}

/* The engine's score function for the settings' score-function and the model */
enum deit_score_function
gst_deit_classify_score_function (GstDeitClassify * self,
    const GstDeitClassifySettings * settings)
{
  switch (settings->score_function) {
    case GST_DEIT_CLASSIFY_SCORE_FUNCTION_SOFTMAX:
      return DEIT_SCORE_SOFTMAX;
    case GST_DEIT_CLASSIFY_SCORE_FUNCTION_SIGMOID:
      return DEIT_SCORE_SIGMOID;
    default:
      return deit_model_score_function (self->model);
  }
}

/* The top-k of input slot "slot" after a run: *out (g_free, never NULL) holds *n_out
 * results whose labels are owned by the element. */
void
gst_deit_classify_results (GstDeitClassify * self, gint slot,
    const GstDeitClassifySettings * settings, GstDeitClassification ** out,
    guint * n_out)
{
  struct deit_class_score *scores;
  size_t n_logits = 0;
  const float *logits;
  gint k, n, i;

  k = (gint) MIN (settings->top_k, (guint) self->num_classes);
  scores = g_new0 (struct deit_class_score, k);
  logits = deit_state_get_output (self->state, DEIT_OUTPUT_LOGITS, slot,
      &n_logits);
  n = deit_top_k_scores (logits, (gint) n_logits,
      gst_deit_classify_score_function (self, settings), k,
      (gfloat) settings->threshold, scores);
  *out = g_new0 (GstDeitClassification, MAX (n, 1));
  for (i = 0; i < n; i++) {
    (*out)[i].class_id = scores[i].class_id;
    (*out)[i].label = (gchar *) gst_deit_classify_label (self,
        scores[i].class_id);
    (*out)[i].score = scores[i].score;
    (*out)[i].logit = scores[i].logit;
  }
  *n_out = n;
  g_free (scores);
  gst_deit_classify_check_finite (self, slot);

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    for (i = 0; i < n; i++)
      GST_LOG_OBJECT (self, "slot %d top %d: %d %s %.6f", slot, i,
          (*out)[i].class_id, (*out)[i].label, (*out)[i].score);
  }
}

/* Preprocess, run and take the top-k of one frame (input slot 0), and fold the time
 * into the inference time (sync and async mode). On success *out (g_free) holds *n_out
 * results whose labels are owned by the element; else *out is NULL. */
GstFlowReturn
gst_deit_classify_infer (GstDeitClassify * self, const GstVideoFrame * vframe,
    const GstDeitClassifySettings * settings, GstDeitClassification ** out,
    guint * n_out)
{
  GstFlowReturn ret;
  gint64 t0, t1, pre_us;

  *out = NULL;
  *n_out = 0;
  t0 = g_get_monotonic_time ();
  ret = gst_deit_classify_preprocess (self, vframe, NULL, 0, &pre_us);
  if (ret != GST_FLOW_OK)
    return ret;
  ret = gst_deit_classify_run (self, 1);
  if (ret != GST_FLOW_OK)
    return ret;
  t1 = g_get_monotonic_time ();

  gst_deit_classify_results (self, 0, settings, out, n_out);
  gst_deit_classify_latency_record (self, t1 - t0);
  GST_LOG_OBJECT (self, "inference took %" G_GINT64_FORMAT " us", t1 - t0);
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------------------------
 * Results to metas and messages
 */
static void
gst_deit_classify_fill_arrays (const GstDeitClassification * res, guint n,
    GstStructure * s, const gchar * ids_name, const gchar * labels_name,
    const gchar * scores_name)
{
  GValue ids = G_VALUE_INIT, labels = G_VALUE_INIT, scores = G_VALUE_INIT;
  GValue v = G_VALUE_INIT;
  guint i;

  g_value_init (&ids, GST_TYPE_ARRAY);
  g_value_init (&labels, GST_TYPE_ARRAY);
  g_value_init (&scores, GST_TYPE_ARRAY);
  for (i = 0; i < n; i++) {
    g_value_init (&v, G_TYPE_INT);
    g_value_set_int (&v, res[i].class_id);
    gst_value_array_append_value (&ids, &v);
    g_value_unset (&v);
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_string (&v, res[i].label);
    gst_value_array_append_value (&labels, &v);
    g_value_unset (&v);
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, res[i].score);
    gst_value_array_append_value (&scores, &v);
    g_value_unset (&v);
  }
  gst_structure_take_value (s, ids_name, &ids);
  gst_structure_take_value (s, labels_name, &labels);
  gst_structure_take_value (s, scores_name, &scores);
}

/* The "deit-classification" parameter structure of an ROI meta, with the fields
 * DL Streamer's consumers read (full frame and regions alike). */
GstStructure *
gst_deit_classify_roi_param_new (GstDeitClassify * self,
    const GstDeitClassification * res, guint n, gboolean fresh)
{
  GstStructure *s;

  s = gst_structure_new (GST_DEIT_CLASSIFY_ROI_PARAM,
      "label", G_TYPE_STRING, res[0].label,
      "label_id", G_TYPE_INT, res[0].class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) res[0].score,
      "model_name", G_TYPE_STRING, self->model_name,
      "attribute_name", G_TYPE_STRING, "classification",
      "fresh", G_TYPE_BOOLEAN, fresh, NULL);
  gst_deit_classify_fill_arrays (res, n, s, "top_k_label_ids", "top_k_labels",
      "top_k_confidences");
  return s;
}

static void
gst_deit_classify_add_roi_meta (GstDeitClassify * self, GstBuffer * buf,
    const GstVideoInfo * info, const GstDeitClassification * res, guint n,
    gboolean fresh)
{
  GstVideoRegionOfInterestMeta *roi;

  if (n == 0)
    return;
  roi = gst_buffer_add_video_region_of_interest_meta (buf,
      GST_DEIT_CLASSIFY_ROI_TYPE,
      0, 0, GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_deit_classify_roi_param_new (self, res, n, fresh));
}

/* Attach the latest result to buf (called with self->lock, have_last TRUE). */
static void
gst_deit_classify_attach (GstDeitClassify * self, GstBuffer * buf,
    const GstDeitClassifyFrame * f, gboolean fresh)
{
  GstDeitClassifyMeta *meta;

  /* the ROI meta goes first: when converters transform the metas in order, ours
   * can then restore the ROI parameters that 1.22's ROI scale transform drops
   * (see gstdeitclassifymeta.c) */
  if (f->settings.attach_roi_meta)
    gst_deit_classify_add_roi_meta (self, buf, &f->info, self->last,
        self->n_last, fresh);
  meta = gst_buffer_add_deit_classify_meta (buf, self->model_name, self->last,
      self->n_last, self->last_pts, fresh);
  if (meta) {
    meta->frame_number = f->frame_number;
    meta->roi_id = -1;
    meta->x = 0;
    meta->y = 0;
    meta->width = GST_VIDEO_INFO_WIDTH (&f->info);
    meta->height = GST_VIDEO_INFO_HEIGHT (&f->info);
    meta->frame_width = meta->width;
    meta->frame_height = meta->height;
  }
#ifdef HAVE_GST_ANALYTICS
  /* the same top-k as one GstAnalyticsClsMtd on the frame's relation meta */
  gst_deit_analytics_add_cls (buf, self->last, self->n_last);
#endif
}

/* The "deitclassify" element message of a classified frame, or of one classified
 * region of it (@region: adds roi-id, roi-type, x, y, width, height). */
GstMessage *
gst_deit_classify_message_new (GstDeitClassify * self,
    const GstDeitClassifyFrame * f, const GstDeitRegion * region,
    const GstDeitClassification * res, guint n)
{
  GstStructure *s;

  s = gst_structure_new ("deitclassify",
      "timestamp", G_TYPE_UINT64, f->pts,
      "stream-time", G_TYPE_UINT64, f->stream_time,
      "running-time", G_TYPE_UINT64, f->running_time,
      "duration", G_TYPE_UINT64, f->duration,
      "frame", G_TYPE_UINT64, f->frame_number,
      "fresh", G_TYPE_BOOLEAN, TRUE,
      "model", G_TYPE_STRING, self->model_name,
      "class-id", G_TYPE_INT, n ? res[0].class_id : -1,
      "label", G_TYPE_STRING, n ? res[0].label : "",
      "score", G_TYPE_DOUBLE, n ? (gdouble) res[0].score : 0.0, NULL);
  gst_deit_classify_fill_arrays (res, n, s, "class-ids", "labels", "scores");
  if (region)
    gst_structure_set (s, "roi-id", G_TYPE_INT, region->roi_id,
        "roi-type", G_TYPE_STRING, g_quark_to_string (region->roi_type),
        "x", G_TYPE_UINT, (guint) region->x, "y", G_TYPE_UINT,
        (guint) region->y, "width", G_TYPE_UINT, (guint) region->width,
        "height", G_TYPE_UINT, (guint) region->height, NULL);
  return gst_message_new_element (GST_OBJECT (self), s);
}

/**
 * gst_deit_classify_publish_result:
 * @f: the frame
 * @target: (nullable): the buffer to attach the latest result to, or %NULL (the
 *   worker's copy of a frame gets no metas: the frame itself has passed already)
 * @res: (transfer full) (nullable): the fresh result of @f (from
 *   gst_deit_classify_results()), or %NULL when @f was not classified
 * @n_res: entries in @res
 *
 * The one place a frame's outcome leaves the element, in every mode: stores @res as
 * the latest result (unless @f is from before a flush, or the element is stopping:
 * then @res is dropped), attaches the latest result (#GstDeitClassifyMeta, and the
 * ROI meta with attach-roi-meta) to @target, and posts the element message for a
 * stored @res with post-messages. Takes the element's mutex; any thread.
 */
void
gst_deit_classify_publish_result (GstDeitClassify * self,
    const GstDeitClassifyFrame * f, GstBuffer * target,
    GstDeitClassification * res, guint n_res)
{
  GstMessage *msg = NULL;
  gboolean stored = FALSE;

  /* built before the lock, while res is certainly ours */
  if (res && f->settings.post_messages)
    msg = gst_deit_classify_message_new (self, f, NULL, res, n_res);

  g_mutex_lock (&self->lock);
  if (res && !self->worker.stop && f->flush_seq == self->flush_seq) {
    g_free (self->last);
    self->last = res;
    self->n_last = n_res;
    self->have_last = TRUE;
    self->last_pts = f->pts;
    self->last_frame = f->frame_number;
    stored = TRUE;
  }
  if (target && self->have_last)
    gst_deit_classify_attach (self, target, f, stored);
  g_mutex_unlock (&self->lock);

  if (!stored)
    g_free (res);
  if (msg && stored)
    gst_element_post_message (GST_ELEMENT (self), msg);
  else if (msg)
    gst_message_unref (msg);
}
