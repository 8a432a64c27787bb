/* gstdeitclassify.c - DeiT / ViT image classification of raw video frames.
 *
 * The element converts each GstVideoFrame into a core image description (struct
 * deit_image), lets the core preprocess and classify it, and turns the core's top-k into
 * a GstDeitClassifyMeta, a full-frame GstVideoRegionOfInterestMeta and a bus message.
 * Frames are never modified. Models are shared between elements naming the same
 * checkpoint directory (a process-wide refcounted cache).
 *
 * With batch-size N > 1, frames are held back and classified N at a time (see the
 * batch mode section below).
 *
 * Limits: full-frame classification only (no per-ROI cascade yet).
 */

/**
 * SECTION:element-deitclassify
 * @title: deitclassify
 *
 * Classifies video frames with a DeiT or ViT image-classification checkpoint
 * from the Hugging Face Hub (a directory holding `config.json`,
 * `preprocessor_config.json` and `model.safetensors` or `pytorch_model.bin`),
 * on the CPU. Preprocessing (resize, center crop, normalisation) follows the
 * checkpoint's `preprocessor_config.json` exactly as transformers does, so the
 * element takes frames of any size in any of its formats: no `videoscale` to
 * the model size is needed.
 *
 * Frames pass through unchanged. Each one gets
 *
 * * a #GstDeitClassifyMeta (library `gstdeitmeta-1.0`, header
 *   `<gst/deit/gstdeitclassifymeta.h>`): model name, top-k classes (id, label,
 *   probability, logit), PTS of the frame the inference ran on and whether it
 *   is fresh (ran on this very frame);
 * * with #GstDeitClassify:attach-roi-meta, a full-frame
 *   #GstVideoRegionOfInterestMeta (roi_type `classification`) with one
 *   parameter structure named `deit-classification` whose fields are those
 *   DL Streamer's consumers read: `label` (string), `label_id` (int),
 *   `confidence` (double), `model_name` (string), `attribute_name` (string,
 *   "classification"), plus `top_k_label_ids` (array of int), `top_k_labels`
 *   (array of string), `top_k_confidences` (array of double) and `fresh`
 *   (boolean). Not attached when no class passes the threshold.
 *
 * With #GstDeitClassify:interval N, every Nth frame is classified; the frames
 * in between carry the latest result with `fresh` = %FALSE.
 *
 * With #GstDeitClassify:async (live sources), inference runs on a worker
 * thread on the newest frame and video never waits for it: every frame
 * carries the latest finished result with `fresh` = %FALSE (frames that
 * arrive while the worker is busy are not classified; frames before the first
 * result carry no meta).
 *
 * ## Batching
 *
 * With #GstDeitClassify:batch-size N > 1 (offline throughput), each frame due
 * for inference is preprocessed as it arrives and held back; when N are due
 * they are classified as one batch and all held frames are pushed in order,
 * timestamps and flags untouched, with the same metas and messages as with
 * batch-size 1 (probabilities within 1e-6: the larger matrix products sum in
 * another order). With #GstDeitClassify:interval K the frames in between are
 * held too: up to (N-1) x K + 1 frames, at most 256. EOS, caps changes, gap and
 * other serialized events and queries first run the partial batch and push the
 * held frames; flushing drops them. Held frames are late by design, so QoS
 * (dropping late frames) is off while the element runs in batch mode. The
 * allocation query asks upstream for the extra buffers held.
 * #GstDeitClassify:async wins over batch-size (ignored, with a warning).
 *
 * GStreamer 1.22's scale transform of the ROI meta (used by videoconvert and
 * videoscale when they convert) keeps the rectangle but drops the parameter
 * structures; the #GstDeitClassifyMeta transform puts them back.
 *
 * ## Latency
 *
 * In the default synchronous mode every frame waits for its inference, so the
 * element adds its inference time to the LATENCY query: an estimate from the
 * model's size before the first frame, then the measured moving average (a
 * latency message is posted when it moves by more than 25%). In batch mode it
 * adds the time of a batch plus the (N-1) x K frame durations the first frame
 * of a batch waits for the last one (from the caps' framerate).
 * Asynchronous mode adds no latency.
 *
 * ## Element messages
 *
 * With #GstDeitClassify:post-messages, one element message named
 * `deitclassify` is posted for every classified frame (after the inference
 * finished), shaped like `level`'s:
 *
 * * `timestamp` (#GstClockTime): PTS of the classified frame
 * * `stream-time` (#GstClockTime): its stream time
 * * `running-time` (#GstClockTime): its running time
 * * `duration` (#GstClockTime): its duration
 * * `frame` (#guint64): its index among the frames seen since the element
 *   started (0-based)
 * * `fresh` (#gboolean): %TRUE: the result was computed on this frame
 *   (always %TRUE for messages, which are only posted for classified frames)
 * * `model` (#gchararray): model name
 * * `class-id` (#gint): most probable class, -1 if none passes the threshold
 * * `label` (#gchararray): its label ("" if none)
 * * `score` (#gdouble): its softmax probability in [0, 1] (0 if none)
 * * `class-ids` (#GstValueArray of #gint): the top-k class ids, most probable
 *   first, only those with probability >= #GstDeitClassify:threshold
 * * `labels` (#GstValueArray of #gchararray): their labels
 * * `scores` (#GstValueArray of #gdouble): their probabilities
 *
 * ## Example launch lines
 * (the launch lines of the scripts in pipelines/)
 * |[
 * gst-launch-1.0 -m filesrc location=clip.avi ! decodebin ! videoconvert ! \
 *     deitclassify model=deit-tiny-distilled-patch16-224 ! fakesink
 * ]| Classifies every frame of a file and prints the messages
 * (pipelines/classify-file.sh).
 * |[
 * gst-launch-1.0 -m v4l2src device=/dev/video0 ! videoconvert ! \
 *     deitclassify model=deit-tiny-distilled-patch16-224 async=true ! \
 *     deitoverlay ! videoconvert ! autovideosink sync=false
 * ]| Classifies a camera without slowing it down and draws the result
 * (pipelines/classify-camera.sh).
 * |[
 * gst-launch-1.0 -m filesrc location=photo.png ! decodebin ! videoconvert ! \
 *     deitclassify model=deit-tiny-distilled-patch16-224 ! fakesink
 * ]| Classifies one image (pipelines/classify-images.sh runs it for each image
 * of a folder).
 *
 * Debug levels of the `deitclassify` category: 4 (INFO) logs the model summary
 * (architecture, sizes, labels, preprocessing); 5 (DEBUG) adds the caps, model
 * sharing, held frames and latency; 6 (LOG) adds the per-frame results and inference
 * times. The core's own messages are in `deitcore` (4: INFO, 5: DEBUG). So
 * `GST_DEBUG=deitclassify:5,deitcore:4` shows the model summary and caps, and
 * `GST_DEBUG=deitclassify:6` the per-frame results too.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (deit_classify_debug);
#define GST_CAT_DEFAULT deit_classify_debug

#define DEFAULT_PROP_MODEL NULL
#define DEFAULT_PROP_LABELS NULL
#define DEFAULT_PROP_TOP_K 5
#define DEFAULT_PROP_THRESHOLD 0.0
#define DEFAULT_PROP_INTERVAL 1
#define DEFAULT_PROP_THREADS 0
#define DEFAULT_PROP_POST_MESSAGES TRUE
#define DEFAULT_PROP_ATTACH_ROI_META TRUE
#define DEFAULT_PROP_ASYNC FALSE

#define MAX_THREADS 1024
#define DEFAULT_PROP_BATCH_SIZE 1
#define MAX_BATCH_SIZE 64
/* batch mode never holds more frames than this (interval > 1 holds the frames in
 * between too): a batch then runs with the frames it has */
#define MAX_HELD_FRAMES 256

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_INTERVAL,
  PROP_THREADS,
  PROP_POST_MESSAGES,
  PROP_ATTACH_ROI_META,
  PROP_ASYNC,
  PROP_BATCH_SIZE,
};

#define DEIT_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, " \
    "GRAY8, I420, NV12, YUY2 }"
/* the core takes 1..DEIT_MAX_IMAGE_DIM pixels per side */
#define DEIT_MAX_DIM_STR G_STRINGIFY (DEIT_MAX_IMAGE_DIM)
#define DEIT_CAPS "video/x-raw, format = (string) " DEIT_FORMATS ", " \
    "width = (int) [ 1, " DEIT_MAX_DIM_STR " ], " \
    "height = (int) [ 1, " DEIT_MAX_DIM_STR " ], " \
    "framerate = " GST_VIDEO_FPS_RANGE

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (DEIT_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (DEIT_CAPS));

#define gst_deit_classify_parent_class parent_class
G_DEFINE_TYPE (GstDeitClassify, gst_deit_classify, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (deitclassify, "deitclassify", GST_RANK_NONE,
    GST_TYPE_DEIT_CLASSIFY);

/* ------------------------------------------------------------------------------------
 * Model cache: one struct deit_model per canonical checkpoint path, shared by all
 * elements of the process (the model is immutable; each element has its own state).
 */
struct _GstDeitModelEntry
{
  gchar *path;
  struct deit_model *model;
  gint refcount;
};

static GMutex model_cache_lock;
static GHashTable *model_cache; /* canonical path -> GstDeitModelEntry */

/* Returns a referenced entry, or NULL with err filled. */
static GstDeitModelEntry *
gst_deit_classify_model_acquire (GstDeitClassify * self,
    const gchar * location, struct deit_error *err)
{
  GstDeitModelEntry *entry;
  gchar *canonical;
  char *rp;

  rp = realpath (location, NULL);
  canonical = g_strdup (rp ? rp : location);
  free (rp);

  g_mutex_lock (&model_cache_lock);
  if (!model_cache)
    model_cache = g_hash_table_new (g_str_hash, g_str_equal);
  entry = g_hash_table_lookup (model_cache, canonical);
  if (entry) {
    entry->refcount++;
    GST_DEBUG_OBJECT (self, "sharing loaded model %s (%d users)", entry->path,
        entry->refcount);
    g_free (canonical);
  } else {
    struct deit_model *model = deit_model_load (canonical, NULL, err);

    if (model) {
      entry = g_new0 (GstDeitModelEntry, 1);
      entry->path = canonical;
      entry->model = model;
      entry->refcount = 1;
      g_hash_table_insert (model_cache, entry->path, entry);
      GST_DEBUG_OBJECT (self, "loaded model %s", entry->path);
    } else {
      g_free (canonical);
    }
  }
  g_mutex_unlock (&model_cache_lock);
  return entry;
}

static void
gst_deit_classify_model_release (GstDeitModelEntry * entry)
{
  if (!entry)
    return;
  g_mutex_lock (&model_cache_lock);
  if (--entry->refcount == 0) {
    g_hash_table_remove (model_cache, entry->path);
    deit_model_free (entry->model);
    g_free (entry->path);
    g_free (entry);
  }
  g_mutex_unlock (&model_cache_lock);
}

/* ------------------------------------------------------------------------------------
 * Helpers
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

/* Describe a mapped frame to the core: planes, strides, colorimetry. */
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

static gboolean
gst_deit_classify_frame_to_image (const GstVideoFrame * frame,
    struct deit_image *img)
{
  const GstVideoInfo *info = &frame->info;
  guint i;

  memset (img, 0, sizeof (*img));
  if (!gst_deit_classify_format_to_core (GST_VIDEO_INFO_FORMAT (info),
          &img->format))
    return FALSE;
  img->width = GST_VIDEO_INFO_WIDTH (info);
  img->height = GST_VIDEO_INFO_HEIGHT (info);
  for (i = 0; i < GST_VIDEO_FRAME_N_PLANES (frame) && i < 3; i++) {
    img->data[i] = GST_VIDEO_FRAME_PLANE_DATA (frame, i);
    img->stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, i);
  }
  /* the info's colorimetry and chroma siting as they are: GstVideoInfo already
   * holds GStreamer's defaults for caps without them, the same ones videoconvert
   * uses, so the core reproduces videoconvert's RGB exactly */
  img->matrix = gst_deit_classify_matrix_to_core (info->colorimetry.matrix);
  img->full_range = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  img->chroma_site = GST_VIDEO_INFO_CHROMA_SITE (info);
  return TRUE;
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

static bool
gst_deit_classify_abort_cb (void *user_data)
{
  GstDeitClassify *self = user_data;

  return g_atomic_int_get (&self->abort) != 0;
}

/* Rough cost of one inference before any was measured: multiply-adds of the
 * linear layers and attention, at an assumed 5 GFLOP/s per thread. Refined by
 * measurement after the first frame. */
static GstClockTime
gst_deit_classify_estimate_time (const struct deit_model_info *mi,
    gint n_threads)
{
  gdouble n = mi->num_tokens, d = mi->hidden_size, i = mi->intermediate_size;
  gdouble flops = 2.0 * mi->num_layers * (n * (4.0 * d * d + 2.0 * d * i)
      + 2.0 * n * n * d);

  return (GstClockTime) (flops / (5e9 * MAX (n_threads, 1)) * GST_SECOND);
}

/* ------------------------------------------------------------------------------------
 * Inference
 */

/* Preprocess a frame into input slot "slot" of the state. */
static GstFlowReturn
gst_deit_classify_preprocess (GstDeitClassify * self,
    const GstVideoFrame * frame, gint slot)
{
  struct deit_image img;
  enum deit_status status;
  gint64 t0;

  if (!gst_deit_classify_frame_to_image (frame, &img))
    goto not_negotiated;

  t0 = g_get_monotonic_time ();
  status = deit_state_preprocess (self->state, slot, &img, NULL);
  if (status != DEIT_STATUS_OK)
    goto preprocess_failed;
  self->preprocess_us = g_get_monotonic_time () - t0;
  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Wrong caps."),
        ("format %s is not supported", GST_VIDEO_INFO_NAME (&frame->info)));
    return GST_FLOW_NOT_NEGOTIATED;
  }
preprocess_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not preprocess a %dx%d %s frame for the model.", img.width,
            img.height, GST_VIDEO_INFO_NAME (&frame->info)),
        ("deit_state_preprocess: %s", deit_status_to_string (status)));
    return GST_FLOW_ERROR;
  }
}

/* Run the first n input slots. */
static GstFlowReturn
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

/* The top-k of input slot "slot" after a run: *out (g_free) holds *n_out results
 * whose labels are owned by the element. */
static void
gst_deit_classify_results (GstDeitClassify * self, gint slot, guint top_k,
    gfloat threshold, GstDeitClassification ** out, guint * n_out)
{
  struct deit_class_score *scores;
  gint k, n, i;

  k = (gint) MIN (top_k, (guint) self->num_classes);
  scores = g_new0 (struct deit_class_score, k);
  n = deit_state_top_k (self->state, slot, k, threshold, scores);
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

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    for (i = 0; i < n; i++)
      GST_LOG_OBJECT (self, "slot %d top %d: %d %s %.6f", slot, i,
          (*out)[i].class_id, (*out)[i].label, (*out)[i].score);
  }
}

/* Fold one measurement into the inference time: exponential moving average, 1/4
 * weight on the newest. */
static void
gst_deit_classify_update_time (GstDeitClassify * self, gint64 us)
{
  g_mutex_lock (&self->lock);
  if (!self->inference_timed || self->inference_time == GST_CLOCK_TIME_NONE)
    self->inference_time = us * GST_USECOND;
  else
    self->inference_time = (3 * self->inference_time + us * GST_USECOND) / 4;
  self->inference_timed = TRUE;
  g_mutex_unlock (&self->lock);
}

/* Preprocess, run and take the top-k of one frame (input slot 0). On success *out
 * (g_free) holds *n_out results whose labels are owned by the element. */
static GstFlowReturn
gst_deit_classify_infer (GstDeitClassify * self, const GstVideoFrame * frame,
    guint top_k, gfloat threshold, GstDeitClassification ** out, guint * n_out)
{
  GstFlowReturn ret;
  gint64 t0, t1;

  *out = NULL;
  *n_out = 0;
  t0 = g_get_monotonic_time ();
  ret = gst_deit_classify_preprocess (self, frame, 0);
  if (ret != GST_FLOW_OK)
    return ret;
  ret = gst_deit_classify_run (self, 1);
  if (ret != GST_FLOW_OK)
    return ret;
  t1 = g_get_monotonic_time ();

  gst_deit_classify_results (self, 0, top_k, threshold, out, n_out);
  gst_deit_classify_update_time (self, t1 - t0);
  GST_LOG_OBJECT (self, "inference took %" G_GINT64_FORMAT " us", t1 - t0);
  return GST_FLOW_OK;
}

/* Replace the latest result; takes ownership of res. Called with self->lock. */
static void
gst_deit_classify_store_result (GstDeitClassify * self,
    GstDeitClassification * res, guint n, GstClockTime pts, guint64 frame)
{
  g_free (self->last);
  self->last = res;
  self->n_last = n;
  self->have_last = TRUE;
  self->last_pts = pts;
  self->last_frame = frame;
}

/* ------------------------------------------------------------------------------------
 * Results to meta and messages
 */
static GValue *
gst_deit_classify_array_init (GValue * array)
{
  g_value_init (array, GST_TYPE_ARRAY);
  return array;
}

static void
gst_deit_classify_fill_arrays (const GstDeitClassification * res, guint n,
    GValue * ids, GValue * labels, GValue * scores)
{
  GValue v = G_VALUE_INIT;
  guint i;

  for (i = 0; i < n; i++) {
    g_value_init (&v, G_TYPE_INT);
    g_value_set_int (&v, res[i].class_id);
    gst_value_array_append_value (ids, &v);
    g_value_unset (&v);
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_string (&v, res[i].label);
    gst_value_array_append_value (labels, &v);
    g_value_unset (&v);
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, res[i].score);
    gst_value_array_append_value (scores, &v);
    g_value_unset (&v);
  }
}

static void
gst_deit_classify_add_roi_meta (GstDeitClassify * self, GstBuffer * buf,
    const GstVideoInfo * info, const GstDeitClassification * res, guint n,
    gboolean fresh)
{
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *s;
  GValue ids = G_VALUE_INIT, labels = G_VALUE_INIT, scores = G_VALUE_INIT;

  if (n == 0)
    return;
  roi = gst_buffer_add_video_region_of_interest_meta (buf,
      GST_DEIT_CLASSIFY_ROI_TYPE,
      0, 0, GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info));
  s = gst_structure_new (GST_DEIT_CLASSIFY_ROI_PARAM,
      "label", G_TYPE_STRING, res[0].label,
      "label_id", G_TYPE_INT, res[0].class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) res[0].score,
      "model_name", G_TYPE_STRING, self->model_name,
      "attribute_name", G_TYPE_STRING, "classification",
      "fresh", G_TYPE_BOOLEAN, fresh, NULL);
  gst_deit_classify_array_init (&ids);
  gst_deit_classify_array_init (&labels);
  gst_deit_classify_array_init (&scores);
  gst_deit_classify_fill_arrays (res, n, &ids, &labels, &scores);
  gst_structure_take_value (s, "top_k_label_ids", &ids);
  gst_structure_take_value (s, "top_k_labels", &labels);
  gst_structure_take_value (s, "top_k_confidences", &scores);
  gst_video_region_of_interest_meta_add_param (roi, s);
}

static void
gst_deit_classify_attach (GstDeitClassify * self, GstBuffer * buf,
    const GstVideoInfo * info, const GstDeitClassification * res, guint n,
    GstClockTime inference_pts, gboolean fresh, guint64 frame,
    gboolean attach_roi)
{
  GstDeitClassifyMeta *meta;

  /* the ROI meta goes first: when converters transform the metas in order, ours
   * can then restore the ROI parameters that 1.22's ROI scale transform drops
   * (see gstdeitclassifymeta.c) */
  if (attach_roi)
    gst_deit_classify_add_roi_meta (self, buf, info, res, n, fresh);
  meta = gst_buffer_add_deit_classify_meta (buf, self->model_name, res, n,
      inference_pts, fresh);
  if (meta) {
    meta->frame_number = frame;
    meta->roi_id = -1;
    meta->x = 0;
    meta->y = 0;
    meta->width = GST_VIDEO_INFO_WIDTH (info);
    meta->height = GST_VIDEO_INFO_HEIGHT (info);
  }
}

static GstMessage *
gst_deit_classify_message_new (GstDeitClassify * self,
    const GstDeitClassification * res, guint n, GstClockTime pts,
    GstClockTime stream_time, GstClockTime running_time,
    GstClockTime duration, guint64 frame)
{
  GstStructure *s;
  GValue ids = G_VALUE_INIT, labels = G_VALUE_INIT, scores = G_VALUE_INIT;

  s = gst_structure_new ("deitclassify",
      "timestamp", G_TYPE_UINT64, pts,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "duration", G_TYPE_UINT64, duration,
      "frame", G_TYPE_UINT64, frame,
      "fresh", G_TYPE_BOOLEAN, TRUE,
      "model", G_TYPE_STRING, self->model_name,
      "class-id", G_TYPE_INT, n ? res[0].class_id : -1,
      "label", G_TYPE_STRING, n ? res[0].label : "",
      "score", G_TYPE_DOUBLE, n ? (gdouble) res[0].score : 0.0, NULL);
  gst_deit_classify_array_init (&ids);
  gst_deit_classify_array_init (&labels);
  gst_deit_classify_array_init (&scores);
  gst_deit_classify_fill_arrays (res, n, &ids, &labels, &scores);
  gst_structure_take_value (s, "class-ids", &ids);
  gst_structure_take_value (s, "labels", &labels);
  gst_structure_take_value (s, "scores", &scores);
  return gst_message_new_element (GST_OBJECT (self), s);
}

/* Most frames batch mode holds back at once: (batch-size - 1) x interval + 1, capped
 * at MAX_HELD_FRAMES (a batch then runs early, partial). */
static guint
gst_deit_classify_max_held (guint batch, guint interval)
{
  guint64 n = (guint64) (batch - 1) * interval + 1;

  return (guint) MIN (n, MAX_HELD_FRAMES);
}

/* What the element adds to the latency (called with self->lock): nothing in async
 * mode; the inference time in sync mode; in batch mode the time of a full batch
 * plus the frame durations the first frame of a batch waits for the last one. */
static GstClockTime
gst_deit_classify_own_latency (GstDeitClassify * self, guint interval)
{
  GstClockTime t;

  if (self->async_active)
    return 0;
  t = self->inference_time == GST_CLOCK_TIME_NONE ? 0 : self->inference_time;
  if (self->batch_active > 1 && self->frame_duration != GST_CLOCK_TIME_NONE)
    t += (gst_deit_classify_max_held (self->batch_active, interval) - 1) *
        self->frame_duration;
  return t;
}

/* Tell a live pipeline when the element's latency (measured inference time, and the
 * frames a batch holds) grew more than 25% above what the last LATENCY query
 * answered, or fell below half of it (sync mode only: async mode adds no latency).
 * Non-live pipelines do not sync on latency, so they are not disturbed with latency
 * messages at all. */
static void
gst_deit_classify_check_latency (GstDeitClassify * self)
{
  gboolean changed = FALSE;
  guint interval;

  GST_OBJECT_LOCK (self);
  interval = self->interval;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  if (self->upstream_live && self->reported_latency != GST_CLOCK_TIME_NONE &&
      self->inference_time != GST_CLOCK_TIME_NONE) {
    GstClockTime est = gst_deit_classify_own_latency (self, interval);
    GstClockTime rep = self->reported_latency;

    changed = est > rep + rep / 4 || est * 2 < rep;
  }
  if (changed)
    self->reported_latency = GST_CLOCK_TIME_NONE;       /* until the next query */
  g_mutex_unlock (&self->lock);
  if (changed)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
}

/* ------------------------------------------------------------------------------------
 * Asynchronous worker
 */
static void
gst_deit_classify_job_free (GstDeitClassifyJob * job)
{
  if (!job)
    return;
  gst_buffer_unref (job->buffer);
  g_free (job);
}

static gpointer
gst_deit_classify_worker (gpointer data)
{
  GstDeitClassify *self = data;

  g_mutex_lock (&self->lock);
  while (!self->worker_stop) {
    GstDeitClassifyJob *job;
    GstVideoFrame frame;
    GstDeitClassification *res = NULL;
    guint n = 0, top_k;
    gfloat threshold;
    gboolean post, stored;
    GstFlowReturn ret = GST_FLOW_ERROR;

    if (!self->pending) {
      g_cond_wait (&self->cond, &self->lock);
      continue;
    }
    job = self->pending;
    self->pending = NULL;
    self->worker_busy = TRUE;
    g_mutex_unlock (&self->lock);

    GST_OBJECT_LOCK (self);
    top_k = self->top_k;
    threshold = (gfloat) self->threshold;
    post = self->post_messages;
    GST_OBJECT_UNLOCK (self);

    if (gst_video_frame_map (&frame, &job->info, job->buffer, GST_MAP_READ)) {
      ret = gst_deit_classify_infer (self, &frame, top_k, threshold, &res, &n);
      gst_video_frame_unmap (&frame);
    }

    g_mutex_lock (&self->lock);
    stored = ret == GST_FLOW_OK && !self->worker_stop &&
        job->flush_seq == self->flush_seq;
    if (stored)
      gst_deit_classify_store_result (self, res, n, job->pts,
          job->frame_number);
    g_mutex_unlock (&self->lock);

    /* res stays valid after unlock: only this thread replaces the result,
     * and stop() frees it after joining this thread */
    if (stored && post)
      gst_element_post_message (GST_ELEMENT (self),
          gst_deit_classify_message_new (self, res, n, job->pts,
              job->stream_time, job->running_time, job->duration,
              job->frame_number));
    if (!stored)
      g_free (res);
    gst_deit_classify_job_free (job);
    g_mutex_lock (&self->lock);
    /* busy until the message is out: EOS waits for this (see sink_event) */
    self->worker_busy = FALSE;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* Hand a copy of the frame to the worker if it is idle (called with self->lock). */
static void
gst_deit_classify_submit (GstDeitClassify * self, GstVideoFrame * frame,
    guint64 frame_number)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstBuffer *buf = frame->buffer;
  GstDeitClassifyJob *job;
  GstVideoFrame copy;

  job = g_new0 (GstDeitClassifyJob, 1);
  /* The copy gets the negotiated info's default (packed) layout, not
   * frame->info: a frame mapped through a GstVideoMeta carries the upstream
   * buffer's strides and offsets (padded rows, planes far apart) while its
   * size field still describes the packed layout, so copying into a buffer
   * of that size with those strides would write past its end. */
  job->info = GST_VIDEO_FILTER (self)->in_info;
  job->buffer =
      gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&job->info), NULL);
  if (!job->buffer
      || !gst_video_frame_map (&copy, &job->info, job->buffer, GST_MAP_WRITE)) {
    gst_deit_classify_job_free (job);
    return;
  }
  gst_video_frame_copy (&copy, frame);
  gst_video_frame_unmap (&copy);
  job->pts = GST_BUFFER_PTS (buf);
  job->duration = GST_BUFFER_DURATION (buf);
  job->stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, job->pts);
  job->running_time = gst_segment_to_running_time (&trans->segment,
      GST_FORMAT_TIME, job->pts);
  job->frame_number = frame_number;
  job->flush_seq = self->flush_seq;
  self->pending = job;
  self->last_submitted = frame_number;
  self->submitted_any = TRUE;
  g_cond_broadcast (&self->cond);      /* the worker, not an EOS waiter */
}

static void
gst_deit_classify_worker_stop (GstDeitClassify * self)
{
  GThread *worker;

  g_atomic_int_set (&self->abort, 1);
  g_mutex_lock (&self->lock);
  worker = self->worker;
  self->worker = NULL;
  self->worker_stop = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (worker)
    g_thread_join (worker);
  g_mutex_lock (&self->lock);
  gst_deit_classify_job_free (self->pending);
  self->pending = NULL;
  g_mutex_unlock (&self->lock);
}

/* ------------------------------------------------------------------------------------
 * Batch mode (sync, batch-size > 1)
 *
 * transform_frame_ip() preprocesses each frame due for inference into the next input
 * slot and holds the frame back (frames skipped by interval after a held one are held
 * too: they carry the result of the classified frame before them); generate_output()
 * adopts the buffer and, once batch-size frames are due, runs the batch, attaches the
 * results to every held frame in order and hands them to the base class' chain
 * function one per call. Serialized events and queries (EOS, caps, segment, gap,
 * drain...) first run and push a partial batch, so nothing overtakes a held frame;
 * FLUSH_STOP and stop() drop the held frames. Only the streaming thread touches the
 * queues (FLUSH_STOP and stop() run while it is out of the element).
 */
static void
gst_deit_classify_held_free (GstDeitClassifyHeld * held)
{
  if (held->buffer)
    gst_buffer_unref (held->buffer);
  g_free (held);
}

static void
gst_deit_classify_batch_clear (GstDeitClassify * self)
{
  GstDeitClassifyHeld *held;
  GstBuffer *buf;
  guint n = 0;

  while ((held = g_queue_pop_head (&self->held))) {
    gst_deit_classify_held_free (held);
    n++;
  }
  while ((buf = g_queue_pop_head (&self->ready))) {
    gst_buffer_unref (buf);
    n++;
  }
  if (n)
    GST_DEBUG_OBJECT (self, "dropped %u held frames", n);
  self->n_due = 0;
  self->cur_held = FALSE;
  self->discont_seen = FALSE;
}

/* Hold the current frame (called from transform_frame_ip in batch mode). */
static GstFlowReturn
gst_deit_classify_batch_add (GstDeitClassify * self, GstVideoFrame * frame,
    guint64 frame_number, gboolean due, gboolean attach_roi)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstBuffer *buf = frame->buffer;
  GstDeitClassifyHeld *held;
  GstFlowReturn ret;

  if (!due && g_queue_is_empty (&self->held)) {
    /* no classified frame waits before this one: its result is known, let it go */
    g_mutex_lock (&self->lock);
    if (self->have_last)
      gst_deit_classify_attach (self, buf, &frame->info, self->last,
          self->n_last, self->last_pts, FALSE, frame_number, attach_roi);
    g_mutex_unlock (&self->lock);
    return GST_FLOW_OK;
  }
  if (due) {
    ret = gst_deit_classify_preprocess (self, frame, self->n_due);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  held = g_new0 (GstDeitClassifyHeld, 1);
  held->info = frame->info;
  held->pts = GST_BUFFER_PTS (buf);
  held->duration = GST_BUFFER_DURATION (buf);
  held->stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, held->pts);
  held->running_time = gst_segment_to_running_time (&trans->segment,
      GST_FORMAT_TIME, held->pts);
  held->frame_number = frame_number;
  held->slot = due ? (gint) self->n_due++ : -1;
  g_queue_push_tail (&self->held, held);
  self->cur_held = TRUE;
  GST_LOG_OBJECT (self,
      "holding frame %" G_GUINT64_FORMAT " (slot %d, %u held)", frame_number,
      held->slot, g_queue_get_length (&self->held));
  return GST_FLOW_OK;
}

/* Run the held frames due for inference (a full or partial batch), attach the results
 * to every held frame in order, post the messages and move the frames to the ready
 * queue. On FLUSHING (aborted) or an error the frames stay held. */
static GstFlowReturn
gst_deit_classify_batch_run (GstDeitClassify * self)
{
  GstDeitClassifyHeld *held;
  guint n = self->n_due, top_k;
  gfloat threshold;
  gboolean post, attach_roi;
  GstFlowReturn ret;
  gint64 t0, t1;

  GST_OBJECT_LOCK (self);
  top_k = self->top_k;
  threshold = (gfloat) self->threshold;
  post = self->post_messages;
  attach_roi = self->attach_roi_meta;
  GST_OBJECT_UNLOCK (self);

  if (n > 0) {
    t0 = g_get_monotonic_time ();
    ret = gst_deit_classify_run (self, (gint) n);
    if (ret != GST_FLOW_OK)
      return ret;
    t1 = g_get_monotonic_time ();
    GST_LOG_OBJECT (self, "batch of %u took %" G_GINT64_FORMAT " us", n,
        t1 - t0);
    /* the latency of a full batch: its run plus the last frame's preprocessing */
    if (n == self->batch_active)
      gst_deit_classify_update_time (self, t1 - t0 + self->preprocess_us);
  }

  while ((held = g_queue_pop_head (&self->held))) {
    GstDeitClassification *res = NULL;
    guint n_res = 0;
    gboolean fresh = held->slot >= 0;

    if (fresh)
      gst_deit_classify_results (self, held->slot, top_k, threshold, &res,
          &n_res);
    g_mutex_lock (&self->lock);
    if (fresh)
      gst_deit_classify_store_result (self, res, n_res, held->pts,
          held->frame_number);
    if (self->have_last)
      gst_deit_classify_attach (self, held->buffer, &held->info, self->last,
          self->n_last, self->last_pts, fresh, held->frame_number, attach_roi);
    g_mutex_unlock (&self->lock);
    /* res stays valid: only this thread replaces the result in sync mode */
    if (fresh && post)
      gst_element_post_message (GST_ELEMENT (self),
          gst_deit_classify_message_new (self, res, n_res, held->pts,
              held->stream_time, held->running_time, held->duration,
              held->frame_number));
    g_queue_push_tail (&self->ready, held->buffer);
    held->buffer = NULL;
    gst_deit_classify_held_free (held);
  }
  self->n_due = 0;
  if (n > 0)
    gst_deit_classify_check_latency (self);
  return GST_FLOW_OK;
}

/* Run a partial batch and push every held frame, in order (EOS, caps, segment, gap
 * and other serialized events and queries, a DISCONT). */
static GstFlowReturn
gst_deit_classify_drain (GstDeitClassify * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *buf;

  if (self->batch_active <= 1)
    return GST_FLOW_OK;
  if (g_queue_is_empty (&self->held) && g_queue_is_empty (&self->ready))
    return GST_FLOW_OK;
  GST_DEBUG_OBJECT (self, "draining %u held frames (%u due) and %u ready",
      g_queue_get_length (&self->held), self->n_due,
      g_queue_get_length (&self->ready));
  if (!g_queue_is_empty (&self->held))
    ret = gst_deit_classify_batch_run (self);
  if (ret != GST_FLOW_OK) {
    gst_deit_classify_batch_clear (self);
    return ret;
  }
  while ((buf = g_queue_pop_head (&self->ready))) {
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (buf);
      continue;
    }
    /* the base class marks the next buffer it pushes DISCONT; these bypass it */
    if (self->discont_seen) {
      buf = gst_buffer_make_writable (buf);
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      self->discont_seen = FALSE;
    }
    ret = gst_pad_push (trans->srcpad, buf);
  }
  if (ret != GST_FLOW_OK)
    GST_DEBUG_OBJECT (self, "pushing held frames: %s", gst_flow_get_name (ret));
  return ret;
}

static GstFlowReturn
gst_deit_classify_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);

  /* The base class marks the next buffer it pushes DISCONT after a DISCONT input
   * (or a QoS drop); with frames held that would be the oldest held one, so push
   * those first. The flag stays pending until a buffer goes out: handle it once. */
  if (self->batch_active > 1 && is_discont && !self->discont_seen) {
    GstFlowReturn ret = gst_deit_classify_drain (self);

    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (input);
      return ret;
    }
    self->discont_seen = TRUE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->submit_input_buffer (trans,
      is_discont, input);
}

static GstFlowReturn
gst_deit_classify_generate_output (GstBaseTransform * trans,
    GstBuffer ** outbuf)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  GstDeitClassifyHeld *held;
  GstBuffer *buf = NULL;
  GstFlowReturn ret;

  if (self->batch_active <= 1)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->generate_output (trans,
        outbuf);

  /* the frames of a finished batch, one per call: the chain function pushes each
   * and calls again until no buffer comes */
  *outbuf = g_queue_pop_head (&self->ready);
  if (*outbuf) {
    self->discont_seen = FALSE;
    return GST_FLOW_OK;
  }

  self->cur_held = FALSE;
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->generate_output (trans, &buf);
  if (!self->cur_held) {
    /* no input, an error, or a frame that needed no holding */
    *outbuf = buf;
    if (buf && ret == GST_FLOW_OK)
      self->discont_seen = FALSE;
    return ret;
  }
  self->cur_held = FALSE;
  held = g_queue_peek_tail (&self->held);
  if (ret != GST_FLOW_OK || !buf) {
    /* transform_frame_ip holds a frame only as its last, successful step */
    g_queue_pop_tail (&self->held);
    if (held->slot >= 0)
      self->n_due--;
    gst_deit_classify_held_free (held);
    *outbuf = buf;
    return ret;
  }
  held->buffer = buf;

  if (self->n_due < self->batch_active &&
      g_queue_get_length (&self->held) < MAX_HELD_FRAMES)
    return GST_FLOW_OK;         /* no buffer: wait for the next frame */

  ret = gst_deit_classify_batch_run (self);
  if (ret != GST_FLOW_OK)
    return ret;
  *outbuf = g_queue_pop_head (&self->ready);
  if (*outbuf)
    self->discont_seen = FALSE;
  return GST_FLOW_OK;
}

/* Upstream allocates the frames we hold: ask its pool for that many more. */
static gboolean
gst_deit_classify_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  guint i, extra, interval;
  gboolean ret;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->propose_allocation (trans,
      decide_query, query);
  if (self->batch_active <= 1)
    return ret;

  /* also when downstream did not answer (fakesink): the pool hint is ours */
  GST_OBJECT_LOCK (self);
  interval = self->interval;
  GST_OBJECT_UNLOCK (self);
  extra = gst_deit_classify_max_held (self->batch_active, interval) - 1;
  if (extra > 0 && gst_query_get_n_allocation_pools (query) == 0) {
    GstCaps *caps;
    GstVideoInfo info;

    /* no pool downstream: still tell upstream how many buffers we keep */
    gst_query_parse_allocation (query, &caps, NULL);
    if (caps && gst_video_info_from_caps (&info, caps))
      gst_query_add_allocation_pool (query, NULL, GST_VIDEO_INFO_SIZE (&info),
          0, 0);
  }
  for (i = 0; i < gst_query_get_n_allocation_pools (query); i++) {
    GstBufferPool *pool;
    guint size, min, max;

    gst_query_parse_nth_allocation_pool (query, i, &pool, &size, &min, &max);
    min += extra;
    if (max != 0 && max < min)
      max = min;
    GST_DEBUG_OBJECT (self, "pool %u: asking for %u buffers at least (%u held)",
        i, min, extra + 1);
    gst_query_set_nth_allocation_pool (query, i, pool, size, min, max);
    if (pool)
      gst_object_unref (pool);
  }
  return ret || extra > 0;
}

/* ------------------------------------------------------------------------------------
 * GstVideoFilter / GstBaseTransform vfuncs
 */
static GstFlowReturn
gst_deit_classify_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (filter);
  GstBaseTransform *trans = GST_BASE_TRANSFORM (filter);
  GstBuffer *buf = frame->buffer;
  GstDeitClassification *res = NULL;
  guint n = 0, top_k, interval;
  gfloat threshold;
  gboolean post, attach_roi, run, fresh = FALSE;
  guint64 frame_number;
  GstFlowReturn ret;

  if (!self->state)
    return GST_FLOW_NOT_NEGOTIATED;

  GST_OBJECT_LOCK (self);
  top_k = self->top_k;
  threshold = (gfloat) self->threshold;
  interval = self->interval;
  post = self->post_messages;
  attach_roi = self->attach_roi_meta;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  frame_number = self->frame_count++;
  run = !self->submitted_any || frame_number - self->last_submitted >= interval;
  if (self->async_active) {
    if (run && !self->pending && !self->worker_busy)
      gst_deit_classify_submit (self, frame, frame_number);
    run = FALSE;
  } else if (run) {
    self->last_submitted = frame_number;
    self->submitted_any = TRUE;
  }
  g_mutex_unlock (&self->lock);

  if (self->batch_active > 1)
    return gst_deit_classify_batch_add (self, frame, frame_number, run,
        attach_roi);

  if (run) {
    ret = gst_deit_classify_infer (self, frame, top_k, threshold, &res, &n);
    if (ret != GST_FLOW_OK)
      return ret;
    g_mutex_lock (&self->lock);
    gst_deit_classify_store_result (self, res, n, GST_BUFFER_PTS (buf),
        frame_number);
    g_mutex_unlock (&self->lock);
    fresh = TRUE;
  }

  g_mutex_lock (&self->lock);
  if (self->have_last)
    gst_deit_classify_attach (self, buf, &frame->info, self->last,
        self->n_last, self->last_pts, fresh, frame_number, attach_roi);
  g_mutex_unlock (&self->lock);

  if (run && post) {
    GstClockTime pts = GST_BUFFER_PTS (buf);

    /* res stays valid: only this thread replaces the result in sync mode */
    gst_element_post_message (GST_ELEMENT (self),
        gst_deit_classify_message_new (self, res, n, pts,
            gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, pts),
            gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
                pts), GST_BUFFER_DURATION (buf), frame_number));
  }
  if (run)
    gst_deit_classify_check_latency (self);
  return GST_FLOW_OK;
}

static gboolean
gst_deit_classify_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (filter);
  enum deit_pixel_format format;
  gint w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);

  if (!gst_deit_classify_format_to_core (GST_VIDEO_INFO_FORMAT (in_info),
          &format) || w < 1 || h < 1 || w > DEIT_MAX_IMAGE_DIM || h > DEIT_MAX_IMAGE_DIM)
    goto unsupported;

  if (GST_VIDEO_INFO_IS_YUV (in_info) &&
      (in_info->colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_RGB ||
          in_info->colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_UNKNOWN))
    GST_WARNING_OBJECT (self, "colour matrix %d not usable for YUV, using BT.601",
        in_info->colorimetry.matrix);
  g_mutex_lock (&self->lock);
  self->frame_duration = GST_VIDEO_INFO_FPS_N (in_info) > 0 ?
      gst_util_uint64_scale_int (GST_SECOND, GST_VIDEO_INFO_FPS_D (in_info),
      GST_VIDEO_INFO_FPS_N (in_info)) : GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "configured for %" GST_PTR_FORMAT, incaps);
  return TRUE;

  /* ERRORS */
unsupported:
  {
    GST_WARNING_OBJECT (self, "caps %" GST_PTR_FORMAT " not supported; "
        "deitclassify accepts video/x-raw, format=%s, width and height in "
        "[1, " DEIT_MAX_DIM_STR "]", incaps, DEIT_FORMATS);
    return FALSE;
  }
}

static gboolean
gst_deit_classify_accept_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps)
{
  gboolean ret;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->accept_caps (trans,
      direction, caps);
  if (!ret)
    GST_WARNING_OBJECT (trans, "caps %" GST_PTR_FORMAT " not accepted; "
        "deitclassify accepts video/x-raw, format=%s, width and height in "
        "[1, " DEIT_MAX_DIM_STR "]", caps, DEIT_FORMATS);
  return ret;
}

static gboolean
gst_deit_classify_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  gboolean ret;

  /* serialized queries (drain, allocation...) come after the frames we hold */
  if (direction == GST_PAD_SINK && GST_QUERY_IS_SERIALIZED (query))
    gst_deit_classify_drain (self);

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
  if (ret && direction == GST_PAD_SINK &&
      GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *filter, *result;

    /* upstream asks what we take, offering only what we cannot: say why the
     * negotiation is going to fail */
    gst_query_parse_caps (query, &filter);
    gst_query_parse_caps_result (query, &result);
    if (filter && result && gst_caps_is_empty (result))
      GST_WARNING_OBJECT (self, "upstream offers only %" GST_PTR_FORMAT
          "; deitclassify accepts video/x-raw, format=%s, width and height "
          "in [1, " DEIT_MAX_DIM_STR "]", filter, DEIT_FORMATS);
  }
  if (ret && direction == GST_PAD_SRC &&
      GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live, unknown_rate;
    GstClockTime min, max, ours;
    guint interval;

    GST_OBJECT_LOCK (self);
    interval = self->interval;
    GST_OBJECT_UNLOCK (self);

    gst_query_parse_latency (query, &live, &min, &max);
    g_mutex_lock (&self->lock);
    ours = gst_deit_classify_own_latency (self, interval);
    self->reported_latency = ours;
    self->upstream_live = live;
    unknown_rate = self->batch_active > 1 &&
        self->frame_duration == GST_CLOCK_TIME_NONE;
    g_mutex_unlock (&self->lock);
    if (live && unknown_rate)
      GST_WARNING_OBJECT (self, "batch-size %u in a live pipeline with a "
          "variable frame rate: the frames a batch holds back are not in the "
          "latency; use batch-size=1 or async=true for live sources",
          self->batch_active);
    GST_DEBUG_OBJECT (self, "upstream latency min %" GST_TIME_FORMAT
        " max %" GST_TIME_FORMAT ", adding %" GST_TIME_FORMAT,
        GST_TIME_ARGS (min), GST_TIME_ARGS (max), GST_TIME_ARGS (ours));
    min += ours;
    if (max != GST_CLOCK_TIME_NONE)
      max += ours;
    gst_query_set_latency (query, live, min, max);
  }
  return ret;
}

static gboolean
gst_deit_classify_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);

  /* nothing overtakes a held frame: EOS, caps (before they apply), segment, gap,
   * tags... first run the partial batch and push what is held */
  if (GST_EVENT_IS_SERIALIZED (event) &&
      GST_EVENT_TYPE (event) != GST_EVENT_FLUSH_STOP)
    gst_deit_classify_drain (self);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      /* async: the frame being classified has passed already, but its bus
       * message is still due (a short file can end before the first result) */
      g_mutex_lock (&self->lock);
      while (self->async_active && !self->worker_stop &&
          (self->pending || self->worker_busy))
        g_cond_wait (&self->cond, &self->lock);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_START:
      g_atomic_int_set (&self->abort, 1);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      /* results from before a seek do not describe the frames after it */
      gst_deit_classify_job_free (self->pending);
      self->pending = NULL;
      self->have_last = FALSE;
      self->submitted_any = FALSE;
      self->flush_seq++;
      g_mutex_unlock (&self->lock);
      /* the streaming thread is out of the element now: drop the held frames */
      gst_deit_classify_batch_clear (self);
      g_atomic_int_set (&self->abort, 0);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ------------------------------------------------------------------------------------
 * start / stop
 */

/* Read a labels file, one label per line; trailing empty lines are ignored. */
static gchar **
gst_deit_classify_read_labels (const gchar * path, gint * n_out,
    GError ** error)
{
  gchar *contents = NULL, **lines;
  const gchar *bad = NULL;
  gsize len = 0;
  gint n, i;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  /* labels end up in GValues, bus messages and JSON: they must be UTF-8 */
  if (!g_utf8_validate (contents, len, &bad)) {
    gint line = 1;
    const gchar *c;

    for (c = contents; c < bad; c++)
      line += *c == '\n';
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "line %d is not UTF-8 text (or the file holds a NUL byte): save the "
        "file as UTF-8, one label per line", line);
    g_free (contents);
    return NULL;
  }
  lines = g_strsplit (contents, "\n", -1);
  g_free (contents);
  n = g_strv_length (lines);
  while (n > 0 && lines[n - 1][0] == '\0') {
    g_free (lines[n - 1]);
    lines[--n] = NULL;
  }
  for (i = 0; i < n; i++)
    g_strchomp (lines[i]);      /* also removes the \r of CRLF files */
  *n_out = n;
  return lines;
}

static void
gst_deit_classify_post_load_error (GstDeitClassify * self,
    const gchar * location, const struct deit_error *err)
{
  const gchar *status = deit_status_to_string (err->status);

  switch (err->status) {
    case DEIT_STATUS_ERROR_NOT_FOUND:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Model \"%s\" not found: %s", location, err->message),
          ("deit_model_load: %s", status));
      break;
    case DEIT_STATUS_ERROR_IO:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not read model \"%s\": %s", location, err->message),
          ("deit_model_load: %s", status));
      break;
    case DEIT_STATUS_ERROR_NO_MEMORY:
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
          ("Not enough memory to load model \"%s\": %s", location,
              err->message), ("deit_model_load: %s", status));
      break;
    default:
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("Could not load model \"%s\": %s", location, err->message),
          ("deit_model_load: %s", status));
      break;
  }
}

static gboolean
gst_deit_classify_stop (GstBaseTransform * trans)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);

  gst_deit_classify_worker_stop (self);
  gst_deit_classify_batch_clear (self);
  self->batch_active = 1;
  if (self->qos_overridden) {
    gst_base_transform_set_qos_enabled (trans, TRUE);
    self->qos_overridden = FALSE;
  }

  deit_state_free (self->state);
  self->state = NULL;
  gst_deit_classify_model_release (self->model_entry);
  self->model_entry = NULL;
  self->model = NULL;
  g_strfreev (self->labels);
  self->labels = NULL;
  g_free (self->model_name);
  self->model_name = NULL;

  g_mutex_lock (&self->lock);
  g_free (self->last);
  self->last = NULL;
  self->n_last = 0;
  self->have_last = FALSE;
  self->submitted_any = FALSE;
  self->frame_count = 0;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
gst_deit_classify_log_summary (GstDeitClassify * self,
    const struct deit_model_info *mi)
{
  const struct deit_preprocess_config *pc =
      deit_model_get_preprocess_config (self->model);

  GST_INFO_OBJECT (self, "model %s: %s, image %dx%d, patch %d, %d tokens, "
      "hidden %d, %d layers, %d heads, mlp %d, %d labels%s, %.1f MB of weights",
      mi->name, deit_arch_to_string (mi->arch), mi->image_width,
      mi->image_height, mi->patch_size, mi->num_tokens, mi->hidden_size,
      mi->num_layers, mi->num_heads, mi->intermediate_size, mi->num_labels,
      self->labels ? " (from labels file)" : "", mi->weight_bytes / 1e6);
  GST_INFO_OBJECT (self, "preprocessing: resize %s %dx%d (shortest edge %d, "
      "resample %d), crop %s %dx%d", pc->do_resize ? "on" : "off",
      pc->resize_width, pc->resize_height, pc->shortest_edge, pc->resample,
      pc->do_center_crop ? "on" : "off", pc->crop_width, pc->crop_height);
}

static gboolean
gst_deit_classify_start (GstBaseTransform * trans)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  struct deit_error err = { 0 };
  struct deit_state_params sp = deit_state_default_params ();
  const struct deit_model_info *mi;
  gchar *location, *labels_location;
  gint threads, n_labels = 0;
  gboolean async;
  guint batch;
  GError *gerr = NULL;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->model_location);
  labels_location = g_strdup (self->labels_location);
  threads = self->threads;
  async = self->async;
  batch = self->batch_size;
  GST_OBJECT_UNLOCK (self);

  /* async mode classifies the newest frame alone: it wins over batch-size */
  if (async && batch > 1) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("batch-size=%u is ignored with async=true: async mode classifies "
            "the newest frame alone.", batch), (NULL));
    batch = 1;
  }

  g_atomic_int_set (&self->abort, 0);

  if (!location || !*location)
    goto no_model;

  self->model_entry = gst_deit_classify_model_acquire (self, location, &err);
  if (!self->model_entry)
    goto load_failed;
  self->model = self->model_entry->model;
  mi = deit_model_get_info (self->model);
  if (mi->num_labels <= 0)
    goto no_classifier;
  self->num_classes = mi->num_labels;
  self->model_name = g_strdup (mi->name ? mi->name : location);

  if (labels_location && *labels_location) {
    self->labels = gst_deit_classify_read_labels (labels_location, &n_labels,
        &gerr);
    if (!self->labels)
      goto labels_unreadable;
    if (n_labels != mi->num_labels)
      goto labels_mismatch;
  }
  gst_deit_classify_log_summary (self, mi);
  /* a preprocessing config that cannot feed the model fails here, with the
   * fields to fix, not on the first frame */
  if (deit_model_check_preprocess (self->model, &err) != DEIT_STATUS_OK)
    goto cannot_preprocess;

  sp.max_batch = (gint) batch;
  sp.n_threads = threads;
  self->state = deit_state_init (self->model, &sp, &err);
  if (!self->state)
    goto state_failed;

  g_mutex_lock (&self->lock);
  self->frame_count = 0;
  self->have_last = FALSE;
  self->submitted_any = FALSE;
  self->inference_time = batch * gst_deit_classify_estimate_time (mi,
      threads > 0 ? threads : deit_default_threads ());
  self->inference_timed = FALSE;
  self->reported_latency = GST_CLOCK_TIME_NONE;
  self->upstream_live = FALSE;
  self->async_active = async;
  self->worker_stop = FALSE;
  self->worker_busy = FALSE;
  g_mutex_unlock (&self->lock);
  self->batch_active = batch;
  /* held frames are late by design: QoS would drop frames that must be tagged */
  if (batch > 1 && gst_base_transform_is_qos_enabled (trans)) {
    GST_INFO_OBJECT (self, "batch mode: QoS off while running");
    gst_base_transform_set_qos_enabled (trans, FALSE);
    self->qos_overridden = TRUE;
  }
  self->n_due = 0;
  self->cur_held = FALSE;
  self->discont_seen = FALSE;
  self->preprocess_us = 0;
  GST_DEBUG_OBJECT (self, "estimated inference time %" GST_TIME_FORMAT
      " (batch of %u)", GST_TIME_ARGS (self->inference_time), batch);

  if (async) {
    self->worker = g_thread_try_new ("deitclassify", gst_deit_classify_worker,
        self, &gerr);
    if (!self->worker)
      goto thread_failed;
  }

  g_free (location);
  g_free (labels_location);
  return TRUE;

  /* ERRORS */
no_model:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No model directory specified."),
        ("set the \"model\" property to a checkpoint directory holding "
            "config.json, preprocessor_config.json and model.safetensors"));
    goto fail;
  }
load_failed:
  {
    gst_deit_classify_post_load_error (self, location, &err);
    goto fail;
  }
no_classifier:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Model \"%s\" is a %s, which has no classification head: use a "
            "checkpoint whose config.json names DeiTForImageClassification"
            "WithTeacher, DeiTForImageClassification or "
            "ViTForImageClassification.", location,
            deit_arch_to_string (mi->arch)), (NULL));
    goto fail;
  }
labels_unreadable:
  {
    if (g_error_matches (gerr, G_FILE_ERROR, G_FILE_ERROR_INVAL))
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Labels file \"%s\": %s", labels_location, gerr->message), (NULL));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Could not read labels file \"%s\": %s", labels_location,
              gerr->message), (NULL));
    g_clear_error (&gerr);
    goto fail;
  }
labels_mismatch:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Labels file \"%s\" has %d labels but model \"%s\" has %d classes: "
            "give one label per line, one line per class.", labels_location,
            n_labels, location, mi->num_labels), (NULL));
    goto fail;
  }
cannot_preprocess:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Model \"%s\" cannot be fed video frames: %s", location,
            err.message),
        ("deit_model_check_preprocess: %s", deit_status_to_string (err.status)));
    goto fail;
  }
state_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        ("Could not initialise inference: %s", err.message),
        ("deit_state_init: %s", deit_status_to_string (err.status)));
    goto fail;
  }
thread_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not start the inference thread: %s", gerr->message), (NULL));
    g_clear_error (&gerr);
    goto fail;
  }
fail:
  {
    g_free (location);
    g_free (labels_location);
    gst_deit_classify_stop (trans);
    return FALSE;
  }
}

static GstStateChangeReturn
gst_deit_classify_change_state (GstElement * element, GstStateChange transition)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (element);

  GST_DEBUG_OBJECT (self, "%s -> %s",
      gst_element_state_get_name (GST_STATE_TRANSITION_CURRENT (transition)),
      gst_element_state_get_name (GST_STATE_TRANSITION_NEXT (transition)));
  /* make a running inference return so that the streaming thread can stop */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    g_atomic_int_set (&self->abort, 1);

  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* ------------------------------------------------------------------------------------
 * Properties
 */

/* Called with the object lock: may a READY-mutable property change now? */
static gboolean
gst_deit_classify_can_change (GstDeitClassify * self, const gchar * name)
{
  GstState state = GST_STATE (self);

  if (state != GST_STATE_READY && state != GST_STATE_NULL) {
    GST_WARNING_OBJECT (self, "changing \"%s\" is only possible in the NULL "
        "or READY state", name);
    return FALSE;
  }
  return TRUE;
}

static void
gst_deit_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      if (gst_deit_classify_can_change (self, pspec->name)) {
        g_free (self->model_location);
        self->model_location = g_value_dup_string (value);
      }
      break;
    case PROP_LABELS:
      if (gst_deit_classify_can_change (self, pspec->name)) {
        g_free (self->labels_location);
        self->labels_location = g_value_dup_string (value);
      }
      break;
    case PROP_THREADS:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->threads = g_value_get_int (value);
      break;
    case PROP_ASYNC:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->async = g_value_get_boolean (value);
      break;
    case PROP_BATCH_SIZE:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->batch_size = g_value_get_uint (value);
      break;
    case PROP_TOP_K:
      self->top_k = g_value_get_uint (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_INTERVAL:
      self->interval = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_ATTACH_ROI_META:
      self->attach_roi_meta = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_deit_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_location);
      break;
    case PROP_LABELS:
      g_value_set_string (value, self->labels_location);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_ASYNC:
      g_value_set_boolean (value, self->async);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_TOP_K:
      g_value_set_uint (value, self->top_k);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_ATTACH_ROI_META:
      g_value_set_boolean (value, self->attach_roi_meta);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_deit_classify_finalize (GObject * object)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (object);

  g_free (self->model_location);
  g_free (self->labels_location);
  g_free (self->last);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_deit_classify_init (GstDeitClassify * self)
{
  self->model_location = g_strdup (DEFAULT_PROP_MODEL);
  self->labels_location = g_strdup (DEFAULT_PROP_LABELS);
  self->top_k = DEFAULT_PROP_TOP_K;
  self->threshold = DEFAULT_PROP_THRESHOLD;
  self->interval = DEFAULT_PROP_INTERVAL;
  self->threads = DEFAULT_PROP_THREADS;
  self->post_messages = DEFAULT_PROP_POST_MESSAGES;
  self->attach_roi_meta = DEFAULT_PROP_ATTACH_ROI_META;
  self->async = DEFAULT_PROP_ASYNC;
  self->batch_size = DEFAULT_PROP_BATCH_SIZE;
  self->batch_active = 1;
  g_queue_init (&self->held);
  g_queue_init (&self->ready);
  self->frame_duration = GST_CLOCK_TIME_NONE;
  self->inference_time = GST_CLOCK_TIME_NONE;
  self->reported_latency = GST_CLOCK_TIME_NONE;
  self->upstream_live = FALSE;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_deit_classify_class_init (GstDeitClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (deit_classify_debug, "deitclassify", 0,
      "DeiT / ViT image classification");

  gobject_class->set_property = gst_deit_classify_set_property;
  gobject_class->get_property = gst_deit_classify_get_property;
  gobject_class->finalize = gst_deit_classify_finalize;

  /**
   * GstDeitClassify:model:
   *
   * Checkpoint directory: config.json, preprocessor_config.json and
   * model.safetensors (or pytorch_model.bin), as downloaded from the Hub.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Checkpoint directory (config.json, preprocessor_config.json, "
          "model.safetensors or pytorch_model.bin)", DEFAULT_PROP_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:labels:
   *
   * Optional text file with one label per line (line N = class N), overriding
   * config.json's id2label. Must have exactly one line per class.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels",
          "Text file with one label per line, overriding the model's id2label "
          "(NULL: use id2label)", DEFAULT_PROP_LABELS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:top-k:
   *
   * Number of most probable classes reported (capped at the number of classes).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TOP_K,
      g_param_spec_uint ("top-k", "Top K",
          "Number of most probable classes to report", 1, G_MAXINT,
          DEFAULT_PROP_TOP_K, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:threshold:
   *
   * Minimum softmax probability a class needs to be reported.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Minimum probability (0..1) of a reported class", 0.0, 1.0,
          DEFAULT_PROP_THRESHOLD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:interval:
   *
   * Classify every Nth frame; the frames in between carry the latest result
   * with fresh = FALSE.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Classify every Nth frame (frames in between carry the latest result, "
          "marked not fresh)", 1, G_MAXINT, DEFAULT_PROP_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:threads:
   *
   * Worker threads of one inference, including the streaming thread.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Threads per inference (0 = one per CPU core)", 0, MAX_THREADS,
          DEFAULT_PROP_THREADS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:post-messages:
   *
   * Post a "deitclassify" element message for every classified frame.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post Messages",
          "Post an element message named deitclassify per classified frame",
          DEFAULT_PROP_POST_MESSAGES, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:attach-roi-meta:
   *
   * Also attach a full-frame GstVideoRegionOfInterestMeta with a
   * "deit-classification" parameter structure (label, label_id, confidence,
   * model_name, top-k arrays) for consumers that read ROI metas.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ATTACH_ROI_META,
      g_param_spec_boolean ("attach-roi-meta", "Attach ROI Meta",
          "Also attach a full-frame GstVideoRegionOfInterestMeta carrying the "
          "result", DEFAULT_PROP_ATTACH_ROI_META, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:async:
   *
   * Live mode: run the inference on a worker thread on the newest frame; video
   * never waits for it. Frames carry the latest finished result (fresh =
   * FALSE); frames arriving while the worker is busy are not classified. Use
   * for cameras and other live sources slower to classify than to display.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ASYNC,
      g_param_spec_boolean ("async", "Async",
          "Classify on a worker thread; frames never wait and carry the latest "
          "result (for live sources)", DEFAULT_PROP_ASYNC, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:batch-size:
   *
   * Offline throughput: classify this many frames per inference. The element
   * holds the frames back until batch-size of them are due for inference
   * (with #GstDeitClassify:interval N, the frames in between are held too,
   * up to (batch-size - 1) x N + 1 frames, at most 256), then classifies them
   * together and pushes them in order. Results are the same as with
   * batch-size 1; only the frames come out in bursts. A partial batch runs at
   * EOS, caps changes and any other serialized event or query; flushing drops
   * it. In live pipelines the LATENCY query includes the frames held; with
   * #GstDeitClassify:async, batch-size is ignored.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch Size",
          "Frames classified together in one inference (offline throughput: "
          "frames are held back until a batch is full; ignored with async)",
          1, MAX_BATCH_SIZE, DEFAULT_PROP_BATCH_SIZE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  gst_element_class_set_static_metadata (element_class,
      "DeiT image classifier", "Filter/Analyzer/Video",
      "Classifies video frames with a DeiT / ViT checkpoint and attaches the "
      "top-k classes as metadata", "gst-deit developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_deit_classify_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_deit_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_deit_classify_stop);
  trans_class->accept_caps = GST_DEBUG_FUNCPTR (gst_deit_classify_accept_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_deit_classify_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_deit_classify_sink_event);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_deit_classify_submit_input_buffer);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (gst_deit_classify_generate_output);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_deit_classify_propose_allocation);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_deit_classify_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_deit_classify_transform_frame_ip);
}
