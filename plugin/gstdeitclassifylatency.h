/* gstdeitclassifylatency.h - inference time and what deitclassify adds to latency. */
#ifndef __GST_DEIT_CLASSIFY_LATENCY_H__
#define __GST_DEIT_CLASSIFY_LATENCY_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
GstClockTime gst_deit_classify_latency_estimate (const struct deit_model_info *mi,
    gint n_threads);

G_GNUC_INTERNAL
void gst_deit_classify_latency_record (GstDeitClassify * self, gint64 us);

G_GNUC_INTERNAL
void gst_deit_classify_latency_check (GstDeitClassify * self, guint interval);

G_GNUC_INTERNAL
void gst_deit_classify_latency_query (GstDeitClassify * self, GstQuery * query);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_LATENCY_H__ */
