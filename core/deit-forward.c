/* deit-forward.c - STUB, being written. */
#include "deit-internal.h"
