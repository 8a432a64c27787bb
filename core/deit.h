/* deit.h - the gst-deit inference engine: DeiT / ViT image classification in plain C.
 *
 * Loads a Hugging Face checkpoint directory exactly as downloaded (config.json,
 * preprocessor_config.json, model.safetensors or pytorch_model.bin) and computes what
 * transformers computes for DeiTForImageClassificationWithTeacher,
 * DeiTForImageClassification, DeiTModel, DeiTForMaskedImageModeling,
 * ViTForImageClassification and ViTModel, in float32, GEMMs through OpenBLAS.
 * It also turns raw video frames into the model's input tensor bit-exactly as
 * transformers' DeiTImageProcessor / ViTImageProcessor (Pillow path) would.
 *
 * No GStreamer dependency: GLib, json-glib, OpenBLAS, pthreads and libm only.
 *
 * Thread safety
 *   - struct deit_model is immutable after deit_model_load(): share one between any
 *     number of threads and elements. Free it only when no state uses it. (The load
 *     itself rearranges the linear weights into GEMM panels, once, before the model is
 *     returned: ~20 ms for DeiT-tiny, ~0.3 s for DeiT-base on one Zen 4 core;
 *     deit_model_params.)
 *   - struct deit_state holds the scratch buffers and worker threads of one inference
 *     at a time: use one state per concurrent inference; never share a state between
 *     threads without a lock.
 *   - deit_log_set() is process-global; call it before loading models.
 *
 * Parallelism has a single owner: each state owns a pool of n_threads workers (the
 * calling thread is worker 0). A forward pass is one parallel region: a list of phases
 * (patch embedding, then per layer LayerNorm, QKV, attention, projection, LayerNorm,
 * MLP, ...), built once per state and batch size, each cut into chunks (GEMM column
 * panels, (image, head) query rows, token rows) that the workers claim with an atomic
 * counter, a phase starting when the previous one is complete; a worker that finds no
 * chunk left takes the remaining steps (column panels, query rows) of a chunk whose owner
 * the OS has preempted, and a waiting worker sleeps after a short spin, handing its CPU
 * over. Which worker runs a chunk or step never changes what it computes, so the results
 * are bit-identical from run to run for a given thread count; with the AVX2 or AVX-512
 * kernels and eager attention (the default on x86-64 when head_dim is a multiple of 16,
 * as in every DeiT and ViT) also for any thread count. Portable kernels and fused
 * attention hand query-row chunks whose bounds depend on the thread count to OpenBLAS,
 * so their results may differ in the last bits between thread counts (about 2e-6 on
 * logits). Preprocessing splits output rows the same way. OpenBLAS is asked to run
 * single-threaded inside those workers (openblas_set_num_threads(1) at first state
 * creation), so the two never nest. Waiting workers spin for deit_state_params.spin_us
 * (50 us), then sleep.
 *
 * Kernels: one source per kernel with the vector width as a parameter, compiled for
 * AVX-512, AVX2 + FMA and portable C; deit_state_params.isa picks the set at state
 * creation (default: the best the CPU supports).
 *
 * Usage
 *
 *     struct deit_error err;
 *     struct deit_model *model = deit_model_load("deit-tiny-distilled-patch16-224",
 *                                                NULL, &err);
 *     if (!model) { fprintf(stderr, "%s\n", err.message); return 1; }
 *     struct deit_state_params sp = deit_state_default_params();
 *     sp.max_batch = 1;
 *     struct deit_state *st = deit_state_init(model, &sp, &err);
 *     struct deit_image img = { .format = DEIT_PIXEL_FORMAT_RGB, .width = w, .height = h,
 *                               .data = { rgb }, .stride = { 3 * w } };
 *     deit_state_preprocess(st, 0, &img, NULL, &err);   // whole frame into input slot 0
 *     deit_state_run(st, 1, NULL);
 *     struct deit_class_score top[5];
 *     int n = deit_state_top_k(st, 0, 5, 0.0f, top);
 *     for (int i = 0; i < n; i++)
 *         printf("%s %.3f\n", deit_model_get_label(model, top[i].class_id), top[i].score);
 *     deit_state_free(st);
 *     deit_model_free(model);
 *
 * Conventions: every fallible function returns enum deit_status (constructors return
 * NULL and fill struct deit_error); nothing here exits, aborts or prints on bad input;
 * every *_free() accepts NULL. Adding a field to a params struct means updating its
 * *_default_params() function.
 */
#ifndef DEIT_H
#define DEIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DEIT_BUILD) && defined(__GNUC__)
#define DEIT_API __attribute__((visibility("default")))
#else
#define DEIT_API
#endif

/* ---------------------------------------------------------------------------------------
 * Status codes and errors
 */
enum deit_status {
    DEIT_STATUS_OK                       = 0,
    DEIT_STATUS_ABORTED                  = 1,   /* the abort callback asked to stop */
    DEIT_STATUS_ERROR_INVALID_ARG        = -1,  /* programmer error: NULL, out of range */
    DEIT_STATUS_ERROR_NO_MEMORY          = -2,
    DEIT_STATUS_ERROR_NOT_FOUND          = -3,  /* directory or file does not exist */
    DEIT_STATUS_ERROR_IO                 = -4,  /* open / read / mmap failed */
    DEIT_STATUS_ERROR_BAD_JSON           = -5,  /* malformed config.json or preprocessor_config.json */
    DEIT_STATUS_ERROR_BAD_CONFIG         = -6,  /* config value missing, out of range or inconsistent */
    DEIT_STATUS_ERROR_UNKNOWN_ARCH       = -7,  /* architectures / model_type not supported */
    DEIT_STATUS_ERROR_UNSUPPORTED_ACT    = -8,  /* hidden_act not in enum deit_act (e.g. prelu, xielu) */
    DEIT_STATUS_ERROR_BAD_HEADER         = -9,  /* weight file header malformed or longer than the file */
    DEIT_STATUS_ERROR_BAD_OFFSETS        = -10, /* tensor byte range out of the data, or overlapping */
    DEIT_STATUS_ERROR_TRUNCATED          = -11, /* file shorter than its header says */
    DEIT_STATUS_ERROR_MISSING_TENSOR     = -12, /* a tensor the architecture needs is absent */
    DEIT_STATUS_ERROR_BAD_DTYPE          = -13, /* tensor dtype not F32/F16/BF16 */
    DEIT_STATUS_ERROR_BAD_SHAPE          = -14, /* tensor shape differs from what config implies */
    DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT = -15, /* pixel format, weight file format, resample code */
    DEIT_STATUS_ERROR_THREAD             = -16, /* could not start worker threads */
};

/* Stable short name of a status, e.g. "missing tensor". Never NULL. */
DEIT_API const char *deit_status_to_string(enum deit_status status);

/* Filled by constructors on failure: status plus a message that names the file, the
 * tensor or key, expected vs found, and what the user can do about it. */
struct deit_error {
    enum deit_status status;
    char message[1024];
};

/* ---------------------------------------------------------------------------------------
 * Logging. The core never writes to stdout/stderr; messages go to this callback.
 * Default: no callback (silent). Each message starts with the function name.
 */
enum deit_log_level {
    DEIT_LOG_LEVEL_ERROR = 0,
    DEIT_LOG_LEVEL_WARN  = 1,
    DEIT_LOG_LEVEL_INFO  = 2,
    DEIT_LOG_LEVEL_DEBUG = 3,
};
typedef void (*deit_log_callback)(enum deit_log_level level, const char *message, void *user_data);
DEIT_API void deit_log_set(deit_log_callback callback, void *user_data);

/* ---------------------------------------------------------------------------------------
 * Model
 */
enum deit_arch {
    DEIT_ARCH_DEIT_WITH_TEACHER = 0,  /* DeiTForImageClassificationWithTeacher */
    DEIT_ARCH_DEIT_CLASSIFICATION,    /* DeiTForImageClassification */
    DEIT_ARCH_DEIT_MODEL,             /* DeiTModel */
    DEIT_ARCH_DEIT_MIM,               /* DeiTForMaskedImageModeling */
    DEIT_ARCH_VIT_CLASSIFICATION,     /* ViTForImageClassification */
    DEIT_ARCH_VIT_MODEL,              /* ViTModel */
    DEIT_ARCH_VIT_MIM,                /* ViTForMaskedImageModeling */
};
/* transformers class name of an architecture, e.g. "DeiTForImageClassificationWithTeacher" */
DEIT_API const char *deit_arch_to_string(enum deit_arch arch);
/* Families of architectures: ViT* (one prefix token) or DeiT* (two); classifiers (logits);
 * bare models (last hidden state, pooler); masked image modeling (reconstruction). */
DEIT_API bool deit_arch_is_vit(enum deit_arch arch);
DEIT_API bool deit_arch_is_classifier(enum deit_arch arch);
DEIT_API bool deit_arch_is_base(enum deit_arch arch);
DEIT_API bool deit_arch_is_mim(enum deit_arch arch);

/* config.json "hidden_act" (transformers activations.py ACT2FN; the names in quotes) */
enum deit_act {
    DEIT_ACT_GELU = 0,    /* "gelu", "gelu_python": exact 0.5*x*(1+erf(x/sqrt(2))) */
    DEIT_ACT_GELU_TANH,   /* "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate": tanh approximation */
    DEIT_ACT_QUICK_GELU,  /* "quick_gelu": x * sigmoid(1.702 x) */
    DEIT_ACT_RELU,        /* "relu" */
    DEIT_ACT_SILU,        /* "silu", "swish": x * sigmoid(x) */
    DEIT_ACT_GELU_10,     /* "gelu_10": exact gelu clipped to [-10, 10] */
    DEIT_ACT_RELU6,       /* "relu6": min(max(x, 0), 6) */
    DEIT_ACT_RELU2,       /* "relu2": relu(x)^2 */
    DEIT_ACT_LEAKY_RELU,  /* "leaky_relu": negative slope 0.01 */
    DEIT_ACT_SIGMOID,     /* "sigmoid" */
    DEIT_ACT_TANH,        /* "tanh" */
    DEIT_ACT_LINEAR,      /* "linear": identity */
    DEIT_ACT_MISH,        /* "mish": x * tanh(softplus(x)) */
    DEIT_ACT_LAPLACE,     /* "laplace": 0.5 * (1 + erf((x - 0.707107) / (0.282095 * sqrt(2)))) */
};
/* the transformers name of an activation ("gelu", "gelu_new", "relu", ...) */
DEIT_API const char *deit_act_to_string(enum deit_act act);

/* config.json "problem_type" (transformers PretrainedConfig): how the head was trained,
 * which decides the default scores (deit_model_score_function) */
enum deit_problem_type {
    DEIT_PROBLEM_UNSET = 0,          /* absent or null */
    DEIT_PROBLEM_SINGLE_LABEL,       /* "single_label_classification" */
    DEIT_PROBLEM_MULTI_LABEL,        /* "multi_label_classification" */
    DEIT_PROBLEM_REGRESSION,         /* "regression" */
};

/* From logits to the scores of deit_top_k_scores(), as transformers'
 * ImageClassificationPipeline calls them (its function_to_apply) */
enum deit_score_function {
    DEIT_SCORE_AUTO = 0,   /* the model's default: deit_model_score_function() */
    DEIT_SCORE_SOFTMAX,    /* probabilities over the classes, summing to 1 */
    DEIT_SCORE_SIGMOID,    /* one independent probability per class (multi-label) */
    DEIT_SCORE_NONE,       /* the logits themselves */
};

/* "auto", "softmax", "sigmoid", "none" (transformers' function_to_apply names) */
DEIT_API const char *deit_score_function_to_string(enum deit_score_function fn);

/* Pillow resample codes, as stored in preprocessor_config.json */
enum deit_resample {
    DEIT_RESAMPLE_NEAREST  = 0,
    DEIT_RESAMPLE_LANCZOS  = 1,
    DEIT_RESAMPLE_BILINEAR = 2,
    DEIT_RESAMPLE_BICUBIC  = 3,
    DEIT_RESAMPLE_BOX      = 4,
    DEIT_RESAMPLE_HAMMING  = 5,
};

/* What preprocessor_config.json asks for, defaults of the processor class filled in. */
struct deit_preprocess_config {
    bool   do_resize;
    int    resize_height;      /* > 0 when size is {height,width} (or a legacy int) */
    int    resize_width;
    int    shortest_edge;      /* > 0 when size is {shortest_edge}: aspect kept */
    enum deit_resample resample;
    bool   do_center_crop;
    int    crop_height;
    int    crop_width;
    bool   do_rescale;
    double rescale_factor;     /* applied in double, then cast to float (transformers) */
    bool   do_normalize;
    float  image_mean[3];
    float  image_std[3];
};

/* Processor defaults: processor_type "deit" (DeiTImageProcessor: bicubic 256, crop 224,
 * mean/std 0.5) or "vit" (ViTImageProcessor: bilinear 224, no crop, mean/std 0.5). */
DEIT_API struct deit_preprocess_config deit_preprocess_default_config(const char *processor_type);

/* Parse a preprocessor_config.json file. Missing keys take the defaults of the processor
 * class it names (image_processor_type / feature_extractor_type), else of
 * default_processor_type ("deit" or "vit"). A missing file is not an error: *out gets
 * the class defaults and a warning is logged. size / crop_size: {"height","width"},
 * {"shortest_edge"} (size only), a legacy int n (= n x n) or [h, w]. */
DEIT_API enum deit_status deit_preprocess_config_load(const char *path, const char *default_processor_type,
                                                      struct deit_preprocess_config *out,
                                                      struct deit_error *err);
DEIT_API enum deit_status deit_preprocess_config_parse(const char *json, size_t len,
                                                       const char *default_processor_type,
                                                       struct deit_preprocess_config *out,
                                                       struct deit_error *err);

struct deit_model_info {
    enum deit_arch arch;
    const char    *name;               /* _name_or_path from config.json, else directory name */
    int   hidden_size;                 /* D */
    int   num_layers;                  /* L */
    int   num_heads;                   /* H */
    int   head_dim;                    /* D / H */
    int   intermediate_size;           /* I */
    int   image_height, image_width;   /* config.image_size */
    int   patch_size;                  /* P */
    int   num_channels;                /* C (3) */
    int   num_patches;                 /* (image_height / P) * (image_width / P), rounded down */
    int   num_prefix_tokens;           /* 2 for DeiT (cls, distillation), 1 for ViT */
    int   num_tokens;                  /* num_patches + num_prefix_tokens */
    int   num_labels;                  /* classifier outputs, 0 for base / MIM models */
    int   encoder_stride;              /* MIM decoder pixel shuffle factor */
    int   pooler_output_size;          /* 0 when the checkpoint has no pooler */
    bool  qkv_bias;
    float layer_norm_eps;
    enum deit_act hidden_act;
    size_t weight_bytes;               /* bytes of float32 weights the forward pass reads */
    size_t weight_bytes_copied;        /* of those, bytes converted/copied at load (F16, BF16, unaligned, use_mmap false) */
    enum deit_problem_type problem_type; /* config.json problem_type */
    enum deit_act pooler_act;          /* config.json pooler_act (default tanh) */
};

struct deit_model_params {
    const char *weights_path;  /* NULL: <dir>/model.safetensors, else <dir>/pytorch_model.bin;
                                  else this file (a relative path: from the current
                                  directory, else from <dir>) */
    bool        use_mmap;      /* true: map the weight file and use aligned F32 tensors in place */
    /* true (default): deit_model_load() rearranges the encoder's linear weights once, in
     * place, into the 16-column panels our GEMM kernels read (every instruction set reads
     * the same panels), when the plan picks our kernels (deit_isa_best() is AVX2 or
     * AVX-512, every dimension a multiple of 16, the weights in the model's own memory).
     * false: OpenBLAS GEMMs on the weights as stored (an experiment;
     * DEIT_NO_PACKED_WEIGHTS=1 in the environment sets false as the default). */
    bool        packed_weights;
};
DEIT_API struct deit_model_params deit_model_default_params(void);

struct deit_model;

/* Load a checkpoint directory. params may be NULL (defaults). err may be NULL. */
DEIT_API struct deit_model *deit_model_load(const char *dir, const struct deit_model_params *params,
                                            struct deit_error *err);

/* Load from memory (tests, embedded use). config_json is required; preprocessor_json may
 * be NULL (class defaults). safetensors must stay valid until deit_model_free(). */
DEIT_API struct deit_model *deit_model_load_from_memory(const char *config_json, size_t config_len,
                                                        const char *preprocessor_json, size_t preprocessor_len,
                                                        const void *safetensors, size_t safetensors_len,
                                                        struct deit_error *err);
DEIT_API void deit_model_free(struct deit_model *model);

DEIT_API const struct deit_model_info        *deit_model_get_info(const struct deit_model *model);
DEIT_API const struct deit_preprocess_config *deit_model_get_preprocess_config(const struct deit_model *model);

/* Whether deit_state_preprocess() can feed this model: 3 input channels (config.json
 * num_channels) and a preprocessor_config.json whose resize + crop produce the model's
 * image_size. OK, or BAD_CONFIG with a message naming the fields to fix. Callers that
 * preprocess frames (the GStreamer element) check this once at start-up; callers that
 * fill deit_state_input() themselves need not. */
DEIT_API enum deit_status deit_model_check_preprocess(const struct deit_model *model, struct deit_error *err);

/* Label of a class from config.json id2label; "LABEL_<id>" when absent; NULL out of range. */
DEIT_API const char *deit_model_get_label(const struct deit_model *model, int class_id);

/* ---------------------------------------------------------------------------------------
 * Images (preprocessing input)
 */
enum deit_pixel_format {
    DEIT_PIXEL_FORMAT_RGB = 0,
    DEIT_PIXEL_FORMAT_BGR,
    DEIT_PIXEL_FORMAT_RGBX,
    DEIT_PIXEL_FORMAT_BGRX,
    DEIT_PIXEL_FORMAT_XRGB,
    DEIT_PIXEL_FORMAT_XBGR,
    DEIT_PIXEL_FORMAT_RGBA,
    DEIT_PIXEL_FORMAT_BGRA,
    DEIT_PIXEL_FORMAT_ARGB,
    DEIT_PIXEL_FORMAT_ABGR,
    DEIT_PIXEL_FORMAT_GRAY8,
    DEIT_PIXEL_FORMAT_I420,   /* planes Y, U, V; chroma 2x2 subsampled */
    DEIT_PIXEL_FORMAT_NV12,   /* planes Y, UV interleaved; chroma 2x2 subsampled */
    DEIT_PIXEL_FORMAT_YUY2,   /* packed Y0 U Y1 V */
    DEIT_PIXEL_FORMAT_COUNT
};

enum deit_color_matrix {
    DEIT_COLOR_MATRIX_BT601 = 0,
    DEIT_COLOR_MATRIX_BT709,
    DEIT_COLOR_MATRIX_BT2020,     /* GStreamer's default for caps of >= 2160 lines */
    DEIT_COLOR_MATRIX_SMPTE240M,
    DEIT_COLOR_MATRIX_FCC,
};

/* Chroma siting, with GstVideoChromaSite's bit values: pass GST_VIDEO_INFO_CHROMA_SITE()
 * as is (GstVideoInfo already holds GStreamer's default when caps have no chroma-site:
 * H-cosited above 576 lines, centred below). videoconvert interpolates NV12 / YUY2 chroma
 * differently per siting; its I420 -> RGB path repeats chroma samples whatever the siting. */
enum deit_chroma_site {
    DEIT_CHROMA_SITE_UNKNOWN   = 0,       /* centred, like "jpeg" (GST_VIDEO_CHROMA_SITE_NONE = 1) */
    DEIT_CHROMA_SITE_H_COSITED = 1 << 1,  /* "mpeg2": chroma on the left luma sample */
    DEIT_CHROMA_SITE_V_COSITED = 1 << 2,  /* with H: "cosited", "dv" */
};

/* Largest image side (pixels) the core accepts anywhere: frames, config image_size,
 * processor resize and crop sizes. 16384 keeps every size product within 64 bits and is
 * above any video format in use; the GStreamer element's caps use the same bound. */
#define DEIT_MAX_IMAGE_DIM 16384

struct deit_image {
    enum deit_pixel_format format;
    int             width, height;   /* 1 .. DEIT_MAX_IMAGE_DIM */
    const uint8_t  *data[3];         /* plane pointers (one for packed formats) */
    int             stride[3];       /* bytes per row of each plane */
    enum deit_color_matrix matrix;   /* YUV formats only (GstVideoInfo colorimetry.matrix) */
    bool            full_range;      /* YUV formats only: false = limited (16-235) */
    unsigned        chroma_site;     /* NV12 / YUY2 only: enum deit_chroma_site bits, 0 = centred */
};

struct deit_rect {
    int x, y, width, height;
};

/* A preprocessor: precomputed resampling coefficients and scratch for one frame geometry
 * at a time (recomputed when the input size changes). Not thread-safe; one per user.
 * n_threads <= 0 = all cores. Refuses (BAD_CONFIG) a config whose output size would
 * depend on the input (shortest_edge or do_resize false, without center crop). */
struct deit_preprocessor;
DEIT_API struct deit_preprocessor *deit_preprocessor_new(const struct deit_preprocess_config *config,
                                                         int n_threads, struct deit_error *err);
DEIT_API void deit_preprocessor_free(struct deit_preprocessor *pp);

/* Whether an image (or region) of width x height can go through config's resize: with
 * size {shortest_edge} the long side grows with the aspect ratio, and a resize beyond
 * DEIT_MAX_IMAGE_DIM is INVALID_ARG (the error deit_preprocess() would return for it).
 * Lets a caller skip such a region before preprocessing a batch that holds it. */
DEIT_API enum deit_status deit_preprocess_config_check_input(const struct deit_preprocess_config *config,
                                                             int width, int height, struct deit_error *err);

/* Output tensor geometry: channels-first float [3, out_height, out_width]. */
DEIT_API void deit_preprocessor_output_size(const struct deit_preprocessor *pp,
                                            int *out_height, int *out_width);

/* Full pipeline: colour conversion to RGB, resize (Pillow), center crop, rescale,
 * normalise. roi NULL = whole image; a roi partly outside the image is clipped to it, an
 * empty one is INVALID_ARG. out holds 3 * out_height * out_width floats. YUV formats give
 * what GStreamer 1.22 videoconvert ! video/x-raw,format=RGB would feed in. */
DEIT_API enum deit_status deit_preprocess(struct deit_preprocessor *pp, const struct deit_image *image,
                                          const struct deit_rect *roi, float *out);

/* The same pipeline stopped after the crop: interleaved uint8 RGB [out_height, out_width, 3],
 * what Pillow's resize + transformers' center_crop produce. For tests and debugging. */
DEIT_API enum deit_status deit_preprocess_u8(struct deit_preprocessor *pp, const struct deit_image *image,
                                             const struct deit_rect *roi, uint8_t *out_rgb);

/* ---------------------------------------------------------------------------------------
 * Inference state
 */
enum deit_attention {
    DEIT_ATTENTION_AUTO = 0,  /* fastest implementation for the shape */
    DEIT_ATTENTION_EAGER,     /* scores, softmax, weighted sum: transformers' "eager" */
    DEIT_ATTENTION_FUSED,     /* tiled online softmax, no full score matrix: like "sdpa" */
};

/* Instruction sets of the kernels, chosen at run time (cpuid plus the OS's XSAVE state
 * for the YMM / ZMM registers, XGETBV), never per call. */
enum deit_isa {
    DEIT_ISA_AUTO = 0,   /* the best this CPU and OS support (deit_isa_best()) */
    DEIT_ISA_PORTABLE,   /* plain C (GCC vector extensions) and OpenBLAS: any CPU */
    DEIT_ISA_AVX2,       /* x86-64 AVX2 + FMA */
    DEIT_ISA_AVX512,     /* x86-64 AVX-512 F + VL + BW + DQ (ZMM state enabled by the OS) */
};
/* "auto", "portable", "avx2", "avx512" */
DEIT_API const char *deit_isa_to_string(enum deit_isa isa);
/* Parse one of those names; false (and *out untouched) for anything else. */
DEIT_API bool deit_isa_from_string(const char *name, enum deit_isa *out);
/* Whether this CPU and OS can run the kernels of isa (AUTO and PORTABLE: always). */
DEIT_API bool deit_isa_supported(enum deit_isa isa);
/* What DEIT_ISA_AUTO resolves to: the best supported set, capped by the environment
 * (DEIT_ISA=portable|avx2|avx512, or DEIT_DISABLE_AVX2=1 for portable; for experiments
 * and tests). */
DEIT_API enum deit_isa deit_isa_best(void);

/* Layer schedules (see deit_state_init in deit-forward.c) */
enum deit_schedule {
    DEIT_SCHEDULE_AUTO = 0,  /* row-fused when one layer's weights fit in 4 MiB (DeiT-tiny) */
    DEIT_SCHEDULE_PHASES,    /* one phase per operation, GEMMs split by output columns */
    DEIT_SCHEDULE_ROWS,      /* row-fused: token rows through everything between two attentions */
};

/* How the workers share a batch (see deit_state_run in deit-forward.c) */
enum deit_batch_split {
    DEIT_BATCH_SPLIT_AUTO = 0, /* IMAGES (measured faster for every model size, bench/README.md) */
    DEIT_BATCH_SPLIT_SHARED,   /* every image's work split among all workers, phase by phase */
    DEIT_BATCH_SPLIT_IMAGES,   /* whole images per worker; the batch % workers left over shared */
};

/* Where the workers run (see deit-threads.c) */
enum deit_affinity {
    DEIT_AFFINITY_AUTO = 0, /* PIN */
    DEIT_AFFINITY_NONE,     /* wherever the OS puts them; the calling thread is worker 0 */
    /* one CPU each for the state's lifetime when they are exactly as many as the CPUs the
     * calling thread may run on (the default thread count), else NONE; the workers are all
     * threads of the state's own, the calling thread waits (its affinity is never changed) */
    DEIT_AFFINITY_PIN,
};

struct deit_state_params {
    int max_batch;                  /* images per deit_state_run(), >= 1 */
    int n_threads;                  /* worker threads incl. the caller; 0 = all cores */
    enum deit_attention attention;
    /* Kernels: AUTO = deit_isa_best(); an explicit set the CPU lacks fails with
     * INVALID_ARG (deit_isa_supported() tells in advance); deit_state_isa() says what a
     * state runs. */
    enum deit_isa isa;
    enum deit_schedule schedule;    /* default from DEIT_FUSE_ROWS=0|1 when set, else AUTO */
    /* Microseconds a waiting worker spins before it sleeps; -1 = 50 (default from
     * DEIT_SPIN_US when set). deit_state_init refuses values below -1, and enum fields
     * outside their enums, with INVALID_ARG. */
    int spin_us;
    /* Classification models read only the class (and distillation) token of the final
     * sequence, so by default their last layer runs the queries, attention, MLP and the
     * final LayerNorm for those tokens alone (keys and values for every token; ~7 % less
     * work, as llama.cpp skips unused output rows; the
     * logits are the same to the bit with the AVX2 packed kernels and eager attention, and
     * within float rounding, ~1e-6, on the OpenBLAS paths, whose blocking depends on M)
     * and DEIT_OUTPUT_LAST_HIDDEN_STATE is NULL for them. true computes every token (their
     * last_hidden_state becomes available). Base and MIM models always compute every
     * token. */
    bool full_hidden_state;
    /* default from DEIT_BATCH_SPLIT=shared|images when set, else AUTO; batches smaller
     * than the number of workers are always shared */
    enum deit_batch_split batch_split;
    /* default from DEIT_AFFINITY=none|pin when set, else AUTO */
    enum deit_affinity affinity;
};
DEIT_API struct deit_state_params deit_state_default_params(void);

struct deit_state;
DEIT_API struct deit_state *deit_state_init(const struct deit_model *model, const struct deit_state_params *params,
                                            struct deit_error *err);
DEIT_API void deit_state_free(struct deit_state *state);

/* The instruction set the state's kernels use (never AUTO), and whether its linear
 * layers run our kernels on the model's packed weights (else OpenBLAS). */
DEIT_API enum deit_isa deit_state_isa(const struct deit_state *state);
DEIT_API bool deit_state_packed_gemm(const struct deit_state *state);

/* Input slot of image b: float [C, image_height, image_width] (pixel_values[b]). */
DEIT_API float *deit_state_input(struct deit_state *state, int b);

/* bool_masked_pos of image b for masked image modeling: uint8 [num_patches], 1 = masked.
 * NULL for other architectures. Zeroed at state creation. A model whose encoder_stride is
 * not its patch_size takes no masked patch (deit_state_run returns INVALID_ARG), as
 * transformers refuses bool_masked_pos for it. With an image size that is not a multiple
 * of patch_size, masks are taken and the reconstruction is smaller than the input (see
 * DEIT_OUTPUT_RECONSTRUCTION); transformers' forward then fails in its loss, which
 * compares the two (we compute no loss). */
DEIT_API uint8_t *deit_state_mask(struct deit_state *state, int b);

/* Preprocess a frame straight into input slot b, with the model's preprocessor config
 * and the state's threads (the preprocessor is built by deit_state_init()). The model must
 * take 3 channels and the config's crop (or resize) size must equal the model's image
 * size, otherwise DEIT_STATUS_ERROR_BAD_CONFIG (deit_model_check_preprocess() tells in
 * advance). err (may be NULL) receives the message of any failure, e.g. an image size or
 * stride out of range. */
DEIT_API enum deit_status deit_state_preprocess(struct deit_state *state, int b, const struct deit_image *image,
                                                const struct deit_rect *roi, struct deit_error *err);

/* n images or regions at once, shared among the state's workers (one each at a time):
 * input slot b0 + i gets exactly what deit_state_preprocess(state, b0 + i, images[i],
 * rois ? &rois[i] : NULL, err) writes. For the many small regions of a frame (detector
 * boxes), which are each too small to split among the workers. On failure returns the
 * status of the first region that failed, and err says which and why; the others are
 * written all the same. */
DEIT_API enum deit_status deit_state_preprocess_many(struct deit_state *state, int b0, int n,
                                                     const struct deit_image *const *images,
                                                     const struct deit_rect *rois, struct deit_error *err);

/* Return true to stop a running inference (checked between layers: once per layer of the
 * batch, or, when the batch goes by whole images per worker (deit_state_params.batch_split),
 * once per layer of each image, by the worker running it). Called by the state's workers,
 * which are not the calling thread when they are pinned (deit_affinity), and in a batch
 * split by images by several at once: it must be thread-safe (an atomic flag). */
typedef bool (*deit_abort_callback)(void *user_data);

struct deit_run_params {
    deit_abort_callback abort_callback;
    void               *abort_user_data;
};
DEIT_API struct deit_run_params deit_run_default_params(void);

/* Run images 0..batch-1 of the input slots. params may be NULL. */
DEIT_API enum deit_status deit_state_run(struct deit_state *state, int batch, const struct deit_run_params *params);

enum deit_output {
    DEIT_OUTPUT_LOGITS = 0,          /* [num_labels] (classification architectures) */
    DEIT_OUTPUT_LAST_HIDDEN_STATE,   /* [num_tokens, D] after the final LayerNorm (classification
                                        models: only with deit_state_params.full_hidden_state) */
    DEIT_OUTPUT_POOLER,              /* [pooler_output_size] (base models with a pooler) */
    DEIT_OUTPUT_RECONSTRUCTION,      /* [C, (image_height / P) * encoder_stride,
                                        (image_width / P) * encoder_stride] (MIM), the patch
                                        grid rounded down: [C, image_height, image_width] when
                                        encoder_stride == P, as in every released checkpoint,
                                        and the image size is a multiple of P */
};

/* Output of image b from the last run; NULL if the architecture has no such output.
 * n_elements (may be NULL) receives the element count. */
DEIT_API const float *deit_state_get_output(const struct deit_state *state, enum deit_output which, int b,
                                            size_t *n_elements);

struct deit_class_score {
    int   class_id;
    float score;     /* probability in [0, 1] (softmax or sigmoid), or the logit (DEIT_SCORE_NONE) */
    float logit;
};

/* The scores transformers' image-classification pipeline gives this model by default:
 * DEIT_SCORE_SIGMOID when config.json's problem_type is "multi_label_classification" or
 * the head has a single output, else DEIT_SCORE_SOFTMAX (DEIT_SCORE_NONE for models
 * without a classification head). */
DEIT_API enum deit_score_function deit_model_score_function(const struct deit_model *model);

/* Scores of the logits of image b (the model's default function,
 * deit_model_score_function), then the k highest-scoring classes with score >=
 * threshold, highest first (ties: lower class id first). Returns how many were written
 * (<= k). A class whose score is not a number (NaN or infinite logits, from damaged
 * weights) is never written. */
DEIT_API int deit_state_top_k(const struct deit_state *state, int b, int k, float threshold,
                              struct deit_class_score *out);

/* The same on a plain logits vector (n >= 1) with the given function (DEIT_SCORE_AUTO
 * is softmax here: there is no model to ask). */
DEIT_API int deit_top_k_scores(const float *logits, int n, enum deit_score_function fn, int k, float threshold,
                               struct deit_class_score *out);

/* deit_top_k_scores() with DEIT_SCORE_SOFTMAX. */
DEIT_API int deit_top_k(const float *logits, int n, int k, float threshold, struct deit_class_score *out);

/* Number of worker threads "0 = all cores" resolves to: the CPUs the calling thread may
 * run on (its affinity mask: taskset, a container's cpuset) on Linux, else the online CPUs. */
DEIT_API int deit_default_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* DEIT_H */
