/* gstdeitpatch.c - patches for deitoverlay: drawing into them, converting them into the
 * frame's format and blending them. See gstdeitpatch.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstdeitpatch.h"

/* Colour conversion for blending: component c of the frame receives
 * off_a[c][a] + (m[c][0] * r + m[c][1] * g + m[c][2] * b) of a premultiplied (a, r, g,
 * b) pixel, in Q16 fixed point of the 0-255 scale; off_a[c][a] = off[c] * a / 255.
 * Identity for RGB frames; the frame's matrix and range for YUV frames. */
typedef struct
{
  gint32 off_a[3][256];
  gint32 m[3][3];
} BlendCoeffs;

/* ------------------------------------------------------------------------ */
/* drawing into patches */

void
gst_deit_cairo_set_source_argb (cairo_t * cr, guint32 argb, gdouble alpha_scale)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0,
      ((argb >> 24) & 0xff) / 255.0 * alpha_scale);
}

gboolean
gst_deit_canvas_init (GstDeitCanvas * c, gint width, gint height)
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
void
gst_deit_canvas_finish (GstDeitCanvas * c, GArray * patches, gint x, gint y)
{
  cairo_destroy (c->cr);
  cairo_surface_flush (c->surface);
  cairo_surface_destroy (c->surface);
  c->patch.x = x;
  c->patch.y = y;
  g_array_append_val (patches, c->patch);
}

void
gst_deit_patch_clear (gpointer data)
{
  GstDeitPatch *p = data;
  gint i;

  for (i = 0; i < p->n_conv; i++) {
    g_free (p->conv[i].c);
    g_free (p->conv[i].inv);
  }
  g_free (p->data);
}

/* A solid rectangle in @argb, clipped to the frame. */
void
gst_deit_patch_add_solid_rect (GArray * patches, guint32 argb, gint x,
    gint y, gint w, gint h, gint frame_w, gint frame_h)
{
  GstDeitCanvas c;
  gint x1 = CLAMP (x, 0, frame_w), y1 = CLAMP (y, 0, frame_h);
  gint x2 = CLAMP (x + w, 0, frame_w), y2 = CLAMP (y + h, 0, frame_h);

  if (!gst_deit_canvas_init (&c, x2 - x1, y2 - y1))
    return;
  gst_deit_cairo_set_source_argb (c.cr, argb, 1.0);
  cairo_paint (c.cr);
  gst_deit_canvas_finish (&c, patches, x1, y1);
}

/* ------------------------------------------------------------------------ */
/* blending into the frame, in its own format */

/* Q16 of v / 255 for v in [0, 255]: (v * 65536 + 127) / 255 */
#define Q16_PER_255(v) (((gint64) (v) * 65536 + 127) / 255)

static void
blend_coeffs_init (BlendCoeffs * k, const GstVideoInfo * info)
{
  gint c;

  memset (k, 0, sizeof (*k));
  if (GST_VIDEO_INFO_IS_RGB (info)) {
    /* component 0/1/2 is R/G/B: out = r + dst * (255 - a) / 255 */
    for (c = 0; c < 3; c++)
      k->m[c][c] = 65536;
  } else {
    /* reference: ITU-R BT.601/709 as GStreamer's video-color.c defines them:
     * Y = off0 + scale0 * (Kr R + Kg G + Kb B) / 255,
     * U = off1 + scale1 * (B - Y') / (2 (1 - Kb)) / 255, V likewise with R, Kr */
    gdouble kr = 0.299, kb = 0.114, kg;
    gint offset[GST_VIDEO_MAX_COMPONENTS], scale[GST_VIDEO_MAX_COMPONENTS];
    gdouble m[3][3];

    if (!gst_video_color_matrix_get_Kr_Kb (info->colorimetry.matrix, &kr, &kb)) {
      kr = 0.299;               /* unknown matrix: BT.601, what videoconvert */
      kb = 0.114;               /* assumes for SD too */
    }
    kg = 1.0 - kr - kb;
    gst_video_color_range_offsets (info->colorimetry.range, info->finfo, offset,
        scale);
    m[0][0] = kr * scale[0];
    m[0][1] = kg * scale[0];
    m[0][2] = kb * scale[0];
    m[1][0] = -kr / (2 * (1 - kb)) * scale[1];
    m[1][1] = -kg / (2 * (1 - kb)) * scale[1];
    m[1][2] = (1 - kb) / (2 * (1 - kb)) * scale[1];
    m[2][0] = (1 - kr) / (2 * (1 - kr)) * scale[2];
    m[2][1] = -kg / (2 * (1 - kr)) * scale[2];
    m[2][2] = -kb / (2 * (1 - kr)) * scale[2];
    for (c = 0; c < 3; c++) {
      gint j, a;

      for (a = 0; a < 256; a++)
        k->off_a[c][a] = (gint32) ((offset[c] * a * 65536 + 127) / 255);
      for (j = 0; j < 3; j++)
        k->m[c][j] = (gint32) lround (m[c][j] / 255.0 * 65536.0);
    }
  }
}

/* Q16 contribution of premultiplied pixel @v to component @comp (3: alpha). */
static inline gint32
contribution (const BlendCoeffs * k, gint comp, guint32 v)
{
  gint32 a = v >> 24, r = (v >> 16) & 0xff, g = (v >> 8) & 0xff, b = v & 0xff;

  if (comp == 3)
    return a << 16;
  return k->off_a[comp][a] + k->m[comp][0] * r + k->m[comp][1] * g +
      k->m[comp][2] * b;
}

/* "over" with premultiplied alpha, Q16 contribution @c, (255 - alpha) * 257 @inv */
static inline guint8
over (gint32 c, guint8 dst, gint32 inv)
{
  gint32 out = (c + dst * inv + 32768) >> 16;

  return (guint8) CLAMP (out, 0, 255);
}

/* Converts @p into component @comp of the frame's format: each sample of the
 * component takes the mean over the patch pixels of its block (one pixel unless the
 * component is subsampled), block pixels outside the patch counting as transparent,
 * so samples whose block misses the patch are never written. Runs once per patch. */
static void
convert_component (const GstVideoInfo * info, GstDeitPatch * p,
    const BlendCoeffs * k, gint comp, gint x0, gint y0, gint x1, gint y1)
{
  const GstVideoFormatInfo *fi = info->finfo;
  gint wsub = GST_VIDEO_FORMAT_INFO_W_SUB (fi, comp);
  gint hsub = GST_VIDEO_FORMAT_INFO_H_SUB (fi, comp);
  gint fw = GST_VIDEO_INFO_WIDTH (info), fh = GST_VIDEO_INFO_HEIGHT (info);
  GstDeitPatchConv *cv = &p->conv[p->n_conv++];
  gint cx, cy, px, py;

  cv->comp = comp;
  cv->cx0 = x0 >> wsub;
  cv->cy0 = y0 >> hsub;
  cv->cw = ((x1 - 1) >> wsub) + 1 - cv->cx0;
  cv->ch = ((y1 - 1) >> hsub) + 1 - cv->cy0;
  cv->c = g_new (gint32, (gsize) cv->cw * cv->ch);
  cv->inv = g_new (gint32, (gsize) cv->cw * cv->ch);

  for (cy = cv->cy0; cy < cv->cy0 + cv->ch; cy++) {
    gint by0 = MAX (cy << hsub, y0), by1 = MIN ((cy + 1) << hsub, y1);
    gint bh = MIN ((cy + 1) << hsub, fh) - (cy << hsub);

    for (cx = cv->cx0; cx < cv->cx0 + cv->cw; cx++) {
      gint bx0 = MAX (cx << wsub, x0), bx1 = MIN ((cx + 1) << wsub, x1);
      gint n = (MIN ((cx + 1) << wsub, fw) - (cx << wsub)) * bh;
      gint64 sum_c = 0, sum_inv = 0;
      gsize i = (gsize) (cy - cv->cy0) * cv->cw + (cx - cv->cx0);

      for (py = by0; py < by1; py++) {
        const guint32 *src = (const guint32 *) (p->data + (py - p->y) *
            p->stride);

        for (px = bx0; px < bx1; px++) {
          sum_c += contribution (k, comp, src[px - p->x]);
          sum_inv += 255 - (src[px - p->x] >> 24);
        }
      }
      /* block pixels outside the patch: alpha 0 */
      sum_inv += 255 * (n - (by1 - by0) * (bx1 - bx0));
      cv->c[i] = (gint32) (sum_c / n);
      cv->inv[i] = (gint32) (sum_inv * 257 / n);
    }
  }
}

void
gst_deit_patch_convert (const GstVideoInfo * info, GstDeitPatch * p)
{
  gint x0 = MAX (p->x, 0), y0 = MAX (p->y, 0);
  gint x1 = MIN (p->x + p->width, GST_VIDEO_INFO_WIDTH (info));
  gint y1 = MIN (p->y + p->height, GST_VIDEO_INFO_HEIGHT (info));
  gint comp, n_comps = GST_VIDEO_INFO_HAS_ALPHA (info) ? 4 : 3;
  BlendCoeffs *k;

  if (x0 >= x1 || y0 >= y1)
    return;
  k = g_new (BlendCoeffs, 1);
  blend_coeffs_init (k, info);
  for (comp = 0; comp < n_comps; comp++)
    convert_component (info, p, k, comp, x0, y0, x1, y1);
  g_free (k);
}

/* "over" of the converted patch into the frame: per sample one multiply-add. */
void
gst_deit_patch_blend (GstVideoFrame * f, const GstDeitPatch * p)
{
  const GstVideoFormatInfo *fi = f->info.finfo;
  gint i, x, y;

  for (i = 0; i < p->n_conv; i++) {
    const GstDeitPatchConv *cv = &p->conv[i];
    gint plane = GST_VIDEO_FORMAT_INFO_PLANE (fi, cv->comp);
    gint pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE (fi, cv->comp);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (f, plane);
    guint8 *data = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, plane) +
        GST_VIDEO_FORMAT_INFO_POFFSET (fi, cv->comp) + cv->cx0 * pstride;

    for (y = 0; y < cv->ch; y++) {
      guint8 *d = data + (gsize) (cv->cy0 + y) * stride;
      const gint32 *c = cv->c + (gsize) y * cv->cw;
      const gint32 *inv = cv->inv + (gsize) y * cv->cw;

      for (x = 0; x < cv->cw; x++, d += pstride)
        if (inv[x] != 255 * 257)
          *d = over (c[x], *d, inv[x]);
    }
  }
}
