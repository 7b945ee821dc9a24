"""nbnumba: a C-faithful Numba port of James Holton's nanoBragg.c."""
__version__ = "0.1.0"
