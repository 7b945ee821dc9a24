"""One batch job, run in the process that renders it: `nbnumba batch`'s own process, or a Dask
worker.  The process stays warm between jobs: Numba keeps its loaded kernels, and parsed HKL
files are kept per path and content (setup/structure_factors.py).

A job writes its images in its output folder, as `cd OUTDIR && nbnumba ARGS` would (the
command's run_job, which writes each image through a temporary name and a rename), or, with
no output folder, returns them as arrays and writes nothing.  Jobs in one process run one at
a time (the folder is the process's current one, and Numba's thread pool is shared).
"""
import os
import re
import signal
import socket
import threading
import time

_ONE_AT_A_TIME = threading.Lock()
MISSET = re.compile(r"^random orientation misset angles: (\S+) (\S+) (\S+) deg$", re.M)
DEVICE = re.compile(r"^nbnumba: rendering on (\S+) in (\S+) precision$")    # Simulation.run's note


class JobFailed(Exception):
    """A job that ended with a non-zero exit status: `code`, and `lines`, what it printed on
    stderr (its error line last).  Raised so that Dask retries the job elsewhere."""

    def __init__(self, code, lines):
        super().__init__(code, lines)
        self.code = code
        self.lines = list(lines)

    def __str__(self):
        return self.lines[-1] if self.lines else "exit status %d" % self.code


class _Capture:
    """What a job prints on stdout (a streams.Stdout-like sink for run_job)."""

    def __init__(self):
        self.parts = []
        self.on_error = lambda text: None

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def text(self):
        return "".join(self.parts)


def run(args, outdir=None):
    """Run one job in this process.

    Parameters
    ----------
    args : list of str
        The nbnumba arguments.
    outdir : str, optional
        The folder the job runs in and writes its images to; None: write nothing and return
        the images.

    Returns
    -------
    dict
        seconds (the job's time here), worker ("host:pid"), device ("cpu double"), misset
        (the random orientation's angles in degrees, or None), lines (its stderr lines but
        the device note), and with no outdir, arrays ({"float", "int", "noise", "pgm"}).

    Raises
    ------
    JobFailed
        The job's exit status was not 0.
    """
    import numpy as np

    out, lines = _Capture(), []
    with _ONE_AT_A_TIME, np.errstate(all="ignore"):     # the C computes through inf and NaN silently
        started = time.perf_counter()
        if outdir is None:
            arrays = _arrays(args, out, lines)
        else:
            arrays = None
            _in_folder(outdir, args, out, lines)
        seconds = time.perf_counter() - started
    device = [" ".join(m.groups()) for m in map(DEVICE.match, lines) if m]
    done = {"seconds": seconds, "worker": "%s:%d" % (socket.gethostname(), os.getpid()),
            "device": device[0] if device else None, "lines": _stderr(lines),
            "misset": _misset(out.text())}
    if arrays is not None:
        done["arrays"] = arrays
    return done


def dask_setup(worker):
    """Dask's preload hook, run as a LocalCluster's worker starts (execute._local_cluster):
    a Ctrl-C on the terminal reaches every process of its group, and the batch's own process
    stops the workers; they ignore SIGINT rather than print a KeyboardInterrupt each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _in_folder(outdir, args, out, lines):
    from nbnumba.job import run_job
    here = os.getcwd()
    try:
        os.chdir(outdir)
    except OSError as err:
        raise JobFailed(2, ["nbnumba batch: cannot enter the output folder %s on %s: %s (workers need it on a "
                            "shared file system)" % (outdir, socket.gethostname(), err.strerror)]) from None
    try:
        code = run_job(list(args), out, lines.append)
    finally:
        os.chdir(here)
    if code:
        raise JobFailed(code, _stderr(lines))


def _arrays(args, out, lines):
    from nbnumba.errors import NBError
    from nbnumba.simulation import Simulation
    try:
        r = Simulation.from_args(list(args), out=out.write, warn=lines.append).run()
    except NBError as err:
        raise JobFailed(err.code, _stderr(lines) + [err.message]) from None
    return {"float": r.image, "int": r.intimage, "noise": r.noiseimage, "pgm": r.pgm}


def _stderr(lines):
    """A job's stderr lines but the device note (the result's `device`)."""
    return [line for line in lines if not DEVICE.match(line)]


def _misset(stdout):
    m = MISSET.search(stdout)
    return [float(x) for x in m.groups()] if m else None
