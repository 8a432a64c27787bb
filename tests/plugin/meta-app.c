/* meta-app.c - an application reading deitclassify's results through the installed
 * meta library only: #include <gst/deit/gstdeitclassifymeta.h>, link with
 * `pkg-config --cflags --libs gstdeitmeta-1.0`. Built and run by test-install.sh.
 *
 * Usage: meta-app MODEL_DIR   (prints "frame N: LABEL SCORE" per frame, exit 0 if every
 * frame carried a GstDeitClassifyMeta with at least one result)
 */
#include <gst/gst.h>
#include <gst/deit/gstdeitclassifymeta.h>

static gint frames, with_meta;

static GstPadProbeReturn
probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstDeitClassifyMeta *meta = gst_buffer_get_deit_classify_meta (buf);

  frames++;
  if (meta && meta->n_results > 0) {
    with_meta++;
    g_print ("frame %" G_GUINT64_FORMAT ": %s %.4f%s\n", meta->frame_number,
        meta->results[0].label, meta->results[0].score,
        meta->fresh ? "" : " (carried over)");
  }
  return GST_PAD_PROBE_OK;
}

int
main (int argc, char **argv)
{
  GstElement *pipeline, *sink;
  GstPad *pad;
  GstBus *bus;
  GstMessage *msg;
  gchar *desc;
  gboolean ok;

  gst_init (&argc, &argv);
  if (argc != 2) {
    g_printerr ("usage: meta-app MODEL_DIR\n");
    return 2;
  }
  desc = g_strdup_printf ("videotestsrc num-buffers=4 ! "
      "video/x-raw,width=64,height=48 ! deitclassify model=\"%s\" interval=2 ! "
      "videoconvert ! videoscale ! video/x-raw,format=I420,width=32,height=24 ! "
      "fakesink name=sink", argv[1]);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  if (!pipeline)
    return 1;
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, probe, NULL, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_print ("%d frames, %d with a result\n", frames, with_meta);
  return ok && frames == 4 && with_meta == 4 ? 0 : 1;
}
