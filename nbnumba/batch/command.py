"""`nbnumba batch PLAN`: render every job of a plan (batch/plan.py), with a progress bar and a
summary.

    nbnumba batch PLAN [--outdir DIR] [--workers N] [--scheduler ADDRESS] [--resume] [--retries N]

Progress goes to stderr: a bar redrawn in place on a terminal (images done/total, images
per second, ETA), otherwise a plain line every PLAIN_EVERY seconds and at each tenth of the
jobs.  The summary goes to stdout: done, skipped, failed (each with its error line), wall
time.  Exit status: 0 when every job is complete, 1 when one failed, 2 for a plan or an
option nbnumba refuses; SIGINT, SIGTERM and SIGHUP stop the batch with the manifest written
and complete images kept (`--resume` continues), then end the process by that signal, as
the single command does.
"""
import os
import shutil
import sys
import time

import click

from nbnumba import interrupt
from nbnumba.errors import NBError
from nbnumba.settings import Settings
from nbnumba.batch.execute import RETRIES, Batch, capped_workers, default_workers
from nbnumba.batch import manifest
from nbnumba.batch.plan import MAX_PLAN_BYTES, decode_plan, parse_plan, where

PLAIN_EVERY = 10.0          # seconds between plain progress lines


def _clock(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return "%d:%02d:%02d" % (h, rest // 60, rest % 60) if h else "%d:%02d" % (rest // 60, rest % 60)


class Progress:
    """Called with each JobResult as its job ends; draws the progress on stderr."""

    def __init__(self, total):
        self.stream = sys.stderr
        self.tty = self.stream.isatty()
        self.total = total
        self.counts = {"done": 0, "skipped": 0, "failed": 0}
        self.t0 = time.perf_counter()
        self.last_line = self.t0
        self.tenth = 0

    def __call__(self, result):
        self.counts[result.status] += 1
        finished = sum(self.counts.values())
        tenth = 10 * finished // max(self.total, 1)
        now = time.perf_counter()
        if self.tty:
            self._draw(self._bar(self._text(now)))
        elif tenth > self.tenth or now - self.last_line >= PLAIN_EVERY:
            self._draw("nbnumba batch: " + self._text(now) + "\n")
            self.last_line = now
        self.tenth = tenth

    def _text(self, now):
        finished = sum(self.counts.values())
        rendered = self.counts["done"] + self.counts["failed"]
        rate = rendered / (now - self.t0) if now > self.t0 else 0.0
        text = "%d/%d images" % (finished, self.total)
        if rendered:
            text += ", %.1f images/s" % rate
        if rate > 0 and finished < self.total:
            text += ", ETA " + _clock((self.total - finished) / rate)
        if self.counts["failed"]:
            text += ", %d failed" % self.counts["failed"]
        return text

    def _bar(self, text):
        width = max(10, min(30, shutil.get_terminal_size((80, 24)).columns - 70))     # room for the text
        filled = width * sum(self.counts.values()) // max(self.total, 1)
        return "\r[%s%s] %s\x1b[K" % ("#" * filled, "-" * (width - filled), text)

    def _draw(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def close(self):
        if self.tty and sum(self.counts.values()):
            self._draw("\n")


def summary(results, seconds, source, outdir, interrupted=False):
    """The lines that end a batch: counts and wall time, each failed job with its error line,
    each series file with the frames it holds, where the manifest is."""
    counts = manifest.counts(results)
    rate = (counts["done"] + counts["failed"]) / seconds if seconds > 0 else 0.0
    head = "nbnumba batch: %s%d images in %.2f s (%.1f images/s): %d done, %d skipped, %d failed" % (
        "interrupted: " if interrupted else "", len(results), seconds, rate, counts["done"], counts["skipped"],
        counts["failed"])
    lines = [head + (", %d not run (--resume continues)" % counts["pending"] if counts["pending"] else "")]
    for r in results:
        if r.status == "failed":
            lines.append("failed: %s: %s" % (where(r.job, source), r.lines[-1] if r.lines else "(no message)"))
    for series in dict.fromkeys(r.job.series for r in results if r.job.series is not None):
        held = sum(r.status in manifest.COMPLETE for r in results if r.job.series is series)
        lines.append("series: %s: %d of %d frames" % (os.path.join(outdir, series.name), held, series.shape[0]))
    lines.append("manifest: " + os.path.join(outdir, manifest.NAME))
    return lines


@click.command("batch", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--outdir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where the images and manifest.json go; each job runs there. Files a job reads are "
                   "taken from the current folder.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes on this machine (default: the measured best for it; at most one per "
                   "core and per 512 MB of available memory, and one per job); with --scheduler, wait until "
                   "the cluster has this many.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="A running Dask scheduler (tls://host:8786) whose workers render the jobs; its TLS "
                   "credentials come from Dask's configuration (docs/security.md).")
@click.option("--resume", is_flag=True, help="Skip the jobs manifest.json lists as complete whose files are there.")
@click.option("--retries", type=click.IntRange(min=0), default=RETRIES, show_default=True,
              help="Times a failed job is run again before it is reported.")
def batch_cmd(plan_file, outdir, workers, scheduler, resume, retries):
    """Render every job of PLAN: one nbnumba argument list per line ('#' comments, blank lines),
    or a series on top of a line's arguments: --rotation START STEP COUNT (frame i: -phi
    START+(i-1)*STEP -osc STEP) or --random-orientations COUNT (frame i: -misset random
    -misset_seed K_i), with --seed S. Each frame writes the files its arguments write, numbered:
    intimage_00001.img, series_00001.cbf ...; a --rotation line's -nexusfile NAME.h5 is one
    NeXus file of all its frames.  PLAN '-' reads the plan from stdin."""
    source = "stdin" if plan_file == "-" else plan_file
    try:
        with click.open_file(plan_file, "rb") as f:
            data = f.read(MAX_PLAN_BYTES + 1)
    except OSError as err:
        raise click.UsageError("cannot read %s: %s" % (plan_file, err.strerror)) from None
    try:
        jobs = parse_plan(decode_plan(data, source), source)
        batch = Batch(jobs, outdir=outdir, resume=resume, source=source)
    except NBError as err:
        _fail(err)
    try:
        settings = Settings.from_environ()
    except NBError as err:
        _fail(err)
    batch.note = lambda text: click.echo("nbnumba batch: " + text, err=True)
    interrupt.install()
    progress = Progress(len(jobs))
    started = time.perf_counter()
    client = stop = None
    try:
        with batch.locked():
            if scheduler is not None:
                client = _connect(scheduler, workers)
                where = "on the Dask cluster at " + scheduler
            else:
                workers = capped_workers(workers or default_workers(settings), len(jobs), batch.note)
                where = "in this process" if workers == 1 else "on %d worker processes" % workers
            click.echo("nbnumba batch: %d jobs from %s, %s, into %s" % (len(jobs), source, where, batch.outdir),
                       err=True)
            batch.run(client, workers, retries, on_result=progress, settings=settings)
        interrupt.uninstall()       # done: a signal from here on ends the process where it is
    except interrupt.Interrupted as signal:
        interrupt.uninstall()       # (a second one too)
        stop = signal.signum
    except NBError as err:
        _fail(err)
    finally:
        progress.close()
        if client is not None:
            client.close()
    for line in summary(batch.results, time.perf_counter() - started, source, batch.outdir, stop is not None):
        click.echo(line)
    if stop is not None:
        sys.stdout.flush()
        interrupt.die_of(stop)
    sys.exit(1 if any(r.status == "failed" for r in batch.results) else 0)


def _fail(err):
    click.echo("nbnumba batch: " + err.message, err=True)
    sys.exit(err.code)


def _connect(address, workers):
    """A Client of the scheduler at address, once it has `workers` workers (if given)."""
    try:
        from distributed import Client
    except ImportError:
        raise NBError("--scheduler needs Dask: python3 -m pip install 'nbnumba[batch]'", 2) from None
    try:
        client = Client(address)
    except (OSError, ValueError, TypeError) as err:     # no scheduler there (TimeoutError is an OSError), or
        raise NBError("cannot reach the Dask scheduler at %s: %s" % (address, err), 2) from None   # no TLS settings
    if workers:
        click.echo("nbnumba batch: waiting for %d workers at %s" % (workers, address), err=True)
        client.wait_for_workers(workers)
    return client
