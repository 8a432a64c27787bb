/* deit-safetensors.c - STUB, being written (safetensors / pytorch_model.bin readers). */
#include "deit-internal.h"
