"""manifest.json, beside a batch's images: every job's arguments, output files, status and time.

    {"nbnumba": "0.1.0", "plan": "series.plan", "outdir": "/abs/frames",
     "started": "2026-05-01T12:00:00", "wall_s": 3.2,
     "counts": {"done": 98, "skipped": 0, "failed": 2, "pending": 0},
     "jobs": [{"line": 1, "frame": 1, "args": [...], "outputs": {"float": "floatimage_00001.bin", ...},
               "status": "done", "seconds": 0.014, "worker": "host:pid", "device": "cpu double",
               "phi": "0", "lines": []}, ...]}

A job's entry also holds what its generator chose (phi, misset_seed, seed), the misset angles
it drew (misset_deg) and its stderr lines (warnings; for a failed job, the error last).
Status: done, skipped (complete from an earlier run, `--resume`), failed, or pending (not run:
the batch was interrupted).  The file is rewritten whole, through a temporary name and a
rename, at most once a second while jobs finish and when the batch ends or is interrupted, so
it is always a complete manifest.  `--resume` skips a job whose arguments an earlier manifest
lists as done or skipped and whose output files are all there (each was renamed into place
complete).
"""
import json
import os
import time

from nbnumba import __version__
from nbnumba.io.outfile import write_output

NAME = "manifest.json"
EVERY = 1.0         # seconds between rewrites while jobs finish
COMPLETE = ("done", "skipped")


def entry(result):
    """The manifest entry of a batch.run.JobResult."""
    job = result.job
    e = {"line": job.line, "frame": job.frame, "args": result.args, "outputs": job.outputs,
         "status": result.status, "seconds": result.seconds, "worker": result.worker, "device": result.device}
    e.update(job.info)
    if result.misset is not None:
        e["misset_deg"] = result.misset
    e["lines"] = list(result.lines)
    return e


def earlier(outdir):
    """{arguments: entry} of the complete jobs of the manifest in outdir ({} if none)."""
    try:
        with open(os.path.join(outdir, NAME)) as f:
            jobs = json.load(f).get("jobs", [])
    except (OSError, ValueError):
        return {}
    return {tuple(e["args"]): e for e in jobs if isinstance(e, dict) and e.get("status") in COMPLETE
            and isinstance(e.get("args"), list)}


def complete(earlier_entry, job, outdir):
    """Whether a job an earlier manifest lists as complete still has every output file."""
    return (earlier_entry is not None and earlier_entry.get("outputs") == job.outputs
            and all(os.path.isfile(os.path.join(outdir, name)) for name in job.outputs.values()))


def remove_temporaries(jobs, outdir):
    """Remove the temporary files (".NAME.XXXXXX.tmp", io/outfile.py) of a run that was killed
    while writing these jobs' outputs (each folder listed once)."""
    wanted = {}         # folder -> the output names in it
    for job in jobs:
        for name in job.outputs.values():
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
