/* gstdeitclassifymeta.h - classification results attached to video buffers by deitclassify.
 *
 * Applications link against gstdeitmeta-1.0 (pkg-config) and read the results with
 * gst_buffer_get_deit_classify_meta() or by iterating metas of
 * GST_DEIT_CLASSIFY_META_API_TYPE (a buffer carries one full-frame meta and one per
 * classified region of interest).
 */
#ifndef __GST_DEIT_CLASSIFY_META_H__
#define __GST_DEIT_CLASSIFY_META_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#ifndef GST_DEIT_META_API
# if defined(BUILDING_GST_DEIT_META) && defined(__GNUC__)
#  define GST_DEIT_META_API __attribute__((visibility ("default"))) extern
# else
#  define GST_DEIT_META_API extern
# endif
#endif

/**
 * GstDeitClassification:
 * @class_id: index into the model's labels
 * @label: (transfer none): the class label (owned by the meta)
 * @score: probability in [0, 1]: softmax, or sigmoid for multi-label models
 *   (deitclassify's score-function)
 * @logit: the raw logit (the distilled models' average of both heads)
 */
typedef struct {
  gint class_id;
  gchar *label;
  gfloat score;
  gfloat logit;
} GstDeitClassification;

typedef struct _GstDeitClassifyMeta GstDeitClassifyMeta;

/**
 * GstDeitClassifyMeta:
 * @meta: parent #GstMeta
 * @model_name: (transfer none): name of the model that produced the results
 * @n_results: number of entries in @results (top-k after the threshold, may be 0)
 * @results: (array length=n_results): most probable first
 * @inference_pts: PTS of the frame the inference ran on (differs from the buffer's
 *   own PTS when @fresh is %FALSE)
 * @fresh: %TRUE when the inference ran on this very buffer, %FALSE when the result
 *   was carried over from an earlier frame (interval > 1, or asynchronous mode)
 * @frame_number: index of this buffer among those the element has seen since start
 * @roi_id: -1 for a full-frame result, else the id of the
 *   #GstVideoRegionOfInterestMeta that was classified
 * @x: left of the classified rectangle, in pixels of the frame
 * @y: top of the classified rectangle
 * @width: width of the classified rectangle
 * @height: height of the classified rectangle
 * @frame_width: width of the frame @x, @y, @width and @height are pixels of (0:
 *   unknown, as in metas added by code that does not set it)
 * @frame_height: height of that frame
 *
 * The meta API has no tags, so that a result survives every element that copies
 * metas (a classification of the whole picture holds whatever its size, format or
 * orientation). Elements that resize the video without transforming it, such as
 * GStreamer 1.22's videoscale, leave the rectangle in the pixels of the classified
 * frame: read it with gst_deit_classify_meta_get_rectangle(), which scales it to the
 * frame at hand.
 */
struct _GstDeitClassifyMeta {
  GstMeta meta;

  gchar *model_name;
  guint n_results;
  GstDeitClassification *results;
  GstClockTime inference_pts;
  gboolean fresh;
  guint64 frame_number;
  gint roi_id;
  guint x, y, width, height;
  guint frame_width, frame_height;
};

/**
 * GST_DEIT_CLASSIFY_ROI_TYPE:
 *
 * roi_type of the full-frame #GstVideoRegionOfInterestMeta that deitclassify attaches
 * next to its #GstDeitClassifyMeta (property attach-roi-meta).
 */
#define GST_DEIT_CLASSIFY_ROI_TYPE "classification"

/**
 * GST_DEIT_CLASSIFY_ROI_PARAM:
 *
 * Name of that ROI meta's parameter structure: fields label, label_id, confidence,
 * model_name, attribute_name, top_k_label_ids, top_k_labels, top_k_confidences, fresh.
 */
#define GST_DEIT_CLASSIFY_ROI_PARAM "deit-classification"

GST_DEIT_META_API
GType gst_deit_classify_meta_api_get_type (void);
#define GST_DEIT_CLASSIFY_META_API_TYPE (gst_deit_classify_meta_api_get_type ())

GST_DEIT_META_API
const GstMetaInfo *gst_deit_classify_meta_get_info (void);
#define GST_DEIT_CLASSIFY_META_INFO (gst_deit_classify_meta_get_info ())

/* Adds a meta; results (n_results entries) and model_name are copied. */
GST_DEIT_META_API
GstDeitClassifyMeta *gst_buffer_add_deit_classify_meta (GstBuffer * buffer,
    const gchar * model_name, const GstDeitClassification * results,
    guint n_results, GstClockTime inference_pts, gboolean fresh);

/* The full-frame meta (roi_id == -1) if any, else the first one; NULL if none. */
GST_DEIT_META_API
GstDeitClassifyMeta *gst_buffer_get_deit_classify_meta (GstBuffer * buffer);

/* The classified rectangle in a frame of width x height pixels (see frame_width). */
GST_DEIT_META_API
void gst_deit_classify_meta_get_rectangle (const GstDeitClassifyMeta * meta,
    gint width, gint height, guint * x, guint * y, guint * rect_width,
    guint * rect_height);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_META_H__ */
