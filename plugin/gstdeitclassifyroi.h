/* gstdeitclassifyroi.h - inference-region=roi-list: deitclassify classifies the boxes an
 * upstream detector attached to the frame instead of the whole frame. */
#ifndef __GST_DEIT_CLASSIFY_ROI_H__
#define __GST_DEIT_CLASSIFY_ROI_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

/* Regions per forward pass for a model: at most 64, fewer for large models. */
G_GNUC_INTERNAL
guint gst_deit_classify_roi_chunk (const struct deit_model_info *mi);

G_GNUC_INTERNAL
void gst_deit_classify_roi_collect (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f);

G_GNUC_INTERNAL
guint gst_deit_classify_roi_decide (GstDeitClassify * self,
    GstDeitClassifyFrame * f, gboolean run);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_roi_infer (GstDeitClassify * self,
    GstDeitClassifyFrame ** frames, const GstVideoFrame * vframes, guint n);

G_GNUC_INTERNAL
void gst_deit_classify_roi_publish (GstDeitClassify * self,
    GstDeitClassifyFrame * f, GstBuffer * target);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_roi_frame (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f, gboolean run);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_ROI_H__ */
