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


def _subpixel_lines(d, r):
    close = d.close_distance
    return [
        pixel_line("pix0_vector_meters", *d.pix0_vector[1:4]),
        pixel_line("fdet_vec", *d.fdet_vector[1:4]),
        pixel_line("sdet_vec", *d.sdet_vector[1:4]),
        pixel_line("pixel_pos_meters", r.pos1, r.pos2, r.pos3),
        pixel_line("R_distance_meters", r.airpath),
        pixel_line("omega_pixel_sr", r.omega_pixel),
        pixel_line("close_distance_meters", close),
        pixel_line("obliquity_factor", close / r.airpath),
        pixel_line("diffracted_vec", r.dif1, r.dif2, r.dif3),
        pixel_line("incident_vec", r.inc1, r.inc2, r.inc3),
        pixel_line("lambda_meters", r.lam),
        pixel_line("lambda_angstroms", r.lam * 1e10),
        pixel_line("scattering_vec_A_inv", r.scat1, r.scat2, r.scat3),
    ]


def _event_lines(d, r):
    """The TRACE_PY lines of one trace row (a params.TRACE_ROW record, read by field name)."""
    code = r.code
    if code == L.TR_SUBPIXEL:
        return _subpixel_lines(d, r)
    if code == L.TR_ROT:
        return [pixel_line("rot_a_angstroms", r.rot_a1, r.rot_a2, r.rot_a3),
                pixel_line("rot_b_angstroms", r.rot_b1, r.rot_b2, r.rot_b3),
                pixel_line("rot_c_angstroms", r.rot_c1, r.rot_c2, r.rot_c3),
                pixel_line("rot_a_star_A_inv", r.a_star1, r.a_star2, r.a_star3),
                pixel_line("rot_b_star_A_inv", r.b_star1, r.b_star2, r.b_star3),
                pixel_line("rot_c_star_A_inv", r.c_star1, r.c_star2, r.c_star3),
                pixel_line("hkl_frac", r.h, r.k, r.l), pixel_line("hkl_rounded", r.h0, r.k0, r.l0, ints=True)]
    if code == L.TR_FLATT:
        return [pixel_line("F_latt_a", r.F_latt_a), pixel_line("F_latt_b", r.F_latt_b),
                pixel_line("F_latt_c", r.F_latt_c), pixel_line("F_latt", r.F_latt)]
    if code == L.TR_PHI:
        return ["%s_PHI phi_tic=%s phi_deg=%s k_frac=%s F_latt_b=%s F_latt=%s"
                % (PREFIX, c_d(r.phi_tic), *(g15(x) for x in (r.phi * RTD, r.k, r.F_latt_b, r.F_latt)))]
    if code == L.TR_FCELL:
        return [pixel_line("F_cell", r.F_cell)]
    if code == L.TR_SOURCE2:
        return ["%s_SOURCE2: %s %s" % (PREFIX, label, g15(v)) for label, v in (
            ("F_cell", r.F_cell), ("F_latt", r.F_latt), ("F_cell_squared", r.F_cell * r.F_cell),
            ("F_latt_squared", r.F_latt * r.F_latt), ("I_contribution", r.F_cell * r.F_cell * r.F_latt * r.F_latt),
            ("polar", r.polar), ("cos2theta", r.cos2theta), ("lambda_angstroms", r.lam * 1e10))] + \
            ["%s_SOURCE2: source_index 2" % PREFIX]
    return []


def config_line(spixel, fpixel):
    """The instrumented C's line before its render loop."""
    return "%s_CONFIG: tracing pixel (spixel=%d, fpixel=%d)" % (PREFIX, spixel, fpixel)


def pixel_trace(records, pixel, idx, unrot_idx, interp_cut):
    """The TRACE_PY lines of rendered pixel idx (printed where the C prints them: while it
    renders that pixel), from its entry state in the run; pixel: the target's single-pixel
    render (kernels/cpu.py, kernels/cuda.py)."""
    options, st, sampling = records.options, records.steps, records.sampling
    rows = 2 + st.detector_thicksteps * sampling.oversample ** 2 * (5 + st.phisteps)
    tr = np.zeros(rows, dtype=L.TRACE_ROW)
    test, last = pixel(idx, unrot_idx, interp_cut, tr)
    lines = []
    for row in tr.view(np.recarray)[1:1 + tr[0]["code"]]:
        lines.extend(_event_lines(records.detector, row))
    lines += [
        pixel_line("I_before_scaling", last.I),
        pixel_line("r_e_meters", math.sqrt(options.r_e_sqr)),
        pixel_line("r_e_sqr", options.r_e_sqr),
        pixel_line("fluence_photons_per_m2", records.exposure.fluence),
        pixel_line("steps", sampling.steps, ints=True),
        pixel_line("oversample_thick", options.oversample_thick, ints=True),
        pixel_line("oversample_polar", options.oversample_polar, ints=True),
        pixel_line("oversample_omega", options.oversample_omega, ints=True),
        pixel_line("capture_fraction", last.capture_fraction),
        pixel_line("polar", last.polar),
        pixel_line("omega_pixel", last.omega_pixel),
        pixel_line("cos_2theta", last.inc1 * last.dif1 + last.inc2 * last.dif2 + last.inc3 * last.dif3),
        pixel_line("I_pixel_final", test),
        pixel_line("floatimage_accumulated", np.float32(test)),
    ]
    return lines
