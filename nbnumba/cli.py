"""The `nbnumba` command: nanoBragg.c's command line, plus the `trace-diff` and `compare` tools.

    nbnumba <nanoBragg arguments>     render, exactly as nanoBragg.c would (same files, same stdout)
    nbnumba -h                        every flag, with units and defaults (from flags.FLAGS)
    nbnumba trace-diff C_LOG PY_LOG   diff a TRACE_C log against a TRACE_PY log
    nbnumba compare -- ARGS...        run the C and nbnumba on ARGS and compare their images
"""
import os
import sys
import time

import click

from nbnumba import interrupt
from nbnumba.errors import NBError
from nbnumba.flags import FLAGS, PREPASS
from nbnumba.timings import process_age

HELP_WORDS = ("-h", "--help", "-help")


def flag_help_text():
    """`nbnumba -h`: one line per flag row, generated from the flags table."""
    lines = ["usage: nbnumba [nanoBragg options]   (a drop-in replacement for nanoBragg)",
             "       nbnumba trace-diff C_LOG PY_LOG [--tolerance 1e-6] [--out DIR]",
             "       nbnumba compare [--c-bin PATH] [...] -- ARGS...",
             "", "options (matched as nanoBragg.c matches them; units; default):"]
    seen = set()
    for f in PREPASS[1:] + FLAGS:
        names = ", ".join(f.names)
        if names in seen and f.help.startswith("-misset random"):
            continue
        seen.add(names)
        meta = "; ".join(x for x in (f.units, f"default {f.default}" if f.default else "") if x)
        lines.append(f"  {names:<34} {f.help}" + (f" [{meta}]" if meta else ""))
    return "\n".join(lines) + "\n"


@click.command(context_settings=dict(ignore_unknown_options=True, help_option_names=[]))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def simulate(args):
    """Render a diffraction image from nanoBragg.c arguments."""
    if any(a in HELP_WORDS for a in args):
        click.echo(flag_help_text(), nl=False)
        return
    started = time.perf_counter()
    age = process_age()
    from nbnumba.kernels.internals import start_cpu_target
    from nbnumba.simulation import Simulation

    imported = time.perf_counter()
    start_cpu_target()
    out = sys.stdout
    interrupt.install()
    try:
        sim = Simulation(list(args), out=out.write, warn=lambda line: click.echo(line, err=True), flush=out.flush)
        sim.clock.add("imports", (age if age is not None else 0.0) + imported - started)
        sim.clock.add("numba start-up", time.perf_counter() - imported)
        sim.run(write_files=True)
        if sim.settings.timings:
            out.flush()
            click.echo(sim.clock.line(), err=True)
    except NBError as e:
        out.flush()
        click.echo(e.message, err=True)
        sys.exit(e.code)
    except MemoryError:
        out.flush()
        click.echo("ERROR: the image does not fit in memory (check -detpixels/-detsize/-pixel/-oversample)",
                   err=True)
        sys.exit(9)
    except interrupt.Interrupted as stop:
        out.flush()
        interrupt.die_of(stop.signum)
    except Exception as e:      # a bug: one line, not a traceback (NBNUMBA_DEBUG=1 shows it)
        if os.environ.get("NBNUMBA_DEBUG"):
            raise
        out.flush()
        click.echo("nbnumba: internal error: %s: %s (rerun with NBNUMBA_DEBUG=1 for the traceback)"
                   % (type(e).__name__, e), err=True)
        sys.exit(1)
    out.flush()


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
    here); with an argv list it returns or raises SystemExit as a Click command does."""
    standalone = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "trace-diff":
        from nbnumba.tools.trace_diff import trace_diff_cmd
        return trace_diff_cmd.main(argv[1:], prog_name="nbnumba trace-diff")
    if argv and argv[0] == "compare":
        from nbnumba.tools.compare import compare_cmd
        return compare_cmd.main(argv[1:], prog_name="nbnumba compare")
    if not standalone:
        return simulate.main(argv, prog_name="nbnumba")
    try:
        simulate.main(argv, prog_name="nbnumba")
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    _exit_now(code)


if __name__ == "__main__":
    main()
