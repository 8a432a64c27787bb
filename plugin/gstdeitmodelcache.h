/* gstdeitmodelcache.h - the process-wide cache of loaded models.
 *
 * One struct deit_model per canonical checkpoint path, shared by every deitclassify
 * of the process (a model is immutable after loading; each element has its own
 * struct deit_state). Thread-safe: any thread may acquire and release.
 */
#ifndef __GST_DEIT_MODEL_CACHE_H__
#define __GST_DEIT_MODEL_CACHE_H__

#include "gstdeitclassify.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
GstDeitModelEntry *gst_deit_model_cache_acquire (GstObject * user,
    const gchar * location, struct deit_error *err);

G_GNUC_INTERNAL
const struct deit_model *gst_deit_model_entry_get_model (GstDeitModelEntry *
    entry);

G_GNUC_INTERNAL
void gst_deit_model_cache_release (GstDeitModelEntry * entry);

G_END_DECLS

#endif /* __GST_DEIT_MODEL_CACHE_H__ */
