/* gstdeitoverlay.c - draws the results of deitclassify on the video.
 *
 * Text and shapes are drawn with Pango/Cairo into premultiplied ARGB patches the size
 * of what is drawn (panel, label tag, box edges) and blended into the frame in its own
 * format: RGB directly, YUV by converting each patch pixel with the frame's matrix and
 * range (subsampled chroma takes the mean over its block), so no videoconvert is needed
 * and pixels outside the patches are never written. The blending is its own unit,
 * gstdeitoverlayblend.c; this file draws the patches and is the element.
 *
 * Limits: draws what GstDeitClassifyMeta carries and nothing else (no tracking, no
 * history); 8-bit formats only; the patches are redrawn only when the drawn text
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
 *   length is the probability;
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
#include "gstdeitoverlayblend.h"
#include "gstdeitclassifymeta.h"

GST_DEBUG_CATEGORY_STATIC (deit_overlay_debug);
#define GST_CAT_DEFAULT deit_overlay_debug

#define DEFAULT_PROP_CORNER GST_DEIT_OVERLAY_CORNER_TOP_LEFT
#define DEFAULT_PROP_FONT_DESC "Sans Bold"
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
 * AYUV: gst_deit_overlay_patch_blend() handles any 8-bit format described by
 * GstVideoFormatInfo */
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

  /* properties, under the object lock */
  GstDeitOverlayCorner corner;
  gchar *font_desc;
  guint max_results;
  gboolean show_scores;
  gboolean show_stale;
  guint32 text_color;
  guint32 background_color;
  guint32 box_color;
  guint settings_cookie;        /* bumped by every property change */

  /* streaming thread only */
  PangoFontMap *font_map;
  PangoContext *pango_context;
  GArray *patches;              /* of Patch: the last drawing, reused while */
  gchar *patches_key;           /* ... the text and boxes stay the same */
};

/* A copy of the properties taken once per frame, so drawing runs without the lock. */
typedef struct
{
  GstDeitOverlayCorner corner;
  gchar *font_desc;
  guint max_results;
  gboolean show_scores;
  gboolean show_stale;
  guint32 text_color;
  guint32 background_color;
  guint32 box_color;
  guint cookie;
} DrawSettings;

/* A cairo context drawing into a new Patch. */
typedef struct
{
  Patch patch;
  cairo_surface_t *surface;
  cairo_t *cr;
} Canvas;

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
/* drawing helpers */

static void
set_source_argb (cairo_t * cr, guint32 argb, gdouble alpha_scale)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0,
      ((argb >> 24) & 0xff) / 255.0 * alpha_scale);
}

static gboolean
canvas_init (Canvas * c, gint width, gint height)
{
  gint stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, width);

  memset (c, 0, sizeof (*c));
  if (width <= 0 || height <= 0 || stride <= 0)
    return FALSE;
  c->patch.width = width;
  c->patch.height = height;
  c->patch.stride = stride;
  c->patch.data = g_malloc0 ((gsize) stride * height);
  c->surface = cairo_image_surface_create_for_data (c->patch.data,
      CAIRO_FORMAT_ARGB32, width, height, stride);
  c->cr = cairo_create (c->surface);
  return TRUE;
}

/* Finishes drawing and appends the canvas, to go at (x, y) of the frame. */
static void
canvas_finish (Canvas * c, GArray * patches, gint x, gint y)
{
  cairo_destroy (c->cr);
  cairo_surface_flush (c->surface);
  cairo_surface_destroy (c->surface);
  c->patch.x = x;
  c->patch.y = y;
  g_array_append_val (patches, c->patch);
}

/* A solid rectangle in @argb, clipped to the frame. */
static void
add_solid_rect (GArray * patches, guint32 argb, gint x,
    gint y, gint w, gint h, gint frame_w, gint frame_h)
{
  Canvas c;
  gint x1 = CLAMP (x, 0, frame_w), y1 = CLAMP (y, 0, frame_h);
  gint x2 = CLAMP (x + w, 0, frame_w), y2 = CLAMP (y + h, 0, frame_h);

  if (!canvas_init (&c, x2 - x1, y2 - y1))
    return;
  set_source_argb (c.cr, argb, 1.0);
  cairo_paint (c.cr);
  canvas_finish (&c, patches, x1, y1);
}

static PangoLayout *
new_layout (PangoContext * ctx, const PangoFontDescription * font,
    const gchar * text)
{
  PangoLayout *layout = pango_layout_new (ctx);

  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  return layout;
}

static gint
layout_width (PangoLayout * layout)
{
  gint w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

static gint
layout_height (PangoLayout * layout)
{
  gint w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return h;
}

/* Font for a frame of height @frame_h: the font-desc property, with a size that
 * follows the frame height (1/20 of it, at least 10 px) unless the property names
 * a size; sizes are in pixels (the Pango context runs at 72 dpi). */
static PangoFontDescription *
make_font (const DrawSettings * s, gint frame_h, gdouble scale)
{
  PangoFontDescription *font = pango_font_description_from_string (s->font_desc
      ? s->font_desc : DEFAULT_PROP_FONT_DESC);
  gdouble px;

  if (pango_font_description_get_size (font) > 0)
    px = (gdouble) pango_font_description_get_size (font) / PANGO_SCALE;
  else
    px = MAX (10.0, frame_h / 20.0);
  pango_font_description_set_absolute_size (font, px * scale * PANGO_SCALE);
  return font;
}

static gchar *
format_score (gfloat score)
{
  return g_strdup_printf ("%.1f%%", score * 100.0);
}

/* ------------------------------------------------------------------------ */
/* panel with the full-frame result */

typedef struct
{
  PangoLayout *label;
  PangoLayout *score;           /* NULL without show-scores */
  gfloat value;                 /* < 0: no bar */
} PanelRow;

static void
draw_panel (GstDeitOverlay * self, const GstDeitClassifyMeta * meta,
    const DrawSettings * s, gint frame_w, gint frame_h, GArray * patches)
{
  PangoFontDescription *font = make_font (s, frame_h, 1.0);
  PangoFontDescription *small = make_font (s, frame_h, 0.7);
  gdouble px = (gdouble) pango_font_description_get_size (font) / PANGO_SCALE;
  gint pad = MAX (2, (gint) lround (px * 0.45));
  gint gap = MAX (4, (gint) lround (px * 0.8));
  gint bar_h = MAX (2, (gint) lround (px * 0.2));
  gint row_gap = MAX (1, (gint) lround (px * 0.25));
  gint margin = MAX (2, (gint) lround (px * 0.5));
  guint n_rows = MIN (meta->n_results, s->max_results), i;
  PanelRow *rows = g_new0 (PanelRow, MAX (n_rows, 1));
  PangoLayout *header;
  gchar *header_text;
  gint label_w = 0, score_w = 0, inner_w, max_inner, panel_w, panel_h, x, y;
  gint header_h, text_h = 0;
  Canvas c;

  header_text = g_strdup_printf ("%s%s", meta->model_name ? meta->model_name :
      "deitclassify", meta->fresh ? "" : " (earlier frame)");
  header = new_layout (self->pango_context, small, header_text);
  g_free (header_text);
  header_h = layout_height (header);

  for (i = 0; i < n_rows; i++) {
    const GstDeitClassification *r = &meta->results[i];
    gchar *fallback = NULL;

    if (r->label == NULL)
      fallback = g_strdup_printf ("class %d", r->class_id);
    rows[i].label = new_layout (self->pango_context, font,
        r->label ? r->label : fallback);
    g_free (fallback);
    rows[i].value = CLAMP (r->score, 0.0f, 1.0f);
    if (s->show_scores) {
      gchar *t = format_score (r->score);
      rows[i].score = new_layout (self->pango_context, font, t);
      score_w = MAX (score_w, layout_width (rows[i].score));
      g_free (t);
    }
  }
  if (n_rows == 0) {
    rows[0].label = new_layout (self->pango_context, font, "no result");
    rows[0].value = -1.0f;
    n_rows = 1;
  }
  for (i = 0; i < n_rows; i++) {
    label_w = MAX (label_w, layout_width (rows[i].label));
    text_h = MAX (text_h, layout_height (rows[i].label));
  }

  /* the panel fits the text, at least 8 em wide so the bars mean something, and
   * never wider than the frame: long labels are ellipsized */
  inner_w = label_w + (score_w > 0 ? gap + score_w : 0);
  inner_w = MAX (inner_w, layout_width (header));
  inner_w = MAX (inner_w, (gint) (px * 8));
  max_inner = frame_w - 2 * margin - 2 * pad;
  if (inner_w > max_inner) {
    gint label_max = max_inner - (score_w > 0 ? gap + score_w : 0);

    inner_w = MAX (max_inner, 1);
    for (i = 0; i < n_rows; i++) {
      pango_layout_set_width (rows[i].label, MAX (label_max, 1) * PANGO_SCALE);
      pango_layout_set_ellipsize (rows[i].label, PANGO_ELLIPSIZE_END);
    }
    pango_layout_set_width (header, inner_w * PANGO_SCALE);
    pango_layout_set_ellipsize (header, PANGO_ELLIPSIZE_END);
  }

  panel_w = MIN (inner_w + 2 * pad, frame_w);
  panel_h = pad + header_h + row_gap + n_rows * (text_h + bar_h + row_gap) +
      pad - row_gap;
  panel_h = MIN (panel_h, frame_h);

  x = (s->corner == GST_DEIT_OVERLAY_CORNER_TOP_LEFT ||
      s->corner == GST_DEIT_OVERLAY_CORNER_BOTTOM_LEFT) ? margin :
      frame_w - panel_w - margin;
  y = (s->corner == GST_DEIT_OVERLAY_CORNER_TOP_LEFT ||
      s->corner == GST_DEIT_OVERLAY_CORNER_TOP_RIGHT) ? margin :
      frame_h - panel_h - margin;
  x = MAX (x, 0);
  y = MAX (y, 0);

  if (canvas_init (&c, panel_w, panel_h)) {
    gint ty = pad;

    set_source_argb (c.cr, s->background_color, 1.0);
    cairo_paint (c.cr);

    set_source_argb (c.cr, s->text_color, 0.75);
    cairo_move_to (c.cr, pad, ty);
    pango_cairo_show_layout (c.cr, header);
    ty += header_h + row_gap;

    for (i = 0; i < n_rows; i++) {
      set_source_argb (c.cr, s->text_color, 1.0);
      cairo_move_to (c.cr, pad, ty);
      pango_cairo_show_layout (c.cr, rows[i].label);
      if (rows[i].score) {
        cairo_move_to (c.cr, pad + inner_w - layout_width (rows[i].score), ty);
        pango_cairo_show_layout (c.cr, rows[i].score);
      }
      ty += text_h;
      if (rows[i].value >= 0.0f) {
        /* track in faint text colour, bar in box colour */
        set_source_argb (c.cr, s->text_color, 0.2);
        cairo_rectangle (c.cr, pad, ty, inner_w, bar_h);
        cairo_fill (c.cr);
        set_source_argb (c.cr, s->box_color, 1.0);
        cairo_rectangle (c.cr, pad, ty, inner_w * rows[i].value, bar_h);
        cairo_fill (c.cr);
      }
      ty += bar_h + row_gap;
    }
    canvas_finish (&c, patches, x, y);
  }

  for (i = 0; i < n_rows; i++) {
    g_object_unref (rows[i].label);
    if (rows[i].score)
      g_object_unref (rows[i].score);
  }
  g_free (rows);
  g_object_unref (header);
  pango_font_description_free (font);
  pango_font_description_free (small);
}

/* ------------------------------------------------------------------------ */
/* box and label for a region of interest */

static void
draw_roi (GstDeitOverlay * self, const GstDeitClassifyMeta * meta,
    const DrawSettings * s, gint frame_w, gint frame_h, GArray * patches)
{
  gint bx = MIN ((gint) MIN (meta->x, G_MAXINT / 2), frame_w);
  gint by = MIN ((gint) MIN (meta->y, G_MAXINT / 2), frame_h);
  gint bw = MIN ((gint) MIN (meta->width, G_MAXINT / 2), frame_w - bx);
  gint bh = MIN ((gint) MIN (meta->height, G_MAXINT / 2), frame_h - by);
  gint t = MAX (2, MIN (frame_w, frame_h) / 150);
  PangoFontDescription *font;
  PangoLayout *layout;
  gchar *text, *score = NULL;
  gint pad, tag_w, tag_h, tag_y;
  Canvas c;

  if (bw <= 0 || bh <= 0)
    return;
  t = MIN (t, MIN (bw, bh) / 2 + 1);

  /* four edges, each its own small rectangle so the inside is not blended */
  add_solid_rect (patches, s->box_color, bx, by, bw, t, frame_w, frame_h);
  add_solid_rect (patches, s->box_color, bx, by + bh - t, bw, t, frame_w,
      frame_h);
  add_solid_rect (patches, s->box_color, bx, by + t, t, bh - 2 * t, frame_w,
      frame_h);
  add_solid_rect (patches, s->box_color, bx + bw - t, by + t, t, bh - 2 * t,
      frame_w, frame_h);

  if (meta->n_results == 0)
    return;

  if (s->show_scores)
    score = format_score (meta->results[0].score);
  if (meta->results[0].label)
    text = g_strdup_printf ("%s%s%s", meta->results[0].label, score ? " " : "",
        score ? score : "");
  else
    text = g_strdup_printf ("class %d%s%s", meta->results[0].class_id,
        score ? " " : "", score ? score : "");
  g_free (score);

  font = make_font (s, frame_h, 0.8);
  layout = new_layout (self->pango_context, font, text);
  pad = MAX (2, (gint) lround (pango_font_description_get_size (font) /
          PANGO_SCALE * 0.3));
  if (layout_width (layout) + 2 * pad > frame_w - bx) {
    pango_layout_set_width (layout, MAX (frame_w - bx - 2 * pad,
            1) * PANGO_SCALE);
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  }
  tag_w = MIN (layout_width (layout) + 2 * pad, frame_w - bx);
  tag_h = MIN (layout_height (layout) + 2 * pad, frame_h);
  /* above the box when there is room, else inside its top edge */
  tag_y = by - tag_h >= 0 ? by - tag_h : MIN (by + t, frame_h - tag_h);

  if (canvas_init (&c, tag_w, tag_h)) {
    set_source_argb (c.cr, s->background_color, 1.0);
    cairo_paint (c.cr);
    set_source_argb (c.cr, s->text_color, 1.0);
    cairo_move_to (c.cr, pad, pad);
    pango_cairo_show_layout (c.cr, layout);
    canvas_finish (&c, patches, bx, tag_y);
  }
  g_object_unref (layout);
  pango_font_description_free (font);
  g_free (text);
}

/* ------------------------------------------------------------------------ */
/* per frame */

static gboolean
meta_is_drawn (const GstDeitClassifyMeta * meta, const DrawSettings * s)
{
  return meta->fresh || s->show_stale;
}

/* A string naming everything that would be drawn on this frame, or NULL when
 * nothing is: equal keys give equal drawings, so the patches are reused. */
static gchar *
make_key (GstBuffer * buf, const DrawSettings * s, gint frame_w, gint frame_h)
{
  GString *key = NULL;
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;
    guint i, n;

    if (!meta_is_drawn (meta, s))
      continue;
    if (key == NULL)
      key = g_string_new (NULL);
    g_string_append_printf (key, "%d|%u,%u,%u,%u|%d|%s|", meta->roi_id,
        meta->x, meta->y, meta->width, meta->height, meta->fresh,
        meta->model_name ? meta->model_name : "");
    n = meta->roi_id < 0 ? MIN (meta->n_results, s->max_results) :
        MIN (meta->n_results, 1);
    for (i = 0; i < n; i++)
      g_string_append_printf (key, "%d:%s:%.5f;", meta->results[i].class_id,
          meta->results[i].label ? meta->results[i].label : "",
          meta->results[i].score);
    g_string_append_c (key, '\n');
  }
  if (key == NULL)
    return NULL;
  g_string_append_printf (key, "%dx%d#%u", frame_w, frame_h, s->cookie);
  return g_string_free (key, FALSE);
}

static void
build_patches (GstDeitOverlay * self, GstBuffer * buf,
    const DrawSettings * s, gint frame_w, gint frame_h, GArray * patches)
{
  gpointer state = NULL;
  GstMeta *m;

  /* boxes first, so the panel is drawn on top of them */
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;

    if (meta->roi_id >= 0 && meta_is_drawn (meta, s))
      draw_roi (self, meta, s, frame_w, frame_h, patches);
  }
  state = NULL;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;

    if (meta->roi_id < 0 && meta_is_drawn (meta, s)) {
      draw_panel (self, meta, s, frame_w, frame_h, patches);
      break;                    /* one panel: the first full-frame result */
    }
  }
}

static void
snapshot_settings (GstDeitOverlay * self, DrawSettings * s)
{
  GST_OBJECT_LOCK (self);
  s->corner = self->corner;
  s->font_desc = g_strdup (self->font_desc);
  s->max_results = self->max_results;
  s->show_scores = self->show_scores;
  s->show_stale = self->show_stale;
  s->text_color = self->text_color;
  s->background_color = self->background_color;
  s->box_color = self->box_color;
  s->cookie = self->settings_cookie;
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
  DrawSettings s;
  gchar *key;
  guint i;

  snapshot_settings (self, &s);
  key = make_key (frame->buffer, &s, w, h);
  if (key == NULL) {
    GST_LOG_OBJECT (self, "nothing to draw on %" GST_PTR_FORMAT, frame->buffer);
    g_free (s.font_desc);
    return GST_FLOW_OK;
  }

  if (self->patches_key == NULL || strcmp (key, self->patches_key)) {
    clear_cache (self);
    ensure_pango (self);
    build_patches (self, frame->buffer, &s, w, h, self->patches);
    self->patches_key = key;
    GST_LOG_OBJECT (self, "redrawn: %s", key);
  } else {
    g_free (key);
  }

  for (i = 0; i < self->patches->len; i++) {
    Patch *p = &g_array_index (self->patches, Patch, i);

    if (p->n_conv == 0)
      gst_deit_overlay_patch_convert (p, &frame->info);
    gst_deit_overlay_patch_blend (p, frame);
  }
  g_free (s.font_desc);
  return GST_FLOW_OK;
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
      self->corner = g_value_get_enum (value);
      break;
    case PROP_FONT_DESC:
      g_free (self->font_desc);
      self->font_desc = g_value_dup_string (value);
      break;
    case PROP_MAX_RESULTS:
      self->max_results = g_value_get_uint (value);
      break;
    case PROP_SHOW_SCORES:
      self->show_scores = g_value_get_boolean (value);
      break;
    case PROP_SHOW_STALE:
      self->show_stale = g_value_get_boolean (value);
      break;
    case PROP_TEXT_COLOR:
      self->text_color = g_value_get_uint (value);
      break;
    case PROP_BACKGROUND_COLOR:
      self->background_color = g_value_get_uint (value);
      break;
    case PROP_BOX_COLOR:
      self->box_color = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->settings_cookie++;
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
      g_value_set_enum (value, self->corner);
      break;
    case PROP_FONT_DESC:
      g_value_set_string (value, self->font_desc);
      break;
    case PROP_MAX_RESULTS:
      g_value_set_uint (value, self->max_results);
      break;
    case PROP_SHOW_SCORES:
      g_value_set_boolean (value, self->show_scores);
      break;
    case PROP_SHOW_STALE:
      g_value_set_boolean (value, self->show_stale);
      break;
    case PROP_TEXT_COLOR:
      g_value_set_uint (value, self->text_color);
      break;
    case PROP_BACKGROUND_COLOR:
      g_value_set_uint (value, self->background_color);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint (value, self->box_color);
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
  g_free (self->font_desc);
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
          "size is in pixels", DEFAULT_PROP_FONT_DESC, flags));
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
      "gst-deit authors");

  trans_class->stop = GST_DEBUG_FUNCPTR (gst_deit_overlay_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_deit_overlay_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_deit_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_DEIT_OVERLAY_CORNER, 0);
}

static void
gst_deit_overlay_init (GstDeitOverlay * self)
{
  self->corner = DEFAULT_PROP_CORNER;
  self->font_desc = g_strdup (DEFAULT_PROP_FONT_DESC);
  self->max_results = DEFAULT_PROP_MAX_RESULTS;
  self->show_scores = DEFAULT_PROP_SHOW_SCORES;
  self->show_stale = DEFAULT_PROP_SHOW_STALE;
  self->text_color = DEFAULT_PROP_TEXT_COLOR;
  self->background_color = DEFAULT_PROP_BACKGROUND_COLOR;
  self->box_color = DEFAULT_PROP_BOX_COLOR;
  self->patches = g_array_new (FALSE, FALSE, sizeof (Patch));
  g_array_set_clear_func (self->patches, gst_deit_overlay_patch_clear);
}
