/* test-deitclassify-modes.c - gst-check tests of deitclassify: async mode, latency,
 * flushing and batch-size, with the stream time of their messages.
 *
 * Checkpoints, labels files and the PyTorch + Pillow reference results come from
 * gen_plugin_fixtures.py, run at build time into TEST_DATA_DIR. Where a test compares
 * the element with the core, the core is called directly on the very same bytes with
 * one thread on both sides, so the numbers must agree to float rounding: tolerance
 * 1e-6 on probabilities in [0, 1] (the computations are identical; the margin only
 * absorbs a different summation order should BLAS pick another kernel).
 * The end-to-end test compares with PyTorch + Pillow at 1e-4 (the tolerance).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "deit.h"
#include "gstdeitclassifymeta.h"
#include "deit-check.h"

/* ------------------------------------------------------------------------------------
 * async and latency
 */

/* async=true: frames never wait; once the worker has finished, frames carry its result
 * (not fresh), equal to the core's for that frame (all frames are identical here). */
GST_START_TEST (test_async)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=48,height=32,framerate=30/1";
  GstHarness *h = harness_new ("model", "async=true");
  GstVideoInfo info;
  GstBuffer *in;
  Result r;
  gboolean got = FALSE;
  gint i;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  in = random_frame (&info, 77);
  core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r);
  /* bounded wait: up to 2000 frames 5 ms apart */
  for (i = 0; i < 2000 && !got; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
    GstDeitClassifyMeta *meta = gst_buffer_get_deit_classify_meta (out);

    if (meta) {
      check_meta_equals (meta, &r);
      fail_if (meta->fresh);
      got = TRUE;
    }
    gst_buffer_unref (out);
    g_usleep (5000);
  }
  fail_unless (got, "no result from the worker");
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* async=true and a stream that ends while its only frame is being classified (a short
 * file into a sink with sync=false): EOS waits for the worker, so the frame's bus
 * message is posted before EOS goes on, with the core's values. */
GST_START_TEST (test_async_eos_posts_result)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=48,height=32,framerate=30/1";
  GstHarness *h = harness_new ("model", "async=true");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstStructure *msg;
  Result r;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  in = random_frame (&info, 91);
  core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = pop_deit_message (bus);
  fail_unless (msg != NULL, "no deitclassify message before EOS left the element");
  check_message_equals (msg, &r);
  gst_structure_free (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Upstream buffers with padded rows and planes far apart (a GstVideoMeta whose
 * strides and offsets differ from the packed layout, as decoders and v4l2src
 * produce): the sync path reads them through the meta, the async path copies
 * them into a packed frame for its worker.  Both must give the core's result
 * for the packed frame with the same pixels, and the padding bytes (garbage
 * here) must not matter. */
static GstBuffer *
padded_copy (const GstVideoInfo * info, GstBuffer * packed, guint32 seed)
{
  /* planes 48 MiB apart (zero pages, never touched except the rows written
   * below): a copy that used these offsets on a packed-size buffer would
   * write far outside it and crash, not just corrupt the heap quietly */
  const gsize gap = 48 << 20;
  GstVideoInfo pinfo = *info;
  GstVideoFrame src, dst;
  GstBuffer *buf;
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 *mem;
  gsize size;
  guint p;
  gint y, x;

  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    pinfo.stride[p] = info->stride[p] + 40 + 8 * p;
    pinfo.offset[p] = 64 + p * gap;
  }
  size = 64 + GST_VIDEO_INFO_N_PLANES (info) * gap;
  pinfo.size = size;
  mem = g_malloc0 (size);
  buf = gst_buffer_new_wrapped (mem, size);
  fail_unless (gst_video_frame_map (&src, info, packed, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&dst, &pinfo, buf, GST_MAP_WRITE));
  /* garbage in the row padding, then the pixels */
  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++)
    for (y = 0; y < GST_VIDEO_INFO_COMP_HEIGHT (info, p); y++)
      for (x = 0; x < pinfo.stride[p]; x++)
        ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&dst, p))[y * pinfo.stride[p] +
            x] = g_rand_int_range (rand, 0, 256);
  fail_unless (gst_video_frame_copy (&dst, &src));
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);
  g_rand_free (rand);
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info), GST_VIDEO_INFO_N_PLANES (info),
      pinfo.offset, pinfo.stride);
  return buf;
}

GST_START_TEST (test_padded_video_meta)
{
  const gchar *fmts[] = { "I420", "RGB", "NV12" };
  guint f, mode;

  for (f = 0; f < G_N_ELEMENTS (fmts); f++) {
    gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=50,height=34,"
        "framerate=30/1%s", fmts[f], f == 1 ? "" : ",colorimetry=bt601");
    GstVideoInfo info;
    GstBuffer *packed, *padded;
    Result r;

    info_from_string (&info, caps);
    packed = random_frame (&info, 400 + f);
    padded = padded_copy (&info, packed, 500 + f);
    core_classify ("model", packed, &info, DEIT_COLOR_MATRIX_BT601, FALSE, 5,
        0.0f, &r);
    for (mode = 0; mode < 2; mode++) {
      GstHarness *h = harness_new ("model", mode ? "async=true" : NULL);
      gboolean got = FALSE;
      gint i;

      gst_harness_set_src_caps_str (h, caps);
      /* sync: the first frame carries a fresh result; async: bounded wait */
      for (i = 0; i < 2000 && !got; i++) {
        GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (padded));
        GstDeitClassifyMeta *meta = gst_buffer_get_deit_classify_meta (out);

        if (!mode)
          fail_unless (meta != NULL && meta->fresh);
        if (meta) {
          check_meta_equals (meta, &r);
          got = TRUE;
        }
        gst_buffer_unref (out);
        if (!got)
          g_usleep (5000);
      }
      fail_unless (got, "%s %s: no result", fmts[f], mode ? "async" : "sync");
      gst_harness_teardown (h);
    }
    gst_buffer_unref (padded);
    gst_buffer_unref (packed);
    g_free (caps);
  }
}

GST_END_TEST;

/* The LATENCY query adds the inference time in sync mode, nothing in async mode. */
GST_START_TEST (test_latency)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=48,height=32,framerate=30/1";
  guint mode;

  for (mode = 0; mode < 2; mode++) {
    GstHarness *h = harness_new ("model", mode ? "async=true" : NULL);
    GstVideoInfo info;
    GstQuery *q;
    gboolean live;
    GstClockTime min, max;

    info_from_string (&info, caps);
    gst_harness_set_src_caps_str (h, caps);
    gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
    gst_buffer_unref (gst_harness_push_and_pull (h, random_frame (&info, 1)));
    q = gst_query_new_latency ();
    fail_unless (gst_pad_peer_query (h->sinkpad, q));
    gst_query_parse_latency (q, &live, &min, &max);
    if (mode == 0)
      fail_unless (min > 10 * GST_MSECOND, "min %" GST_TIME_FORMAT,
          GST_TIME_ARGS (min));
    else
      fail_unless_equals_uint64 (min, 10 * GST_MSECOND);
    gst_query_unref (q);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* A non-live pipeline gets no latency messages from the element (they only matter to
 * live pipelines, and re-posting them made gst-launch redistribute latency over and
 * over on a busy machine). */
GST_START_TEST (test_no_latency_messages_when_not_live)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! "
      "video/x-raw,format=I420,width=96,height=64 ! deitclassify name=d "
      "model=\"%s\" threads=1 ! fakesink sync=false", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  GstElement *d = gst_bin_get_by_name (GST_BIN (pipe), "d");
  GstMessage *msg;
  guint latency_msgs = 0;
  gboolean done = FALSE;

  fail_unless (pipe != NULL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  while (!done && (msg = gst_bus_timed_pop (bus, 60 * GST_SECOND))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_LATENCY &&
        GST_MESSAGE_SRC (msg) == GST_OBJECT (d))
      latency_msgs++;
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR);
    done = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
    gst_message_unref (msg);
  }
  fail_unless (done, "no EOS");
  fail_unless_equals_int (latency_msgs, 0);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (d);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* Flushing seeks while frames are being classified (sync and async mode), then a
 * state change to NULL mid-stream: no error, no crash, no hang. */
GST_START_TEST (test_flush_seek)
{
  gchar *model = data_path ("model");
  guint mode, i;

  /* sync, async, batch-size=4 (partial batches pending at the seeks) */
  for (mode = 0; mode < 3; mode++) {
    gchar *desc = g_strdup_printf ("videotestsrc ! "
        "video/x-raw,width=64,height=48,framerate=30/1 ! deitclassify "
        "model=\"%s\" async=%s batch-size=%d ! fakesink sync=true", model,
        mode == 1 ? "true" : "false", mode == 2 ? 4 : 1);
    GstElement *p = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;

    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_get_state (p, NULL, NULL,
            30 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    for (i = 0; i < 5; i++) {
      g_usleep (20000);
      fail_unless (gst_element_seek_simple (p, GST_FORMAT_TIME,
              GST_SEEK_FLAG_FLUSH, i * GST_SECOND / 10));
    }
    g_usleep (20000);
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (msg) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      fail ("error after flushing seeks: %s", err->message);
    }
    gst_object_unref (bus);
    gst_object_unref (p);
    g_free (desc);
  }
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * batch-size
 */

/* What came out of one run of a frame sequence through the element. */
typedef struct
{
  guint n_out;
  GstBuffer *out[32];
  guint out_after_push[32];     /* buffers downstream after each push */
  GList *msgs;                  /* GstStructure, in posting order */
} SeqRun;

#define SEQ_CAPS "video/x-raw,format=RGB,width=40,height=30,framerate=10/1"

static GstBuffer *
seq_frame (const GstVideoInfo * info, guint i)
{
  GstBuffer *buf = random_frame (info, 5000 + i);

  GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
  GST_BUFFER_DTS (buf) = i * GST_SECOND / 10;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
  GST_BUFFER_OFFSET (buf) = i;
  if (i == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  return buf;
}

/* Push n_frames seeded random frames (PTS i/10 s), then EOS; collect buffers and
 * messages. */
static void
seq_run (guint batch, guint interval, guint n_frames, SeqRun * run)
{
  gchar *props = g_strdup_printf ("batch-size=%u interval=%u", batch,
      interval);
  GstHarness *h = harness_new ("model", props);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstStructure *s;
  GstBuffer *out;
  guint i;

  fail_unless (n_frames <= G_N_ELEMENTS (run->out));
  memset (run, 0, sizeof (*run));
  info_from_string (&info, SEQ_CAPS);
  gst_harness_set_src_caps_str (h, SEQ_CAPS);
  for (i = 0; i < n_frames; i++) {
    fail_unless_equals_int (gst_harness_push (h, seq_frame (&info, i)),
        GST_FLOW_OK);
    run->out_after_push[i] = gst_harness_buffers_received (h);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((out = gst_harness_try_pull (h))) {
    fail_unless (run->n_out < G_N_ELEMENTS (run->out), "too many buffers");
    run->out[run->n_out++] = out;
  }
  while ((s = pop_deit_message (bus)))
    run->msgs = g_list_append (run->msgs, s);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (props);
}

static void
seq_run_clear (SeqRun * run)
{
  guint i;

  for (i = 0; i < run->n_out; i++)
    gst_buffer_unref (run->out[i]);
  g_list_free_full (run->msgs, (GDestroyNotify) gst_structure_free);
}

static void
check_results_equal (const GstDeitClassifyMeta * a,
    const GstDeitClassifyMeta * b)
{
  guint i;

  fail_unless_equals_int (a->n_results, b->n_results);
  for (i = 0; i < a->n_results; i++) {
    fail_unless_equals_int (a->results[i].class_id, b->results[i].class_id);
    fail_unless_equals_string (a->results[i].label, b->results[i].label);
    fail_unless (fabs (a->results[i].score - b->results[i].score) <= CORE_EPS,
        "score %u: batch %.9f single %.9f", i, a->results[i].score,
        b->results[i].score);
  }
}

typedef struct
{
  guint interval, n_frames;
} BatchCase;

/* interval 1: batches 0-3, 4-7, partial 8-10 at EOS; interval 3: frames 0, 3, 6, 9
 * make a batch (frames 0-9), then frame 12 and 13 wait as a partial batch until EOS */
static const BatchCase batch_cases[] = { {1, 11}, {3, 14} };

/* batch-size=4 gives what batch-size=1 gives: the same buffers in the same order
 * with the same timestamps, offsets and flags, the same top-k (scores within 1e-6,
 * see the top of the file), fresh flags, frame numbers and inference PTS, the same
 * messages; the frames due for inference also match the core (1e-6). Frames are
 * held until 4 are due for inference, the partial batch comes out at EOS. */
GST_START_TEST (test_batch_matches_single)
{
  const BatchCase *bc = &batch_cases[__i__];
  const guint batch = 4;
  SeqRun single, batched;
  GstVideoInfo info;
  guint i, held = 0, due = 0, out = 0;
  GList *la, *lb;

  info_from_string (&info, SEQ_CAPS);
  seq_run (1, bc->interval, bc->n_frames, &single);
  seq_run (batch, bc->interval, bc->n_frames, &batched);

  fail_unless_equals_int (single.n_out, bc->n_frames);
  fail_unless_equals_int (batched.n_out, bc->n_frames);

  /* buffers downstream after each push, from the documented rule: a frame due for
   * inference is held until batch-size frames are due; a frame skipped by interval
   * is held behind a held frame, else passes at once */
  for (i = 0; i < bc->n_frames; i++) {
    gboolean is_due = i % bc->interval == 0;

    if (!is_due && held == 0) {
      out++;
    } else {
      held++;
      due += is_due;
      if (due == batch) {
        out += held;
        held = due = 0;
      }
    }
    fail_unless_equals_int (single.out_after_push[i], i + 1);
    fail_unless_equals_int (batched.out_after_push[i], out);
  }
  fail_unless (held > 0, "the case must end with a partial batch");

  for (i = 0; i < bc->n_frames; i++) {
    GstBuffer *a = batched.out[i], *b = single.out[i];
    GstDeitClassifyMeta *ma = gst_buffer_get_deit_classify_meta (a);
    GstDeitClassifyMeta *mb = gst_buffer_get_deit_classify_meta (b);
    GstVideoRegionOfInterestMeta *ra = get_roi_meta (a), *rb = get_roi_meta (b);
    guint src = i - i % bc->interval;

    fail_unless_equals_uint64 (GST_BUFFER_PTS (a), i * GST_SECOND / 10);
    fail_unless_equals_uint64 (GST_BUFFER_DTS (a), i * GST_SECOND / 10);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (a), GST_SECOND / 10);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (a), i);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (a, GST_BUFFER_FLAG_DISCONT),
        i == 0);
    fail_unless_equals_int (GST_BUFFER_FLAGS (a), GST_BUFFER_FLAGS (b));
    fail_unless (ma != NULL && mb != NULL, "frame %u: no meta", i);
    fail_unless_equals_int (ma->fresh, mb->fresh);
    fail_unless_equals_int (ma->fresh, i % bc->interval == 0);
    fail_unless_equals_uint64 (ma->frame_number, i);
    fail_unless_equals_uint64 (mb->frame_number, i);
    fail_unless_equals_uint64 (ma->inference_pts, src * GST_SECOND / 10);
    fail_unless_equals_uint64 (mb->inference_pts, src * GST_SECOND / 10);
    fail_unless_equals_int (ma->width, 40);
    fail_unless_equals_int (ma->height, 30);
    check_results_equal (ma, mb);
    fail_unless (ra != NULL && rb != NULL);
    fail_unless_equals_int (ra->w, 40);
    if (i % bc->interval == 0) {
      GstBuffer *in = seq_frame (&info, i);
      Result r;

      core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r);
      check_meta_equals (ma, &r);
      gst_buffer_unref (in);
    }
  }

  /* one message per classified frame, in order */
  fail_unless_equals_int (g_list_length (batched.msgs),
      (bc->n_frames + bc->interval - 1) / bc->interval);
  fail_unless_equals_int (g_list_length (batched.msgs),
      g_list_length (single.msgs));
  for (la = batched.msgs, lb = single.msgs, i = 0; la && lb;
      la = la->next, lb = lb->next, i++) {
    const GstStructure *sa = la->data, *sb = lb->data;
    guint64 fa, fb, ta, tb, rta, rtb;
    const GValue *ia, *ib, *va, *vb;
    guint k;

    fail_unless (gst_structure_get_uint64 (sa, "frame", &fa));
    fail_unless (gst_structure_get_uint64 (sb, "frame", &fb));
    fail_unless (gst_structure_get_uint64 (sa, "timestamp", &ta));
    fail_unless (gst_structure_get_uint64 (sb, "timestamp", &tb));
    fail_unless (gst_structure_get_uint64 (sa, "running-time", &rta));
    fail_unless (gst_structure_get_uint64 (sb, "running-time", &rtb));
    fail_unless_equals_uint64 (fa, i * bc->interval);
    fail_unless_equals_uint64 (fa, fb);
    fail_unless_equals_uint64 (ta, tb);
    fail_unless_equals_uint64 (ta, fa * GST_SECOND / 10);
    fail_unless_equals_uint64 (rta, rtb);
    ia = gst_structure_get_value (sa, "class-ids");
    ib = gst_structure_get_value (sb, "class-ids");
    va = gst_structure_get_value (sa, "scores");
    vb = gst_structure_get_value (sb, "scores");
    fail_unless_equals_int (gst_value_array_get_size (ia),
        gst_value_array_get_size (ib));
    for (k = 0; k < gst_value_array_get_size (ia); k++) {
      fail_unless_equals_int (g_value_get_int (gst_value_array_get_value (ia,
                  k)), g_value_get_int (gst_value_array_get_value (ib, k)));
      fail_unless (fabs (g_value_get_double (gst_value_array_get_value (va,
                      k)) - g_value_get_double (gst_value_array_get_value (vb,
                      k))) <= CORE_EPS);
    }
  }
  seq_run_clear (&single);
  seq_run_clear (&batched);
}

GST_END_TEST;

static GstPadProbeReturn
record_data_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GString *log = user_data;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    g_string_append_printf (log, "b%" G_GUINT64_FORMAT " ",
        GST_BUFFER_PTS (buf) / (GST_SECOND / 10));
  } else if (GST_PAD_PROBE_INFO_TYPE (info) &
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS ||
        GST_EVENT_TYPE (ev) == GST_EVENT_GAP ||
        GST_EVENT_TYPE (ev) == GST_EVENT_EOS ||
        GST_EVENT_TYPE (ev) == GST_EVENT_TAG)
      g_string_append_printf (log, "%s ", GST_EVENT_TYPE_NAME (ev));
  }
  return GST_PAD_PROBE_OK;
}

/* A partial batch goes out before a caps change (with the old size in its metas),
 * before a gap, a tag event and EOS: the order of buffers and events downstream
 * stays the order upstream sent them. */
GST_START_TEST (test_batch_drains_before_events)
{
  const gchar *caps_a =
      "video/x-raw,format=RGB,width=40,height=30,framerate=10/1";
  const gchar *caps_b =
      "video/x-raw,format=RGB,width=24,height=20,framerate=10/1";
  GstHarness *h = harness_new ("model", "batch-size=4");
  GString *log = g_string_new (NULL);
  GstVideoInfo info_a, info_b;
  GstPad *srcpad;
  GstBuffer *buf;
  guint i, n = 0;

  srcpad = gst_element_get_static_pad (h->element, "src");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record_data_probe, log, NULL);
  info_from_string (&info_a, caps_a);
  info_from_string (&info_b, caps_b);
  gst_harness_set_src_caps_str (h, caps_a);
  for (i = 0; i < 2; i++)
    gst_harness_push (h, seq_frame (&info_a, n++));
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  gst_harness_set_src_caps_str (h, caps_b);
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  gst_harness_push (h, seq_frame (&info_b, n++));
  fail_unless (gst_harness_push_event (h,
          gst_event_new_gap (n * GST_SECOND / 10, GST_SECOND / 10)));
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  n++;                          /* the gap */
  gst_harness_push (h, seq_frame (&info_b, n++));
  fail_unless (gst_harness_push_event (h,
          gst_event_new_tag (gst_tag_list_new (GST_TAG_TITLE, "t", NULL))));
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  gst_harness_push (h, seq_frame (&info_b, n++));
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 5);
  fail_unless_equals_string (log->str, "caps b0 b1 caps b2 gap b4 tag b5 eos ");

  /* each frame is fresh and describes its own size */
  for (i = 0; i < 5; i++) {
    GstDeitClassifyMeta *meta;

    buf = gst_harness_pull (h);
    meta = gst_buffer_get_deit_classify_meta (buf);
    fail_unless (meta != NULL);
    fail_unless (meta->fresh);
    fail_unless_equals_int (meta->width, i < 2 ? 40 : 24);
    fail_unless_equals_uint64 (meta->frame_number, i);
    gst_buffer_unref (buf);
  }
  gst_object_unref (srcpad);
  g_string_free (log, TRUE);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A flush drops a partial batch (no buffer, no message for it); the frames after the
 * flush are classified afresh, frame numbers going on counting. */
GST_START_TEST (test_batch_flush)
{
  GstHarness *h = harness_new ("model", "batch-size=4");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstSegment seg;
  GstStructure *s;
  guint i, n_msgs = 0;

  info_from_string (&info, SEQ_CAPS);
  gst_harness_set_src_caps_str (h, SEQ_CAPS);
  for (i = 0; i < 3; i++)
    gst_harness_push (h, seq_frame (&info, i));
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  fail_unless (pop_deit_message (bus) == NULL);
  for (i = 10; i < 14; i++)
    gst_harness_push (h, seq_frame (&info, i));
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  for (i = 10; i < 14; i++) {
    GstBuffer *in = seq_frame (&info, i), *out = gst_harness_pull (h);
    GstDeitClassifyMeta *meta = gst_buffer_get_deit_classify_meta (out);
    Result r;

    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 10);
    core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r);
    check_meta_equals (meta, &r);
    fail_unless (meta->fresh);
    fail_unless_equals_uint64 (meta->frame_number, i - 10 + 3);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }
  while ((s = pop_deit_message (bus))) {
    guint64 ts;

    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    fail_unless_equals_uint64 (ts, (10 + n_msgs) * GST_SECOND / 10);
    gst_structure_free (s);
    n_msgs++;
  }
  fail_unless_equals_int (n_msgs, 4);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static void
count_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer user_data)
{
  guint *counts = user_data;
  GstDeitClassifyMeta *meta = gst_buffer_get_deit_classify_meta (buf);

  /* [0] buffers, [1] with a fresh meta, [2] out of order */
  counts[0]++;
  if (meta && meta->fresh)
    counts[1]++;
  if (GST_BUFFER_PTS (buf) != counts[3])
    counts[2]++;
  counts[3] = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
}

/* NULL <-> PLAYING cycles with batch-size=4: 7 frames (one full batch, a partial one
 * at EOS) reach the sink in order, each classified; then NULL in the middle of a
 * stream with frames held, and PLAYING again. */
GST_START_TEST (test_batch_state_cycles)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=7 ! "
      "video/x-raw,width=48,height=32,framerate=30/1 ! deitclassify "
      "model=\"%s\" threads=1 batch-size=4 ! fakesink name=fs "
      "signal-handoffs=true sync=false", model);
  gint i;

  for (i = 0; i < 3; i++) {
    GstElement *p = gst_parse_launch (desc, NULL);
    GstElement *fs = gst_bin_get_by_name (GST_BIN (p), "fs");
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;
    guint counts[4] = { 0, 0, 0, 0 };

    g_signal_connect (fs, "handoff", G_CALLBACK (count_handoff), counts);
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
    gst_message_unref (msg);
    fail_unless_equals_int (counts[0], 7);
    fail_unless_equals_int (counts[1], 7);
    fail_unless_equals_int (counts[2], 0);
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    /* PLAYING and at once NULL: frames may be held when the element stops */
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    g_usleep (i * 10000);
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (fs);
    gst_object_unref (bus);
    gst_object_unref (p);
  }
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* batch-size: a READY-mutable guint 1..64, default 1; async mode wins (frames go
 * out one by one); the allocation query asks for the 3 buffers held beyond the
 * usual one; the LATENCY query of a live pipeline adds the 3 frame durations the
 * first frame of a batch of 4 waits. */
GST_START_TEST (test_batch_property_async_latency)
{
  GstElement *e = gst_element_factory_make ("deitclassify", NULL);
  GParamSpecUInt *ps;
  GstVideoInfo info;
  GstHarness *h;
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;
  guint i;

  /* a plugin that failed to load (e.g. under a sanitizer) fails here, not in a NULL
   * dereference */
  fail_unless (e != NULL, "could not make a deitclassify element (plugin not loaded?)");
  ps = (GParamSpecUInt *) g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "batch-size");
  fail_unless (ps != NULL);
  fail_unless_equals_int (ps->minimum, 1);
  fail_unless_equals_int (ps->maximum, 64);
  fail_unless_equals_int (ps->default_value, 1);
  fail_unless (((GParamSpec *) ps)->flags & GST_PARAM_MUTABLE_READY);
  gst_object_unref (e);

  info_from_string (&info, SEQ_CAPS);
  h = harness_new ("model", "batch-size=4 async=true");
  gst_harness_set_src_caps_str (h, SEQ_CAPS);
  for (i = 0; i < 3; i++) {
    gst_harness_push (h, seq_frame (&info, i));
    fail_unless_equals_int (gst_harness_buffers_received (h), i + 1);
  }
  gst_harness_teardown (h);

  h = harness_new ("model", "batch-size=4");
  gst_harness_set_src_caps_str (h, SEQ_CAPS);
  /* the allocation query asks upstream pools for the 3 extra buffers held */
  {
    GstCaps *caps = gst_caps_from_string (SEQ_CAPS);
    GstQuery *aq = gst_query_new_allocation (caps, TRUE);
    guint size, min_buffers, max_buffers;

    fail_unless (gst_pad_peer_query (h->srcpad, aq));
    fail_unless_equals_int (gst_query_get_n_allocation_pools (aq), 1);
    gst_query_parse_nth_allocation_pool (aq, 0, NULL, &size, &min_buffers,
        &max_buffers);
    fail_unless_equals_int (size, GST_VIDEO_INFO_SIZE (&info));
    fail_unless_equals_int (min_buffers, 3);
    fail_unless_equals_int (max_buffers, 0);
    gst_query_unref (aq);
    gst_caps_unref (caps);
  }
  gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
  for (i = 0; i < 4; i++)
    gst_harness_push (h, seq_frame (&info, i));
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (min > 10 * GST_MSECOND + 3 * GST_SECOND / 10,
      "min %" GST_TIME_FORMAT, GST_TIME_ARGS (min));
  gst_query_unref (q);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * the stream time of messages in batch and async mode (issue 16, item 8)
 */

/* check_times: a message of a frame with PTS pts in a segment that starts at 1 s and
 * maps it to stream time 10 s: running time pts - 1 s, stream time pts + 9 s (the two
 * differ, so taking one for the other fails). */
static void
check_message_times (const GstStructure * s, GstClockTime pts)
{
  guint64 v;

  fail_unless (s != NULL, "no deitclassify message");
  fail_unless (gst_structure_get_uint64 (s, "timestamp", &v));
  fail_unless_equals_uint64 (v, pts);
  fail_unless (gst_structure_get_uint64 (s, "running-time", &v));
  fail_unless_equals_uint64 (v, pts - 1 * GST_SECOND);
  fail_unless (gst_structure_get_uint64 (s, "stream-time", &v));
  fail_unless_equals_uint64 (v, pts + 9 * GST_SECOND);
}

static void
push_time_segment (GstHarness * h)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 1 * GST_SECOND;
  seg.time = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* batch-size=2: the messages of a batch carry each frame's own stream and running time
 * (as test_passthrough checks for the synchronous path). */
GST_START_TEST (test_batch_stream_time)
{
  GstHarness *h = harness_new ("model", "batch-size=2");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *out;
  guint i;

  info_from_string (&info, SEQ_CAPS);
  gst_harness_set_src_caps_str (h, SEQ_CAPS);
  push_time_segment (h);
  for (i = 0; i < 2; i++) {
    GstBuffer *in = random_frame (&info, 300 + i);

    GST_BUFFER_PTS (in) = 3 * GST_SECOND + i * GST_SECOND / 10;
    GST_BUFFER_DURATION (in) = GST_SECOND / 10;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  while ((out = gst_harness_try_pull (h)))
    gst_buffer_unref (out);
  for (i = 0; i < 2; i++) {
    GstStructure *s = pop_deit_message (bus);

    check_message_times (s, 3 * GST_SECOND + i * GST_SECOND / 10);
    gst_structure_free (s);
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* async=true: the worker's message carries the stream and running time of the frame it
 * classified (EOS waits for the worker, see test_async_eos_posts_result). */
GST_START_TEST (test_async_stream_time)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=48,height=32,framerate=30/1";
  GstHarness *h = harness_new ("model", "async=true");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstStructure *s;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  push_time_segment (h);
  in = random_frame (&info, 92);
  GST_BUFFER_PTS (in) = 4 * GST_SECOND;
  GST_BUFFER_DURATION (in) = GST_SECOND / 30;
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  s = pop_deit_message (bus);
  check_message_times (s, 4 * GST_SECOND);
  gst_structure_free (s);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
deitclassify_modes_suite (void)
{
  Suite *s = suite_create ("deitclassify-modes");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_async);
  tcase_add_test (tc, test_padded_video_meta);
  tcase_add_test (tc, test_async_eos_posts_result);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_no_latency_messages_when_not_live);
  tcase_add_test (tc, test_flush_seek);
  tcase_add_loop_test (tc, test_batch_matches_single, 0,
      G_N_ELEMENTS (batch_cases));
  tcase_add_test (tc, test_batch_drains_before_events);
  tcase_add_test (tc, test_batch_flush);
  tcase_add_test (tc, test_batch_state_cycles);
  tcase_add_test (tc, test_batch_property_async_latency);
  tcase_add_test (tc, test_batch_stream_time);
  tcase_add_test (tc, test_async_stream_time);
  return s;
}

GST_CHECK_MAIN (deitclassify_modes);
