/* gstdeitclassify.h - deitclassify: DeiT / ViT image classification of video frames.
 *
 * A GstVideoFilter working in place: frames pass through unchanged and get a
 * GstDeitClassifyMeta (and a full-frame GstVideoRegionOfInterestMeta); an element
 * message per classified frame goes to the bus. See gstdeitclassify.c for the docs.
 */
#ifndef __GST_DEIT_CLASSIFY_H__
#define __GST_DEIT_CLASSIFY_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "deit.h"
#include "gstdeitclassifymeta.h"

G_BEGIN_DECLS

#define GST_TYPE_DEIT_CLASSIFY (gst_deit_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstDeitClassify, gst_deit_classify, GST, DEIT_CLASSIFY,
    GstVideoFilter)

typedef struct _GstDeitModelEntry GstDeitModelEntry;

/* One frame handed to the asynchronous worker. */
typedef struct
{
  GstBuffer *buffer;            /* our own deep copy of the frame */
  GstVideoInfo info;
  GstClockTime pts, duration, stream_time, running_time;
  guint64 frame_number;
  guint flush_seq;              /* results of jobs from before a flush are dropped */
} GstDeitClassifyJob;

/* One frame held back in batch mode (batch-size > 1): either due for inference
 * (slot >= 0: its input slot in the state) or skipped by interval (slot -1, it
 * carries the result of the last classified frame before it). */
typedef struct
{
  GstBuffer *buffer;            /* owned; NULL until generate_output() adopts it */
  GstVideoInfo info;
  GstClockTime pts, duration, stream_time, running_time;
  guint64 frame_number;
  gint slot;
} GstDeitClassifyHeld;

struct _GstDeitClassify
{
  GstVideoFilter videofilter;

  /* properties, under the object lock */
  gchar *model_location;
  gchar *labels_location;
  guint top_k;
  gdouble threshold;
  guint interval;
  gint threads;
  gboolean post_messages;
  gboolean attach_roi_meta;
  gboolean async;
  guint batch_size;

  /* set in start(), cleared in stop(); used by the streaming thread (sync mode)
   * or by the worker (async mode) */
  GstDeitModelEntry *model_entry;
  const struct deit_model *model;
  struct deit_state *state;
  gchar **labels;               /* labels file lines, NULL: the model's id2label */
  gint num_classes;
  gchar *model_name;
  gboolean async_active;        /* value of "async" latched at start() */
  gint abort;                   /* atomic: makes a running inference stop */

  /* batch mode, streaming thread only (and FLUSH_STOP / stop(), when it is idle) */
  guint batch_active;           /* images per run: batch-size, 1 in async mode */
  GQueue held;                  /* GstDeitClassifyHeld, oldest first */
  GQueue ready;                 /* GstBuffer: classified, to be pushed in order */
  guint n_due;                  /* held frames due for inference = slots used */
  gboolean cur_held;            /* transform_frame_ip held the current frame */
  gboolean discont_seen;        /* base class has a DISCONT pending, handled */
  gint64 preprocess_us;         /* time of the latest preprocessing */
  gboolean qos_overridden;      /* batch mode turned the base class' QoS off */

  /* protected by lock */
  GMutex lock;
  GCond cond;
  GstDeitClassification *last;  /* latest result (labels not owned) */
  guint n_last;
  gboolean have_last;
  GstClockTime last_pts;
  guint64 last_frame;           /* frame number the latest inference ran on */
  guint64 last_submitted;       /* frame number of the latest inference started */
  gboolean submitted_any;
  guint64 frame_count;          /* frames seen since start() */
  GstClockTime inference_time;  /* moving average of preprocess + run */
  gboolean inference_timed;     /* inference_time measured, not estimated */
  GstClockTime reported_latency;
  gboolean upstream_live;       /* from the last LATENCY query */
  GstClockTime frame_duration;  /* from the caps' framerate, NONE if variable */
  GThread *worker;
  gboolean worker_stop;
  gboolean worker_busy;
  GstDeitClassifyJob *pending;
  guint flush_seq;              /* incremented at each FLUSH_STOP */
};

GST_ELEMENT_REGISTER_DECLARE (deitclassify);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_H__ */
