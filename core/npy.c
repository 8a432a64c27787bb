/* npy.c - STUB, being written (NumPy .npy reader/writer for deit-infer). */
