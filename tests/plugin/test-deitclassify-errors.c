/* test-deitclassify-errors.c - gst-check tests of deitclassify: errors and their
 * messages, refused caps, the labels files, and the sample photos end to end against
 * PyTorch + Pillow.
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
  /* a device and a directory as labels file: refused before any read (reading
   * /dev/zero once grew the process without end) */
  {"model", "/dev/zero", gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS, "not a regular file"},
  {"model", "model", gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS, "not a regular file"},
  {"model-badcrop", NULL, gst_resource_error_quark,
        GST_RESOURCE_ERROR_SETTINGS,
      "produces 48x48 images but the model takes 32x32"},
  /* the fix an element user can apply, not an API call */
  {"model-1ch", NULL, gst_resource_error_quark,
        GST_RESOURCE_ERROR_SETTINGS,
      "num_channels is 1 but frames are preprocessed to RGB (3 channels): "
        "this model runs on tensors only (fill deit_state_input(), or "
        "deit-infer), not on images or video frames; use a 3-channel "
        "checkpoint"},
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
    gchar *p = g_path_is_absolute (ec->labels) ? g_strdup (ec->labels) :
        data_path (ec->labels);
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
  fail_unless_equals_int (count_warning_lines (DEPRECATION_NOTE), 1);   /* once per element */
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

/* Caps deitclassify takes but an element downstream refuses: the empty answer to the
 * CAPS query is downstream's, so deitclassify posts no "cannot take this video". */
GST_START_TEST (test_caps_refused_downstream_not_blamed)
{
  gchar *model = data_path ("model");
  gchar *desc = g_strdup_printf ("deitclassify name=c model=\"%s\" threads=1 "
      "! capsfilter caps=video/x-raw,format=I420", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstElement *c = gst_bin_get_by_name (GST_BIN (h->element), "c");
  GstPad *sink = gst_element_get_static_pad (c, "sink");
  GstBus *bus = gst_bus_new ();
  GstCaps *gray = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=32,height=32,framerate=1/1"), *res;

  gst_element_set_bus (h->element, bus);
  res = gst_pad_query_caps (sink, gray);
  fail_unless (gst_caps_is_empty (res));
  gst_caps_unref (res);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL,
      "deitclassify blamed for a format it takes");
  gst_caps_unref (gray);
  gst_object_unref (sink);
  gst_object_unref (c);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* A checkpoint that loads but whose logits are NaN (model-nan: a NaN head bias): the
 * frames go through with no classes (NaN never passes the threshold, even 0), and one
 * warning says why; the JSON line stays valid. */
GST_START_TEST (test_non_finite_logits_warn_once)
{
  gchar *model = data_path ("model-nan");
  gchar *desc = g_strdup_printf ("deitclassify model=\"%s\" threads=1 "
      "threshold=0 top-k=3 ! deitjsonenc", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstBus *bus = gst_bus_new ();
  const gchar *caps = "video/x-raw,format=RGB,width=32,height=32,framerate=1/1";
  GstVideoInfo info;
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;
  gint i;

  gst_element_set_bus (h->element, bus);
  info_from_string (&info, caps);
  gst_harness_set_src_caps_str (h, caps);
  for (i = 0; i < 2; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, random_frame (&info, i));
    JsonParser *p;
    JsonObject *o = json_line_object (out, &p);

    fail_unless_equals_int (json_array_get_length
        (json_object_get_array_member (o, "results")), 0);
    gst_buffer_unref (out);
    g_object_unref (p);
  }
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning about the NaN logits");
  gst_message_parse_warning (msg, &err, &dbg);
  GST_INFO ("warning: %s (%s)", err->message, dbg);
  fail_unless (strstr (err->message, "not numbers") != NULL, "%s",
      err->message);
  fail_unless (dbg != NULL && strstr (dbg, "nan") != NULL, "%s", dbg);
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL,
      "a second warning");
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------------------------------
 * end to end against PyTorch + Pillow
 */
#if HAVE_TEST_IMAGES
static const gchar *photos[] = { "chelsea", "coffee", "astronaut" };

/* checkpoint, its reference in expected.json, extra properties */
static const struct
{
  const gchar *dir, *reference, *props;
} end_to_end_cases[] = {
  {"model", "model", ""},
  {"model-vit", "model-vit", ""},
  /* problem_type multi_label_classification: sigmoid scores by default ... */
  {"model-multilabel", "model-multilabel", ""},
  /* ... softmax when asked for, and sigmoid on a single-label model when asked for */
  {"model-multilabel", "model", "score-function=softmax"},
  {"model", "model-multilabel", "score-function=sigmoid"},
};

/* filesrc ! pngdec ! videoconvert ! deitclassify on the sample photos reports the
 * top-5 that PyTorch + Pillow compute for the same checkpoint (1e-4), with the
 * scores of transformers' image-classification pipeline. */
GST_START_TEST (test_end_to_end_reference)
{
  const gchar *photo = photos[__i__ % 3];
  const gchar *model_name = end_to_end_cases[__i__ / 3].reference;
  gchar *ref_path = data_path ("expected.json");
  gchar *model = data_path (end_to_end_cases[__i__ / 3].dir);
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
      "deitclassify model=\"%s\" top-k=5 %s ! fakesink", png, model,
      end_to_end_cases[__i__ / 3].props);
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

      GST_INFO ("%s %s top %u: id %d (ref %d) p %.7f (ref %.7f)", model,
          photo, i, id, (gint) json_array_get_int_element (ids, i), sc, ref);
      fail_unless_equals_int (id, json_array_get_int_element (ids, i));
      fail_unless (fabs (sc - ref) <= REF_EPS, "%s %s %s top %u: %.7f vs %.7f",
          model, end_to_end_cases[__i__ / 3].props, photo, i, sc, ref);
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


static Suite *
deitclassify_errors_suite (void)
{
  Suite *s = suite_create ("deitclassify-errors");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_errors, 0, G_N_ELEMENTS (error_cases));
  tcase_add_test (tc, test_caps_refused);
  tcase_add_test (tc, test_labels_file_property);
  tcase_add_test (tc, test_caps_refused_says_videoconvert);
  tcase_add_test (tc, test_non_finite_logits_warn_once);
  tcase_add_test (tc, test_caps_refused_downstream_not_blamed);
#if HAVE_TEST_IMAGES
  tcase_add_loop_test (tc, test_end_to_end_reference, 0,
      3 * G_N_ELEMENTS (end_to_end_cases));
#endif
  return s;
}

GST_CHECK_MAIN (deitclassify_errors);
