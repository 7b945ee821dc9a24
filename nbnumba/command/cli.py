"""The `nbnumba` command: nanoBragg.c's command line, plus the `trace-diff` and `compare` tools.

    nbnumba <nanoBragg arguments>     render, exactly as nanoBragg.c would (same files, same stdout)
    nbnumba -h                        every flag by topic, with units and defaults (from flags.FLAGS)
    nbnumba --version                 the version
    nbnumba trace-diff C_LOG PY_LOG   diff a TRACE_C log against a TRACE_PY log
    nbnumba compare -- ARGS...        run the C and nbnumba on ARGS and compare every output
    nbnumba batch PLAN                render many images: rotation series, ensembles (nbnumba/batch/)
    nbnumba serve [--status|--stop]   a warm renderer that later commands hand their runs to

The console script starts in command/launcher.py, which hands the run to the user's server
(command/server/) when one runs and calls `main` here otherwise.
"""
import os
import sys

from nbnumba import interrupt
from nbnumba.command import streams
from nbnumba.errors import NBError
from nbnumba.job import run_job
from nbnumba.settings import Settings


def simulate(args):
    """Render a diffraction image from nanoBragg.c arguments, in the working folder with the
    settings of this process's environment; return the exit code (a signal ends the process
    here, as it ends the C)."""
    out = streams.command_stdout()
    try:
        settings = Settings.from_environ()
    except NBError as err:
        streams.err_line(err.message)
        return err.code
    interrupt.install()
    try:
        code = run_job(args, out, streams.err_line, settings).code
        interrupt.uninstall()                  # done: a signal from here on ends the process as the C's
    except interrupt.Interrupted as stop:      # a signal, or stdout is a closed pipe
        interrupt.die_of(stop.signum)          # (the C's buffered text dies with it)
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
