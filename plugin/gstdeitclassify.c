/* gstdeitclassify.c - deitclassify: DeiT / ViT image classification of raw video
 * frames (the element: GObject / GstBaseTransform glue, start / stop, events and
 * queries). Frames are never modified; each gets the latest result as a
 * GstDeitClassifyMeta and a full-frame ROI meta, or, with inference-region=roi-list,
 * one result per box of an upstream detector. The units below this file are listed,
 * with the data they share, in gstdeitclassify.h; the user documentation follows this
 * comment.
 *
 * Threads and locks
 *
 * Threads: the application's (properties, state changes: start() / stop()), the
 * streaming thread (transform_frame_ip, events, queries, the batch queue) and, in
 * async mode, the worker (gstdeitclassifyasync.c). The thread that runs inferences
 * ("the inference thread") is the streaming thread in sync and batch mode, the
 * worker in async mode.
 *
 * 1. The object lock (GST_OBJECT_LOCK) guards the properties and nothing else: the
 *    model_location, labels_location (properties labels-file and its deprecated
 *    alias labels), labels_deprecation_warned, threads, async, batch_size,
 *    inference_region, object_class and the GstDeitClassifySettings in
 *    self->settings (gstdeitclassifyprops.c). The streaming thread takes it once
 *    per frame, in gst_deit_classify_frame_begin() (settings_snapshot()), and the
 *    frame carries the copy (GstDeitClassifyFrame.settings) to wherever it is
 *    classified and published; start() copies the READY-only properties once.
 * 2. The element's mutex (self->lock, with self->cond) guards what two threads touch
 *    while streaming: the latest result (last, n_last, have_last, last_pts,
 *    last_frame), which frame is classified next (frame_count, last_submitted,
 *    submitted_any), flush_seq, the timing and latency fields (inference_time,
 *    inference_timed, reported_latency, upstream_live, frame_duration) and the
 *    worker's hand-over (worker.thread, worker.stop, worker.busy, worker.pending)
 *    and, in roi-list mode, the object cache (objects: results of tracked objects).
 *    self->cond wakes the worker (a frame, or stop) and EOS waiting for it.
 *    A synchronous frame takes it at most four times: to count and decide, to fold
 *    the inference time in, to publish the result, to check the latency.
 * 3. The two are never held together, and neither is held while running the core,
 *    posting a message or pushing a buffer. The model cache has its own lock
 *    (gstdeitmodelcache.c), taken by nothing else and holding nothing else.
 * 4. No lock, by ownership:
 *    - start() sets, and stop() clears, what describes the running model:
 *      model_entry, model, labels, num_classes, model_name, async_active,
 *      batch_active, roi_active, roi_chunk. In between they are read-only, read by any thread.
 *    - self->state belongs to the inference thread (and to start() / stop(), when
 *      none runs). So does the preprocessing time: preprocess() returns it to its
 *      caller; the batch queue keeps the latest one in batch.preprocess_us.
 *    - self->batch and qos_overridden belong to the streaming thread; FLUSH_STOP and
 *      stop() clear the batch while the streaming thread is out of the element.
 *    - caps_warned is atomic: set when the bus got the warning that caps were
 *      refused, cleared by start() and by caps that negotiate.
 *    - abort is atomic: PAUSED -> READY, FLUSH_START and stop() set it so that a
 *      running inference returns; start() and FLUSH_STOP clear it.
 *    - a GstDeitClassifyFrame has one owner at a time: the streaming thread's stack
 *      (sync), the batch queue, or worker.pending (under the mutex) and then the
 *      worker that took it.
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
 * ## Regions of interest
 *
 * With #GstDeitClassify:inference-region roi-list, the element classifies each
 * #GstVideoRegionOfInterestMeta box of the frame (the second stage of a
 * detector -> classifier cascade) instead of the frame: a box clipped to the
 * frame is classified as if that crop were the image. #GstDeitClassify:object-class
 * and #GstDeitClassify:object-min-width / #GstDeitClassify:object-min-height pick
 * the boxes; all boxes of a frame share forward passes (up to 64 per pass). Each
 * classified box gets a `deit-classification` parameter on its ROI meta, one
 * #GstDeitClassifyMeta (roi_id = the ROI meta's id, the clipped rectangle) and one
 * element message with the fields below plus `roi-id` (#gint), `roi-type`
 * (#gchararray), `x`, `y`, `width`, `height` (#guint). Tracked objects (an
 * `object_id` parameter with an `id` field, as gvatrack writes it, else a non-zero
 * meta id) are classified again only every #GstDeitClassify:reclassify-interval
 * frames and carry their last result, not fresh, in between. No full-frame result
 * is attached in this mode; frames without boxes pass untouched.
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
 * * `score` (#gdouble): its probability in [0, 1] (0 if none): softmax, or
 *   sigmoid for multi-label models (#GstDeitClassify:score-function)
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
 * |[
 * gst-launch-1.0 -m filesrc location=photo.png ! decodebin ! videoconvert ! \
 *     facedetect display=false ! videoconvert ! \
 *     deitclassify model=deit-tiny-distilled-patch16-224 \
 *     inference-region=roi-list object-class=face ! fakesink
 * ]| Classifies each face facedetect finds (pipelines/classify-objects.sh).
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
#include "gstdeitclassifyasync.h"
#include "gstdeitclassifybatch.h"
#include "gstdeitclassifycaps.h"
#include "gstdeitclassifyframe.h"
#include "gstdeitclassifylatency.h"
#include "gstdeitclassifymodel.h"
#include "gstdeitclassifyprops.h"
#include "gstdeitclassifyroi.h"

GST_DEBUG_CATEGORY (deit_classify_debug);
#define GST_CAT_DEFAULT deit_classify_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_DEIT_CLASSIFY_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_DEIT_CLASSIFY_CAPS));

#define gst_deit_classify_parent_class parent_class
G_DEFINE_TYPE (GstDeitClassify, gst_deit_classify, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (deitclassify, "deitclassify", GST_RANK_NONE,
    GST_TYPE_DEIT_CLASSIFY);

/* ------------------------------------------------------------------------------------
 * GstVideoFilter / GstBaseTransform vfuncs
 */
/* Sync mode, full frame: classify it if due, attach the latest result. */
static GstFlowReturn
gst_deit_classify_full_frame (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f, gboolean run)
{
  GstDeitClassification *res = NULL;
  guint n = 0;
  GstFlowReturn ret;

  if (run) {
    ret = gst_deit_classify_infer (self, vframe, &f->settings, &res, &n);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  gst_deit_classify_publish_result (self, f, vframe->buffer, res, n);
  if (run)
    gst_deit_classify_latency_check (self, f->settings.interval);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_deit_classify_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * vframe)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (filter);
  GstDeitClassifyFrame f;
  gboolean run;
  GstFlowReturn ret;

  if (!self->state)
    return GST_FLOW_NOT_NEGOTIATED;

  /* async mode: handed to the worker if it is idle, and run is FALSE */
  run = gst_deit_classify_frame_begin (self, vframe, &f);
  if (self->batch_active > 1)
    ret = gst_deit_classify_batch_add (self, vframe, &f, run);
  else if (self->roi_active)
    ret = gst_deit_classify_roi_frame (self, vframe, &f, run);
  else
    ret = gst_deit_classify_full_frame (self, vframe, &f, run);
  gst_deit_classify_frame_clear (&f);
  return ret;
}

static GstFlowReturn
gst_deit_classify_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);

  if (self->batch_active > 1 && is_discont) {
    GstFlowReturn ret = gst_deit_classify_batch_discont (self);

    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (input);
      return ret;
    }
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->submit_input_buffer (trans,
      is_discont, input);
}

static GstFlowReturn
gst_deit_classify_generate_output (GstBaseTransform * trans,
    GstBuffer ** outbuf)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  GstBuffer *buf = NULL;
  GstFlowReturn ret;

  if (self->batch_active <= 1)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->generate_output (trans,
        outbuf);

  if (gst_deit_classify_batch_pop_ready (self, outbuf))
    return GST_FLOW_OK;
  /* set by batch_add() if transform_frame_ip holds this input back */
  self->batch.cur_held = FALSE;
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->generate_output (trans, &buf);
  return gst_deit_classify_batch_adopt (self, ret, buf, outbuf);
}

static gboolean
gst_deit_classify_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  gboolean ret;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->propose_allocation (trans,
      decide_query, query);
  if (self->batch_active <= 1)
    return ret;
  /* upstream allocates the frames we hold: ask its pool for that many more */
  return gst_deit_classify_batch_propose_allocation (self, query) || ret;
}

static gboolean
gst_deit_classify_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  return gst_deit_classify_caps_set_info (GST_DEIT_CLASSIFY (filter), incaps,
      in_info);
}

static gboolean
gst_deit_classify_accept_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps)
{
  gboolean ret;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->accept_caps (trans,
      direction, caps);
  if (!ret)
    gst_deit_classify_caps_refused (GST_DEIT_CLASSIFY (trans),
        "caps not accepted", caps);
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
    gst_deit_classify_batch_drain (self);

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
  if (ret && direction == GST_PAD_SINK &&
      GST_QUERY_TYPE (query) == GST_QUERY_CAPS)
    gst_deit_classify_caps_check_query (self, query);
  if (ret && direction == GST_PAD_SRC &&
      GST_QUERY_TYPE (query) == GST_QUERY_LATENCY)
    gst_deit_classify_latency_query (self, query);
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
    gst_deit_classify_batch_drain (self);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      gst_deit_classify_async_wait_idle (self);
      break;
    case GST_EVENT_FLUSH_START:
      g_atomic_int_set (&self->abort, 1);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      /* results from before a seek do not describe the frames after it */
      gst_deit_classify_async_flush (self);
      self->have_last = FALSE;
      self->submitted_any = FALSE;
      self->flush_seq++;
      if (self->objects)
        gst_deit_object_cache_clear (self->objects);
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

/* No result, no frame seen (start(), stop(); called with self->lock). */
static void
gst_deit_classify_reset_locked (GstDeitClassify * self)
{
  self->have_last = FALSE;
  self->submitted_any = FALSE;
  self->frame_count = 0;
}

static gboolean
gst_deit_classify_stop (GstBaseTransform * trans)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);

  gst_deit_classify_async_stop (self);
  gst_deit_classify_batch_clear (self);
  self->batch_active = 1;
  if (self->qos_overridden) {
    gst_base_transform_set_qos_enabled (trans, TRUE);
    self->qos_overridden = FALSE;
  }

  deit_state_free (self->state);
  self->state = NULL;
  gst_deit_classify_model_close (self);

  g_mutex_lock (&self->lock);
  g_free (self->last);
  self->last = NULL;
  self->n_last = 0;
  gst_deit_classify_reset_locked (self);
  gst_deit_object_cache_free (self->objects);
  self->objects = NULL;
  self->roi_active = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_deit_classify_start (GstBaseTransform * trans)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (trans);
  struct deit_error err = { 0 };
  struct deit_state_params sp = deit_state_default_params ();
  const struct deit_model_info *mi;
  gchar *location, *labels_location;
  gint threads;
  gboolean async, roi;
  guint batch;
  GError *gerr = NULL;
  GstClockTime estimate;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->model_location);
  labels_location = g_strdup (self->labels_location);
  threads = self->threads;
  async = self->async;
  batch = self->batch_size;
  roi = self->inference_region == GST_DEIT_CLASSIFY_INFERENCE_REGION_ROI_LIST;
  GST_OBJECT_UNLOCK (self);

  /* async mode classifies the newest frame alone: it wins over batch-size */
  if (async && batch > 1) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("batch-size=%u is ignored with async=true: async mode classifies "
            "the newest frame alone.", batch), (NULL));
    batch = 1;
  }

  g_atomic_int_set (&self->abort, 0);
  g_atomic_int_set (&self->caps_warned, 0);

  /* posts its own errors */
  if (!gst_deit_classify_model_open (self, location, labels_location))
    goto fail;
  mi = deit_model_get_info (self->model);
  GST_OBJECT_LOCK (self);
  self->settings.region_filter.preprocess =
      *deit_model_get_preprocess_config (self->model);
  GST_OBJECT_UNLOCK (self);

  /* roi-list: the regions of a frame (or of a batch of frames) go through forward
   * passes of up to roi_chunk images; batch-size counts frames */
  self->roi_chunk = roi ? gst_deit_classify_roi_chunk (mi) : 0;
  sp.max_batch = (gint) (roi ? self->roi_chunk : batch);
  sp.n_threads = threads;
  self->state = deit_state_init (self->model, &sp, &err);
  if (!self->state)
    goto state_failed;

  estimate = batch * gst_deit_classify_latency_estimate (mi,
      threads > 0 ? threads : deit_default_threads ());
  self->async_active = async;
  self->batch_active = batch;
  self->roi_active = roi;
  g_mutex_lock (&self->lock);
  gst_deit_classify_reset_locked (self);
  if (roi)
    self->objects = gst_deit_object_cache_new ();
  self->inference_time = estimate;
  self->inference_timed = FALSE;
  self->reported_latency = GST_CLOCK_TIME_NONE;
  self->upstream_live = FALSE;
  g_mutex_unlock (&self->lock);
  /* held frames are late by design: QoS would drop frames that must be tagged */
  if (batch > 1 && gst_base_transform_is_qos_enabled (trans)) {
    GST_INFO_OBJECT (self, "batch mode: QoS off while running");
    gst_base_transform_set_qos_enabled (trans, FALSE);
    self->qos_overridden = TRUE;
  }
  gst_deit_classify_batch_clear (self);
  GST_DEBUG_OBJECT (self, "estimated inference time %" GST_TIME_FORMAT
      " (batch of %u)", GST_TIME_ARGS (estimate), batch);

  if (!gst_deit_classify_async_start (self, &gerr))
    goto thread_failed;

  g_free (location);
  g_free (labels_location);
  return TRUE;

  /* ERRORS */
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

static void
gst_deit_classify_finalize (GObject * object)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (object);

  g_free (self->model_location);
  g_free (self->labels_location);
  g_free (self->object_class);
  g_free (self->last);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_deit_classify_init (GstDeitClassify * self)
{
  gst_deit_classify_properties_init (self);
  self->batch_active = 1;
  g_queue_init (&self->batch.held);
  g_queue_init (&self->batch.ready);
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

  gst_deit_classify_install_properties (gobject_class);

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
