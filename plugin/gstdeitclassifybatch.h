/* gstdeitclassifybatch.h - batch mode of deitclassify (batch-size > 1): the queue of
 * held frames. Streaming thread only. */
#ifndef __GST_DEIT_CLASSIFY_BATCH_H__
#define __GST_DEIT_CLASSIFY_BATCH_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
guint gst_deit_classify_batch_max_held (guint batch, guint interval);

G_GNUC_INTERNAL
void gst_deit_classify_batch_clear (GstDeitClassify * self);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_batch_add (GstDeitClassify * self,
    const GstVideoFrame * vframe, GstDeitClassifyFrame * f,
    gboolean due);

G_GNUC_INTERNAL
gboolean gst_deit_classify_batch_pop_ready (GstDeitClassify * self,
    GstBuffer ** outbuf);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_batch_adopt (GstDeitClassify * self,
    GstFlowReturn ret, GstBuffer * buf, GstBuffer ** outbuf);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_batch_drain (GstDeitClassify * self);

G_GNUC_INTERNAL
GstFlowReturn gst_deit_classify_batch_discont (GstDeitClassify * self);

G_GNUC_INTERNAL
gboolean gst_deit_classify_batch_propose_allocation (GstDeitClassify * self,
    GstQuery * query);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_BATCH_H__ */
