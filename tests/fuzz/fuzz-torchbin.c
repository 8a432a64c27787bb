/* fuzz-torchbin.c - the pytorch_model.bin reader (zip + pickle, deit_torchbin_parse) on arbitrary bytes:
 * every tensor it accepts must lie inside the buffer. */
#include "fuzz-tensor-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_tensor_file(deit_torchbin_parse, "fuzz.bin", data, size);
}
