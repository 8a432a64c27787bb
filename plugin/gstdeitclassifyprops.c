/* gstdeitclassifyprops.c - deitclassify's properties: their specs (with the gtk-doc that
 * gst-inspect-1.0 and the docs show), defaults, and get / set under the object lock. The
 * properties that may change while playing live in self->settings, which each frame
 * copies once (gst_deit_classify_settings_snapshot()); the others can only change in
 * NULL or READY and start() latches them.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdeitclassifyprops.h"

#define GST_CAT_DEFAULT deit_classify_debug

#define DEFAULT_PROP_MODEL NULL
#define DEFAULT_PROP_LABELS_FILE NULL
#define DEFAULT_PROP_TOP_K 5
#define DEFAULT_PROP_THRESHOLD 0.0
#define DEFAULT_PROP_SCORE_FUNCTION GST_DEIT_CLASSIFY_SCORE_FUNCTION_AUTO
#define DEFAULT_PROP_INTERVAL 1
#define DEFAULT_PROP_THREADS 0
#define DEFAULT_PROP_POST_MESSAGES TRUE
#define DEFAULT_PROP_ATTACH_ROI_META TRUE
#define DEFAULT_PROP_ASYNC FALSE

#define MAX_THREADS 1024
#define DEFAULT_PROP_BATCH_SIZE 1
#define MAX_BATCH_SIZE 64
#define DEFAULT_PROP_INFERENCE_REGION GST_DEIT_CLASSIFY_INFERENCE_REGION_FULL_FRAME
#define DEFAULT_PROP_OBJECT_CLASS ""
#define DEFAULT_PROP_OBJECT_MIN_WIDTH 0
#define DEFAULT_PROP_OBJECT_MIN_HEIGHT 0
#define DEFAULT_PROP_RECLASSIFY_INTERVAL 1

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,                  /* deprecated alias of PROP_LABELS_FILE */
  PROP_LABELS_FILE,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_INTERVAL,
  PROP_THREADS,
  PROP_POST_MESSAGES,
  PROP_ATTACH_ROI_META,
  PROP_ASYNC,
  PROP_BATCH_SIZE,
  PROP_INFERENCE_REGION,
  PROP_OBJECT_CLASS,
  PROP_OBJECT_MIN_WIDTH,
  PROP_OBJECT_MIN_HEIGHT,
  PROP_RECLASSIFY_INTERVAL,
  PROP_SCORE_FUNCTION,
};

GType
gst_deit_classify_score_function_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DEIT_CLASSIFY_SCORE_FUNCTION_AUTO,
        "As transformers' image-classification pipeline: sigmoid for "
          "multi-label models (problem_type multi_label_classification) and "
          "one-output heads, else softmax", "auto"},
    {GST_DEIT_CLASSIFY_SCORE_FUNCTION_SOFTMAX,
        "Softmax: probabilities over the classes, summing to 1", "softmax"},
    {GST_DEIT_CLASSIFY_SCORE_FUNCTION_SIGMOID,
          "Sigmoid: an independent probability per class (multi-label)",
        "sigmoid"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDeitClassifyScoreFunction", values);

    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_deit_classify_inference_region_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DEIT_CLASSIFY_INFERENCE_REGION_FULL_FRAME,
        "Classify the whole frame", "full-frame"},
    {GST_DEIT_CLASSIFY_INFERENCE_REGION_ROI_LIST,
          "Classify each GstVideoRegionOfInterestMeta box of the frame",
        "roi-list"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDeitClassifyInferenceRegion", values);

    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------------------
 * Properties
 */

/* Called with the object lock: may a READY-mutable property change now? */
static gboolean
gst_deit_classify_can_change (GstDeitClassify * self, const gchar * name)
{
  GstState state = GST_STATE (self);

  if (state != GST_STATE_READY && state != GST_STATE_NULL) {
    GST_WARNING_OBJECT (self, "changing \"%s\" is only possible in the NULL "
        "or READY state", name);
    return FALSE;
  }
  return TRUE;
}

void
gst_deit_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      if (gst_deit_classify_can_change (self, pspec->name)) {
        g_free (self->model_location);
        self->model_location = g_value_dup_string (value);
      }
      break;
    case PROP_LABELS:
      if (!self->labels_deprecation_warned) {
        GST_WARNING_OBJECT (self, "the \"labels\" property is deprecated: "
            "set \"labels-file\" instead (same value)");
        self->labels_deprecation_warned = TRUE;
      }
      /* fall through */
    case PROP_LABELS_FILE:
      if (gst_deit_classify_can_change (self, pspec->name)) {
        g_free (self->labels_location);
        self->labels_location = g_value_dup_string (value);
      }
      break;
    case PROP_THREADS:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->threads = g_value_get_int (value);
      break;
    case PROP_ASYNC:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->async = g_value_get_boolean (value);
      break;
    case PROP_BATCH_SIZE:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->batch_size = g_value_get_uint (value);
      break;
    case PROP_TOP_K:
      self->settings.top_k = g_value_get_uint (value);
      break;
    case PROP_THRESHOLD:
      self->settings.threshold = g_value_get_double (value);
      break;
    case PROP_SCORE_FUNCTION:
      self->settings.score_function = g_value_get_enum (value);
      break;
    case PROP_INTERVAL:
      self->settings.interval = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      self->settings.post_messages = g_value_get_boolean (value);
      break;
    case PROP_ATTACH_ROI_META:
      self->settings.attach_roi_meta = g_value_get_boolean (value);
      break;
    case PROP_INFERENCE_REGION:
      if (gst_deit_classify_can_change (self, pspec->name))
        self->inference_region = g_value_get_enum (value);
      break;
    case PROP_OBJECT_CLASS:{
      guint dropped;

      g_free (self->object_class);
      self->object_class = g_value_dup_string (value);
      dropped =
          gst_deit_region_filter_set_classes (&self->settings.region_filter,
          self->object_class);
      if (dropped)
        GST_WARNING_OBJECT (self, "object-class names more than %d types: the "
            "last %u are ignored", GST_DEIT_REGIONS_MAX_CLASSES, dropped);
      break;
    }
    case PROP_OBJECT_MIN_WIDTH:
      self->settings.region_filter.min_width = g_value_get_uint (value);
      break;
    case PROP_OBJECT_MIN_HEIGHT:
      self->settings.region_filter.min_height = g_value_get_uint (value);
      break;
    case PROP_RECLASSIFY_INTERVAL:
      self->settings.reclassify_interval = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

void
gst_deit_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDeitClassify *self = GST_DEIT_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_location);
      break;
    case PROP_LABELS:
    case PROP_LABELS_FILE:
      g_value_set_string (value, self->labels_location);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_ASYNC:
      g_value_set_boolean (value, self->async);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_TOP_K:
      g_value_set_uint (value, self->settings.top_k);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->settings.threshold);
      break;
    case PROP_SCORE_FUNCTION:
      g_value_set_enum (value, self->settings.score_function);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->settings.interval);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->settings.post_messages);
      break;
    case PROP_ATTACH_ROI_META:
      g_value_set_boolean (value, self->settings.attach_roi_meta);
      break;
    case PROP_INFERENCE_REGION:
      g_value_set_enum (value, self->inference_region);
      break;
    case PROP_OBJECT_CLASS:
      g_value_set_string (value, self->object_class);
      break;
    case PROP_OBJECT_MIN_WIDTH:
      g_value_set_uint (value, self->settings.region_filter.min_width);
      break;
    case PROP_OBJECT_MIN_HEIGHT:
      g_value_set_uint (value, self->settings.region_filter.min_height);
      break;
    case PROP_RECLASSIFY_INTERVAL:
      g_value_set_uint (value, self->settings.reclassify_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The defaults, once, from the same macros as the specs. */
void
gst_deit_classify_properties_init (GstDeitClassify * self)
{
  self->model_location = g_strdup (DEFAULT_PROP_MODEL);
  self->labels_location = g_strdup (DEFAULT_PROP_LABELS_FILE);
  self->settings.top_k = DEFAULT_PROP_TOP_K;
  self->settings.threshold = DEFAULT_PROP_THRESHOLD;
  self->settings.score_function = DEFAULT_PROP_SCORE_FUNCTION;
  self->settings.interval = DEFAULT_PROP_INTERVAL;
  self->threads = DEFAULT_PROP_THREADS;
  self->settings.post_messages = DEFAULT_PROP_POST_MESSAGES;
  self->settings.attach_roi_meta = DEFAULT_PROP_ATTACH_ROI_META;
  self->async = DEFAULT_PROP_ASYNC;
  self->batch_size = DEFAULT_PROP_BATCH_SIZE;
  self->inference_region = DEFAULT_PROP_INFERENCE_REGION;
  self->object_class = g_strdup (DEFAULT_PROP_OBJECT_CLASS);
  gst_deit_region_filter_set_classes (&self->settings.region_filter,
      self->object_class);
  self->settings.region_filter.min_width = DEFAULT_PROP_OBJECT_MIN_WIDTH;
  self->settings.region_filter.min_height = DEFAULT_PROP_OBJECT_MIN_HEIGHT;
  self->settings.reclassify_interval = DEFAULT_PROP_RECLASSIFY_INTERVAL;
}

void
gst_deit_classify_install_properties (GObjectClass * gobject_class)
{
  /**
   * GstDeitClassify:model:
   *
   * Checkpoint directory: config.json, preprocessor_config.json and
   * model.safetensors (or pytorch_model.bin), as downloaded from the Hub.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Checkpoint directory (config.json, preprocessor_config.json, "
          "model.safetensors or pytorch_model.bin)", DEFAULT_PROP_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:labels-file:
   *
   * Optional text file with one label per line (line N = class N), overriding
   * config.json's id2label. Must have exactly one line per class.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LABELS_FILE,
      g_param_spec_string ("labels-file", "Labels File",
          "Text file with one label per line, overriding the model's id2label "
          "(NULL: use id2label)", DEFAULT_PROP_LABELS_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:labels:
   *
   * Deprecated alias of #GstDeitClassify:labels-file: both read and write the
   * same value. Setting it logs a warning (once per element).
   *
   * Since: 0.1
   *
   * Deprecated: 0.1: Use #GstDeitClassify:labels-file instead.
   */
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels (deprecated)",
          "Deprecated: use labels-file (the same value)",
          DEFAULT_PROP_LABELS_FILE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          G_PARAM_DEPRECATED | GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:top-k:
   *
   * Number of most probable classes reported (capped at the number of classes).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TOP_K,
      g_param_spec_uint ("top-k", "Top K",
          "Number of most probable classes to report", 1, G_MAXINT,
          DEFAULT_PROP_TOP_K, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:threshold:
   *
   * Minimum score (a probability, see #GstDeitClassify:score-function) a class
   * needs to be reported.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Minimum probability (0..1) of a reported class", 0.0, 1.0,
          DEFAULT_PROP_THRESHOLD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:score-function:
   *
   * How the logits become the reported scores, as transformers'
   * image-classification pipeline does it (its function_to_apply): softmax
   * over the classes, or a sigmoid per class for multi-label models, whose
   * classes do not exclude each other (several can pass a threshold of 0.5).
   * The default follows the checkpoint's config.json: sigmoid when its
   * problem_type is "multi_label_classification" or the head has one output.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SCORE_FUNCTION,
      g_param_spec_enum ("score-function", "Score function",
          "How logits become scores: auto (sigmoid for multi-label checkpoints "
          "and one-output heads, else softmax), softmax or sigmoid",
          GST_TYPE_DEIT_CLASSIFY_SCORE_FUNCTION,
          DEFAULT_PROP_SCORE_FUNCTION, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:interval:
   *
   * Classify every Nth frame; the frames in between carry the latest result
   * with fresh = FALSE.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Classify every Nth frame (frames in between carry the latest result, "
          "marked not fresh)", 1, G_MAXINT, DEFAULT_PROP_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:threads:
   *
   * Worker threads of one inference. 0 = one per CPU the process may run on
   * (taskset and cgroup cpusets count); with exactly that many, each worker is a
   * thread of the element's own pinned to one CPU and the calling thread waits
   * (DEIT_AFFINITY=none in the environment leaves placement to the OS); otherwise
   * the calling thread is one of the workers.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Threads per inference (0 = one per CPU this process may use; "
          "that many are pinned one per CPU)", 0, MAX_THREADS,
          DEFAULT_PROP_THREADS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:post-messages:
   *
   * Post a "deitclassify" element message for every classified frame.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post Messages",
          "Post an element message named deitclassify per classified frame",
          DEFAULT_PROP_POST_MESSAGES, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:attach-roi-meta:
   *
   * Also attach a full-frame GstVideoRegionOfInterestMeta with a
   * "deit-classification" parameter structure (label, label_id, confidence,
   * model_name, top-k arrays) for consumers that read ROI metas.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ATTACH_ROI_META,
      g_param_spec_boolean ("attach-roi-meta", "Attach ROI Meta",
          "Also attach a full-frame GstVideoRegionOfInterestMeta carrying the "
          "result", DEFAULT_PROP_ATTACH_ROI_META, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:async:
   *
   * Live mode: run the inference on a worker thread on the newest frame; video
   * never waits for it. Frames carry the latest finished result (fresh =
   * FALSE); frames arriving while the worker is busy are not classified. Use
   * for cameras and other live sources slower to classify than to display.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ASYNC,
      g_param_spec_boolean ("async", "Async",
          "Classify on a worker thread; frames never wait and carry the latest "
          "result (for live sources)", DEFAULT_PROP_ASYNC, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:batch-size:
   *
   * Offline throughput: classify this many frames per inference. The element
   * holds the frames back until batch-size of them are due for inference
   * (with #GstDeitClassify:interval N, the frames in between are held too,
   * up to (batch-size - 1) x N + 1 frames, at most 256), then classifies them
   * together and pushes them in order. Results are the same as with
   * batch-size 1; only the frames come out in bursts. A partial batch runs at
   * EOS, caps changes and any other serialized event or query; flushing drops
   * it. In live pipelines the LATENCY query includes the frames held; with
   * #GstDeitClassify:async, batch-size is ignored.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch Size",
          "Frames classified together in one inference (offline throughput: "
          "frames are held back until a batch is full; ignored with async)",
          1, MAX_BATCH_SIZE, DEFAULT_PROP_BATCH_SIZE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:inference-region:
   *
   * What is classified: the whole frame (full-frame), or each box an upstream
   * detector attached as a #GstVideoRegionOfInterestMeta (roi-list: the second
   * stage of a detector -> classifier cascade, like DL Streamer's gvaclassify
   * inference-region=roi-list). A region is the box clipped to the frame,
   * classified exactly as if that crop were the image.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_INFERENCE_REGION,
      g_param_spec_enum ("inference-region", "Inference Region",
          "Classify the whole frame, or each region-of-interest box on it",
          GST_TYPE_DEIT_CLASSIFY_INFERENCE_REGION,
          DEFAULT_PROP_INFERENCE_REGION, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /**
   * GstDeitClassify:object-class:
   *
   * roi-list: comma-separated ROI types (the meta's roi_type, e.g. "face" or
   * "person,car") to classify; empty: every box.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OBJECT_CLASS,
      g_param_spec_string ("object-class", "Object Class",
          "roi-list: comma-separated ROI types to classify (empty: all)",
          DEFAULT_PROP_OBJECT_CLASS, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:object-min-width:
   *
   * roi-list: boxes narrower than this (after clipping to the frame) are not
   * classified; 0: no limit. Boxes of zero area are always skipped.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OBJECT_MIN_WIDTH,
      g_param_spec_uint ("object-min-width", "Object Min Width",
          "roi-list: minimum box width in pixels, after clipping (0: no limit)",
          0, G_MAXINT, DEFAULT_PROP_OBJECT_MIN_WIDTH, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:object-min-height:
   *
   * roi-list: boxes lower than this (after clipping to the frame) are not
   * classified; 0: no limit.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OBJECT_MIN_HEIGHT,
      g_param_spec_uint ("object-min-height", "Object Min Height",
          "roi-list: minimum box height in pixels, after clipping (0: no limit)",
          0, G_MAXINT, DEFAULT_PROP_OBJECT_MIN_HEIGHT, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstDeitClassify:reclassify-interval:
   *
   * roi-list with tracked objects: an object is classified again only every N
   * frames and carries its last result in between (fresh = FALSE). An object's
   * identity is the "id" field of the box's "object_id" parameter (as DL
   * Streamer's gvatrack writes it), else a non-zero meta id set by the
   * application; boxes without either are classified on every frame due.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_RECLASSIFY_INTERVAL,
      g_param_spec_uint ("reclassify-interval", "Reclassify Interval",
          "roi-list: classify a tracked object again only every N frames",
          1, G_MAXINT, DEFAULT_PROP_RECLASSIFY_INTERVAL, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

}
