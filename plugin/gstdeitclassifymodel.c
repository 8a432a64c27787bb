/* gstdeitclassifymodel.c - the model a deitclassify runs: set up by start().
 *
 * gst_deit_classify_model_open() takes the checkpoint from the process-wide cache
 * (gstdeitmodelcache.c), checks that it classifies and that its preprocessing can
 * feed it video frames, reads the labels file, logs the summary and posts the
 * element error that says what to fix when any of it fails;
 * gst_deit_classify_model_close() gives it all back. Called by start() / stop()
 * only: the fields they set are read-only while streaming.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifymodel.h"
#include "gstdeitmodelcache.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define GST_CAT_DEFAULT deit_classify_debug

/* 16 MiB: ImageNet-21k's 21,843 labels take ~0.3 MB */
#define MAX_LABELS_FILE_BYTES ((gsize) 16 << 20)

/* The whole of a labels file, with bounds: a FIFO or device (labels-file=/dev/zero) is
 * refused before any read, and so is a file over MAX_LABELS_FILE_BYTES. */
static gboolean
gst_deit_classify_read_bounded (const gchar * path, gchar ** contents,
    gsize * len, GError ** error)
{
  GStatBuf st;
  gint fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  gsize done = 0;

  if (fd < 0) {
    gint e = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s",
        g_strerror (e));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)
      || (guint64) st.st_size > MAX_LABELS_FILE_BYTES) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        S_ISREG (st.st_mode) ? "the file is larger than %" G_GSIZE_FORMAT
        " bytes: it is not a labels file (one label per line)" :
        "not a regular file (a FIFO, device or directory?): give a text file "
        "with one label per line", MAX_LABELS_FILE_BYTES);
    close (fd);
    return FALSE;
  }
  *contents = g_malloc ((gsize) st.st_size + 1);
  while (done < (gsize) st.st_size) {
    gssize r = read (fd, *contents + done, (gsize) st.st_size - done);

    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO,
          "short read at byte %" G_GSIZE_FORMAT, done);
      g_free (*contents);
      *contents = NULL;
      close (fd);
      return FALSE;
    }
    done += (gsize) r;
  }
  close (fd);
  (*contents)[done] = '\0';
  *len = done;
  return TRUE;
}

/* Read a labels file, one label per line; trailing empty lines are ignored. */
static gchar **
gst_deit_classify_read_labels (const gchar * path, gint * n_out,
    GError ** error)
{
  gchar *contents = NULL, **lines;
  const gchar *bad = NULL;
  gsize len = 0;
  gint n, i;

  if (!gst_deit_classify_read_bounded (path, &contents, &len, error))
    return NULL;
  /* labels end up in GValues, bus messages and JSON: they must be UTF-8 */
  if (!g_utf8_validate (contents, len, &bad)) {
    gint line = 1;
    const gchar *c;

    for (c = contents; c < bad; c++)
      line += *c == '\n';
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "line %d is not UTF-8 text (or the file holds a NUL byte): save the "
        "file as UTF-8, one label per line", line);
    g_free (contents);
    return NULL;
  }
  lines = g_strsplit (contents, "\n", -1);
  g_free (contents);
  n = g_strv_length (lines);
  while (n > 0 && lines[n - 1][0] == '\0') {
    g_free (lines[n - 1]);
    lines[--n] = NULL;
  }
  for (i = 0; i < n; i++)
    g_strchomp (lines[i]);      /* also removes the \r of CRLF files */
  *n_out = n;
  return lines;
}

static void
gst_deit_classify_post_load_error (GstDeitClassify * self,
    const gchar * location, const struct deit_error *err)
{
  const gchar *status = deit_status_to_string (err->status);

  switch (err->status) {
    case DEIT_STATUS_ERROR_NOT_FOUND:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Model \"%s\" not found: %s", location, err->message),
          ("deit_model_load: %s", status));
      break;
    case DEIT_STATUS_ERROR_IO:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not read model \"%s\": %s", location, err->message),
          ("deit_model_load: %s", status));
      break;
    case DEIT_STATUS_ERROR_NO_MEMORY:
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
          ("Not enough memory to load model \"%s\": %s", location,
              err->message), ("deit_model_load: %s", status));
      break;
    default:
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("Could not load model \"%s\": %s", location, err->message),
          ("deit_model_load: %s", status));
      break;
  }
}

static void
gst_deit_classify_log_summary (GstDeitClassify * self,
    const struct deit_model_info *mi)
{
  const struct deit_preprocess_config *pc =
      deit_model_get_preprocess_config (self->model);

  GST_INFO_OBJECT (self, "model %s: %s, image %dx%d, patch %d, %d tokens, "
      "hidden %d, %d layers, %d heads, mlp %d, %d labels%s (default scores: "
      "%s), %.1f MB of weights", mi->name, deit_arch_to_string (mi->arch),
      mi->image_width, mi->image_height, mi->patch_size, mi->num_tokens,
      mi->hidden_size, mi->num_layers, mi->num_heads, mi->intermediate_size,
      mi->num_labels, self->labels ? " (from labels file)" : "",
      deit_score_function_to_string (deit_model_score_function (self->model)),
      mi->weight_bytes / 1e6);
  GST_INFO_OBJECT (self, "preprocessing: resize %s %dx%d (shortest edge %d, "
      "resample %d), crop %s %dx%d", pc->do_resize ? "on" : "off",
      pc->resize_width, pc->resize_height, pc->shortest_edge, pc->resample,
      pc->do_center_crop ? "on" : "off", pc->crop_width, pc->crop_height);
}

/* Set model_entry, model, num_classes, model_name and labels for location (and
 * labels_location, if any). On failure posts an error and returns FALSE; call
 * gst_deit_classify_model_close() then too. */
gboolean
gst_deit_classify_model_open (GstDeitClassify * self, const gchar * location,
    const gchar * labels_location)
{
  struct deit_error err = { 0 };
  const struct deit_model_info *mi = NULL;
  gint n_labels = 0;
  GError *gerr = NULL;

  if (!location || !*location)
    goto no_model;

  self->model_entry = gst_deit_model_cache_acquire (GST_OBJECT (self),
      location, &err);
  if (!self->model_entry)
    goto load_failed;
  self->model = gst_deit_model_entry_get_model (self->model_entry);
  mi = deit_model_get_info (self->model);
  if (mi->num_labels <= 0)
    goto no_classifier;
  self->num_classes = mi->num_labels;
  self->model_name = g_strdup (mi->name ? mi->name : location);
  self->warned_non_finite = FALSE;

  if (labels_location && *labels_location) {
    self->labels = gst_deit_classify_read_labels (labels_location, &n_labels,
        &gerr);
    if (!self->labels)
      goto labels_unreadable;
    if (n_labels != mi->num_labels)
      goto labels_mismatch;
  }
  gst_deit_classify_log_summary (self, mi);
  /* a preprocessing config that cannot feed the model fails here, with the
   * fields to fix, not on the first frame */
  if (deit_model_check_preprocess (self->model, &err) != DEIT_STATUS_OK)
    goto cannot_preprocess;
  return TRUE;

  /* ERRORS */
no_model:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No model directory specified."),
        ("set the \"model\" property to a checkpoint directory holding "
            "config.json, preprocessor_config.json and model.safetensors"));
    return FALSE;
  }
load_failed:
  {
    gst_deit_classify_post_load_error (self, location, &err);
    return FALSE;
  }
no_classifier:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Model \"%s\" is a %s, which has no classification head: use a "
            "checkpoint whose config.json names DeiTForImageClassification"
            "WithTeacher, DeiTForImageClassification or "
            "ViTForImageClassification.", location,
            deit_arch_to_string (mi->arch)), (NULL));
    return FALSE;
  }
labels_unreadable:
  {
    if (g_error_matches (gerr, G_FILE_ERROR, G_FILE_ERROR_INVAL))
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Labels file \"%s\": %s", labels_location, gerr->message), (NULL));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Could not read labels file \"%s\": %s", labels_location,
              gerr->message), (NULL));
    g_clear_error (&gerr);
    return FALSE;
  }
labels_mismatch:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Labels file \"%s\" has %d labels but model \"%s\" has %d classes: "
            "give one label per line, one line per class.", labels_location,
            n_labels, location, mi->num_labels), (NULL));
    return FALSE;
  }
cannot_preprocess:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Model \"%s\" cannot be fed video frames: %s", location,
            err.message),
        ("deit_model_check_preprocess: %s",
            deit_status_to_string (err.status)));
    return FALSE;
  }
}

void
gst_deit_classify_model_close (GstDeitClassify * self)
{
  gst_deit_model_cache_release (self->model_entry);
  self->model_entry = NULL;
  self->model = NULL;
  g_strfreev (self->labels);
  self->labels = NULL;
  g_free (self->model_name);
  self->model_name = NULL;
  self->num_classes = 0;
}
