/* gstdeitclassifylatency.c - inference time and what deitclassify adds to latency.
 *
 * The inference time is estimated from the model's size at start(), then measured:
 * a moving average the inference thread updates after each run
 * (gst_deit_classify_latency_record()). The element adds nothing in async mode, the
 * inference time in sync mode, and in batch mode the time of a batch plus the frame
 * durations the first frame of a batch waits for the last one. The streaming thread
 * answers the LATENCY query and, after a run, posts a latency message in live
 * pipelines when that moved (gst_deit_classify_latency_check()). All state is under
 * the element's mutex.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifylatency.h"
#include "gstdeitclassifybatch.h"
#include "gstdeitclassifyframe.h"

#define GST_CAT_DEFAULT deit_classify_debug

/* Rough cost of one inference before any was measured: multiply-adds of the
 * linear layers and attention, at an assumed 5 GFLOP/s per thread. Refined by
 * measurement after the first frame. */
GstClockTime
gst_deit_classify_latency_estimate (const struct deit_model_info *mi,
    gint n_threads)
{
  gdouble n = mi->num_tokens, d = mi->hidden_size, i = mi->intermediate_size;
  gdouble flops = 2.0 * mi->num_layers * (n * (4.0 * d * d + 2.0 * d * i)
      + 2.0 * n * n * d);

  return (GstClockTime) (flops / (5e9 * MAX (n_threads, 1)) * GST_SECOND);
}

/* Fold one measurement into the inference time: exponential moving average, 1/4
 * weight on the newest. */
void
gst_deit_classify_latency_record (GstDeitClassify * self, gint64 us)
{
  g_mutex_lock (&self->lock);
  if (!self->inference_timed || self->inference_time == GST_CLOCK_TIME_NONE)
    self->inference_time = us * GST_USECOND;
  else
    self->inference_time = (3 * self->inference_time + us * GST_USECOND) / 4;
  self->inference_timed = TRUE;
  g_mutex_unlock (&self->lock);
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
    t += (gst_deit_classify_batch_max_held (self->batch_active, interval) - 1) *
        self->frame_duration;
  return t;
}

/* Tell a live pipeline when the element's latency (measured inference time, and the
 * frames a batch holds) grew more than 25% above what the last LATENCY query
 * answered, or fell below half of it (sync mode only: async mode adds no latency).
 * Non-live pipelines do not sync on latency, so they are not disturbed with latency
 * messages at all. */
void
gst_deit_classify_latency_check (GstDeitClassify * self, guint interval)
{
  gboolean changed = FALSE;

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

/* Add the element's latency to a LATENCY query upstream answered. */
void
gst_deit_classify_latency_query (GstDeitClassify * self, GstQuery * query)
{
  GstDeitClassifySettings settings;
  gboolean live, unknown_rate;
  GstClockTime min, max, ours;

  gst_deit_classify_settings_snapshot (self, &settings);
  gst_query_parse_latency (query, &live, &min, &max);
  g_mutex_lock (&self->lock);
  ours = gst_deit_classify_own_latency (self, settings.interval);
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
