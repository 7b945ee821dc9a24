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
import os
import shlex
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from nbnumba import interrupt
from nbnumba.args.interpret import interpret
from nbnumba.args.keywords import keywords_to_argv
from nbnumba.cfuncs.rng import new_state
from nbnumba.constants import RTD
from nbnumba.errors import NBError, Warner
from nbnumba.folders import WORKING, Folder
from nbnumba.io.outfile import Outputs
from nbnumba.kernels import serial_replay
from nbnumba.kernels.plan import build_plan
from nbnumba.kernels.targets import select_target
from nbnumba.output import report
from nbnumba.output.datasets import refuse_inexpressible
from nbnumba.output.geometry import geometry
from nbnumba.output.images import write_outputs
from nbnumba.output.save import save
from nbnumba.output.statistics import statistics
from nbnumba.output.trace import config_line
from nbnumba.settings import Settings
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
    device : str
        Where it rendered: "cpu" or "cuda".
    precision : str
        "double" or "single".
    seeds : dict
        The random seeds it used: "seed" (the noise's; nanoBragg.c's default is minus the
        clock's seconds, so this is the one to give -seed to repeat a run), "misset_seed"
        and "mosaic_seed".
    misset_deg : tuple of float or None
        The misset angles (x, y, z, degrees) -misset random drew; None without it.
    paths : dict
        {kind: path} of the files written ("float", "int", "pgm", "noise", "fdump", and
        "nexus", "cbf", "png" for -nexusfile, -cbffile, -pngfile), paths
        relative to the working folder when the output folder was given by name (empty when
        nothing was written).
    timings : dict
        Seconds per phase ("set-up", "kernel load", "render", "outputs", ...), as -timings
        reports them.
    """
    image: np.ndarray
    intimage: np.ndarray
    noiseimage: object
    pgm: object
    statistics: object
    stdout: str
    setup: Setup
    device: str = "cpu"
    precision: str = "double"
    seeds: dict = field(default_factory=dict)
    misset_deg: object = None
    paths: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @cached_property
    def geometry(self):
        """The run's geometry as DIALS describes it (its laboratory frame; millimetres, degrees,
        angstroms): beam and wavelength, the detector's origin, fast and slow axes, pixel size
        and count, the rotation axis and the phi scan.

        Returns
        -------
        nbnumba.output.geometry.Geometry

        Raises
        ------
        nbnumba.NBError
            The beam vector has no direction.
        """
        return geometry(self.setup.options, self.setup.detector, self.setup.steps)

    def save(self, path):
        """Write the image to `path` in the format its extension names, as the command would.

        ``.img``: SMV (the noise image when the run computed one, else the int image);
        ``.bin``: the raw float image; ``.pgm``: the PGM (made with the C's scale after
        -nopgm too); ``.h5`` or ``.nxs``: NeXus NXmx (the nexus extra); ``.cbf``: miniCBF;
        ``.png``: a picture.  docs/formats.md describes each.

        Parameters
        ----------
        path : str or os.PathLike

        Raises
        ------
        nbnumba.NBError
            An unknown extension, a geometry the format cannot carry (the command's
            -nexusfile/-cbffile refusals), or a file that cannot be written.
        """
        save(self, path)


def device_note(device, precision):
    """The stderr line a run prints as it starts rendering (not a warning)."""
    return "nbnumba: rendering on %s in %s precision" % (device, precision)


@contextmanager
def _folder(where, create=False):
    """The folders.Folder of `where` (a Folder, used as it is; a path, opened here and closed
    at the end; None: the working folder), for the block.  create: make a missing folder."""
    if where is None or isinstance(where, Folder):
        yield WORKING if where is None else where
        return
    try:
        if create:
            os.makedirs(where, exist_ok=True)
        folder = Folder.open(where)
    except OSError as err:
        raise NBError("ERROR: cannot use the folder %s: %s" % (os.fspath(where), err.strerror), 2) from None
    with folder:
        yield folder


class Simulation:
    """One nanoBragg run.

    Parameters
    ----------
    out : callable, optional
        Receives what nanoBragg.c prints, text by text; default: collected into Result.stdout.
    warn : callable, optional
        Receives one "nbnumba: warning: ..." line per odd input; default: NBWarning warnings.
    settings : nbnumba.Settings, optional
        How to run (device, strict, timings, threads, ...); default: Settings(), whatever the
        environment holds (Settings.from_environ() reads it as the command does).
    indir : str, path or nbnumba.folders.Folder, optional
        The folder relative input names (-hkl, -mat, -img, -mask, -sourcefile, -stol, and
        Fdump.bin with read_fdump) are read in; default: the working folder.
    outdir : str, path or nbnumba.folders.Folder, optional
        Write the run's files (the images; with -hkl the Fdump cache) as the C does, relative
        names in this folder (made if missing); default None: write nothing.  `run` may
        also be given it.
    read_fdump : bool, optional
        Without -hkl, read a Fdump.bin found in indir, as the C does (default False: only the
        command line reads it).
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

    Notes
    -----
    A run changes no process-wide state (the working folder, the environment): two
    Simulations may run at once in two threads, into two folders.
    """

    def __init__(self, *, out=None, warn=None, settings=None, indir=None, outdir=None, read_fdump=False,
                 **params):
        self._init(keywords_to_argv(params), out, warn, settings, indir, outdir, read_fdump)

    def _init(self, argv, out, warn, settings, indir, outdir, read_fdump):
        self.argv = [str(a) for a in argv]
        self._stdout = None if out is not None else io.StringIO()
        self.out = out if out is not None else self._stdout.write
        self.settings = settings if settings is not None else Settings()
        self.warn = Warner(warn, strict=self.settings.strict)
        self.indir = indir
        self.outdir = outdir
        self.read_fdump = read_fdump
        self.clock = PhaseClock()
        self.rng = None
        self.records = None
        self.plan = None
        self.rendering = None

    @classmethod
    def from_args(cls, argv, *, out=None, warn=None, settings=None, indir=None, outdir=None, read_fdump=False):
        """A Simulation of nanoBragg.c's arguments (without the program name).

        Parameters
        ----------
        argv : sequence of str, or str
            The arguments; a string is split as a shell splits words.
        out, warn, settings, indir, outdir, read_fdump
            As for Simulation.

        Raises
        ------
        TypeError
            argv is neither a string nor a sequence of strings.
        """
        if isinstance(argv, str):
            argv = shlex.split(argv)
        elif isinstance(argv, (bytes, bytearray)) or not all(isinstance(a, str) for a in argv):
            raise TypeError("from_args takes a string or a sequence of strings, not %s" % type(argv).__name__)
        sim = cls.__new__(cls)
        sim._init(list(argv), out, warn, settings, indir, outdir, read_fdump)
        return sim

    @property
    def options(self):
        """The options record (args.options.Options) once set up."""
        return self.records.options if self.records is not None else None

    # ---- set-up, in the C's order ----
    def setup(self):
        """Run the set-up stages in nanoBragg.c's order; returns (and keeps) their records.
        Writes no file (`run` writes the Fdump cache when it sets up itself)."""
        with _folder(self.indir) as indir:
            return self._setup(indir, None)

    def _setup(self, indir, outputs):
        out, warn = self.out, self.warn
        options = interpret(self.argv, out, warn, indir=indir)
        self.rng = new_state()      # ran1's static state: the misset, the mosaic and the noise draw from it
        raster = detector.raster(options, warn)
        exposure = sources.exposure(options, out)
        frame = detector.frame(options, raster, out)
        mask = detector.mask(options, raster, frame, warn)
        out(BANNER)
        fdump = structure_factors.fdump_to_read(options, frame, out, indir, self.read_fdump)
        sweep = steps.steps(options, out)
        trace = self._trace_line if options.trace_fpixel >= 0 and options.trace_spixel >= 0 else None
        det = detector.orient(options, raster, frame, out, warn, trace)
        refuse_inexpressible(options, det, sweep)     # -nexusfile/-cbffile/-pngfile: before any file is written
        interpolate = structure_factors.interpolation(options, out)
        cell = crystal.cell(options, self.rng, out, warn, indir)
        xtal = crystal.size(options, cell, exposure, det, out)
        sf = structure_factors.structure_factors(options, fdump, interpolate, out, warn, indir, outputs)
        structure_factors.read_stol(options, out, indir)
        steps.print_sweep(options, sweep, out)
        beam = sources.sources(options, det, sweep, out, indir)
        domains = mosaic.domains(options, sweep, self.rng, out)
        sampling = steps.sampling(det, xtal, sweep, beam, warn)
        self.records = Setup(options, det, mask, exposure, sweep, xtal, sf, beam, domains, sampling)
        report.summary(self.records, out)
        self.plan = build_plan(self.records)
        return self.records

    def _trace_line(self, line):
        self.out(line + "\n")

    # ---- render and outputs ----
    def run(self, outdir=None):
        """Set up (unless done), render and finish.

        Parameters
        ----------
        outdir : str, path or nbnumba.folders.Folder, optional
            Write the run's files there (see Simulation); default: the Simulation's outdir.
            The files appear together when the run has succeeded: a run that fails or is
            interrupted writes none.

        Returns
        -------
        Result
            The images, statistics and printed text, where it rendered, the seeds and misset
            angles it used, the files it wrote and how long each phase took.
        """
        outdir = outdir if outdir is not None else self.outdir
        with _folder(self.indir) as indir, _folder(outdir, create=True) as folder, Outputs(folder) as outputs:
            return self._run(indir, outputs if outdir is not None else None, folder)

    def _run(self, indir, outputs, folder):
        clock, settings = self.clock, self.settings
        with clock.phase("set-up"):
            records = self._setup(indir, outputs) if self.records is None else self.records
        options, d = records.options, records.detector
        target, device, precision = select_target(options.device or settings.device, options.precision, self.warn)
        self.warn.note(device_note(device, precision))
        with clock.phase("kernel load"):
            run = serial_replay.prepare(self.plan, target, settings)
        trace_idx = None
        if options.trace_fpixel >= 0 and options.trace_spixel >= 0:
            self.out(config_line(options.trace_spixel, options.trace_fpixel) + "\n")
            idx = options.trace_spixel * d.fpixels + options.trace_fpixel
            box = run.box
            if (box.x0 <= options.trace_fpixel <= box.x1 and box.y0 <= options.trace_spixel <= box.y1
                    and (records.mask is None or records.mask[idx] != 0)):
                trace_idx = idx
        with clock.phase("render"):
            rendering = serial_replay.render(run, report.LiveReport(records, run, self.out, trace_idx), settings)
        with clock.phase("outputs"):
            report.solid_angle(rendering.omega_sum, records.sampling.steps, self.out)
            stats = statistics(records, rendering.image, run.box)
            images = write_outputs(records, stats, rendering.image, self.rng, self.out, outputs)
            interrupt.checkpoint()
            written = outputs.commit() if outputs is not None else {}
            paths = {kind: folder.path_of(name) for kind, name in written.items()}
        self.rendering = rendering
        shape = (d.spixels, d.fpixels) if d.fpixels >= 0 and d.spixels >= 0 else (-1,)   # -detpixels -10: flat
        cell = records.crystal.cell
        return Result(
            rendering.image.reshape(shape), images.intimage.reshape(shape),
            images.noiseimage.reshape(shape) if images.noiseimage is not None else None,
            images.pgm.reshape(shape) if images.pgm is not None else None,
            stats, self._stdout.getvalue() if self._stdout is not None else "", records,
            device=device, precision=precision,
            seeds={"seed": options.seed, "misset_seed": options.misset_seed, "mosaic_seed": options.mosaic_seed},
            misset_deg=tuple(float(x) * RTD for x in cell.misset[1:4]) if options.misset_random else None,
            paths=paths, timings=dict(clock.seconds))
