"""The beam: the exposure (fluence, the sample clipped by the beam, the water background;
main(), lines ~1130-1150 and ~2450) and the X-ray sources, a -sourcefile or the divergence x
dispersion grid (lines ~2245-2370)."""
import math
from dataclasses import dataclass

import numpy as np

from nbnumba.cfuncs.stdio import c_format, read_text_file
from nbnumba.errors import NBError
from nbnumba.cfuncs.vectors import rotate_axis, unitize
from nbnumba.constants import AVOGADRO
from nbnumba.setup.records import record, workspace


@dataclass(frozen=True, eq=False)
class Exposure:
    """Photons and sample: fluence (photons/m^2) and flux, the sample's size (metres) after
    the beam clips it, and I_bg, the water background added to every pixel's intensity."""
    fluence: float
    flux: float
    sample_x: float
    sample_y: float
    sample_z: float
    I_bg: float


@dataclass(frozen=True, eq=False)
class Sources:
    """table: (sources, 5) rows X Y Z weight lambda, X Y Z unit vectors towards the sample
    reversed as the C stores them; divsteps: the divergence directions kept (-1 for a
    -sourcefile, the C's initialiser)."""
    table: np.ndarray
    divsteps: int


def exposure(o, out):
    """Fluence from -flux/-exposure/-beamsize, the sample clipped by the beam (the C's
    WARNING lines), flux from fluence (lines ~1130-1150), and the water background I_bg (line
    ~2450: water_F^2 r_e^2 fluence times the droplet's electrons)."""
    s = workspace(**{name: getattr(o, name) for name in (
        "fluence", "flux", "exposure", "beamsize", "sample_x", "sample_y", "sample_z")})
    if s.flux != 0.0 and s.exposure > 0.0 and s.beamsize >= 0:
        s.fluence = s.flux * s.exposure / s.beamsize / s.beamsize
    if s.beamsize >= 0:
        if s.beamsize < s.sample_y:
            out(c_format("WARNING: clipping sample (%g m high) with beam (%g m)\n", (s.sample_y, s.beamsize)))
            s.sample_y = s.beamsize
        if s.beamsize < s.sample_z:
            out(c_format("WARNING: clipping sample (%g m wide) with beam (%g m)\n", (s.sample_z, s.beamsize)))
            s.sample_z = s.beamsize
    if s.exposure > 0.0:
        s.flux = s.fluence / s.exposure * s.beamsize * s.beamsize
    I_bg = (o.water_F * o.water_F * o.r_e_sqr * s.fluence * o.water_size * o.water_size * o.water_size
            * 1e6 * AVOGADRO / o.water_MW)
    return record(Exposure, s, I_bg=I_bg)


def sources(o, detector, steps, out, indir):
    """The sources, printed as the C prints them (rows X Y Z weight lambda, X Y Z made unit
    vectors after printing); indir: the folder -sourcefile is read in (folders.Folder)."""
    s = workspace(steps, detector, indir=indir, **{name: getattr(o, name) for name in (
        "lambda0", "source_distance", "round_div", "sourcefilename")})
    s.divsteps = -1     # the C's initialiser; only the generated grid counts divergence steps
    src = _from_file(s) if s.sourcefilename is not None else _grid(s, out)
    out("  created a total of %d sources:\n" % len(src))
    vector = np.zeros(4)
    for row in src:
        vector[1:4] = row[0:3]
        out(c_format("%g %g %g   %g %g\n", (row[0], row[1], row[2], row[3], row[4])))
        unitize(vector, vector)
        row[0:3] = vector[1:4]
    return Sources(np.ascontiguousarray(src), s.divsteps)


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
    X, Y, Z, I, lam = read_text_file(s.sourcefilename, 5, s.indir)
    if len(X) == 0:
        raise NBError("ERROR: -sourcefile %s: no sources in file" % s.sourcefilename)
    src = np.stack([X, Y, Z, I, lam], axis=1).astype(np.float64)
    for col, default in ((0, -s.source_distance * s.beam_vector[1]), (1, -s.source_distance * s.beam_vector[2]),
                         (2, -s.source_distance * s.beam_vector[3]), (3, 1.0), (4, s.lambda0)):
        src[np.isnan(src[:, col]), col] = default
    return src
