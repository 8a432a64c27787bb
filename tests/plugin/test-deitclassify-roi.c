/* test-deitclassify-roi.c - gst-check tests of deitclassify inference-region=roi-list:
 * the boxes an upstream detector attached (GstVideoRegionOfInterestMeta, added here by
 * the test) are classified one by one, each exactly as the core classifies that region
 * of the frame (CORE_EPS; the core's regions are checked against Pillow's crop in the
 * preprocess suite) and, on the sample photos, as PyTorch + Pillow classify
 * Image.crop(box) (REF_EPS, expected.json from gen_plugin_fixtures.py).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "deit-check.h"

#define ROI_PROPS "inference-region=roi-list"

/* A box the test puts on a frame. */
typedef struct
{
  const gchar *type;
  gint x, y, w, h;              /* as attached (may reach outside the frame) */
  gint id;                      /* GstVideoRegionOfInterestMeta.id */
  gint tracker_id;              /* > 0: an "object_id" parameter with this "id" */
} Box;

static GstVideoRegionOfInterestMeta *
add_box (GstBuffer * buf, const Box * b)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buf, b->type, b->x, b->y,
      b->w, b->h);

  roi->id = b->id;
  if (b->tracker_id > 0)
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new ("object_id", "id", G_TYPE_INT, b->tracker_id, NULL));
  return roi;
}

/* The box clipped to a W x H frame, as the element must classify it. */
static struct deit_rect
clip_box (const Box * b, gint W, gint H)
{
  struct deit_rect r;

  r.x = b->x;
  r.y = b->y;
  r.width = MIN (b->x + b->w, W) - b->x;
  r.height = MIN (b->y + b->h, H) - b->y;
  return r;
}

/* The classification meta of the region whose ROI meta has this id. */
static GstDeitClassifyMeta *
region_meta (GstBuffer * buf, gint roi_id)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *dm = (GstDeitClassifyMeta *) m;

    if (dm->roi_id == roi_id)
      return dm;
  }
  return NULL;
}

static GstVideoRegionOfInterestMeta *
roi_with_id (GstBuffer * buf, gint id)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    if (((GstVideoRegionOfInterestMeta *) m)->id == id)
      return (GstVideoRegionOfInterestMeta *) m;
  return NULL;
}

/* All deitclassify messages posted so far, oldest first. */
static GList *
pop_all_messages (GstBus * bus)
{
  GList *l = NULL;
  GstStructure *s;

  while ((s = pop_deit_message (bus)))
    l = g_list_append (l, s);
  return l;
}

/* The message of region roi_id in l, or NULL. */
static const GstStructure *
find_message (GList * l, gint roi_id)
{
  for (; l; l = l->next) {
    gint id;

    if (gst_structure_get_int (l->data, "roi-id", &id) && id == roi_id)
      return l->data;
  }
  return NULL;
}

static void
check_region (GstBuffer * out, GList * msgs, const Box * b, gint W, gint H,
    const Result * r, gboolean fresh)
{
  struct deit_rect c = clip_box (b, W, H);
  GstDeitClassifyMeta *meta = region_meta (out, b->id);
  GstVideoRegionOfInterestMeta *roi = roi_with_id (out, b->id);
  GstStructure *p;
  const GstStructure *s;
  guint x, y, w, h;

  check_meta_equals (meta, r);
  fail_unless_equals_int (meta->fresh, fresh);
  fail_unless_equals_int (meta->x, c.x);
  fail_unless_equals_int (meta->y, c.y);
  fail_unless_equals_int (meta->width, c.width);
  fail_unless_equals_int (meta->height, c.height);
  /* the detector's ROI meta got the result as a parameter, rectangle untouched */
  fail_unless (roi != NULL);
  fail_unless_equals_int (roi->w, b->w);
  p = gst_video_region_of_interest_meta_get_param (roi, "deit-classification");
  fail_unless (p != NULL, "no deit-classification on ROI %d", b->id);
  {
    gint label_id;
    gdouble conf;
    gboolean pfresh;

    fail_unless (gst_structure_get_int (p, "label_id", &label_id));
    fail_unless (gst_structure_get_double (p, "confidence", &conf));
    fail_unless (gst_structure_get_boolean (p, "fresh", &pfresh));
    fail_unless_equals_int (label_id, r->ids[0]);
    fail_unless (fabs (conf - r->scores[0]) <= CORE_EPS);
    fail_unless_equals_int (pfresh, fresh);
  }
  s = find_message (msgs, b->id);
  if (!fresh) {
    fail_unless (s == NULL, "message for a carried result of ROI %d", b->id);
    return;
  }
  check_message_equals (s, r);
  fail_unless_equals_string (gst_structure_get_string (s, "roi-type"), b->type);
  fail_unless (gst_structure_get_uint (s, "x", &x));
  fail_unless (gst_structure_get_uint (s, "y", &y));
  fail_unless (gst_structure_get_uint (s, "width", &w));
  fail_unless (gst_structure_get_uint (s, "height", &h));
  fail_unless_equals_int (x, c.x);
  fail_unless_equals_int (y, c.y);
  fail_unless_equals_int (w, c.width);
  fail_unless_equals_int (h, c.height);
}

/* ------------------------------------------------------------------------------------
 * every pixel format
 */
typedef struct
{
  const gchar *caps;
  enum deit_color_matrix matrix;
  gboolean full_range;
} FormatCase;

static const FormatCase formats[] = {
  {"format=RGB,width=67,height=45", 0, FALSE},
  {"format=BGR,width=67,height=45", 0, FALSE},
  {"format=RGBx,width=64,height=48", 0, FALSE},
  {"format=BGRx,width=64,height=48", 0, FALSE},
  {"format=xRGB,width=64,height=48", 0, FALSE},
  {"format=xBGR,width=64,height=48", 0, FALSE},
  {"format=RGBA,width=64,height=48", 0, FALSE},
  {"format=BGRA,width=64,height=48", 0, FALSE},
  {"format=ARGB,width=64,height=48", 0, FALSE},
  {"format=ABGR,width=64,height=48", 0, FALSE},
  {"format=GRAY8,width=66,height=50", 0, FALSE},
  {"format=I420,width=64,height=48,colorimetry=bt601",
      DEIT_COLOR_MATRIX_BT601, FALSE},
  {"format=I420,width=62,height=46,colorimetry=bt709",
      DEIT_COLOR_MATRIX_BT709, FALSE},
  {"format=NV12,width=64,height=48,colorimetry=1:4:0:0",
      DEIT_COLOR_MATRIX_BT601, TRUE},
  {"format=YUY2,width=64,height=48,colorimetry=bt709",
      DEIT_COLOR_MATRIX_BT709, FALSE},
};

/* Three boxes (one partly outside the frame, odd offsets) of a frame in each format:
 * each region's meta, ROI parameter and message equal the core's result for that
 * region; nothing describes the whole frame. */
GST_START_TEST (test_roi_values_match_core)
{
  const FormatCase *fc = &formats[__i__];
  gchar *caps_str = g_strdup_printf ("video/x-raw,framerate=30/1,%s", fc->caps);
  GstHarness *h = harness_new ("model", ROI_PROPS);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GList *msgs;
  gint W, H;
  guint i;
  Box boxes[3] = {
    {"face", 3, 5, 30, 27, 11, 0},
    {"car", 21, 1, 17, 40, 12, 0},
    {"face", 0, 0, 0, 0, 13, 0},
  };

  info_from_string (&info, caps_str);
  W = GST_VIDEO_INFO_WIDTH (&info);
  H = GST_VIDEO_INFO_HEIGHT (&info);
  boxes[2].x = W - 20;          /* reaches 15 px past the right and bottom edges */
  boxes[2].y = H - 13;
  boxes[2].w = 35;
  boxes[2].h = 28;
  gst_harness_set_src_caps_str (h, caps_str);
  in = random_frame (&info, 1000 + __i__);
  for (i = 0; i < 3; i++)
    add_box (in, &boxes[i]);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  msgs = pop_all_messages (bus);
  fail_unless_equals_int (g_list_length (msgs), 3);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      3);
  fail_unless (region_meta (out, -1) == NULL,
      "a full-frame result in roi-list");
  fail_unless_equals_int (count_metas (out,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), 3);
  for (i = 0; i < 3; i++) {
    struct deit_rect c = clip_box (&boxes[i], W, H);
    Result r;

    core_classify_roi ("model", in, &info, fc->matrix, fc->full_range, &c, 5,
        0.0f, &r);
    GST_INFO ("%s box %u: top-1 %d %.6f", fc->caps, i, r.ids[0], r.scores[0]);
    check_region (out, msgs, &boxes[i], W, H, &r, TRUE);
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
  g_free (caps_str);
}

GST_END_TEST;

/* GStreamer 1.22's videoscale copies the meta (no tags) rather than calling its scale
 * transform; deitjsonenc and deitoverlay scale the region from the frame it was
 * classified in to theirs (frame_width/frame_height). A 60x40 frame scaled to 30x20:
 * every coordinate halves. */
GST_START_TEST (test_roi_after_videoscale)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 "
      ROI_PROPS
      " ! videoscale ! capsfilter caps=video/x-raw,width=30,height=20 "
      "! deitjsonenc", model);
  GstHarness *h = gst_harness_new_parse (desc);
  const Box box = { "face", 10, 8, 24, 16, 7, 0 };
  GstVideoInfo info;
  GstBuffer *in, *out;
  JsonParser *p;
  JsonObject *roi;
  const gchar *caps =
      "video/x-raw,format=RGB,width=60,height=40,framerate=30/1";

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  in = random_frame (&info, 5);
  add_box (in, &box);
  out = gst_harness_push_and_pull (h, in);
  roi = json_array_get_object_element (json_object_get_array_member
      (json_line_object (out, &p), "rois"), 0);
  fail_unless_equals_int (json_object_get_int_member (roi, "roi_id"), 7);
  fail_unless_equals_int (json_object_get_int_member (roi, "x"), 5);
  fail_unless_equals_int (json_object_get_int_member (roi, "y"), 4);
  fail_unless_equals_int (json_object_get_int_member (roi, "width"), 12);
  fail_unless_equals_int (json_object_get_int_member (roi, "height"), 8);
  gst_buffer_unref (out);
  g_object_unref (p);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * which boxes
 */
#define SMALL_CAPS "video/x-raw,format=RGB,width=60,height=40,framerate=30/1"

/* object-class and the minimum size pick the boxes; boxes outside the frame, of zero
 * area, or too small once clipped are skipped without an error; deitclassify's own
 * full-frame ROI of an earlier element is never a region. */
GST_START_TEST (test_roi_filter)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " object-class=\" face , "
      "person\" object-min-width=8 object-min-height=6");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GList *msgs;
  const Box boxes[] = {
    {"face", 2, 2, 20, 20, 1, 0},       /* classified */
    {"person", 30, 10, 8, 6, 2, 0},     /* classified: exactly the minimum */
    {"car", 2, 2, 20, 20, 3, 0},        /* type not listed */
    {"face", 40, 2, 7, 20, 4, 0},       /* narrower than 8 */
    {"face", 40, 2, 20, 5, 5, 0},       /* lower than 6 */
    {"face", 55, 20, 30, 10, 6, 0},     /* 5 wide once clipped */
    {"face", 70, 50, 10, 10, 7, 0},     /* outside the frame */
    {"face", 10, 10, 0, 10, 8, 0},      /* zero area */
    {"person", 0, 0, 60, 40, 9, 0},     /* the whole frame: classified */
  };
  GstVideoRegionOfInterestMeta *own;
  guint i;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 7);
  for (i = 0; i < G_N_ELEMENTS (boxes); i++)
    add_box (in, &boxes[i]);
  /* a full-frame result of an earlier deitclassify */
  own = gst_buffer_add_video_region_of_interest_meta (in,
      GST_DEIT_CLASSIFY_ROI_TYPE, 0, 0, 60, 40);
  own->id = 100;
  gst_video_region_of_interest_meta_add_param (own,
      gst_structure_new_empty (GST_DEIT_CLASSIFY_ROI_PARAM));

  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  msgs = pop_all_messages (bus);
  fail_unless_equals_int (g_list_length (msgs), 3);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      3);
  for (i = 0; i < G_N_ELEMENTS (boxes); i++) {
    gboolean classified = boxes[i].id == 1 || boxes[i].id == 2
        || boxes[i].id == 9;

    if (classified) {
      struct deit_rect c = clip_box (&boxes[i], 60, 40);
      Result r;

      core_classify_roi ("model", in, &info, 0, FALSE, &c, 5, 0.0f, &r);
      check_region (out, msgs, &boxes[i], 60, 40, &r, TRUE);
    } else {
      fail_unless (region_meta (out, boxes[i].id) == NULL,
          "box %d classified", boxes[i].id);
      fail_unless (find_message (msgs, boxes[i].id) == NULL);
    }
  }
  fail_unless (region_meta (out, 100) == NULL);

  /* object-class can change while playing: now only cars */
  gst_harness_set (h, "deitclassify", "object-class", "car",
      "object-min-width", 0, "object-min-height", 0, NULL);
  gst_buffer_unref (out);
  in = gst_buffer_make_writable (in);
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  msgs = pop_all_messages (bus);
  fail_unless_equals_int (g_list_length (msgs), 1);
  fail_unless (find_message (msgs, 3) != NULL);

  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* A frame without boxes passes untouched (no meta, no message); a frame with 100
 * boxes (more than one forward pass holds) gets 100 results, each the core's. */
GST_START_TEST (test_roi_zero_and_many)
{
  GstHarness *h = harness_new ("model", ROI_PROPS);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GList *msgs;
  guint i;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);

  in = random_frame (&info, 8);
  out = gst_harness_push_and_pull (h, in);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      0);
  fail_unless_equals_int (count_metas (out,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), 0);
  fail_unless (pop_deit_message (bus) == NULL);
  gst_buffer_unref (out);

  in = random_frame (&info, 9);
  for (i = 0; i < 100; i++) {
    Box b = { "face", (i * 7) % 50, (i * 3) % 30, 5 + i % 11, 4 + i % 9,
      (gint) i + 1, 0
    };
    add_box (in, &b);
  }
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  msgs = pop_all_messages (bus);
  fail_unless_equals_int (g_list_length (msgs), 100);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      100);
  for (i = 0; i < 100; i += 9) {        /* 12 of them, across both passes */
    Box b = { "face", (i * 7) % 50, (i * 3) % 30, 5 + i % 11, 4 + i % 9,
      (gint) i + 1, 0
    };
    struct deit_rect c = clip_box (&b, 60, 40);
    Result r;

    core_classify_roi ("model", in, &info, 0, FALSE, &c, 5, 0.0f, &r);
    check_region (out, msgs, &b, 60, 40, &r, TRUE);
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* A checkpoint whose preprocessor resizes the shortest edge (to 36, aspect ratio kept):
 * a 1000x2 box would become 18000x36, beyond what the preprocessing takes. That box is
 * skipped, like an empty one; the frame's other box is still classified and the
 * stream goes on (it used to fail the whole frame with a STREAM error). */
GST_START_TEST (test_roi_too_thin_for_shortest_edge)
{
  const gchar *caps =
      "video/x-raw,format=RGB,width=1000,height=40,framerate=30/1";
  GstHarness *h = harness_new ("model-shortest", ROI_PROPS);
  GstBus *bus = harness_bus (h);
  Box thin = { "face", 0, 10, 1000, 2, 1, 0 };
  Box fine = { "face", 100, 5, 50, 30, 2, 0 };
  struct deit_rect c = clip_box (&fine, 1000, 40);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GList *msgs;
  Result r;

  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  in = random_frame (&info, 21);
  add_box (in, &thin);
  add_box (in, &fine);
  /* without the skip the frame fails with a STREAM error: no buffer comes out */
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless (out != NULL);
  msgs = pop_all_messages (bus);
  fail_unless_equals_int (g_list_length (msgs), 1);
  fail_unless (region_meta (out, 1) == NULL);
  core_classify_roi ("model-shortest", in, &info, 0, FALSE, &c, 5, 0.0f, &r);
  check_region (out, msgs, &fine, 1000, 40, &r, TRUE);
  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * tracked objects
 */

/* reclassify-interval=3: a tracked object is classified on its first frame and then
 * every 3rd, carrying its last result (fresh = FALSE, inference_pts of the frame it was
 * computed on, no message) in between; an untracked box is classified on every frame.
 * The tracker's object_id wins over the meta id: a box whose tracker id changes is a
 * new object even when its meta id stays. */
GST_START_TEST (test_roi_reclassify_interval)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " reclassify-interval=3");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  guint frame;
  /* A: tracker id 7 (meta id 21); B: meta id 22 only; C: untracked (meta id 0) */
  Box a = { "face", 2, 2, 30, 30, 21, 7 };
  Box b = { "face", 30, 5, 25, 30, 22, 0 };
  Box c = { "car", 10, 10, 20, 20, 0, 0 };
  GstClockTime a_pts = GST_CLOCK_TIME_NONE;
  Result ra, rb;
  guint n_msgs = 0;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  for (frame = 0; frame < 8; frame++) {
    GstBuffer *in = random_frame (&info, 50 + frame), *out;
    gboolean due = frame % 3 == 0;
    GstDeitClassifyMeta *ma, *mb;
    GList *msgs;
    struct deit_rect rc = clip_box (&a, 60, 40);

    GST_BUFFER_PTS (in) = frame * GST_SECOND / 30;
    if (frame == 7)
      a.tracker_id = 8;         /* same meta id 21, another object */
    add_box (in, &a);
    add_box (in, &b);
    add_box (in, &c);
    if (due || frame == 7)
      core_classify_roi ("model", in, &info, 0, FALSE, &rc, 5, 0.0f, &ra);
    if (due) {
      rc = clip_box (&b, 60, 40);
      core_classify_roi ("model", in, &info, 0, FALSE, &rc, 5, 0.0f, &rb);
      a_pts = GST_BUFFER_PTS (in);
    }
    out = gst_harness_push_and_pull (h, in);
    msgs = pop_all_messages (bus);
    n_msgs += g_list_length (msgs);

    ma = region_meta (out, 21);
    mb = region_meta (out, 22);
    fail_unless (ma && mb);
    check_region (out, msgs, &a, 60, 40, &ra, due || frame == 7);
    check_region (out, msgs, &b, 60, 40, &rb, due);
    if (!due && frame != 7)
      fail_unless_equals_uint64 (ma->inference_pts, a_pts);
    /* the untracked box: fresh on every frame */
    fail_unless (find_message (msgs, 0) != NULL);
    fail_unless (region_meta (out, 0) && region_meta (out, 0)->fresh);
    g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
    gst_buffer_unref (out);
  }
  /* A: frames 0 3 6 7, B: 0 3 6, C: all 8 */
  fail_unless_equals_int (n_msgs, 4 + 3 + 8);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* After videoconvert ! videoscale (GStreamer 1.22's ROI meta transform drops the
 * parameter structures), every detector box still carries its own result (and the
 * detector's own parameters), in box order even when the detector gives every box
 * the same id (as facedetect does). */
GST_START_TEST (test_roi_params_survive_convert_scale)
{
  GstHarness *h = harness_new ("model",
      ROI_PROPS " ! videoconvert ! videoscale "
      "! capsfilter caps=video/x-raw,format=I420,width=30,height=20");
  GstVideoInfo info;
  GstBuffer *in, *out;
  const Box boxes[3] = { {"face", 1, 2, 30, 30, 0, 0}, {"face", 20, 8, 40, 32,
      0, 0}, {"car", 5, 5, 12, 9, 4, 0}
  };
  gint ids[3];
  gpointer state = NULL;
  GstMeta *m;
  guint i;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 91);
  for (i = 0; i < 3; i++) {
    struct deit_rect c = clip_box (&boxes[i], 60, 40);
    Result r;

    gst_video_region_of_interest_meta_add_param (add_box (in, &boxes[i]),
        gst_structure_new ("detection", "index", G_TYPE_UINT, i, NULL));
    core_classify_roi ("model", in, &info, 0, FALSE, &c, 5, 0.0f, &r);
    ids[i] = r.ids[0];
  }
  out = gst_harness_push_and_pull (h, in);
  i = 0;
  while ((m = gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi,
        GST_DEIT_CLASSIFY_ROI_PARAM);
    GstStructure *d = gst_video_region_of_interest_meta_get_param (roi,
        "detection");
    guint index;
    gint label_id;

    fail_unless (i < 3);
    fail_unless (p != NULL, "box %u lost its result in videoconvert", i);
    fail_unless (gst_structure_get_int (p, "label_id", &label_id));
    fail_unless_equals_int (label_id, ids[i]);
    fail_unless (d && gst_structure_get_uint (d, "index", &index));
    fail_unless_equals_int (index, i);
    fail_unless_equals_int (roi->w, boxes[i].w / 2);
    i++;
  }
  fail_unless_equals_int (i, 3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Two detectors numbering their boxes from 1: a meta id names an object per ROI
 * type, so a face and a car both with id 1 each carry their own result; two boxes of
 * one type and id on one frame are classified on their own, every frame. */
GST_START_TEST (test_roi_ids_per_type)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " reclassify-interval=3");
  GstVideoInfo info;
  const Box face = { "face", 1, 2, 30, 30, 1, 0 }, car = { "car", 20, 8, 40,
    32, 1, 0
  }, twin = {
    "person", 3, 3, 20, 20, 7, 0
  }, twin2 = {
    "person", 30, 10, 25, 25, 7, 0
  };
  const Box *boxes[4] = { &face, &car, &twin, &twin2 };
  Result kept[2];
  guint frame, i;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  for (frame = 0; frame < 3; frame++) {
    GstBuffer *in = random_frame (&info, 96 + frame), *out;
    GstDeitClassifyMeta *m[4];
    gpointer state = NULL;
    GstMeta *meta;
    guint n = 0;
    Result r[4];

    for (i = 0; i < 4; i++) {
      struct deit_rect c = clip_box (boxes[i], 60, 40);

      add_box (in, boxes[i]);
      core_classify_roi ("model", in, &info, 0, FALSE, &c, 5, 0.0f, &r[i]);
    }
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
                GST_DEIT_CLASSIFY_META_API_TYPE)))
      if (n < 4)
        m[n++] = (GstDeitClassifyMeta *) meta;
    fail_unless_equals_int (n, 4);
    /* face and car: fresh on frame 0 only, each with its own result of frame 0 */
    for (i = 0; i < 2; i++) {
      fail_unless_equals_int (m[i]->fresh, frame == 0);
      if (frame == 0)
        kept[i] = r[i];
      check_meta_equals (m[i], &kept[i]);
    }
    /* the twins: classified on every frame, each its own box */
    for (i = 2; i < 4; i++) {
      fail_unless (m[i]->fresh, "twin %u not fresh on frame %u", i, frame);
      check_meta_equals (m[i], &r[i]);
    }
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* reclassify-interval=2147483647 ("each object once"): an object unseen for 1000
 * frames is forgotten all the same (it was kept for ever, so memory grew with every
 * new track id), and is classified again when it comes back. */
GST_START_TEST (test_roi_objects_forgotten)
{
  GstHarness *h = harness_new ("model",
      ROI_PROPS " reclassify-interval=2147483647");
  GstVideoInfo info;
  GstBuffer *in, *out;
  const Box a = { "face", 1, 2, 30, 30, 1, 0 }, b = { "face", 20, 8, 40, 32, 2,
    0
  };
  guint frame;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 95);
  /* A on frames 0, 5 and 1007 (unseen for 1001 frames before it), B on all */
  for (frame = 0; frame <= 1007; frame++) {
    GstBuffer *buf = gst_buffer_copy_deep (in);
    gboolean with_a = frame == 0 || frame == 5 || frame == 1007;

    if (with_a)
      add_box (buf, &a);
    add_box (buf, &b);
    out = gst_harness_push_and_pull (h, buf);
    fail_unless (region_meta (out, 2) != NULL);
    fail_unless_equals_int (region_meta (out, 2)->fresh, frame == 0);
    if (with_a) {
      fail_unless (region_meta (out, 1) != NULL);
      fail_unless (region_meta (out, 1)->fresh == (frame != 5),
          "frame %u: fresh %d", frame, region_meta (out, 1)->fresh);
    }
    gst_buffer_unref (out);
  }
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * modes
 */

/* A batch-size=@batch harness gives every frame the same region results as sync mode
 * with the same @props (boxes of different frames share forward passes), and the
 * frames come out in order. The boxes have meta ids, so with interval=@period or
 * reclassify-interval=@period the frames in between carry their results (not
 * fresh). */
static void
check_batch_matches_sync (const gchar * props, guint batch, guint period)
{
  gchar *sync_props = g_strdup_printf ("%s %s", ROI_PROPS, props);
  gchar *batch_props = g_strdup_printf ("%s %s batch-size=%u", ROI_PROPS, props,
      batch);
  GstHarness *hs = harness_new ("model", sync_props);
  GstHarness *hb = harness_new ("model", batch_props);
  GstVideoInfo info;
  GstBuffer *ins[9];
  guint i, j;
  const Box boxes[2] = { {"face", 1, 2, 30, 30, 1, 0}, {"face", 20, 8, 40, 32,
      2, 0}
  };

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (hs, SMALL_CAPS);
  gst_harness_set_src_caps_str (hb, SMALL_CAPS);
  for (i = 0; i < 9; i++) {
    ins[i] = random_frame (&info, 70 + i);
    GST_BUFFER_PTS (ins[i]) = i * GST_SECOND;
    for (j = 0; j < 2; j++)
      add_box (ins[i], &boxes[j]);
    gst_harness_push (hb, gst_buffer_copy_deep (ins[i]));
  }
  gst_harness_push_event (hb, gst_event_new_eos ());
  fail_unless_equals_int (gst_harness_buffers_received (hb), 9);
  for (i = 0; i < 9; i++) {
    GstBuffer *os = gst_harness_push_and_pull (hs, ins[i]);
    GstBuffer *ob = gst_harness_pull (hb);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (ob), i * GST_SECOND);
    fail_unless_equals_int (count_metas (os, GST_DEIT_CLASSIFY_META_API_TYPE),
        2);
    fail_unless_equals_int (count_metas (ob, GST_DEIT_CLASSIFY_META_API_TYPE),
        2);
    for (j = 0; j < 2; j++) {
      GstDeitClassifyMeta *a = region_meta (os, boxes[j].id);
      GstDeitClassifyMeta *b = region_meta (ob, boxes[j].id);
      guint k;

      fail_unless (a && b);
      fail_unless_equals_int (a->fresh, i % period == 0);
      fail_unless_equals_int (b->fresh, i % period == 0);
      fail_unless_equals_uint64 (b->inference_pts,
          (i - i % period) * GST_SECOND);
      fail_unless_equals_int (a->n_results, b->n_results);
      for (k = 0; k < a->n_results; k++) {
        fail_unless_equals_int (a->results[k].class_id, b->results[k].class_id);
        fail_unless (fabs (a->results[k].score - b->results[k].score) <= 1e-6);
      }
    }
    gst_buffer_unref (os);
    gst_buffer_unref (ob);
  }
  gst_harness_teardown (hs);
  gst_harness_teardown (hb);
  g_free (sync_props);
  g_free (batch_props);
}

GST_START_TEST (test_roi_batch_matches_sync)
{
  check_batch_matches_sync ("interval=2", 3, 2);
}

GST_END_TEST;

/* The same with reclassify-interval: a tracked object is due only every N frames
 * even while the frames it was found due on wait in the batch (it was classified on
 * every held frame, its result being stored only when the batch ran). */
GST_START_TEST (test_roi_batch_reclassify_matches_sync)
{
  check_batch_matches_sync ("reclassify-interval=3", 4, 3);
}

GST_END_TEST;

/* async=true: the worker classifies the newest frame with all its boxes and posts one
 * message per box, each the core's result for that box of that frame; passing frames
 * carry the latest result of tracked objects (fresh = FALSE). */
GST_START_TEST (test_roi_async)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " async=true");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *frames[6];
  GList *msgs, *l;
  guint i, carried = 0;
  const Box a = { "face", 3, 3, 30, 30, 5, 42 };

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  for (i = 0; i < 6; i++) {
    GstBuffer *out;

    frames[i] = random_frame (&info, 90 + i);
    GST_BUFFER_PTS (frames[i]) = i * GST_SECOND;
    add_box (frames[i], &a);
    out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (frames[i]));
    if (region_meta (out, 5)) {
      fail_if (region_meta (out, 5)->fresh);
      carried++;
    }
    gst_buffer_unref (out);
    g_usleep (20000);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  msgs = pop_all_messages (bus);
  fail_unless (g_list_length (msgs) >= 1);
  for (l = msgs; l; l = l->next) {
    guint64 frame;
    Result r;
    struct deit_rect c = clip_box (&a, 60, 40);

    fail_unless (gst_structure_get_uint64 (l->data, "frame", &frame));
    fail_unless (frame < 6);
    core_classify_roi ("model", frames[frame], &info, 0, FALSE, &c, 5, 0.0f,
        &r);
    check_message_equals (l->data, &r);
  }
  GST_INFO ("%u messages, %u frames carried a result", g_list_length (msgs),
      carried);
  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  for (i = 0; i < 6; i++)
    gst_buffer_unref (frames[i]);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * end to end against PyTorch + Pillow
 */
#if HAVE_TEST_IMAGES
static const gchar *photos[] = { "chelsea", "coffee", "astronaut" };


/* Boxes on the sample photos (inside, at an edge, partly outside, smaller than the
 * model's input, the whole photo) give the top-5 PyTorch computes on
 * Image.crop(clipped box) with the checkpoint's processor. */
GST_START_TEST (test_roi_photos_reference)
{
  const gchar *photo = photos[__i__];
  gchar *ref_path = data_path ("expected.json");
  JsonParser *parser = json_parser_new ();
  JsonArray *crops;
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstHarness *h;
  GstBus *bus;
  GList *msgs;
  guint i, k;

  fail_unless (json_parser_load_from_file (parser, ref_path, NULL));
  crops = json_object_get_array_member (json_object_get_object_member
      (json_object_get_object_member (json_node_get_object
              (json_parser_get_root (parser)), "crops"), "model"), photo);
  in = load_photo (photo, &info);
  in = gst_buffer_make_writable (in);
  for (i = 0; i < json_array_get_length (crops); i++) {
    JsonArray *box = json_object_get_array_member (json_array_get_object_element
        (crops, i), "box");
    Box b = { "object", json_array_get_int_element (box, 0),
      json_array_get_int_element (box, 1), json_array_get_int_element (box, 2),
      json_array_get_int_element (box, 3), (gint) i + 1, 0
    };
    add_box (in, &b);
  }
  h = harness_new ("model", ROI_PROPS);
  bus = harness_bus (h);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  out = gst_harness_push_and_pull (h, in);
  msgs = pop_all_messages (bus);
  fail_unless_equals_int (g_list_length (msgs), json_array_get_length (crops));
  for (i = 0; i < json_array_get_length (crops); i++) {
    JsonObject *c = json_array_get_object_element (crops, i);
    JsonArray *ids = json_object_get_array_member (c, "ids");
    JsonArray *scores = json_object_get_array_member (c, "scores");
    JsonArray *clipped = json_object_get_array_member (c, "clipped");
    GstDeitClassifyMeta *m = region_meta (out, (gint) i + 1);

    fail_unless (m != NULL);
    fail_unless_equals_int (m->x, json_array_get_int_element (clipped, 0));
    fail_unless_equals_int (m->width, json_array_get_int_element (clipped, 2));
    fail_unless_equals_int (m->height, json_array_get_int_element (clipped, 3));
    fail_unless_equals_int (m->n_results, json_array_get_length (ids));
    for (k = 0; k < m->n_results; k++) {
      GST_INFO ("%s box %u top %u: %d %.7f (ref %d %.7f)", photo, i, k,
          m->results[k].class_id, m->results[k].score,
          (gint) json_array_get_int_element (ids, k),
          json_array_get_double_element (scores, k));
      fail_unless_equals_int (m->results[k].class_id,
          json_array_get_int_element (ids, k));
      fail_unless (fabs (m->results[k].score -
              json_array_get_double_element (scores, k)) <= REF_EPS,
          "%s box %u top %u: %.7f vs %.7f", photo, i, k, m->results[k].score,
          json_array_get_double_element (scores, k));
    }
  }
  g_list_free_full (msgs, (GDestroyNotify) gst_structure_free);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
  g_object_unref (parser);
  g_free (ref_path);
}

GST_END_TEST;
#endif

static Suite *
deitclassify_roi_suite (void)
{
  Suite *s = suite_create ("deitclassify-roi");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_roi_values_match_core, 0,
      G_N_ELEMENTS (formats));
  tcase_add_test (tc, test_roi_filter);
  tcase_add_test (tc, test_roi_after_videoscale);
  tcase_add_test (tc, test_roi_zero_and_many);
  tcase_add_test (tc, test_roi_too_thin_for_shortest_edge);
  tcase_add_test (tc, test_roi_reclassify_interval);
  tcase_add_test (tc, test_roi_batch_matches_sync);
  tcase_add_test (tc, test_roi_batch_reclassify_matches_sync);
  tcase_add_test (tc, test_roi_params_survive_convert_scale);
  tcase_add_test (tc, test_roi_objects_forgotten);
  tcase_add_test (tc, test_roi_ids_per_type);
  tcase_add_test (tc, test_roi_async);
#if HAVE_TEST_IMAGES
  tcase_add_loop_test (tc, test_roi_photos_reference, 0, 3);
#endif
  return s;
}

GST_CHECK_MAIN (deitclassify_roi);
