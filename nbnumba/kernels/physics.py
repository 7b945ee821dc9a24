"""The per-subpath physics of nanoBragg.c, written once for every target.

Every function here is a plain Python function marked ``register_jitable``: it runs as
ordinary Python (the trace stage calls it that way), and it is compiled into both the CPU
kernel (``@njit``) and the CUDA kernel (``@cuda.jit``).  The hot path works on scalar
3-vectors (kernels/vectors.py) in the C's operation order and allocates nothing.
"""
import math

import numpy as np
from numba.extending import register_jitable

from nbnumba.kernels.vectors import cross3, rotate_axis, rotate_axis3, rotate_umat, unit3
from nbnumba.kernels.layout import (
    FP_CLOSE_DISTANCE, FP_DEFAULT_F, FP_DETECTOR_MU, FP_DETECTOR_THICK, FP_DETECTOR_THICKSTEP,
    FP_DISTANCE, FP_DMIN, FP_FLUENCE, FP_FUDGE, FP_I_BG, FP_NA, FP_NB, FP_NC, FP_PHI0, FP_PHISTEP,
    FP_PIXEL_SIZE, FP_POLARIZATION, FP_R_E_SQR, FP_SUBPIXEL_SIZE, FP_WATER_SIZE, IP_CURVED,
    IP_FPIXELS, IP_HKLS, IP_H_MAX, IP_H_MIN, IP_H_RANGE, IP_INTERPOLATE, IP_K_MAX, IP_K_MIN,
    IP_K_RANGE, IP_L_MAX, IP_L_MIN, IP_L_RANGE, IP_MOSAIC_DOMAINS, IP_NOPOLAR, IP_OVERSAMPLE,
    IP_OVERSAMPLE_OMEGA, IP_OVERSAMPLE_POLAR, IP_OVERSAMPLE_THICK, IP_PHISTEPS, IP_POINT_PIXEL,
    IP_SOURCES, IP_STEPS, IP_SWEEP_ROTATES, IP_THICKSTEPS, IP_XTAL_SHAPE, L_AIRPATH, L_CAPTURE,
    L_DIF1, L_DIF2, L_DIF3, L_FDET, L_F_CELL, L_F_LATT, L_H, L_H0, L_I, L_INC1, L_INC2, L_INC3,
    L_K, L_K0, L_L, L_L0, L_LAT_CARRY, L_LAT_MOS, L_LAT_PHI, L_OMEGA, L_OMEGA_SUM, L_OOR_H,
    L_OOR_H0, L_OOR_K, L_OOR_K0, L_OOR_L, L_OOR_L0, L_POLAR, L_POS1, L_POS2, L_POS3, L_SDET,
    L_STOL, PIX_EXECUTED, PIX_OOR, SHAPE_GAUSS, SHAPE_ROUND, SHAPE_SQUARE, SHAPE_TOPHAT, TR_FCELL,
    TR_FLATT, TR_PHI, TR_ROT, TR_SOURCE2, TR_SUBPIXEL, V_A_STAR, V_BEAM, V_B_STAR, V_C_STAR,
    V_FDET, V_ODET, V_PIX0, V_POLAR, V_SDET,
)


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


# ---- pieces of one subpath (main(), lines ~2700-2990) ----

@register_jitable
def lattice_factor(xtal_shape, h, k, l, h0, k0, l0, Na, Nb, Nc, fudge, vec):
    """F_latt of one subpath for the C's four crystal shapes (SQUARE: the product of three
    sincg; ROUND, GAUSS, TOPHAT: from the distance to the nearest reciprocal-lattice point).
    Returns (F_latt, F_latt_a, F_latt_b, F_latt_c); the per-axis factors are 1 except for
    SQUARE (the trace prints them)."""
    F_latt = 1.0
    F_latt_a = 1.0
    F_latt_b = 1.0
    F_latt_c = 1.0
    rad_star_sqr = 0.0
    if xtal_shape == SHAPE_SQUARE:
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
        dx_star = dh * vec[V_A_STAR, 1] + dk * vec[V_B_STAR, 1] + dl * vec[V_C_STAR, 1]
        dy_star = dh * vec[V_A_STAR, 2] + dk * vec[V_B_STAR, 2] + dl * vec[V_C_STAR, 2]
        dz_star = dh * vec[V_A_STAR, 3] + dk * vec[V_B_STAR, 3] + dl * vec[V_C_STAR, 3]
        rad_star_sqr = (dx_star * dx_star + dy_star * dy_star + dz_star * dz_star) * Na * Na * Nb * Nb * Nc * Nc
    if xtal_shape == SHAPE_ROUND:
        hrad_sqr = ((h - float(h0)) * (h - float(h0)) * Na * Na + (k - float(k0)) * (k - float(k0)) * Nb * Nb
                    + (l - float(l0)) * (l - float(l0)) * Nc * Nc)
        F_latt = Na * Nb * Nc * 0.723601254558268 * sinc3(math.pi * math.sqrt(hrad_sqr * fudge))
    if xtal_shape == SHAPE_GAUSS:
        F_latt = Na * Nb * Nc * math.exp(-(rad_star_sqr / 0.63 * fudge))
    if xtal_shape == SHAPE_TOPHAT:
        F_latt = Na * Nb * Nc * (1.0 if rad_star_sqr * fudge < 0.3969 else 0.0)
    return F_latt, F_latt_a, F_latt_b, F_latt_c


@register_jitable
def sincg_is_finite(x, N):
    """Whether sincg(x, N), as lattice_factor calls it, is finite: N <= 1 is not evaluated (1.0),
    x == 0 gives N, otherwise sin(x*N)/sin(x) is finite exactly when x*N is (a non-zero double
    is never a multiple of pi, so sin(x) != 0)."""
    if not N > 1:
        return True
    return math.isfinite(x * N)


@register_jitable
def nearest_F(Fhkl, hkls, h0, k0, l0, h_min, h_max, k_min, k_max, l_min, l_max, default_F):
    """F_cell without interpolation: Fhkl at the nearest indices, default_F outside the grid."""
    if hkls and h0 <= h_max and h0 >= h_min and k0 <= k_max and k0 >= k_min and l0 <= l_max and l0 >= l_min:
        return Fhkl[h0 - h_min, k0 - k_min, l0 - l_min]
    return default_F


@register_jitable
def _trace_row(tr, code):
    """Next free row of the trace buffer (row 0 holds the count), or -1 when it is full."""
    n = int(tr[0, 0])
    tr[0, 0] = n + 1
    row = n + 1
    if row >= tr.shape[0]:
        return -1
    tr[row, 0] = code
    return row


# ---- one pixel of the render loop (main(), lines ~2640-3040) ----

@register_jitable
def render_pixels(spixel, f_first, f_last, unrot_idx, interp_cut, fp, ip, vec, src, lattice, Fhkl, tricubic, mask,
                  image, flags_out, omega_out, out_base, last, tr):
    """Render pixels f_first..f_last-1 of row spixel exactly as the serial C does.

    Pixels the mask (if any) flags 0 are skipped (the caller keeps to the ROI); pixel idx
    goes to image[idx - out_base] (float32), its PIX_* flags to flags_out[idx - out_base] and
    the sum of omega_pixel over its subpixels (its share of the C's omega_sum) to
    omega_out[idx - out_base].
    Each pixel starts from the entry state the serial C gives it:
    start_rotated (idx > unrot_idx): the phi carryover.  The C rotates ap,bp,cp only at phi steps != 0, so a
        pixel starts from the lattice the previous pixel's sweep left: the rotation by the
        sweep's last non-zero phi once any sweep has run, else a0,b0,c0.
    lattice: flat float64 table of the rotated cell a,b,c (x,y,z each) of every (carry state,
        phi step, mosaic domain), lattice_table(...).ravel(): invariant across pixels, so the
        kernels look it up instead of rotating per subpath (the C's own operations, same bits).
    interpolate (on while idx <= interp_cut): the C's shared flag.  Its first out-of-range
        neighbourhood switches it off for the rest of the run; that is reported in the
        pixel's flags (PIX_OOR) and last[L_OOR_*] so the caller can re-render later pixels.
    tricubic: Fhkl when the run interpolates, else None: the kernels are then compiled
        without the tricubic code (fewer registers on a GPU).
    last: None in the render kernels, or a float64 array that receives the C's loop
        variables as the pixel leaves them (L_* slots: -printout, the trace's scaling block,
        the interpolation warning).  tr: None, or a trace buffer (layout.TR_*).  With both
        None (the render kernels; numba prunes the branches at compile time) a subpath whose
        F_cell is 0 skips its lattice factor: its term F_cell^2*F_latt^2 is exactly +0.0
        whenever F_latt is finite (SQUARE shape, no interpolation), the C's value to the bit.
    """
    fdet1 = vec[V_FDET, 1]
    fdet2 = vec[V_FDET, 2]
    fdet3 = vec[V_FDET, 3]
    sdet1 = vec[V_SDET, 1]
    sdet2 = vec[V_SDET, 2]
    sdet3 = vec[V_SDET, 3]
    odet1 = vec[V_ODET, 1]
    odet2 = vec[V_ODET, 2]
    odet3 = vec[V_ODET, 3]
    pix01 = vec[V_PIX0, 1]
    pix02 = vec[V_PIX0, 2]
    pix03 = vec[V_PIX0, 3]

    pixel_size = fp[FP_PIXEL_SIZE]
    subpixel_size = fp[FP_SUBPIXEL_SIZE]
    distance = fp[FP_DISTANCE]
    close_distance = fp[FP_CLOSE_DISTANCE]
    detector_thick = fp[FP_DETECTOR_THICK]
    detector_thickstep = fp[FP_DETECTOR_THICKSTEP]
    detector_mu = fp[FP_DETECTOR_MU]
    polarization = fp[FP_POLARIZATION]
    dmin = fp[FP_DMIN]
    fudge = fp[FP_FUDGE]
    Na = fp[FP_NA]
    Nb = fp[FP_NB]
    Nc = fp[FP_NC]
    default_F = fp[FP_DEFAULT_F]
    water_size = fp[FP_WATER_SIZE]
    phi0 = fp[FP_PHI0]
    phistep = fp[FP_PHISTEP]

    oversample = ip[IP_OVERSAMPLE]
    detector_thicksteps = ip[IP_THICKSTEPS]
    sources = ip[IP_SOURCES]
    phisteps = ip[IP_PHISTEPS]
    mosaic_domains = ip[IP_MOSAIC_DOMAINS]
    curved_detector = ip[IP_CURVED]
    point_pixel = ip[IP_POINT_PIXEL]
    oversample_thick = ip[IP_OVERSAMPLE_THICK]
    oversample_polar = ip[IP_OVERSAMPLE_POLAR]
    oversample_omega = ip[IP_OVERSAMPLE_OMEGA]
    xtal_shape = ip[IP_XTAL_SHAPE]
    hkls = ip[IP_HKLS]
    h_min = ip[IP_H_MIN]
    h_max = ip[IP_H_MAX]
    h_range = ip[IP_H_RANGE]
    k_min = ip[IP_K_MIN]
    k_max = ip[IP_K_MAX]
    k_range = ip[IP_K_RANGE]
    l_min = ip[IP_L_MIN]
    l_max = ip[IP_L_MAX]
    l_range = ip[IP_L_RANGE]
    sweep_rotates = ip[IP_SWEEP_ROTATES]
    fpixels = ip[IP_FPIXELS]
    interpolate_on = ip[IP_INTERPOLATE] if tricubic is not None else 0
    has_mask = mask.size > 0
    lattice_stride = phisteps * mosaic_domains * 9     # one carry state of the flat lattice table
    # F_cell before F_latt, and a zero F_cell's term without F_latt: the render kernels only
    skip_zero_terms = last is None and tr is None and xtal_shape == SHAPE_SQUARE

    for fpixel in range(f_first, f_last):
        idx = spixel * fpixels + fpixel
        if has_mask and mask[idx] == 0:
            continue
        interpolate = interpolate_on if idx <= interp_cut else 0
        # phi carryover: which lattice the next sweep starts from (see lattice_table)
        carry = 1 if idx > unrot_idx else 0

        flags = 0
        I = fp[FP_I_BG]
        polar = 0.0
        if ip[IP_NOPOLAR]:
            polar = 1.0
        omega_pixel = 0.0
        omega_sum = 0.0
        capture_fraction = 0.0
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

        for thick_tic in range(detector_thicksteps):
            Odet = float(thick_tic) * detector_thickstep
            capture_fraction = 0.0
            if detector_thick == 0.0:
                capture_fraction = 1.0
            for subS in range(oversample):
                for subF in range(oversample):
                    Fdet = subpixel_size * float(fpixel * oversample + subF) + subpixel_size / 2.0
                    Sdet = subpixel_size * float(spixel * oversample + subS) + subpixel_size / 2.0
                    pos1 = Fdet * fdet1 + Sdet * sdet1 + Odet * odet1 + pix01
                    pos2 = Fdet * fdet2 + Sdet * sdet2 + Odet * odet2 + pix02
                    pos3 = Fdet * fdet3 + Sdet * sdet3 + Odet * odet3 + pix03
                    if curved_detector:
                        # a pixel always `distance` from the sample: detector coordinates as radians
                        v1, v2, v3 = rotate_axis3(distance * vec[V_BEAM, 1], distance * vec[V_BEAM, 2],
                                                  distance * vec[V_BEAM, 3], sdet1, sdet2, sdet3, pos2 / distance)
                        pos1, pos2, pos3 = rotate_axis3(v1, v2, v3, fdet1, fdet2, fdet3, pos3 / distance)
                    airpath, d1, d2, d3 = unit3(pos1, pos2, pos3)

                    # solid angle (omega_pixel) and sensor capture fraction: once, unless oversampled
                    if omega_pixel == 0.0 or oversample_omega:
                        omega_pixel = pixel_size * pixel_size / airpath / airpath * close_distance / airpath
                        if point_pixel:
                            omega_pixel = 1.0 / airpath / airpath
                    omega_sum += omega_pixel

                    if capture_fraction == 0.0 or oversample_thick:
                        parallax = d1 * odet1 + d2 * odet2 + d3 * odet3
                        capture_fraction = (math.exp(-float(thick_tic) * detector_thickstep * detector_mu / parallax)
                                            - math.exp(-float(thick_tic + 1) * detector_thickstep * detector_mu / parallax))

                    for source in range(sources):
                        i1 = -src[source, 0]
                        i2 = -src[source, 1]
                        i3 = -src[source, 2]
                        lam = src[source, 4]
                        s1 = (d1 - i1) / lam
                        s2 = (d2 - i2) / lam
                        s3 = (d3 - i3) / lam

                        if tr is not None:
                            if source == 0:
                                row = _trace_row(tr, TR_SUBPIXEL)
                                if row >= 0:
                                    tr[row, 1] = pos1
                                    tr[row, 2] = pos2
                                    tr[row, 3] = pos3
                                    tr[row, 4] = d1
                                    tr[row, 5] = d2
                                    tr[row, 6] = d3
                                    tr[row, 7] = i1
                                    tr[row, 8] = i2
                                    tr[row, 9] = i3
                                    tr[row, 10] = s1
                                    tr[row, 11] = s2
                                    tr[row, 12] = s3
                                    tr[row, 13] = airpath
                                    tr[row, 14] = omega_pixel
                                    tr[row, 15] = lam

                        stol = 0.5 * math.sqrt(s1 * s1 + s2 * s2 + s3 * s3)
                        if dmin > 0.0 and stol > 0.0:
                            if dmin > 0.5 / stol:
                                continue
                        flags |= PIX_EXECUTED

                        if polar == 0.0 or oversample_polar:
                            # polarization_factor() unitizes incident and diffracted in place
                            polar, i1, i2, i3, d1, d2, d3 = polarization_factor3(
                                polarization, i1, i2, i3, d1, d2, d3, vec[V_POLAR, 1], vec[V_POLAR, 2], vec[V_POLAR, 3])

                        for phi_tic in range(phisteps):
                            phi = phi0 + phistep * float(phi_tic)
                            # the C: ap = rotate_axis(a0, phi) if phi != 0; a = umat*ap if mosaic
                            base = carry * lattice_stride + phi_tic * mosaic_domains * 9
                            for mos_tic in range(mosaic_domains):
                                lat_carry = carry
                                lat_phi = phi_tic
                                lat_mos = mos_tic
                                h = lattice[base] * s1 + lattice[base + 1] * s2 + lattice[base + 2] * s3
                                k = lattice[base + 3] * s1 + lattice[base + 4] * s2 + lattice[base + 5] * s3
                                l = lattice[base + 6] * s1 + lattice[base + 7] * s2 + lattice[base + 8] * s3
                                base += 9
                                h0 = int(math.ceil(h - 0.5))
                                k0 = int(math.ceil(k - 0.5))
                                l0 = int(math.ceil(l - 0.5))

                                if tr is not None:
                                    if source == 0 and mos_tic == 0 and phi_tic == 0:
                                        row = _trace_row(tr, TR_ROT)
                                        if row >= 0:
                                            for j in range(9):
                                                tr[row, 1 + j] = lattice[base - 9 + j] * 1e10
                                            for axis in range(3):
                                                for j in range(3):
                                                    tr[row, 10 + 3 * axis + j] = vec[V_A_STAR + axis, 1 + j]
                                            tr[row, 19] = h
                                            tr[row, 20] = k
                                            tr[row, 21] = l
                                            tr[row, 22] = h0
                                            tr[row, 23] = k0
                                            tr[row, 24] = l0

                                early_F = skip_zero_terms and not interpolate
                                if early_F:
                                    F_cell = nearest_F(Fhkl, hkls, h0, k0, l0, h_min, h_max, k_min, k_max, l_min, l_max,
                                                       default_F)
                                if (early_F and F_cell == 0.0 and sincg_is_finite(math.pi * h, Na)
                                        and sincg_is_finite(math.pi * k, Nb) and sincg_is_finite(math.pi * l, Nc)):
                                    # F_cell == 0: the C's I += F_cell*F_cell*F_latt*F_latt adds +0.0
                                    I += 0.0
                                else:
                                    F_latt, F_latt_a, F_latt_b, F_latt_c = lattice_factor(
                                        xtal_shape, h, k, l, h0, k0, l0, Na, Nb, Nc, fudge, vec)
                                    if tr is not None:
                                        if xtal_shape == SHAPE_SQUARE and source == 0 and mos_tic == 0:
                                            if phi_tic == 0:
                                                row = _trace_row(tr, TR_FLATT)
                                                if row >= 0:
                                                    tr[row, 1] = F_latt_a
                                                    tr[row, 2] = F_latt_b
                                                    tr[row, 3] = F_latt_c
                                                    tr[row, 4] = F_latt
                                            row = _trace_row(tr, TR_PHI)
                                            if row >= 0:
                                                tr[row, 1] = phi_tic
                                                tr[row, 2] = phi
                                                tr[row, 3] = k
                                                tr[row, 4] = F_latt_b
                                                tr[row, 5] = F_latt
                                    if F_latt == 0.0 and water_size == 0.0:
                                        continue

                                    # the C's integral_form branch is never enabled by any flag: not ported
                                    if tricubic is not None and interpolate:
                                        h0_flr = int(math.floor(h))
                                        k0_flr = int(math.floor(k))
                                        l0_flr = int(math.floor(l))
                                        if (((h - h_min + 3) > h_range) or (h - 2 < h_min) or ((k - k_min + 3) > k_range)
                                                or (k - 2 < k_min) or ((l - l_min + 3) > l_range) or (l - 2 < l_min)):
                                            if last is not None and not (flags & PIX_OOR):
                                                last[L_OOR_H] = h
                                                last[L_OOR_K] = k
                                                last[L_OOR_L] = l
                                                last[L_OOR_H0] = h0
                                                last[L_OOR_K0] = k0
                                                last[L_OOR_L0] = l0
                                            flags |= PIX_OOR
                                            F_cell = default_F
                                            interpolate = 0
                                        if interpolate:
                                            F_cell = polin3(tricubic, h0_flr - 1, k0_flr - 1, l0_flr - 1, h_min, k_min,
                                                            l_min, h, k, l)
                                    if not interpolate and not early_F:
                                        F_cell = nearest_F(Fhkl, hkls, h0, k0, l0, h_min, h_max, k_min, k_max, l_min,
                                                           l_max, default_F)

                                    if tr is not None:
                                        if source == 0 and mos_tic == 0 and phi_tic == 0:
                                            row = _trace_row(tr, TR_FCELL)
                                            if row >= 0:
                                                tr[row, 1] = F_cell
                                        if source == 2 and mos_tic == 0 and phi_tic == 0:
                                            row = _trace_row(tr, TR_SOURCE2)
                                            if row >= 0:
                                                tr[row, 1] = F_cell
                                                tr[row, 2] = F_latt
                                                tr[row, 3] = polar
                                                tr[row, 4] = i1 * d1 + i2 * d2 + i3 * d3
                                                tr[row, 5] = lam

                                    I += F_cell * F_cell * F_latt * F_latt
                                if oversample_thick:
                                    I *= capture_fraction
                                if oversample_polar:
                                    I *= polar
                                if oversample_omega:
                                    I *= omega_pixel
                        if sweep_rotates:
                            carry = 1

        if last is not None:
            last[L_I] = I
            last[L_POLAR] = polar
            last[L_OMEGA] = omega_pixel
            last[L_OMEGA_SUM] = omega_sum
            last[L_CAPTURE] = capture_fraction
            last[L_FDET] = Fdet
            last[L_SDET] = Sdet
            last[L_AIRPATH] = airpath
            last[L_STOL] = stol
            last[L_H] = h
            last[L_K] = k
            last[L_L] = l
            last[L_H0] = h0
            last[L_K0] = k0
            last[L_L0] = l0
            last[L_F_CELL] = F_cell
            last[L_F_LATT] = F_latt
            last[L_LAT_CARRY] = lat_carry
            last[L_LAT_PHI] = lat_phi
            last[L_LAT_MOS] = lat_mos
            last[L_POS1] = pos1
            last[L_POS2] = pos2
            last[L_POS3] = pos3
            last[L_INC1] = i1
            last[L_INC2] = i2
            last[L_INC3] = i3
            last[L_DIF1] = d1
            last[L_DIF2] = d2
            last[L_DIF3] = d3
        image[idx - out_base] = np.float32(pixel_value(I, capture_fraction, polar, omega_pixel, fp, ip))
        flags_out[idx - out_base] = flags
        omega_out[idx - out_base] = omega_sum


@register_jitable
def pixel_value(I, capture_fraction, polar, omega_pixel, fp, ip):
    """The end of the C's pixel loop: photons = r_e^2*fluence*I/steps, then the corrections
    not already applied per subpath (capture fraction, polarization, solid angle)."""
    test = fp[FP_R_E_SQR] * fp[FP_FLUENCE] * I / ip[IP_STEPS]
    if not ip[IP_OVERSAMPLE_THICK]:
        test *= capture_fraction
    if not ip[IP_OVERSAMPLE_POLAR]:
        test *= polar
    if not ip[IP_OVERSAMPLE_OMEGA]:
        test *= omega_pixel
    return test


def lattice_table(a0, b0, c0, phi0, phistep, phisteps, spindle, umats, mosaic_spread):
    """The cell vectors every subpath of the C's sweep uses, indexed [carry, phi_tic, mos_tic,
    axis]: carry 0 starts the sweep from a0,b0,c0, carry 1 from the lattice a finished sweep
    leaves behind (the C's phi carryover).  Built with the C's operations in the C's order."""
    import numpy as np
    domains = len(umats) // 9
    table = np.zeros((2, phisteps, domains, 3, 4))
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
