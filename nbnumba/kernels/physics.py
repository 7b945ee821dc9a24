"""The per-subpath physics of nanoBragg.c, written once for every target.

Every function here is marked ``register_jitable`` and compiled into both the CPU kernels
(``@njit``, kernels/cpu.py) and the CUDA kernels (``@cuda.jit``, kernels/cuda.py; the CUDA
simulator runs them as Python).  A -trace_pixel trace is the target's own kernel rendering
the pixel again with a trace buffer (output/trace.py).  The hot path works on scalar
3-vectors (cfuncs/vectors.py) in the C's operation order and allocates nothing.
"""
import math

import numpy as np
from numba.extending import register_jitable

from nbnumba.kernels.params import (PIX_EXECUTED, PIX_NAN_INDEX, PIX_OOR,
                                   TR_FCELL, TR_FLATT, TR_PHI, TR_ROT, TR_SOURCE2, TR_SUBPIXEL)
from nbnumba.constants import GAUSS, ROUND, SQUARE, TOPHAT
from nbnumba.cfuncs.vectors import cross3, rotate_axis, rotate_axis3, rotate_umat, unit3


# ---- lattice transforms and polarization (sincg(), sinc3(), polarization_factor()) ----

@register_jitable
def sincg(x, N):
    """sincg(): Fourier transform of a grating of N slits."""
    if x == 0.0:
        return N
    return math.sin(x * N) / math.sin(x)


@register_jitable
def sinc3(x):
    """sinc3(): Fourier transform of a sphere."""
    if x == 0.0:
        return 1.0
    return 3.0 * (math.sin(x) / x - math.cos(x)) / (x * x)


@register_jitable
def polarization_factor3(kahn_factor, i1, i2, i3, d1, d2, d3, a1, a2, a3):
    """polarization_factor().  The C unitizes incident, diffracted and axis in place: this
    returns (factor, unit incident, unit diffracted) so the caller can do the same."""
    _, i1, i2, i3 = unit3(i1, i2, i3)
    _, d1, d2, d3 = unit3(d1, d2, d3)
    _, a1, a2, a3 = unit3(a1, a2, a3)
    cos2theta = i1 * d1 + i2 * d2 + i3 * d3
    cos2theta_sqr = cos2theta * cos2theta
    sin2theta_sqr = 1.0 - cos2theta_sqr
    psi = 0.0
    if kahn_factor != 0.0:
        b1, b2, b3 = cross3(a1, a2, a3, i1, i2, i3)
        _, b1, b2, b3 = unit3(b1, b2, b3)
        e1, e2, e3 = cross3(i1, i2, i3, b1, b2, b3)
        _, e1, e2, e3 = unit3(e1, e2, e3)
        e_out = d1 * e1 + d2 * e2 + d3 * e3
        b_out = d1 * b1 + d2 * b2 + d3 * b3
        psi = -math.atan2(b_out, e_out)
    factor = 0.5 * (1.0 + cos2theta_sqr - kahn_factor * math.cos(2.0 * psi) * sin2theta_sqr)
    return factor, i1, i2, i3, d1, d2, d3


# ---- tricubic interpolation (polint(), polin2(), polin3(), lines ~3807-3845) ----

@register_jitable
def polint(xb, y0, y1, y2, y3, x):
    """polint(): cubic Lagrange polynomial through (xa[i], y_i), xa[i] = (double)(xb + i)."""
    xa0 = float(xb)
    xa1 = float(xb + 1)
    xa2 = float(xb + 2)
    xa3 = float(xb + 3)
    x0 = (x - xa1) * (x - xa2) * (x - xa3) * y0 / ((xa0 - xa1) * (xa0 - xa2) * (xa0 - xa3))
    x1 = (x - xa0) * (x - xa2) * (x - xa3) * y1 / ((xa1 - xa0) * (xa1 - xa2) * (xa1 - xa3))
    x2 = (x - xa0) * (x - xa1) * (x - xa3) * y2 / ((xa2 - xa0) * (xa2 - xa1) * (xa2 - xa3))
    x3 = (x - xa0) * (x - xa1) * (x - xa2) * y3 / ((xa3 - xa0) * (xa3 - xa1) * (xa3 - xa2))
    return x0 + x1 + x2 + x3


@register_jitable
def _polin2(Fhkl, i, kb, lb, k_first, l_first, x2, x3):
    """polin2() over the 4x4 plane Fhkl[i, kb:kb+4, lb:lb+4]."""
    y0 = polint(l_first, Fhkl[i, kb, lb], Fhkl[i, kb, lb + 1], Fhkl[i, kb, lb + 2], Fhkl[i, kb, lb + 3], x3)
    y1 = polint(l_first, Fhkl[i, kb + 1, lb], Fhkl[i, kb + 1, lb + 1], Fhkl[i, kb + 1, lb + 2],
                Fhkl[i, kb + 1, lb + 3], x3)
    y2 = polint(l_first, Fhkl[i, kb + 2, lb], Fhkl[i, kb + 2, lb + 1], Fhkl[i, kb + 2, lb + 2],
                Fhkl[i, kb + 2, lb + 3], x3)
    y3 = polint(l_first, Fhkl[i, kb + 3, lb], Fhkl[i, kb + 3, lb + 1], Fhkl[i, kb + 3, lb + 2],
                Fhkl[i, kb + 3, lb + 3], x3)
    return polint(k_first, y0, y1, y2, y3, x2)


@register_jitable
def polin3(Fhkl, h_first, k_first, l_first, h_min, k_min, l_min, x1, x2, x3):
    """polin3() over the 4x4x4 neighbourhood (the C's sub_Fhkl) whose first indices are
    h_first, k_first, l_first (= floor(h)-1, ...)."""
    hb = h_first - h_min
    kb = k_first - k_min
    lb = l_first - l_min
    return polint(h_first,
                  _polin2(Fhkl, hb, kb, lb, k_first, l_first, x2, x3),
                  _polin2(Fhkl, hb + 1, kb, lb, k_first, l_first, x2, x3),
                  _polin2(Fhkl, hb + 2, kb, lb, k_first, l_first, x2, x3),
                  _polin2(Fhkl, hb + 3, kb, lb, k_first, l_first, x2, x3), x1)


# ---- pieces of one subpixel and one subpath (main(), lines ~2650-2990) ----

@register_jitable
def subpixel_position(p, spixel, fpixel, subS, subF, Odet):
    """Fdet, Sdet and pixel_pos (metres from the sample) of subpixel (subS, subF) of a pixel in
    detector layer Odet; on a curved detector every pixel lies `distance` from the sample."""
    Fdet = p.subpixel_size * float(fpixel * p.oversample + subF) + p.subpixel_size / 2.0
    Sdet = p.subpixel_size * float(spixel * p.oversample + subS) + p.subpixel_size / 2.0
    pos1 = Fdet * p.fdet1 + Sdet * p.sdet1 + Odet * p.odet1 + p.pix01
    pos2 = Fdet * p.fdet2 + Sdet * p.sdet2 + Odet * p.odet2 + p.pix02
    pos3 = Fdet * p.fdet3 + Sdet * p.sdet3 + Odet * p.odet3 + p.pix03
    if p.curved_detector:
        # detector coordinates as radians about the slow, then the fast axis
        v1, v2, v3 = rotate_axis3(p.distance * p.beam1, p.distance * p.beam2, p.distance * p.beam3,
                                  p.sdet1, p.sdet2, p.sdet3, pos2 / p.distance)
        pos1, pos2, pos3 = rotate_axis3(v1, v2, v3, p.fdet1, p.fdet2, p.fdet3, pos3 / p.distance)
    return Fdet, Sdet, pos1, pos2, pos3


@register_jitable
def solid_angle(p, airpath):
    """omega_pixel: the pixel's solid angle seen from the sample (1/airpath^2 for -point_pixel)."""
    if p.point_pixel:
        return 1.0 / airpath / airpath
    return p.pixel_size * p.pixel_size / airpath / airpath * p.close_distance / airpath


@register_jitable
def capture_fraction(p, thick_tic, d1, d2, d3):
    """The fraction of the diffracted ray absorbed in detector layer thick_tic."""
    parallax = d1 * p.odet1 + d2 * p.odet2 + d3 * p.odet3
    return (math.exp(-float(thick_tic) * p.detector_thickstep * p.detector_mu / parallax)
            - math.exp(-float(thick_tic + 1) * p.detector_thickstep * p.detector_mu / parallax))


@register_jitable
def lattice_factor(p, h, k, l, h0, k0, l0):
    """F_latt of one subpath for the C's four crystal shapes (SQUARE: the product of three
    sincg; ROUND, GAUSS, TOPHAT: from the distance to the nearest reciprocal-lattice point).
    Returns (F_latt, F_latt_a, F_latt_b, F_latt_c); the per-axis factors are 1 except for
    SQUARE (the trace prints them)."""
    Na = p.Na
    Nb = p.Nb
    Nc = p.Nc
    F_latt = 1.0
    F_latt_a = 1.0
    F_latt_b = 1.0
    F_latt_c = 1.0
    rad_star_sqr = 0.0
    if p.xtal_shape == SQUARE:
        if Na > 1:
            F_latt_a = sincg(math.pi * h, Na)
            F_latt *= F_latt_a
        if Nb > 1:
            F_latt_b = sincg(math.pi * k, Nb)
            F_latt *= F_latt_b
        if Nc > 1:
            F_latt_c = sincg(math.pi * l, Nc)
            F_latt *= F_latt_c
    else:
        dh = h - float(h0)
        dk = k - float(k0)
        dl = l - float(l0)
        dx_star = dh * p.a_star1 + dk * p.b_star1 + dl * p.c_star1
        dy_star = dh * p.a_star2 + dk * p.b_star2 + dl * p.c_star2
        dz_star = dh * p.a_star3 + dk * p.b_star3 + dl * p.c_star3
        rad_star_sqr = (dx_star * dx_star + dy_star * dy_star + dz_star * dz_star) * Na * Na * Nb * Nb * Nc * Nc
    if p.xtal_shape == ROUND:
        hrad_sqr = ((h - float(h0)) * (h - float(h0)) * Na * Na + (k - float(k0)) * (k - float(k0)) * Nb * Nb
                    + (l - float(l0)) * (l - float(l0)) * Nc * Nc)
        F_latt = Na * Nb * Nc * 0.723601254558268 * sinc3(math.pi * math.sqrt(hrad_sqr * p.fudge))
    if p.xtal_shape == GAUSS:
        F_latt = Na * Nb * Nc * math.exp(-(rad_star_sqr / 0.63 * p.fudge))
    if p.xtal_shape == TOPHAT:
        F_latt = Na * Nb * Nc * (1.0 if rad_star_sqr * p.fudge < 0.3969 else 0.0)
    return F_latt, F_latt_a, F_latt_b, F_latt_c


@register_jitable
def lattice_factor_is_finite(p, h, k, l):
    """Whether a SQUARE crystal's F_latt is finite: each sincg(x, N) evaluated (N > 1) is, when
    x*N is (x == 0 gives N; a non-zero double is never a multiple of pi, so sin(x) != 0)."""
    return ((not p.Na > 1 or math.isfinite(math.pi * h * p.Na)) and (not p.Nb > 1 or math.isfinite(math.pi * k * p.Nb))
            and (not p.Nc > 1 or math.isfinite(math.pi * l * p.Nc)))


@register_jitable
def nearest_F(p, Fhkl, h0, k0, l0):
    """F_cell without interpolation: Fhkl at the nearest indices, default_F outside the grid."""
    if (p.hkls and h0 <= p.h_max and h0 >= p.h_min and k0 <= p.k_max and k0 >= p.k_min and l0 <= p.l_max
            and l0 >= p.l_min):
        return Fhkl[h0 - p.h_min, k0 - p.k_min, l0 - p.l_min]
    return p.default_F


@register_jitable
def tricubic_in_range(p, h, k, l):
    """Whether the 4x4x4 neighbourhood of (h, k, l) lies inside the HKL grid (the C's test)."""
    return not ((h - p.h_min + 3) > p.h_range or (h - 2 < p.h_min) or (k - p.k_min + 3) > p.k_range
                or (k - 2 < p.k_min) or (l - p.l_min + 3) > p.l_range or (l - 2 < p.l_min))


@register_jitable
def _trace_row(tr, code):
    """Index of the next free row of the trace buffer (params.TRACE_ROW records; row 0's code
    counts the events), its code set; -1 when the buffer is full."""
    row = tr[0].code + 1
    tr[0].code = row
    if row >= tr.shape[0]:
        return -1
    tr[row].code = code
    return row


@register_jitable
def _trace_subpixel(tr, pos1, pos2, pos3, d1, d2, d3, i1, i2, i3, s1, s2, s3, airpath, omega_pixel, lam):
    row = _trace_row(tr, TR_SUBPIXEL)
    if row >= 0:
        r = tr[row]
        r.pos1, r.pos2, r.pos3 = pos1, pos2, pos3
        r.dif1, r.dif2, r.dif3 = d1, d2, d3
        r.inc1, r.inc2, r.inc3 = i1, i2, i3
        r.scat1, r.scat2, r.scat3 = s1, s2, s3
        r.airpath, r.omega_pixel, r.lam = airpath, omega_pixel, lam


@register_jitable
def _trace_rotation(tr, p, lattice, base, h, k, l, h0, k0, l0):
    row = _trace_row(tr, TR_ROT)
    if row >= 0:
        r = tr[row]
        r.rot_a1, r.rot_a2, r.rot_a3 = lattice[base] * 1e10, lattice[base + 1] * 1e10, lattice[base + 2] * 1e10
        r.rot_b1, r.rot_b2, r.rot_b3 = lattice[base + 3] * 1e10, lattice[base + 4] * 1e10, lattice[base + 5] * 1e10
        r.rot_c1, r.rot_c2, r.rot_c3 = lattice[base + 6] * 1e10, lattice[base + 7] * 1e10, lattice[base + 8] * 1e10
        r.a_star1, r.a_star2, r.a_star3 = p.a_star1, p.a_star2, p.a_star3
        r.b_star1, r.b_star2, r.b_star3 = p.b_star1, p.b_star2, p.b_star3
        r.c_star1, r.c_star2, r.c_star3 = p.c_star1, p.c_star2, p.c_star3
        r.h, r.k, r.l = h, k, l
        r.h0, r.k0, r.l0 = float(h0), float(k0), float(l0)


@register_jitable
def _trace_flatt(tr, F_latt_a, F_latt_b, F_latt_c, F_latt):
    row = _trace_row(tr, TR_FLATT)
    if row >= 0:
        r = tr[row]
        r.F_latt_a, r.F_latt_b, r.F_latt_c, r.F_latt = F_latt_a, F_latt_b, F_latt_c, F_latt


@register_jitable
def _trace_phi(tr, phi_tic, phi, k, F_latt_b, F_latt):
    row = _trace_row(tr, TR_PHI)
    if row >= 0:
        r = tr[row]
        r.phi_tic, r.phi, r.k, r.F_latt_b, r.F_latt = float(phi_tic), phi, k, F_latt_b, F_latt


@register_jitable
def _trace_fcell(tr, F_cell):
    row = _trace_row(tr, TR_FCELL)
    if row >= 0:
        tr[row].F_cell = F_cell


@register_jitable
def _trace_source2(tr, F_cell, F_latt, polar, cos2theta, lam):
    row = _trace_row(tr, TR_SOURCE2)
    if row >= 0:
        r = tr[row]
        r.F_cell, r.F_latt, r.polar, r.cos2theta, r.lam = F_cell, F_latt, polar, cos2theta, lam


# ---- one pixel of the render loop (main(), lines ~2640-3040) ----

@register_jitable
def render_pixels(spixel, f_first, f_last, entry, scene, out, tricubic, last, tr):
    """Render pixels f_first..f_last-1 of row spixel exactly as the serial C does.

    scene (params.Scene): what every pixel reads; pixels the mask (if any) flags 0 are
        skipped (the caller keeps to the ROI).  scene.lattice is the flat table of the
        rotated cell a,b,c (x,y,z each) of every (carry state, phi step, mosaic domain),
        lattice_table(...)[..., 1:4].ravel(): invariant across pixels, so the kernels look it
        up instead of rotating per subpath (the C's own operations, same bits).
    entry (params.Entry): the entry state the serial C gives each pixel idx:
        - the phi carryover (idx > entry.unrot_idx).  The C rotates ap,bp,cp only at phi
          steps != 0, so a pixel starts from the lattice the previous pixel's sweep left: the
          rotation by the sweep's last non-zero phi once any sweep has run, else a0,b0,c0;
        - interpolate (on while idx <= entry.interp_cut): the C's shared flag.  Its first
          out-of-range neighbourhood switches it off for the rest of the run; that is reported
          in the pixel's flags (PIX_OOR) and last's oor_* fields so the caller can re-render
          later pixels.
    out (params.PixelOut): where pixel idx's float32 value, PIX_* flags and the sum of
        omega_pixel over its subpixels (its share of the C's omega_sum) go.
    tricubic: Fhkl when the run interpolates, else None: the kernels are then compiled
        without the tricubic code (fewer registers on a GPU).
    last: None in the render kernels, or a one-element LAST record array that receives the
        C's loop variables as the pixel leaves them.  tr: None, or a trace buffer (TRACE_ROW).
        With both None (the render kernels; numba prunes the branches at compile time) a
        subpath whose F_cell is 0 skips its lattice factor: its term F_cell^2*F_latt^2 is
        exactly +0.0 whenever F_latt is finite (SQUARE shape, no interpolation), the C's value.
    """
    src = scene.src
    lattice = scene.lattice
    Fhkl = scene.Fhkl
    mask = scene.mask
    p = scene.params[0]
    sources = p.sources
    phisteps = p.phisteps
    mosaic_domains = p.mosaic_domains
    oversample = p.oversample
    oversample_thick = p.oversample_thick
    oversample_polar = p.oversample_polar
    oversample_omega = p.oversample_omega
    dmin = p.dmin
    interpolate_on = p.interpolate if tricubic is not None else 0
    has_mask = mask.size > 0
    lattice_stride = phisteps * mosaic_domains * 9     # one carry state of the flat lattice table
    # F_cell before F_latt, and a zero F_cell's term without F_latt: the render kernels only
    skip_zero_terms = last is None and tr is None and p.xtal_shape == SQUARE

    for fpixel in range(f_first, f_last):
        idx = spixel * p.fpixels + fpixel
        if has_mask and mask[idx] == 0:
            continue
        interpolate = interpolate_on if idx <= entry.interp_cut else 0
        # phi carryover: which lattice the next sweep starts from (see lattice_table)
        carry = 1 if idx > entry.unrot_idx else 0

        flags = 0
        I = p.I_bg
        polar = 1.0 if p.nopolar else 0.0
        omega_pixel = 0.0
        omega_sum = 0.0
        capture = 0.0
        Fdet = 0.0
        Sdet = 0.0
        airpath = 0.0
        stol = 0.0
        pos1 = 0.0
        pos2 = 0.0
        pos3 = 0.0
        d1 = 0.0
        d2 = 0.0
        d3 = 0.0
        i1 = 0.0
        i2 = 0.0
        i3 = 0.0
        h = 0.0
        k = 0.0
        l = 0.0
        h0 = 0
        k0 = 0
        l0 = 0
        F_cell = 0.0
        F_latt = 0.0
        lat_carry = 0
        lat_phi = 0
        lat_mos = 0

        for thick_tic in range(p.detector_thicksteps):
            Odet = float(thick_tic) * p.detector_thickstep
            capture = 1.0 if p.detector_thick == 0.0 else 0.0
            for subS in range(oversample):
                for subF in range(oversample):
                    Fdet, Sdet, pos1, pos2, pos3 = subpixel_position(p, spixel, fpixel, subS, subF, Odet)
                    airpath, d1, d2, d3 = unit3(pos1, pos2, pos3)
                    # solid angle and sensor capture: computed at their first use, unless oversampled
                    if omega_pixel == 0.0 or oversample_omega:
                        omega_pixel = solid_angle(p, airpath)
                    omega_sum += omega_pixel
                    if capture == 0.0 or oversample_thick:
                        capture = capture_fraction(p, thick_tic, d1, d2, d3)

                    for source in range(sources):
                        i1 = -src[source, 0]
                        i2 = -src[source, 1]
                        i3 = -src[source, 2]
                        lam = src[source, 4]
                        # scattering vector
                        s1 = (d1 - i1) / lam
                        s2 = (d2 - i2) / lam
                        s3 = (d3 - i3) / lam
                        if tr is not None and source == 0:
                            _trace_subpixel(tr, pos1, pos2, pos3, d1, d2, d3, i1, i2, i3, s1, s2, s3, airpath,
                                            omega_pixel, lam)
                        stol = 0.5 * math.sqrt(s1 * s1 + s2 * s2 + s3 * s3)
                        if dmin > 0.0 and stol > 0.0:
                            if dmin > 0.5 / stol:
                                continue
                        flags |= PIX_EXECUTED
                        if polar == 0.0 or oversample_polar:
                            # polarization_factor() unitizes incident and diffracted in place
                            polar, i1, i2, i3, d1, d2, d3 = polarization_factor3(
                                p.polarization, i1, i2, i3, d1, d2, d3, p.polar1, p.polar2, p.polar3)

                        for phi_tic in range(phisteps):
                            # the C: ap = rotate_axis(a0, phi) if phi != 0; a = umat*ap if mosaic
                            base = carry * lattice_stride + phi_tic * mosaic_domains * 9
                            for mos_tic in range(mosaic_domains):
                                if last is not None:
                                    lat_carry = carry
                                    lat_phi = phi_tic
                                    lat_mos = mos_tic
                                # fractional Miller indices and the nearest integers
                                h = lattice[base] * s1 + lattice[base + 1] * s2 + lattice[base + 2] * s3
                                k = lattice[base + 3] * s1 + lattice[base + 4] * s2 + lattice[base + 5] * s3
                                l = lattice[base + 6] * s1 + lattice[base + 7] * s2 + lattice[base + 8] * s3
                                h0 = int(math.ceil(h - 0.5))
                                k0 = int(math.ceil(k - 0.5))
                                l0 = int(math.ceil(l - 0.5))
                                if tr is not None and source == 0 and mos_tic == 0 and phi_tic == 0:
                                    _trace_rotation(tr, p, lattice, base, h, k, l, h0, k0, l0)
                                base += 9

                                early_F = skip_zero_terms and not interpolate
                                if early_F:
                                    F_cell = nearest_F(p, Fhkl, h0, k0, l0)
                                if early_F and F_cell == 0.0 and lattice_factor_is_finite(p, h, k, l):
                                    # F_cell == 0: the C's I += F_cell*F_cell*F_latt*F_latt adds +0.0
                                    I += 0.0
                                else:
                                    F_latt, F_latt_a, F_latt_b, F_latt_c = lattice_factor(p, h, k, l, h0, k0, l0)
                                    if (tr is not None and p.xtal_shape == SQUARE and source == 0
                                            and mos_tic == 0):
                                        if phi_tic == 0:
                                            _trace_flatt(tr, F_latt_a, F_latt_b, F_latt_c, F_latt)
                                        _trace_phi(tr, phi_tic, p.phi0 + p.phistep * float(phi_tic), k, F_latt_b,
                                                   F_latt)
                                    if F_latt == 0.0 and p.water_size == 0.0:
                                        continue

                                    # structure factor (the C's integral_form branch is never enabled
                                    # by any flag: not ported)
                                    if tricubic is not None and interpolate:
                                        if h != h or k != k or l != l:
                                            # the C's range test passes a NaN: it interpolates around
                                            # floor(NaN), far outside Fhkl, and crashes; flag it (the
                                            # run is refused) and read nothing
                                            flags |= PIX_NAN_INDEX
                                            F_cell = p.default_F
                                        elif tricubic_in_range(p, h, k, l):
                                            F_cell = polin3(tricubic, int(math.floor(h)) - 1, int(math.floor(k)) - 1,
                                                            int(math.floor(l)) - 1, p.h_min, p.k_min, p.l_min,
                                                            h, k, l)
                                        else:
                                            if last is not None and not (flags & PIX_OOR):
                                                rec = last[0]
                                                rec.oor_h = h
                                                rec.oor_k = k
                                                rec.oor_l = l
                                                rec.oor_h0 = h0
                                                rec.oor_k0 = k0
                                                rec.oor_l0 = l0
                                            flags |= PIX_OOR
                                            interpolate = 0
                                    if not interpolate and not early_F:
                                        F_cell = nearest_F(p, Fhkl, h0, k0, l0)

                                    if tr is not None and mos_tic == 0 and phi_tic == 0:
                                        if source == 0:
                                            _trace_fcell(tr, F_cell)
                                        if source == 2:
                                            _trace_source2(tr, F_cell, F_latt, polar, i1 * d1 + i2 * d2 + i3 * d3, lam)

                                    I += F_cell * F_cell * F_latt * F_latt
                                if oversample_thick:
                                    I *= capture
                                if oversample_polar:
                                    I *= polar
                                if oversample_omega:
                                    I *= omega_pixel
                        if p.sweep_rotates:
                            carry = 1

        if last is not None:
            rec = last[0]
            rec.I = I
            rec.polar = polar
            rec.omega_pixel = omega_pixel
            rec.omega_sum = omega_sum
            rec.capture_fraction = capture
            rec.Fdet = Fdet
            rec.Sdet = Sdet
            rec.airpath = airpath
            rec.stol = stol
            rec.h = h
            rec.k = k
            rec.l = l
            rec.h0 = h0
            rec.k0 = k0
            rec.l0 = l0
            rec.F_cell = F_cell
            rec.F_latt = F_latt
            rec.lat_carry = lat_carry
            rec.lat_phi = lat_phi
            rec.lat_mos = lat_mos
            rec.pos1 = pos1
            rec.pos2 = pos2
            rec.pos3 = pos3
            rec.inc1 = i1
            rec.inc2 = i2
            rec.inc3 = i3
            rec.dif1 = d1
            rec.dif2 = d2
            rec.dif3 = d3
        # the C: floatimage[imgidx] += test, onto calloc's 0 (so -0.0 is stored as +0.0)
        out.image[idx - out.base] = np.float32(0.0 + pixel_value(p, I, capture, polar, omega_pixel))
        out.flags[idx - out.base] = flags
        out.omega[idx - out.base] = omega_sum


@register_jitable
def pixel_value(p, I, capture, polar, omega_pixel):
    """The end of the C's pixel loop: photons = r_e^2*fluence*I/steps, then the corrections
    not already applied per subpath (capture fraction, polarization, solid angle)."""
    test = p.r_e_sqr * p.fluence * I / p.steps
    if not p.oversample_thick:
        test *= capture
    if not p.oversample_polar:
        test *= polar
    if not p.oversample_omega:
        test *= omega_pixel
    return test


def lattice_table(a0, b0, c0, phi0, phistep, phisteps, spindle, umats, mosaic_spread):
    """The cell vectors every subpath of the C's sweep uses, indexed [carry, phi_tic, mos_tic,
    axis]: carry 0 starts the sweep from a0,b0,c0, carry 1 from the lattice a finished sweep
    leaves behind (the C's phi carryover).  Built with the C's operations in the C's order."""
    import numpy as np
    domains = len(umats) // 9
    table = np.zeros((2, max(phisteps, 0), domains, 3, 4))      # the C's sweep does not run for phisteps <= 0
    ap, bp, cp = a0.copy(), b0.copy(), c0.copy()
    for carry in range(2):
        # carry 1 continues from where the carry-0 sweep left ap,bp,cp
        for phi_tic in range(phisteps):
            phi = phi0 + phistep * phi_tic
            if phi != 0.0:
                rotate_axis(a0, ap, spindle, phi)
                rotate_axis(b0, bp, spindle, phi)
                rotate_axis(c0, cp, spindle, phi)
            for mos_tic in range(domains):
                for axis, v in enumerate((ap, bp, cp)):
                    if mosaic_spread > 0.0:
                        rotate_umat(v, table[carry, phi_tic, mos_tic, axis], umats, mos_tic * 9)
                    else:
                        table[carry, phi_tic, mos_tic, axis, 1:4] = v[1:4]
    return table
