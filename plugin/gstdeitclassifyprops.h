/* gstdeitclassifyprops.h - deitclassify's properties (gstdeitclassifyprops.c). */
#ifndef __GST_DEIT_CLASSIFY_PROPS_H__
#define __GST_DEIT_CLASSIFY_PROPS_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
void gst_deit_classify_install_properties (GObjectClass * gobject_class);

G_GNUC_INTERNAL
void gst_deit_classify_properties_init (GstDeitClassify * self);

G_GNUC_INTERNAL
void gst_deit_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);

G_GNUC_INTERNAL
void gst_deit_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);

G_END_DECLS

#endif /* __GST_DEIT_CLASSIFY_PROPS_H__ */
