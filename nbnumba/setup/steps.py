"""The C's auto-selection of steps and ranges (main(), lines ~1395-1700): phi sweep,
divergence, dispersion, detector thickness, mosaic domains, then its sanity checks."""
from nbnumba.cfuncs.stdio import c_dtoi_ceil, c_format
from nbnumba.memory import require
from nbnumba.args.options import RTD


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


def auto_select(s, out):
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
