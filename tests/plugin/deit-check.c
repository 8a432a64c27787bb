/* deit-check.c - helpers shared by the deitclassify gst-check tests (deit-check.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "deit-check.h"

static gboolean
core_format (GstVideoFormat f, enum deit_pixel_format *out)
{
  static const struct
  {
    GstVideoFormat gst;
    enum deit_pixel_format core;
  } map[] = {
    {GST_VIDEO_FORMAT_RGB, DEIT_PIXEL_FORMAT_RGB},
    {GST_VIDEO_FORMAT_BGR, DEIT_PIXEL_FORMAT_BGR},
    {GST_VIDEO_FORMAT_RGBx, DEIT_PIXEL_FORMAT_RGBX},
    {GST_VIDEO_FORMAT_BGRx, DEIT_PIXEL_FORMAT_BGRX},
    {GST_VIDEO_FORMAT_xRGB, DEIT_PIXEL_FORMAT_XRGB},
    {GST_VIDEO_FORMAT_xBGR, DEIT_PIXEL_FORMAT_XBGR},
    {GST_VIDEO_FORMAT_RGBA, DEIT_PIXEL_FORMAT_RGBA},
    {GST_VIDEO_FORMAT_BGRA, DEIT_PIXEL_FORMAT_BGRA},
    {GST_VIDEO_FORMAT_ARGB, DEIT_PIXEL_FORMAT_ARGB},
    {GST_VIDEO_FORMAT_ABGR, DEIT_PIXEL_FORMAT_ABGR},
    {GST_VIDEO_FORMAT_GRAY8, DEIT_PIXEL_FORMAT_GRAY8},
    {GST_VIDEO_FORMAT_I420, DEIT_PIXEL_FORMAT_I420},
    {GST_VIDEO_FORMAT_NV12, DEIT_PIXEL_FORMAT_NV12},
    {GST_VIDEO_FORMAT_YUY2, DEIT_PIXEL_FORMAT_YUY2},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (map); i++)
    if (map[i].gst == f) {
      *out = map[i].core;
      return TRUE;
    }
  return FALSE;
}

gchar *
data_path (const gchar * name)
{
  return g_build_filename (TEST_DATA_DIR, name, NULL);
}

void
core_classify_roi (const gchar * model_name, GstBuffer * buf,
    const GstVideoInfo * info, enum deit_color_matrix matrix,
    gboolean full_range, const struct deit_rect *roi, gint k, gfloat threshold,
    Result * out)
{
  gchar *dir = data_path (model_name);
  struct deit_error err;
  struct deit_model *model = deit_model_load (dir, NULL, &err);
  struct deit_state_params sp = deit_state_default_params ();
  struct deit_state *st;
  struct deit_class_score top[64];
  struct deit_image img;
  GstVideoFrame frame;
  guint i;

  fail_unless (model != NULL, "core could not load %s: %s", dir, err.message);
  sp.max_batch = 1;
  sp.n_threads = 1;
  st = deit_state_init (model, &sp, &err);
  fail_unless (st != NULL, "deit_state_init: %s", err.message);
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));

  memset (&img, 0, sizeof (img));
  fail_unless (core_format (GST_VIDEO_INFO_FORMAT (info), &img.format),
      "format %s not supported by the core", GST_VIDEO_INFO_NAME (info));
  img.width = GST_VIDEO_INFO_WIDTH (info);
  img.height = GST_VIDEO_INFO_HEIGHT (info);
  for (i = 0; i < GST_VIDEO_FRAME_N_PLANES (&frame); i++) {
    img.data[i] = GST_VIDEO_FRAME_PLANE_DATA (&frame, i);
    img.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, i);
  }
  img.matrix = matrix;
  img.full_range = full_range;

  fail_unless_equals_int (deit_state_preprocess (st, 0, &img, roi, NULL),
      DEIT_STATUS_OK);
  fail_unless_equals_int (deit_state_run (st, 1, NULL), DEIT_STATUS_OK);
  out->n = deit_state_top_k (st, 0, MIN (k, 64), threshold, top);
  for (i = 0; i < (guint) out->n; i++) {
    out->ids[i] = top[i].class_id;
    out->scores[i] = top[i].score;
  }
  gst_video_frame_unmap (&frame);
  deit_state_free (st);
  deit_model_free (model);
  g_free (dir);
}

/* A frame of seeded pseudo-random bytes (valid content for every format). */
GstBuffer *
random_frame (const GstVideoInfo * info, guint32 seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info),
      NULL);
  GRand *rand = g_rand_new_with_seed (seed);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++)
    map.data[i] = g_rand_int_range (rand, 0, 256);
  gst_buffer_unmap (buf, &map);
  g_rand_free (rand);
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info), GST_VIDEO_INFO_N_PLANES (info),
      (gsize *) info->offset, (gint *) info->stride);
  return buf;
}

void
info_from_string (GstVideoInfo * info, const gchar * str)
{
  GstCaps *caps = gst_caps_from_string (str);

  fail_unless (caps != NULL);
  fail_unless (gst_video_info_from_caps (info, caps));
  gst_caps_unref (caps);
}

GstHarness *
harness_new (const gchar * model, const gchar * props)
{
  gchar *dir = data_path (model);
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 %s",
      dir, props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);

  g_free (desc);
  g_free (dir);
  return h;
}

GstBus *
harness_bus (GstHarness * h)
{
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  return bus;
}

void
harness_teardown_with_bus (GstHarness * h, GstBus * bus)
{
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GstStructure *
pop_deit_message (GstBus * bus)
{
  GstMessage *msg;
  GstStructure *s = NULL;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *ms = gst_message_get_structure (msg);

    if (ms && gst_structure_has_name (ms, "deitclassify")) {
      s = gst_structure_copy (ms);
      gst_message_unref (msg);
      break;
    }
    gst_message_unref (msg);
  }
  return s;
}

void
check_meta_equals (GstDeitClassifyMeta * meta, const Result * r)
{
  guint i;

  fail_unless (meta != NULL, "no GstDeitClassifyMeta on the buffer");
  fail_unless_equals_int (meta->n_results, r->n);
  for (i = 0; i < meta->n_results; i++) {
    fail_unless_equals_int (meta->results[i].class_id, r->ids[i]);
    fail_unless (fabs (meta->results[i].score - r->scores[i]) <= CORE_EPS,
        "score %u: element %.9f core %.9f", i, meta->results[i].score,
        r->scores[i]);
    fail_unless (meta->results[i].label != NULL);
  }
}

void
check_message_equals (const GstStructure * s, const Result * r)
{
  const GValue *ids, *labels, *scores;
  gint class_id;
  gdouble score;
  guint i;

  fail_unless (s != NULL, "no deitclassify message");
  ids = gst_structure_get_value (s, "class-ids");
  labels = gst_structure_get_value (s, "labels");
  scores = gst_structure_get_value (s, "scores");
  fail_unless (ids && labels && scores);
  fail_unless (GST_VALUE_HOLDS_ARRAY (ids));
  fail_unless_equals_int (gst_value_array_get_size (ids), r->n);
  fail_unless_equals_int (gst_value_array_get_size (labels), r->n);
  fail_unless_equals_int (gst_value_array_get_size (scores), r->n);
  for (i = 0; i < (guint) r->n; i++) {
    fail_unless_equals_int (g_value_get_int (gst_value_array_get_value (ids,
                i)), r->ids[i]);
    fail_unless (fabs (g_value_get_double (gst_value_array_get_value (scores,
                    i)) - r->scores[i]) <= CORE_EPS);
  }
  fail_unless (gst_structure_get_int (s, "class-id", &class_id));
  fail_unless (gst_structure_get_double (s, "score", &score));
  if (r->n > 0) {
    fail_unless_equals_int (class_id, r->ids[0]);
    fail_unless (fabs (score - r->scores[0]) <= CORE_EPS);
  } else {
    fail_unless_equals_int (class_id, -1);
  }
}

GstVideoRegionOfInterestMeta *
get_roi_meta (GstBuffer * buf)
{
  return (GstVideoRegionOfInterestMeta *) gst_buffer_get_meta (buf,
      GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
}

void
core_classify (const gchar * model_name, GstBuffer * buf,
    const GstVideoInfo * info, enum deit_color_matrix matrix,
    gboolean full_range, gint k, gfloat threshold, Result * out)
{
  core_classify_roi (model_name, buf, info, matrix, full_range, NULL, k,
      threshold, out);
}

/* How many metas of API @api @buf holds. */
guint
count_metas (GstBuffer * buf, GType api)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buf, &state, api))
    n++;
  return n;
}

/* A sample photo (TEST_IMAGES_DIR/PHOTO.png) decoded to RGB (pngdec ! videoconvert). */
GstBuffer *
load_photo (const gchar * photo, GstVideoInfo * info)
{
  gchar *path = g_strdup_printf ("%s/%s.png", TEST_IMAGES_DIR, photo);
  GstHarness *h = gst_harness_new_parse ("pngdec ! videoconvert ! "
      "capsfilter caps=video/x-raw,format=RGB");
  gchar *data;
  gsize len;
  GstBuffer *buf;
  GstCaps *caps;

  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  gst_harness_set_src_caps_str (h, "image/png");
  buf = gst_harness_push_and_pull (h, gst_buffer_new_wrapped (data, len));
  fail_unless (buf != NULL);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_video_info_from_caps (info, caps));
  gst_caps_unref (caps);
  gst_harness_teardown (h);
  g_free (path);
  return buf;
}

JsonObject *
json_line_object (GstBuffer * buf, JsonParser ** parser)
{
  GstMapInfo map;
  JsonNode *root;

  fail_unless (buf != NULL);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  GST_INFO ("%.*s", (gint) map.size, (const gchar *) map.data);
  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (*parser, (const gchar *) map.data,
          (gssize) map.size, NULL), "not JSON: %.*s", (gint) map.size,
      (const gchar *) map.data);
  gst_buffer_unmap (buf, &map);
  root = json_parser_get_root (*parser);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}
