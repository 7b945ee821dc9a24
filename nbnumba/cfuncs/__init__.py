"""The C library functions and nanoBragg.c helpers the port computes with: stdio parsing and printf, the C's random numbers, the vector helpers (shared by the set-up and the kernels)."""
