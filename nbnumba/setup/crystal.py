"""The crystal, in two stages: `cell` (the unit cell or matrix, misset, real and reciprocal
vectors; main(), lines ~1790-2020) and `size` (Na, Nb, Nc from the sample size, auto
oversampling, the rough molecular weight; lines ~2020-2060)."""
import math
from dataclasses import dataclass

import numpy as np

from nbnumba.cfuncs.rng import mosaic_rotation_umat, umat2misset
from nbnumba.cfuncs.stdio import Scanner, c_atan2, c_ceil, c_dtoi_ceil, c_format, c_sqrt
from nbnumba.errors import NBError
from nbnumba.cfuncs.vectors import c_cos, c_sin, cross_product, dot_product, rotate, vector_rescale, vector_scale
from nbnumba.constants import AVOGADRO, DBL_MIN, RTD
from nbnumba.setup.records import record, workspace


@dataclass(frozen=True, eq=False)
class Cell:
    """The unit cell: a, b, c in Angstrom and a*, b*, c* in 1/Angstrom as the C prints them
    ([magnitude, x, y, z]), alpha, beta, gamma (radians) and V_cell (A^3) as it derives them,
    a0, b0, c0 the cell vectors in metres that the phi sweep rotates; misset the angles applied
    ([flag, x, y, z] radians) and misset_seed as -misset random left it."""
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    a_star: np.ndarray
    b_star: np.ndarray
    c_star: np.ndarray
    alpha: float
    beta: float
    gamma: float
    V_cell: float
    a0: np.ndarray
    b0: np.ndarray
    c0: np.ndarray
    misset: np.ndarray
    misset_seed: int


@dataclass(frozen=True, eq=False)
class Crystal:
    """The crystal: its cell, Na x Nb x Nc unit cells, the sample's size (metres), the
    oversampling chosen from it (the option's, or auto-selected; 0 or below is corrected
    to 1 by steps.sampling, as by the C) and the C's rough molecular weight."""
    cell: Cell
    Na: float
    Nb: float
    Nc: float
    sample_x: float
    sample_y: float
    sample_z: float
    oversample: int
    molecular_weight: float


def cell(o, rng, out, warn, indir):
    """The cell vectors, printed as the C prints them; a cell of zero, infinite or NaN volume
    (-cell nan, a singular -mat) is warned about and rendered as the C renders it.  rng: the
    shared RNG state (-misset random draws from it); indir: the folder -mat is read in
    (folders.Folder)."""
    s = workspace(rng=rng, indir=indir, **{name: getattr(o, name) for name in (
        "user_cell", "a", "b", "c", "alpha", "beta", "gamma", "matfilename", "lambda0", "misset", "misset_seed")})
    _setup_cell(s, out, warn)
    return record(Cell, s)


def size(o, cell, exposure, detector, out):
    """Na, Nb, Nc, auto oversampling and the molecular weight, printed as the C does."""
    s = workspace(exposure, a=cell.a0, b=cell.b0, c=cell.c0, lambda0=o.lambda0, distance=detector.distance,
                  pixel_size=detector.pixel_size, Na=o.Na, Nb=o.Nb, Nc=o.Nc, oversample=o.oversample)
    _crystal_size(s, out)
    return record(Crystal, s, cell=cell)


def _angle_warning(out, title, names, values):
    if any(v > 1.0000001 or v < -1.0000001 for v in values):
        out(title)
        for name, v in zip(names, values):
            out(c_format("%s = %.25g\n", (name, v)))


def _clamp(sins, coss):
    """The C's clamps of oddball sines (to [-1, 1]) and cosines (to 1 where |cos| > 1)."""
    return [min(max(x, -1.0), 1.0) for x in sins], [1.0 if x * x > 1.0 else x for x in coss]


def _clamp_angles(sins, coss):
    return [c_atan2(sv, cv) for sv, cv in zip(*_clamp(sins, coss))]


def _user_cell(s, out):
    """Default orientation of a -cell (lines ~1800-1880)."""
    a, b, c = s.a, s.b, s.c
    if b[0] <= 0.0:
        b[0] = a[0]
    if c[0] <= 0.0:
        c[0] = a[0]
    if s.alpha <= 0.0:
        s.alpha = math.pi / 2
    if s.beta <= 0.0:
        s.beta = math.pi / 2
    if s.gamma <= 0.0:
        s.gamma = math.pi / 2
    alpha, beta, gamma = s.alpha, s.beta, s.gamma
    aavg = (alpha + beta + gamma) / 2
    skew = c_sin(aavg) * c_sin(aavg - alpha) * c_sin(aavg - beta) * c_sin(aavg - gamma)
    if skew < 0.0:
        skew = -skew
    V_cell = 2.0 * a[0] * b[0] * c[0] * c_sqrt(skew)
    if V_cell <= 0.0:
        out(c_format("WARNING: impossible unit cell volume: %g\n", (V_cell,)))
        V_cell = DBL_MIN
    V_star = 1.0 / V_cell
    a_star, b_star, c_star = s.a_star, s.b_star, s.c_star
    a_star[0] = b[0] * c[0] * c_sin(alpha) * V_star
    b_star[0] = c[0] * a[0] * c_sin(beta) * V_star
    c_star[0] = a[0] * b[0] * c_sin(gamma) * V_star
    if a_star[0] <= 0.0 or b_star[0] <= 0.0 or c_star[0] <= 0.0:
        out(c_format("WARNING: impossible reciprocal cell lengths: %g %g %g\n", (a_star[0], b_star[0], c_star[0])))
        for v in (a_star, b_star, c_star):
            v[0] = abs(v[0])
            if v[0] <= 0.0:
                v[0] = DBL_MIN
    sin_alpha_star = a[0] * V_star / b_star[0] / c_star[0]
    sin_beta_star = b[0] * V_star / a_star[0] / c_star[0]
    sin_gamma_star = c[0] * V_star / a_star[0] / b_star[0]
    cos_alpha_star = (c_cos(beta) * c_cos(gamma) - c_cos(alpha)) / (c_sin(beta) * c_sin(gamma))
    cos_beta_star = (c_cos(gamma) * c_cos(alpha) - c_cos(beta)) / (c_sin(gamma) * c_sin(alpha))
    cos_gamma_star = (c_cos(alpha) * c_cos(beta) - c_cos(gamma)) / (c_sin(alpha) * c_sin(beta))
    _angle_warning(out, "WARNING: oddball reciprocal cell angles:\n",
                   ("sin(alpha_star)", "cos(alpha_star)", "sin(beta_star) ", "cos(beta_star) ",
                    "sin(gamma_star)", "cos9gamma_star)"),
                   (sin_alpha_star, cos_alpha_star, sin_beta_star, cos_beta_star, sin_gamma_star, cos_gamma_star))
    (sin_alpha_star, sin_beta_star, sin_gamma_star), (cos_alpha_star, cos_beta_star, cos_gamma_star) = _clamp(
        (sin_alpha_star, sin_beta_star, sin_gamma_star), (cos_alpha_star, cos_beta_star, cos_gamma_star))
    a_star[1] = a_star[0]
    b_star[1] = b_star[0] * cos_gamma_star
    c_star[1] = c_star[0] * cos_beta_star
    a_star[2] = 0.0
    b_star[2] = b_star[0] * sin_gamma_star
    c_star[2] = c_star[0] * (cos_alpha_star - cos_beta_star * cos_gamma_star) / sin_gamma_star
    a_star[3] = 0.0
    b_star[3] = 0.0
    c_star[3] = c_star[0] * V_cell / (a[0] * b[0] * c[0] * sin_gamma_star)
    return V_cell


def _read_matrix(s, out, warn):
    """-mat: a MOSFLM A matrix (reciprocal vectors times lambda), rows read with fscanf %lg.

    Like the C, a file that cannot be opened is skipped and a row fscanf cannot read leaves
    the components it misses as they were: the -cell orientation when there is a -cell
    (warned about), uninitialised memory in the C when there is none (refused)."""
    try:
        data = s.indir.read(s.matfilename)
    except OSError as e:
        if not s.user_cell:
            raise NBError("ERROR: -mat %s: cannot read: %s" % (s.matfilename, e.strerror))
        warn("cannot open -mat %s: %s; nanoBragg.c goes on with the -cell orientation" % (s.matfilename, e.strerror))
        return
    out("reading %s\n" % s.matfilename)
    sc = Scanner(data)
    for i in (1, 2, 3):
        count, got = sc.scanf("%lg%lg%lg")
        for v, x in zip((s.a_star, s.b_star, s.c_star), got):
            v[i] = x
        if count != 3:
            where = "line %d" % (data.count(b"\n", 0, sc.pos) + 1) if sc.pos < len(data) else "the end of the file"
            if not s.user_cell:
                raise NBError("ERROR: -mat %s: expected 9 numbers (three rows of a*, b*, c* components), found "
                              "%d at %s: nanoBragg.c would use uninitialised memory for the rest"
                              % (s.matfilename, 3 * (i - 1) + max(count, 0), where))
            warn("-mat %s: expected 9 numbers (three rows of a*, b*, c* components), found %d at %s: nanoBragg.c "
                 "keeps the -cell values for the others" % (s.matfilename, 3 * (i - 1) + max(count, 0), where))
            break
    for v in (s.a_star, s.b_star, s.c_star):
        vector_scale(v, v, 1e-10 / s.lambda0)


def _setup_cell(s, out, warn):
    s.a_star = np.zeros(4)
    s.b_star = np.zeros(4)
    s.c_star = np.zeros(4)
    V_cell = 0.0
    if s.user_cell:
        V_cell = _user_cell(s, out)
    if s.matfilename is not None:
        _read_matrix(s, out, warn)

    if s.misset[0] == -1.0:
        seed = np.array([s.misset_seed], dtype=np.int64)
        umat = mosaic_rotation_umat(np.float32(90.0), seed, s.rng[0])
        s.misset_seed = int(seed[0])
        s.misset[1], s.misset[2], s.misset[3] = umat2misset(umat)
        out(c_format("random orientation misset angles: %f %f %f deg\n",
                     (s.misset[1] * RTD, s.misset[2] * RTD, s.misset[3] * RTD)))
        s.misset[0] = 1.0
    if s.misset[0] > 0.0:
        for v in (s.a_star, s.b_star, s.c_star):
            rotate(v, v, s.misset[1], s.misset[2], s.misset[3])

    a_star, b_star, c_star = s.a_star, s.b_star, s.c_star
    a, b, c = s.a, s.b, s.c
    a_star_cross_b_star, b_star_cross_c_star, c_star_cross_a_star = np.zeros(4), np.zeros(4), np.zeros(4)
    cross_product(a_star, b_star, a_star_cross_b_star)
    cross_product(b_star, c_star, b_star_cross_c_star)
    cross_product(c_star, a_star, c_star_cross_a_star)
    V_star = dot_product(a_star, b_star_cross_c_star)
    if s.user_cell:
        vector_rescale(b_star_cross_c_star, b_star_cross_c_star, a[0] / V_cell)
        vector_rescale(c_star_cross_a_star, c_star_cross_a_star, b[0] / V_cell)
        vector_rescale(a_star_cross_b_star, a_star_cross_b_star, c[0] / V_cell)
        V_star = 1.0 / V_cell
    V_cell = 1.0 / V_star
    if not (math.isfinite(V_cell) and V_cell != 0.0):
        given = "-mat %s" % s.matfilename if s.matfilename is not None else "-cell"
        warn(c_format("the unit cell of %s%s has a volume of %g A^3 (a zero, singular, infinite or NaN cell): "
                      "rendered as nanoBragg.c renders it", (given, " and -misset" if s.misset[0] else "", V_cell)))
    vector_scale(b_star_cross_c_star, a, V_cell)
    vector_scale(c_star_cross_a_star, b, V_cell)
    vector_scale(a_star_cross_b_star, c, V_cell)
    a_cross_b, b_cross_c, c_cross_a = np.zeros(4), np.zeros(4), np.zeros(4)
    cross_product(a, b, a_cross_b)
    cross_product(b, c, b_cross_c)
    cross_product(c, a, c_cross_a)
    vector_scale(b_cross_c, a_star, V_star)
    vector_scale(c_cross_a, b_star, V_star)
    vector_scale(a_cross_b, c_star, V_star)

    sins = [a_star[0] * V_cell / b[0] / c[0], b_star[0] * V_cell / a[0] / c[0], c_star[0] * V_cell / a[0] / b[0]]
    coss = [dot_product(b, c) / b[0] / c[0], dot_product(a, c) / a[0] / c[0], dot_product(a, b) / a[0] / b[0]]
    _angle_warning(out, "WARNING: oddball cell angles:\n",
                   ("sin_alpha", "cos_alpha", "sin_beta ", "cos_beta ", "sin_gamma", "cos_gamma"),
                   (sins[0], coss[0], sins[1], coss[1], sins[2], coss[2]))
    s.alpha, s.beta, s.gamma = _clamp_angles(sins, coss)
    sins = [a[0] * V_star / b_star[0] / c_star[0], b[0] * V_star / a_star[0] / c_star[0],
            c[0] * V_star / a_star[0] / b_star[0]]
    coss = [dot_product(b_star, c_star) / b_star[0] / c_star[0], dot_product(a_star, c_star) / a_star[0] / c_star[0],
            dot_product(a_star, b_star) / a_star[0] / b_star[0]]
    _angle_warning(out, "WARNING: oddball reciprocal cell angles:\n",
                   ("sin(alpha_star)", "cos(alpha_star)", "sin(beta_star) ", "cos(beta_star) ",
                    "sin(gamma_star)", "cos(gamma_star)"),
                   (sins[0], coss[0], sins[1], coss[1], sins[2], coss[2]))
    alpha_star, beta_star, gamma_star = _clamp_angles(sins, coss)
    s.V_cell = V_cell

    out(c_format("Unit Cell: %g %g %g %g %g %g\n", (a[0], b[0], c[0], s.alpha * RTD, s.beta * RTD, s.gamma * RTD)))
    out(c_format("Recp Cell: %g %g %g %g %g %g\n",
                 (a_star[0], b_star[0], c_star[0], alpha_star * RTD, beta_star * RTD, gamma_star * RTD)))
    out(c_format("volume = %g A^3\n", (V_cell,)))
    out("real-space cell vectors (Angstrom):\n")
    out("     %-10s  %-10s  %-10s\n" % ("a", "b", "c"))
    for i, axis in ((1, "X"), (2, "Y"), (3, "Z")):
        out(c_format("%s: %11.8f %11.8f %11.8f\n", (axis, a[i], b[i], c[i])))
    out("reciprocal-space cell vectors (Angstrom^-1):\n")
    out("     %-10s  %-10s  %-10s\n" % ("a_star", "b_star", "c_star"))
    for i, axis in ((1, "X"), (2, "Y"), (3, "Z")):
        out(c_format("%s: %11.8f %11.8f %11.8f\n", (axis, a_star[i], b_star[i], c_star[i])))

    s.a0, s.b0, s.c0 = a.copy(), b.copy(), c.copy()
    for v in (s.a0, s.b0, s.c0):
        vector_scale(v, v, 1e-10)


def _crystal_size(s, out):
    # s.a, s.b, s.c: the cell vectors in metres (the C scales them by 1e-10 just before)
    if s.sample_x > 0:
        s.Na = c_ceil(s.sample_x / s.a[0])
    if s.sample_y > 0:
        s.Nb = c_ceil(s.sample_y / s.b[0])
    if s.sample_z > 0:
        s.Nc = c_ceil(s.sample_z / s.c[0])
    s.Na, s.Nb, s.Nc = (float(x) if x > 1.0 else 1.0 for x in (s.Na, s.Nb, s.Nc))
    xtalsize_a = s.a[0] * s.Na
    xtalsize_b = s.b[0] * s.Nb
    xtalsize_c = s.c[0] * s.Nc
    out(c_format("crystal is %g x %g x %g microns\n", (xtalsize_a * 1e6, xtalsize_b * 1e6, xtalsize_c * 1e6)))
    xtalsize_max = max(xtalsize_a, xtalsize_b, xtalsize_c)
    reciprocal_pixel_size = s.lambda0 * s.distance / s.pixel_size
    recommended = c_dtoi_ceil(3.0 * xtalsize_max / reciprocal_pixel_size)
    if recommended <= 0:
        recommended = 1
    if s.oversample <= 0:
        s.oversample = recommended
        out("auto-selected %d-fold oversampling\n" % s.oversample)
    if s.oversample < recommended:
        out(c_format("WARNING: maximum dimension of sample is %g A\n", (xtalsize_max * 1e10,)))
        out(c_format("         but reciprocal pixel size is %g A\n", (reciprocal_pixel_size * 1e10,)))
        out("         intensity may vary significantly across a pixel!\n")
        out("         recommend -oversample %d to work around this\n" % recommended)
    s.sample_x, s.sample_y, s.sample_z = xtalsize_a, xtalsize_b, xtalsize_c
    volume = s.sample_x * s.sample_y * s.sample_z
    density = 1.2e6     # the C overwrites -density here (docs/quirks.md)
    molecules = s.Na * s.Nb * s.Nc
    s.molecular_weight = volume * density * AVOGADRO / molecules
    out(c_format("approximate MW = %g\n", (s.molecular_weight,)))
