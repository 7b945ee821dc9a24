"""One batch job, run in the process that renders it: `nbnumba batch`'s own process, or a Dask
worker.  The process stays warm between jobs: Numba keeps its loaded kernels, and parsed HKL
files are kept per path and content (setup/structure_factors.py).

A job writes its images into its output folder, as `cd OUTDIR && nbnumba ARGS` would (the
command's run_job with that folder: every image through a temporary name and a rename, all
of a job's files together), or, with no output folder, returns them as arrays and writes
nothing.  What the job drew and where it rendered come from its outcome (job.Outcome), not
from what it printed.  A frame of a series file (plan.Series) also sends back its data image
and what the file needs of it (output.datasets.NexusImage): the batch's own process writes
the file.
"""
import os
import signal
import socket
import time


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
    """What a job prints on stdout (a streams.Stdout-like sink for run_job): dropped."""

    on_error = staticmethod(lambda text: None)
    closed, fd = True, None

    def write(self, text):
        pass

    def flush(self):
        pass


def run(args, outdir=None, settings=None, series=False):
    """Run one job in this process.

    Parameters
    ----------
    args : list of str
        The nbnumba arguments.
    outdir : str, optional
        The folder the job writes its images to; None: write nothing and return the images.
    settings : nbnumba.Settings, optional
        How to run it (the batch's settings, read where the batch started).
    series : bool, optional
        Whether it is a frame of a series file: return its NexusImage too.

    Returns
    -------
    dict
        seconds (the job's time here), worker ("host:pid"), device ("cpu double"), misset
        (the random orientation's angles in degrees, or None), seeds, lines (its stderr
        lines but the device note), geometry (output.geometry.Geometry, None for a run
        without a DIALS frame), with no outdir, arrays ({"float", "int", "noise", "pgm"}),
        and with series, image (output.datasets.NexusImage).

    Raises
    ------
    JobFailed
        The job's exit status was not 0.
    """
    from nbnumba.errors import NBError
    from nbnumba.folders import Folder
    from nbnumba.job import run_job
    from nbnumba.simulation import device_note
    from nbnumba.output.datasets import nexus_image

    lines = []
    started = time.perf_counter()
    if outdir is None:
        outcome = run_job(list(args), _Capture(), lines.append, settings, outdir=None)
    else:
        try:
            folder = Folder.open(outdir)
        except OSError as err:
            raise JobFailed(2, ["nbnumba batch: cannot open the output folder %s on %s: %s (workers need it on a "
                                "shared file system)" % (outdir, socket.gethostname(), err.strerror)]) from None
        with folder:
            outcome = run_job(list(args), _Capture(), lines.append, settings, indir=folder, outdir=folder)
    seconds = time.perf_counter() - started
    if outcome.code:
        raise JobFailed(outcome.code, lines)
    r = outcome.result
    if r is None:       # -h or --version: nothing rendered
        raise JobFailed(2, ["nbnumba batch: the job renders no image (-h or --version)"])
    done = {"seconds": seconds, "worker": "%s:%d" % (socket.gethostname(), os.getpid()),
            "device": "%s %s" % (r.device, r.precision), "lines": [line for line in lines if line != device_note(r.device, r.precision)],
            "misset": list(r.misset_deg) if r.misset_deg is not None else None, "seeds": r.seeds}
    try:
        done["geometry"] = r.geometry
    except NBError:         # a beam of no direction: rendered, with no DIALS frame
        done["geometry"] = None
    if outdir is None:
        done["arrays"] = {"float": r.image, "int": r.intimage, "noise": r.noiseimage, "pgm": r.pgm}
    if series:
        done["image"] = nexus_image(r.setup, r.intimage, r.noiseimage)
    return done


def dask_setup(worker):
    """Dask's preload hook, run as a LocalCluster's worker starts (execute._local_cluster):
    a Ctrl-C on the terminal reaches every process of its group, and the batch's own process
    stops the workers; they ignore SIGINT rather than print a KeyboardInterrupt each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
