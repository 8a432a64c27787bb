/* gstdeitmodelcache.c - the process-wide cache of loaded models.
 *
 * Elements naming the same checkpoint directory (through any spelling of its path:
 * the key is realpath()) share one struct deit_model, refcounted; the last release
 * frees it. Loading happens under the cache lock, so two elements starting together
 * load a model once. Logs to the "deitclassify" category ("loaded model",
 * "sharing loaded model": the tests count these lines).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitmodelcache.h"

#include <stdlib.h>

#define GST_CAT_DEFAULT deit_classify_debug

struct _GstDeitModelEntry
{
  gchar *path;                  /* canonical path, the key */
  struct deit_model *model;
  gint refcount;                /* under model_cache_lock */
};

static GMutex model_cache_lock;
static GHashTable *model_cache; /* canonical path -> GstDeitModelEntry */

/* Returns a referenced entry, or NULL with err filled. */
GstDeitModelEntry *
gst_deit_model_cache_acquire (GstObject * user, const gchar * location,
    struct deit_error *err)
{
  GstDeitModelEntry *entry;
  gchar *canonical;
  char *rp;

  rp = realpath (location, NULL);
  canonical = g_strdup (rp ? rp : location);
  free (rp);

  g_mutex_lock (&model_cache_lock);
  if (!model_cache)
    model_cache = g_hash_table_new (g_str_hash, g_str_equal);
  entry = g_hash_table_lookup (model_cache, canonical);
  if (entry) {
    entry->refcount++;
    GST_DEBUG_OBJECT (user, "sharing loaded model %s (%d users)", entry->path,
        entry->refcount);
    g_free (canonical);
  } else {
    struct deit_model *model = deit_model_load (canonical, NULL, err);

    if (model) {
      entry = g_new0 (GstDeitModelEntry, 1);
      entry->path = canonical;
      entry->model = model;
      entry->refcount = 1;
      g_hash_table_insert (model_cache, entry->path, entry);
      GST_DEBUG_OBJECT (user, "loaded model %s", entry->path);
    } else {
      g_free (canonical);
    }
  }
  g_mutex_unlock (&model_cache_lock);
  return entry;
}

const struct deit_model *
gst_deit_model_entry_get_model (GstDeitModelEntry * entry)
{
  return entry->model;
}

void
gst_deit_model_cache_release (GstDeitModelEntry * entry)
{
  if (!entry)
    return;
  g_mutex_lock (&model_cache_lock);
  if (--entry->refcount == 0) {
    g_hash_table_remove (model_cache, entry->path);
    deit_model_free (entry->model);
    g_free (entry->path);
    g_free (entry);
  }
  g_mutex_unlock (&model_cache_lock);
}
