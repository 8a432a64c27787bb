/* deit-check.h - helpers shared by the deitclassify gst-check tests: test data paths,
 * the core's own answer for a frame (or a region of it), random frames, harnesses and
 * the checks of metas and messages against the core's answer.
 */
#ifndef __DEIT_CHECK_H__
#define __DEIT_CHECK_H__

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "deit.h"
#include "gstdeitclassifymeta.h"

/* element vs core on the same bytes, one thread each: float rounding only */
#define CORE_EPS 1e-6
/* element vs PyTorch + Pillow */
#define REF_EPS 1e-4
#define N_LABELS 10

typedef struct
{
  gint n;
  gint ids[64];
  gfloat scores[64];
} Result;

gchar *data_path (const gchar * name);

/* The core's answer for one frame, or the region @roi of it (NULL: all): load,
 * preprocess, run, top-k, one thread. */
void core_classify_roi (const gchar * model_name, GstBuffer * buf,
    const GstVideoInfo * info, enum deit_color_matrix matrix,
    gboolean full_range, const struct deit_rect *roi, gint k, gfloat threshold,
    Result * out);
void core_classify (const gchar * model_name, GstBuffer * buf,
    const GstVideoInfo * info, enum deit_color_matrix matrix,
    gboolean full_range, gint k, gfloat threshold, Result * out);

/* A frame of seeded pseudo-random bytes (valid content for every format). */
GstBuffer *random_frame (const GstVideoInfo * info, guint32 seed);
void info_from_string (GstVideoInfo * info, const gchar * str);

/* The object of one deitjsonenc line (a buffer pulled after it); fails the test when the
 * buffer is not JSON. The object belongs to *parser (g_object_unref it). */
JsonObject *json_line_object (GstBuffer * buf, JsonParser ** parser);

GstHarness *harness_new (const gchar * model, const gchar * props);
GstBus *harness_bus (GstHarness * h);
/* Unsets @h's element's bus made by harness_bus(), drops @bus and tears @h down. */
void harness_teardown_with_bus (GstHarness * h, GstBus * bus);
GstStructure *pop_deit_message (GstBus * bus);

void check_meta_equals (GstDeitClassifyMeta * meta, const Result * r);
void check_message_equals (const GstStructure * s, const Result * r);
GstVideoRegionOfInterestMeta *get_roi_meta (GstBuffer * buf);
guint count_metas (GstBuffer * buf, GType api);
/* A sample photo (TEST_IMAGES_DIR/PHOTO.png) decoded to RGB. */
GstBuffer *load_photo (const gchar * photo, GstVideoInfo * info);

#endif /* __DEIT_CHECK_H__ */
