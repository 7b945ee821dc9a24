"""Simulation: nanoBragg.c's main() as a sequence of set-up stages, the render, the outputs.

    sim = Simulation.from_args(["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90",
                                "-lambda", "6.2", "-N", "5", "-detpixels", "64"])
    image = sim.run()            # float32 (spixels, fpixels), no files written

The command line (command/cli.py) runs the same object with `write_files=True` and stdout attached.
"""
import math
import os
import sys

import numpy as np

from nbnumba import interrupt
from nbnumba.output import report
from nbnumba.setup import crystal, detector, headers as frames, mosaic, sources as beam, steps as sampling
from nbnumba.cfuncs.rng import new_state
from nbnumba.cfuncs.stdio import c_format, c_int, read_text_file
from nbnumba.errors import NBError, Warner
from nbnumba.io.hkl import HKLGrid, read_fdump, read_hkl, write_fdump
from nbnumba.args.interpret import interpret
from nbnumba.kernels import serial_replay as dispatch
from nbnumba.output.images import statistics, write_outputs
from nbnumba.kernels.plan import build_plan
from nbnumba.timings import PhaseClock
from nbnumba.output.trace import config_line

AVOGADRO = 6.02214179e23


def _params_to_argv(params):
    """from_params(cell=(100, 100, 100, 90, 90, 90), lambda_=6.2) -> ['-cell', '100', ..., '-lambda', '6.2']"""
    argv = []
    for key, value in params.items():
        argv.append("-" + key.rstrip("_"))
        if value is True or value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        argv.extend(str(v) for v in values)
    return argv


def _empty_grid():
    return HKLGrid(h_min=0, h_max=0, k_min=0, k_max=0, l_min=0, l_max=0, h_range=0, k_range=0, l_range=0,
                   F=np.zeros((1, 1, 1)), hkls=0)


class Simulation:
    def __init__(self, argv, out=None, warn=None):
        """argv: nanoBragg's arguments (without the program name).  out(text) receives what the
        C prints (None: nothing); warn(line) receives one line per warning about odd input
        (under -strict those are errors: errors.Warner)."""
        self.argv = [str(a) for a in argv]
        self.out = out if out is not None else (lambda text: None)
        self.warn = Warner(warn)
        self.clock = PhaseClock()
        self.settings = None
        self.image = None

    @classmethod
    def from_args(cls, argv, verbose=False):
        return cls(argv, out=sys.stdout.write if verbose else None)

    @classmethod
    def from_params(cls, verbose=False, **params):
        return cls.from_args(_params_to_argv(params), verbose=verbose)

    # ---- set-up, in the C's order ----
    def setup(self):
        out = self.out
        s = interpret(self.argv, out, self.warn)
        s.rng = new_state()
        self.settings = s
        detector.fill_in_blanks(s, out, self.warn)
        detector.beam_centres_and_convention(s, out)
        frames.fit_mask(s, self.warn)
        out("nanoBragg nanocrystal diffraction simulator - James Holton and Ken Frankel 5-17-17\n")
        self._check_usage(s)
        sampling.auto_select(s, out)
        self.trace_lines = []
        detector.orient(s, out, self.warn, self._trace if s.trace_fpixel >= 0 and s.trace_spixel >= 0 else None)
        if s.interpolate > 1:
            if s.Na <= 2 or s.Nb <= 2 or s.Nc <= 2:
                out("auto-selected tricubic interpolation of structure factors\n")
                s.interpolate = 1
            else:
                out("auto-selected no interpolation\n")
                s.interpolate = 0
        crystal.setup_cell(s, out, self.warn)
        crystal.crystal_size(s, out)
        self._structure_factors(s)
        if s.hkl.hkls == 0:
            s.interpolate = 0
        self._amorphous(s)
        for thick_tic in range(s.detector_thicksteps):
            out(c_format("thick%d = %g um\n", (thick_tic, s.detector_thickstep * thick_tic * 1e6)))
        for phi_tic in range(s.phisteps):
            out(c_format("phi%d = %g\n", (phi_tic, (s.phi0 + s.phistep * phi_tic) * crystal.RTD)))
        beam.make_sources(s, out)
        mosaic.make_domains(s, out)
        if s.oversample <= 0:
            s.oversample = 1
        s.steps = self._steps(s)
        s.subpixel_size = s.pixel_size / s.oversample
        report.summary(s, out)
        s.I_bg = (s.water_F * s.water_F * s.r_e_sqr * s.fluence * s.water_size * s.water_size * s.water_size
                  * 1e6 * AVOGADRO / s.water_MW)
        self.plan = build_plan(s)
        return s

    def _steps(self, s):
        """The C's int steps = sources*mosaic_domains*phisteps*oversample*oversample, refused
        where it overflows (the C's result is then undefined) and warned about when it is 0 or
        below (nothing is rendered, and the C divides by it); a numpy integer, so that dividing
        by 0 gives inf or NaN as the C's doubles do instead of raising ZeroDivisionError."""
        steps = len(s.sources) * s.mosaic_domains * s.phisteps * s.oversample * s.oversample
        what = "%d sources x %d mosaic domains x %d phi steps x %dx%d oversampling is %d steps per pixel" % (
            len(s.sources), s.mosaic_domains, s.phisteps, s.oversample, s.oversample, steps)
        if steps != c_int(steps):
            raise NBError("ERROR: %s, more than nanoBragg.c counts in an int (check -oversample/-mosaic_domains/"
                          "-phisteps/-divsteps/-dispsteps)" % what)
        if steps <= 0:
            self.warn("%s (check -osc/-phistep/-phisteps and the divergence): nanoBragg.c renders no step and "
                      "divides by %d" % (what, steps))
        return np.int64(steps)

    def _trace(self, line):
        self.out(line + "\n")

    def _check_usage(self, s):
        """No structure factors at all, or no cell: the C prints its usage and exits 9."""
        s.fdump_readable = False
        if s.hklfilename is None:
            s.fdump_readable = os.path.isfile(s.dumpfilename) and os.access(s.dumpfilename, os.R_OK)
            if not s.fdump_readable and s.default_F == 0.0:
                self.out("ERROR: no hkl file and no dump file to read.")
        if (s.hklfilename is None and not s.fdump_readable and s.default_F == 0.0) or \
                (s.matfilename is None and s.a[0] == 0.0):
            report.usage(s, self.out)
            raise NBError("ERROR: nothing to render: give -hkl (or a readable %s, or -default_F) and -cell or -mat"
                          % s.dumpfilename, 9)

    def _structure_factors(self, s):
        if s.hklfilename is None:
            s.hkl = read_fdump(s.dumpfilename, self.out, self.warn) if s.fdump_readable else _empty_grid()
        else:
            s.hkl = read_hkl(s.hklfilename, s.default_F, self.out, self.warn)
            write_fdump(s.dumpfilename, s.hkl, self.out)

    def _amorphous(self, s):
        """-stol/-4stol/-Q: read and padded as the C does (it never uses them in the render)."""
        if s.stolfilename is None:
            return
        self.out("reading %s\n" % s.stolfilename)
        stol_of, F_of = read_text_file(s.stolfilename, 2)
        if len(stol_of) == 0:
            raise NBError("ERROR: -stol %s: no data in input file" % s.stolfilename)

    # ---- render and outputs ----
    def run(self, write_files=False):
        """Set up, render and finish; returns the float image as (spixels, fpixels) float32.
        self.clock holds how long each phase took (-timings)."""
        clock = self.clock
        with clock.phase("set-up"):
            s = self.setup() if self.settings is None else self.settings
        target, device, precision = dispatch.select_target(s.device, s.precision, self.warn)
        self.warn.sink("nbnumba: rendering on %s in %s precision" % (device, precision))
        with clock.phase("kernel load"):
            run = dispatch.prepare(self.plan, target)
        self.rendered = self._rendered_mask(s)
        trace_idx = None
        if s.trace_fpixel >= 0 and s.trace_spixel >= 0:
            self.out(config_line(s.trace_spixel, s.trace_fpixel) + "\n")
            idx = s.trace_spixel * s.fpixels + s.trace_fpixel
            if s.trace_fpixel < s.fpixels and s.trace_spixel < s.spixels and self.rendered[idx]:
                trace_idx = idx
        with clock.phase("render"):
            result = dispatch.render(run, report.LiveReport(s, self.plan, run.box, self.out, trace_idx))
        self.result = result
        with clock.phase("outputs"):
            self.out("\n")
            self.out("solid angle subtended by detector = %g steradian ( %g%% sphere)\n"
                     % (result.omega_sum / s.steps, 100 * result.omega_sum / s.steps / 4 / math.pi))
            statistics(s, result.image, self.rendered)
            write_outputs(s, result.image, self.out, write_files)
        interrupt.checkpoint()
        # a detector of -10 x -10 pixels (pixels = 100) has no 2-D shape: the flat image
        self.image = result.image.reshape(s.spixels, s.fpixels) if s.fpixels >= 0 and s.spixels >= 0 else result.image
        return self.image

    @staticmethod
    def _rendered_mask(s):
        """The pixels the C renders: inside the ROI (inclusive) and not masked off; none when
        a side of the detector is 0 or below (its loops do not run)."""
        if s.fpixels <= 0 or s.spixels <= 0:
            return np.zeros(s.pixels, dtype=bool)
        f = np.arange(s.fpixels)
        sl = np.arange(s.spixels)
        ok = ((f[None, :] >= s.roi_xmin) & (f[None, :] <= s.roi_xmax)
              & (sl[:, None] >= s.roi_ymin) & (sl[:, None] <= s.roi_ymax)).ravel()
        if s.maskimage is not None:
            ok &= s.maskimage != 0
        return ok
