/* gstdeitjsonenc.h - turns classified video buffers into newline-delimited JSON. */
#ifndef __GST_DEIT_JSON_ENC_H__
#define __GST_DEIT_JSON_ENC_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_DEIT_JSON_ENC (gst_deit_json_enc_get_type ())
G_DECLARE_FINAL_TYPE (GstDeitJsonEnc, gst_deit_json_enc, GST, DEIT_JSON_ENC,
    GstElement)

GST_ELEMENT_REGISTER_DECLARE (deitjsonenc);

G_END_DECLS

#endif /* __GST_DEIT_JSON_ENC_H__ */
