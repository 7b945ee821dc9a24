"""The per-subpath physics of nanoBragg.c, written once for every target.

Every function here is a plain Python function marked ``register_jitable``: it runs as
ordinary Python (the trace and set-up stages call it that way), and it is compiled into
both the CPU kernel (``@njit``) and the CUDA kernel (``@cuda.jit``).  Vectors follow the
C's layout: 4-element float64 arrays, element 0 holds the magnitude, 1..3 hold x, y, z.
Functions write into caller-provided arrays, as the C does, so nothing here allocates.
"""
import math

from numba.extending import register_jitable

from nbnumba.kernels.layout import (
    FP_CLOSE_DISTANCE, FP_DEFAULT_F, FP_DETECTOR_MU, FP_DETECTOR_THICK, FP_DETECTOR_THICKSTEP,
    FP_DISTANCE, FP_DMIN, FP_FLUENCE, FP_R_E_SQR, IP_STEPS, FP_FUDGE, FP_I_BG, FP_MOSAIC_SPREAD, FP_NA, FP_NB, FP_NC,
    FP_PHI0, FP_PHISTEP, FP_PIXEL_SIZE, FP_POLARIZATION, FP_SUBPIXEL_SIZE, FP_WATER_SIZE,
    IP_CURVED, IP_FPIXELS, IP_H_MAX, IP_H_MIN, IP_H_RANGE, IP_HKLS, IP_K_MAX, IP_K_MIN,
    IP_K_RANGE, IP_L_MAX, IP_L_MIN, IP_L_RANGE, IP_MOSAIC_DOMAINS, IP_NOPOLAR, IP_OVERSAMPLE,
    IP_OVERSAMPLE_OMEGA, IP_OVERSAMPLE_POLAR, IP_OVERSAMPLE_THICK, IP_PHISTEPS, IP_POINT_PIXEL,
    IP_SOURCES, IP_THICKSTEPS, IP_XTAL_SHAPE,
    S_A, S_AP, S_B, S_BP, S_C, S_CP, S_DIFFRACTED, S_INCIDENT, S_NEWVECTOR, S_PIXEL_POS,
    S_POLAR_AXIS, S_SCATTERING, S_VECTOR, S_BIN, S_EIN, S_IX, S_KX, S_LX, S_YM, S_YM2,
    L_AIRPATH, L_CAPTURE, L_F_CELL, L_F_LATT, L_FDET, L_H, L_H0, L_I, L_K, L_K0, L_L, L_L0,
    L_OMEGA, L_OMEGA_SUM, L_OOR_H, L_OOR_H0, L_OOR_K, L_OOR_K0, L_OOR_L, L_OOR_L0, L_POLAR,
    L_SDET, L_STOL,
    SHAPE_GAUSS, SHAPE_ROUND, SHAPE_SQUARE, SHAPE_TOPHAT,
    TR_FCELL, TR_FLATT, TR_PHI, TR_ROT, TR_SOURCE2, TR_SUBPIXEL,
    V_A0, V_A_STAR, V_AP_CARRY, V_B0, V_B_STAR, V_BEAM, V_BP_CARRY, V_C0, V_C_STAR, V_CP_CARRY,
    V_FDET, V_ODET, V_PIX0, V_POLAR, V_SDET, V_SPINDLE,
    PIX_EXECUTED, PIX_OOR,
)


# ---- vector helpers (nanoBragg.c magnitude() .. dot_product(), lines ~3972-4050) ----

@register_jitable
def magnitude(v):
    """magnitude(): store and return |v|."""
    v[0] = math.sqrt(v[1] * v[1] + v[2] * v[2] + v[3] * v[3])
    return v[0]


@register_jitable
def unitize(v, out):
    """unitize(): out = v/|v| (zero vector if |v| == 0); returns |v|.  v and out may alias."""
    mag = magnitude(v)
    if mag != 0.0:
        out[1] = v[1] / mag
        out[2] = v[2] / mag
        out[3] = v[3] / mag
    else:
        out[0] = 0.0
        out[1] = 0.0
        out[2] = 0.0
        out[3] = 0.0
    return mag


@register_jitable
def vector_scale(v, out, scale):
    """vector_scale(): out = scale*v; returns |out|."""
    out[1] = scale * v[1]
    out[2] = scale * v[2]
    out[3] = scale * v[3]
    return magnitude(out)


@register_jitable
def vector_rescale(v, out, new_magnitude):
    """vector_rescale(): out = v scaled to new_magnitude; returns |out|."""
    oldmag = magnitude(v)
    if oldmag <= 0.0:
        oldmag = 1.0
    out[1] = new_magnitude / oldmag * v[1]
    out[2] = new_magnitude / oldmag * v[2]
    out[3] = new_magnitude / oldmag * v[3]
    return magnitude(out)


@register_jitable
def cross_product(x, y, z):
    """cross_product(): z = x cross y, z[0] = 0."""
    z[1] = x[2] * y[3] - x[3] * y[2]
    z[2] = x[3] * y[1] - x[1] * y[3]
    z[3] = x[1] * y[2] - x[2] * y[1]
    z[0] = 0.0


@register_jitable
def dot_product(x, y):
    """dot_product()"""
    return x[1] * y[1] + x[2] * y[2] + x[3] * y[3]


# ---- rotations (rotate(), rotate_axis(), rotate_umat(), lines ~3311-3410) ----

@register_jitable
def rotate(v, newv, phix, phiy, phiz):
    """rotate(): about x, then y, then z; an angle of exactly 0 skips its rotation."""
    new_x = v[1]
    new_y = v[2]
    new_z = v[3]
    if phix != 0:
        ryy = math.cos(phix)
        ryz = -math.sin(phix)
        rzy = math.sin(phix)
        rzz = math.cos(phix)
        rotated_y = new_y * ryy + new_z * ryz
        rotated_z = new_y * rzy + new_z * rzz
        new_y = rotated_y
        new_z = rotated_z
    if phiy != 0:
        rxx = math.cos(phiy)
        rxz = math.sin(phiy)
        rzx = -math.sin(phiy)
        rzz = math.cos(phiy)
        rotated_x = new_x * rxx + new_y * 0.0 + new_z * rxz
        rotated_z = new_x * rzx + new_y * 0.0 + new_z * rzz
        new_x = rotated_x
        new_z = rotated_z
    if phiz != 0:
        rxx = math.cos(phiz)
        rxy = -math.sin(phiz)
        ryx = math.sin(phiz)
        ryy = math.cos(phiz)
        rotated_x = new_x * rxx + new_y * rxy
        rotated_y = new_x * ryx + new_y * ryy
        new_x = rotated_x
        new_y = rotated_y
    newv[1] = new_x
    newv[2] = new_y
    newv[3] = new_z


@register_jitable
def rotate_axis(v, newv, axis, phi):
    """rotate_axis(): Rodrigues rotation of v about the unit vector axis by phi."""
    sinphi = math.sin(phi)
    cosphi = math.cos(phi)
    dot = (axis[1] * v[1] + axis[2] * v[2] + axis[3] * v[3]) * (1.0 - cosphi)
    t1 = axis[1] * dot + v[1] * cosphi + (-axis[3] * v[2] + axis[2] * v[3]) * sinphi
    t2 = axis[2] * dot + v[2] * cosphi + (+axis[3] * v[1] - axis[1] * v[3]) * sinphi
    t3 = axis[3] * dot + v[3] * cosphi + (-axis[2] * v[1] + axis[1] * v[2]) * sinphi
    newv[1] = t1
    newv[2] = t2
    newv[3] = t3


@register_jitable
def rotate_umat(v, newv, umat, base):
    """rotate_umat(): newv = U v with U = umat[base:base+9] row-major."""
    x = v[1]
    y = v[2]
    z = v[3]
    newv[1] = umat[base + 0] * x + umat[base + 1] * y + umat[base + 2] * z
    newv[2] = umat[base + 3] * x + umat[base + 4] * y + umat[base + 5] * z
    newv[3] = umat[base + 6] * x + umat[base + 7] * y + umat[base + 8] * z


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
def polarization_factor(kahn_factor, incident, diffracted, axis, b_in, e_in):
    """polarization_factor(): unitizes incident, diffracted and axis in place, as the C does."""
    unitize(incident, incident)
    unitize(diffracted, diffracted)
    unitize(axis, axis)
    cos2theta = dot_product(incident, diffracted)
    cos2theta_sqr = cos2theta * cos2theta
    sin2theta_sqr = 1 - cos2theta_sqr
    psi = 0.0
    if kahn_factor != 0.0:
        cross_product(axis, incident, b_in)
        unitize(b_in, b_in)
        cross_product(incident, b_in, e_in)
        unitize(e_in, e_in)
        e_out = dot_product(diffracted, e_in)
        b_out = dot_product(diffracted, b_in)
        psi = -math.atan2(b_out, e_out)
    return 0.5 * (1.0 + cos2theta_sqr - kahn_factor * math.cos(2 * psi) * sin2theta_sqr)


# ---- tricubic interpolation (polint(), polin2(), polin3(), lines ~3807-3845) ----

@register_jitable
def polint(xa, ya0, ya1, ya2, ya3, x):
    """polint(): cubic Lagrange polynomial through (xa[i], ya_i), evaluated at x."""
    x0 = (x - xa[1]) * (x - xa[2]) * (x - xa[3]) * ya0 / ((xa[0] - xa[1]) * (xa[0] - xa[2]) * (xa[0] - xa[3]))
    x1 = (x - xa[0]) * (x - xa[2]) * (x - xa[3]) * ya1 / ((xa[1] - xa[0]) * (xa[1] - xa[2]) * (xa[1] - xa[3]))
    x2 = (x - xa[0]) * (x - xa[1]) * (x - xa[3]) * ya2 / ((xa[2] - xa[0]) * (xa[2] - xa[1]) * (xa[2] - xa[3]))
    x3 = (x - xa[0]) * (x - xa[1]) * (x - xa[2]) * ya3 / ((xa[3] - xa[0]) * (xa[3] - xa[1]) * (xa[3] - xa[2]))
    return x0 + x1 + x2 + x3


@register_jitable
def polin3(x1a, x2a, x3a, Fhkl, hb, kb, lb, x1, x2, x3, ym, ym2):
    """polin3() over the 4x4x4 neighbourhood Fhkl[hb+i, kb+j, lb+k] (the C's sub_Fhkl)."""
    for i in range(4):
        # polin2(x2a, x3a, sub_Fhkl[i], x2, x3)
        for j in range(4):
            ym[j] = polint(x3a, Fhkl[hb + i, kb + j, lb + 0], Fhkl[hb + i, kb + j, lb + 1],
                           Fhkl[hb + i, kb + j, lb + 2], Fhkl[hb + i, kb + j, lb + 3], x3)
        ym2[i] = polint(x2a, ym[0], ym[1], ym[2], ym[3], x2)
    return polint(x1a, ym2[0], ym2[1], ym2[2], ym2[3], x1)


# ---- one pixel of the render loop (main(), lines ~2640-3040) ----

@register_jitable
def _copy3(src, dst):
    dst[1] = src[1]
    dst[2] = src[2]
    dst[3] = src[3]


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


@register_jitable
def render_pixel(fpixel, spixel, start_rotated, interpolate, fp, ip, vec, src, umats, Fhkl, s, last, tr):
    """Render one pixel exactly as the serial C does, from the pixel's entry state.

    start_rotated: the phi carryover.  The C rotates ap,bp,cp only at phi steps != 0, so a
        pixel starts from the lattice the previous pixel's sweep left: the rotation by the
        sweep's last non-zero phi (vec[V_AP_CARRY..]) once any sweep has run, else a0,b0,c0.
    interpolate: the C's shared `interpolate` flag on entry.  Its first out-of-range
        neighbourhood switches it off for the rest of the run; that is reported in the
        returned flags (PIX_OOR) and last[L_OOR_*] so the caller can re-render later pixels.
    s: float64 scratch (S_* slots), last: float64 out (L_* slots: the C's loop variables as
        the pixel leaves them, for -printout and the trace's scaling block), tr: None in the
        render kernels (the trace branches are pruned at compile time), or a trace buffer.
    Returns (value, flags): value is the C's `test`, the pixel's increment of floatimage.
    """
    pixel_pos = s[S_PIXEL_POS:S_PIXEL_POS + 4]
    diffracted = s[S_DIFFRACTED:S_DIFFRACTED + 4]
    incident = s[S_INCIDENT:S_INCIDENT + 4]
    scattering = s[S_SCATTERING:S_SCATTERING + 4]
    vector = s[S_VECTOR:S_VECTOR + 4]
    newvector = s[S_NEWVECTOR:S_NEWVECTOR + 4]
    polar_axis = s[S_POLAR_AXIS:S_POLAR_AXIS + 4]
    b_in = s[S_BIN:S_BIN + 4]
    e_in = s[S_EIN:S_EIN + 4]
    ap = s[S_AP:S_AP + 4]
    bp = s[S_BP:S_BP + 4]
    cp = s[S_CP:S_CP + 4]
    a = s[S_A:S_A + 4]
    b = s[S_B:S_B + 4]
    c = s[S_C:S_C + 4]
    h_interp_d = s[S_IX:S_IX + 4]
    k_interp_d = s[S_KX:S_KX + 4]
    l_interp_d = s[S_LX:S_LX + 4]
    ym = s[S_YM:S_YM + 4]
    ym2 = s[S_YM2:S_YM2 + 4]

    fdet_vector = vec[V_FDET]
    sdet_vector = vec[V_SDET]
    odet_vector = vec[V_ODET]
    pix0_vector = vec[V_PIX0]
    beam_vector = vec[V_BEAM]
    spindle_vector = vec[V_SPINDLE]
    a_star = vec[V_A_STAR]
    b_star = vec[V_B_STAR]
    c_star = vec[V_C_STAR]

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
    mosaic_spread = fp[FP_MOSAIC_SPREAD]

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

    # the lattice as the previous sweep left it (phi carryover)
    if start_rotated:
        _copy3(vec[V_AP_CARRY], ap)
        _copy3(vec[V_BP_CARRY], bp)
        _copy3(vec[V_CP_CARRY], cp)
    else:
        _copy3(vec[V_A0], ap)
        _copy3(vec[V_B0], bp)
        _copy3(vec[V_C0], cp)

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
    h = 0.0
    k = 0.0
    l = 0.0
    h0 = 0
    k0 = 0
    l0 = 0
    F_cell = 0.0
    F_latt = 0.0
    h0_flr = 0
    k0_flr = 0
    l0_flr = 0

    for thick_tic in range(detector_thicksteps):
        Odet = thick_tic * detector_thickstep
        capture_fraction = 0.0
        if detector_thick == 0.0:
            capture_fraction = 1.0
        for subS in range(oversample):
            for subF in range(oversample):
                Fdet = subpixel_size * (fpixel * oversample + subF) + subpixel_size / 2.0
                Sdet = subpixel_size * (spixel * oversample + subS) + subpixel_size / 2.0
                for i in range(1, 4):
                    pixel_pos[i] = Fdet * fdet_vector[i] + Sdet * sdet_vector[i] + Odet * odet_vector[i] + pix0_vector[i]
                pixel_pos[0] = 0.0
                if curved_detector:
                    vector[1] = distance * beam_vector[1]
                    vector[2] = distance * beam_vector[2]
                    vector[3] = distance * beam_vector[3]
                    rotate_axis(vector, newvector, sdet_vector, pixel_pos[2] / distance)
                    rotate_axis(newvector, pixel_pos, fdet_vector, pixel_pos[3] / distance)
                airpath = unitize(pixel_pos, diffracted)

                if omega_pixel == 0.0 or oversample_omega:
                    omega_pixel = pixel_size * pixel_size / airpath / airpath * close_distance / airpath
                    if point_pixel:
                        omega_pixel = 1.0 / airpath / airpath
                omega_sum += omega_pixel

                if capture_fraction == 0.0 or oversample_thick:
                    parallax = dot_product(diffracted, odet_vector)
                    capture_fraction = (math.exp(-thick_tic * detector_thickstep * detector_mu / parallax)
                                        - math.exp(-(thick_tic + 1) * detector_thickstep * detector_mu / parallax))

                for source in range(sources):
                    incident[1] = -src[source, 0]
                    incident[2] = -src[source, 1]
                    incident[3] = -src[source, 2]
                    lam = src[source, 4]
                    scattering[1] = (diffracted[1] - incident[1]) / lam
                    scattering[2] = (diffracted[2] - incident[2]) / lam
                    scattering[3] = (diffracted[3] - incident[3]) / lam

                    if tr is not None:
                        if source == 0:
                            row = _trace_row(tr, TR_SUBPIXEL)
                            if row >= 0:
                                for i in range(3):
                                    tr[row, 1 + i] = pixel_pos[1 + i]
                                    tr[row, 4 + i] = diffracted[1 + i]
                                    tr[row, 7 + i] = incident[1 + i]
                                    tr[row, 10 + i] = scattering[1 + i]
                                tr[row, 13] = airpath
                                tr[row, 14] = omega_pixel
                                tr[row, 15] = lam

                    stol = 0.5 * magnitude(scattering)
                    if dmin > 0.0 and stol > 0.0:
                        if dmin > 0.5 / stol:
                            continue
                    flags |= PIX_EXECUTED

                    if polar == 0.0 or oversample_polar:
                        _copy3(vec[V_POLAR], polar_axis)
                        polar = polarization_factor(polarization, incident, diffracted, polar_axis, b_in, e_in)

                    for phi_tic in range(phisteps):
                        phi = phi0 + phistep * phi_tic
                        if phi != 0.0:
                            rotate_axis(vec[V_A0], ap, spindle_vector, phi)
                            rotate_axis(vec[V_B0], bp, spindle_vector, phi)
                            rotate_axis(vec[V_C0], cp, spindle_vector, phi)

                        for mos_tic in range(mosaic_domains):
                            if mosaic_spread > 0.0:
                                rotate_umat(ap, a, umats, mos_tic * 9)
                                rotate_umat(bp, b, umats, mos_tic * 9)
                                rotate_umat(cp, c, umats, mos_tic * 9)
                            else:
                                _copy3(ap, a)
                                _copy3(bp, b)
                                _copy3(cp, c)

                            h = dot_product(a, scattering)
                            k = dot_product(b, scattering)
                            l = dot_product(c, scattering)
                            h0 = int(math.ceil(h - 0.5))
                            k0 = int(math.ceil(k - 0.5))
                            l0 = int(math.ceil(l - 0.5))

                            if tr is not None:
                                if source == 0 and mos_tic == 0 and phi_tic == 0:
                                    row = _trace_row(tr, TR_ROT)
                                    if row >= 0:
                                        for i in range(3):
                                            tr[row, 1 + i] = a[1 + i] * 1e10
                                            tr[row, 4 + i] = b[1 + i] * 1e10
                                            tr[row, 7 + i] = c[1 + i] * 1e10
                                            tr[row, 10 + i] = a_star[1 + i]
                                            tr[row, 13 + i] = b_star[1 + i]
                                            tr[row, 16 + i] = c_star[1 + i]
                                        tr[row, 19] = h
                                        tr[row, 20] = k
                                        tr[row, 21] = l
                                        tr[row, 22] = h0
                                        tr[row, 23] = k0
                                        tr[row, 24] = l0

                            F_latt = 1.0
                            rad_star_sqr = 0.0
                            if xtal_shape == SHAPE_SQUARE:
                                F_latt_a = 1.0
                                F_latt_b = 1.0
                                F_latt_c = 1.0
                                if Na > 1:
                                    F_latt_a = sincg(math.pi * h, Na)
                                    F_latt *= F_latt_a
                                if Nb > 1:
                                    F_latt_b = sincg(math.pi * k, Nb)
                                    F_latt *= F_latt_b
                                if Nc > 1:
                                    F_latt_c = sincg(math.pi * l, Nc)
                                    F_latt *= F_latt_c
                                if tr is not None:
                                    if source == 0 and mos_tic == 0:
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
                            else:
                                dx_star = (h - h0) * a_star[1] + (k - k0) * b_star[1] + (l - l0) * c_star[1]
                                dy_star = (h - h0) * a_star[2] + (k - k0) * b_star[2] + (l - l0) * c_star[2]
                                dz_star = (h - h0) * a_star[3] + (k - k0) * b_star[3] + (l - l0) * c_star[3]
                                rad_star_sqr = (dx_star * dx_star + dy_star * dy_star + dz_star * dz_star) * Na * Na * Nb * Nb * Nc * Nc
                            if xtal_shape == SHAPE_ROUND:
                                hrad_sqr = (h - h0) * (h - h0) * Na * Na + (k - k0) * (k - k0) * Nb * Nb + (l - l0) * (l - l0) * Nc * Nc
                                F_latt = Na * Nb * Nc * 0.723601254558268 * sinc3(math.pi * math.sqrt(hrad_sqr * fudge))
                            if xtal_shape == SHAPE_GAUSS:
                                F_latt = Na * Nb * Nc * math.exp(-(rad_star_sqr / 0.63 * fudge))
                            if xtal_shape == SHAPE_TOPHAT:
                                F_latt = Na * Nb * Nc * (1.0 if rad_star_sqr * fudge < 0.3969 else 0.0)
                            if F_latt == 0.0 and water_size == 0.0:
                                continue

                            # the C's integral_form branch is never enabled by any flag: not ported
                            if interpolate:
                                h0_flr = int(math.floor(h))
                                k0_flr = int(math.floor(k))
                                l0_flr = int(math.floor(l))
                                if (((h - h_min + 3) > h_range) or (h - 2 < h_min) or ((k - k_min + 3) > k_range)
                                        or (k - 2 < k_min) or ((l - l_min + 3) > l_range) or (l - 2 < l_min)):
                                    if not (flags & PIX_OOR):
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
                                for i in range(4):
                                    h_interp_d[i] = h0_flr - 1 + i
                                    k_interp_d[i] = k0_flr - 1 + i
                                    l_interp_d[i] = l0_flr - 1 + i
                                F_cell = polin3(h_interp_d, k_interp_d, l_interp_d, Fhkl,
                                                h0_flr - 1 - h_min, k0_flr - 1 - k_min, l0_flr - 1 - l_min,
                                                h, k, l, ym, ym2)
                            if not interpolate:
                                if (hkls and h0 <= h_max and h0 >= h_min and k0 <= k_max and k0 >= k_min
                                        and l0 <= l_max and l0 >= l_min):
                                    F_cell = Fhkl[h0 - h_min, k0 - k_min, l0 - l_min]
                                else:
                                    F_cell = default_F

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
                                        tr[row, 4] = dot_product(incident, diffracted)
                                        tr[row, 5] = lam

                            I += F_cell * F_cell * F_latt * F_latt
                            if oversample_thick:
                                I *= capture_fraction
                            if oversample_polar:
                                I *= polar
                            if oversample_omega:
                                I *= omega_pixel

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
    return I, flags


@register_jitable
def pixel_value(I, last, fp, ip):
    """The end of the C's pixel loop: photons = r_e^2*fluence*I/steps, then the corrections
    not already applied per subpath (capture fraction, polarization, solid angle)."""
    test = fp[FP_R_E_SQR] * fp[FP_FLUENCE] * I / ip[IP_STEPS]
    if not ip[IP_OVERSAMPLE_THICK]:
        test *= last[L_CAPTURE]
    if not ip[IP_OVERSAMPLE_POLAR]:
        test *= last[L_POLAR]
    if not ip[IP_OVERSAMPLE_OMEGA]:
        test *= last[L_OMEGA]
    return test
