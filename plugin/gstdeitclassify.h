/* gstdeitclassify.h - deitclassify: DeiT / ViT image classification of video frames.
 *
 * A GstVideoFilter working in place: frames pass through unchanged and get a
 * GstDeitClassifyMeta (and a full-frame GstVideoRegionOfInterestMeta); an element
 * message per classified frame goes to the bus. See gstdeitclassify.c for the docs
 * and for the lock discipline every field below follows.
 *
 * This header is the element's data, shared by its units:
 *   gstdeitclassify.c         the element: GObject / GstBaseTransform glue,
 *                             start / stop, events and queries
 *   gstdeitclassifyprops.c    its properties: specs, defaults, get / set
 *   gstdeitclassifyframe.c    the per-frame path: settings snapshot, preprocess,
 *                             infer, publish_result() (meta, ROI meta, message)
 *   gstdeitclassifylatency.c  inference time and what the element adds to latency
 *   gstdeitclassifyasync.c    async mode: the worker thread
 *   gstdeitclassifybatch.c    batch mode: the queue of held frames
 *   gstdeitclassifyroi.c      inference-region=roi-list: a detector's boxes classified
 *   gstdeitclassifyregions.c  which boxes, object identities, the object cache
 *   gstdeitclassifycaps.c     what it takes; refused caps explained (videoconvert)
 *   gstdeitclassifymodel.c    the model it runs: set up by start(), with the errors
 *   gstdeitmodelcache.c       the process-wide model cache
 */
#ifndef __GST_DEIT_CLASSIFY_H__
#define __GST_DEIT_CLASSIFY_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "deit.h"
#include "gstdeitclassifymeta.h"
#include "gstdeitclassifyregions.h"

G_BEGIN_DECLS

#define GST_TYPE_DEIT_CLASSIFY (gst_deit_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstDeitClassify, gst_deit_classify, GST, DEIT_CLASSIFY,
    GstVideoFilter)

/* the "deitclassify" debug category, shared by all units of the element */
GST_DEBUG_CATEGORY_EXTERN (deit_classify_debug);

typedef struct _GstDeitModelEntry GstDeitModelEntry;

/* The properties a frame is classified with that may change while playing: copied
 * once per frame, under the object lock, by gst_deit_classify_settings_snapshot(). */
/* What score-function names: how logits become the reported scores. */
typedef enum
{
  GST_DEIT_CLASSIFY_SCORE_FUNCTION_AUTO,
  GST_DEIT_CLASSIFY_SCORE_FUNCTION_SOFTMAX,
  GST_DEIT_CLASSIFY_SCORE_FUNCTION_SIGMOID,
} GstDeitClassifyScoreFunction;

#define GST_TYPE_DEIT_CLASSIFY_SCORE_FUNCTION \
  (gst_deit_classify_score_function_get_type ())
GType gst_deit_classify_score_function_get_type (void);

typedef struct
{
  guint top_k;
  gdouble threshold;
  GstDeitClassifyScoreFunction score_function;
  guint interval;
  gboolean post_messages;
  gboolean attach_roi_meta;
  GstDeitRegionFilter region_filter;    /* object-class, object-min-width/height */
  guint reclassify_interval;
} GstDeitClassifySettings;

/* What inference-region names: the whole frame, or the detector's boxes on it. */
typedef enum
{
  GST_DEIT_CLASSIFY_INFERENCE_REGION_FULL_FRAME,
  GST_DEIT_CLASSIFY_INFERENCE_REGION_ROI_LIST,
} GstDeitClassifyInferenceRegion;

#define GST_TYPE_DEIT_CLASSIFY_INFERENCE_REGION \
  (gst_deit_classify_inference_region_get_type ())
GType gst_deit_classify_inference_region_get_type (void);

/* One frame on its way through the element, in every mode: what the results, the
 * metas and the element message need to know about it.
 * Owned by one thread at a time: the streaming thread's stack (sync mode), the batch
 * queue (streaming thread), or, in async mode, worker.pending (under the element's
 * mutex) and then the worker thread that took it. */
typedef struct
{
  GstBuffer *buffer;            /* owned or NULL: async, a deep copy of the frame
                                 * for the worker; batch, the held buffer (NULL
                                 * until generate_output() adopts it); sync, NULL */
  GstVideoInfo info;            /* of the mapped frame (async: of the copy) */
  GstClockTime pts, duration, stream_time, running_time;
  guint64 frame_number;         /* index among the frames seen since start() */
  guint flush_seq;              /* results of frames from before a flush are dropped */
  gint slot;                    /* input slot of the state it is preprocessed into;
                                 * -1: not classified, carries the latest result
                                 * (roi-list mode: >= 0 when its regions are due) */
  GstDeitClassifySettings settings;
  GArray *regions;              /* roi-list mode: GstDeitRegion, owned; else NULL */
} GstDeitClassifyFrame;

/* Async mode (gstdeitclassifyasync.c); every field under the element's mutex. */
typedef struct
{
  GThread *thread;
  gboolean stop;                /* set by stop(), cleared by start(), in every
                                 * mode: the worker leaves, and publish_result()
                                 * drops results of inferences still running */
  gboolean busy;                /* classifying, or posting the message of, a frame */
  GstDeitClassifyFrame *pending;        /* next frame for the worker, or NULL */
} GstDeitClassifyWorker;

/* Batch mode (gstdeitclassifybatch.c); streaming thread only (FLUSH_STOP and stop()
 * clear it while the streaming thread is out of the element). */
typedef struct
{
  GQueue held;                  /* GstDeitClassifyFrame, oldest first */
  GQueue ready;                 /* GstBuffer: classified, to be pushed in order */
  guint n_due;                  /* held frames due for inference = slots used */
  gboolean cur_held;            /* transform_frame_ip held the current frame */
  gboolean discont_seen;        /* base class has a DISCONT pending, handled */
  gint64 preprocess_us;         /* preprocessing time of the latest frame held */
} GstDeitClassifyBatch;

struct _GstDeitClassify
{
  GstVideoFilter videofilter;

  /* properties, under the object lock */
  gchar *model_location;
  gchar *labels_location;       /* "labels-file" (and its deprecated alias "labels") */
  gboolean labels_deprecation_warned;   /* "labels" was set: warned once */
  gint threads;
  gboolean async;
  guint batch_size;
  GstDeitClassifyInferenceRegion inference_region;
  gchar *object_class;          /* as set; parsed into settings.region_filter */
  GstDeitClassifySettings settings;

  /* latched by start(), released by stop(); read-only in between (any thread) */
  GstDeitModelEntry *model_entry;
  const struct deit_model *model;
  gchar **labels;               /* labels file lines, NULL: the model's id2label */
  gint num_classes;
  gchar *model_name;
  gboolean async_active;        /* value of "async" latched at start() */
  guint batch_active;           /* images per run: batch-size, 1 in async mode */
  gboolean roi_active;          /* inference-region=roi-list latched at start() */
  guint roi_chunk;              /* roi-list: regions per forward pass (<= 64) */

  /* the inference thread's: the streaming thread, or the worker in async mode */
  struct deit_state *state;
  gboolean warned_non_finite;   /* the non-finite logits warning went out */

  /* atomic */
  gint abort;                   /* makes a running inference stop */
  gint caps_warned;             /* the bus was told which caps we take (once) */

  /* streaming thread only */
  GstDeitClassifyBatch batch;
  gboolean qos_overridden;      /* batch mode turned the base class' QoS off */

  /* under lock (the element's mutex); cond wakes the worker and EOS waiters */
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
  guint flush_seq;              /* incremented at each FLUSH_STOP */
  GstClockTime inference_time;  /* moving average of preprocess + run */
  gboolean inference_timed;     /* inference_time measured, not estimated */
  GstClockTime reported_latency;
  gboolean upstream_live;       /* from the last LATENCY query */
  GstClockTime frame_duration;  /* from the caps' framerate, NONE if variable */
  GstDeitClassifyWorker worker;
  GstDeitObjectCache *objects;  /* roi-list: results of tracked objects */
};

GST_ELEMENT_REGISTER_DECLARE (deitclassify);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_H__ */
