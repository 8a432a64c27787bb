/* gstdeitclassifymodel.h - the model a deitclassify runs: set up by start(). */
#ifndef __GST_DEIT_CLASSIFY_MODEL_H__
#define __GST_DEIT_CLASSIFY_MODEL_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
gboolean gst_deit_classify_model_open (GstDeitClassify * self,
    const gchar * location, const gchar * labels_location);

G_GNUC_INTERNAL
void gst_deit_classify_model_close (GstDeitClassify * self);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_MODEL_H__ */
