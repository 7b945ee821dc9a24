"""The `nbnumba` command: nanoBragg.c's command line, plus the `trace-diff` and `compare` tools.

    nbnumba <nanoBragg arguments>     render, exactly as nanoBragg.c would (same files, same stdout)
    nbnumba -h                        every flag, with units and defaults (from flags.FLAGS)
    nbnumba trace-diff C_LOG PY_LOG   diff a TRACE_C log against a TRACE_PY log
    nbnumba compare -- ARGS...        run the C and nbnumba on ARGS and compare their images
"""
import os
import sys

import click
import numpy as np

from nbnumba import interrupt
from nbnumba.errors import NBError
from nbnumba.flags import FLAGS, PREPASS

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
    from nbnumba.simulation import Simulation

    if any(a in HELP_WORDS for a in args):
        click.echo(flag_help_text(), nl=False)
        return
    out = sys.stdout
    interrupt.install()
    # the C computes on through inf and NaN silently; so does numpy here (odd input warns once,
    # through Simulation.warn, never with a numpy RuntimeWarning per operation)
    np.seterr(all="ignore")
    try:
        Simulation(list(args), out=out.write, warn=lambda line: click.echo(line, err=True)).run(write_files=True)
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "trace-diff":
        from nbnumba.tools.trace_diff import trace_diff_cmd
        return trace_diff_cmd.main(argv[1:], prog_name="nbnumba trace-diff")
    if argv and argv[0] == "compare":
        from nbnumba.tools.compare import compare_cmd
        return compare_cmd.main(argv[1:], prog_name="nbnumba compare")
    return simulate.main(argv, prog_name="nbnumba")


if __name__ == "__main__":
    main()
