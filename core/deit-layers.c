/* deit-layers.c - STUB, being written. */
#include "deit-internal.h"
