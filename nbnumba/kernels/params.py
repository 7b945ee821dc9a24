"""What the render kernels read and write, as NumPy records with the C's names.

`params` (dtype PARAMS, or PARAMS32 for -precision single: the same fields with float32 in
place of float64) holds every scalar the render loop of nanoBragg.c reads, and its vectors as
three fields each (`fdet1 fdet2 fdet3` are the C's fdet_vector[1..3]).  The kernels take it
as a one-element array and read `params[0].pixel_size`; a record is as fast as numbered slots
on the CPU (docs/performance.md) and is passed by pointer on a GPU.  The other kernel inputs
are arrays of their own: the sources (rows X Y Z weight lambda), the flat lattice table
(physics.lattice_table), the structure factors and the mask.

`last` (dtype LAST, one element) receives the C's loop variables as one pixel leaves them:
what -printout prints, the trace's closing block and the interpolation warning read.
"""
import numpy as np

# float64 scalars (float32 under -precision single), the C's variable names
FLOATS = ("pixel_size", "subpixel_size", "distance", "close_distance", "detector_thick", "detector_thickstep",
          "detector_mu", "polarization", "dmin", "fudge", "Na", "Nb", "Nc", "default_F", "I_bg", "water_size",
          "phi0", "phistep", "r_e_sqr", "fluence")
# vectors: <name>1 <name>2 <name>3 are the C's <name>_vector[1..3] (a_star etc. are the C's own names)
VECTORS = ("fdet", "sdet", "odet", "pix0", "beam", "polar", "a_star", "b_star", "c_star")
INTS = ("fpixels", "spixels", "oversample", "detector_thicksteps", "sources", "phisteps", "mosaic_domains", "steps",
        "curved_detector", "point_pixel", "nopolar", "oversample_thick", "oversample_polar", "oversample_omega",
        "xtal_shape", "hkls", "h_min", "h_max", "h_range", "k_min", "k_max", "k_range", "l_min", "l_max", "l_range",
        "roi_xmin", "roi_xmax", "roi_ymin", "roi_ymax", "interpolate",
        "sweep_rotates")     # some phi step of the sweep is != 0 (it rotates ap,bp,cp)


def _params_dtype(float_type):
    return np.dtype([(name, float_type) for name in FLOATS]
                    + [(v + str(i), float_type) for v in VECTORS for i in (1, 2, 3)]
                    + [(name, np.int64) for name in INTS], align=True)


PARAMS = _params_dtype(np.float64)
PARAMS32 = _params_dtype(np.float32)

# "no such pixel" in the render's first-pixel results; as interp_cut, interpolation never switches off
NO_PIXEL = np.iinfo(np.int64).max

# what a pixel leaves behind: the C's loop variables after its last subpath
LAST = np.dtype([(name, np.float64) for name in (
    "I", "polar", "omega_pixel", "omega_sum", "capture_fraction", "Fdet", "Sdet", "airpath", "stol",
    "h", "k", "l", "h0", "k0", "l0", "F_cell", "F_latt",
    "oor_h", "oor_k", "oor_l", "oor_h0", "oor_k0", "oor_l0",      # the first out-of-range neighbourhood
    "lat_carry", "lat_phi", "lat_mos",                            # lattice[carry, phi, mos]: the C's a,b,c
    "pos1", "pos2", "pos3",                                       # pixel_pos of the last subpixel
    "inc1", "inc2", "inc3", "dif1", "dif2", "dif3")], align=True)  # incident, diffracted as last left

# pixel flags
PIX_EXECUTED = 1   # some subpath passed the dmin cut and ran its phi sweep
PIX_OOR = 2        # an interpolation neighbourhood fell outside the HKL grid
PIX_NAN_INDEX = 4  # a NaN h, k or l reached the tricubic interpolation (the C crashes there)

# trace buffer: row 0 holds the count, each row is [code, values...] (trace.py reads them)
TR_WIDTH = 32
TR_SUBPIXEL = 1
TR_ROT = 2
TR_FLATT = 3
TR_PHI = 4
TR_FCELL = 5
TR_SOURCE2 = 6
