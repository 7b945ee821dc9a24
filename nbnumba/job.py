"""One `nbnumba ARGS` run in this process, with the streams it is given: the command's own
run (command/cli.py), a batch job (batch/worker.py) and a server's job (command/worker.py)."""
import os
import time

import numpy as np

from nbnumba import __version__
from nbnumba.args.helptext import NO_ARGS_HINT, flag_help_text
from nbnumba.errors import NBError
from nbnumba.timings import process_age

HELP_WORDS = ("-h", "--help", "-help")
VERSION_WORDS = ("--version",)


_warm = False       # whether this process has imported what a job needs (a job ran, or prepare_process)


def prepare_process():
    """Import what a render needs and start Numba's CPU target, as a process that will run
    jobs does before its first (a server's worker): its jobs' -timings then count no imports.
    NumPy ignores floating-point errors from then on, as in run_job (the worker's warm-up
    render included)."""
    global _warm
    from nbnumba.numba_internals import start_cpu_target
    import nbnumba.simulation  # noqa: F401
    start_cpu_target()
    np.seterr(all="ignore")
    _warm = True


def run_job(args, out, err):
    """Run one `nbnumba ARGS` in this process and return its exit code; Interrupted passes
    through.  out: a streams.Stdout-like object (write, flush, on_error) for what the C
    prints; err(line): one stderr line.  Files go to the current folder.  A process that
    keeps running jobs (a batch worker, the server) reuses Numba's loaded kernels and the
    structure-factor cache (setup/structure_factors.py) between calls."""
    if any(a in HELP_WORDS for a in args):
        out.write(flag_help_text())
        out.flush()
        return 0
    if any(a in VERSION_WORDS for a in args):
        out.write(f"nbnumba {__version__}\n")
        out.flush()
        return 0
    global _warm
    started = time.perf_counter()
    age = process_age() if not _warm else 0.0      # a warm process imported nothing for this job
    _warm = True
    try:
        from nbnumba.numba_internals import start_cpu_target
        from nbnumba.simulation import Simulation
        imported = time.perf_counter()
        start_cpu_target()
        # the C computes on through inf and NaN silently; so does NumPy here (odd input warns
        # once, through Simulation.warn, never with a NumPy RuntimeWarning per operation)
        with np.errstate(all="ignore"):
            sim = Simulation.from_args(list(args), out=out.write, warn=err, write_files=True, read_fdump=True)
            out.on_error = sim.warn
            sim.clock.add("imports", (age if age is not None else 0.0) + imported - started)
            sim.clock.add("numba start-up", time.perf_counter() - imported)
            sim.run()
        out.flush()
        if sim.settings.timings:
            err(sim.clock.line())
        return 0
    except NBError as e:
        message, code = e.message, e.code
    except MemoryError:
        message, code = "ERROR: the image does not fit in memory (check -detpixels/-detsize/-pixel/-oversample)", 9
    except Exception as e:      # a bug: one line, not a traceback (NBNUMBA_DEBUG=1 shows it)
        if os.environ.get("NBNUMBA_DEBUG"):
            raise
        message = ("nbnumba: internal error: %s: %s (rerun with NBNUMBA_DEBUG=1 for the traceback)"
                   % (type(e).__name__, e))
        code = 1
    out.on_error = lambda text: None      # the run failed already: one line says why
    out.flush()
    err(message)
    if not args:    # after the C's usage text: where the rest is
        err(NO_ARGS_HINT)
    return code
