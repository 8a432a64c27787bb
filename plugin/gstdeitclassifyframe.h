/* gstdeitclassifyframe.h - the per-frame path of deitclassify, shared by every mode:
 * settings snapshot -> preprocess -> infer -> publish_result(). */
#ifndef __GST_DEIT_CLASSIFY_FRAME_H__
#define __GST_DEIT_CLASSIFY_FRAME_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
void gst_deit_classify_settings_snapshot (GstDeitClassify * self,
    GstDeitClassifySettings * out);

G_GNUC_INTERNAL
gboolean gst_deit_classify_format_supported (GstVideoFormat format);

G_GNUC_INTERNAL
gboolean gst_deit_classify_frame_begin (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f);

G_GNUC_INTERNAL
GstDeitClassifyFrame *gst_deit_classify_frame_dup (const GstDeitClassifyFrame *
    f);

G_GNUC_INTERNAL
void gst_deit_classify_frame_free (GstDeitClassifyFrame * f);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_preprocess (GstDeitClassify * self,
    const GstVideoFrame * vframe, const struct deit_rect *rect, gint slot,
    gint64 * us);

G_GNUC_INTERNAL
gboolean gst_deit_classify_frame_to_image (GstDeitClassify * self,
    const GstVideoFrame * vframe, struct deit_image *img);

G_GNUC_INTERNAL
void gst_deit_classify_frame_clear (GstDeitClassifyFrame * f);

G_GNUC_INTERNAL
GstStructure *gst_deit_classify_roi_param_new (GstDeitClassify * self,
    const GstDeitClassification * res, guint n, gboolean fresh);

G_GNUC_INTERNAL
GstMessage *gst_deit_classify_message_new (GstDeitClassify * self,
    const GstDeitClassifyFrame * f, const GstDeitRegion * region,
    const GstDeitClassification * res, guint n);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_run (GstDeitClassify * self, gint n);

G_GNUC_INTERNAL
enum deit_score_function gst_deit_classify_score_function (GstDeitClassify *
    self, const GstDeitClassifySettings * settings);

G_GNUC_INTERNAL
void gst_deit_classify_results (GstDeitClassify * self, gint slot,
    const GstDeitClassifySettings * settings, GstDeitClassification ** out,
    guint * n_out);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_infer (GstDeitClassify * self,
    const GstVideoFrame * vframe, const GstDeitClassifySettings * settings,
    GstDeitClassification ** out, guint * n_out);

G_GNUC_INTERNAL
void gst_deit_classify_publish_result (GstDeitClassify * self,
    const GstDeitClassifyFrame * f, GstBuffer * target,
    GstDeitClassification * res, guint n_res);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_FRAME_H__ */
