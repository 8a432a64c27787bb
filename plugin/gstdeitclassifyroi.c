/* gstdeitclassifyroi.c - inference-region=roi-list: the detector's boxes classified.
 *
 * Per frame, in every mode:
 *   collect (frame_begin, streaming thread): the frame's GstVideoRegionOfInterestMeta
 *     boxes that pass object-class and object-min-width/height, clipped to the frame
 *     (gstdeitclassifyregions.c);
 *   decide: on a frame due for inference (interval), every box is due, except tracked
 *     objects classified fewer than reclassify-interval frames ago;
 *   infer: the due boxes of one frame, or of the held frames in batch mode, through as
 *     few forward passes as possible (roi_chunk regions per pass, at most 64), each
 *     box preprocessed exactly as Pillow's Image.crop(box) of the frame would be;
 *   publish: per box, the "deit-classification" parameter on the detector's ROI meta
 *     (attach-roi-meta), one GstDeitClassifyMeta (roi_id, the clipped rectangle) and,
 *     for a fresh result, one element message with the region's fields. A tracked
 *     object's latest result is kept (the element's object cache, under its mutex) and
 *     carried by later frames with fresh = FALSE until it is classified again; objects
 *     unseen for GST_DEIT_OBJECT_MAX_AGE frames (or 2 x reclassify-interval, if
 *     longer, at most GST_DEIT_OBJECT_MAX_AGE_LIMIT) are forgotten. Frames without
 *     boxes pass untouched; no full-frame result is attached in this mode.
 * Async mode: the worker classifies its copy of the newest due frame with all its
 * boxes and stores and posts the results; the frames passing through carry the latest
 * result of each tracked object they show (untracked boxes get results only in the
 * worker's messages: no later frame is known to show the same object).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifyroi.h"
#include "gstdeitclassifyframe.h"
#include "gstdeitclassifylatency.h"
#ifdef HAVE_GST_ANALYTICS
#include "gstdeitclassifyanalytics.h"
#endif

#include <string.h>

#define GST_CAT_DEFAULT deit_classify_debug

#define GST_DEIT_ROI_MAX_CHUNK 64
/* activations of one chunk: at most ~256 MB of floats */
#define GST_DEIT_ROI_CHUNK_FLOATS ((gsize) 64 << 20)
#define GST_DEIT_OBJECT_MAX_AGE 30
/* ... and never longer: with reclassify-interval=G_MAXINT ("classify each object
 * once") every object that left the scene would otherwise be kept for ever */
#define GST_DEIT_OBJECT_MAX_AGE_LIMIT 1000

guint
gst_deit_classify_roi_chunk (const struct deit_model_info *mi)
{
  /* the state's big buffers per image: 7 of (tokens, hidden), 1 of (tokens,
   * intermediate) */
  gsize per_image = (gsize) mi->num_tokens * (7 * (gsize) mi->hidden_size +
      (gsize) mi->intermediate_size);
  gsize n = per_image ? GST_DEIT_ROI_CHUNK_FLOATS / per_image : 1;

  return (guint) CLAMP (n, 1, GST_DEIT_ROI_MAX_CHUNK);
}

void
gst_deit_classify_roi_collect (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f)
{
  f->regions = gst_deit_regions_new ();
  gst_deit_regions_collect (vframe->buffer, GST_VIDEO_FRAME_WIDTH (vframe),
      GST_VIDEO_FRAME_HEIGHT (vframe), &f->settings.region_filter, f->regions);
#ifdef HAVE_GST_ANALYTICS
  /* the GstAnalyticsODMtd detections too (a box described twice: once) */
  gst_deit_analytics_collect (vframe->buffer, GST_VIDEO_FRAME_WIDTH (vframe),
      GST_VIDEO_FRAME_HEIGHT (vframe), &f->settings.region_filter, f->regions);
#endif
  GST_LOG_OBJECT (self, "%u regions on %" GST_PTR_FORMAT, f->regions->len,
      vframe->buffer);
}

/* Marks the due regions; called on the thread that will classify them (takes the
 * element's mutex for the object cache). */
guint
gst_deit_classify_roi_decide (GstDeitClassify * self, GstDeitClassifyFrame * f,
    gboolean run)
{
  guint i, n_due = 0;

  if (!f->regions)
    return 0;
  g_mutex_lock (&self->lock);
  for (i = 0; i < f->regions->len; i++) {
    GstDeitRegion *r = &g_array_index (f->regions, GstDeitRegion, i);

    if (run)
      r->due = gst_deit_object_cache_due (self->objects, r->id_source,
          r->object_id, r->roi_type, f->frame_number,
          f->settings.reclassify_interval);
    else
      gst_deit_object_cache_seen (self->objects, r->id_source, r->object_id,
          r->roi_type, f->frame_number);
    n_due += r->due;
  }
  g_mutex_unlock (&self->lock);
  return n_due;
}

/* Preprocesses the regions gathered so far into slots 0..n-1, all workers at once
 * (deit_state_preprocess_many), runs them and hands each region its top-k. */
static GstFlowReturn
gst_deit_classify_roi_run_chunk (GstDeitClassify * self, GstDeitRegion ** slots,
    GstDeitClassifyFrame ** owners, const struct deit_image **images,
    const struct deit_rect *rects, guint n)
{
  struct deit_error err;
  enum deit_status status;
  GstFlowReturn ret;
  guint i;

  if (n == 0)
    return GST_FLOW_OK;
  status = deit_state_preprocess_many (self->state, 0, (gint) n, images, rects,
      &err);
  if (status != DEIT_STATUS_OK)
    goto preprocess_failed;
  ret = gst_deit_classify_run (self, (gint) n);
  if (ret != GST_FLOW_OK)
    return ret;
  for (i = 0; i < n; i++) {
    g_free (slots[i]->res);
    gst_deit_classify_results (self, (gint) i, &owners[i]->settings,
        &slots[i]->res, &slots[i]->n_res);
  }
  return GST_FLOW_OK;

  /* ERRORS */
preprocess_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not preprocess the regions of a frame for the model: %s",
            err.message),
        ("deit_state_preprocess_many: %s: %s", deit_status_to_string (status),
            err.message));
    return GST_FLOW_ERROR;
  }
}

GstFlowReturn
gst_deit_classify_roi_infer (GstDeitClassify * self,
    GstDeitClassifyFrame ** frames, const GstVideoFrame * vframes, guint n)
{
  GstDeitRegion *slots[GST_DEIT_ROI_MAX_CHUNK];
  GstDeitClassifyFrame *owners[GST_DEIT_ROI_MAX_CHUNK];
  const struct deit_image *images[GST_DEIT_ROI_MAX_CHUNK];
  struct deit_rect rects[GST_DEIT_ROI_MAX_CHUNK];
  struct deit_image *frame_images;
  guint i, j, used = 0, total = 0;
  GstFlowReturn ret = GST_FLOW_OK;
  gint64 t0 = g_get_monotonic_time ();

  frame_images = g_new0 (struct deit_image, MAX (n, 1));
  for (i = 0; i < n; i++)
    if (!gst_deit_classify_frame_to_image (self, &vframes[i], &frame_images[i])) {
      g_free (frame_images);
      return GST_FLOW_NOT_NEGOTIATED;
    }

  for (i = 0; i < n && ret == GST_FLOW_OK; i++) {
    GArray *regions = frames[i]->regions;

    for (j = 0; regions && j < regions->len; j++) {
      GstDeitRegion *r = &g_array_index (regions, GstDeitRegion, j);

      if (!r->due)
        continue;
      rects[used] = (struct deit_rect) {
        r->x, r->y, r->width, r->height
      };
      images[used] = &frame_images[i];
      slots[used] = r;
      owners[used] = frames[i];
      total++;
      if (++used == self->roi_chunk) {
        ret = gst_deit_classify_roi_run_chunk (self, slots, owners, images,
            rects, used);
        used = 0;
        if (ret != GST_FLOW_OK)
          break;
      }
    }
  }
  if (ret == GST_FLOW_OK)
    ret = gst_deit_classify_roi_run_chunk (self, slots, owners, images, rects,
        used);
  if (ret == GST_FLOW_OK && total > 0) {
    gint64 t = g_get_monotonic_time () - t0;

    gst_deit_classify_latency_record (self, t);
    GST_LOG_OBJECT (self, "%u regions of %u frames took %" G_GINT64_FORMAT
        " us", total, n, t);
  }
  g_free (frame_images);
  return ret;
}

/* The result of one region on the frame's buffer (called with self->lock). */
static void
gst_deit_classify_roi_attach (GstDeitClassify * self, GstBuffer * target,
    const GstDeitClassifyFrame * f, GstDeitRegion * r,
    const GstDeitClassification * res, guint n, gboolean fresh,
    GstClockTime inference_pts)
{
  GstDeitClassifyMeta *meta;

  if (f->settings.attach_roi_meta && r->meta && n > 0)
    gst_video_region_of_interest_meta_add_param (r->meta,
        gst_deit_classify_roi_param_new (self, res, n, fresh));
  meta = gst_buffer_add_deit_classify_meta (target, self->model_name, res, n,
      inference_pts, fresh);
  if (meta) {
    meta->frame_number = f->frame_number;
    meta->roi_id = r->roi_id;
    meta->x = (guint) r->x;
    meta->y = (guint) r->y;
    meta->width = (guint) r->width;
    meta->height = (guint) r->height;
    meta->frame_width = (guint) GST_VIDEO_INFO_WIDTH (&f->info);
    meta->frame_height = (guint) GST_VIDEO_INFO_HEIGHT (&f->info);
  }
#ifdef HAVE_GST_ANALYTICS
  gst_deit_analytics_add_region (target, r, res, n);
#endif
}

/**
 * gst_deit_classify_roi_publish:
 * @f: the frame, with its regions' fresh results (if any)
 * @target: (nullable): the frame's own buffer, or %NULL for the async worker's copy
 *
 * Stores the fresh results of tracked objects, attaches to @target each region's
 * fresh or carried result, expires forgotten objects, and posts one message per fresh
 * result with post-messages. Results of a frame from before a flush, or of a stopping
 * element, are dropped. Takes the element's mutex; any thread.
 */
void
gst_deit_classify_roi_publish (GstDeitClassify * self,
    GstDeitClassifyFrame * f, GstBuffer * target)
{
  GList *msgs = NULL, *l;
  gboolean current;
  guint i;
  guint64 max_age;

  if (!f->regions)
    return;
  g_mutex_lock (&self->lock);
  current = !self->worker.stop && f->flush_seq == self->flush_seq;
  for (i = 0; i < f->regions->len; i++) {
    GstDeitRegion *r = &g_array_index (f->regions, GstDeitRegion, i);
    const GstDeitClassification *res;
    GstClockTime pts = GST_CLOCK_TIME_NONE;
    guint n = 0;

    if (r->res && current) {
      gst_deit_object_cache_store (self->objects, r->id_source, r->object_id,
          r->roi_type, f->frame_number, f->pts, r->res, r->n_res);
      if (target)
        gst_deit_classify_roi_attach (self, target, f, r, r->res, r->n_res,
            TRUE, f->pts);
      if (f->settings.post_messages)
        msgs = g_list_prepend (msgs, gst_deit_classify_message_new (self, f, r,
                r->res, r->n_res));
    } else if (target && current && (res =
            gst_deit_object_cache_lookup (self->objects, r->id_source,
                r->object_id, r->roi_type, &n, &pts))) {
      gst_deit_classify_roi_attach (self, target, f, r, res, n, FALSE, pts);
    }
  }
  max_age = MAX (GST_DEIT_OBJECT_MAX_AGE,
      2 * (guint64) MAX (f->settings.reclassify_interval,
          f->settings.interval));
  max_age = MIN (max_age, GST_DEIT_OBJECT_MAX_AGE_LIMIT);
  if (current)
    gst_deit_object_cache_expire (self->objects, f->frame_number, max_age);
  g_mutex_unlock (&self->lock);

  msgs = g_list_reverse (msgs);
  for (l = msgs; l; l = l->next)
    gst_element_post_message (GST_ELEMENT (self), l->data);
  g_list_free (msgs);
}

/* Sync mode: classify the due regions of this frame and publish. */
GstFlowReturn
gst_deit_classify_roi_frame (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f, gboolean run)
{
  GstFlowReturn ret = GST_FLOW_OK;

  if (gst_deit_classify_roi_decide (self, f, run) > 0)
    ret = gst_deit_classify_roi_infer (self, &f, vframe, 1);
  if (ret != GST_FLOW_OK)
    return ret;
  gst_deit_classify_roi_publish (self, f, vframe->buffer);
  if (run)
    gst_deit_classify_latency_check (self, f->settings.interval);
  return GST_FLOW_OK;
}
