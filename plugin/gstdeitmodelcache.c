/* gstdeitmodelcache.c - the process-wide cache of loaded models.
 *
 * Elements naming the same checkpoint directory (through any spelling of its path:
 * the key is realpath()) share one struct deit_model, refcounted; the last release
 * frees it. Loading happens under the cache lock, so two elements starting together
 * load a model once. A checkpoint replaced on disk (its files renamed over, as
 * docs/reliability.md advises) is loaded anew by the next element that starts: each
 * entry keeps the identity of the files it was loaded from (device, inode, size,
 * mtime), and an entry whose files changed leaves the table, living on only for the
 * elements that still use it. Logs to the "deitclassify" category ("loaded model",
 * "sharing loaded model": the tests count these lines).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitmodelcache.h"

#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#define GST_CAT_DEFAULT deit_classify_debug

struct _GstDeitModelEntry
{
  gchar *path;                  /* canonical path, the key */
  gchar *stamp;                 /* identity of the checkpoint's files at load */
  struct deit_model *model;
  gint refcount;                /* under model_cache_lock */
};

static GMutex model_cache_lock;
static GHashTable *model_cache; /* canonical path -> GstDeitModelEntry */

/* Which files the directory holds now: device, inode, size and mtime of each file
 * deit_model_load() may read. Equal stamps: the same files. */
static gchar *
checkpoint_stamp (const gchar * dir)
{
  static const gchar *const names[] = { "config.json",
    "preprocessor_config.json", "model.safetensors", "pytorch_model.bin"
  };
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    gchar *f = g_build_filename (dir, names[i], NULL);
    GStatBuf st;

    if (g_stat (f, &st) == 0)
      g_string_append_printf (s, "%s:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT
          ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ".%ld;", names[i],
          (guint64) st.st_dev, (guint64) st.st_ino, (gint64) st.st_size,
          (gint64) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec);
    else
      g_string_append_printf (s, "%s:-;", names[i]);
    g_free (f);
  }
  return g_string_free (s, FALSE);
}

static void
entry_free (GstDeitModelEntry * entry)
{
  deit_model_free (entry->model);
  g_free (entry->path);
  g_free (entry->stamp);
  g_free (entry);
}

/* Returns a referenced entry, or NULL with err filled. */
GstDeitModelEntry *
gst_deit_model_cache_acquire (GstObject * user, const gchar * location,
    struct deit_error *err)
{
  GstDeitModelEntry *entry;
  gchar *canonical, *stamp;
  char *rp;

  rp = realpath (location, NULL);
  canonical = g_strdup (rp ? rp : location);
  free (rp);

  /* under the lock: a stamp read before another element loaded newer files would
   * evict that element's fresh entry */
  g_mutex_lock (&model_cache_lock);
  stamp = checkpoint_stamp (canonical);
  if (!model_cache)
    model_cache = g_hash_table_new (g_str_hash, g_str_equal);
  entry = g_hash_table_lookup (model_cache, canonical);
  if (entry && strcmp (entry->stamp, stamp) != 0) {
    /* replaced on disk: its users keep it, new users get the new files */
    GST_INFO_OBJECT (user, "the files of %s changed since it was loaded: "
        "loading it again (%d elements keep the earlier model)", entry->path,
        entry->refcount);
    g_hash_table_remove (model_cache, entry->path);
    entry = NULL;
  }
  if (entry) {
    entry->refcount++;
    GST_DEBUG_OBJECT (user, "sharing loaded model %s (%d users)", entry->path,
        entry->refcount);
    g_free (canonical);
    g_free (stamp);
  } else {
    struct deit_model *model = deit_model_load (canonical, NULL, err);

    if (model) {
      entry = g_new0 (GstDeitModelEntry, 1);
      entry->path = canonical;
      entry->stamp = stamp;
      entry->model = model;
      entry->refcount = 1;
      g_hash_table_insert (model_cache, entry->path, entry);
      GST_DEBUG_OBJECT (user, "loaded model %s", entry->path);
    } else {
      g_free (canonical);
      g_free (stamp);
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
    /* a replaced entry is no longer in the table (its path may name a newer one) */
    if (g_hash_table_lookup (model_cache, entry->path) == entry)
      g_hash_table_remove (model_cache, entry->path);
    entry_free (entry);
  }
  g_mutex_unlock (&model_cache_lock);
}
