/* gstdeitclassifybatch.c - batch mode of deitclassify (sync, batch-size > 1).
 *
 * transform_frame_ip() preprocesses each frame due for inference into the next input
 * slot and holds the frame back (gst_deit_classify_batch_add(); frames skipped by
 * interval after a held one are held too: they carry the result of the classified
 * frame before them); generate_output() adopts the buffer
 * (gst_deit_classify_batch_adopt()) and, once batch-size frames are due, runs the
 * batch, publishes the results of every held frame in order and hands the frames to
 * the base class' chain function one per call. Serialized events and queries (EOS,
 * caps, segment, gap, drain...) first run and push a partial batch
 * (gst_deit_classify_batch_drain()), so nothing overtakes a held frame; FLUSH_STOP and
 * stop() drop the held frames. Only the streaming thread touches self->batch
 * (FLUSH_STOP and stop() run while it is out of the element).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifybatch.h"
#include "gstdeitclassifyframe.h"
#include "gstdeitclassifylatency.h"
#include "gstdeitclassifyroi.h"

#define GST_CAT_DEFAULT deit_classify_debug

/* batch mode never holds more frames than this (interval > 1 holds the frames in
 * between too): a batch then runs with the frames it has */
#define MAX_HELD_FRAMES 256

/* Most frames batch mode holds back at once: (batch-size - 1) x interval + 1, capped
 * at MAX_HELD_FRAMES (a batch then runs early, partial). */
guint
gst_deit_classify_batch_max_held (guint batch, guint interval)
{
  guint64 n = (guint64) (batch - 1) * interval + 1;

  return (guint) MIN (n, MAX_HELD_FRAMES);
}

void
gst_deit_classify_batch_clear (GstDeitClassify * self)
{
  GstDeitClassifyBatch *b = &self->batch;
  GstDeitClassifyFrame *held;
  GstBuffer *buf;
  guint n = 0;

  while ((held = g_queue_pop_head (&b->held))) {
    gst_deit_classify_frame_free (held);
    n++;
  }
  while ((buf = g_queue_pop_head (&b->ready))) {
    gst_buffer_unref (buf);
    n++;
  }
  if (n)
    GST_DEBUG_OBJECT (self, "dropped %u held frames", n);
  b->n_due = 0;
  b->cur_held = FALSE;
  b->discont_seen = FALSE;
  b->preprocess_us = 0;
}

/* Hold the current frame (called from transform_frame_ip in batch mode): due for
 * inference, it is preprocessed into the next input slot. */
GstFlowReturn
gst_deit_classify_batch_add (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f, gboolean due)
{
  GstDeitClassifyBatch *b = &self->batch;
  GstDeitClassifyFrame *held;
  GstFlowReturn ret;

  if (self->roi_active)
    /* the boxes are classified when the batch runs, in as few passes as they fit */
    gst_deit_classify_roi_decide (self, f, due);
  if (!due && g_queue_is_empty (&b->held)) {
    /* no classified frame waits before this one: its result is known, let it go */
    if (self->roi_active)
      gst_deit_classify_roi_publish (self, f, vframe->buffer);
    else
      gst_deit_classify_publish_result (self, f, vframe->buffer, NULL, 0);
    return GST_FLOW_OK;
  }
  if (due && !self->roi_active) {
    ret = gst_deit_classify_preprocess (self, vframe, NULL, b->n_due,
        &b->preprocess_us);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  held = gst_deit_classify_frame_dup (f);
  held->slot = due ? (gint) b->n_due++ : -1;
  g_queue_push_tail (&b->held, held);
  b->cur_held = TRUE;
  GST_LOG_OBJECT (self,
      "holding frame %" G_GUINT64_FORMAT " (slot %d, %u held)",
      held->frame_number, held->slot, g_queue_get_length (&b->held));
  return GST_FLOW_OK;
}

/* roi-list mode: the due boxes of every held frame, in as few forward passes as they
 * fit (the held buffers are mapped again: their boxes were collected on them). */
static GstFlowReturn
gst_deit_classify_batch_run_regions (GstDeitClassify * self)
{
  GstDeitClassifyBatch *b = &self->batch;
  guint n = g_queue_get_length (&b->held), i = 0, mapped = 0;
  GstDeitClassifyFrame **frames = g_new0 (GstDeitClassifyFrame *, n);
  GstVideoFrame *vframes = g_new0 (GstVideoFrame, n);
  GstFlowReturn ret = GST_FLOW_OK;
  GList *l;

  for (l = b->held.head; l; l = l->next) {
    GstDeitClassifyFrame *held = l->data;

    if (held->slot < 0)
      continue;
    if (!gst_video_frame_map (&vframes[i], &held->info, held->buffer,
            GST_MAP_READ)) {
      ret = GST_FLOW_ERROR;
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map a held frame."),
          (NULL));
      break;
    }
    frames[i++] = held;
    mapped++;
  }
  if (ret == GST_FLOW_OK)
    ret = gst_deit_classify_roi_infer (self, frames, vframes, mapped);
  for (i = 0; i < mapped; i++)
    gst_video_frame_unmap (&vframes[i]);
  g_free (frames);
  g_free (vframes);
  return ret;
}

/* Run the held frames due for inference (a full or partial batch), publish the
 * results of every held frame in order and move the frames to the ready queue. On
 * FLUSHING (aborted) or an error the frames stay held. */
static GstFlowReturn
gst_deit_classify_batch_run (GstDeitClassify * self)
{
  GstDeitClassifyBatch *b = &self->batch;
  GstDeitClassifyFrame *held;
  guint n = b->n_due, interval;
  GstFlowReturn ret;
  gint64 t0, t1;

  if (n > 0 && self->roi_active) {
    ret = gst_deit_classify_batch_run_regions (self);
    if (ret != GST_FLOW_OK)
      return ret;
  } else if (n > 0) {
    t0 = g_get_monotonic_time ();
    ret = gst_deit_classify_run (self, (gint) n);
    if (ret != GST_FLOW_OK)
      return ret;
    t1 = g_get_monotonic_time ();
    GST_LOG_OBJECT (self, "batch of %u took %" G_GINT64_FORMAT " us", n,
        t1 - t0);
    /* the latency of a full batch: its run plus the last frame's preprocessing */
    if (n == self->batch_active)
      gst_deit_classify_latency_record (self, t1 - t0 + b->preprocess_us);
  }

  held = g_queue_peek_tail (&b->held);
  interval = held ? held->settings.interval : 1;
  while ((held = g_queue_pop_head (&b->held))) {
    GstDeitClassification *res = NULL;
    guint n_res = 0;

    if (self->roi_active) {
      gst_deit_classify_roi_publish (self, held, held->buffer);
    } else {
      if (held->slot >= 0)
        gst_deit_classify_results (self, held->slot, &held->settings, &res,
            &n_res);
      gst_deit_classify_publish_result (self, held, held->buffer, res, n_res);
    }
    g_queue_push_tail (&b->ready, held->buffer);
    held->buffer = NULL;
    gst_deit_classify_frame_free (held);
  }
  b->n_due = 0;
  if (n > 0)
    gst_deit_classify_latency_check (self, interval);
  return GST_FLOW_OK;
}

/* Run a partial batch and push every held frame, in order (EOS, caps, segment, gap
 * and other serialized events and queries, a DISCONT). */
GstFlowReturn
gst_deit_classify_batch_drain (GstDeitClassify * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstDeitClassifyBatch *b = &self->batch;
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *buf;

  if (self->batch_active <= 1)
    return GST_FLOW_OK;
  if (g_queue_is_empty (&b->held) && g_queue_is_empty (&b->ready))
    return GST_FLOW_OK;
  GST_DEBUG_OBJECT (self, "draining %u held frames (%u due) and %u ready",
      g_queue_get_length (&b->held), b->n_due, g_queue_get_length (&b->ready));
  if (!g_queue_is_empty (&b->held))
    ret = gst_deit_classify_batch_run (self);
  if (ret != GST_FLOW_OK) {
    gst_deit_classify_batch_clear (self);
    return ret;
  }
  while ((buf = g_queue_pop_head (&b->ready))) {
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (buf);
      continue;
    }
    /* the base class marks the next buffer it pushes DISCONT; these bypass it */
    if (b->discont_seen) {
      buf = gst_buffer_make_writable (buf);
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      b->discont_seen = FALSE;
    }
    ret = gst_pad_push (trans->srcpad, buf);
  }
  if (ret != GST_FLOW_OK)
    GST_DEBUG_OBJECT (self, "pushing held frames: %s", gst_flow_get_name (ret));
  return ret;
}

/* A DISCONT input (submit_input_buffer): the base class marks the next buffer it
 * pushes DISCONT (also after a QoS drop); with frames held that would be the oldest
 * held one, so push those first. The flag stays pending until a buffer goes out:
 * handle it once. */
GstFlowReturn
gst_deit_classify_batch_discont (GstDeitClassify * self)
{
  GstFlowReturn ret;

  if (self->batch.discont_seen)
    return GST_FLOW_OK;
  ret = gst_deit_classify_batch_drain (self);
  if (ret == GST_FLOW_OK)
    self->batch.discont_seen = TRUE;
  return ret;
}

/* generate_output, first: the frames of a finished batch, one per call (the chain
 * function pushes each and calls again until no buffer comes). */
gboolean
gst_deit_classify_batch_pop_ready (GstDeitClassify * self, GstBuffer ** outbuf)
{
  *outbuf = g_queue_pop_head (&self->batch.ready);
  if (!*outbuf)
    return FALSE;
  self->batch.discont_seen = FALSE;
  return TRUE;
}

/* generate_output, then: the base class transformed the input into buf with ret
 * (batch.cur_held was cleared before). A held frame adopts buf and, when the batch
 * is full, the batch runs; *outbuf gets the buffer to push now, or NULL. */
GstFlowReturn
gst_deit_classify_batch_adopt (GstDeitClassify * self, GstFlowReturn ret,
    GstBuffer * buf, GstBuffer ** outbuf)
{
  GstDeitClassifyBatch *b = &self->batch;
  GstDeitClassifyFrame *held;

  *outbuf = NULL;
  if (!b->cur_held) {
    /* no input, an error, or a frame that needed no holding */
    *outbuf = buf;
    if (buf && ret == GST_FLOW_OK)
      b->discont_seen = FALSE;
    return ret;
  }
  b->cur_held = FALSE;
  held = g_queue_peek_tail (&b->held);
  if (ret != GST_FLOW_OK || !buf) {
    /* transform_frame_ip holds a frame only as its last, successful step */
    g_queue_pop_tail (&b->held);
    if (held->slot >= 0)
      b->n_due--;
    gst_deit_classify_frame_free (held);
    *outbuf = buf;
    return ret;
  }
  held->buffer = buf;

  if (b->n_due < self->batch_active &&
      g_queue_get_length (&b->held) < MAX_HELD_FRAMES)
    return GST_FLOW_OK;         /* no buffer: wait for the next frame */

  ret = gst_deit_classify_batch_run (self);
  if (ret != GST_FLOW_OK)
    return ret;
  gst_deit_classify_batch_pop_ready (self, outbuf);
  return GST_FLOW_OK;
}

/* Upstream allocates the frames we hold: ask its pool for that many more (after the
 * base class answered the ALLOCATION query). Returns whether buffers are held. */
gboolean
gst_deit_classify_batch_propose_allocation (GstDeitClassify * self,
    GstQuery * query)
{
  GstDeitClassifySettings settings;
  guint i, extra;

  /* also when downstream did not answer (fakesink): the pool hint is ours */
  gst_deit_classify_settings_snapshot (self, &settings);
  extra = gst_deit_classify_batch_max_held (self->batch_active,
      settings.interval) - 1;
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
  return extra > 0;
}
