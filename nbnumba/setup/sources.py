"""X-ray sources: a -sourcefile, or the divergence x dispersion grid (main(), lines ~2245-2370)."""
import math

import numpy as np

from nbnumba.cfuncs.stdio import c_format, read_text_file
from nbnumba.errors import NBError
from nbnumba.cfuncs.vectors import rotate_axis, unitize


def _divergence_test(hdiv, vdiv, s):
    """The C's ellipse test; 0/0 gives NaN (never cut) when a range is zero, as in C."""
    with np.errstate(all="ignore"):
        h, v = np.float64(hdiv), np.float64(vdiv)
        test = (h * h - s.hdivstep * s.hdivstep / 4.0 * (1 - s.hdivsteps % 2)) / np.float64(s.hdivrange) / s.hdivrange
        test += (v * v - s.vdivstep * s.vdivstep / 4.0 * (1 - s.vdivsteps % 2)) / np.float64(s.vdivrange) / s.vdivrange
    return s.round_div and test * 4.0 > 1.1


def _grid(s, out):
    """Sources from -hdiv*/-vdiv* and -dispersion: one per kept direction per wavelength."""
    directions = []
    for hdiv_tic in range(s.hdivsteps):
        for vdiv_tic in range(s.vdivsteps):
            hdiv = s.hdivstep * hdiv_tic - s.hdivrange / 2.0
            vdiv = s.vdivstep * vdiv_tic - s.vdivrange / 2.0
            if _divergence_test(hdiv, vdiv, s):
                continue
            directions.append((hdiv, vdiv))
            out(c_format("divergence deviation: %g %g\n", (hdiv, vdiv)))
    s.divsteps = len(directions)
    lambdas = [s.lambda0 * (1.0 + s.dispstep * disp_tic - s.dispersion / 2.0) for disp_tic in range(s.dispsteps)]
    for disp_tic, lam in enumerate(lambdas):
        out(c_format("lambda%d = %.15g\n", (disp_tic, lam)))
    nsrc = s.divsteps * s.dispsteps
    weight = 1.0 / nsrc if nsrc else math.inf
    rows = []
    vector, newvector = np.zeros(4), np.zeros(4)
    for hdiv, vdiv in directions:
        vector[1:4] = -s.source_distance * s.beam_vector[1:4]
        rotate_axis(vector, newvector, s.polar_vector, vdiv)
        rotate_axis(newvector, vector, s.vert_vector, hdiv)
        for lam in lambdas:
            rows.append((vector[1], vector[2], vector[3], weight, lam))
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


def _from_file(s):
    """-sourcefile: columns X Y Z weight lambda; missing values take the C's defaults."""
    X, Y, Z, I, lam = read_text_file(s.sourcefilename, 5)
    if len(X) == 0:
        raise NBError("ERROR: -sourcefile %s: no sources in file" % s.sourcefilename)
    src = np.stack([X, Y, Z, I, lam], axis=1).astype(np.float64)
    for col, default in ((0, -s.source_distance * s.beam_vector[1]), (1, -s.source_distance * s.beam_vector[2]),
                         (2, -s.source_distance * s.beam_vector[3]), (3, 1.0), (4, s.lambda0)):
        src[np.isnan(src[:, col]), col] = default
    return src


def make_sources(s, out):
    """s.sources: (n, 5) rows X Y Z weight lambda, X Y Z made unit vectors; printed as the C does."""
    s.divsteps = -1     # the C's initialiser; only the generated grid counts divergence steps
    src = _from_file(s) if s.sourcefilename is not None else _grid(s, out)
    out("  created a total of %d sources:\n" % len(src))
    vector = np.zeros(4)
    for row in src:
        vector[1:4] = row[0:3]
        out(c_format("%g %g %g   %g %g\n", (row[0], row[1], row[2], row[3], row[4])))
        unitize(vector, vector)
        row[0:3] = vector[1:4]
    s.sources = src
