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

physics.render_pixels takes its inputs and outputs as named tuples (built inside the
kernels, so each kernel's own arguments stay flat arrays): `Scene` (what every pixel reads),
`Entry` (the state the serial C gives a pixel) and `PixelOut` (where a pixel's results go).
The three optional arguments (tricubic, last, tr) stay plain arguments: Numba prunes an
`is None` branch at compile time only on a function's own argument.

A trace buffer is an array of TRACE_ROW records: the kernels write one row per TRACE event
(its `code`, one of TR_*, and that event's fields), output/trace.py reads the same fields by
name; row 0's `code` counts the events.
"""
from collections import namedtuple

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

# ---- physics.render_pixels' named arguments ----

Scene = namedtuple("Scene", "params src lattice Fhkl mask")
Scene.__doc__ = """What every pixel reads: the one-element PARAMS (or PARAMS32) record array, the sources
(rows X Y Z weight lambda), the flat lattice table (physics.lattice_table), the structure
factors Fhkl[h - h_min, k - k_min, l - l_min] and the mask (uint16 per pixel, empty: none)."""

Entry = namedtuple("Entry", "unrot_idx interp_cut")
Entry.__doc__ = """The entry state the serial C gives a pixel idx (kernels/serial_replay.py): its phi sweep
starts from the unrotated lattice unless idx > unrot_idx (the phi carryover), and it may
interpolate only while idx <= interp_cut (the interpolation switch-off)."""

PixelOut = namedtuple("PixelOut", "image flags omega base")
PixelOut.__doc__ = """Where pixel idx's results go: its float32 value to image[idx - base], its PIX_* flags to
flags[idx - base], the sum of its subpixels' omega_pixel to omega[idx - base]."""

# ---- trace buffer ----

TR_SUBPIXEL = 1    # a subpixel's geometry (source 0): pos, dif, inc, scat, airpath, omega_pixel, lam
TR_ROT = 2         # the first subpath's lattice: rot_a/b/c (angstroms), a/b/c_star, h k l, h0 k0 l0
TR_FLATT = 3       # the first subpath's F_latt_a, F_latt_b, F_latt_c, F_latt (SQUARE)
TR_PHI = 4         # each phi step's first subpath (SQUARE): phi_tic, phi, k, F_latt_b, F_latt
TR_FCELL = 5       # the first subpath's F_cell
TR_SOURCE2 = 6     # source 2's first subpath: F_cell, F_latt, polar, cos2theta, lam

TRACE_ROW = np.dtype([("code", np.int64)] + [(name, np.float64) for name in (
    "pos1", "pos2", "pos3", "dif1", "dif2", "dif3", "inc1", "inc2", "inc3", "scat1", "scat2", "scat3",
    "airpath", "omega_pixel", "lam",
    "rot_a1", "rot_a2", "rot_a3", "rot_b1", "rot_b2", "rot_b3", "rot_c1", "rot_c2", "rot_c3",
    "a_star1", "a_star2", "a_star3", "b_star1", "b_star2", "b_star3", "c_star1", "c_star2", "c_star3",
    "h", "k", "l", "h0", "k0", "l0",
    "F_latt_a", "F_latt_b", "F_latt_c", "F_latt", "phi_tic", "phi", "F_cell", "polar", "cos2theta")], align=True)
