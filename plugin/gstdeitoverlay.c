/* gstdeitoverlay.c - draws the results of deitclassify on the video.
 *
 * Text and shapes are drawn with Pango/Cairo into premultiplied ARGB patches the size
 * of what is drawn (panel, label tag, box edges) and blended into the frame in its own
 * format: RGB directly, YUV by converting each patch pixel with the frame's matrix and
 * range (subsampled chroma takes the mean over its block), so no videoconvert is needed
 * and pixels outside the patches are never written.
 *
 * Limits: draws what GstDeitClassifyMeta carries (with -Danalytics, on frames without
 * one: the GstAnalyticsClsMtd results, see gstdeitclassifyanalytics.c) and nothing else
 * (no tracking, no history); 8-bit formats only; the patches are redrawn only when the drawn text
 * changes, so a result carried over by `interval` costs one blend per frame.
 */

/**
 * SECTION:element-deitoverlay
 * @title: deitoverlay
 *
 * Draws the classification results that `deitclassify` attached to the buffers
 * (#GstDeitClassifyMeta):
 *
 * - the full-frame result as a panel in a corner: the model name, then one row per
 *   class of the top-k with its label, its probability in percent and a bar whose
 *   length is the probability; with several deitclassify elements in a chain, one
 *   panel per model, stacked from the corner in the order they ran (as many as fit);
 * - each result of a region of interest (roi_id >= 0) as a box around the region
 *   with the top-1 label and probability above it.
 *
 * Text is real text (Pango/Cairo) on a semi-transparent background, so it stays
 * legible on any picture, and its size follows the frame height unless
 * #GstDeitOverlay:font-desc gives a size. The panel is rendered into an ARGB surface
 * the size of the panel only and blended into the frame in the frame's own format
 * (RGB and YUV formats, no conversion needed): YUV frames get the panel's colours
 * converted with their own colour matrix and range. Pixels outside the drawn regions
 * are not modified, and buffers without a meta pass unchanged.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=video.webm ! decodebin ! videoconvert ! \
 *     deitclassify model=/path/to/deit-tiny ! deitoverlay corner=top-right ! \
 *     videoconvert ! autovideosink
 * ]|
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <cairo.h>
#include <pango/pangocairo.h>

#include "gstdeitoverlay.h"
#include "gstdeitoverlaydraw.h"
#include "gstdeitclassifymeta.h"
#ifdef HAVE_GST_ANALYTICS
#include "gstdeitclassifyanalytics.h"
#endif

GST_DEBUG_CATEGORY_STATIC (deit_overlay_debug);
#define GST_CAT_DEFAULT deit_overlay_debug

#define DEFAULT_PROP_CORNER GST_DEIT_OVERLAY_CORNER_TOP_LEFT
#define DEFAULT_PROP_FONT_DESC GST_DEIT_OVERLAY_DEFAULT_FONT
#define DEFAULT_PROP_MAX_RESULTS 5
#define DEFAULT_PROP_SHOW_SCORES TRUE
#define DEFAULT_PROP_SHOW_STALE TRUE
#define DEFAULT_PROP_TEXT_COLOR 0xffffffff
#define DEFAULT_PROP_BACKGROUND_COLOR 0xb4000000
#define DEFAULT_PROP_BOX_COLOR 0xffffb300

enum
{
  PROP_0,
  PROP_CORNER,
  PROP_FONT_DESC,
  PROP_MAX_RESULTS,
  PROP_SHOW_SCORES,
  PROP_SHOW_STALE,
  PROP_TEXT_COLOR,
  PROP_BACKGROUND_COLOR,
  PROP_BOX_COLOR,
};

/* 8-bit RGB family, planar and semi-planar 4:2:0, 4:2:2, 4:4:4, packed 4:2:2 and
 * AYUV: gst_deit_patch_blend() handles any 8-bit format described by GstVideoFormatInfo */
#define OVERLAY_FORMATS "{ RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, RGB, BGR, " \
    "I420, YV12, NV12, NV21, Y42B, Y444, YUY2, UYVY, AYUV }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));

struct _GstDeitOverlay
{
  GstVideoFilter parent;

  /* properties, under the object lock; settings.cookie is bumped by every property
   * change, settings.font_desc is owned */
  GstDeitDrawSettings settings;

  /* streaming thread only */
  PangoFontMap *font_map;
  PangoContext *pango_context;
  GArray *patches;              /* of GstDeitPatch: the last drawing, reused while */
  gchar *patches_key;           /* ... the text and boxes stay the same */
};

GType
gst_deit_overlay_corner_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DEIT_OVERLAY_CORNER_TOP_LEFT, "Top left", "top-left"},
    {GST_DEIT_OVERLAY_CORNER_TOP_RIGHT, "Top right", "top-right"},
    {GST_DEIT_OVERLAY_CORNER_BOTTOM_LEFT, "Bottom left", "bottom-left"},
    {GST_DEIT_OVERLAY_CORNER_BOTTOM_RIGHT, "Bottom right", "bottom-right"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDeitOverlayCorner", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define gst_deit_overlay_parent_class parent_class
G_DEFINE_TYPE (GstDeitOverlay, gst_deit_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (deitoverlay, "deitoverlay", GST_RANK_NONE,
    GST_TYPE_DEIT_OVERLAY);

/* ------------------------------------------------------------------------ */
/* per frame */

static void
snapshot_settings (GstDeitOverlay * self, GstDeitDrawSettings * s)
{
  GST_OBJECT_LOCK (self);
  *s = self->settings;
  s->font_desc = g_strdup (self->settings.font_desc);
  GST_OBJECT_UNLOCK (self);
}

static void
ensure_pango (GstDeitOverlay * self)
{
  if (self->pango_context)
    return;
  self->font_map = pango_cairo_font_map_new ();
  self->pango_context = pango_font_map_create_context (self->font_map);
  /* 72 dpi: a font size of N points is N pixels, so sizes follow the frame */
  pango_cairo_context_set_resolution (self->pango_context, 72.0);
  {
    cairo_font_options_t *opts = cairo_font_options_create ();

    cairo_font_options_set_antialias (opts, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_metrics (opts, CAIRO_HINT_METRICS_ON);
    pango_cairo_context_set_font_options (self->pango_context, opts);
    cairo_font_options_destroy (opts);
  }
}

static void
clear_cache (GstDeitOverlay * self)
{
  if (self->patches)
    g_array_set_size (self->patches, 0);
  g_clear_pointer (&self->patches_key, g_free);
}

static GstFlowReturn
gst_deit_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstDeitOverlay *self = GST_DEIT_OVERLAY (filter);
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  GstDeitDrawSettings s;
  gchar *key;
  guint i;

  GstBuffer *results = frame->buffer;

  snapshot_settings (self, &s);
#ifdef HAVE_GST_ANALYTICS
  /* no GstDeitClassifyMeta: draw the frame's GstAnalytics classifications instead */
  if (!gst_buffer_get_deit_classify_meta (frame->buffer)) {
    results = gst_buffer_new ();
    GST_BUFFER_PTS (results) = GST_BUFFER_PTS (frame->buffer);
    gst_deit_analytics_to_metas (frame->buffer, results, w, h, 0);
  }
#endif
  key = gst_deit_overlay_make_key (results, &s, w, h);
  if (key == NULL) {
    GST_LOG_OBJECT (self, "nothing to draw on %" GST_PTR_FORMAT, frame->buffer);
    g_free (s.font_desc);
    if (results != frame->buffer)
      gst_buffer_unref (results);
    return GST_FLOW_OK;
  }

  if (self->patches_key == NULL || strcmp (key, self->patches_key)) {
    clear_cache (self);
    ensure_pango (self);
    gst_deit_overlay_build_patches (self->pango_context, results, &s, w,
        h, self->patches);
    self->patches_key = key;
    GST_LOG_OBJECT (self, "redrawn: %s", key);
  } else {
    g_free (key);
  }

  for (i = 0; i < self->patches->len; i++) {
    GstDeitPatch *p = &g_array_index (self->patches, GstDeitPatch, i);

    if (p->n_conv == 0)
      gst_deit_patch_convert (&frame->info, p);
    gst_deit_patch_blend (frame, p);
  }
  if (results != frame->buffer)
    gst_buffer_unref (results);
  g_free (s.font_desc);
  return GST_FLOW_OK;
}

/* Control bindings (the properties are GST_PARAM_CONTROLLABLE): bring the properties
 * to their values at the buffer's stream time, as videobalance and textoverlay do;
 * GstBaseTransform does not do it by itself. A changed value bumps settings.cookie
 * in set_property, so the next frame is redrawn. */
static void
gst_deit_overlay_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  GstClockTime stream_time;

  stream_time = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_TIMESTAMP (buf));
  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    gst_object_sync_values (GST_OBJECT (trans), stream_time);
}

/* New caps: the cached patches were converted for the old format and size. */
static gboolean
gst_deit_overlay_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstDeitOverlay *self = GST_DEIT_OVERLAY (filter);

  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT, incaps);
  clear_cache (self);
  return TRUE;
}

static gboolean
gst_deit_overlay_stop (GstBaseTransform * trans)
{
  GstDeitOverlay *self = GST_DEIT_OVERLAY (trans);

  clear_cache (self);
  g_clear_object (&self->pango_context);
  g_clear_object (&self->font_map);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_deit_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDeitOverlay *self = GST_DEIT_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CORNER:
      self->settings.corner = g_value_get_enum (value);
      break;
    case PROP_FONT_DESC:
      g_free (self->settings.font_desc);
      self->settings.font_desc = g_value_dup_string (value);
      break;
    case PROP_MAX_RESULTS:
      self->settings.max_results = g_value_get_uint (value);
      break;
    case PROP_SHOW_SCORES:
      self->settings.show_scores = g_value_get_boolean (value);
      break;
    case PROP_SHOW_STALE:
      self->settings.show_stale = g_value_get_boolean (value);
      break;
    case PROP_TEXT_COLOR:
      self->settings.text_color = g_value_get_uint (value);
      break;
    case PROP_BACKGROUND_COLOR:
      self->settings.background_color = g_value_get_uint (value);
      break;
    case PROP_BOX_COLOR:
      self->settings.box_color = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->settings.cookie++;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_deit_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDeitOverlay *self = GST_DEIT_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CORNER:
      g_value_set_enum (value, self->settings.corner);
      break;
    case PROP_FONT_DESC:
      g_value_set_string (value, self->settings.font_desc);
      break;
    case PROP_MAX_RESULTS:
      g_value_set_uint (value, self->settings.max_results);
      break;
    case PROP_SHOW_SCORES:
      g_value_set_boolean (value, self->settings.show_scores);
      break;
    case PROP_SHOW_STALE:
      g_value_set_boolean (value, self->settings.show_stale);
      break;
    case PROP_TEXT_COLOR:
      g_value_set_uint (value, self->settings.text_color);
      break;
    case PROP_BACKGROUND_COLOR:
      g_value_set_uint (value, self->settings.background_color);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint (value, self->settings.box_color);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_deit_overlay_finalize (GObject * object)
{
  GstDeitOverlay *self = GST_DEIT_OVERLAY (object);

  clear_cache (self);
  g_array_unref (self->patches);
  g_clear_object (&self->pango_context);
  g_clear_object (&self->font_map);
  g_free (self->settings.font_desc);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_deit_overlay_class_init (GstDeitOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_CONTROLLABLE | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (deit_overlay_debug, "deitoverlay", 0,
      "DeiT classification overlay");

  gobject_class->set_property = gst_deit_overlay_set_property;
  gobject_class->get_property = gst_deit_overlay_get_property;
  gobject_class->finalize = gst_deit_overlay_finalize;

  /**
   * GstDeitOverlay:corner:
   *
   * Corner of the frame where the panel with the full-frame results goes.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CORNER,
      g_param_spec_enum ("corner", "Corner",
          "Corner of the frame for the panel with the full-frame results",
          GST_TYPE_DEIT_OVERLAY_CORNER, DEFAULT_PROP_CORNER, flags));
  /**
   * GstDeitOverlay:font-desc:
   *
   * Pango font description. Without a size the text height follows the frame
   * (1/20 of its height, at least 10 px); a size given here is in pixels.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FONT_DESC,
      g_param_spec_string ("font-desc", "Font description",
          "Pango font description, e.g. \"Sans Bold\" or \"Serif 24\"; without a "
          "size, the size follows the frame height (height/20, min 10 px); a "
          "size is in pixels", DEFAULT_PROP_FONT_DESC,
          /* no control binding takes a string */
          flags & ~GST_PARAM_CONTROLLABLE));
  /**
   * GstDeitOverlay:max-results:
   *
   * How many of the top-k results of the meta the panel shows.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RESULTS,
      g_param_spec_uint ("max-results", "Max results",
          "How many of the top-k results to show in the panel (1-100)",
          1, 100, DEFAULT_PROP_MAX_RESULTS, flags));
  /**
   * GstDeitOverlay:show-scores:
   *
   * Whether probabilities are printed in percent next to the labels.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_SCORES,
      g_param_spec_boolean ("show-scores", "Show scores",
          "Print the probability in percent next to each label",
          DEFAULT_PROP_SHOW_SCORES, flags));
  /**
   * GstDeitOverlay:show-stale:
   *
   * Whether results carried over from an earlier frame (fresh = FALSE, with
   * deitclassify's interval > 1) are drawn; the panel header then says
   * "(earlier frame)". When FALSE only frames that were classified are annotated.
   * With deitclassify async=true every result is from an earlier frame (the frame
   * it ran on has left the element when it is ready): keep this TRUE there.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_STALE,
      g_param_spec_boolean ("show-stale", "Show stale",
          "Also draw results carried over from an earlier frame (fresh=FALSE)",
          DEFAULT_PROP_SHOW_STALE, flags));
  /**
   * GstDeitOverlay:text-color:
   *
   * Text colour, 0xAARRGGBB.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TEXT_COLOR,
      g_param_spec_uint ("text-color", "Text color",
          "Colour of the text as 0xAARRGGBB", 0, G_MAXUINT32,
          DEFAULT_PROP_TEXT_COLOR, flags));
  /**
   * GstDeitOverlay:background-color:
   *
   * Colour of the panel and label backgrounds, 0xAARRGGBB; semi-transparent
   * black by default so white text reads on any picture.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BACKGROUND_COLOR,
      g_param_spec_uint ("background-color", "Background color",
          "Colour of the panel and label background as 0xAARRGGBB",
          0, G_MAXUINT32, DEFAULT_PROP_BACKGROUND_COLOR, flags));
  /**
   * GstDeitOverlay:box-color:
   *
   * Colour of region boxes and probability bars, 0xAARRGGBB.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BOX_COLOR,
      g_param_spec_uint ("box-color", "Box color",
          "Colour of region boxes and probability bars as 0xAARRGGBB",
          0, G_MAXUINT32, DEFAULT_PROP_BOX_COLOR, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "DeiT classification overlay", "Filter/Editor/Video",
      "Draws deitclassify results (top-k panel, region boxes) on the video",
      "gst-deit developers");

  trans_class->stop = GST_DEBUG_FUNCPTR (gst_deit_overlay_stop);
  trans_class->before_transform =
      GST_DEBUG_FUNCPTR (gst_deit_overlay_before_transform);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_deit_overlay_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_deit_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_DEIT_OVERLAY_CORNER, 0);
}

static void
gst_deit_overlay_init (GstDeitOverlay * self)
{
  self->settings.corner = DEFAULT_PROP_CORNER;
  self->settings.font_desc = g_strdup (DEFAULT_PROP_FONT_DESC);
  self->settings.max_results = DEFAULT_PROP_MAX_RESULTS;
  self->settings.show_scores = DEFAULT_PROP_SHOW_SCORES;
  self->settings.show_stale = DEFAULT_PROP_SHOW_STALE;
  self->settings.text_color = DEFAULT_PROP_TEXT_COLOR;
  self->settings.background_color = DEFAULT_PROP_BACKGROUND_COLOR;
  self->settings.box_color = DEFAULT_PROP_BOX_COLOR;
  self->patches = g_array_new (FALSE, FALSE, sizeof (GstDeitPatch));
  g_array_set_clear_func (self->patches, gst_deit_patch_clear);
}
