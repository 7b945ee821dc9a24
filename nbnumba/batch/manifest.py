"""manifest.json, beside a batch's images: every job's arguments, output files, status and time.

    {"nbnumba": "0.1.0", "plan": "series.plan", "outdir": "/abs/frames",
     "started": "2026-05-01T12:00:00", "wall_s": 3.2,
     "counts": {"done": 98, "skipped": 0, "failed": 2, "pending": 0},
     "jobs": [{"line": 1, "frame": 1, "args": [...], "outputs": {"float": "floatimage_00001.bin", ...},
               "status": "done", "seconds": 0.014, "worker": "host:pid", "device": "cpu double",
               "phi": "0", "lines": []}, ...]}

A job's entry also holds what its generator chose (phi, misset_seed, seed), the misset angles
it drew (misset_deg) and its stderr lines (warnings; for a failed job, the error last).  A
frame of a rotation series with one NeXus file (plan.Series) names it in its outputs with
its index there (0 for frame 1): "nexus": {"file": "series.h5", "index": 0}; the frame is in
the file once the file flags it (/entry/nbnumba/frame_written).
Status: done, skipped (complete from an earlier run, `--resume`), failed, or pending (not run:
the batch was interrupted).  The file is rewritten whole, through a temporary name and a
rename, at most once a second while jobs finish and when the batch ends or is interrupted, so
it is always a complete manifest.  `--resume` skips a job whose arguments an earlier manifest
lists as done or skipped and whose output files are all there (each was renamed into place
complete) and, for a frame of a series file, whose image that file holds (batch/series.py
reads its flags); a manifest.json that is not one (not JSON, or not of this shape) is refused.

manifest.json.lock beside it is locked (flock) while a batch runs: a second batch into the
same folder is refused instead of mixing its manifest and images with the first's.  The
file stays (an empty file; removing it would let a third batch lock another one).
"""
import fcntl
import json
import os
import time

from nbnumba import __version__
from nbnumba.errors import NBError
from nbnumba.io.outfile import write_output

NAME = "manifest.json"
LOCK = NAME + ".lock"
EVERY = 1.0         # seconds between rewrites while jobs finish
COMPLETE = ("done", "skipped")


def outputs(job):
    """A job's "outputs": {kind: file name}, and for a frame of a series file
    "nexus": {"file": its name, "index": the frame's index in it}."""
    if job.series is None:
        return job.outputs
    return dict(job.outputs, nexus={"file": job.series.name, "index": job.frame - 1})


def _output(value):
    """Whether a value of a manifest's "outputs" is one outputs() writes."""
    return isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("file"), str)
                                      and type(value.get("index")) is int)


def entry(result):
    """The manifest entry of a batch.run.JobResult."""
    job = result.job
    e = {"line": job.line, "frame": job.frame, "args": result.args, "outputs": outputs(job),
         "status": result.status, "seconds": result.seconds, "worker": result.worker, "device": result.device}
    e.update(job.info)
    if result.misset is not None:
        e["misset_deg"] = result.misset
    e["lines"] = list(result.lines)
    return e


def earlier(outdir):
    """{arguments: entry} of the complete jobs of the manifest in outdir ({} if there is none);
    NBError (exit status 2) for a manifest.json that is not a batch manifest."""
    path = os.path.join(outdir, NAME)
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise NBError("--resume: cannot read %s: %s" % (path, err.strerror), 2) from None
    except ValueError:
        data = None
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        raise NBError("--resume: %s is not a batch manifest (a JSON object with a list of jobs); move it away "
                      "or run without --resume" % path, 2)
    for number, e in enumerate(jobs, 1):
        if not (isinstance(e, dict) and isinstance(e.get("args"), list) and all(isinstance(a, str) for a in e["args"])
                and isinstance(e.get("outputs", {}), dict)
                and all(_output(n) for n in e.get("outputs", {}).values())):
            raise NBError("--resume: job %d of %s is not a batch job (its args a list of strings, its outputs "
                          "file names); move the manifest away or run without --resume" % (number, path), 2)
    return {tuple(e["args"]): e for e in jobs if e.get("status") in COMPLETE}


def complete(earlier_entry, job, outdir):
    """Whether a job an earlier manifest lists as complete still has every output file of its
    own (a series file's frames are the series writer's to tell)."""
    return (earlier_entry is not None and earlier_entry.get("outputs") == outputs(job)
            and all(os.path.isfile(os.path.join(outdir, name)) for name in job.outputs.values()))


def remove_temporaries(jobs, outdir):
    """Remove the temporary files (".NAME.XXXXXX.tmp", io/outfile.py) of a run that was killed
    while writing these jobs' outputs (each folder listed once)."""
    wanted = {}         # folder -> the output names in it
    for job in jobs:
        for name in list(job.outputs.values()) + ([job.series.name] if job.series is not None else []):
            folder, base = os.path.split(os.path.join(outdir, name))
            wanted.setdefault(folder, set()).add(base)
    for folder, bases in wanted.items():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for tmp in names:
            core = tmp[1:-4]        # ".BASE.XXXXXX.tmp" -> "BASE.XXXXXX"
            if tmp.startswith(".") and tmp.endswith(".tmp") and any(
                    core[:k] in bases for k in range(len(core)) if core[k] == "."):
                try:
                    os.unlink(os.path.join(folder, tmp))
                except OSError:
                    pass


def counts(results):
    """{status: how many results have it} for done, skipped, failed and pending."""
    tally = {status: 0 for status in ("done", "skipped", "failed", "pending")}
    for r in results:
        tally[r.status] += 1
    return tally


def lock(outdir):
    """Lock the output folder for this batch (made first if need be): the descriptor of its
    LOCK file, flock()ed; closing it unlocks.  NBError (exit status 2) where another batch
    holds it."""
    path = os.path.join(outdir, LOCK)
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as err:
        raise NBError("cannot make the output folder %s: %s" % (outdir, err.strerror), 2) from None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as err:
        raise NBError("cannot lock the output folder %s: %s: %s" % (outdir, path, err.strerror), 2) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if isinstance(err, BlockingIOError):
            raise NBError("another nbnumba batch is writing into %s (it holds %s); wait for it to end, or choose "
                          "another --outdir" % (outdir, LOCK), 2) from None
        raise NBError("cannot lock the output folder %s: %s" % (outdir, err.strerror), 2) from None
    return fd


class Book:
    """The manifest of a running batch: `update()` after each finished job rewrites it at most
    every EVERY seconds, `write()` at once."""

    def __init__(self, outdir, source, results):
        self.path = os.path.join(outdir, NAME)
        self.head = {"nbnumba": __version__, "plan": source, "outdir": outdir,
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.results = results
        self.t0 = time.perf_counter()
        self.last = self.t0

    def update(self):
        if time.perf_counter() - self.last >= EVERY:
            self.write()

    def write(self):
        self.last = time.perf_counter()
        head = json.dumps(dict(self.head, wall_s=round(self.last - self.t0, 3), counts=counts(self.results)),
                          indent=1)
        jobs = ",\n".join("  " + json.dumps(entry(r)) for r in self.results)       # one line per job
        write_output(self.path, [(head[:-2] + ',\n "jobs": [\n' + jobs + "\n ]\n}\n").encode()])
