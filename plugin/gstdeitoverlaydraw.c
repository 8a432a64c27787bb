/* gstdeitoverlaydraw.c - deitoverlay's drawing: the panel with the full-frame top-k
 * (label, probability, bar) and a box with the top-1 label per region, laid out with
 * Pango and drawn with cairo into patches. See gstdeitoverlaydraw.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstdeitoverlaydraw.h"
#include "gstdeitclassifymeta.h"

/* ------------------------------------------------------------------------ */
/* text helpers */

/* @text is a label or model name from the meta, which an application may have
 * filled with anything: invalid UTF-8 is drawn as U+FFFD, as deitjsonenc writes it
 * (pango_layout_set_text() logs a warning for it on every redraw). */
static PangoLayout *
new_layout (PangoContext * ctx, const PangoFontDescription * font,
    const gchar * text)
{
  PangoLayout *layout = pango_layout_new (ctx);

  pango_layout_set_font_description (layout, font);
  if (g_utf8_validate (text, -1, NULL)) {
    pango_layout_set_text (layout, text, -1);
  } else {
    gchar *valid = g_utf8_make_valid (text, -1);

    pango_layout_set_text (layout, valid, -1);
    g_free (valid);
  }
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
make_font (const GstDeitDrawSettings * s, gint frame_h, gdouble scale)
{
  PangoFontDescription *font = pango_font_description_from_string (s->font_desc
      ? s->font_desc : GST_DEIT_OVERLAY_DEFAULT_FONT);
  gdouble px;

  if (pango_font_description_get_size (font) > 0)
    px = (gdouble) pango_font_description_get_size (font) / PANGO_SCALE;
  else
    px = MAX (10.0, frame_h / 20.0);
  /* text taller than the frame cannot be read, and sizes far beyond it make cairo
   * fail ("failed to create cairo scaled font") */
  px = CLAMP (px, 1.0, MAX (frame_h, 1));
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

/* @stack: height already taken in the corner by the panels of earlier models; the
 * panel goes next to them (below in a top corner, above in a bottom one) and adds its
 * own height. A panel that would not fit in the frame any more is not drawn. */
static void
draw_panel (PangoContext * ctx, const GstDeitClassifyMeta * meta,
    const GstDeitDrawSettings * s, gint frame_w, gint frame_h, gint * stack,
    GArray * patches)
{
  PangoFontDescription *font = make_font (s, frame_h, 1.0);
  PangoFontDescription *small = make_font (s, frame_h, 0.7);
  gdouble px = (gdouble) pango_font_description_get_size (font) / PANGO_SCALE;
  gint pad = MAX (2, (gint) lround (px * 0.45));
  gint gap = MAX (4, (gint) lround (px * 0.8));
  gint bar_h = MAX (2, (gint) lround (px * 0.2));
  gint row_gap = MAX (1, (gint) lround (px * 0.25));
  gint margin = MAX (2, (gint) lround (px * 0.5));
  guint n_rows = MIN (meta->n_results, s->max_results), n_made, i;
  PanelRow *rows = g_new0 (PanelRow, MAX (n_rows, 1));
  PangoLayout *header;
  gchar *header_text;
  gint label_w = 0, score_w = 0, inner_w, max_inner, panel_w, panel_h, x, y;
  gint header_h, text_h = 0;
  GstDeitCanvas c;

  header_text = g_strdup_printf ("%s%s", meta->model_name ? meta->model_name :
      "deitclassify", meta->fresh ? "" : " (earlier frame)");
  header = new_layout (ctx, small, header_text);
  g_free (header_text);
  header_h = layout_height (header);

  for (i = 0; i < n_rows; i++) {
    const GstDeitClassification *r = &meta->results[i];
    gchar *fallback = NULL;

    if (r->label == NULL)
      fallback = g_strdup_printf ("class %d", r->class_id);
    rows[i].label = new_layout (ctx, font, r->label ? r->label : fallback);
    g_free (fallback);
    rows[i].value = CLAMP (r->score, 0.0f, 1.0f);
    if (s->show_scores) {
      gchar *t = format_score (r->score);
      rows[i].score = new_layout (ctx, font, t);
      score_w = MAX (score_w, layout_width (rows[i].score));
      g_free (t);
    }
  }
  if (n_rows == 0) {
    rows[0].label = new_layout (ctx, font, "no result");
    rows[0].value = -1.0f;
    n_rows = 1;
  }
  n_made = n_rows;
  for (i = 0; i < n_rows; i++)
    text_h = MAX (text_h, layout_height (rows[i].label));
  /* rows that would not fit in the frame with the corner margins are left out, so
   * the panel does not end with a row cut in half; one row is drawn (clipped) even
   * on a frame too small for it */
  while (n_rows > 1 && pad + header_h + row_gap + (gint) n_rows * (text_h +
          bar_h + row_gap) + pad - row_gap > frame_h - 2 * margin)
    n_rows--;
  for (i = 0; i < n_rows; i++)
    label_w = MAX (label_w, layout_width (rows[i].label));

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
      s->corner == GST_DEIT_OVERLAY_CORNER_TOP_RIGHT) ? margin + *stack :
      frame_h - panel_h - margin - *stack;
  x = MAX (x, 0);
  if (*stack == 0)
    y = MAX (y, 0);
  else if (y < 0 || y + panel_h > frame_h)
    panel_h = 0;                /* no room left for this model's panel */
  *stack += panel_h + margin;

  if (panel_h > 0 && gst_deit_canvas_init (&c, panel_w, panel_h)) {
    gint ty = pad;

    gst_deit_cairo_set_source_argb (c.cr, s->background_color, 1.0);
    cairo_paint (c.cr);

    gst_deit_cairo_set_source_argb (c.cr, s->text_color, 0.75);
    cairo_move_to (c.cr, pad, ty);
    pango_cairo_show_layout (c.cr, header);
    ty += header_h + row_gap;

    for (i = 0; i < n_rows; i++) {
      gst_deit_cairo_set_source_argb (c.cr, s->text_color, 1.0);
      cairo_move_to (c.cr, pad, ty);
      pango_cairo_show_layout (c.cr, rows[i].label);
      if (rows[i].score) {
        cairo_move_to (c.cr, pad + inner_w - layout_width (rows[i].score), ty);
        pango_cairo_show_layout (c.cr, rows[i].score);
      }
      ty += text_h;
      if (rows[i].value >= 0.0f) {
        /* track in faint text colour, bar in box colour */
        gst_deit_cairo_set_source_argb (c.cr, s->text_color, 0.2);
        cairo_rectangle (c.cr, pad, ty, inner_w, bar_h);
        cairo_fill (c.cr);
        gst_deit_cairo_set_source_argb (c.cr, s->box_color, 1.0);
        cairo_rectangle (c.cr, pad, ty, inner_w * rows[i].value, bar_h);
        cairo_fill (c.cr);
      }
      ty += bar_h + row_gap;
    }
    gst_deit_canvas_finish (&c, patches, x, y);
  }

  for (i = 0; i < n_made; i++) {
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
draw_roi (PangoContext * ctx, const GstDeitClassifyMeta * meta,
    const GstDeitDrawSettings * s, gint frame_w, gint frame_h, GArray * patches)
{
  guint rx, ry, rw, rh;
  gint bx, by, bw, bh;
  gint t = MAX (2, MIN (frame_w, frame_h) / 150);
  PangoFontDescription *font;
  PangoLayout *layout;
  gchar *text, *score = NULL;
  gint pad, tag_w, tag_h, tag_x, tag_y;
  GstDeitCanvas c;

  /* in pixels of this frame: a scaler upstream may have copied the meta as is */
  gst_deit_classify_meta_get_rectangle (meta, frame_w, frame_h, &rx, &ry, &rw,
      &rh);
  bx = MIN ((gint) MIN (rx, G_MAXINT / 2), frame_w);
  by = MIN ((gint) MIN (ry, G_MAXINT / 2), frame_h);
  bw = MIN ((gint) MIN (rw, G_MAXINT / 2), frame_w - bx);
  bh = MIN ((gint) MIN (rh, G_MAXINT / 2), frame_h - by);

  if (bw <= 0 || bh <= 0)
    return;
  t = MIN (t, MIN (bw, bh) / 2 + 1);

  /* four edges, each its own small rectangle so the inside is not blended */
  gst_deit_patch_add_solid_rect (patches, s->box_color, bx, by, bw, t, frame_w,
      frame_h);
  gst_deit_patch_add_solid_rect (patches, s->box_color, bx, by + bh - t, bw, t,
      frame_w, frame_h);
  gst_deit_patch_add_solid_rect (patches, s->box_color, bx, by + t, t,
      bh - 2 * t, frame_w, frame_h);
  gst_deit_patch_add_solid_rect (patches, s->box_color, bx + bw - t, by + t, t,
      bh - 2 * t, frame_w, frame_h);

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
  layout = new_layout (ctx, font, text);
  pad = MAX (2, (gint) lround (pango_font_description_get_size (font) /
          PANGO_SCALE * 0.3));
  /* the tag starts at the box's left edge, or further left when the text would
   * run past the frame's right edge; only text wider than the frame is cut */
  if (layout_width (layout) + 2 * pad > frame_w) {
    pango_layout_set_width (layout, MAX (frame_w - 2 * pad, 1) * PANGO_SCALE);
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  }
  tag_w = MIN (layout_width (layout) + 2 * pad, frame_w);
  tag_x = MIN (bx, frame_w - tag_w);
  tag_h = MIN (layout_height (layout) + 2 * pad, frame_h);
  /* above the box when there is room, else inside its top edge */
  tag_y = by - tag_h >= 0 ? by - tag_h : MIN (by + t, frame_h - tag_h);

  if (gst_deit_canvas_init (&c, tag_w, tag_h)) {
    gst_deit_cairo_set_source_argb (c.cr, s->background_color, 1.0);
    cairo_paint (c.cr);
    gst_deit_cairo_set_source_argb (c.cr, s->text_color, 1.0);
    cairo_move_to (c.cr, pad, pad);
    pango_cairo_show_layout (c.cr, layout);
    gst_deit_canvas_finish (&c, patches, tag_x, tag_y);
  }
  g_object_unref (layout);
  pango_font_description_free (font);
  g_free (text);
}

/* ------------------------------------------------------------------------ */
/* per frame */

static gboolean
meta_is_drawn (const GstDeitClassifyMeta * meta, const GstDeitDrawSettings * s)
{
  return meta->fresh || s->show_stale;
}

/* A label or model name in a key: its length first, so that no text, whatever it
 * holds, reads as the key's separators and other results; NULL (drawn as "class N",
 * or "deitclassify") differs from "" */
static void
append_key_string (GString * key, const gchar * text)
{
  if (text)
    g_string_append_printf (key, "%" G_GSIZE_FORMAT ":%s|", strlen (text),
        text);
  else
    g_string_append (key, "-|");
}

/* A string naming everything that would be drawn on this frame, or NULL when
 * nothing is: equal keys give equal drawings, so the patches are reused. */
gchar *
gst_deit_overlay_make_key (GstBuffer * buf, const GstDeitDrawSettings * s,
    gint frame_w, gint frame_h)
{
  GString *key = NULL;
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;
    guint i, n, rx, ry, rw, rh;

    if (!meta_is_drawn (meta, s))
      continue;
    if (key == NULL)
      key = g_string_new (NULL);
    /* the rectangle as drawn: the same meta rectangle is another box when it was
     * classified in a frame of another size (a scaler upstream) */
    gst_deit_classify_meta_get_rectangle (meta, frame_w, frame_h, &rx, &ry, &rw,
        &rh);
    g_string_append_printf (key, "%d|%u,%u,%u,%u|%d|", meta->roi_id, rx, ry,
        rw, rh, meta->fresh);
    append_key_string (key, meta->model_name);
    n = meta->roi_id < 0 ? MIN (meta->n_results, s->max_results) :
        MIN (meta->n_results, 1);
    for (i = 0; i < n; i++) {
      g_string_append_printf (key, "%d:", meta->results[i].class_id);
      append_key_string (key, meta->results[i].label);
      g_string_append_printf (key, "%.5f;", meta->results[i].score);
    }
    g_string_append_c (key, '\n');
  }
  if (key == NULL)
    return NULL;
  g_string_append_printf (key, "%dx%d#%u", frame_w, frame_h, s->cookie);
  return g_string_free (key, FALSE);
}

void
gst_deit_overlay_build_patches (PangoContext * ctx, GstBuffer * buf,
    const GstDeitDrawSettings * s, gint frame_w, gint frame_h, GArray * patches)
{
  gpointer state = NULL;
  GstMeta *m;
  gint stack = 0;

  /* boxes first, so the panels are drawn on top of them */
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;

    if (meta->roi_id >= 0 && meta_is_drawn (meta, s))
      draw_roi (ctx, meta, s, frame_w, frame_h, patches);
  }
  state = NULL;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_DEIT_CLASSIFY_META_API_TYPE))) {
    GstDeitClassifyMeta *meta = (GstDeitClassifyMeta *) m;

    /* one panel per model, in the order the deitclassify elements ran */
    if (meta->roi_id < 0 && meta_is_drawn (meta, s))
      draw_panel (ctx, meta, s, frame_w, frame_h, &stack, patches);
  }
}
