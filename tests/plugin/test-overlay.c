/* test-overlay.c - deitoverlay draws the classification meta where it says and
 * nowhere else, in RGB and in I420.
 *
 * The frames carry metas attached by the test itself (no model needed). The checks
 * compare output with input byte by byte: "changed" means any byte of a pixel
 * differs. Expectations come from the element's documented geometry only (panel in
 * the chosen corner, box at the meta's rectangle), never from its drawing code.
 */
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>

#include "gstdeitclassifymeta.h"

#define W 320
#define H 240

static const GstDeitClassification test_results[] = {
  {281, (gchar *) "tabby cat", 0.62f, 5.0f},
  {282, (gchar *) "tiger cat", 0.21f, 4.0f},
  {285, (gchar *) "Egyptian cat", 0.09f, 3.0f},
  {287, (gchar *) "lynx", 0.05f, 2.0f},
  {728, (gchar *) "plastic bag", 0.01f, 1.0f},
};

typedef struct
{
  gint x0, y0, x1, y1;          /* bounding box of changed pixels, x1/y1 exclusive */
  guint n_changed;
} Diff;

/* A frame whose every byte depends on position, in [100, 150): not black, not
 * white, so the panel's black background and white text change every byte they
 * cover. */
static GstBuffer *
make_frame (GstVideoFormat format)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  guint p, x, y;

  gst_video_info_set_format (&info, format, W, H);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_add_video_meta (buf, GST_VIDEO_FRAME_FLAG_NONE, format, W, H);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    guint rows = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);

    for (y = 0; y < rows; y++)
      for (x = 0; x < (guint) stride; x++)
        d[y * stride + x] = 100 + (x * 7 + y * 13 + p * 5) % 50;
  }
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static GstDeitClassifyMeta *
add_full_frame_meta (GstBuffer * buf, guint n, gboolean fresh)
{
  return gst_buffer_add_deit_classify_meta (buf, "deit-test", test_results, n,
      0, fresh);
}

static GstHarness *
start_harness (const gchar * launch, GstVideoFormat format)
{
  GstHarness *h = gst_harness_new_parse (launch);
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=30/1", gst_video_format_to_string (format), W, H);

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

/* Pushes @in (keeps a deep copy to compare with) and returns the output. */
static GstBuffer *
run_frame (GstHarness * h, GstBuffer * in, GstBuffer ** copy)
{
  *copy = gst_buffer_copy_deep (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  return gst_harness_pull (h);
}

/* Changed pixels of plane @plane (all its components) between two buffers. */
static Diff
diff_plane (GstVideoFormat format, GstBuffer * a, GstBuffer * b, guint plane,
    guint8 * mask)
{
  GstVideoInfo info;
  GstVideoFrame fa, fb;
  Diff d = { G_MAXINT, G_MAXINT, -1, -1, 0 };
  gint x, y, c;

  gst_video_info_set_format (&info, format, W, H);
  fail_unless (gst_video_frame_map (&fa, &info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, &info, b, GST_MAP_READ));
  {
    gint pw = GST_VIDEO_FRAME_COMP_WIDTH (&fa, plane);
    gint ph = GST_VIDEO_FRAME_COMP_HEIGHT (&fa, plane);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (&fa, plane);
    gint sa = GST_VIDEO_FRAME_PLANE_STRIDE (&fa, plane);
    gint sb = GST_VIDEO_FRAME_PLANE_STRIDE (&fb, plane);
    const guint8 *da = GST_VIDEO_FRAME_PLANE_DATA (&fa, plane);
    const guint8 *db = GST_VIDEO_FRAME_PLANE_DATA (&fb, plane);

    for (y = 0; y < ph; y++) {
      for (x = 0; x < pw; x++) {
        gboolean changed = FALSE;

        for (c = 0; c < pstride; c++)
          changed |=
              da[y * sa + x * pstride + c] != db[y * sb + x * pstride + c];
        if (mask)
          mask[y * pw + x] = changed;
        if (!changed)
          continue;
        d.n_changed++;
        d.x0 = MIN (d.x0, x);
        d.y0 = MIN (d.y0, y);
        d.x1 = MAX (d.x1, x + 1);
        d.y1 = MAX (d.y1, y + 1);
      }
    }
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  return d;
}

static gboolean
buffers_identical (GstBuffer * a, GstBuffer * b)
{
  GstMapInfo ma, mb;
  gboolean same;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  same = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return same;
}

/* Panel with an opaque background: the changed pixels form one filled rectangle
 * (every pixel of its bounding box changed), at the requested corner, smaller
 * than the frame. Returns that rectangle. */
static Diff
check_panel (GstVideoFormat format, const gchar * corner, guint max_results)
{
  gchar *launch = g_strdup_printf ("deitoverlay corner=%s max-results=%u "
      "background-color=0xff000000", corner, max_results);
  GstHarness *h = start_harness (launch, format);
  GstBuffer *in = make_frame (format), *copy, *out;
  guint8 *mask = g_new0 (guint8, W * H);
  Diff d;
  gint x, y;

  add_full_frame_meta (in, G_N_ELEMENTS (test_results), TRUE);
  out = run_frame (h, in, &copy);
  d = diff_plane (format, copy, out, 0, mask);

  fail_unless (d.n_changed > 0, "%s: the panel changed no pixel", corner);
  /* the border rows and columns of the bounding box (the panel's padding, no
   * text) all changed ... */
  for (y = d.y0; y < d.y1; y++)
    for (x = d.x0; x < d.x1; x++)
      if (y == d.y0 || y == d.y1 - 1 || x == d.x0 || x == d.x1 - 1)
        fail_unless (mask[y * W + x], "%s: pixel %d,%d on the border of the "
            "panel's bounding box [%d,%d)-[%d,%d) unchanged: something else than "
            "one rectangle was drawn", corner, x, y, d.x0, d.y0, d.x1, d.y1);
  /* ... and nearly all of its inside: an anti-aliased glyph edge may blend to
   * the very value a one-byte (luma) sample had, 3% allows for that */
  fail_unless (d.n_changed >= 0.97 * (d.x1 - d.x0) * (d.y1 - d.y0),
      "%s: only %u of the %d pixels in the panel's bounding box changed",
      corner, d.n_changed, (d.x1 - d.x0) * (d.y1 - d.y0));
  /* in its corner: within 10% of the frame from both edges of that corner, and
   * not spanning the frame (the panel fits its text, W/H are 320x240) */
  if (g_str_has_suffix (corner, "left"))
    fail_unless (d.x0 < W / 10, "%s: panel starts at x=%d", corner, d.x0);
  else
    fail_unless (d.x1 > W - W / 10, "%s: panel ends at x=%d", corner, d.x1);
  if (g_str_has_prefix (corner, "top"))
    fail_unless (d.y0 < H / 10, "%s: panel starts at y=%d", corner, d.y0);
  else
    fail_unless (d.y1 > H - H / 10, "%s: panel ends at y=%d", corner, d.y1);
  fail_unless (d.x1 - d.x0 < W * 3 / 4 && d.y1 - d.y0 < H * 3 / 4,
      "%s: panel %dx%d too large for 5 short labels", corner, d.x1 - d.x0,
      d.y1 - d.y0);

  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  g_free (mask);
  g_free (launch);
  gst_harness_teardown (h);
  return d;
}

/* Bright (white text) pixels inside the rectangle: the labels are drawn. */
static guint
count_bright_rgb (GstBuffer * buf, const Diff * r)
{
  GstVideoInfo info;
  GstVideoFrame f;
  guint n = 0;
  gint x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, W, H);
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_READ));
  for (y = r->y0; y < r->y1; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    for (x = r->x0; x < r->x1; x++)
      n += row[x * 3] > 200 && row[x * 3 + 1] > 200 && row[x * 3 + 2] > 200;
  }
  gst_video_frame_unmap (&f);
  return n;
}

/* A frame without any meta comes out byte-identical. */
static void
check_no_meta_identical (GstVideoFormat format)
{
  GstHarness *h = start_harness ("deitoverlay", format);
  GstBuffer *in = make_frame (format), *copy, *out;

  out = run_frame (h, in, &copy);
  fail_unless (buffers_identical (copy, out), "%s frame without meta modified",
      gst_video_format_to_string (format));
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_START_TEST (test_no_meta_rgb)
{
  check_no_meta_identical (GST_VIDEO_FORMAT_RGB);
}

GST_END_TEST;

GST_START_TEST (test_no_meta_i420)
{
  check_no_meta_identical (GST_VIDEO_FORMAT_I420);
}

GST_END_TEST;

/* The panel is one rectangle in each of the four corners, in RGB. */
GST_START_TEST (test_panel_corners_rgb)
{
  const gchar *corners[] = { "top-left", "top-right", "bottom-left",
    "bottom-right"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (corners); i++)
    check_panel (GST_VIDEO_FORMAT_RGB, corners[i], 5);
}

GST_END_TEST;

/* The panel contains text: white pixels on the black background. */
GST_START_TEST (test_panel_has_text_rgb)
{
  GstHarness *h = start_harness ("deitoverlay background-color=0xff000000",
      GST_VIDEO_FORMAT_RGB);
  GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB), *copy, *out;
  Diff d;
  guint bright;

  add_full_frame_meta (in, 5, TRUE);
  out = run_frame (h, in, &copy);
  d = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
  bright = count_bright_rgb (out, &d);
  /* the input has no byte above 150, so every bright pixel is text; 5 rows of
   * glyphs at >= 10 px cover far more than 100 pixels */
  fail_unless (bright > 100, "only %u white text pixels in the panel", bright);
  /* the labels are left-aligned, the percentages right-aligned, the header
   * (model name) is drawn at 75% opacity (< 200): the left third of the panel
   * has bright pixels only if the labels are there */
  d.x1 = d.x0 + (d.x1 - d.x0) / 3;
  bright = count_bright_rgb (out, &d);
  fail_unless (bright > 50, "only %u white pixels where the labels go", bright);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* More rows for more results: max-results=1 gives a shorter panel than 5. */
GST_START_TEST (test_max_results)
{
  Diff one = check_panel (GST_VIDEO_FORMAT_RGB, "top-left", 1);
  Diff five = check_panel (GST_VIDEO_FORMAT_RGB, "top-left", 5);

  fail_unless (five.y1 - five.y0 > one.y1 - one.y0 + 3 * 10,
      "5 rows (%d px) not taller than 1 row (%d px) by 4 rows of >= 10 px",
      five.y1 - five.y0, one.y1 - one.y0);
}

GST_END_TEST;

/* gst-inspect-1.0 lists the properties as controllable: a control binding drives
 * them by the buffers' stream time. max-results stepping from 1 (at 0 s) to 5 (at
 * 1 s) gives a taller panel on the frame at 1 s than on the frame at 0 s. The
 * font description, a string, is not controllable: no control binding takes one. */
GST_START_TEST (test_controlled)
{
  GstHarness *h = start_harness ("deitoverlay background-color=0xff000000",
      GST_VIDEO_FORMAT_RGB);
  GstControlSource *cs = gst_interpolation_control_source_new ();
  GstTimedValueControlSource *tvcs = (GstTimedValueControlSource *) cs;
  GstElement *overlay = gst_harness_find_element (h, "deitoverlay");
  GstBuffer *in, *copy, *out;
  Diff d[2];
  guint i, max_results;

  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  fail_unless (gst_timed_value_control_source_set (tvcs, 0, 1.0));
  fail_unless (gst_timed_value_control_source_set (tvcs, GST_SECOND, 5.0));
  fail_unless (gst_object_add_control_binding (GST_OBJECT (overlay),
          gst_direct_control_binding_new_absolute (GST_OBJECT (overlay),
              "max-results", cs)));
  for (i = 0; i < 2; i++) {
    in = make_frame (GST_VIDEO_FORMAT_RGB);
    GST_BUFFER_PTS (in) = i * GST_SECOND;
    add_full_frame_meta (in, G_N_ELEMENTS (test_results), TRUE);
    out = run_frame (h, in, &copy);
    d[i] = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
    fail_unless (d[i].n_changed > 0, "frame %u: no panel", i);
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
  }
  g_object_get (overlay, "max-results", &max_results, NULL);
  fail_unless_equals_int (max_results, 5);
  fail_unless (d[1].y1 - d[1].y0 > d[0].y1 - d[0].y0 + 3 * 10,
      "max-results 5 at 1 s (%d px) not taller than 1 at 0 s (%d px) by 4 rows",
      d[1].y1 - d[1].y0, d[0].y1 - d[0].y0);
  fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (overlay),
          "font-desc")->flags & GST_PARAM_CONTROLLABLE);
  gst_object_unref (cs);
  gst_object_unref (overlay);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A font size far beyond the frame (font-desc="Sans 100000") is drawn at most as
 * tall as the frame: no Pango/cairo warning (gst-check makes warnings fatal), and the
 * frame still gets its panel. */
GST_START_TEST (test_huge_font)
{
  GstHarness *h = start_harness ("deitoverlay font-desc=\"Sans 100000\" "
      "background-color=0xff000000", GST_VIDEO_FORMAT_RGB);
  GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB), *copy, *out;
  Diff d;

  add_full_frame_meta (in, 2, TRUE);
  out = run_frame (h, in, &copy);
  d = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
  fail_unless (d.n_changed > 0, "nothing drawn with a huge font");
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Text too large for all the rows (font-desc="Sans 30" on a 240-line frame, 5
 * rows asked for): the rows that do not fit are left out, so the panel stays in
 * the frame with its corner margin and ends with its padding (a row of pure
 * background), not with a row cut in the middle. */
GST_START_TEST (test_rows_that_do_not_fit)
{
  const gchar *corners[] = { "top-left", "bottom-left" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (corners); i++) {
    gchar *launch = g_strdup_printf ("deitoverlay corner=%s font-desc=\"Sans "
        "30\" background-color=0xff000000", corners[i]);
    GstHarness *h = start_harness (launch, GST_VIDEO_FORMAT_RGB);
    GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB), *copy, *out;
    guint8 row[W * 3];
    Diff d;
    gint x;

    add_full_frame_meta (in, 5, TRUE);
    out = run_frame (h, in, &copy);
    d = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
    fail_unless (d.n_changed > 0, "%s: nothing drawn", corners[i]);
    fail_unless (d.y0 > 0 && d.y1 < H, "%s: panel [%d,%d) touches the top or "
        "bottom edge of the frame", corners[i], d.y0, d.y1);
    fail_unless_equals_int (gst_buffer_extract (out, (d.y1 - 1) * W * 3, row,
            W * 3), W * 3);
    for (x = d.x0; x < d.x1; x++)
      fail_unless (row[3 * x] == 0 && row[3 * x + 1] == 0 &&
          row[3 * x + 2] == 0, "%s: last row of the panel (y=%d) is not "
          "padding: pixel %d is %02x%02x%02x", corners[i], d.y1 - 1, x,
          row[3 * x], row[3 * x + 1], row[3 * x + 2]);
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    g_free (launch);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Rows of the mask with a changed pixel, as runs [start, end): writes up to 4. */
static guint
changed_row_runs (const guint8 * mask, gint starts[4], gint ends[4])
{
  guint n = 0;
  gint x, y;
  gboolean in_run = FALSE;

  for (y = 0; y <= H; y++) {
    gboolean changed = FALSE;

    for (x = 0; y < H && x < W && !changed; x++)
      changed = mask[y * W + x];
    if (changed && !in_run) {
      if (n < 4)
        starts[n] = y;
      in_run = TRUE;
    } else if (!changed && in_run) {
      if (n < 4)
        ends[n] = y;
      n++;
      in_run = FALSE;
    }
  }
  return n;
}

/* Two deitclassify elements in a chain: one panel per model, stacked from the corner
 * (below the first in a top corner, above it in a bottom one), the same height for
 * the same number of rows, with a gap between them. */
GST_START_TEST (test_two_models)
{
  const gchar *corners[] = { "top-left", "bottom-right" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (corners); i++) {
    gchar *launch = g_strdup_printf ("deitoverlay corner=%s max-results=2 "
        "background-color=0xff000000", corners[i]);
    GstHarness *h = start_harness (launch, GST_VIDEO_FORMAT_RGB);
    GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB), *copy, *out;
    guint8 *mask = g_new0 (guint8, W * H);
    gint starts[4], ends[4];
    guint n;

    add_full_frame_meta (in, 2, TRUE);
    gst_buffer_add_deit_classify_meta (in, "second-model", test_results + 2, 2,
        0, TRUE);
    out = run_frame (h, in, &copy);
    diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, mask);
    n = changed_row_runs (mask, starts, ends);
    fail_unless_equals_int (n, 2);
    fail_unless_equals_int (ends[0] - starts[0], ends[1] - starts[1]);
    fail_unless (starts[1] > ends[0]);
    if (g_str_has_prefix (corners[i], "top"))
      fail_unless (starts[0] < H / 10, "%s: first panel at y=%d", corners[i],
          starts[0]);
    else
      fail_unless (ends[1] > H - H / 10, "%s: first panel ends at y=%d",
          corners[i], ends[1]);
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    g_free (mask);
    g_free (launch);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* I420 and NV12: the luma changes in one rectangle at the same place as in RGB
 * (the geometry does not depend on the format), chroma only within that
 * rectangle's 2x2-subsampled footprint. */
static void
check_panel_yuv (GstVideoFormat format)
{
  Diff rgb = check_panel (GST_VIDEO_FORMAT_RGB, "bottom-right", 5);
  Diff yuv = check_panel (format, "bottom-right", 5);
  GstHarness *h = start_harness ("deitoverlay corner=bottom-right "
      "background-color=0xff000000", format);
  GstBuffer *in = make_frame (format), *copy, *out;
  const gchar *name = gst_video_format_to_string (format);
  guint p, n_planes = format == GST_VIDEO_FORMAT_NV12 ? 2 : 3;

  fail_unless (rgb.x0 == yuv.x0 && rgb.y0 == yuv.y0 && rgb.x1 == yuv.x1 &&
      rgb.y1 == yuv.y1, "%s panel [%d,%d)-[%d,%d) differs from RGB "
      "[%d,%d)-[%d,%d)", name, yuv.x0, yuv.y0, yuv.x1, yuv.y1, rgb.x0, rgb.y0,
      rgb.x1, rgb.y1);

  add_full_frame_meta (in, 5, TRUE);
  out = run_frame (h, in, &copy);
  for (p = 1; p < n_planes; p++) {
    Diff c = diff_plane (format, copy, out, p, NULL);

    fail_unless (c.n_changed > 0, "%s plane %u: the panel changed no chroma",
        name, p);
    fail_unless (c.x0 >= yuv.x0 / 2 && c.y0 >= yuv.y0 / 2 &&
        c.x1 <= (yuv.x1 + 1) / 2 && c.y1 <= (yuv.y1 + 1) / 2,
        "%s plane %u changed [%d,%d)-[%d,%d), outside the panel's chroma "
        "footprint", name, p, c.x0, c.y0, c.x1, c.y1);
  }
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_START_TEST (test_panel_i420)
{
  check_panel_yuv (GST_VIDEO_FORMAT_I420);
}

GST_END_TEST;

/* NV12 (chroma interleaved in one plane): as I420. */
GST_START_TEST (test_panel_nv12)
{
  check_panel_yuv (GST_VIDEO_FORMAT_NV12);
}

GST_END_TEST;

GST_START_TEST (test_no_meta_nv12)
{
  check_no_meta_identical (GST_VIDEO_FORMAT_NV12);
}

GST_END_TEST;

/* show-stale: a carried-over result (fresh=FALSE) is drawn by default and not at
 * all with show-stale=false. */
GST_START_TEST (test_show_stale)
{
  GstVideoFormat formats[] = { GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_I420 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h;
    GstBuffer *in, *copy, *out;

    h = start_harness ("deitoverlay show-stale=false", formats[i]);
    in = make_frame (formats[i]);
    add_full_frame_meta (in, 5, FALSE);
    out = run_frame (h, in, &copy);
    fail_unless (buffers_identical (copy, out), "stale result drawn");
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    gst_harness_teardown (h);

    h = start_harness ("deitoverlay", formats[i]);
    in = make_frame (formats[i]);
    add_full_frame_meta (in, 5, FALSE);
    out = run_frame (h, in, &copy);
    fail_if (buffers_identical (copy, out), "stale result not drawn");
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* A region result: the box edges change, the inside of the box and everything
 * outside the box and its label tag (above the box) stay byte-identical. */
static void
check_roi (GstVideoFormat format)
{
  const gint bx = 160, by = 120, bw = 100, bh = 80;
  GstHarness *h = start_harness ("deitoverlay", format);
  GstBuffer *in = make_frame (format), *copy, *out;
  GstDeitClassifyMeta *meta;
  guint8 *mask = g_new0 (guint8, W * H);
  gint x, y;
  Diff d;

  meta = gst_buffer_add_deit_classify_meta (in, "deit-test", test_results, 2, 0,
      TRUE);
  meta->roi_id = 3;
  meta->x = bx;
  meta->y = by;
  meta->width = bw;
  meta->height = bh;
  out = run_frame (h, in, &copy);
  d = diff_plane (format, copy, out, 0, mask);

  /* corners of the box outline */
  fail_unless (mask[by * W + bx] && mask[(by + bh - 1) * W + bx + bw - 1] &&
      mask[(by + bh - 1) * W + bx] && mask[by * W + bx + bw - 1],
      "box outline not drawn");
  /* middle of the box: at least 10 px from its edges */
  for (y = by + 10; y < by + bh - 10; y++)
    for (x = bx + 10; x < bx + bw - 10; x++)
      fail_if (mask[y * W + x], "pixel %d,%d inside the box changed", x, y);
  /* outside: nothing left of or below the box, nothing right of it; above it
   * only the label tag, at most one text line (H/20 * 0.8 px plus padding) */
  fail_unless (d.x0 >= bx && d.y1 <= by + bh, "changes outside the box: "
      "[%d,%d)-[%d,%d)", d.x0, d.y0, d.x1, d.y1);
  fail_unless (d.x1 <= W && d.y0 >= by - 2 * (H / 20), "label tag too far: "
      "[%d,%d)-[%d,%d)", d.x0, d.y0, d.x1, d.y1);
  fail_unless (d.y0 < by, "no label tag above the box");
  if (format == GST_VIDEO_FORMAT_I420) {
    Diff c = diff_plane (format, copy, out, 1, NULL);

    fail_unless (c.x0 >= bx / 2 && c.y0 >= (by - 2 * (H / 20)) / 2 &&
        c.y1 <= (by + bh + 1) / 2, "chroma changed outside the box");
  }
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  g_free (mask);
  gst_harness_teardown (h);
}

GST_START_TEST (test_roi_rgb)
{
  check_roi (GST_VIDEO_FORMAT_RGB);
}

GST_END_TEST;

GST_START_TEST (test_roi_i420)
{
  check_roi (GST_VIDEO_FORMAT_I420);
}

GST_END_TEST;

/* The same result on consecutive frames (interval) is drawn identically, and a
 * new result redraws: the cache keys on content. */
GST_START_TEST (test_redraw_on_change)
{
  GstHarness *h = start_harness ("deitoverlay", GST_VIDEO_FORMAT_RGB);
  GstBuffer *in, *copy, *out1, *out2, *out3;
  GstDeitClassification other = { 7, (gchar *) "something else", 0.99f, 9.f };

  in = make_frame (GST_VIDEO_FORMAT_RGB);
  add_full_frame_meta (in, 5, TRUE);
  out1 = run_frame (h, in, &copy);
  gst_buffer_unref (copy);
  in = make_frame (GST_VIDEO_FORMAT_RGB);
  add_full_frame_meta (in, 5, TRUE);
  out2 = run_frame (h, in, &copy);
  gst_buffer_unref (copy);
  in = make_frame (GST_VIDEO_FORMAT_RGB);
  gst_buffer_add_deit_classify_meta (in, "deit-test", &other, 1, 0, TRUE);
  out3 = run_frame (h, in, &copy);
  gst_buffer_unref (copy);

  fail_unless (buffers_identical (out1, out2), "same result drawn differently");
  fail_if (buffers_identical (out1, out3), "new result not redrawn");
  gst_buffer_unref (out1);
  gst_buffer_unref (out2);
  gst_buffer_unref (out3);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A label holding what separates results in the drawing's cache key ("281:tabby
 * cat:0.62000;282:tiger cat" as one label) is still another result than the two it
 * spells: the frame after two rows gets the one row a fresh element draws. */
GST_START_TEST (test_redraw_label_like_key)
{
  GstDeitClassification one =
      { 281, (gchar *) "tabby cat:0.62000;282:tiger cat", 0.21f, 4.f };
  GstHarness *h = start_harness ("deitoverlay", GST_VIDEO_FORMAT_RGB);
  GstHarness *fresh = start_harness ("deitoverlay", GST_VIDEO_FORMAT_RGB);
  GstBuffer *in, *copy, *out, *want;

  in = make_frame (GST_VIDEO_FORMAT_RGB);
  add_full_frame_meta (in, 2, TRUE);
  out = run_frame (h, in, &copy);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);

  in = make_frame (GST_VIDEO_FORMAT_RGB);
  gst_buffer_add_deit_classify_meta (in, "deit-test", &one, 1, 0, TRUE);
  want = run_frame (fresh, gst_buffer_copy_deep (in), &copy);
  gst_buffer_unref (copy);
  out = run_frame (h, in, &copy);
  gst_buffer_unref (copy);

  fail_unless (buffers_identical (out, want), "the two-row drawing of the "
      "previous frame was reused");
  gst_buffer_unref (out);
  gst_buffer_unref (want);
  gst_harness_teardown (h);
  gst_harness_teardown (fresh);
}

GST_END_TEST;

/* Warnings of the Pango log domain: Pango logs them structured, past the
 * handlers gst-check installs to make warnings fatal, so the test counts them. */
static guint n_pango_warnings;

static GLogWriterOutput
count_pango_warnings (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  gsize i;

  for (i = 0; i < n_fields; i++)
    if (!strcmp (fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0 &&
        !g_strcmp0 (fields[i].value, "Pango") &&
        (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL)))
      n_pango_warnings++;
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* A meta filled by an application (the documented way to draw its own results)
 * whose label and model name are not UTF-8: drawn, with no warning. */
GST_START_TEST (test_invalid_utf8)
{
  GstDeitClassification bad = { 1, (gchar *) "caf\xe9 \xff\xfe", 0.5f, 1.f };
  GstHarness *h = start_harness ("deitoverlay", GST_VIDEO_FORMAT_RGB);
  GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB), *copy, *out;
  GstDeitClassifyMeta *meta;
  Diff d;

  n_pango_warnings = 0;
  gst_buffer_add_deit_classify_meta (in, "model \xc3", &bad, 1, 0, TRUE);
  meta = gst_buffer_add_deit_classify_meta (in, "model \xc3", &bad, 1, 0, TRUE);
  meta->roi_id = 0;
  meta->x = 100;
  meta->y = 100;
  meta->width = 100;
  meta->height = 100;
  out = run_frame (h, in, &copy);
  d = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
  fail_unless (d.n_changed > 0, "nothing drawn");
  fail_unless_equals_int (n_pango_warnings, 0);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A region's meta with the same rectangle, results and model but classified in a
 * frame twice the size (a resolution change before a scaler in front of the
 * overlay): the box is drawn at half the size, not reused from the last frame. */
GST_START_TEST (test_redraw_on_frame_size)
{
  GstHarness *h = start_harness ("deitoverlay", GST_VIDEO_FORMAT_RGB);
  GstBuffer *in, *copy, *out;
  GstDeitClassifyMeta *meta;
  guint i;
  Diff d;

  for (i = 1; i <= 2; i++) {
    in = make_frame (GST_VIDEO_FORMAT_RGB);
    meta = gst_buffer_add_deit_classify_meta (in, "deit-test", test_results, 1,
        0, TRUE);
    meta->roi_id = 0;
    meta->x = 0;
    meta->y = 100;
    meta->width = 100;
    meta->height = 100;
    meta->frame_width = W * i;
    meta->frame_height = H * i;
    out = run_frame (h, in, &copy);
    d = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
    fail_unless_equals_int (d.x0, 0);
    fail_unless (d.y1 == (100 + 100) / (gint) i, "box classified in a %ux "
        "frame ends at y=%d, not %d", i, d.y1, (100 + 100) / i);
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* One sample of each component of @format: the pixel (x, y) of plane 0 and the
 * chroma sample covering it. */
static void
read_yuv (GstBuffer * buf, const gchar * caps_str, gint x, gint y,
    guint8 yuv[3])
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstVideoInfo info;
  GstVideoFrame f;
  gint c;

  fail_unless (gst_video_info_from_caps (&info, caps));
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_READ));
  for (c = 0; c < 3; c++) {
    gint cx = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (info.finfo, c, x);
    gint cy = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (info.finfo, c, y);

    yuv[c] = ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (&f, c))[cy *
        GST_VIDEO_FRAME_COMP_STRIDE (&f,
            c) + cx * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, c)];
  }
  gst_video_frame_unmap (&f);
  gst_caps_unref (caps);
}

/* What videoconvert makes of the RGB colour @argb in @yuv_caps: the reference
 * for the overlay's own conversion of its colours. */
static void
reference_yuv (guint32 argb, const gchar * yuv_caps, guint8 yuv[3])
{
  GstHarness *h = gst_harness_new ("videoconvert");
  gchar *rgb_caps = g_strdup_printf ("video/x-raw,format=RGB,width=%d,"
      "height=%d,framerate=30/1", W, H);
  GstBuffer *in = gst_buffer_new_allocate (NULL, W * H * 3, NULL), *out;
  GstMapInfo map;
  gint i;

  gst_harness_set_caps_str (h, rgb_caps, yuv_caps);
  fail_unless (gst_buffer_map (in, &map, GST_MAP_WRITE));
  for (i = 0; i < W * H; i++) {
    map.data[3 * i] = (argb >> 16) & 0xff;
    map.data[3 * i + 1] = (argb >> 8) & 0xff;
    map.data[3 * i + 2] = argb & 0xff;
  }
  gst_buffer_unmap (in, &map);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  read_yuv (out, yuv_caps, W / 2, H / 2, yuv);
  gst_buffer_unref (out);
  g_free (rgb_caps);
  gst_harness_teardown (h);
}

/* The panel's opaque background colour lands in YUV frames as videoconvert would
 * convert it, for BT.601 and BT.709, limited and full range, planar and semi-planar;
 * and byte-exact in RGB. */
GST_START_TEST (test_colours)
{
  const guint32 bg = 0xff2060c0;
  const gchar *variants[][2] = {
    {"I420", "bt601"}, {"I420", "bt709"}, {"NV12", "bt709"},
    {"I420", "1:4:0:0"},        /* full range, BT.709 matrix */
    {"Y444", "bt601"}, {"YUY2", "bt709"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (variants); i++) {
    gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
        "framerate=30/1,colorimetry=%s", variants[i][0], W, H, variants[i][1]);
    gchar *launch = g_strdup_printf ("deitoverlay background-color=0x%08x", bg);
    GstHarness *h = gst_harness_new_parse (launch);
    GstVideoInfo info;
    GstCaps *c = gst_caps_from_string (caps);
    GstBuffer *in, *out, *copy;
    guint8 got[3], want[3];
    Diff d;
    gint k;

    fail_unless (gst_video_info_from_caps (&info, c));
    gst_caps_unref (c);
    gst_harness_set_src_caps_str (h, caps);
    in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
    gst_buffer_memset (in, 0, 0x80, GST_VIDEO_INFO_SIZE (&info));
    add_full_frame_meta (in, 5, TRUE);
    copy = gst_buffer_copy_deep (in);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    /* 2 pixels into the panel from its top-left corner, rounded to even: on its
     * padding, left of and above all text, so pure background, as is the whole
     * 2x2 chroma block there */
    d = diff_plane (GST_VIDEO_INFO_FORMAT (&info), copy, out, 0, NULL);
    fail_unless (d.n_changed > 0);
    read_yuv (out, caps, (d.x0 + 2) & ~1, (d.y0 + 2) & ~1, got);
    reference_yuv (bg, caps, want);
    /* +-1: videoconvert and the overlay round the same matrix differently */
    for (k = 0; k < 3; k++)
      fail_unless (ABS ((gint) got[k] - (gint) want[k]) <= 1,
          "%s %s component %d: overlay %u, videoconvert %u", variants[i][0],
          variants[i][1], k, got[k], want[k]);
    gst_buffer_unref (out);
    gst_buffer_unref (copy);
    gst_harness_teardown (h);
    g_free (launch);
    g_free (caps);
  }

  {
    GstHarness *h = start_harness ("deitoverlay background-color=0xff2060c0",
        GST_VIDEO_FORMAT_RGB);
    GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB), *out, *copy;
    guint8 rgb[3];
    Diff d;

    add_full_frame_meta (in, 5, TRUE);
    out = run_frame (h, in, &copy);
    d = diff_plane (GST_VIDEO_FORMAT_RGB, copy, out, 0, NULL);
    fail_unless_equals_int (gst_buffer_extract (out, (d.y0 + 1) * W * 3 +
            (d.x0 + 1) * 3, rgb, 3), 3);
    fail_unless (rgb[0] == 0x20 && rgb[1] == 0x60 && rgb[2] == 0xc0,
        "RGB background %02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    gst_buffer_unref (out);
    gst_buffer_unref (copy);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Formats listed in the caps, and one that is not (GRAY16) refused. */
GST_START_TEST (test_caps)
{
  const gchar *ok[] = { "RGB", "BGRx", "RGBA", "I420", "NV12", "YUY2" };
  GstHarness *h = gst_harness_new ("deitoverlay");
  guint i;

  for (i = 0; i < G_N_ELEMENTS (ok); i++) {
    GstCaps *caps = gst_caps_new_simple ("video/x-raw", "format",
        G_TYPE_STRING, ok[i], "width", G_TYPE_INT, 64, "height", G_TYPE_INT,
        48, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);

    fail_unless (gst_pad_query_accept_caps (h->srcpad->peer, caps),
        "%s refused", ok[i]);
    gst_caps_unref (caps);
  }
  {
    GstCaps *caps = gst_caps_from_string ("video/x-raw,format=GRAY16_LE,"
        "width=64,height=48,framerate=30/1");

    fail_if (gst_pad_query_accept_caps (h->srcpad->peer, caps));
    gst_caps_unref (caps);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
deitoverlay_suite (void)
{
  Suite *s = suite_create ("deitoverlay");
  TCase *tc = tcase_create ("general");

  g_log_set_writer_func (count_pango_warnings, NULL, NULL);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_no_meta_rgb);
  tcase_add_test (tc, test_no_meta_i420);
  tcase_add_test (tc, test_panel_corners_rgb);
  tcase_add_test (tc, test_panel_has_text_rgb);
  tcase_add_test (tc, test_max_results);
  tcase_add_test (tc, test_controlled);
  tcase_add_test (tc, test_two_models);
  tcase_add_test (tc, test_huge_font);
  tcase_add_test (tc, test_rows_that_do_not_fit);
  tcase_add_test (tc, test_panel_i420);
  tcase_add_test (tc, test_panel_nv12);
  tcase_add_test (tc, test_no_meta_nv12);
  tcase_add_test (tc, test_show_stale);
  tcase_add_test (tc, test_roi_rgb);
  tcase_add_test (tc, test_roi_i420);
  tcase_add_test (tc, test_redraw_on_change);
  tcase_add_test (tc, test_redraw_on_frame_size);
  tcase_add_test (tc, test_invalid_utf8);
  tcase_add_test (tc, test_redraw_label_like_key);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_colours);
  return s;
}

GST_CHECK_MAIN (deitoverlay);
