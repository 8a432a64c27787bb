/* gstdeitclassifyasync.c - async mode of deitclassify: the worker thread.
 *
 * The streaming thread hands the frame due for inference to the worker only when it
 * is idle (gst_deit_classify_async_submit(): a deep copy, in worker.pending) and never
 * waits for it; frames carry the latest finished result. The worker owns self->state:
 * it preprocesses and runs the copy and publishes the result (stored and posted, not
 * attached: the frame has gone). worker.* live under the element's mutex; self->cond
 * wakes the worker (a frame, or stop) and EOS, which waits for the worker to be idle
 * so that the last result's message is out before EOS.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifyasync.h"
#include "gstdeitclassifyframe.h"
#include "gstdeitclassifyroi.h"

#define GST_CAT_DEFAULT deit_classify_debug

static gpointer
gst_deit_classify_worker (gpointer data)
{
  GstDeitClassify *self = data;

  g_mutex_lock (&self->lock);
  while (!self->worker.stop) {
    GstDeitClassifyFrame *f;
    GstVideoFrame vframe;
    GstDeitClassification *res = NULL;
    guint n = 0;
    GstFlowReturn ret = GST_FLOW_ERROR;

    if (!self->worker.pending) {
      g_cond_wait (&self->cond, &self->lock);
      continue;
    }
    f = self->worker.pending;
    self->worker.pending = NULL;
    self->worker.busy = TRUE;
    g_mutex_unlock (&self->lock);

    if (gst_video_frame_map (&vframe, &f->info, f->buffer, GST_MAP_READ)) {
      if (self->roi_active) {
        /* the newest frame with all its boxes */
        ret = GST_FLOW_OK;
        if (gst_deit_classify_roi_decide (self, f, TRUE) > 0)
          ret = gst_deit_classify_roi_infer (self, &f, &vframe, 1);
      } else {
        ret = gst_deit_classify_infer (self, &vframe, &f->settings, &res, &n);
      }
      gst_video_frame_unmap (&vframe);
    }
    if (ret == GST_FLOW_OK && self->roi_active)
      gst_deit_classify_roi_publish (self, f, NULL);
    else if (ret == GST_FLOW_OK)
      gst_deit_classify_publish_result (self, f, NULL, res, n);
    gst_deit_classify_frame_free (f);

    g_mutex_lock (&self->lock);
    /* busy until the message is out: EOS waits for this */
    self->worker.busy = FALSE;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

gboolean
gst_deit_classify_async_start (GstDeitClassify * self, GError ** error)
{
  GThread *thread;

  g_mutex_lock (&self->lock);
  self->worker.stop = FALSE;
  self->worker.busy = FALSE;
  g_mutex_unlock (&self->lock);
  if (!self->async_active)
    return TRUE;
  thread = g_thread_try_new ("deitclassify", gst_deit_classify_worker, self,
      error);
  g_mutex_lock (&self->lock);
  self->worker.thread = thread;
  g_mutex_unlock (&self->lock);
  return thread != NULL;
}

/* Make the worker leave (aborting a running inference) and join it; drop the pending
 * frame. Also in sync mode: marks the element stopping. */
void
gst_deit_classify_async_stop (GstDeitClassify * self)
{
  GThread *thread;

  g_atomic_int_set (&self->abort, 1);
  g_mutex_lock (&self->lock);
  thread = self->worker.thread;
  self->worker.thread = NULL;
  self->worker.stop = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (thread)
    g_thread_join (thread);
  g_mutex_lock (&self->lock);
  gst_deit_classify_async_flush (self);
  g_mutex_unlock (&self->lock);
}

/* Hand a deep copy of the frame to the worker if it is idle (called with self->lock).
 * Returns whether it took the frame. */
gboolean
gst_deit_classify_async_submit (GstDeitClassify * self,
    const GstVideoFrame * vframe, const GstDeitClassifyFrame * f)
{
  GstDeitClassifyFrame *job;
  GstVideoFrame copy;

  if (self->worker.pending || self->worker.busy)
    return FALSE;
  job = gst_deit_classify_frame_dup (f);
  job->slot = 0;
  if (job->regions) {
    /* the box metas are the frame's; the copy has its own */
    guint i;

    for (i = 0; i < job->regions->len; i++)
      g_array_index (job->regions, GstDeitRegion, i).meta = NULL;
  }
  /* The copy gets the negotiated info's default (packed) layout, not
   * vframe->info: a frame mapped through a GstVideoMeta carries the upstream
   * buffer's strides and offsets (padded rows, planes far apart) while its
   * size field still describes the packed layout, so copying into a buffer
   * of that size with those strides would write past its end. */
  job->info = GST_VIDEO_FILTER (self)->in_info;
  job->buffer =
      gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&job->info), NULL);
  if (!job->buffer
      || !gst_video_frame_map (&copy, &job->info, job->buffer, GST_MAP_WRITE)) {
    gst_deit_classify_frame_free (job);
    return FALSE;
  }
  gst_video_frame_copy (&copy, vframe);
  gst_video_frame_unmap (&copy);
  self->worker.pending = job;
  self->last_submitted = f->frame_number;
  self->submitted_any = TRUE;
  g_cond_broadcast (&self->cond);       /* the worker, not an EOS waiter */
  return TRUE;
}

/* EOS: the frame being classified has passed already, but its bus message is still
 * due (a short file can end before the first result). */
void
gst_deit_classify_async_wait_idle (GstDeitClassify * self)
{
  g_mutex_lock (&self->lock);
  while (self->async_active && !self->worker.stop &&
      (self->worker.pending || self->worker.busy))
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* Drop the frame waiting for the worker (FLUSH_STOP, stop(); called with
 * self->lock). */
void
gst_deit_classify_async_flush (GstDeitClassify * self)
{
  gst_deit_classify_frame_free (self->worker.pending);
  self->worker.pending = NULL;
}
