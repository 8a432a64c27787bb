/* gstdeitplugin.c - plugin entry point of gst-deit: registers the elements and routes the
 * core engine's log messages into the GStreamer debug system (category "deitcore").
 *
 * Adding an element: one GST_ELEMENT_REGISTER_DECLARE line and one GST_ELEMENT_REGISTER
 * line below, and its source in plugin/meson.build.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "deit.h"

GST_ELEMENT_REGISTER_DECLARE (deitclassify);
GST_ELEMENT_REGISTER_DECLARE (deitoverlay);
GST_ELEMENT_REGISTER_DECLARE (deitjsonenc);

GST_DEBUG_CATEGORY_STATIC (deit_core_debug);

/* Core log callback: the core never prints; its messages become debug lines of the
 * "deitcore" category (GST_DEBUG=deitcore:5). */
static void
gst_deit_core_log (enum deit_log_level level, const char *message,
    void *user_data)
{
  GstDebugLevel gst_level;

  switch (level) {
    case DEIT_LOG_LEVEL_ERROR:
      gst_level = GST_LEVEL_ERROR;
      break;
    case DEIT_LOG_LEVEL_WARN:
      gst_level = GST_LEVEL_WARNING;
      break;
    case DEIT_LOG_LEVEL_INFO:
      gst_level = GST_LEVEL_INFO;
      break;
    default:
      gst_level = GST_LEVEL_DEBUG;
      break;
  }
  GST_CAT_LEVEL_LOG (deit_core_debug, gst_level, NULL, "%s", message);
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  GST_DEBUG_CATEGORY_INIT (deit_core_debug, "deitcore", 0,
      "gst-deit inference engine (core)");
  deit_log_set (gst_deit_core_log, NULL);

  ret |= GST_ELEMENT_REGISTER (deitclassify, plugin);
  ret |= GST_ELEMENT_REGISTER (deitoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (deitjsonenc, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    deit,
    "DeiT / ViT image classification on CPU (Hugging Face checkpoints)",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
