/* gstdeitjsonenc.c - one line of JSON per classified video frame.
 *
 * Limits: reads GstDeitClassifyMeta only (not other ROI metas; with -Danalytics, on
 * frames without one, the GstAnalyticsClsMtd results, see gstdeitclassifyanalytics.c); never touches the
 * pixels, so it accepts raw video in any format and memory.
 */

/**
 * SECTION:element-deitjsonenc
 * @title: deitjsonenc
 *
 * Turns the video buffers classified by `deitclassify` into newline-delimited JSON
 * (JSON Lines): one output buffer per frame, holding one JSON object and a
 * terminating `\n`, with the PTS and duration of the frame. Output caps are
 * `text/x-json, format=deitclassify`, which `filesink`, `fdsink` and `appsink` take.
 *
 * Each object has:
 *
 * - `frame` (int): index of the frame among those deitclassify has seen (the meta's
 *   frame_number; for frames without a meta, this element's own count);
 * - `pts`, `duration`, `stream_time` (int, nanoseconds, or null when unknown);
 * - `inference_pts` (int ns or null): PTS of the frame the inference ran on;
 * - `model` (string or null), `fresh` (bool): %FALSE when the result was carried
 *   over from an earlier frame (deitclassify's interval > 1);
 * - `results`: the full-frame top-k, most probable first, each
 *   `{"class_id": int, "label": string or null, "score": probability}`;
 * - `other_models` (only on frames that have them): the full-frame results of
 *   further models, when several deitclassify elements classify the same frames,
 *   each `{"model", "fresh", "inference_pts", "results": [...]}`, in the order the
 *   elements attached them. `model`, `fresh`, `inference_pts` and `results` above
 *   hold the first full-frame result on the frame: normally the first element's,
 *   but a model without a result on that frame (async, before its first inference)
 *   leaves the place to the next;
 * - `rois`: one object per classified region, `{"roi_id", "x", "y", "width",
 *   "height", "model", "fresh", "results": [...]}` (empty list when there are none).
 *
 * Frames without a classification meta produce no line (a GAP event with their
 * timestamps instead, so that a sink prerolls) unless
 * #GstDeitJsonEnc:add-empty-results is set (then `results` is empty, `model`
 * is null and `fresh` false). #GstDeitJsonEnc:fresh-only drops the lines of
 * carried-over results, so with `interval=N` one line is written per N frames
 * (with `async=true`: one per result, on the first frame that carries it).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=video.webm ! decodebin ! videoconvert ! \
 *     deitclassify model=/path/to/deit-tiny ! deitjsonenc ! \
 *     filesink location=video.webm.tags.jsonl
 * ]|
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "gstdeitjsonenc.h"
#include "gstdeitclassifymeta.h"
#ifdef HAVE_GST_ANALYTICS
#include "gstdeitclassifyanalytics.h"
#endif

GST_DEBUG_CATEGORY_STATIC (deit_json_enc_debug);
#define GST_CAT_DEFAULT deit_json_enc_debug

#define DEFAULT_PROP_ADD_EMPTY_RESULTS FALSE
#define DEFAULT_PROP_FRESH_ONLY FALSE

enum
{
  PROP_0,
  PROP_ADD_EMPTY_RESULTS,
  PROP_FRESH_ONLY,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw(ANY)"));

/* like the codec2json elements of gst-plugins-bad ("text/x-json,format=h264"):
 * the format names the schema; each buffer is one line */
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-json, format=(string)deitclassify"));

struct _GstDeitJsonEnc
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, under the object lock */
  gboolean add_empty_results;
  gboolean fresh_only;

  /* streaming thread */
  GstSegment segment;
  guint64 n_frames;             /* buffers seen since READY -> PAUSED (flushes keep counting) */
  GstClockTime last_inference_pts;      /* of the last line's result (fresh-only) */
  gint width, height;           /* of the video caps; 0 when they do not say */
};

#define gst_deit_json_enc_parent_class parent_class
G_DEFINE_TYPE (GstDeitJsonEnc, gst_deit_json_enc, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (deitjsonenc, "deitjsonenc", GST_RANK_NONE,
    GST_TYPE_DEIT_JSON_ENC);

/* ------------------------------------------------------------------------ */
/* building the JSON */

static void
add_time (JsonBuilder * b, const gchar * name, GstClockTime t)
{
  json_builder_set_member_name (b, name);
  if (GST_CLOCK_TIME_IS_VALID (t))
    json_builder_add_int_value (b, (gint64) t);
  else
    json_builder_add_null_value (b);
}

/* A string value that is valid JSON whatever the application put in the meta:
 * invalid UTF-8 becomes U+FFFD (g_utf8_make_valid), and so does U+001F, which
 * json-glib 1.6 (Debian 12) writes unescaped (it escapes the other C0 controls
 * as \u00XX), which would make the line unparseable. NULL gives null. */
static void
add_string (JsonBuilder * b, const gchar * s)
{
  gchar *valid, *p;
  GString *out;

  if (s == NULL) {
    json_builder_add_null_value (b);
    return;
  }
  if (g_utf8_validate (s, -1, NULL) && !strchr (s, 0x1f)) {
    json_builder_add_string_value (b, s);
    return;
  }
  valid = g_utf8_make_valid (s, -1);
  out = g_string_sized_new (strlen (valid) + 8);
  for (p = valid; *p; p++) {
    if (*p == 0x1f)
      g_string_append (out, "\xef\xbf\xbd");
    else
      g_string_append_c (out, *p);
  }
  json_builder_add_string_value (b, out->str);
  g_string_free (out, TRUE);
  g_free (valid);
}

static void
add_results (JsonBuilder * b, const GstDeitClassifyMeta * meta)
{
  guint i;

  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  for (i = 0; meta && i < meta->n_results; i++) {
    const GstDeitClassification *r = &meta->results[i];

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "class_id");
    json_builder_add_int_value (b, r->class_id);
    json_builder_set_member_name (b, "label");
    add_string (b, r->label);
    json_builder_set_member_name (b, "score");
    /* JSON has no NaN or infinity (json-glib would write "nan.0"): null keeps the
     * line valid for a meta that some other code filled with one */
    if (isfinite (r->score))
      json_builder_add_double_value (b, r->score);
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* the region in pixels of this element's frames (a scaler upstream may have copied
 * the meta, rectangle and all) */
static void
add_roi (JsonBuilder * b, const GstDeitClassifyMeta * meta, gint frame_w,
    gint frame_h)
{
  guint x, y, w, h;

  gst_deit_classify_meta_get_rectangle (meta, frame_w, frame_h, &x, &y, &w, &h);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "roi_id");
  json_builder_add_int_value (b, meta->roi_id);
  json_builder_set_member_name (b, "x");
  json_builder_add_int_value (b, x);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, y);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, h);
  json_builder_set_member_name (b, "model");
  add_string (b, meta->model_name);
  json_builder_set_member_name (b, "fresh");
  json_builder_add_boolean_value (b, meta->fresh);
  add_results (b, meta);
  json_builder_end_object (b);
}

/* fresh-only: whether @meta is a result no line had yet. That is a frame the inference
 * ran on (fresh), or, since with deitclassify async=true the inference never runs on
 * the frame that carries its result (no frame is fresh), the first frame carrying the
 * result of another frame's inference. */
static gboolean
is_new_result (GstDeitJsonEnc * self, const GstDeitClassifyMeta * meta)
{
  if (meta == NULL)
    return FALSE;
  return meta->fresh || (GST_CLOCK_TIME_IS_VALID (meta->inference_pts) &&
      meta->inference_pts != self->last_inference_pts);
}

/* Whether any classification of @buf ran on it: with only regions classified, each
 * tracked object has its own reclassify schedule, so the first region (the frame's
 * main meta) may carry its result while another is new. */
static gboolean
any_fresh (GstBuffer * buf)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE)))
    if (((GstDeitClassifyMeta *) m)->fresh)
      return TRUE;
  return FALSE;
}

/* Returns the line for @buf (with its '\n'), or NULL when no line is due. */
static gchar *
build_line (GstDeitJsonEnc * self, GstBuffer * buf, gboolean add_empty,
    gboolean fresh_only)
{
  /* the full-frame meta, else the first meta (whose model and freshness stand for
   * the frame when only regions were classified), else NULL */
  GstDeitClassifyMeta *main_meta = gst_buffer_get_deit_classify_meta (buf);
  gboolean has_full_frame = main_meta && main_meta->roi_id < 0;
  JsonBuilder *b;
  JsonGenerator *gen;
  JsonNode *root;
  GstClockTime pts = GST_BUFFER_PTS (buf), stream_time = GST_CLOCK_TIME_NONE;
  gpointer state = NULL;
  GstMeta *m;
  gboolean in_other;
  gchar *json, *line;

  if (main_meta == NULL && !add_empty)
    return NULL;
  if (fresh_only && !is_new_result (self, main_meta)
      && !(main_meta && main_meta->roi_id >= 0 && any_fresh (buf)))
    return NULL;
  if (main_meta)
    self->last_inference_pts = main_meta->inference_pts;

  if (GST_CLOCK_TIME_IS_VALID (pts) && self->segment.format == GST_FORMAT_TIME)
    stream_time = gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME,
        pts);

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "frame");
  json_builder_add_int_value (b, main_meta ? (gint64) main_meta->frame_number :
      (gint64) self->n_frames);
  add_time (b, "pts", pts);
  add_time (b, "duration", GST_BUFFER_DURATION (buf));
  add_time (b, "stream_time", stream_time);
  add_time (b, "inference_pts", main_meta ? main_meta->inference_pts :
      GST_CLOCK_TIME_NONE);
  json_builder_set_member_name (b, "model");
  add_string (b, main_meta ? main_meta->model_name : NULL);
  json_builder_set_member_name (b, "fresh");
  json_builder_add_boolean_value (b, main_meta ? main_meta->fresh : FALSE);
  add_results (b, has_full_frame ? main_meta : NULL);

  /* the full-frame results of further models (deitclassify elements in a chain): a
   * list, present only on frames that have them */
  in_other = FALSE;
  while (has_full_frame && (m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;

    if (meta->roi_id >= 0 || meta == main_meta)
      continue;
    if (!in_other) {
      json_builder_set_member_name (b, "other_models");
      json_builder_begin_array (b);
      in_other = TRUE;
    }
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "model");
    add_string (b, meta->model_name);
    json_builder_set_member_name (b, "fresh");
    json_builder_add_boolean_value (b, meta->fresh);
    add_time (b, "inference_pts", meta->inference_pts);
    add_results (b, meta);
    json_builder_end_object (b);
  }
  if (in_other)
    json_builder_end_array (b);
  state = NULL;

  json_builder_set_member_name (b, "rois");
  json_builder_begin_array (b);
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;

    if (meta->roi_id >= 0)
      add_roi (b, meta, self->width, self->height);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);
  line = g_strconcat (json, "\n", NULL);

  g_free (json);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return line;
}

/* ------------------------------------------------------------------------ */
/* pads */

static GstFlowReturn
gst_deit_json_enc_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstDeitJsonEnc *self = GST_DEIT_JSON_ENC (parent);
  gboolean add_empty, fresh_only;
  GstBuffer *out;
  gchar *line;
  gsize len;

  GST_OBJECT_LOCK (self);
  add_empty = self->add_empty_results;
  fresh_only = self->fresh_only;
  GST_OBJECT_UNLOCK (self);

#ifdef HAVE_GST_ANALYTICS
  /* no GstDeitClassifyMeta: the frame's GstAnalytics classifications instead */
  if (!gst_buffer_get_deit_classify_meta (buf)) {
    GstBuffer *results = gst_buffer_new ();

    GST_BUFFER_PTS (results) = GST_BUFFER_PTS (buf);
    GST_BUFFER_DURATION (results) = GST_BUFFER_DURATION (buf);
    /* boxes clipped to the frame, as our own regions and deitoverlay's are */
    gst_deit_analytics_to_metas (buf, results, self->width, self->height,
        self->n_frames);
    line = build_line (self, results, add_empty, fresh_only);
    gst_buffer_unref (results);
  } else
#endif
    line = build_line (self, buf, add_empty, fresh_only);
  self->n_frames++;
  if (line == NULL) {
    GstClockTime pts = GST_BUFFER_PTS (buf);
    GstClockTime duration = GST_BUFFER_DURATION (buf);

    GST_LOG_OBJECT (self, "no line for %" GST_PTR_FORMAT, buf);
    gst_buffer_unref (buf);
    /* a gap instead: a sink downstream prerolls on it (a non-live pipeline whose
     * first frames have no result, e.g. roi-list without boxes or async before
     * its first inference, would otherwise never leave PAUSED), and knows the
     * stream time moved on */
    if (GST_CLOCK_TIME_IS_VALID (pts))
      gst_pad_push_event (self->srcpad, gst_event_new_gap (pts, duration));
    return GST_FLOW_OK;
  }

  len = strlen (line);
  out = gst_buffer_new_wrapped (line, len);
  GST_BUFFER_PTS (out) = GST_BUFFER_PTS (buf);
  GST_BUFFER_DTS (out) = GST_BUFFER_DTS (buf);
  GST_BUFFER_DURATION (out) = GST_BUFFER_DURATION (buf);
  GST_BUFFER_OFFSET (out) = GST_BUFFER_OFFSET (buf);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
  gst_buffer_unref (buf);

  GST_LOG_OBJECT (self, "line of %" G_GSIZE_FORMAT " bytes", len);
  return gst_pad_push (self->srcpad, out);
}

static gboolean
gst_deit_json_enc_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstDeitJsonEnc *self = GST_DEIT_JSON_ENC (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps = gst_static_pad_template_get_caps (&src_template), *in;
      GstStructure *s;
      gboolean ret;

      gst_event_parse_caps (event, &in);
      s = gst_caps_get_size (in) > 0 ? gst_caps_get_structure (in, 0) : NULL;
      if (!s || !gst_structure_get_int (s, "width", &self->width) ||
          !gst_structure_get_int (s, "height", &self->height))
        self->width = self->height = 0;

      /* the video caps stop here; downstream gets our fixed text caps */
      gst_event_unref (event);
      ret = gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
      gst_caps_unref (caps);
      return ret;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      GST_DEBUG_OBJECT (self, "segment %" GST_SEGMENT_FORMAT, &self->segment);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
      self->last_inference_pts = GST_CLOCK_TIME_NONE;
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_deit_json_enc_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_ALLOCATION:
      /* buffers end here (only their metas are read): upstream may allocate
       * as it likes; the text-only downstream has nothing to say about video */
      gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
      return TRUE;
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps = gst_pad_get_pad_template_caps (pad);

      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static GstStateChangeReturn
gst_deit_json_enc_change_state (GstElement * element, GstStateChange transition)
{
  GstDeitJsonEnc *self = GST_DEIT_JSON_ENC (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
    self->n_frames = 0;
    self->last_inference_pts = GST_CLOCK_TIME_NONE;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_deit_json_enc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDeitJsonEnc *self = GST_DEIT_JSON_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADD_EMPTY_RESULTS:
      self->add_empty_results = g_value_get_boolean (value);
      break;
    case PROP_FRESH_ONLY:
      self->fresh_only = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_deit_json_enc_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDeitJsonEnc *self = GST_DEIT_JSON_ENC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADD_EMPTY_RESULTS:
      g_value_set_boolean (value, self->add_empty_results);
      break;
    case PROP_FRESH_ONLY:
      g_value_set_boolean (value, self->fresh_only);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_deit_json_enc_class_init (GstDeitJsonEncClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (deit_json_enc_debug, "deitjsonenc", 0,
      "DeiT classification to JSON lines");

  gobject_class->set_property = gst_deit_json_enc_set_property;
  gobject_class->get_property = gst_deit_json_enc_get_property;

  /**
   * GstDeitJsonEnc:add-empty-results:
   *
   * Also write a line (empty `results`, `model` null, `fresh` false) for frames
   * that carry no classification meta, so every frame has a line.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ADD_EMPTY_RESULTS,
      g_param_spec_boolean ("add-empty-results", "Add empty results",
          "Write a line with empty results for frames without a classification",
          DEFAULT_PROP_ADD_EMPTY_RESULTS, flags));
  /**
   * GstDeitJsonEnc:fresh-only:
   *
   * Write one line per result: for the frames the inference ran on (fresh = TRUE),
   * dropping the frames that carry a result over from an earlier frame
   * (interval > 1). With deitclassify async=true, where the inference never runs
   * on the frame that carries its result, the first frame carrying each new result
   * (a new inference_pts) gets the line.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FRESH_ONLY,
      g_param_spec_boolean ("fresh-only", "Fresh only",
          "One line per result: only frames that were classified themselves "
          "(drop results carried over by interval > 1); with async=true, the "
          "first frame carrying each new result",
          DEFAULT_PROP_FRESH_ONLY, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "DeiT classification to JSON lines", "Encoder/Metadata",
      "Writes one JSON object per classified video frame (newline-delimited JSON)",
      "gst-deit developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_deit_json_enc_change_state);
}

static void
gst_deit_json_enc_init (GstDeitJsonEnc * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_deit_json_enc_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_deit_json_enc_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_deit_json_enc_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->add_empty_results = DEFAULT_PROP_ADD_EMPTY_RESULTS;
  self->fresh_only = DEFAULT_PROP_FRESH_ONLY;
  self->last_inference_pts = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
}
