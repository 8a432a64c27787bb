/* gstdeitclassifyasync.h - async mode of deitclassify: the worker thread. */
#ifndef __GST_DEIT_CLASSIFY_ASYNC_H__
#define __GST_DEIT_CLASSIFY_ASYNC_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
gboolean gst_deit_classify_async_start (GstDeitClassify * self,
    GError ** error);

G_GNUC_INTERNAL
void gst_deit_classify_async_stop (GstDeitClassify * self);

G_GNUC_INTERNAL
gboolean gst_deit_classify_async_submit (GstDeitClassify * self,
    const GstVideoFrame * vframe, const GstDeitClassifyFrame * f);

G_GNUC_INTERNAL
void gst_deit_classify_async_wait_idle (GstDeitClassify * self);

G_GNUC_INTERNAL
void gst_deit_classify_async_flush (GstDeitClassify * self);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_ASYNC_H__ */
