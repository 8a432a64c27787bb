/* test-jsonenc.c - deitjsonenc writes one parseable JSON line per classified frame
 * whose values equal the meta the test attached (no model needed).
 *
 * Expected values are the ones the test put into the metas and the GstSegment
 * stream-time rule (stream_time = pts - segment.start + segment.time); the lines are
 * parsed with json-glib's JsonParser.
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>

#include "gstdeitclassifymeta.h"

#define FRAME_DURATION (GST_SECOND / 25)

/* labels with characters JSON must escape, and non-ASCII */
static const GstDeitClassification results_a[] = {
  {281, (gchar *) "tabby, \"tabby cat\"", 0.6180339887f, 5.5f},
  {282, (gchar *) "tiger\tcat\\", 0.25f, 4.0f},
  {7, (gchar *) "Ångström café", 1.0e-7f, -3.0f},
};

static const GstDeitClassification results_b[] = {
  {5, NULL, 0.75f, 1.0f},       /* no label: "label": null */
};

static GstHarness *
start_harness (const gchar * launch)
{
  GstHarness *h = gst_harness_new_parse (launch);

  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=8,height=8,"
      "framerate=25/1");
  return h;
}

static GstBuffer *
make_buffer (guint index)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 8 * 8 * 3, NULL);

  gst_buffer_memset (buf, 0, 0x80, 8 * 8 * 3);
  GST_BUFFER_PTS (buf) = index * FRAME_DURATION;
  GST_BUFFER_DURATION (buf) = FRAME_DURATION;
  return buf;
}

static GstDeitClassifyMeta *
add_meta (GstBuffer * buf, const GstDeitClassification * r, guint n,
    GstClockTime inference_pts, gboolean fresh, guint64 frame_number)
{
  GstDeitClassifyMeta *meta = gst_buffer_add_deit_classify_meta (buf,
      "deit-test", r, n, inference_pts, fresh);

  meta->frame_number = frame_number;
  return meta;
}

/* Pulls one output buffer, checks it is exactly one '\n'-terminated line, and
 * returns its parsed object (owned by the returned parser). */
static JsonObject *
pull_line (GstHarness * h, JsonParser ** parser, GstClockTime expected_pts)
{
  GstBuffer *out = gst_harness_pull (h);
  GstMapInfo map;
  GError *err = NULL;
  JsonNode *root;

  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), expected_pts);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless (map.size > 1 && map.data[map.size - 1] == '\n',
      "line not terminated by a newline");
  fail_unless (memchr (map.data, '\n', map.size - 1) == NULL,
      "more than one line in a buffer");
  /* strict JSON (RFC 8259): UTF-8, no raw control characters in strings */
  fail_unless (g_utf8_validate ((const gchar *) map.data, map.size, NULL),
      "line is not UTF-8");
  for (gsize i = 0; i + 1 < map.size; i++)
    fail_unless (map.data[i] >= 0x20,
        "raw control byte 0x%02x at %" G_GSIZE_FORMAT, map.data[i], i);
  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (*parser, (const gchar *) map.data,
          map.size, &err), "line does not parse: %s", err ? err->message : "?");
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  root = json_parser_get_root (*parser);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static void
check_results (JsonArray * arr, const GstDeitClassification * r, guint n)
{
  guint i;

  fail_unless_equals_int (json_array_get_length (arr), n);
  for (i = 0; i < n; i++) {
    JsonObject *o = json_array_get_object_element (arr, i);

    fail_unless_equals_int (json_object_get_int_member (o, "class_id"),
        r[i].class_id);
    if (r[i].label) {
      fail_unless_equals_string (json_object_get_string_member (o, "label"),
          r[i].label);
    } else {
      fail_unless (json_object_get_null_member (o, "label"));
    }
    /* the generator prints doubles with 17 significant digits, so the float
     * score survives the round trip exactly */
    fail_unless ((gfloat) json_object_get_double_member (o, "score") ==
        r[i].score, "score %d: %.9g != %.9g", i,
        json_object_get_double_member (o, "score"), r[i].score);
  }
}

/* One line per frame with the meta's values; output caps are text. */
GST_START_TEST (test_values)
{
  GstHarness *h = start_harness ("deitjsonenc");
  GstBuffer *buf = make_buffer (3);
  JsonParser *parser;
  JsonObject *o;
  GstCaps *caps;
  GstStructure *s;

  add_meta (buf, results_a, G_N_ELEMENTS (results_a), 3 * FRAME_DURATION,
      TRUE, 3);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, 3 * FRAME_DURATION);

  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 3);
  fail_unless_equals_int64 (json_object_get_int_member (o, "pts"),
      3 * FRAME_DURATION);
  fail_unless_equals_int64 (json_object_get_int_member (o, "duration"),
      FRAME_DURATION);
  fail_unless_equals_int64 (json_object_get_int_member (o, "stream_time"),
      3 * FRAME_DURATION);
  fail_unless_equals_int64 (json_object_get_int_member (o, "inference_pts"),
      3 * FRAME_DURATION);
  fail_unless_equals_string (json_object_get_string_member (o, "model"),
      "deit-test");
  fail_unless (json_object_get_boolean_member (o, "fresh"));
  check_results (json_object_get_array_member (o, "results"), results_a,
      G_N_ELEMENTS (results_a));
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "rois")), 0);
  g_object_unref (parser);

  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, "text/x-json"));
  fail_unless_equals_string (gst_structure_get_string (s, "format"),
      "deitclassify");
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Labels an application put in the meta that are not valid JSON text as they
 * are: control characters are escaped (json-glib 1.6 leaves U+001F raw, the
 * element replaces it), invalid UTF-8 becomes U+FFFD. Every line stays strict
 * JSON (checked in pull_line). */
GST_START_TEST (test_awkward_labels)
{
  static const GstDeitClassification awkward[] = {
    {1, (gchar *) "bell\x01 unit\x1f sep\x1e end", 0.5f, 1.0f},
    {2, (gchar *) "caf\xe9 latin-1", 0.25f, 0.0f},
  };
  GstHarness *h = start_harness ("deitjsonenc");
  GstBuffer *buf = make_buffer (0);
  JsonParser *parser;
  JsonObject *o;
  JsonArray *arr;

  add_meta (buf, awkward, 2, 0, TRUE, 0);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, 0);
  arr = json_object_get_array_member (o, "results");
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (arr, 0), "label"),
      "bell\x01 unit\xef\xbf\xbd sep\x1e end");
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (arr, 1), "label"),
      "caf\xef\xbf\xbd latin-1");
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Scores an application put in the meta that JSON cannot hold (NaN, infinity) are
 * written as null; the line stays strict JSON (pull_line). */
GST_START_TEST (test_non_finite_scores)
{
  GstDeitClassification odd[] = {
    {1, (gchar *) "nan", NAN, 0.0f},
    {2, (gchar *) "inf", INFINITY, 0.0f},
    {3, (gchar *) "half", 0.5f, 0.0f},
  };
  GstHarness *h = start_harness ("deitjsonenc");
  GstBuffer *buf = make_buffer (0);
  JsonParser *parser;
  JsonObject *o;
  JsonArray *arr;

  add_meta (buf, odd, 3, 0, TRUE, 0);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, 0);
  arr = json_object_get_array_member (o, "results");
  fail_unless (json_object_get_null_member (json_array_get_object_element (arr,
              0), "score"));
  fail_unless (json_object_get_null_member (json_array_get_object_element (arr,
              1), "score"));
  fail_unless (json_object_get_double_member (json_array_get_object_element
          (arr, 2), "score") == 0.5);
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* interval: carried-over results are written with fresh=false and the pts of the
 * frame they were computed on; fresh-only drops them. */
GST_START_TEST (test_fresh_flags)
{
  const gboolean fresh_only[] = { FALSE, TRUE };
  guint k, i;

  for (k = 0; k < 2; k++) {
    GstHarness *h = start_harness (fresh_only[k] ? "deitjsonenc fresh-only=true"
        : "deitjsonenc");

    /* interval=3 on 7 frames: fresh on 0, 3, 6 */
    for (i = 0; i < 7; i++) {
      GstBuffer *buf = make_buffer (i);

      add_meta (buf, results_b, 1, (i / 3) * 3 * FRAME_DURATION, i % 3 == 0, i);
      fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    }
    fail_unless_equals_int (gst_harness_buffers_in_queue (h),
        fresh_only[k] ? 3 : 7);
    for (i = 0; i < 7; i++) {
      JsonParser *parser;
      JsonObject *o;

      if (fresh_only[k] && i % 3 != 0)
        continue;
      o = pull_line (h, &parser, i * FRAME_DURATION);
      fail_unless_equals_int (json_object_get_int_member (o, "frame"), i);
      fail_unless_equals_int (json_object_get_boolean_member (o, "fresh"),
          i % 3 == 0);
      fail_unless_equals_int64 (json_object_get_int_member (o,
              "inference_pts"), (i / 3) * 3 * FRAME_DURATION);
      check_results (json_object_get_array_member (o, "results"), results_b, 1);
      g_object_unref (parser);
    }
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* async=true: no frame is fresh (each result lands on a later frame than the one
 * the inference ran on); fresh-only writes the first frame carrying each new
 * result, one line per result, and after a flush a result is new again. */
GST_START_TEST (test_fresh_only_async)
{
  GstHarness *h = start_harness ("deitjsonenc fresh-only=true");
  /* inference_pts carried by frames 1..7, in frames; -1: no meta (frame 0, before
   * the first result) */
  const gint carried[] = { -1, 0, 0, 2, 2, 2, 5, 5 };
  const guint expect[] = { 1, 3, 6 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (carried); i++) {
    GstBuffer *buf = make_buffer (i);

    if (carried[i] >= 0)
      add_meta (buf, results_b, 1, carried[i] * FRAME_DURATION, FALSE, i);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h),
      G_N_ELEMENTS (expect));
  for (i = 0; i < G_N_ELEMENTS (expect); i++) {
    JsonParser *parser;
    JsonObject *o = pull_line (h, &parser, expect[i] * FRAME_DURATION);

    fail_unless_equals_int (json_object_get_int_member (o, "frame"), expect[i]);
    fail_if (json_object_get_boolean_member (o, "fresh"));
    fail_unless_equals_int64 (json_object_get_int_member (o, "inference_pts"),
        carried[expect[i]] * FRAME_DURATION);
    g_object_unref (parser);
  }

  /* the same result again after a flush (a seek): written once more */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=8,height=8,"
      "framerate=25/1");
  for (i = 8; i < 10; i++) {
    GstBuffer *buf = make_buffer (i);

    add_meta (buf, results_b, 1, 5 * FRAME_DURATION, FALSE, i);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* roi-list: each tracked object has its own reclassify schedule, so the first
 * region of a frame may carry its result while another is fresh; fresh-only writes
 * every frame where any region's result is new. */
GST_START_TEST (test_fresh_only_regions)
{
  GstHarness *h = start_harness ("deitjsonenc fresh-only=true");
  /* object A fresh on frames 0 and 3, object B (from frame 1) on frames 1 and 4 */
  const guint expect[] = { 0, 1, 3, 4 };
  guint i;

  for (i = 0; i < 6; i++) {
    GstBuffer *buf = make_buffer (i);
    GstDeitClassifyMeta *m;

    m = add_meta (buf, results_a, 1, (i / 3) * 3 * FRAME_DURATION, i % 3 == 0,
        i);
    m->roi_id = 1;
    if (i >= 1) {
      m = add_meta (buf, results_b, 1, ((i - 1) / 3 * 3 + 1) * FRAME_DURATION,
          (i - 1) % 3 == 0, i);
      m->roi_id = 2;
    }
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h),
      G_N_ELEMENTS (expect));
  for (i = 0; i < G_N_ELEMENTS (expect); i++) {
    JsonParser *parser;
    JsonObject *o = pull_line (h, &parser, expect[i] * FRAME_DURATION);

    fail_unless_equals_int (json_object_get_int_member (o, "frame"), expect[i]);
    g_object_unref (parser);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Frames without a meta: no line by default, an empty one with
 * add-empty-results. */
GST_START_TEST (test_no_meta)
{
  GstHarness *h = start_harness ("deitjsonenc");
  JsonParser *parser;
  JsonObject *o;

  fail_unless_equals_int (gst_harness_push (h, make_buffer (3)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  /* a gap with the frame's timestamps in its place (a sink prerolls on it) */
  {
    GstEvent *ev;
    GstClockTime ts = GST_CLOCK_TIME_NONE, dur = GST_CLOCK_TIME_NONE;

    while ((ev = gst_harness_try_pull_event (h))) {
      if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP)
        gst_event_parse_gap (ev, &ts, &dur);
      gst_event_unref (ev);
    }
    fail_unless_equals_uint64 (ts, 3 * FRAME_DURATION);
    fail_unless_equals_uint64 (dur, FRAME_DURATION);
  }
  gst_harness_teardown (h);

  h = start_harness ("deitjsonenc add-empty-results=true");
  fail_unless_equals_int (gst_harness_push (h, make_buffer (0)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, make_buffer (1)), GST_FLOW_OK);
  o = pull_line (h, &parser, 0);
  g_object_unref (parser);
  o = pull_line (h, &parser, FRAME_DURATION);
  fail_unless_equals_int (json_object_get_int_member (o, "frame"), 1);
  fail_unless (json_object_get_null_member (o, "model"));
  fail_if (json_object_get_boolean_member (o, "fresh"));
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "results")), 0);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "rois")), 0);
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Region results go under "rois" with their boxes, the full-frame one under
 * "results"; an unknown PTS is null. */
GST_START_TEST (test_rois)
{
  GstHarness *h = start_harness ("deitjsonenc");
  GstBuffer *buf = make_buffer (0);
  GstDeitClassifyMeta *roi;
  JsonParser *parser;
  JsonObject *o, *r;
  JsonArray *rois;

  GST_BUFFER_PTS (buf) = GST_CLOCK_TIME_NONE;
  roi = add_meta (buf, results_b, 1, GST_CLOCK_TIME_NONE, TRUE, 0);
  roi->roi_id = 4;
  roi->x = 10;
  roi->y = 20;
  roi->width = 30;
  roi->height = 40;
  add_meta (buf, results_a, 2, GST_CLOCK_TIME_NONE, TRUE, 0);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, GST_CLOCK_TIME_NONE);

  fail_unless (json_object_get_null_member (o, "pts"));
  fail_unless (json_object_get_null_member (o, "stream_time"));
  check_results (json_object_get_array_member (o, "results"), results_a, 2);
  rois = json_object_get_array_member (o, "rois");
  fail_unless_equals_int (json_array_get_length (rois), 1);
  r = json_array_get_object_element (rois, 0);
  fail_unless_equals_int (json_object_get_int_member (r, "roi_id"), 4);
  fail_unless_equals_int (json_object_get_int_member (r, "x"), 10);
  fail_unless_equals_int (json_object_get_int_member (r, "y"), 20);
  fail_unless_equals_int (json_object_get_int_member (r, "width"), 30);
  fail_unless_equals_int (json_object_get_int_member (r, "height"), 40);
  fail_unless (json_object_get_boolean_member (r, "fresh"));
  check_results (json_object_get_array_member (r, "results"), results_b, 1);
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Two deitclassify elements in a chain: the first model's full-frame results stay at
 * the top level, the second's go under "other_models" with its own model, freshness
 * and inference PTS, and each region names its model. A frame with one model has no
 * "other_models" key. */
GST_START_TEST (test_other_models)
{
  GstHarness *h = start_harness ("deitjsonenc");
  GstBuffer *buf = make_buffer (0);
  GstDeitClassifyMeta *roi;
  JsonParser *parser;
  JsonObject *o, *r;
  JsonArray *other;

  add_meta (buf, results_a, 3, 0, TRUE, 0);
  gst_buffer_add_deit_classify_meta (buf, "second-model", results_b, 1,
      7 * FRAME_DURATION, FALSE);
  roi = gst_buffer_add_deit_classify_meta (buf, "third-model", results_a, 1,
      0, TRUE);
  roi->roi_id = 2;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, 0);

  fail_unless_equals_string (json_object_get_string_member (o, "model"),
      "deit-test");
  check_results (json_object_get_array_member (o, "results"), results_a, 3);
  fail_unless (json_object_has_member (o, "other_models"));
  other = json_object_get_array_member (o, "other_models");
  fail_unless_equals_int (json_array_get_length (other), 1);
  r = json_array_get_object_element (other, 0);
  fail_unless_equals_string (json_object_get_string_member (r, "model"),
      "second-model");
  fail_unless (!json_object_get_boolean_member (r, "fresh"));
  fail_unless_equals_int64 (json_object_get_int_member (r, "inference_pts"),
      7 * FRAME_DURATION);
  check_results (json_object_get_array_member (r, "results"), results_b, 1);
  r = json_array_get_object_element (json_object_get_array_member (o, "rois"),
      0);
  fail_unless_equals_int (json_object_get_int_member (r, "roi_id"), 2);
  fail_unless_equals_string (json_object_get_string_member (r, "model"),
      "third-model");
  g_object_unref (parser);

  buf = make_buffer (1);
  add_meta (buf, results_b, 1, FRAME_DURATION, TRUE, 1);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, FRAME_DURATION);
  fail_unless (!json_object_has_member (o, "other_models"));
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* stream_time follows the segment: pts - start + time. */
GST_START_TEST (test_stream_time)
{
  GstHarness *h = start_harness ("deitjsonenc");
  GstSegment seg;
  GstBuffer *buf;
  JsonParser *parser;
  JsonObject *o;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 2 * GST_SECOND;
  seg.time = 10 * GST_SECOND;
  seg.position = seg.start;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  buf = make_buffer (0);
  GST_BUFFER_PTS (buf) = 3 * GST_SECOND;
  add_meta (buf, results_b, 1, 3 * GST_SECOND, TRUE, 0);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  o = pull_line (h, &parser, 3 * GST_SECOND);
  fail_unless_equals_int64 (json_object_get_int_member (o, "stream_time"),
      11 * GST_SECOND);
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* With filesink: a file of N lines, each parsing, after EOS. */
GST_START_TEST (test_filesink)
{
  gchar *dir = g_dir_make_tmp ("deitjsonenc-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "out.jsonl", NULL);
  gchar *launch = g_strdup_printf ("deitjsonenc ! filesink location=\"%s\"",
      path);
  GstHarness *h = start_harness (launch);
  gchar *contents, **lines;
  guint i;

  for (i = 0; i < 4; i++) {
    GstBuffer *buf = make_buffer (i);

    add_meta (buf, results_a, 3, i * FRAME_DURATION, TRUE, i);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_harness_teardown (h);

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 5);    /* 4 lines + "" */
  fail_unless_equals_string (lines[4], "");
  for (i = 0; i < 4; i++) {
    JsonParser *parser = json_parser_new ();

    fail_unless (json_parser_load_from_data (parser, lines[i], -1, NULL));
    fail_unless_equals_int (json_object_get_int_member (json_node_get_object
            (json_parser_get_root (parser)), "frame"), i);
    g_object_unref (parser);
  }
  g_strfreev (lines);
  g_free (contents);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (launch);
}

GST_END_TEST;

static Suite *
deitjsonenc_suite (void)
{
  Suite *s = suite_create ("deitjsonenc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_values);
  tcase_add_test (tc, test_non_finite_scores);
  tcase_add_test (tc, test_awkward_labels);
  tcase_add_test (tc, test_fresh_flags);
  tcase_add_test (tc, test_fresh_only_async);
  tcase_add_test (tc, test_fresh_only_regions);
  tcase_add_test (tc, test_no_meta);
  tcase_add_test (tc, test_rois);
  tcase_add_test (tc, test_other_models);
  tcase_add_test (tc, test_stream_time);
  tcase_add_test (tc, test_filesink);
  return s;
}

GST_CHECK_MAIN (deitjsonenc);
