/* fuzz-safetensors.c - the safetensors parser (deit_safetensors_parse) on arbitrary bytes:
 * every tensor it accepts must lie inside the buffer. */
#include "fuzz-tensor-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_tensor_file(deit_safetensors_parse, "fuzz.safetensors", data, size);
}
