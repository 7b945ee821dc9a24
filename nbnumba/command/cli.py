"""The `nbnumba` command: nanoBragg.c's command line, plus the `trace-diff` and `compare` tools.

    nbnumba <nanoBragg arguments>     render, exactly as nanoBragg.c would (same files, same stdout)
    nbnumba -h                        every flag by topic, with units and defaults (from flags.FLAGS)
    nbnumba --version                 the version
    nbnumba trace-diff C_LOG PY_LOG   diff a TRACE_C log against a TRACE_PY log
    nbnumba compare -- ARGS...        run the C and nbnumba on ARGS and compare every output
    nbnumba batch PLAN                render many images: rotation series, ensembles (nbnumba/batch/)
    nbnumba serve [--status|--stop]   a warm renderer that later commands hand their runs to

The console script starts in command/launcher.py, which hands the run to the user's server
(command/serve.py) when one runs and calls `main` here otherwise.
"""
import os
import shutil
import sys
import textwrap
import time

import numpy as np

from nbnumba import __version__, interrupt
from nbnumba.command import streams
from nbnumba.errors import NBError
from nbnumba.args.flags import FLAGS, PREPASS, TOPICS
from nbnumba.timings import process_age

HELP_WORDS = ("-h", "--help", "-help")
VERSION_WORDS = ("--version",)
HELP_WIDTH = 100    # -h's width when stdout is not a terminal
NAME_COLUMN = 26    # where -h's descriptions start
NO_ARGS_HINT = "nbnumba: -h lists the flags by topic; trace-diff and compare check against the C; -device cpu|cuda"
USAGE = [
    ("usage: nbnumba [nanoBragg options]", "render as nanoBragg.c does: same files, same stdout"),
    ("       nbnumba trace-diff C_LOG PY_LOG", "diff a TRACE_C log of the instrumented C with a TRACE_PY "
                                               "log (nbnumba trace-diff --help)"),
    ("       nbnumba compare [OPTIONS] -- ARGS", "run nanoBragg.c and nbnumba on ARGS and compare every "
                                                 "output (nbnumba compare --help)"),
    ("       nbnumba batch PLAN [OPTIONS]", "render every job of PLAN, here or on a Dask cluster: "
                                          "rotation series, ensembles (nbnumba batch --help)"),
    ("       nbnumba serve [--status|--stop]", "keep a warm renderer that later nbnumba commands hand "
                                           "their runs to (nbnumba serve --help)"),
    ("       nbnumba -h | --version", "this help | the version"),
]
INTRO = ("Options are matched as nanoBragg.c matches them: by substring, so one argument can fire "
         "several rows (docs/flags.md lists the exact tests). Units and defaults in brackets.")


def help_width():
    """The terminal's width ($COLUMNS first), at most HELP_WIDTH when stdout is not a terminal."""
    width = shutil.get_terminal_size((HELP_WIDTH, 24)).columns
    if not sys.stdout.isatty():
        width = min(width, HELP_WIDTH)
    return max(width, 40)


def help_entries():
    """{topic: [(names and values, description)]}: one entry per flag, in the table's order;
    a row that `joins` another adds its words to that row's entry."""
    rows = PREPASS[1:] + FLAGS   # -img is a row of both; -mask only of the first pass
    entries = {f.display_names[0]: (f, list(f.display_names)) for f in rows if not f.joins}
    for f in rows:
        if f.joins:
            names = entries[f.joins][1]
            names += [n for n in f.display_names if n not in names]
    out = {topic: [] for topic in TOPICS}
    for f, names in entries.values():
        units = "" if f.units == "file" else f.units
        meta = "; ".join(x for x in (units, f"default {f.default}" if f.default else "") if x)
        left = ", ".join(names) + (" " + f.argument_text if f.argument_text else "")
        out[f.topic].append((left, f.help + (f" [{meta}]" if meta else "")))
    return out


def _wrap(text, width):
    return textwrap.wrap(text, max(width, 10), break_on_hyphens=False)


def two_columns(left, text, width, indent=2, column=NAME_COLUMN, narrow=None):
    """`left` then `text` wrapped into the column from `column` on; `left` gets lines of its own
    when it does not fit before the column, and text starts under it, from column `narrow`
    (default indent + 4), when the column leaves it less than 30 characters."""
    if width - column < 30:
        column = indent + 4 if narrow is None else narrow
    lines = [" " * indent + line for line in _wrap(left, width - indent)]
    body = _wrap(text, width - column)
    if body and len(lines) == 1 and len(lines[0]) + 2 <= column:
        lines = [lines[0].ljust(column) + body[0]]
        body = body[1:]
    return lines + [" " * column + line for line in body]


def flag_help_text(width=None):
    """`nbnumba -h`: the usage, then the flags by topic, fitted to `width` (help_width())."""
    width = help_width() if width is None else width
    column = max(len(left) for left, _ in USAGE) + 2
    lines = []
    for left, text in USAGE:
        lines += two_columns(left, text, width, indent=0, column=column, narrow=11)
    lines += [""] + _wrap(INTRO, width)
    for topic, entries in help_entries().items():
        lines += ["", topic + ":"]
        for left, text in entries:
            lines += two_columns(left, text, width)
    return "\n".join(lines) + "\n"


def simulate(args):
    """Render a diffraction image from nanoBragg.c arguments; return the exit code (a signal
    ends the process here, as it ends the C)."""
    out = streams.command_stdout()
    interrupt.install()
    # the C computes on through inf and NaN silently; so does numpy here (odd input warns once,
    # through Simulation.warn, never with a numpy RuntimeWarning per operation)
    np.seterr(all="ignore")
    try:
        code = run_job(args, out, streams.err_line)
    except interrupt.Interrupted as stop:      # a signal, or stdout is a closed pipe
        interrupt.die_of(stop.signum)          # (the C's buffered text dies with it)
    return code


_jobs_run = []


def warm_up():
    """Import what a render needs and start Numba's CPU target, as a process that will run
    jobs does before its first (a server's worker): its jobs' -timings then count no imports."""
    from nbnumba.numba_internals import start_cpu_target
    import nbnumba.simulation  # noqa: F401
    start_cpu_target()
    np.seterr(all="ignore")
    _jobs_run.append(1)


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
    started = time.perf_counter()
    age = process_age() if not _jobs_run else 0.0      # a warm process imported nothing for this job
    _jobs_run.append(1)
    try:
        from nbnumba.numba_internals import start_cpu_target
        from nbnumba.simulation import Simulation
        imported = time.perf_counter()
        start_cpu_target()
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


def _exit_now(code):
    """End the process without Python's teardown of Numba and LLVM (about 0.15 s of a short
    run): every file is written and closed by now; only the standard streams need a flush."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def main(argv=None):
    """The console entry point (argv None: the process's own arguments, and the process ends
    here); with an argv list it raises SystemExit with the exit code.  Click is imported only
    for the tools: a render does not pay for it."""
    standalone = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "trace-diff":
        from nbnumba.tools.trace_diff import trace_diff_cmd
        return trace_diff_cmd.main(argv[1:], prog_name="nbnumba trace-diff")
    if argv and argv[0] == "compare":
        from nbnumba.tools.compare import compare_cmd
        return compare_cmd.main(argv[1:], prog_name="nbnumba compare")
    if argv and argv[0] == "batch":
        from nbnumba.batch.command import batch_cmd
        try:
            return batch_cmd.main(argv[1:], prog_name="nbnumba batch")
        except SystemExit as done:
            if standalone:      # the batch has closed its files and its workers
                _exit_now(done.code if isinstance(done.code, int) else 1)
            raise
    code = simulate(argv)
    if standalone:
        _exit_now(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
