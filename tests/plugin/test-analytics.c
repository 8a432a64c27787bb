/* test-analytics.c - gst-check tests of deitclassify's GstAnalytics results
 * (-Danalytics, gstreamer-analytics-1.0 >= 1.24; run on Debian 13 by .ci/debian13):
 *  - full frame: one GstAnalyticsClsMtd equal to the frame's GstDeitClassifyMeta top-k
 *    (ids through the label quarks, labels, confidences = scores);
 *  - roi-list on GstAnalyticsODMtd boxes added by the test: classified as PyTorch on
 *    Pillow's Image.crop(clipped box) (expected.json, REF_EPS) and as the core (CORE_EPS),
 *    each ClsMtd related to its detection (od -RELATE_TO-> cls, cls -IS_PART_OF-> od),
 *    each GstDeitClassifyMeta with roi_id = the ODMtd's id and the clipped box,
 *    filtered by object-class (the OD type) and object-min-width/height;
 *  - a box described by an ROI meta and an OD mtd is classified once, also by a second
 *    deitclassify behind a scaler;
 *  - a GstAnalyticsTrackingMtd related to the detection is the object's identity for
 *    reclassify-interval, also of an ROI box without one that the detection describes;
 *    detections of a frame sharing one are classified each;
 *  - deitoverlay and deitjsonenc read ClsMtds on frames without our meta, and upstream's
 *    objectdetectionoverlay draws deitclassify's regions.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/analytics/analytics.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deit-check.h"

#define ROI_PROPS "inference-region=roi-list"
#define SMALL_CAPS "video/x-raw,format=RGB,width=60,height=40,framerate=30/1"

/* the test checkpoint's labels are 'class %d, tabby "cat"' */
static gint
label_id (const gchar * label)
{
  gint id = -1;

  fail_unless (label && sscanf (label, "class %d,", &id) == 1, "label %s",
      label);
  return id;
}

static guint
count_mtds (GstBuffer * buf, GstAnalyticsMtdType type)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (buf);
  GstAnalyticsMtd mtd;
  gpointer state = NULL;
  guint n = 0;

  if (!rmeta)
    return 0;
  while (gst_analytics_relation_meta_iterate (rmeta, &state, type, &mtd))
    n++;
  return n;
}

static guint
count_messages (GstBus * bus)
{
  GstStructure *s;
  guint n = 0;

  while ((s = pop_deit_message (bus))) {
    gst_structure_free (s);
    n++;
  }
  return n;
}

/* The GstDeitClassifyMeta of the region at x,y (clipped rectangle; w, h: 0 any). */
static GstDeitClassifyMeta *
meta_rect (GstBuffer * buf, gint roi_id, guint x, guint y, guint w, guint h)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *dm = (GstDeitClassifyMeta *) m;

    if (dm->roi_id == roi_id && dm->x == x && dm->y == y && (!w
            || dm->width == w)
        && (!h || dm->height == h))
      return dm;
  }
  return NULL;
}

#define meta_at(buf, roi_id, x, y) meta_rect (buf, roi_id, x, y, 0, 0)

/* The ClsMtd related to detection od_id (od -RELATE_TO-> cls, and back IS_PART_OF). */
static gboolean
cls_of_od (GstBuffer * buf, guint od_id, GstAnalyticsClsMtd * cls)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (buf);

  fail_unless (rmeta != NULL);
  if (!gst_analytics_relation_meta_get_direct_related (rmeta, od_id,
          GST_ANALYTICS_REL_TYPE_RELATE_TO,
          gst_analytics_cls_mtd_get_mtd_type (), NULL, (GstAnalyticsMtd *) cls))
    return FALSE;
  fail_unless_equals_int (gst_analytics_relation_meta_get_relation (rmeta,
          cls->id, od_id), GST_ANALYTICS_REL_TYPE_IS_PART_OF);
  return TRUE;
}

/* The ClsMtd holds exactly the meta's top-k. */
static void
check_cls_equals_meta (GstAnalyticsClsMtd * cls, GstDeitClassifyMeta * m)
{
  guint i;

  fail_unless (m != NULL);
  fail_unless_equals_int (gst_analytics_cls_mtd_get_length (cls), m->n_results);
  for (i = 0; i < m->n_results; i++) {
    const gchar *label =
        g_quark_to_string (gst_analytics_cls_mtd_get_quark (cls, i));

    fail_unless_equals_string (label, m->results[i].label);
    fail_unless_equals_int (label_id (label), m->results[i].class_id);
    fail_unless (gst_analytics_cls_mtd_get_level (cls, i) ==
        m->results[i].score, "level %u: %.9f vs %.9f", i,
        gst_analytics_cls_mtd_get_level (cls, i), m->results[i].score);
  }
}

static void
check_cls_equals_result (GstAnalyticsClsMtd * cls, const Result * r)
{
  gint i;

  fail_unless_equals_int (gst_analytics_cls_mtd_get_length (cls), r->n);
  for (i = 0; i < r->n; i++) {
    fail_unless_equals_int (label_id (g_quark_to_string
            (gst_analytics_cls_mtd_get_quark (cls, i))), r->ids[i]);
    fail_unless (fabs (gst_analytics_cls_mtd_get_level (cls, i) -
            r->scores[i]) <= CORE_EPS);
  }
}

static guint
add_od (GstBuffer * buf, const gchar * type, gint x, gint y, gint w, gint h)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (buf);
  GstAnalyticsODMtd od;

  if (!rmeta)
    rmeta = gst_buffer_add_analytics_relation_meta (buf);
  fail_unless (gst_analytics_relation_meta_add_od_mtd (rmeta,
          g_quark_from_string (type), x, y, w, h, 0.9f, &od));
  return od.id;
}

/* Relates detection @od_id to a new tracking id @track_id (od -RELATE_TO-> tracking),
 * as upstream's ioutracker does. */
static void
track_od (GstBuffer * buf, guint od_id, guint64 track_id)
{
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_get_analytics_relation_meta (buf);
  GstAnalyticsTrackingMtd trk;

  fail_unless (gst_analytics_relation_meta_add_tracking_mtd (rmeta, track_id,
          GST_BUFFER_PTS (buf), &trk));
  fail_unless (gst_analytics_relation_meta_set_relation (rmeta,
          GST_ANALYTICS_REL_TYPE_RELATE_TO, od_id, trk.id));
}

/* ------------------------------------------------------------------------------------ */

/* Full frame: one ClsMtd, equal to our meta's top-k (ids, labels, confidences), and
 * to the core's answer; top-k and threshold apply to both. */
GST_START_TEST (test_full_frame_cls)
{
  const gchar *props[] = { "", "top-k=3", "top-k=10 threshold=0.05" };
  GstHarness *h = harness_new ("model", props[__i__]);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsMtd mtd;
  gpointer state = NULL;
  GstDeitClassifyMeta *m;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 4242 + __i__);
  out = gst_harness_push_and_pull (h, in);
  m = meta_at (out, -1, 0, 0);
  fail_unless (m != NULL && m->n_results > 0);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_cls_mtd_get_mtd_type ()), 1);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_od_mtd_get_mtd_type ()), 0);
  rmeta = gst_buffer_get_analytics_relation_meta (out);
  fail_unless (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_cls_mtd_get_mtd_type (), &mtd));
  check_cls_equals_meta ((GstAnalyticsClsMtd *) & mtd, m);
  GST_INFO ("%s: %u classes, top-1 %s %.6f", props[__i__], m->n_results,
      m->results[0].label, m->results[0].score);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* object-class and the minimum size pick the OD boxes (the OD type is the class); boxes
 * outside the frame or too small once clipped are skipped; each classified box equals
 * the core's answer for the clipped region and is related to its detection. */
GST_START_TEST (test_od_filter_and_values)
{
  GstHarness *h = harness_new ("model", ROI_PROPS
      " object-class=face,person object-min-width=8 object-min-height=8");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  guint od_face, od_person, od_car, od_small, od_out, od_edge;
  GstAnalyticsClsMtd cls;
  struct deit_rect rf = { 3, 5, 30, 27 }, rp = { 40, 0, 20, 30 }, re =
      { 0, 30, 20,
    10
  };
  Result r;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 77);
  od_face = add_od (in, "face", 3, 5, 30, 27);
  od_car = add_od (in, "car", 10, 10, 20, 20);
  od_person = add_od (in, "person", 40, -5, 30, 35);    /* clipped: 40,0 20x30 */
  od_small = add_od (in, "face", 50, 30, 12, 5);        /* 10x5 once clipped */
  od_out = add_od (in, "face", 70, 10, 10, 10); /* outside the frame */
  od_edge = add_od (in, "face", -4, 30, 24, 20);        /* clipped: 0,30 20x10 */
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless_equals_int (count_messages (bus), 3);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      3);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_cls_mtd_get_mtd_type ()), 3);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_od_mtd_get_mtd_type ()), 6);
  fail_if (cls_of_od (out, od_car, &cls));
  fail_if (cls_of_od (out, od_small, &cls));
  fail_if (cls_of_od (out, od_out, &cls));

  fail_unless (cls_of_od (out, od_face, &cls));
  core_classify_roi ("model", in, &info, 0, FALSE, &rf, 5, 0.0f, &r);
  check_cls_equals_result (&cls, &r);
  check_cls_equals_meta (&cls, meta_at (out, (gint) od_face, 3, 5));
  check_meta_equals (meta_at (out, (gint) od_face, 3, 5), &r);

  fail_unless (cls_of_od (out, od_person, &cls));
  core_classify_roi ("model", in, &info, 0, FALSE, &rp, 5, 0.0f, &r);
  check_cls_equals_result (&cls, &r);
  fail_unless_equals_int (meta_at (out, (gint) od_person, 40, 0)->width, 20);
  fail_unless_equals_int (meta_at (out, (gint) od_person, 40, 0)->height, 30);

  fail_unless (cls_of_od (out, od_edge, &cls));
  core_classify_roi ("model", in, &info, 0, FALSE, &re, 5, 0.0f, &r);
  check_cls_equals_result (&cls, &r);
  check_cls_equals_meta (&cls, meta_at (out, (gint) od_edge, 0, 30));

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* A box described twice (an ROI meta and an OD mtd of the same rectangle) is classified
 * once: one message, one GstDeitClassifyMeta (with the ROI's id), one ClsMtd related to
 * the detection; an ROI meta without a detection gets an ODMtd of its box, related to
 * its ClsMtd (what objectdetectionoverlay reads). */
GST_START_TEST (test_box_described_twice)
{
  GstHarness *h = harness_new ("model", ROI_PROPS);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstVideoRegionOfInterestMeta *roi;
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsMtd mtd;
  GstAnalyticsClsMtd cls;
  gpointer state = NULL;
  guint od_twice, od_only, n_od = 0;
  struct deit_rect rt = { 5, 6, 25, 20 };
  Result r;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 99);
  roi = gst_buffer_add_video_region_of_interest_meta (in, "face", 5, 6, 25, 20);
  roi->id = 31;
  od_twice = add_od (in, "face", 5, 6, 25, 20);
  od_only = add_od (in, "car", 30, 10, 20, 20);
  roi = gst_buffer_add_video_region_of_interest_meta (in, "dog", 0, 20, 30, 20);
  roi->id = 32;
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless_equals_int (count_messages (bus), 3);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      3);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_cls_mtd_get_mtd_type ()), 3);
  /* the two of the test, and one for ROI 32 */
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_od_mtd_get_mtd_type ()), 3);

  fail_unless (cls_of_od (out, od_twice, &cls));
  core_classify_roi ("model", in, &info, 0, FALSE, &rt, 5, 0.0f, &r);
  check_cls_equals_result (&cls, &r);
  check_cls_equals_meta (&cls, meta_at (out, 31, 5, 6));
  fail_unless (cls_of_od (out, od_only, &cls));
  check_cls_equals_meta (&cls, meta_at (out, (gint) od_only, 30, 10));

  rmeta = gst_buffer_get_analytics_relation_meta (out);
  while (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_od_mtd_get_mtd_type (), &mtd)) {
    gint x, y, w, h_;

    n_od++;
    if (mtd.id == od_twice || mtd.id == od_only)
      continue;
    fail_unless (gst_analytics_od_mtd_get_location ((GstAnalyticsODMtd *) & mtd,
            &x, &y, &w, &h_, NULL));
    fail_unless (x == 0 && y == 20 && w == 30 && h_ == 20);
    fail_unless_equals_string (g_quark_to_string
        (gst_analytics_od_mtd_get_obj_type ((GstAnalyticsODMtd *) & mtd)),
        "dog");
    fail_unless (cls_of_od (out, mtd.id, &cls));
    check_cls_equals_meta (&cls, meta_at (out, 32, 0, 20));
  }
  fail_unless_equals_int (n_od, 3);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* Two deitclassify in a chain with a scaler between them, on an ROI box that reaches
 * past the frame's right edge (50,10 30x20 in 60x40, clipped to 10x20): the ODMtd the
 * first adds for the box is scaled like the ROI meta, so the second finds them equal
 * and classifies the box once, relating its ClsMtd to that one detection. With the
 * clipped box as the ODMtd (scaled: 83,17 16x35, while the ROI clipped after scaling
 * is 83,17 17x35) the second classified the box twice and added a second ODMtd, which
 * objectdetectionoverlay drew as a second box. */
GST_START_TEST (test_chain_through_scaler)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 "
      ROI_PROPS " ! videoscale ! video/x-raw,width=100,height=70 ! "
      "deitclassify model=\"%s\" threads=1 top-k=1 " ROI_PROPS, model, model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstVideoRegionOfInterestMeta *roi;
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsMtd od, cls;
  gpointer state = NULL;
  guint n_cls = 0;
  gint x, y, w, h_;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  in = random_frame (&info, 123);
  roi = gst_buffer_add_video_region_of_interest_meta (in, "face", 50, 10, 30,
      20);
  roi->id = 1;
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  fail_unless_equals_int (count_messages (bus), 2);
  fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
      2);
  fail_unless (meta_rect (out, 1, 83, 17, 17, 35) != NULL);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_od_mtd_get_mtd_type ()), 1);
  fail_unless_equals_int (count_mtds (out,
          gst_analytics_cls_mtd_get_mtd_type ()), 2);
  rmeta = gst_buffer_get_analytics_relation_meta (out);
  fail_unless (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_od_mtd_get_mtd_type (), &od));
  /* the ROI meta's rectangle, scaled (60x40 -> 100x70) */
  fail_unless (gst_analytics_od_mtd_get_location ((GstAnalyticsODMtd *) & od,
          &x, &y, &w, &h_, NULL));
  fail_unless (x == 83 && y == 17 && w == 50 && h_ == 35, "OD %d,%d %dx%d", x,
      y, w, h_);
  state = NULL;
  while (gst_analytics_relation_meta_get_direct_related (rmeta, od.id,
          GST_ANALYTICS_REL_TYPE_RELATE_TO,
          gst_analytics_cls_mtd_get_mtd_type (), &state, &cls))
    n_cls++;
  fail_unless_equals_int (n_cls, 2);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* A detection related to a GstAnalyticsTrackingMtd is a tracked object: with
 * reclassify-interval=3 it is classified on frames 0 and 3 and carries its result
 * (a ClsMtd related to that frame's detection) in between; an untracked detection is
 * classified on every frame. */
GST_START_TEST (test_od_tracking_reclassify)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " reclassify-interval=3");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  guint frame, n_msgs = 0;
  Result r0;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  for (frame = 0; frame < 5; frame++) {
    GstBuffer *in = random_frame (&info, 500 + frame), *out;
    GstAnalyticsClsMtd cls;
    guint od_tracked, od_free;
    struct deit_rect rc = { 2, 2, 30, 30 };

    GST_BUFFER_PTS (in) = frame * GST_SECOND / 30;
    od_tracked = add_od (in, "face", 2, 2, 30, 30);
    od_free = add_od (in, "face", 35, 5, 20, 30);
    track_od (in, od_tracked, 5);
    if (frame % 3 == 0)
      core_classify_roi ("model", in, &info, 0, FALSE, &rc, 5, 0.0f, &r0);
    out = gst_harness_push_and_pull (h, in);
    n_msgs += count_messages (bus);
    fail_unless (cls_of_od (out, od_tracked, &cls));
    check_cls_equals_result (&cls, &r0);
    fail_unless (meta_at (out, (gint) od_tracked, 2, 2) != NULL);
    fail_unless_equals_int (meta_at (out, (gint) od_tracked, 2, 2)->fresh,
        frame % 3 == 0);
    fail_unless (cls_of_od (out, od_free, &cls));
    fail_unless (meta_at (out, (gint) od_free, 35, 5) != NULL);
    fail_unless (meta_at (out, (gint) od_free, 35, 5)->fresh);
    gst_buffer_unref (out);
  }
  /* tracked: frames 0 and 3; untracked: all 5 */
  fail_unless_equals_int (n_msgs, 2 + 5);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* A box described by an ROI meta that names no object (id 0, no object_id, as
 * facedetect writes it) and by an ODMtd related to a tracking id: classified once, as
 * the ROI's region, and tracked by the detection's tracker: with reclassify-interval=3
 * on frames 0 and 3 only, its result carried in between (a ClsMtd related to the
 * detection). Before, the tracker's identity was dropped with the detection and the
 * box was classified on every frame. */
GST_START_TEST (test_roi_box_tracked_by_od)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " reclassify-interval=3");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  guint frame, n_msgs = 0;
  Result r0;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  for (frame = 0; frame < 5; frame++) {
    GstBuffer *in = random_frame (&info, 700 + frame), *out;
    GstAnalyticsClsMtd cls;
    GstDeitClassifyMeta *m;
    guint od;
    struct deit_rect rc = { 4, 3, 30, 25 };

    GST_BUFFER_PTS (in) = frame * GST_SECOND / 30;
    gst_buffer_add_video_region_of_interest_meta (in, "face", 4, 3, 30, 25);
    od = add_od (in, "face", 4, 3, 30, 25);
    track_od (in, od, 9);
    if (frame % 3 == 0)
      core_classify_roi ("model", in, &info, 0, FALSE, &rc, 5, 0.0f, &r0);
    out = gst_harness_push_and_pull (h, in);
    n_msgs += count_messages (bus);
    fail_unless_equals_int (count_metas (out, GST_DEIT_CLASSIFY_META_API_TYPE),
        1);
    fail_unless_equals_int (count_mtds (out,
            gst_analytics_od_mtd_get_mtd_type ()), 1);
    fail_unless (cls_of_od (out, od, &cls));
    check_cls_equals_result (&cls, &r0);
    m = meta_at (out, 0, 4, 3);
    fail_unless (m != NULL);
    check_meta_equals (m, &r0);
    fail_unless_equals_int (m->fresh, frame % 3 == 0);
    gst_buffer_unref (out);
  }
  /* frames 0 and 3 */
  fail_unless_equals_int (n_msgs, 2);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* Two detections of one frame related to the same tracking id (here 5 and 2^32 + 5,
 * equal in the low 32 bits that are the identity) are not one object: with
 * reclassify-interval=3 each is classified on every frame with its own result, as ROI
 * boxes sharing an id are; before, the second box got the first one's result, carried
 * over (fresh false, no message). */
GST_START_TEST (test_od_same_track_id)
{
  GstHarness *h = harness_new ("model", ROI_PROPS " reclassify-interval=3");
  GstBus *bus = harness_bus (h);
  GstVideoInfo info;
  guint frame, n_msgs = 0;

  info_from_string (&info, SMALL_CAPS);
  gst_harness_set_src_caps_str (h, SMALL_CAPS);
  for (frame = 0; frame < 2; frame++) {
    GstBuffer *in = random_frame (&info, 600 + frame), *out;
    GstAnalyticsClsMtd cls;
    guint od[2], i;
    struct deit_rect rects[2] = { {2, 2, 30, 30}, {35, 5, 20, 30} };
    const guint64 track_ids[2] = { 5, G_GUINT64_CONSTANT (0x100000005) };
    Result r[2];

    GST_BUFFER_PTS (in) = frame * GST_SECOND / 30;
    for (i = 0; i < 2; i++) {
      od[i] = add_od (in, "face", rects[i].x, rects[i].y, rects[i].width,
          rects[i].height);
      track_od (in, od[i], track_ids[i]);
      core_classify_roi ("model", in, &info, 0, FALSE, &rects[i], 5, 0.0f,
          &r[i]);
    }
    out = gst_harness_push_and_pull (h, in);
    n_msgs += count_messages (bus);
    for (i = 0; i < 2; i++) {
      GstDeitClassifyMeta *m =
          meta_at (out, (gint) od[i], rects[i].x, rects[i].y);

      fail_unless (cls_of_od (out, od[i], &cls));
      check_cls_equals_result (&cls, &r[i]);
      fail_unless (m != NULL);
      check_meta_equals (m, &r[i]);
      fail_unless (m->fresh, "frame %u box %u carried", frame, i);
    }
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (n_msgs, 2 * 2);
  harness_teardown_with_bus (h, bus);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * deitoverlay and deitjsonenc on frames with GstAnalytics results only (another
 * classifier's, or ours past an element that dropped GstDeitClassifyMeta)
 */

#define OVERLAY_CAPS "video/x-raw,format=RGB,width=160,height=120,framerate=30/1"

/* A full-frame ClsMtd ("cat" 0.75, "dog" 0.25) and an ODMtd "car" at 100,80 40x30
 * related to a ClsMtd ("sedan" 0.5); with_region FALSE: the full-frame one only. */
static GstBuffer *
analytics_only_frame (const GstVideoInfo * info, gboolean with_region)
{
  GstBuffer *buf = random_frame (info, 7);
  GstAnalyticsRelationMeta *rmeta =
      gst_buffer_add_analytics_relation_meta (buf);
  GstAnalyticsClsMtd cls;
  GstAnalyticsODMtd od;
  gfloat levels[2] = { 0.75f, 0.25f }, region_level = 0.5f;
  GQuark quarks[2], region_quark = g_quark_from_string ("sedan");

  quarks[0] = g_quark_from_string ("cat");
  quarks[1] = g_quark_from_string ("dog");
  fail_unless (gst_analytics_relation_meta_add_cls_mtd (rmeta, 2, levels,
          quarks, &cls));
  if (with_region) {
    fail_unless (gst_analytics_relation_meta_add_od_mtd (rmeta,
            g_quark_from_string ("car"), 100, 80, 40, 30, 0.9f, &od));
    fail_unless (gst_analytics_relation_meta_add_cls_mtd (rmeta, 1,
            &region_level, &region_quark, &cls));
    fail_unless (gst_analytics_relation_meta_set_relation (rmeta,
            GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id, cls.id));
  }
  GST_BUFFER_PTS (buf) = 0;
  return buf;
}

GST_START_TEST (test_jsonenc_reads_analytics)
{
  GstHarness *h = gst_harness_new_parse ("deitjsonenc");
  JsonParser *parser;
  GstVideoInfo info;
  GstBuffer *out;
  JsonObject *o, *roi;
  JsonArray *results, *rois;

  info_from_string (&info, OVERLAY_CAPS);
  gst_harness_set_src_caps_str (h, OVERLAY_CAPS);
  fail_unless_equals_int (gst_harness_push (h, analytics_only_frame (&info,
              TRUE)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  o = json_line_object (out, &parser);
  fail_unless_equals_string (json_object_get_string_member (o, "model"),
      "analytics");
  results = json_object_get_array_member (o, "results");
  fail_unless_equals_int (json_array_get_length (results), 2);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (results, 0), "label"), "cat");
  fail_unless (fabs (json_object_get_double_member
          (json_array_get_object_element (results, 0), "score") - 0.75) < 1e-6);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (results, 1), "label"), "dog");
  rois = json_object_get_array_member (o, "rois");
  fail_unless_equals_int (json_array_get_length (rois), 1);
  roi = json_array_get_object_element (rois, 0);
  fail_unless_equals_int (json_object_get_int_member (roi, "x"), 100);
  fail_unless_equals_int (json_object_get_int_member (roi, "y"), 80);
  fail_unless_equals_int (json_object_get_int_member (roi, "width"), 40);
  fail_unless_equals_int (json_object_get_int_member (roi, "height"), 30);
  results = json_object_get_array_member (roi, "results");
  fail_unless_equals_int (json_array_get_length (results), 1);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (results, 0), "label"), "sedan");
  gst_buffer_unref (out);
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A detection reaching past the frame's corner (140,100 40x30 in 160x120) is written
 * clipped to the frame (140,100 20x20), as deitclassify's own regions and deitoverlay's
 * boxes are; before, deitjsonenc wrote the box as it was, 40x30. */
GST_START_TEST (test_jsonenc_clips_analytics_box)
{
  GstHarness *h = gst_harness_new_parse ("deitjsonenc");
  JsonParser *parser;
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsClsMtd cls;
  GstAnalyticsODMtd od;
  JsonObject *roi;
  JsonArray *rois;
  gfloat level = 0.5f;
  GQuark quark = g_quark_from_string ("sedan");

  info_from_string (&info, OVERLAY_CAPS);
  gst_harness_set_src_caps_str (h, OVERLAY_CAPS);
  in = random_frame (&info, 8);
  rmeta = gst_buffer_add_analytics_relation_meta (in);
  fail_unless (gst_analytics_relation_meta_add_od_mtd (rmeta,
          g_quark_from_string ("car"), 140, 100, 40, 30, 0.9f, &od));
  fail_unless (gst_analytics_relation_meta_add_cls_mtd (rmeta, 1, &level,
          &quark, &cls));
  fail_unless (gst_analytics_relation_meta_set_relation (rmeta,
          GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id, cls.id));
  GST_BUFFER_PTS (in) = 0;
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  rois = json_object_get_array_member (json_line_object (out, &parser), "rois");
  fail_unless_equals_int (json_array_get_length (rois), 1);
  roi = json_array_get_object_element (rois, 0);
  fail_unless_equals_int (json_object_get_int_member (roi, "x"), 140);
  fail_unless_equals_int (json_object_get_int_member (roi, "y"), 100);
  fail_unless_equals_int (json_object_get_int_member (roi, "width"), 20);
  fail_unless_equals_int (json_object_get_int_member (roi, "height"), 20);
  gst_buffer_unref (out);
  g_object_unref (parser);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Pixels deitoverlay changed in the rectangle x0,y0 - x1,y1 (exclusive). */
static guint
changed_pixels (GstBuffer * a, GstBuffer * b, const GstVideoInfo * info,
    gint x0, gint y0, gint x1, gint y1)
{
  GstMapInfo ma, mb;
  guint n = 0;
  gint x, y, stride = GST_VIDEO_INFO_PLANE_STRIDE (info, 0);

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  for (y = y0; y < y1; y++)
    for (x = x0; x < x1; x++)
      n += memcmp (ma.data + y * stride + 3 * x, mb.data + y * stride + 3 * x,
          3) != 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return n;
}

/* deitoverlay draws a box around the region of an ODMtd with a related ClsMtd (its
 * edges change, its inside far from the edges does not), and a panel for the
 * full-frame ClsMtd; a frame without any result passes untouched. */
GST_START_TEST (test_overlay_reads_analytics)
{
  const gchar *caps = OVERLAY_CAPS;
  GstVideoInfo info;
  guint k;

  info_from_string (&info, caps);
  for (k = 0; k < 3; k++) {
    GstHarness *h = gst_harness_new_parse ("deitoverlay");
    GstBuffer *in = k < 2 ? analytics_only_frame (&info, k == 1) :
        random_frame (&info, 7), *copy, *out;
    guint total, edge;

    gst_harness_set_src_caps_str (h, caps);
    copy = gst_buffer_copy_deep (in);
    out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL);
    total = changed_pixels (copy, out, &info, 0, 0, 160, 120);
    /* the left edge of the box 100,80 40x30 (the panel is top-left) */
    edge = changed_pixels (copy, out, &info, 97, 90, 103, 105);
    GST_INFO ("case %u: %u pixels changed, %u on the box's left edge", k, total,
        edge);
    if (k == 2) {
      fail_unless_equals_int (total, 0);
    } else {
      fail_unless (total > 100, "case %u: only %u pixels drawn", k, total);
    }
    if (k == 1) {
      fail_unless (edge > 0, "no box drawn around the detection");
    } else {
      fail_unless_equals_int (edge, 0);
    }
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Upstream's objectdetectionoverlay (gst-plugins-bad >= 1.24) on deitclassify's regions:
 * a frame with an ROI meta only (what facedetect writes) gets a box drawn around the
 * region after deitclassify (the ODMtd it adds, related to the region's ClsMtd), and
 * none without deitclassify. Skipped when the element is not installed. */
GST_START_TEST (test_objectdetectionoverlay_on_regions)
{
  GstElementFactory *f = gst_element_factory_find ("objectdetectionoverlay");
  GstVideoInfo info;
  guint k;

  if (f == NULL) {
    GST_WARNING
        ("objectdetectionoverlay not installed (gstreamer1.0-plugins-bad "
        ">= 1.24): skipped");
    return;
  }
  gst_object_unref (f);
  info_from_string (&info, OVERLAY_CAPS);
  for (k = 0; k < 2; k++) {
    gchar *model = data_path ("model");
    gchar *desc = k == 0 ?
        g_strdup_printf ("deitclassify model=\"%s\" threads=1 "
        "inference-region=roi-list ! objectdetectionoverlay", model) :
        g_strdup ("objectdetectionoverlay");
    GstHarness *h = gst_harness_new_parse (desc);
    GstBuffer *in = random_frame (&info, 11), *copy, *out;
    GstVideoRegionOfInterestMeta *roi;
    guint total, edge;

    roi = gst_buffer_add_video_region_of_interest_meta (in, "face", 60, 40, 50,
        40);
    roi->id = 1;
    gst_harness_set_src_caps_str (h, OVERLAY_CAPS);
    copy = gst_buffer_copy_deep (in);
    out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL);
    total = changed_pixels (copy, out, &info, 0, 0, 160, 120);
    edge = changed_pixels (copy, out, &info, 57, 50, 63, 70);
    GST_INFO ("%s: %u pixels changed, %u on the box's left edge", desc, total,
        edge);
    if (k == 0) {
      GstAnalyticsClsMtd cls;
      GstAnalyticsRelationMeta *rmeta =
          gst_buffer_get_analytics_relation_meta (out);
      GstAnalyticsMtd od;
      gpointer state = NULL;

      fail_unless (edge > 0, "objectdetectionoverlay drew no box");
      fail_unless (rmeta != NULL);
      fail_unless (gst_analytics_relation_meta_iterate (rmeta, &state,
              gst_analytics_od_mtd_get_mtd_type (), &od));
      fail_unless (cls_of_od (out, od.id, &cls));
    } else {
      fail_unless_equals_int (total, 0);
    }
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (desc);
    g_free (model);
  }
}

GST_END_TEST;

#if HAVE_TEST_IMAGES
static const gchar *photos[] = { "chelsea", "coffee", "astronaut" };


/* OD boxes on the sample photos give the top-5 PyTorch computes on
 * Image.crop(clipped box) (the same references as the ROI meta test). */
GST_START_TEST (test_od_photos_reference)
{
  const gchar *photo = photos[__i__];
  gchar *ref_path = data_path ("expected.json");
  JsonParser *parser = json_parser_new ();
  JsonArray *crops;
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstHarness *h;
  GstBus *bus;
  guint i, k, *od_ids;

  fail_unless (json_parser_load_from_file (parser, ref_path, NULL));
  crops = json_object_get_array_member (json_object_get_object_member
      (json_object_get_object_member (json_node_get_object
              (json_parser_get_root (parser)), "crops"), "model"), photo);
  in = gst_buffer_make_writable (load_photo (photo, &info));
  od_ids = g_new (guint, json_array_get_length (crops));
  for (i = 0; i < json_array_get_length (crops); i++) {
    JsonArray *box = json_object_get_array_member (json_array_get_object_element
        (crops, i), "box");

    od_ids[i] = add_od (in, "object", json_array_get_int_element (box, 0),
        json_array_get_int_element (box, 1), json_array_get_int_element (box,
            2), json_array_get_int_element (box, 3));
  }
  h = harness_new ("model", ROI_PROPS);
  bus = harness_bus (h);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  out = gst_harness_push_and_pull (h, in);
  fail_unless_equals_int (count_messages (bus), json_array_get_length (crops));
  for (i = 0; i < json_array_get_length (crops); i++) {
    JsonObject *c = json_array_get_object_element (crops, i);
    JsonArray *ids = json_object_get_array_member (c, "ids");
    JsonArray *scores = json_object_get_array_member (c, "scores");
    JsonArray *clipped = json_object_get_array_member (c, "clipped");
    GstDeitClassifyMeta *m = meta_rect (out, (gint) od_ids[i],
        json_array_get_int_element (clipped, 0),
        json_array_get_int_element (clipped, 1),
        json_array_get_int_element (clipped, 2),
        json_array_get_int_element (clipped, 3));
    GstAnalyticsClsMtd cls;

    fail_unless (m != NULL, "%s box %u: no region meta", photo, i);
    fail_unless_equals_int (m->width, json_array_get_int_element (clipped, 2));
    fail_unless_equals_int (m->height, json_array_get_int_element (clipped, 3));
    fail_unless (cls_of_od (out, od_ids[i], &cls));
    check_cls_equals_meta (&cls, m);
    fail_unless_equals_int (gst_analytics_cls_mtd_get_length (&cls),
        json_array_get_length (ids));
    for (k = 0; k < json_array_get_length (ids); k++) {
      gfloat level = gst_analytics_cls_mtd_get_level (&cls, k);

      GST_INFO ("%s box %u top %u: %s %.7f (ref %d %.7f)", photo, i, k,
          g_quark_to_string (gst_analytics_cls_mtd_get_quark (&cls, k)), level,
          (gint) json_array_get_int_element (ids, k),
          json_array_get_double_element (scores, k));
      fail_unless_equals_int (label_id (g_quark_to_string
              (gst_analytics_cls_mtd_get_quark (&cls, k))),
          json_array_get_int_element (ids, k));
      fail_unless (fabs (level - json_array_get_double_element (scores,
                  k)) <= REF_EPS, "%s box %u top %u: %.7f vs %.7f", photo, i,
          k, level, json_array_get_double_element (scores, k));
    }
  }
  g_free (od_ids);
  gst_buffer_unref (out);
  harness_teardown_with_bus (h, bus);
  g_object_unref (parser);
  g_free (ref_path);
}

GST_END_TEST;
#endif

static Suite *
deitclassify_analytics_suite (void)
{
  Suite *s = suite_create ("deitclassify-analytics");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_full_frame_cls, 0, 3);
  tcase_add_test (tc, test_od_filter_and_values);
  tcase_add_test (tc, test_box_described_twice);
  tcase_add_test (tc, test_chain_through_scaler);
  tcase_add_test (tc, test_od_tracking_reclassify);
  tcase_add_test (tc, test_od_same_track_id);
  tcase_add_test (tc, test_roi_box_tracked_by_od);
  tcase_add_test (tc, test_jsonenc_reads_analytics);
  tcase_add_test (tc, test_jsonenc_clips_analytics_box);
  tcase_add_test (tc, test_overlay_reads_analytics);
  tcase_add_test (tc, test_objectdetectionoverlay_on_regions);
#if HAVE_TEST_IMAGES
  tcase_add_loop_test (tc, test_od_photos_reference, 0, 3);
#endif
  return s;
}

GST_CHECK_MAIN (deitclassify_analytics);
