"""The C's sampling: auto-selection of steps and ranges (main(), lines ~1395-1700: phi sweep,
divergence, dispersion, detector thickness, mosaic domains, then its sanity checks; a `Steps`
record), and the counts the render divides by (the pixel's oversampling, subpixel size and
the steps per pixel; a `Sampling` record)."""
from dataclasses import dataclass

import numpy as np

from nbnumba.cfuncs.stdio import c_dtoi_ceil, c_format, c_int
from nbnumba.constants import RTD
from nbnumba.errors import NBError
from nbnumba.memory import require
from nbnumba.setup.records import record, workspace

STEP_FIELDS = ("phisteps", "osc", "phistep", "hdivsteps", "hdivrange", "hdivstep", "vdivsteps", "vdivrange",
               "vdivstep", "dispsteps", "dispersion", "dispstep", "detector_thicksteps", "detector_thick",
               "detector_thickstep", "detector_mu", "mosaic_domains", "mosaic_spread")


@dataclass(frozen=True, eq=False)
class Steps:
    """Steps and ranges as the C completes them (radians, metres): the phi sweep, horizontal
    and vertical divergence, dispersion, the sensor's layers, the mosaic domains."""
    phisteps: int
    osc: float
    phistep: float
    hdivsteps: int
    hdivrange: float
    hdivstep: float
    vdivsteps: int
    vdivrange: float
    vdivstep: float
    dispsteps: int
    dispersion: float
    dispstep: float
    detector_thicksteps: int
    detector_thick: float
    detector_thickstep: float
    detector_mu: float
    mosaic_domains: int
    mosaic_spread: float


@dataclass(frozen=True, eq=False)
class Sampling:
    """What one pixel sums over: oversample x oversample subpixels of subpixel_size metres,
    and `steps` = sources x domains x phi steps x subpixels, the C's int divisor of the
    pixel's intensity (a numpy integer: divided by 0 it gives inf or NaN, as the C's doubles)."""
    oversample: int
    subpixel_size: float
    steps: np.int64


def _phi(steps, osc, step):
    if steps < 0:
        if osc < 0.0:
            if step <= 0.0:
                return 1, 0.0, 0.0
            return 2, step, step
        if step <= 0.0:
            return 2, osc, osc / 2.0
        return c_dtoi_ceil(osc / step), osc, step
    if steps == 0:
        steps = 1
    if osc < 0.0:
        if step <= 0.0:
            osc = 1.0 / RTD
            return steps, osc, osc / steps
        return 2, step, step
    if step < 0.0:
        step = osc / steps
    return steps, osc, step


def _spread(steps, rng, step, range_only_steps_divisor=1, steps_only_range=1.0):
    """Divergence (h and v), dispersion and detector thickness: (steps, range, step) as the C
    completes them.  The C's thickness block differs in two branches: a range given alone is
    cut in 2 steps of range/2 (the others use one step of the whole range), and steps given
    alone mean 0.5 um in total (the others 1.0)."""
    if steps <= 0:
        if rng < 0.0:
            if step <= 0.0:
                return 1, 0.0, 0.0
            return 2, step, step
        if step <= 0.0:
            return 2, rng, rng / range_only_steps_divisor
        return c_dtoi_ceil(rng / step), rng, step
    if rng < 0.0:
        if step <= 0.0:
            rng = steps_only_range
            return steps, rng, rng / steps
        return 2, step, step
    if step <= 0.0:
        if steps <= 1:
            steps = 2
        step = rng / (steps - 1)
    return steps, rng, step


def _sane(steps, rng, step):
    if rng <= 0.0 or step <= 0.0 or steps <= 0:
        return 1, 0.0, 0.0
    return steps, rng, step


# bytes per generated source: X Y Z weight lambda, and the Python objects that build its row
SOURCE_BYTES = 5 * 8 + 64
# bytes per mosaic domain (its matrix) and per domain and phi step (two 3x4 lattice orientations,
# physics.lattice_table)
DOMAIN_BYTES = 9 * 8
LATTICE_BYTES = 2 * 12 * 8


def _check_tables(s):
    """Refuse, before the C's loops print a line for each of them, a divergence grid or a set
    of mosaic domains and phi steps whose tables cannot fit in memory (the C would print
    divergence lines for hours, then overflow its int source count or fail to allocate)."""
    if s.sourcefilename is None:
        require(s.hdivsteps * s.vdivsteps * s.dispsteps * SOURCE_BYTES,
                "a source table of up to %d x %d directions x %d wavelengths" % (s.hdivsteps, s.vdivsteps,
                                                                                  s.dispsteps),
                "-divsteps/-hdivsteps/-vdivsteps/-dispsteps and the steps they set")
    require(s.mosaic_domains * (DOMAIN_BYTES + LATTICE_BYTES * s.phisteps),
            "%d mosaic domains over %d phi steps" % (s.mosaic_domains, s.phisteps),
            "-mosaic_domains/-phisteps/-osc/-phistep")


def steps(o, out):
    """The C's auto-selection (and its WARNING lines), refused where a table cannot fit."""
    s = workspace(**{name: getattr(o, name) for name in STEP_FIELDS + ("sourcefilename",)})
    _auto_select(s, out)
    return record(Steps, s)


def print_sweep(o, steps, out):
    """The C's list of detector layers and phi angles (before the sources)."""
    for thick_tic in range(steps.detector_thicksteps):
        out(c_format("thick%d = %g um\n", (thick_tic, steps.detector_thickstep * thick_tic * 1e6)))
    for phi_tic in range(steps.phisteps):
        out(c_format("phi%d = %g\n", (phi_tic, (o.phi0 + steps.phistep * phi_tic) * RTD)))


def sampling(detector, crystal, steps, sources, warn):
    """oversample (at least 1), the subpixel size and the C's int steps, refused where that
    count overflows the C's int (its result is then undefined) and warned about when it is 0
    or below (nothing is rendered, and the C divides by it)."""
    oversample = crystal.oversample if crystal.oversample > 0 else 1
    count = len(sources.table) * steps.mosaic_domains * steps.phisteps * oversample * oversample
    what = "%d sources x %d mosaic domains x %d phi steps x %dx%d oversampling is %d steps per pixel" % (
        len(sources.table), steps.mosaic_domains, steps.phisteps, oversample, oversample, count)
    if count != c_int(count):
        raise NBError("ERROR: %s, more than nanoBragg.c counts in an int (check -oversample/-mosaic_domains/"
                      "-phisteps/-divsteps/-dispsteps)" % what)
    if count <= 0:
        warn("%s (check -osc/-phistep/-phisteps and the divergence): nanoBragg.c renders no step and "
             "divides by %d" % (what, count))
    return Sampling(oversample, detector.pixel_size / oversample, np.int64(count))


def _auto_select(s, out):
    s.phisteps, s.osc, s.phistep = _phi(s.phisteps, s.osc, s.phistep)
    s.hdivsteps, s.hdivrange, s.hdivstep = _spread(s.hdivsteps, s.hdivrange, s.hdivstep)
    s.vdivsteps, s.vdivrange, s.vdivstep = _spread(s.vdivsteps, s.vdivrange, s.vdivstep)
    s.dispsteps, s.dispersion, s.dispstep = _spread(s.dispsteps, s.dispersion, s.dispstep)
    s.detector_thicksteps, s.detector_thick, s.detector_thickstep = _spread(
        s.detector_thicksteps, s.detector_thick, s.detector_thickstep, range_only_steps_divisor=2,
        steps_only_range=0.5e-6)
    if s.detector_thick > 0.0 and s.detector_mu < 0.0:
        s.detector_mu = 1.0 / s.detector_thick
        out(c_format("WARNING: setting detector attenuation depth to %g m\n", (s.detector_mu,)))

    if s.mosaic_domains <= 0:
        if s.mosaic_spread < 0.0:
            s.mosaic_domains = 1
            s.mosaic_spread = 0.0
        elif s.mosaic_spread == 0.0:
            s.mosaic_domains = 1
        else:
            out("WARNING: finite mosaicity with only one domain! upping to 10 mosaic domains\n")
            s.mosaic_domains = 10
    else:
        if s.mosaic_spread < 0.0:
            out("WARNING: no mosaic spread specified.  setting mosaic_domains = 1\n")
            s.mosaic_spread = 0.0
            s.mosaic_domains = 1
        elif s.mosaic_spread == 0.0:
            out("WARNING: zero mosaic spread specified.  setting mosaic_domains = 1\n")
            s.mosaic_domains = 1

    s.hdivsteps, s.hdivrange, s.hdivstep = _sane(s.hdivsteps, s.hdivrange, s.hdivstep)
    s.vdivsteps, s.vdivrange, s.vdivstep = _sane(s.vdivsteps, s.vdivrange, s.vdivstep)
    s.dispsteps, s.dispersion, s.dispstep = _sane(s.dispsteps, s.dispersion, s.dispstep)
    s.detector_thicksteps, s.detector_thick, s.detector_thickstep = _sane(
        s.detector_thicksteps, s.detector_thick, s.detector_thickstep)
    _check_tables(s)
