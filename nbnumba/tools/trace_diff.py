"""`nbnumba trace-diff C_LOG PY_LOG`: line up a nanoBragg.c trace with an nbnumba trace.

The command around nbnumba.tools.trace_align (loading, aligning and judging the logs) and
nbnumba.tools.trace_report (the stdout table and the files of --out). Exit status: 0 every
paired record agrees, 3 a paired record diverges or the logs share no label, 2 an
unreadable or empty log, or an --out folder that cannot be written.
"""
import click

from nbnumba.tools.common import CONTEXT_SETTINGS
from nbnumba.tools.trace_align import EXIT_INPUT, TraceInputError, diff_traces, load_trace
from nbnumba.tools.trace_report import text_report, write_outputs


def run_trace_diff(c_log, py_log, tolerance=1e-6, out_dir=None, c_prefix=None, py_prefix=None,
                   c_cmd=None, py_cmd=None, echo=click.echo):
    """Diff two logs, print the report, write the outputs; return the exit status."""
    try:
        c_records = load_trace(c_log, c_prefix)
        py_records = load_trace(py_log, py_prefix)
    except TraceInputError as exc:
        echo(f"trace-diff: error: {exc}", err=True)
        return EXIT_INPUT
    diff = diff_traces(c_records, py_records, tolerance)
    echo(text_report(diff))
    if out_dir:
        try:
            write_outputs(diff, out_dir, c_log, py_log, c_cmd, py_cmd)
        except OSError as exc:
            echo(f"trace-diff: error: cannot write to {out_dir}: {exc.strerror or exc}", err=True)
            return EXIT_INPUT
    return diff.exit_code


@click.command("trace-diff", context_settings=CONTEXT_SETTINGS)
@click.argument("c_log")
@click.argument("py_log")
@click.option("--tolerance", default=1e-6, show_default=True, type=float,
              help="Largest relative delta (|py-c| / max|c| of the line) that still agrees.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Write summary.md, metrics.json and run_metadata.json here.")
@click.option("--c-prefix", default=None, help="Trace prefix of C_LOG (default: detected, e.g. TRACE_C).")
@click.option("--py-prefix", default=None, help="Trace prefix of PY_LOG (default: detected, e.g. TRACE_PY).")
@click.option("--c-cmd", default=None, help="The command that produced C_LOG (recorded in run_metadata.json).")
@click.option("--py-cmd", default=None, help="The command that produced PY_LOG (recorded in run_metadata.json).")
@click.pass_context
def trace_diff_cmd(ctx, c_log, py_log, tolerance, out_dir, c_prefix, py_prefix, c_cmd, py_cmd):
    """Compare a TRACE_C log of nanoBragg.c with a TRACE_PY log of nbnumba, label by label.

    The logs are aligned by their sequence of labels, as diff aligns lines; values are judged
    where both logs have the label, and labels only one log prints are listed apart. Exit 0
    when every paired number agrees within the tolerance, 3 on a divergence (or when the logs
    share no label), 2 when a log is unreadable or holds no trace lines."""
    ctx.exit(run_trace_diff(c_log, py_log, tolerance, out_dir, c_prefix, py_prefix, c_cmd, py_cmd))
