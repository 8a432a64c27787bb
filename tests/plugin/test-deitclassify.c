/* test-deitclassify.c - gst-check tests of deitclassify: the meta, ROI meta and
 * message values against the core, and the properties that shape them (errors, labels
 * and the end-to-end tests: test-deitclassify-errors.c; async and batch modes: test-
 * deitclassify-modes.c; roi-list: test-deitclassify-roi.c).
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
#include <glib/gstdio.h>
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
  harness_teardown_with_bus (h, bus);
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
    harness_teardown_with_bus (h, bus);
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
  harness_teardown_with_bus (h, bus);
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
  harness_teardown_with_bus (h, bus);
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
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* What the convert-scale tests feed (64x48 RGB) and the converter they put behind
 * the deitclassify elements of @classifiers (a launch-line fragment): videoconvert !
 * videoscale to 32x24 I420. */
#define SCALE_TEST_CAPS \
  "video/x-raw,format=RGB,width=64,height=48,framerate=25/1"

static GstHarness *
scaler_harness_new (const gchar * classifiers)
{
  gchar *desc = g_strdup_printf ("%s ! videoconvert ! videoscale ! capsfilter "
      "caps=video/x-raw,format=I420,width=32,height=24", classifiers);
  GstHarness *h = gst_harness_new_parse (desc);

  gst_harness_set_src_caps_str (h, SCALE_TEST_CAPS);
  g_free (desc);
  return h;
}

/* The meta survives colour conversion and scaling (its API has no tags); the ROI meta
 * is rescaled to the new frame size and keeps its parameters. */
GST_START_TEST (test_survives_convert_scale)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1", model);
  GstHarness *h = scaler_harness_new (desc);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstVideoRegionOfInterestMeta *roi;
  Result r;

  info_from_string (&info, SCALE_TEST_CAPS);
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

/* The meta's scale transform (what a scaler that transforms metas calls) maps the
 * rectangle from the frame it is in pixels of (frame_width x frame_height), also
 * after a copy onto frames of another size (1.22's videoscale copies the meta). */
static void
scale_meta (GstBuffer * dest, GstBuffer * src, gint iw, gint ih, gint ow,
    gint oh)
{
  GstVideoInfo in, out;
  GstVideoMetaTransform t = { &in, &out };
  GstMeta *m = (GstMeta *) gst_buffer_get_deit_classify_meta (src);

  gst_video_info_set_format (&in, GST_VIDEO_FORMAT_RGB, iw, ih);
  gst_video_info_set_format (&out, GST_VIDEO_FORMAT_RGB, ow, oh);
  fail_unless (m->info->transform_func (dest, m, src,
          gst_video_meta_transform_scale_get_quark (), &t));
}

GST_START_TEST (test_meta_scale_transform)
{
  GstDeitClassification r = { 1, (gchar *) "x", 0.5f, 0.0f };
  GstBuffer *a = gst_buffer_new (), *b = gst_buffer_new (), *c, *d;
  GstDeitClassifyMeta *m;
  guint i;

  m = gst_buffer_add_deit_classify_meta (a, "m", &r, 1, 0, TRUE);
  m->roi_id = 3;
  m->x = 8;
  m->y = 6;
  m->width = 32;
  m->height = 24;
  m->frame_width = 64;
  m->frame_height = 48;
  scale_meta (b, a, 64, 48, 256, 192);  /* straight from the classified frame */
  c = gst_buffer_copy (a);      /* copied as is onto 128x96 frames ... */
  d = gst_buffer_new ();
  scale_meta (d, c, 128, 96, 256, 192); /* ... then scaled from them */
  for (i = 0; i < 2; i++) {
    guint x, y, w, h;

    m = gst_buffer_get_deit_classify_meta (i ? d : b);
    fail_unless (m != NULL);
    gst_deit_classify_meta_get_rectangle (m, 256, 192, &x, &y, &w, &h);
    fail_unless (x == 32 && y == 24 && w == 128 && h == 96,
        "case %u: %u,%u %ux%u instead of 32,24 128x96", i, x, y, w, h);
  }
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
  gst_buffer_unref (d);
}

GST_END_TEST;

/* Two deitclassify elements in a chain, then a converter and a scaler: each full-frame
 * ROI meta gets back its own element's parameters (model and top-1), not the first
 * element's twice. */
GST_START_TEST (test_chained_survive_convert_scale)
{
  gchar *model = data_path ("model"), *vit = data_path ("model-vit");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 ! "
      "deitclassify model=\"%s\" threads=1", model, vit);
  GstHarness *h = scaler_harness_new (desc);
  GQuark roi_type = g_quark_from_static_string (GST_DEIT_CLASSIFY_ROI_TYPE);
  GstVideoInfo info;
  GstBuffer *in, *out;
  Result r_deit, r_vit;
  gpointer state = NULL;
  GstMeta *m;
  gboolean seen_deit = FALSE, seen_vit = FALSE;

  info_from_string (&info, SCALE_TEST_CAPS);
  in = random_frame (&info, 12);
  core_classify ("model", in, &info, 0, FALSE, 5, 0.0f, &r_deit);
  core_classify ("model-vit", in, &info, 0, FALSE, 5, 0.0f, &r_vit);
  out = gst_harness_push_and_pull (h, in);
  while ((m = gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *p;
    const gchar *name;
    gint label_id;

    if (roi->roi_type != roi_type)
      continue;
    p = gst_video_region_of_interest_meta_get_param (roi,
        GST_DEIT_CLASSIFY_ROI_PARAM);
    fail_unless (p != NULL, "a chained ROI meta lost its parameters");
    name = gst_structure_get_string (p, "model_name");
    fail_unless (gst_structure_get_int (p, "label_id", &label_id));
    if (g_strcmp0 (name, "gst-deit-test/plugin-model") == 0) {
      fail_if (seen_deit, "the first model's parameters on two ROI metas");
      fail_unless_equals_int (label_id, r_deit.ids[0]);
      seen_deit = TRUE;
    } else {
      fail_unless_equals_string (name, "gst-deit-test/plugin-model-vit");
      fail_if (seen_vit, "the second model's parameters on two ROI metas");
      fail_unless_equals_int (label_id, r_vit.ids[0]);
      seen_vit = TRUE;
    }
  }
  fail_unless (seen_deit && seen_vit);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (vit);
  g_free (model);
}

GST_END_TEST;

/* The same model twice in a chain, with different top-k: after a converter and a
 * scaler the first ROI meta (in attach order) still has 1 class in its top-k arrays
 * and the second 5, like the elements' own metas. */
GST_START_TEST (test_chained_same_model_survive_convert_scale)
{
  gchar *model = data_path ("model");
  gchar *desc =
      g_strdup_printf ("deitclassify model=\"%s\" threads=1 top-k=1 ! "
      "deitclassify model=\"%s\" threads=1 top-k=5", model, model);
  GstHarness *h = scaler_harness_new (desc);
  GQuark roi_type = g_quark_from_static_string (GST_DEIT_CLASSIFY_ROI_TYPE);
  GstVideoInfo info;
  GstBuffer *out;
  gpointer state = NULL;
  GstMeta *m;
  guint n_roi = 0, n_meta = 0, want[2] = { 1, 5 };

  info_from_string (&info, SCALE_TEST_CAPS);
  out = gst_harness_push_and_pull (h, random_frame (&info, 13));
  while ((m = gst_buffer_iterate_meta (out, &state))) {
    if (m->info->api == GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE &&
        ((GstVideoRegionOfInterestMeta *) m)->roi_type == roi_type) {
      GstStructure *p =
          gst_video_region_of_interest_meta_get_param (
          (GstVideoRegionOfInterestMeta *) m, GST_DEIT_CLASSIFY_ROI_PARAM);
      const GValue *ids;

      fail_unless (n_roi < 2);
      fail_unless (p != NULL, "ROI meta %u lost its parameters", n_roi);
      ids = gst_structure_get_value (p, "top_k_label_ids");
      fail_unless (ids != NULL);
      fail_unless_equals_int (gst_value_array_get_size (ids), want[n_roi]);
      n_roi++;
    } else if (m->info->api == GST_DEIT_CLASSIFY_META_API_TYPE) {
      fail_unless (n_meta < 2);
      fail_unless_equals_int (((GstDeitClassifyMeta *) m)->n_results,
          want[n_meta]);
      n_meta++;
    }
  }
  fail_unless_equals_int (n_roi, 2);
  fail_unless_equals_int (n_meta, 2);
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

static void
copy_checkpoint_file (const gchar * from_dir, const gchar * to_dir,
    const gchar * name)
{
  gchar *from = g_build_filename (from_dir, name, NULL);
  gchar *to = g_build_filename (to_dir, name, NULL);
  gchar *data;
  gsize len;

  fail_unless (g_file_get_contents (from, &data, &len, NULL), "%s", from);
  fail_unless (g_file_set_contents (to, data, len, NULL), "%s", to);
  g_free (data);
  g_free (from);
  g_free (to);
}

/* The model name the element in h reports for one frame. */
static gchar *
classified_model_name (GstHarness * h)
{
  GstVideoInfo info;
  GstBuffer *out;
  GstDeitClassifyMeta *meta;
  gchar *name;

  info_from_string (&info,
      "video/x-raw,format=RGB,width=40,height=30,framerate=30/1");
  out = gst_harness_push_and_pull (h, random_frame (&info, 7));
  meta = gst_buffer_get_deit_classify_meta (out);
  fail_unless (meta != NULL);
  name = g_strdup (meta->model_name);
  gst_buffer_unref (out);
  return name;
}

/* A checkpoint replaced on disk by rename (docs/reliability.md) while an element uses
 * it: that element keeps the model it loaded, and an element started afterwards loads
 * the new files instead of sharing the stale model. */
GST_START_TEST (test_model_replaced_by_rename)
{
  const gchar *files[] = { "config.json", "preprocessor_config.json",
    "model.safetensors"
  };
  gchar *tmp = g_dir_make_tmp ("deit-replaced-XXXXXX", NULL);
  gchar *dir = g_build_filename (tmp, "ckpt", NULL);
  gchar *staged = g_build_filename (tmp, "staged", NULL);
  gchar *old_src = data_path ("model"), *new_src = data_path ("model-vit");
  gchar *desc, *name_a, *name_b, *name_a2;
  GstHarness *a, *b;
  guint i;

  g_mkdir (dir, 0700);
  g_mkdir (staged, 0700);
  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    copy_checkpoint_file (old_src, dir, files[i]);
    copy_checkpoint_file (new_src, staged, files[i]);
  }
  desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1", dir);
  a = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (a,
      "video/x-raw,format=RGB,width=40,height=30,framerate=30/1");
  name_a = classified_model_name (a);
  fail_unless_equals_string (name_a, "gst-deit-test/plugin-model");

  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *from = g_build_filename (staged, files[i], NULL);
    gchar *to = g_build_filename (dir, files[i], NULL);

    fail_unless (g_rename (from, to) == 0);
    g_free (from);
    g_free (to);
  }
  b = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (b,
      "video/x-raw,format=RGB,width=40,height=30,framerate=30/1");
  name_b = classified_model_name (b);
  fail_unless_equals_string (name_b, "gst-deit-test/plugin-model-vit");
  name_a2 = classified_model_name (a);
  fail_unless_equals_string (name_a2, "gst-deit-test/plugin-model");

  gst_harness_teardown (a);
  gst_harness_teardown (b);
  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *f = g_build_filename (dir, files[i], NULL);

    g_unlink (f);
    g_free (f);
  }
  g_rmdir (dir);
  g_rmdir (staged);
  g_rmdir (tmp);
  g_free (name_a);
  g_free (name_b);
  g_free (name_a2);
  g_free (desc);
  g_free (old_src);
  g_free (new_src);
  g_free (staged);
  g_free (dir);
  g_free (tmp);
}

GST_END_TEST;

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
  fail_unless_equals_int (gst_buffer_get_deit_classify_meta (out)->n_results,
      2);
  s = pop_deit_message (bus);
  check_message_equals (s, &r);
  gst_structure_free (s);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
  g_free (props);
  gst_buffer_unref (in);
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
  tcase_add_test (tc, test_meta_scale_transform);
  tcase_add_test (tc, test_chained_survive_convert_scale);
  tcase_add_test (tc, test_chained_same_model_survive_convert_scale);
  tcase_add_test (tc, test_survives_tee);
  tcase_add_test (tc, test_meta_copy);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_model_shared);
  tcase_add_test (tc, test_model_replaced_by_rename);
  tcase_add_test (tc, test_threshold_equal_is_kept);
  return s;
}

GST_CHECK_MAIN (deitclassify);
