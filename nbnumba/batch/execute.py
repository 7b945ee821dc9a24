"""Running a batch: the jobs go to this process, to worker processes on this machine, or to a
Dask cluster; each result comes back as its job ends; the manifest follows.

Where the jobs run:
- a Dask `client` (a running scheduler: `dask-jobqueue`, `dask-mpi`, `dask-cuda` or
  `dask scheduler` + `dask worker`): its workers, which need nbnumba installed and the output
  folder on a shared file system.  One thread per worker is best (`dask worker --nthreads 1`):
  a job uses every core it is given through Numba's threads, and a worker process runs its
  jobs one at a time;
- `workers=N` > 1 without a client: a cluster of N processes of cores/N Numba threads on this
  machine (batch/cluster.py: TLS with credentials only this process holds, on 127.0.0.1, no
  HTTP server), started as the jobs are handed out; N is capped by the cores, the available
  memory (memory.worker_cap) and the jobs to run, with a note when cores or memory cap it;
- otherwise (`workers=1`) this process, job after job.
`default_workers()` is the embedded default of `nbnumba batch` (docs/performance.md has the
measurements behind it).

A job that fails (non-zero exit status, or its worker died) is retried `retries` times
(Dask's `retries`, or here a loop), then reported; it never stops the others.  An interrupt
(Ctrl-C) cancels what has not finished, closes the series files, writes the manifest and
passes on: complete images stay, and `resume=True` continues from them.  The frames of a
rotation series with one NeXus file (plan.Series) send their images here, where
batch/series.py writes them into it.
"""
import contextlib
import os
from dataclasses import dataclass, field

from nbnumba import interrupt
from nbnumba.batch import manifest, plan, series, worker
from nbnumba.batch.plan import Job, PlanError, runs_where_it_starts
from nbnumba.errors import NBError, Warner
from nbnumba.memory import worker_cap
from nbnumba.settings import Settings

RETRIES = 2


@dataclass
class JobResult:
    """How one job of a batch ended.

    Attributes
    ----------
    job : nbnumba.batch.plan.Job
        The job.
    args : list of str
        The arguments it ran with (input file names made absolute where it ran elsewhere).
    status : str
        "done", "skipped" (complete from an earlier run), "failed" or "pending" (not run).
    seconds : float
        Its time in the process that ran it (for a skipped job, the earlier run's).
    worker : str
        "host:pid" of that process.
    device : str
        "cpu double", "cuda single", ...
    lines : list of str
        Its stderr lines: warnings, and for a failed job the error last.
    misset : list of float
        The random orientation's misset angles (degrees) it drew, or None.
    paths : dict
        {kind: absolute path} of its files, when written ("float", "int", "pgm", "noise",
        "nexus", "cbf", "png", as Result.paths); for a frame of a series file, "nexus" is that
        file, which holds its image at `nexus_index`.
    arrays : dict
        {kind: numpy array} of its images (float32 float image, uint16 int and noise images,
        uint8 PGM; None for one not made), when none are written.
    seeds : dict
        The random seeds it used (Result.seeds), when it ran here.
    """
    job: Job
    args: list
    status: str = "pending"
    seconds: float = None
    worker: str = None
    device: str = None
    lines: list = field(default_factory=list)
    misset: list = None
    paths: dict = None
    arrays: dict = None
    seeds: dict = None
    _geometry: object = field(default=None, repr=False)

    @property
    def geometry(self):
        """The run's geometry in DIALS's frame (Result.geometry, an output.geometry.Geometry):
        the one it rendered with, or for a job skipped as complete, set up again from its
        arguments; None where it has none (not run, failed, or a beam of no direction)."""
        if self._geometry is None and self.status == "skipped":
            try:
                self._geometry = plan.geometry_of(self.args)
            except NBError:
                pass
        return self._geometry

    @property
    def nexus_index(self):
        """Its image's index in its series file (paths["nexus"]), or None (not a frame of one,
        or not written)."""
        return self.job.frame - 1 if self.job.series is not None and self.paths is not None else None


def _cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def default_workers(settings=None):
    """The embedded default of `nbnumba batch`: how many worker processes to start here.

    1 (this process, job after job) where the jobs render on a GPU (the settings' device is
    not cpu and a CUDA GPU is present) and on machines of at most 2 cores, where it was measured
    fastest (docs/performance.md: on 2 cores a 100-frame series of 256x256 images takes 1.5 s
    in this process against 3.4 s on two worker processes, whose start-up does not pay
    back).  With more cores, one process per 2 cores (2 Numba threads each), or 1 without
    Dask: a job's set-up and outputs are sequential, so processes rendering side by side
    scale where one process's threads do not."""
    cores = _cores()
    if cores <= 2:
        return 1
    if (settings or Settings()).device != "cpu":
        from nbnumba.kernels.targets import cuda_available
        if cuda_available():
            return 1
    try:
        import cryptography  # noqa: F401   (the cluster's TLS credentials)
        import distributed  # noqa: F401
    except ImportError:
        return 1
    return cores // 2


def capped_workers(requested, jobs, note):
    """How many worker processes to start for `jobs` jobs when `requested` are asked for: at
    most what this machine's cores and memory hold (memory.worker_cap; note(line) says so
    when that cuts the count), and never more than the jobs."""
    count, why = worker_cap(requested)
    if why is not None:
        note("%d worker processes are more than this machine runs well: %d (%s)" % (requested, count, why))
    return max(1, min(count, jobs))


def worker_env(workers):
    """The environment of LocalCluster workers: the cores shared out as Numba threads (unless
    NUMBA_NUM_THREADS is set already)."""
    if "NUMBA_NUM_THREADS" in os.environ:
        return {}
    return {"NUMBA_NUM_THREADS": str(max(1, _cores() // workers))}


def render(jobs, *, outdir=None, client=None, workers=None, resume=False, retries=RETRIES, on_result=None,
           source="jobs", settings=None):
    """Render many images, in this process or on Dask workers.

    Parameters
    ----------
    jobs : list
        nbnumba argument lists (lists of str, or strings split as a shell splits them), or
        Jobs (rotation_series, random_orientations, parse_plan).
    outdir : str, optional
        Write the images there (each job runs there, as `cd OUTDIR && nbnumba ARGS`) with
        manifest.json beside them, and the series files of rotation series with -nexusfile,
        and return their paths; None: write nothing (no series file either) and return the
        images as arrays.
    client : distributed.Client, optional
        Run the jobs on its cluster.
    workers : int, optional
        Without a client: 1 (the default) runs the jobs in this process, N > 1 on a cluster
        of N processes on this machine started and closed here (capped by the cores, the
        available memory and the jobs; an NBWarning says when cores or memory cap it).
    resume : bool, optional
        Skip the jobs an earlier manifest in outdir lists as complete whose files are there
        (and whose images their series file holds); continue the series files.
    retries : int, optional
        How many times a failed job is run again before it is reported.
    on_result : callable, optional
        on_result(JobResult) is called here as each job ends (skipped jobs first).
    source : str, optional
        Where the jobs come from, for messages and the manifest.
    settings : nbnumba.Settings, optional
        How each job runs (device, strict, ...); default Settings(), not the environment.

    Returns
    -------
    list of JobResult
        In the jobs' order.

    Raises
    ------
    nbnumba.batch.PlanError
        Two jobs would write the same file, a job would read a file another writes, or a job
        renders nothing (-h, --version).
    nbnumba.NBError
        Another batch is writing into outdir, or workers or retries is not a whole number
        (workers at least 1, retries at least 0); both are ValueErrors.
    """
    return Batch(jobs, outdir=outdir, resume=resume, source=source).run(client, workers, retries, on_result,
                                                                         settings)


def _whole(value, least, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise NBError("%s must be a whole number of at least %d, not %r" % (name, least, value), 2)
    return value


class Batch:
    """A batch of jobs and how each ended so far (`results`, kept up to date while `run` runs
    and after an interrupt); `render` describes the parameters."""

    def __init__(self, jobs, *, outdir=None, resume=False, source="jobs"):
        jobs = list(jobs)
        if len(jobs) > plan.MAX_JOBS:
            raise PlanError("%s: %d jobs, more than %d; split them into batches, each with its own outdir"
                            % (source, len(jobs), plan.MAX_JOBS))
        jobs = [j if isinstance(j, Job) else plan.job(j, what="job %d" % i) for i, j in enumerate(jobs, 1)]
        try:
            cwd = os.getcwd()
        except OSError as err:
            raise NBError("cannot find the current folder (%s): was it deleted? The jobs read their files "
                          "from it" % err.strerror, 2) from None
        if outdir is not None:
            outdir = os.path.abspath(outdir)
            plan.check_outputs(jobs, outdir, source)
            plan.check_files(jobs, cwd, outdir, source)
        self.outdir, self.resume, self.source = outdir, resume, source
        elsewhere = not runs_where_it_starts(cwd, outdir)
        self.results = [JobResult(j, j.args_from(cwd, elsewhere)) for j in jobs]
        self.note = Warner()        # where the line about capped workers goes: an NBWarning
        self._lock, self._earlier = None, {}

    @contextlib.contextmanager
    def locked(self):
        """Hold the output folder's lock (manifest.json.lock, made with the folder if need be)
        while the block runs, and with `resume`, read the manifest there; NBError where
        another batch holds the lock or the manifest is not one.  `run` takes it if the
        caller has not."""
        if self.outdir is None or self._lock is not None:
            yield
            return
        self._lock = manifest.lock(self.outdir)
        try:
            self._earlier = manifest.earlier(self.outdir) if self.resume else {}
            yield
        finally:
            os.close(self._lock)
            self._lock = None

    def run(self, client=None, workers=None, retries=RETRIES, on_result=None, settings=None):
        """Run the jobs (see `render`); returns `results`."""
        workers = 1 if workers is None else _whole(workers, 1, "workers")
        retries = _whole(retries, 0, "retries")
        with self.locked():
            return self._run(client, workers, retries, on_result or (lambda result: None), settings)

    def _run(self, client, workers, retries, notify, settings):
        outdir = self.outdir
        writer = book = owned = None
        if outdir is not None:
            writer = series.Writer(outdir, [r.job for r in self.results], self.resume, self.note)
        todo = self._skip_complete(notify, writer) if writer is not None and self.resume else range(len(self.results))
        if outdir is not None:
            book = manifest.Book(outdir, self.source, self.results)
            book.write()
        if client is None and todo:
            workers = capped_workers(workers, len(todo), self.note)
            if workers > 1:
                owned = client = _local_cluster(workers)
        calls = [(i, self.results[i].args, outdir, writer is not None and self.results[i].job.series is not None)
                 for i in todo]
        settings = settings if settings is not None else Settings()
        finished = (_on_dask(client, calls, retries, settings) if client is not None
                    else _here(calls, retries, settings))
        with contextlib.ExitStack() as last:        # run last first, each whatever the others raise
            if owned is not None:
                last.callback(_close, owned)
            if book is not None:
                last.callback(_write_last, book)
            if writer is not None:
                last.callback(writer.close)
            with contextlib.closing(finished):      # an interrupt cancels the rest before the cluster closes
                for i, done, error in finished:
                    r = self.results[i]
                    with interrupt.deferred():      # done means in its series file too
                        _finish(r, done, error, outdir)
                        if r.status == "done" and "image" in done:
                            _into_series(r, done.pop("image"), writer)
                    notify(r)
                    if book is not None:
                        book.update()
        return self.results

    def _skip_complete(self, notify, writer):
        """Mark the jobs an earlier manifest lists as complete skipped (their files are there,
        their series files hold their images); remove the temporary files a killed run left;
        return the indices of the others."""
        before, todo = self._earlier, []
        for i, r in enumerate(self.results):
            old = before.get(tuple(r.args))
            if manifest.complete(old, r.job, self.outdir) and writer.holds(r.job):
                r.status, r.seconds, r.worker = "skipped", old.get("seconds"), old.get("worker")
                r.device, r.misset, r.paths = old.get("device"), old.get("misset_deg"), _paths(r.job, self.outdir)
                notify(r)
            else:
                todo.append(i)
        manifest.remove_temporaries([self.results[i].job for i in todo], self.outdir)
        return todo


def _write_last(book):
    """The manifest's last write (a second Ctrl-C waits for a whole manifest)."""
    with interrupt.deferred():
        book.write()


def _paths(job, outdir):
    paths = {kind: os.path.join(outdir, name) for kind, name in job.outputs.items()}
    if job.series is not None:
        paths["nexus"] = os.path.join(outdir, job.series.name)
    return paths


def _into_series(result, image, writer):
    """Write a frame's image into its series file; a frame that cannot be written fails."""
    try:
        writer.write(result.job, image)
    except series.SeriesError as err:
        result.status, result.paths = "failed", None
        result.lines.append(str(err))


def _finish(result, done, error, outdir):
    """Fill a JobResult from a worker's answer (worker.run's dict) or its failure."""
    if error is not None:
        result.status = "failed"
        result.lines = error.lines if isinstance(error, worker.JobFailed) else [
            "nbnumba batch: %s: %s" % (type(error).__name__, error)]
        return
    result.status = "done"
    result.seconds, result.worker, result.device = done["seconds"], done["worker"], done["device"]
    result.lines, result.misset, result.seeds = done["lines"], done["misset"], done["seeds"]
    result._geometry = done["geometry"]
    if outdir is not None:
        result.paths = _paths(result.job, outdir)
    else:
        result.arrays = done["arrays"]


def _here(calls, retries, settings):
    """Run the calls in this process, in order; yield (index, answer, None) or (index, None,
    exception) as each ends."""
    for i, args, outdir, frame in calls:
        for attempt in range(retries + 1):
            try:
                done = worker.run(args, outdir, settings, frame)
            except Exception as err:       # a failed job (JobFailed), or one that could not run
                if attempt == retries:
                    yield i, None, err
                continue
            yield i, done, None
            break


def _on_dask(client, calls, retries, settings):
    """Submit the calls to a Dask client; yield as _here does, in the order they end.  Those
    not finished when the caller stops listening (an interrupt) are cancelled."""
    from distributed import as_completed

    futures = {client.submit(worker.run, args, outdir, settings, frame, retries=retries, pure=False): i
               for i, args, outdir, frame in calls}
    try:
        for future in as_completed(futures):
            i = futures.pop(future)
            if future.status == "finished":
                yield i, future.result(), None
            else:
                yield i, None, future.exception()
            future.release()
    finally:
        if futures:
            client.cancel(list(futures))


def _local_cluster(workers):
    """A Client of a cluster of `workers` processes of one thread on this machine
    (batch/cluster.py)."""
    try:
        import cryptography  # noqa: F401   (Security.temporary makes the TLS credentials with it)
        from nbnumba.batch import cluster
    except ImportError:
        raise NBError("more than one worker process needs Dask and cryptography: python3 -m pip install "
                      "'nbnumba[batch]'", 2) from None
    return cluster.start(workers, env=worker_env(workers), preload=[worker.__name__])


def _close(client):
    cluster = client.cluster
    client.close()
    cluster.close()
