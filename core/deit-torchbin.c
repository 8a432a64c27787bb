/* deit-torchbin.c - pytorch_model.bin (torch >= 1.6 zip format) reader. Being written. */
#include "deit-internal.h"

#include <string.h>

enum deit_status deit_torchbin_parse(struct deit_tensor_file *tf, const uint8_t *data, size_t size,
                                     const char *source, struct deit_error *err) {
    memset(tf, 0, sizeof *tf);
    tf->format = "pytorch_model.bin";
    return deit_set_error(err, DEIT_STATUS_ERROR_UNSUPPORTED_FORMAT,
                          "%s: pytorch_model.bin is not supported yet; convert it to model.safetensors", source);
}
