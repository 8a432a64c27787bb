/* test-deitclassify.c - gst-check tests of the deitclassify element and its meta.
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
 * meta and message values (helpers: deit-check.c)
 */
typedef struct
{
  const gchar *caps;
  enum deit_color_matrix matrix;
  gboolean full_range;
} FormatCase;

static const FormatCase format_cases[] = {
  {"video/x-raw,format=RGB,width=61,height=47,framerate=30/1", 0, FALSE},
  {"video/x-raw,format=BGRx,width=64,height=48,framerate=30/1", 0, FALSE},
  {"video/x-raw,format=ARGB,width=40,height=70,framerate=30/1", 0, FALSE},
  {"video/x-raw,format=GRAY8,width=50,height=50,framerate=30/1", 0, FALSE},
  {"video/x-raw,format=I420,width=64,height=48,framerate=30/1,"
        "colorimetry=bt601", DEIT_COLOR_MATRIX_BT601, FALSE},
  {"video/x-raw,format=I420,width=62,height=46,framerate=30/1,"
        "colorimetry=bt709", DEIT_COLOR_MATRIX_BT709, FALSE},
  {"video/x-raw,format=NV12,width=64,height=48,framerate=30/1,"
        "colorimetry=1:4:0:0", DEIT_COLOR_MATRIX_BT601, TRUE},
  {"video/x-raw,format=YUY2,width=64,height=48,framerate=30/1,"
        "colorimetry=bt709", DEIT_COLOR_MATRIX_BT709, FALSE},
};

/* The meta, the ROI meta and the message carry what the core computes for the same
 * frame, in every format family, with the caps' colorimetry passed on. */
GST_START_TEST (test_values_match_core)
{
  const FormatCase *fc = &format_cases[__i__];
  GstHarness *h = harness_new ("model", NULL);
  GstBus *bus = harness_bus (h);
  GstCaps *caps = gst_caps_from_string (fc->caps);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstStructure *s;
  GstVideoRegionOfInterestMeta *roi;
  GstDeitClassifyMeta *meta;
  Result r;

  fail_unless (gst_video_info_from_caps (&info, caps));
  gst_harness_set_src_caps (h, caps);
  in = random_frame (&info, 42 + __i__);
  core_classify ("model", in, &info, fc->matrix, fc->full_range, 5, 0.0f, &r);
  fail_unless_equals_int (r.n, 5);

  out = gst_harness_push_and_pull (h, in);
  meta = gst_buffer_get_deit_classify_meta (out);
  check_meta_equals (meta, &r);
  fail_unless (meta->fresh);
  fail_unless_equals_int (meta->roi_id, -1);
  fail_unless_equals_int (meta->width, GST_VIDEO_INFO_WIDTH (&info));
  fail_unless_equals_int (meta->height, GST_VIDEO_INFO_HEIGHT (&info));
  fail_unless_equals_string (meta->model_name, "gst-deit-test/plugin-model");

  roi = get_roi_meta (out);
  fail_unless (roi != NULL);
  fail_unless_equals_int (roi->w, GST_VIDEO_INFO_WIDTH (&info));
  fail_unless_equals_int (roi->h, GST_VIDEO_INFO_HEIGHT (&info));
  {
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi,
        "deit-classification");
    gint label_id;
    gdouble conf;

    fail_unless (p != NULL);
    fail_unless (gst_structure_get_int (p, "label_id", &label_id));
    fail_unless (gst_structure_get_double (p, "confidence", &conf));
    fail_unless_equals_int (label_id, r.ids[0]);
    fail_unless (fabs (conf - r.scores[0]) <= CORE_EPS);
    fail_unless_equals_string (gst_structure_get_string (p, "label"),
        meta->results[0].label);
    fail_unless_equals_string (gst_structure_get_string (p, "model_name"),
        "gst-deit-test/plugin-model");
    fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
            (p, "top_k_confidences")), 5);
  }

  s = pop_deit_message (bus);
  check_message_equals (s, &r);
  fail_unless_equals_string (gst_structure_get_string (s, "label"),
      meta->results[0].label);
  gst_structure_free (s);

  /* a copy of the buffer (what tee branches and make_writable do) keeps both */
  {
    GstBuffer *copy = gst_buffer_copy (out);

    check_meta_equals (gst_buffer_get_deit_classify_meta (copy), &r);
    fail_unless (get_roi_meta (copy) != NULL);
    fail_unless (gst_video_region_of_interest_meta_get_param (get_roi_meta
            (copy), "deit-classification") != NULL);
    gst_buffer_unref (copy);
  }

  gst_buffer_unref (out);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* YUV frames give the result that converting them with videoconvert to RGB first gives:
 * the element passes the caps' colorimetry and chroma siting (or GstVideoInfo's
 * defaults for caps without them: BT.709 + H-cosited chroma at HD sizes) to the core,
 * which reproduces videoconvert's RGB exactly. */
static const gchar *yuv_cases[] = {
  "video/x-raw,format=NV12,width=1280,height=720,framerate=30/1",
  "video/x-raw,format=YUY2,width=1280,height=720,framerate=30/1",
  "video/x-raw,format=I420,width=720,height=480,framerate=30/1",
  "video/x-raw,format=NV12,width=640,height=360,framerate=30/1,"
      "colorimetry=bt709,chroma-site=jpeg",
  "video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1,"
      "colorimetry=bt2020",
};

GST_START_TEST (test_yuv_matches_videoconvert)
{
  gchar *dir = data_path ("model");
  gchar *desc = g_strdup_printf ("videoconvert ! video/x-raw,format=RGB ! "
      "deitclassify model=\"%s\" threads=1", dir);
  GstHarness *direct = harness_new ("model", NULL);
  GstHarness *converted = gst_harness_new_parse (desc);
  GstVideoInfo info;
  GstBuffer *in, *out_direct, *out_converted;
  GstDeitClassifyMeta *m1, *m2;
  guint i;

  info_from_string (&info, yuv_cases[__i__]);
  gst_harness_set_src_caps_str (direct, yuv_cases[__i__]);
  gst_harness_set_src_caps_str (converted, yuv_cases[__i__]);
  in = random_frame (&info, 7 + __i__);
  out_converted = gst_harness_push_and_pull (converted, gst_buffer_copy (in));
  out_direct = gst_harness_push_and_pull (direct, in);
  m1 = gst_buffer_get_deit_classify_meta (out_direct);
  m2 = gst_buffer_get_deit_classify_meta (out_converted);
  fail_unless (m1 != NULL && m2 != NULL);
  fail_unless_equals_int (m1->n_results, m2->n_results);
  for (i = 0; i < m1->n_results; i++) {
    fail_unless_equals_int (m1->results[i].class_id, m2->results[i].class_id);
    fail_unless (fabs (m1->results[i].score - m2->results[i].score) <= CORE_EPS,
        "%s: score %u direct %.9f via videoconvert %.9f", yuv_cases[__i__], i,
        m1->results[i].score, m2->results[i].score);
  }
  gst_buffer_unref (out_direct);
  gst_buffer_unref (out_converted);
  gst_harness_teardown (direct);
  gst_harness_teardown (converted);
  g_free (desc);
  g_free (dir);
}

GST_END_TEST;

/* Labels in the meta come from config.json id2label (label i is "class i ...", see
 * gen_plugin_fixtures.py), or from the labels file when one is given. */
GST_START_TEST (test_labels)
{
  gchar *labels = data_path ("labels-good.txt");
  gchar *props = g_strdup_printf ("labels=\"%s\"", labels);
  const gchar *caps = "video/x-raw,format=RGB,width=32,height=32,framerate=1/1";
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *out;
  GstDeitClassifyMeta *meta;
  guint pass, i;

  for (pass = 0; pass < 2; pass++) {
    h = harness_new ("model", pass ? props : NULL);
    gst_harness_set_src_caps_str (h, caps);
    info_from_string (&info, caps);
    out = gst_harness_push_and_pull (h, random_frame (&info, 7));
    meta = gst_buffer_get_deit_classify_meta (out);
    fail_unless (meta != NULL);
    for (i = 0; i < meta->n_results; i++) {
      gchar *expect = pass ?
          g_strdup_printf ("file label %d", meta->results[i].class_id) :
          g_strdup_printf ("class %d, tabby \"cat\"",
          meta->results[i].class_id);
      fail_unless_equals_string (meta->results[i].label, expect);
      g_free (expect);
    }
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

/* top-k: k results, capped at the number of classes (whose probabilities sum to 1). */
GST_START_TEST (test_top_k)
{
  const gchar *caps = "video/x-raw,format=RGB,width=40,height=30,framerate=1/1";
  const guint ks[] = { 1, 3, 10, 1000 };
  GstVideoInfo info;
  guint c;

  info_from_string (&info, caps);
  for (c = 0; c < G_N_ELEMENTS (ks); c++) {
    gchar *props = g_strdup_printf ("top-k=%u", ks[c]);
    GstHarness *h = harness_new ("model", props);
    GstBuffer *in = random_frame (&info, 99), *out;
    GstDeitClassifyMeta *meta;
    Result r;
    gdouble sum = 0;
    guint i;

    gst_harness_set_src_caps_str (h, caps);
    core_classify ("model", in, &info, 0, FALSE, ks[c], 0.0f, &r);
    out = gst_harness_push_and_pull (h, in);
    meta = gst_buffer_get_deit_classify_meta (out);
    check_meta_equals (meta, &r);
    fail_unless_equals_int (meta->n_results, MIN (ks[c], N_LABELS));
    for (i = 0; i < meta->n_results; i++) {
      sum += meta->results[i].score;
      if (i > 0)
        fail_unless (meta->results[i].score <= meta->results[i - 1].score);
    }
    /* float32 softmax of 10 values: the sum is 1 to a few ulp */
    if (meta->n_results == N_LABELS)
      fail_unless (fabs (sum - 1.0) < 1e-5, "sum %.8f", sum);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (props);
  }
}

GST_END_TEST;

/* threshold drops classes below it; above every score: empty meta, no ROI meta, and a
 * message with class-id -1 and empty arrays. */
GST_START_TEST (test_threshold)
{
  const gchar *caps = "video/x-raw,format=RGB,width=40,height=30,framerate=1/1";
  GstVideoInfo info;
  GstBuffer *in;
  Result all, r;
  gdouble thresholds[3];
  guint c;

  info_from_string (&info, caps);
  in = random_frame (&info, 5);
  core_classify ("model", in, &info, 0, FALSE, 10, 0.0f, &all);
  /* between the 2nd and 3rd probabilities: exactly 2 classes pass */
  thresholds[0] = (all.scores[1] + all.scores[2]) / 2;
  thresholds[1] = (all.scores[0] + all.scores[1]) / 2;
  thresholds[2] = 1.0;
  for (c = 0; c < 3; c++) {
    gchar *props = g_strdup_printf ("top-k=10 threshold=%.9f", thresholds[c]);
    GstHarness *h = harness_new ("model", props);
    GstBus *bus = harness_bus (h);
    GstBuffer *out;
    GstStructure *s;
    GstDeitClassifyMeta *meta;

    gst_harness_set_src_caps_str (h, caps);
    core_classify ("model", in, &info, 0, FALSE, 10, thresholds[c], &r);
    fail_unless_equals_int (r.n, c == 0 ? 2 : c == 1 ? 1 : 0);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    meta = gst_buffer_get_deit_classify_meta (out);
    check_meta_equals (meta, &r);
    fail_unless ((get_roi_meta (out) != NULL) == (r.n > 0));
    s = pop_deit_message (bus);
    check_message_equals (s, &r);
    gst_structure_free (s);
    gst_buffer_unref (out);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
    g_free (props);
  }
  gst_buffer_unref (in);
}

GST_END_TEST;

/* interval=3: frames 0, 3, 6 are classified (fresh, a message each); the others carry
 * the latest result, not fresh, with the PTS of the frame it came from. */
GST_START_TEST (test_interval)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=32,height=24,framerate=10/1";
  GstHarness *h = harness_new ("model", "interval=3");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  Result r[7];
  guint i, n_msgs = 0;
  GstStructure *s;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  for (i = 0; i < 7; i++) {
    GstBuffer *in = random_frame (&info, 1000 + i), *out;
    GstDeitClassifyMeta *meta;
    guint src = i - i % 3;

    GST_BUFFER_PTS (in) = i * GST_SECOND / 10;
    GST_BUFFER_DURATION (in) = GST_SECOND / 10;
    core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r[i]);
    out = gst_harness_push_and_pull (h, in);
    meta = gst_buffer_get_deit_classify_meta (out);
    check_meta_equals (meta, &r[src]);
    fail_unless_equals_int (meta->fresh, i % 3 == 0);
    fail_unless_equals_uint64 (meta->inference_pts, src * GST_SECOND / 10);
    fail_unless_equals_uint64 (meta->frame_number, i);
    gst_buffer_unref (out);
  }
  while ((s = pop_deit_message (bus))) {
    guint64 frame, ts;
    gboolean fresh;

    fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    fail_unless (gst_structure_get_boolean (s, "fresh", &fresh));
    fail_unless_equals_uint64 (frame, 3 * n_msgs);
    fail_unless_equals_uint64 (ts, 3 * n_msgs * GST_SECOND / 10);
    fail_unless (fresh);
    check_message_equals (s, &r[frame]);
    gst_structure_free (s);
    n_msgs++;
  }
  fail_unless_equals_int (n_msgs, 3);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* PTS, DTS, duration, offsets, flags and the pixels pass through untouched; the
 * message's running and stream time follow the segment. */
GST_START_TEST (test_passthrough)
{
  const gchar *caps =
      "video/x-raw,format=BGRx,width=32,height=24,framerate=25/1";
  GstHarness *h = harness_new ("model", NULL);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstSegment seg;
  GstStructure *s;
  guint64 v;
  GstMapInfo a, b;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 1 * GST_SECOND;
  seg.time = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));

  in = random_frame (&info, 3);
  GST_BUFFER_PTS (in) = 3 * GST_SECOND;
  GST_BUFFER_DTS (in) = 2 * GST_SECOND + 1;
  GST_BUFFER_DURATION (in) = GST_SECOND / 25;
  GST_BUFFER_OFFSET (in) = 17;
  GST_BUFFER_OFFSET_END (in) = 18;
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_DELTA_UNIT
      | GST_BUFFER_FLAG_MARKER);
  gst_buffer_ref (in);
  out = gst_harness_push_and_pull (h, in);

  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 3 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), 2 * GST_SECOND + 1);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 25);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 17);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out), 18);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_MARKER));
  fail_unless (gst_buffer_map (in, &a, GST_MAP_READ));
  fail_unless (gst_buffer_map (out, &b, GST_MAP_READ));
  fail_unless_equals_int (a.size, b.size);
  fail_unless (memcmp (a.data, b.data, a.size) == 0, "pixels changed");
  gst_buffer_unmap (in, &a);
  gst_buffer_unmap (out, &b);

  s = pop_deit_message (bus);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "timestamp", &v));
  fail_unless_equals_uint64 (v, 3 * GST_SECOND);
  fail_unless (gst_structure_get_uint64 (s, "running-time", &v));
  fail_unless_equals_uint64 (v, 2 * GST_SECOND);
  fail_unless (gst_structure_get_uint64 (s, "stream-time", &v));
  fail_unless_equals_uint64 (v, 12 * GST_SECOND);
  fail_unless (gst_structure_get_uint64 (s, "duration", &v));
  fail_unless_equals_uint64 (v, GST_SECOND / 25);
  gst_structure_free (s);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* post-messages=false posts nothing; attach-roi-meta=false attaches only our meta. */
GST_START_TEST (test_switches)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=32,height=24,framerate=25/1";
  GstHarness *h = harness_new ("model",
      "post-messages=false attach-roi-meta=false");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *out;
  GstStructure *s;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  out = gst_harness_push_and_pull (h, random_frame (&info, 1));
  fail_unless (gst_buffer_get_deit_classify_meta (out) != NULL);
  fail_unless (get_roi_meta (out) == NULL);
  s = pop_deit_message (bus);
  fail_unless (s == NULL);
  gst_buffer_unref (out);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The meta survives colour conversion and scaling (its API has no tags); the ROI meta
 * is rescaled to the new frame size and keeps its parameters. */
GST_START_TEST (test_survives_convert_scale)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=64,height=48,framerate=25/1";
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 ! "
      "videoconvert ! videoscale ! capsfilter "
      "caps=video/x-raw,format=I420,width=32,height=24", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstVideoRegionOfInterestMeta *roi;
  Result r;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  in = random_frame (&info, 11);
  core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r);
  out = gst_harness_push_and_pull (h, in);
  fail_unless_equals_int (gst_buffer_get_size (out), 32 * 24 * 3 / 2);
  check_meta_equals (gst_buffer_get_deit_classify_meta (out), &r);
  roi = get_roi_meta (out);
  fail_unless (roi != NULL);
  fail_unless_equals_int (roi->w, 32);
  fail_unless_equals_int (roi->h, 24);
  /* GStreamer 1.22's ROI scale transform (used by videoconvertscale for metas tagged
   * "size") drops the params; GstDeitClassifyMeta's transform restores them */
  {
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi,
        GST_DEIT_CLASSIFY_ROI_PARAM);
    gint label_id;

    fail_unless (p != NULL, "ROI params lost in videoconvert ! videoscale");
    fail_unless (gst_structure_get_int (p, "label_id", &label_id));
    fail_unless_equals_int (label_id, r.ids[0]);
    fail_unless_equals_int (g_list_length (roi->params), 1);
  }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

static void
count_meta_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer user_data)
{
  gint *count = user_data;

  if (gst_buffer_get_deit_classify_meta (buf))
    g_atomic_int_inc (count);
}

/* Both branches of a tee see the meta. */
GST_START_TEST (test_survives_tee)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=32,height=24,framerate=25/1";
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 ! "
      "tee name=t t. ! queue ! fakesink name=fs signal-handoffs=true sync=false "
      "t. ! queue", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstElement *fs;
  GstVideoInfo info;
  GstBuffer *out;
  gint count = 0, i;

  fs = gst_bin_get_by_name (GST_BIN (h->element), "fs");
  fail_unless (fs != NULL);
  g_signal_connect (fs, "handoff", G_CALLBACK (count_meta_handoff), &count);
  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  for (i = 0; i < 3; i++) {
    out = gst_harness_push_and_pull (h, random_frame (&info, i));
    fail_unless (gst_buffer_get_deit_classify_meta (out) != NULL);
    gst_buffer_unref (out);
  }
  /* the fakesink branch runs on its own queue thread: wait for it (bounded) */
  for (i = 0; i < 500 && g_atomic_int_get (&count) < 3; i++)
    g_usleep (10000);
  fail_unless_equals_int (g_atomic_int_get (&count), 3);
  gst_object_unref (fs);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* A buffer that is copied downstream keeps the meta (copy transform). */
GST_START_TEST (test_meta_copy)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL), *copy;
  GstDeitClassification res[2] = { {3, (gchar *) "three", 0.75f, 2.0f},
  {1, (gchar *) "one", 0.25f, 1.0f}
  };
  GstDeitClassifyMeta *m;

  m = gst_buffer_add_deit_classify_meta (buf, "m", res, 2, 5, TRUE);
  fail_unless (m != NULL);
  res[0].label = (gchar *) "changed";   /* the meta owns copies */
  copy = gst_buffer_copy (buf);
  m = gst_buffer_get_deit_classify_meta (copy);
  fail_unless (m != NULL);
  fail_unless_equals_int (m->n_results, 2);
  fail_unless_equals_string (m->results[0].label, "three");
  fail_unless_equals_string (m->results[1].label, "one");
  fail_unless_equals_int (m->results[1].class_id, 1);
  fail_unless_equals_float (m->results[0].score, 0.75f);
  fail_unless_equals_string (m->model_name, "m");
  fail_unless_equals_uint64 (m->inference_pts, 5);
  fail_unless (m->fresh);
  {
    const gchar *const *tags =
        gst_meta_api_type_get_tags (GST_DEIT_CLASSIFY_META_API_TYPE);
    fail_unless (tags == NULL || tags[0] == NULL, "the meta API has tags");
  }
  gst_buffer_unref (copy);
  gst_buffer_unref (buf);
}

GST_END_TEST;

/* Repeated NULL <-> PLAYING cycles keep working; NULL <-> READY needs no model. */
GST_START_TEST (test_state_cycles)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,width=48,height=32 ! deitclassify model=\"%s\" threads=1 "
      "! fakesink", model);
  GstElement *e = gst_element_factory_make ("deitclassify", NULL);
  gint i;

  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (e);

  for (i = 0; i < 3; i++) {
    GstElement *p = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;

    fail_unless (p != NULL);
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
    gst_message_unref (msg);
    /* and once back to NULL in the middle of the stream */
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (bus);
    gst_object_unref (p);
  }
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

static gint n_loaded, n_shared;

static void
count_model_logs (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *text;

  if (strcmp (gst_debug_category_get_name (category), "deitclassify") != 0)
    return;
  text = gst_debug_message_get (message);
  if (g_str_has_prefix (text, "loaded model "))
    g_atomic_int_inc (&n_loaded);
  else if (g_str_has_prefix (text, "sharing loaded model "))
    g_atomic_int_inc (&n_shared);
}

/* Elements naming the same checkpoint (even through another spelling of the path)
 * share one loaded model; a different checkpoint is loaded separately. */
GST_START_TEST (test_model_shared)
{
  gchar *model = data_path ("model");
  gchar *vit = data_path ("model-vit");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! "
      "video/x-raw,width=40,height=30 ! deitclassify model=\"%s\" ! "
      "deitclassify model=\"%s/\" ! deitclassify model=\"%s/../model\" ! "
      "deitclassify model=\"%s\" ! fakesink", model, model, model, vit);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;

  gst_debug_set_threshold_for_name ("deitclassify", GST_LEVEL_DEBUG);
  gst_debug_add_log_function (count_model_logs, NULL, NULL);
  n_loaded = n_shared = 0;
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_debug_remove_log_function (count_model_logs);
  fail_unless_equals_int (n_loaded, 2);
  fail_unless_equals_int (n_shared, 2);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
  g_free (vit);
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * errors
 */
typedef struct
{
  const gchar *model;           /* fixture name, NULL: no model property */
  const gchar *labels;          /* fixture name or NULL */
    GQuark (*domain) (void);
  gint code;
  const gchar *needle;          /* must appear in the error message */
} ErrorCase;

static const ErrorCase error_cases[] = {
  {NULL, NULL, gst_resource_error_quark, GST_RESOURCE_ERROR_NOT_FOUND,
      "No model directory specified"},
  {"does-not-exist", NULL, gst_resource_error_quark,
      GST_RESOURCE_ERROR_NOT_FOUND, "does-not-exist"},
  {"model-truncated", NULL, gst_resource_error_quark, GST_RESOURCE_ERROR_READ,
      "model.safetensors"},
  {"model-badjson", NULL, gst_resource_error_quark, GST_RESOURCE_ERROR_READ,
      "config.json"},
  {"model-base", NULL, gst_resource_error_quark, GST_RESOURCE_ERROR_SETTINGS,
      "DeiTModel"},
  {"model", "labels-short.txt", gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS, "has 9 labels"},
  {"model", "no-such-labels.txt", gst_resource_error_quark,
      GST_RESOURCE_ERROR_NOT_FOUND, "no-such-labels.txt"},
  {"model", "labels-latin1.txt", gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS, "line 5 is not UTF-8"},
  {"model-badcrop", NULL, gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS, "produces 48x48 images but the model takes 32x32"},
  {"model-1ch", NULL, gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS, "num_channels is 1"},
};

/* Each bad configuration fails READY -> PAUSED with the right error; never a crash. */
GST_START_TEST (test_errors)
{
  const ErrorCase *ec = &error_cases[__i__];
  GstElement *e = gst_element_factory_make ("deitclassify", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  gst_element_set_bus (e, bus);
  if (ec->model) {
    gchar *p = data_path (ec->model);
    g_object_set (e, "model", p, NULL);
    g_free (p);
  }
  if (ec->labels) {
    gchar *p = data_path (ec->labels);
    g_object_set (e, "labels", p, NULL);
    g_free (p);
  }
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &dbg);
  GST_INFO ("error: %s (%s)", err->message, dbg);
  fail_unless (err->domain == ec->domain (), "domain %s",
      g_quark_to_string (err->domain));
  fail_unless_equals_int (err->code, ec->code);
  fail_unless (strstr (err->message, ec->needle) != NULL,
      "\"%s\" not in \"%s\"", ec->needle, err->message);
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);

  /* and the element recovers: back to NULL, and READY again */
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

static gint n_caps_warnings;

static void
count_caps_warnings (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (level == GST_LEVEL_WARNING &&
      strcmp (gst_debug_category_get_name (category), "deitclassify") == 0 &&
      strstr (gst_debug_message_get (message),
          "deitclassify accepts video/x-raw, format={ RGB, BGR,"))
    g_atomic_int_inc (&n_caps_warnings);
}

/* Formats the core does not take are refused at negotiation, with a warning in the
 * debug log naming the accepted formats. */
GST_START_TEST (test_caps_refused)
{
  const gchar *refused[] = {
    "video/x-raw,format=Y444,width=32,height=32,framerate=1/1",
    "video/x-raw,format=RGB16,width=32,height=32,framerate=1/1",
    "video/x-raw,format=RGB,width=20000,height=32,framerate=1/1",
    "audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved",
  };
  const gchar *accepted[] = {
    "video/x-raw,format=RGB,width=32,height=32,framerate=1/1",
    "video/x-raw,format=YUY2,width=1920,height=1080,framerate=60/1",
  };
  GstHarness *h = harness_new ("model", NULL);
  GstPad *sink = gst_element_get_static_pad (h->element, "sink");
  guint i;

  gst_debug_set_threshold_for_name ("deitclassify", GST_LEVEL_WARNING);
  gst_debug_add_log_function (count_caps_warnings, NULL, NULL);
  n_caps_warnings = 0;
  for (i = 0; i < G_N_ELEMENTS (refused); i++) {
    GstCaps *c = gst_caps_from_string (refused[i]);
    fail_if (gst_pad_query_accept_caps (sink, c), "accepted %s", refused[i]);
    gst_caps_unref (c);
  }
  /* and the caps query of an upstream that offers only Y444 */
  {
    GstCaps *filter = gst_caps_from_string (refused[0]);
    GstCaps *res = gst_pad_query_caps (sink, filter);

    fail_unless (gst_caps_is_empty (res));
    gst_caps_unref (res);
    gst_caps_unref (filter);
  }
  gst_debug_remove_log_function (count_caps_warnings);
  fail_unless_equals_int (n_caps_warnings, G_N_ELEMENTS (refused) + 1);
  for (i = 0; i < G_N_ELEMENTS (accepted); i++) {
    GstCaps *c = gst_caps_from_string (accepted[i]);
    fail_unless (gst_pad_query_accept_caps (sink, c), "refused %s",
        accepted[i]);
    gst_caps_unref (c);
  }
  gst_object_unref (sink);
  gst_harness_teardown (h);

  /* in a pipeline: a not-negotiated error, no crash */
  {
    GstElement *p = gst_parse_launch ("videotestsrc num-buffers=1 ! "
        "video/x-raw,format=Y444,width=32,height=32 ! deitclassify name=d ! "
        "fakesink",
        NULL);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;
    gchar *dir = data_path ("model");
    GstElement *d = gst_bin_get_by_name (GST_BIN (p), "d");

    fail_unless (d != NULL);
    g_object_set (d, "model", dir, NULL);
    gst_object_unref (d);
    gst_element_set_state (p, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
    gst_message_unref (msg);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (p);
    g_free (dir);
  }
}

GST_END_TEST;

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
 * labels-file, and the deprecated labels alias
 */
/* The WARNING lines of the deitclassify category, collected while a test runs. */
static GPtrArray *warning_lines;
G_LOCK_DEFINE_STATIC (warning_lines);

static void
collect_warning_lines (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (level != GST_LEVEL_WARNING ||
      strcmp (gst_debug_category_get_name (category), "deitclassify") != 0)
    return;
  G_LOCK (warning_lines);
  g_ptr_array_add (warning_lines, g_strdup (gst_debug_message_get (message)));
  G_UNLOCK (warning_lines);
}

static guint
count_warning_lines (const gchar * needle)
{
  guint i, n = 0;

  G_LOCK (warning_lines);
  for (i = 0; i < warning_lines->len; i++)
    n += strstr (g_ptr_array_index (warning_lines, i), needle) != NULL;
  G_UNLOCK (warning_lines);
  return n;
}

#define DEPRECATION_NOTE "\"labels\" property is deprecated: set \"labels-file\""

static gchar *
get_string_property (GstElement * e, const gchar * name)
{
  gchar *v = NULL;

  g_object_get (e, name, &v, NULL);
  return v;
}

/* labels-file names the labels file; labels is a deprecated alias of it: both read
 * and write the same value, setting labels warns once (setting labels-file never),
 * the param spec says it is deprecated, and a file given either way is used. */
GST_START_TEST (test_labels_file_property)
{
  gchar *good = data_path ("labels-good.txt");
  gchar *other = data_path ("labels-short.txt");
  const gchar *caps = "video/x-raw,format=RGB,width=32,height=32,framerate=1/1";
  GstElement *e = gst_element_factory_make ("deitclassify", NULL);
  GParamSpec *pspec;
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *out;
  GstDeitClassifyMeta *meta;
  gchar *v, *props;
  guint pass;

  gst_debug_set_threshold_for_name ("deitclassify", GST_LEVEL_WARNING);
  warning_lines = g_ptr_array_new_with_free_func (g_free);
  gst_debug_add_log_function (collect_warning_lines, NULL, NULL);

  fail_unless (get_string_property (e, "labels-file") == NULL);
  fail_unless (get_string_property (e, "labels") == NULL);
  g_object_set (e, "labels-file", good, NULL);
  v = get_string_property (e, "labels");
  fail_unless_equals_string (v, good);
  g_free (v);
  fail_unless_equals_int (count_warning_lines (DEPRECATION_NOTE), 0);
  g_object_set (e, "labels", other, NULL);
  v = get_string_property (e, "labels-file");
  fail_unless_equals_string (v, other);
  g_free (v);
  fail_unless_equals_int (count_warning_lines (DEPRECATION_NOTE), 1);
  g_object_set (e, "labels", good, NULL);
  v = get_string_property (e, "labels-file");
  fail_unless_equals_string (v, good);
  g_free (v);
  fail_unless_equals_int (count_warning_lines (DEPRECATION_NOTE), 1);     /* once per element */
  g_object_set (e, "labels-file", NULL, NULL);
  fail_unless (get_string_property (e, "labels") == NULL);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "labels");
  fail_unless (pspec != NULL);
  fail_unless (pspec->flags & G_PARAM_DEPRECATED);
  fail_unless (strstr (g_param_spec_get_blurb (pspec), "labels-file") != NULL);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "labels-file");
  fail_unless (pspec != NULL);
  fail_if (pspec->flags & G_PARAM_DEPRECATED);
  gst_object_unref (e);
  gst_debug_remove_log_function (collect_warning_lines);
  g_ptr_array_unref (warning_lines);
  warning_lines = NULL;

  /* the file is used, whichever name set it */
  for (pass = 0; pass < 2; pass++) {
    props = g_strdup_printf ("%s=\"%s\"", pass ? "labels" : "labels-file",
        good);
    h = harness_new ("model", props);
    gst_harness_set_src_caps_str (h, caps);
    info_from_string (&info, caps);
    out = gst_harness_push_and_pull (h, random_frame (&info, 7));
    meta = gst_buffer_get_deit_classify_meta (out);
    fail_unless (meta != NULL && meta->n_results > 0);
    /* the top class' label comes from the file (test_labels checks them all) */
    v = g_strdup_printf ("file label %d", meta->results[0].class_id);
    fail_unless_equals_string (meta->results[0].label, v);
    g_free (v);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (props);
  }
  g_free (other);
  g_free (good);
}

GST_END_TEST;

/* Caps that cannot be negotiated: besides the debug log (test_caps_refused), the bus
 * gets one warning from deitclassify naming the formats it takes and videoconvert;
 * once per negotiation, and not for what a converter cannot fix (audio). */
GST_START_TEST (test_caps_refused_says_videoconvert)
{
  GstHarness *h = harness_new ("model", NULL);
  GstBus *bus = gst_bus_new ();
  GstPad *sink = gst_element_get_static_pad (h->element, "sink");
  GstCaps *y444 =
      gst_caps_from_string
      ("video/x-raw,format=Y444,width=32,height=32,framerate=1/1");
  GstCaps *audio =
      gst_caps_from_string
      ("audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved");
  GstCaps *res;
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  gst_element_set_bus (h->element, bus);

  /* audio: no advice to convert */
  fail_if (gst_pad_query_accept_caps (sink, audio));
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);

  /* upstream offering only Y444 */
  res = gst_pad_query_caps (sink, y444);
  fail_unless (gst_caps_is_empty (res));
  gst_caps_unref (res);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning on the bus");
  fail_unless (GST_IS_ELEMENT (GST_MESSAGE_SRC (msg)));
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory
          (GST_ELEMENT (GST_MESSAGE_SRC (msg)))), "deitclassify");
  gst_message_parse_warning (msg, &err, &dbg);
  GST_INFO ("warning: %s (%s)", err->message, dbg);
  fail_unless (g_error_matches (err, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION));
  fail_unless (strstr (err->message, "videoconvert") != NULL,
      "\"videoconvert\" not in \"%s\"", err->message);
  fail_unless (strstr (err->message, "RGB, BGR") != NULL,
      "formats not in \"%s\"", err->message);
  fail_unless (strstr (err->message, "NV12") != NULL,
      "formats not in \"%s\"", err->message);
  fail_unless (dbg != NULL && strstr (dbg, "Y444") != NULL);
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);

  /* the same negotiation failing again: no second warning */
  fail_if (gst_pad_query_accept_caps (sink, y444));
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);

  /* caps that negotiate, then refused ones again: a new warning */
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=32,height=32,framerate=1/1");
  fail_if (gst_pad_query_accept_caps (sink, y444));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  gst_caps_unref (audio);
  gst_caps_unref (y444);
  gst_object_unref (sink);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * end to end against PyTorch + Pillow
 */
#if HAVE_TEST_IMAGES
static const gchar *photos[] = { "chelsea", "coffee", "astronaut" };

/* filesrc ! pngdec ! videoconvert ! deitclassify on the sample photos reports the
 * top-5 that PyTorch + Pillow compute for the same checkpoint (1e-4). */
GST_START_TEST (test_end_to_end_reference)
{
  const gchar *photo = photos[__i__ % 3];
  const gchar *model_name = __i__ < 3 ? "model" : "model-vit";
  gchar *ref_path = data_path ("expected.json");
  gchar *model = data_path (model_name);
  gchar *png = g_strdup_printf ("%s/%s.png", TEST_IMAGES_DIR, photo);
  JsonParser *parser = json_parser_new ();
  JsonObject *exp_obj;
  JsonArray *ids, *scores;
  GError *error = NULL;
  gchar *desc;
  GstElement *p;
  GstBus *bus;
  GstMessage *msg;
  GstStructure *s = NULL;
  guint i, n_msgs = 0;

  fail_unless (json_parser_load_from_file (parser, ref_path, &error),
      "%s", error ? error->message : "");
  exp_obj = json_object_get_object_member (json_object_get_object_member
      (json_node_get_object (json_parser_get_root (parser)), model_name),
      photo);
  fail_unless (exp_obj != NULL);
  ids = json_object_get_array_member (exp_obj, "ids");
  scores = json_object_get_array_member (exp_obj, "scores");

  desc = g_strdup_printf ("filesrc location=\"%s\" ! pngdec ! videoconvert ! "
      "deitclassify model=\"%s\" top-k=5 ! fakesink", png, model);
  p = gst_parse_launch (desc, &error);
  fail_unless (p != NULL, "%s", error ? error->message : "");
  bus = gst_element_get_bus (p);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while ((msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *ms = gst_message_get_structure (msg);
      if (gst_structure_has_name (ms, "deitclassify")) {
        if (s)
          gst_structure_free (s);
        s = gst_structure_copy (ms);
        n_msgs++;
      }
      gst_message_unref (msg);
      continue;
    }
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
    gst_message_unref (msg);
    break;
  }
  fail_unless_equals_int (n_msgs, 1);
  {
    const GValue *mids = gst_structure_get_value (s, "class-ids");
    const GValue *mscores = gst_structure_get_value (s, "scores");

    fail_unless_equals_int (gst_value_array_get_size (mids),
        json_array_get_length (ids));
    for (i = 0; i < json_array_get_length (ids); i++) {
      gint id = g_value_get_int (gst_value_array_get_value (mids, i));
      gdouble sc = g_value_get_double (gst_value_array_get_value (mscores, i));
      gdouble ref = json_array_get_double_element (scores, i);

      GST_INFO ("%s %s top %u: id %d (ref %d) p %.7f (ref %.7f)", model_name,
          photo, i, id, (gint) json_array_get_int_element (ids, i), sc, ref);
      fail_unless_equals_int (id, json_array_get_int_element (ids, i));
      fail_unless (fabs (sc - ref) <= REF_EPS, "%s %s top %u: %.7f vs %.7f",
          model_name, photo, i, sc, ref);
    }
  }
  gst_structure_free (s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_object_unref (parser);
  g_free (desc);
  g_free (png);
  g_free (model);
  g_free (ref_path);
}

GST_END_TEST;
#endif


/* ------------------------------------------------------------------------------------
 * issue 16, item 8: the threshold boundary and the stream time in every mode
 */

/* A class whose probability is exactly the threshold is kept ("probability >=
 * threshold", deit.h and the property's documentation): the threshold is set to the
 * exact float of the 2nd class's probability from a run without threshold. */
GST_START_TEST (test_threshold_equal_is_kept)
{
  const gchar *caps = "video/x-raw,format=RGB,width=40,height=30,framerate=1/1";
  GstVideoInfo info;
  GstBuffer *in, *out;
  Result all, r;
  GstHarness *h;
  GstBus *bus;
  GstStructure *s;
  gchar *props;

  info_from_string (&info, caps);
  in = random_frame (&info, 5);
  core_classify ("model", in, &info, 0, FALSE, 10, 0.0f, &all);
  fail_unless (all.n >= 3);
  fail_unless (all.scores[1] > all.scores[2], "need distinct probabilities");
  /* the core itself: exactly 2 pass, and 1 just above */
  core_classify ("model", in, &info, 0, FALSE, 10, all.scores[1], &r);
  fail_unless_equals_int (r.n, 2);
  fail_unless_equals_int (r.ids[1], all.ids[1]);
  core_classify ("model", in, &info, 0, FALSE, 10,
      nextafterf (all.scores[1], 1.0f), &r);
  fail_unless_equals_int (r.n, 1);

  /* the element: the double property holds the float exactly (%.17g round-trips) */
  props = g_strdup_printf ("top-k=10 threshold=%.17g", (gdouble) all.scores[1]);
  h = harness_new ("model", props);
  bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, caps);
  core_classify ("model", in, &info, 0, FALSE, 10, all.scores[1], &r);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_meta_equals (gst_buffer_get_deit_classify_meta (out), &r);
  fail_unless_equals_int (gst_buffer_get_deit_classify_meta (out)->n_results, 2);
  s = pop_deit_message (bus);
  check_message_equals (s, &r);
  gst_structure_free (s);
  gst_buffer_unref (out);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (props);
  gst_buffer_unref (in);
}

GST_END_TEST;

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
deitclassify_suite (void)
{
  Suite *s = suite_create ("deitclassify");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_values_match_core, 0,
      G_N_ELEMENTS (format_cases));
  tcase_add_loop_test (tc, test_yuv_matches_videoconvert, 0,
      G_N_ELEMENTS (yuv_cases));
  tcase_add_test (tc, test_labels);
  tcase_add_test (tc, test_top_k);
  tcase_add_test (tc, test_threshold);
  tcase_add_test (tc, test_interval);
  tcase_add_test (tc, test_passthrough);
  tcase_add_test (tc, test_switches);
  tcase_add_test (tc, test_survives_convert_scale);
  tcase_add_test (tc, test_survives_tee);
  tcase_add_test (tc, test_meta_copy);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_model_shared);
  tcase_add_loop_test (tc, test_errors, 0, G_N_ELEMENTS (error_cases));
  tcase_add_test (tc, test_caps_refused);
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
  tcase_add_test (tc, test_labels_file_property);
  tcase_add_test (tc, test_caps_refused_says_videoconvert);
  tcase_add_test (tc, test_threshold_equal_is_kept);
  tcase_add_test (tc, test_batch_stream_time);
  tcase_add_test (tc, test_async_stream_time);
#if HAVE_TEST_IMAGES
  tcase_add_loop_test (tc, test_end_to_end_reference, 0, 6);
#endif
  return s;
}

GST_CHECK_MAIN (deitclassify);
