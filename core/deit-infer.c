/* deit-infer.c - STUB, being written (command-line inference on .npy inputs). */
#include "deit.h"
#include <stdio.h>
int main(void) { fprintf(stderr, "deit-infer: not implemented yet\n"); return 1; }
