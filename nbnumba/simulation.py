"""Simulation: nanoBragg.c's main() as a sequence of set-up stages, the render and the outputs,
and the Python API over it.

    import nbnumba
    sim = nbnumba.Simulation(default_F=100, cell=(100, 100, 100, 90, 90, 90), lambda_=6.2, N=5,
                             detpixels=256)
    result = sim.run()                      # result.image: float32 (spixels, fpixels)
    result = nbnumba.Simulation.from_args("-default_F 100 -cell 100 100 100 90 90 90 -N 5").run()

The stages run in the C's order, each a function of the records it needs returning a frozen
record (setup/); this class holds the records and contains no formulas.  The command
(command/cli.py) is a thin layer over the same class.
"""
import io
import shlex
from dataclasses import dataclass

import numpy as np

from nbnumba import interrupt
from nbnumba.args.interpret import interpret
from nbnumba.args.keywords import keywords_to_argv
from nbnumba.cfuncs.rng import new_state
from nbnumba.errors import Warner
from nbnumba.kernels import serial_replay
from nbnumba.kernels.plan import build_plan
from nbnumba.output import report
from nbnumba.output.images import write_outputs
from nbnumba.output.statistics import statistics
from nbnumba.output.trace import config_line
from nbnumba.setup import crystal, detector, mosaic, sources, steps, structure_factors
from nbnumba.setup.records import Setup
from nbnumba.timings import PhaseClock

BANNER = "nanoBragg nanocrystal diffraction simulator - James Holton and Ken Frankel 5-17-17\n"


@dataclass(frozen=True, eq=False)
class Result:
    """What a run produced.

    Attributes
    ----------
    image : numpy.ndarray
        The float image, float32, shape (spixels, fpixels) (flat when a side is negative).
    intimage : numpy.ndarray
        The int image of intimage.img, uint16, same shape.
    noiseimage : numpy.ndarray or None
        The Poisson-noise image of noiseimage.img (None with -nonoise), uint16.
    pgm : numpy.ndarray or None
        The 8-bit image of image.pgm (None with -nopgm), uint8.
    statistics : nbnumba.output.statistics.Statistics
        max_I and where, mean, rms, rmsd.
    stdout : str
        What nanoBragg.c prints for the run (when the Simulation was given no `out`).
    setup : nbnumba.setup.records.Setup
        Every set-up stage's record.
    """
    image: np.ndarray
    intimage: np.ndarray
    noiseimage: object
    pgm: object
    statistics: object
    stdout: str
    setup: Setup


class Simulation:
    """One nanoBragg run.

    Parameters
    ----------
    out : callable, optional
        Receives what nanoBragg.c prints, text by text; default: collected into Result.stdout.
    warn : callable, optional
        Receives one "nbnumba: warning: ..." line per odd input; default: NBWarning warnings.
    write_files : bool, optional
        Write the images (and the Fdump cache after -hkl) as the C does, in the current folder.
    read_fdump : bool, optional
        Without -hkl, read a Fdump.bin found in the current folder, as the C does (default
        False: only the command line reads it).
    **params
        The run's parameters as typed keywords, flag names without the dash (args/keywords.py):
        ``cell=(100, 100, 100, 90, 90, 90)``, ``lambda_=6.2``, ``nonoise=True``.  An unknown
        keyword raises TypeError naming it.

    Raises
    ------
    TypeError
        An unknown keyword, or a value of the wrong kind or count.
    nbnumba.NBError
        (a ValueError) Input nbnumba refuses, raised by `run` or `setup`.
    """

    def __init__(self, *, out=None, warn=None, write_files=False, read_fdump=False, **params):
        self._init(keywords_to_argv(params), out, warn, write_files, read_fdump)

    def _init(self, argv, out, warn, write_files, read_fdump):
        self.argv = [str(a) for a in argv]
        self._stdout = None if out is not None else io.StringIO()
        self.out = out if out is not None else self._stdout.write
        self.warn = Warner(warn)
        self.write_files = write_files
        self.read_fdump = read_fdump
        self.clock = PhaseClock()
        self.rng = None
        self.records = None
        self.plan = None
        self.rendering = None

    @classmethod
    def from_args(cls, argv, *, out=None, warn=None, write_files=False, read_fdump=False):
        """A Simulation of nanoBragg.c's arguments (without the program name).

        Parameters
        ----------
        argv : sequence of str, or str
            The arguments; a string is split as a shell splits words.
        out, warn, write_files, read_fdump
            As for Simulation.

        Raises
        ------
        TypeError
            argv is bytes, or a sequence holding something other than str.
        """
        if isinstance(argv, str):
            argv = shlex.split(argv)
        elif isinstance(argv, (bytes, bytearray, memoryview)):
            raise TypeError("Simulation.from_args takes a str or a sequence of str, not %s (decode it first)"
                            % type(argv).__name__)
        argv = list(argv)
        for arg in argv:
            if not isinstance(arg, str):
                raise TypeError("Simulation.from_args takes a str or a sequence of str, not a sequence holding "
                                "%s %r" % (type(arg).__name__, arg))
        sim = cls.__new__(cls)
        sim._init(argv, out, warn, write_files, read_fdump)
        return sim

    @property
    def settings(self):
        """The options record (args.options.Options) once set up."""
        return self.records.options if self.records is not None else None

    # ---- set-up, in the C's order ----
    def setup(self):
        """Run the set-up stages in nanoBragg.c's order; returns (and keeps) their records."""
        out, warn = self.out, self.warn
        o = interpret(self.argv, out, warn)
        self.rng = new_state()      # ran1's static state: the misset, the mosaic and the noise draw from it
        raster = detector.raster(o, warn)
        exposure = sources.exposure(o, out)
        frame = detector.frame(o, raster, out)
        mask = detector.mask(o, raster, frame, warn)
        out(BANNER)
        fdump = structure_factors.fdump_to_read(o, frame, out, self.read_fdump)
        sweep = steps.steps(o, out)
        trace = self._trace_line if o.trace_fpixel >= 0 and o.trace_spixel >= 0 else None
        det = detector.orient(o, raster, frame, out, warn, trace)
        interpolate = structure_factors.interpolation(o, out)
        cell = crystal.cell(o, self.rng, out, warn)
        xtal = crystal.size(o, cell, exposure, det, out)
        sf = structure_factors.structure_factors(o, fdump, interpolate, out, warn, self.write_files)
        structure_factors.read_stol(o, out)
        steps.print_sweep(o, sweep, out)
        beam = sources.sources(o, det, sweep, out)
        domains = mosaic.domains(o, sweep, self.rng, out)
        sampling = steps.sampling(det, xtal, sweep, beam, warn)
        self.records = Setup(o, det, mask, exposure, sweep, xtal, sf, beam, domains, sampling)
        report.summary(self.records, out)
        self.plan = build_plan(self.records)
        return self.records

    def _trace_line(self, line):
        self.out(line + "\n")

    # ---- render and outputs ----
    def run(self):
        """Set up (unless done), render and finish.

        Returns
        -------
        Result
            The images, statistics and printed text; self.clock holds how long each phase
            took (-timings).
        """
        clock = self.clock
        with clock.phase("set-up"):
            su = self.setup() if self.records is None else self.records
        o, d = su.options, su.detector
        target, device, precision = serial_replay.select_target(o.device, o.precision, self.warn)
        self.warn.note("nbnumba: rendering on %s in %s precision" % (device, precision))
        with clock.phase("kernel load"):
            run = serial_replay.prepare(self.plan, target)
        trace_idx = None
        if o.trace_fpixel >= 0 and o.trace_spixel >= 0:
            self.out(config_line(o.trace_spixel, o.trace_fpixel) + "\n")
            idx = o.trace_spixel * d.fpixels + o.trace_fpixel
            box = run.box
            if (box.x0 <= o.trace_fpixel <= box.x1 and box.y0 <= o.trace_spixel <= box.y1
                    and (su.mask is None or su.mask[idx] != 0)):
                trace_idx = idx
        with clock.phase("render"):
            rendering = serial_replay.render(run, report.LiveReport(su, run, self.out, trace_idx))
        with clock.phase("outputs"):
            report.solid_angle(rendering.omega_sum, su.sampling.steps, self.out)
            stats = statistics(su, rendering.image, run.box)
            images = write_outputs(su, stats, rendering.image, self.rng, self.out, self.write_files)
        interrupt.checkpoint()
        self.rendering = rendering
        shape = (d.spixels, d.fpixels) if d.fpixels >= 0 and d.spixels >= 0 else (-1,)   # -detpixels -10: flat
        return Result(
            rendering.image.reshape(shape), images.intimage.reshape(shape),
            images.noiseimage.reshape(shape) if images.noiseimage is not None else None,
            images.pgm.reshape(shape) if images.pgm is not None else None,
            stats, self._stdout.getvalue() if self._stdout is not None else "", su)
