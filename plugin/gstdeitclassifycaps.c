/* gstdeitclassifycaps.c - what deitclassify takes, and saying so when caps are refused.
 *
 * The pad templates (GST_DEIT_CLASSIFY_CAPS) list the formats the core reads and
 * its size limit; set_info checks new caps against them. Refused caps (set_info,
 * accept_caps, a CAPS query upstream cannot satisfy) are logged with what the element
 * takes and, once per negotiation, posted as a bus warning telling the user to add
 * videoconvert. caps_warned is atomic; frame_duration is under the element's mutex.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifycaps.h"
#include "gstdeitclassifyframe.h"

#define GST_CAT_DEFAULT deit_classify_debug

/* Caps we cannot take, offered by upstream: the debug log says which (what: "caps not
 * supported", ...) and what we take; and, once per negotiation, a warning message on
 * the bus tells the user to add videoconvert, when the caps are raw video (the case
 * a converter fixes; audio or encoded video need a decoder or demuxer first). */
void
gst_deit_classify_caps_refused (GstDeitClassify * self, const gchar * what,
    GstCaps * caps)
{
  gboolean raw_video = FALSE;
  guint i;

  GST_WARNING_OBJECT (self, "%s: %" GST_PTR_FORMAT "; deitclassify accepts "
      "video/x-raw, format=%s, width and height in [1, %s]", what, caps,
      GST_DEIT_CLASSIFY_FORMATS, GST_DEIT_CLASSIFY_MAX_DIM_STR);
  for (i = 0; caps && i < gst_caps_get_size (caps); i++)
    raw_video |= gst_structure_has_name (gst_caps_get_structure (caps, i),
        "video/x-raw");
  if (raw_video && g_atomic_int_compare_and_exchange (&self->caps_warned, 0, 1))
    GST_ELEMENT_WARNING (self, CORE, NEGOTIATION,
        ("deitclassify cannot take this video: it takes raw video in the "
            "formats %s, 1 to %s pixels per side. Add videoconvert (and "
            "videoscale for larger frames) before deitclassify.",
            GST_DEIT_CLASSIFY_FORMATS, GST_DEIT_CLASSIFY_MAX_DIM_STR),
        ("%s: %" GST_PTR_FORMAT, what, caps));
}

/* New input caps (set_info): check them, note the frame duration. */
gboolean
gst_deit_classify_caps_set_info (GstDeitClassify * self, GstCaps * incaps,
    const GstVideoInfo * in_info)
{
  gint w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);

  if (!gst_deit_classify_format_supported (GST_VIDEO_INFO_FORMAT (in_info))
      || w < 1 || h < 1 || w > DEIT_MAX_IMAGE_DIM || h > DEIT_MAX_IMAGE_DIM)
    goto unsupported;

  if (GST_VIDEO_INFO_IS_YUV (in_info) &&
      (in_info->colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_RGB ||
          in_info->colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_UNKNOWN))
    GST_WARNING_OBJECT (self,
        "colour matrix %d not usable for YUV, using BT.601",
        in_info->colorimetry.matrix);
  g_mutex_lock (&self->lock);
  self->frame_duration = GST_VIDEO_INFO_FPS_N (in_info) > 0 ?
      gst_util_uint64_scale_int (GST_SECOND, GST_VIDEO_INFO_FPS_D (in_info),
      GST_VIDEO_INFO_FPS_N (in_info)) : GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&self->lock);
  g_atomic_int_set (&self->caps_warned, 0);     /* a new negotiation may fail */
  GST_DEBUG_OBJECT (self, "configured for %" GST_PTR_FORMAT, incaps);
  return TRUE;

  /* ERRORS */
unsupported:
  {
    gst_deit_classify_caps_refused (self, "caps not supported", incaps);
    return FALSE;
  }
}

/* After the base class answered a CAPS query on the sink pad: upstream asked what we
 * take, offering only what we cannot, so the negotiation is going to fail: say why.
 * When we could take some of what upstream offers, the answer is empty because of an
 * element downstream (the query goes through us): that one refuses, not us. */
void
gst_deit_classify_caps_check_query (GstDeitClassify * self, GstQuery * query)
{
  GstCaps *filter, *result, *ours;
  gboolean downstream;

  gst_query_parse_caps (query, &filter);
  gst_query_parse_caps_result (query, &result);
  if (!filter || !result || !gst_caps_is_empty (result))
    return;
  ours = gst_pad_get_pad_template_caps (GST_BASE_TRANSFORM_SINK_PAD (self));
  downstream = gst_caps_can_intersect (filter, ours);
  gst_caps_unref (ours);
  if (downstream)
    GST_DEBUG_OBJECT (self, "downstream takes none of %" GST_PTR_FORMAT,
        filter);
  else
    gst_deit_classify_caps_refused (self, "upstream offers only", filter);
}
