"""One `nbnumba ARGS` run, as a value: the arguments, the streams, the settings and the folders
go in, an `Outcome` comes out.  The command (command/cli.py), a batch job (batch/worker.py)
and a server's job (command/server/renderer.py) all run it; none of them changes the working
folder or the environment around it."""
import time
import traceback
from dataclasses import dataclass
from typing import Optional

import numpy as np

from nbnumba import __version__
from nbnumba.args.helptext import NO_ARGS_HINT, flag_help_text, help_width
from nbnumba.errors import NBError
from nbnumba.folders import WORKING
from nbnumba.settings import Settings
from nbnumba.timings import process_age

HELP_WORDS = ("-h", "--help", "-help")
VERSION_WORDS = ("--version",)


_warm = False       # whether this process has imported what a job needs (a job ran, or prepare_process)


@dataclass(frozen=True, eq=False)
class Outcome:
    """How one run ended.

    Attributes
    ----------
    code : int
        The command's exit status (0: rendered, or -h / --version answered).
    error : str or None
        The one line that says why it failed (already sent to `err`).
    result : nbnumba.simulation.Result or None
        What the render produced (None when it failed, or for -h / --version): its device,
        precision, seeds, misset_deg, paths and timings are the run's.
    """
    code: int
    error: Optional[str] = None
    result: object = None


def prepare_process():
    """Import what a render needs and start Numba's CPU target, as a process that will run
    jobs does before its first (a server's worker): its jobs' -timings then count no imports."""
    global _warm
    from nbnumba.numba_internals import start_cpu_target
    import nbnumba.simulation  # noqa: F401
    start_cpu_target()
    _warm = True


def run_job(args, out, err, settings=None, indir=WORKING, outdir=WORKING):
    """Run one `nbnumba ARGS` in this process.

    Parameters
    ----------
    args : list of str
        The nbnumba arguments.
    out : object
        A command.streams.Stdout-like object (write, flush, on_error, closed, fd) for what
        the C prints.
    err : callable
        err(line) receives each stderr line (warnings, the device note, the error).
    settings : nbnumba.Settings, optional
        Default: Settings() (not the environment: the caller reads that, once).
    indir, outdir : nbnumba.folders.Folder, optional
        Where relative input names are read and output files written (default: the working
        folder, as the C); outdir None writes nothing (the images are in the Result).

    Returns
    -------
    Outcome
        Interrupted (a signal) passes through instead.

    Notes
    -----
    A process that keeps running jobs (a batch worker, the server) reuses Numba's loaded
    kernels and the structure-factor cache (setup/structure_factors.py) between calls.
    """
    settings = settings if settings is not None else Settings()
    if any(a in HELP_WORDS for a in args):
        out.write(flag_help_text(help_width(settings.columns, None if out.closed else out.fd)))
        out.flush()
        return Outcome(0)
    if any(a in VERSION_WORDS for a in args):
        out.write(f"nbnumba {__version__}\n")
        out.flush()
        return Outcome(0)
    global _warm
    warm, _warm = _warm, True
    started = time.perf_counter()
    try:
        from nbnumba.numba_internals import start_cpu_target
        from nbnumba.simulation import Simulation
        imported = time.perf_counter()
        start_cpu_target()
        # a warm process imported and started nothing for this job: both phases are 0
        importing = 0.0 if warm else (process_age() or 0.0) + imported - started
        starting = 0.0 if warm else time.perf_counter() - imported
        # the C computes on through inf and NaN silently; so does NumPy here (odd input warns
        # once, through Simulation.warn, never with a NumPy RuntimeWarning per operation)
        with np.errstate(all="ignore"):
            sim = Simulation.from_args(list(args), out=out.write, warn=err, settings=settings, indir=indir,
                                       outdir=outdir, read_fdump=True)
            out.on_error = sim.warn
            sim.clock.add("imports", importing)
            sim.clock.add("numba start-up", starting)
            result = sim.run()
        out.flush()
        if sim.options.timings or settings.timings:
            err(sim.clock.line())
        return Outcome(0, result=result)
    except NBError as e:
        message, code = e.message, e.code
    except MemoryError:
        message, code = "ERROR: the image does not fit in memory (check -detpixels/-detsize/-pixel/-oversample)", 9
    except Exception as e:      # a bug: one line, not a traceback (NBNUMBA_DEBUG=1 adds it)
        message = ("nbnumba: internal error: %s: %s (rerun with NBNUMBA_DEBUG=1 for the traceback)"
                   % (type(e).__name__, e))
        if settings.debug:
            message = traceback.format_exc().rstrip("\n")
        code = 1
    out.on_error = lambda text: None      # the run failed already: one line says why
    out.flush()
    err(message)
    if not args:    # after the C's usage text: where the rest is
        err(NO_ARGS_HINT)
    return Outcome(code, error=message)
