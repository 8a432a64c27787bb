/* deit-log.c - the log callback, error filling, and the names of statuses and architectures. */
#include "deit-internal.h"

#include <stdio.h>
#include <string.h>

static deit_log_callback g_log_callback;
static void             *g_log_user_data;
/* > 0 while this thread fills errors it only keeps for later (deit_errors_quiet) */
static _Thread_local int g_errors_quiet;

void deit_errors_quiet(bool quiet) { g_errors_quiet += quiet ? 1 : -1; }

void deit_log_set(deit_log_callback callback, void *user_data) {
    g_log_callback  = callback;
    g_log_user_data = user_data;
}

bool deit_log_enabled(void) { return g_log_callback != NULL; }

static void log_va(enum deit_log_level level, const char *func, const char *fmt, va_list ap) {
    if (!g_log_callback) return;
    char buf[2048];
    int  n = snprintf(buf, sizeof buf, "%s: ", func);
    if (n < 0 || (size_t)n >= sizeof buf) n = 0;
    vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    g_log_callback(level, buf, g_log_user_data);
}

void deit_log_message(enum deit_log_level level, const char *func, const char *fmt, ...) {
    if (!g_log_callback) return;
    va_list ap;
    va_start(ap, fmt);
    log_va(level, func, fmt, ap);
    va_end(ap);
}

enum deit_status deit_set_error_in(const char *func, struct deit_error *err, enum deit_status status, const char *fmt,
                                   ...) {
    char    msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err) {
        err->status = status;
        memcpy(err->message, msg, sizeof msg);
    }
    /* messages that already start with the function's name ("deit_state_init: ...")
     * are logged once with it, not twice */
    const size_t fl    = strlen(func);
    const char  *body  = msg;
    if (strncmp(msg, func, fl) == 0 && msg[fl] == ':') body = msg + fl + 1 + (msg[fl + 1] == ' ');
    deit_log_message(g_errors_quiet ? DEIT_LOG_LEVEL_DEBUG : DEIT_LOG_LEVEL_ERROR, func, "%s (%s)", body,
                     deit_status_to_string(status));
    return status;
}

const char *deit_status_to_string(enum deit_status status) {
    switch (status) {
    case DEIT_STATUS_OK:                       return "ok";
    case DEIT_STATUS_ABORTED:                  return "aborted";
    case DEIT_STATUS_ERROR_INVALID_ARG:        return "invalid argument";
    case DEIT_STATUS_ERROR_NO_MEMORY:          return "out of memory";
    case DEIT_STATUS_ERROR_NOT_FOUND:          return "not found";
    case DEIT_STATUS_ERROR_IO:                 return "i/o error";
    case DEIT_STATUS_ERROR_BAD_JSON:           return "malformed json";
    case DEIT_STATUS_ERROR_BAD_CONFIG:         return "bad config";
    case DEIT_STATUS_ERROR_UNKNOWN_ARCH:       return "unknown architecture";
    case DEIT_STATUS_ERROR_UNSUPPORTED_ACT:    return "unsupported activation";
    case DEIT_STATUS_ERROR_BAD_HEADER:         return "bad weight file header";
    case DEIT_STATUS_ERROR_BAD_OFFSETS:        return "bad tensor offsets";
    case DEIT_STATUS_ERROR_TRUNCATED:          return "truncated file";
    case DEIT_STATUS_ERROR_MISSING_TENSOR:     return "missing tensor";
    case DEIT_STATUS_ERROR_BAD_DTYPE:          return "bad tensor dtype";
    case DEIT_STATUS_ERROR_BAD_SHAPE:          return "bad tensor shape";
    case DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT: return "unsupported format";
    case DEIT_STATUS_ERROR_THREAD:             return "thread error";
    }
    return "unknown status";
}

const char *deit_arch_to_string(enum deit_arch arch) {
    switch (arch) {
    case DEIT_ARCH_DEIT_WITH_TEACHER:   return "DeiTForImageClassificationWithTeacher";
    case DEIT_ARCH_DEIT_CLASSIFICATION: return "DeiTForImageClassification";
    case DEIT_ARCH_DEIT_MODEL:          return "DeiTModel";
    case DEIT_ARCH_DEIT_MIM:            return "DeiTForMaskedImageModeling";
    case DEIT_ARCH_VIT_CLASSIFICATION:  return "ViTForImageClassification";
    case DEIT_ARCH_VIT_MODEL:           return "ViTModel";
    case DEIT_ARCH_VIT_MIM:             return "ViTForMaskedImageModeling";
    }
    return "unknown";
}

const char *deit_act_to_string(enum deit_act act) {
    switch (act) {
    case DEIT_ACT_GELU:       return "gelu";
    case DEIT_ACT_GELU_TANH:  return "gelu_new";
    case DEIT_ACT_QUICK_GELU: return "quick_gelu";
    case DEIT_ACT_RELU:       return "relu";
    case DEIT_ACT_SILU:       return "silu";
    case DEIT_ACT_GELU_10:    return "gelu_10";
    case DEIT_ACT_RELU6:      return "relu6";
    case DEIT_ACT_RELU2:      return "relu2";
    case DEIT_ACT_LEAKY_RELU: return "leaky_relu";
    case DEIT_ACT_SIGMOID:    return "sigmoid";
    case DEIT_ACT_TANH:       return "tanh";
    case DEIT_ACT_LINEAR:     return "linear";
    case DEIT_ACT_MISH:       return "mish";
    case DEIT_ACT_LAPLACE:    return "laplace";
    }
    return "unknown";
}

bool deit_arch_is_vit(enum deit_arch a) {
    return a == DEIT_ARCH_VIT_CLASSIFICATION || a == DEIT_ARCH_VIT_MODEL || a == DEIT_ARCH_VIT_MIM;
}
bool deit_arch_is_classifier(enum deit_arch a) {
    return a == DEIT_ARCH_DEIT_WITH_TEACHER || a == DEIT_ARCH_DEIT_CLASSIFICATION || a == DEIT_ARCH_VIT_CLASSIFICATION;
}
bool deit_arch_is_base(enum deit_arch a) { return a == DEIT_ARCH_DEIT_MODEL || a == DEIT_ARCH_VIT_MODEL; }
bool deit_arch_is_mim(enum deit_arch a) { return a == DEIT_ARCH_DEIT_MIM || a == DEIT_ARCH_VIT_MIM; }
