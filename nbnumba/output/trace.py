"""-trace_pixel S F: the instrumented C's TRACE lines for one pixel, as TRACE_PY lines.

The traced pixel is rendered again, alone, by the target that rendered the image (its
`pixel`: the same physics.render_pixels as its kernels), from the entry state the serial C
gives it, with a trace buffer in place of the kernels' None: the render kernels carry no
trace code (numba prunes it at compile time).
"""
import math

import numpy as np

from nbnumba.constants import RTD
from nbnumba.kernels import params as L
from nbnumba.tracefmt import PREFIX, c_d, g15, pixel_line


def _subpixel_lines(d, row):
    close = d.close_distance
    return [
        pixel_line("pix0_vector_meters", *d.pix0_vector[1:4]),
        pixel_line("fdet_vec", *d.fdet_vector[1:4]),
        pixel_line("sdet_vec", *d.sdet_vector[1:4]),
        pixel_line("pixel_pos_meters", *row[1:4]),
        pixel_line("R_distance_meters", row[13]),
        pixel_line("omega_pixel_sr", row[14]),
        pixel_line("close_distance_meters", close),
        pixel_line("obliquity_factor", close / row[13]),
        pixel_line("diffracted_vec", *row[4:7]),
        pixel_line("incident_vec", *row[7:10]),
        pixel_line("lambda_meters", row[15]),
        pixel_line("lambda_angstroms", row[15] * 1e10),
        pixel_line("scattering_vec_A_inv", *row[10:13]),
    ]


def _event_lines(d, row):
    code = int(row[0])
    if code == L.TR_SUBPIXEL:
        return _subpixel_lines(d, row)
    if code == L.TR_ROT:
        return [pixel_line("rot_a_angstroms", *row[1:4]), pixel_line("rot_b_angstroms", *row[4:7]),
                pixel_line("rot_c_angstroms", *row[7:10]), pixel_line("rot_a_star_A_inv", *row[10:13]),
                pixel_line("rot_b_star_A_inv", *row[13:16]), pixel_line("rot_c_star_A_inv", *row[16:19]),
                pixel_line("hkl_frac", *row[19:22]), pixel_line("hkl_rounded", *row[22:25], ints=True)]
    if code == L.TR_FLATT:
        return [pixel_line("F_latt_a", row[1]), pixel_line("F_latt_b", row[2]), pixel_line("F_latt_c", row[3]),
                pixel_line("F_latt", row[4])]
    if code == L.TR_PHI:
        return ["%s_PHI phi_tic=%s phi_deg=%s k_frac=%s F_latt_b=%s F_latt=%s"
                % (PREFIX, c_d(row[1]), *(g15(x) for x in (row[2] * RTD, row[3], row[4], row[5])))]
    if code == L.TR_FCELL:
        return [pixel_line("F_cell", row[1])]
    if code == L.TR_SOURCE2:
        F_cell, F_latt = row[1], row[2]
        return ["%s_SOURCE2: %s %s" % (PREFIX, label, g15(v)) for label, v in (
            ("F_cell", F_cell), ("F_latt", F_latt), ("F_cell_squared", F_cell * F_cell),
            ("F_latt_squared", F_latt * F_latt), ("I_contribution", F_cell * F_cell * F_latt * F_latt),
            ("polar", row[3]), ("cos2theta", row[4]), ("lambda_angstroms", row[5] * 1e10))] + \
            ["%s_SOURCE2: source_index 2" % PREFIX]
    return []


def config_line(spixel, fpixel):
    """The instrumented C's line before its render loop."""
    return "%s_CONFIG: tracing pixel (spixel=%d, fpixel=%d)" % (PREFIX, spixel, fpixel)


def pixel_trace(su, pixel, idx, unrot_idx, interp_cut):
    """The TRACE_PY lines of rendered pixel idx (printed where the C prints them: while it
    renders that pixel), from its entry state in the run; pixel: the target's single-pixel
    render (kernels/cpu.py, kernels/cuda.py)."""
    o, st, sampling = su.options, su.steps, su.sampling
    rows = 2 + st.detector_thicksteps * sampling.oversample ** 2 * (5 + st.phisteps)
    tr = np.zeros((rows, L.TR_WIDTH))
    test, last = pixel(idx, unrot_idx, interp_cut, tr)
    lines = []
    for row in tr[1:1 + int(tr[0, 0])]:
        lines.extend(_event_lines(su.detector, row))
    lines += [
        pixel_line("I_before_scaling", last.I),
        pixel_line("r_e_meters", math.sqrt(o.r_e_sqr)),
        pixel_line("r_e_sqr", o.r_e_sqr),
        pixel_line("fluence_photons_per_m2", su.exposure.fluence),
        pixel_line("steps", sampling.steps, ints=True),
        pixel_line("oversample_thick", o.oversample_thick, ints=True),
        pixel_line("oversample_polar", o.oversample_polar, ints=True),
        pixel_line("oversample_omega", o.oversample_omega, ints=True),
        pixel_line("capture_fraction", last.capture_fraction),
        pixel_line("polar", last.polar),
        pixel_line("omega_pixel", last.omega_pixel),
        pixel_line("cos_2theta", last.inc1 * last.dif1 + last.inc2 * last.dif2 + last.inc3 * last.dif3),
        pixel_line("I_pixel_final", test),
        pixel_line("floatimage_accumulated", np.float32(test)),
    ]
    return lines
