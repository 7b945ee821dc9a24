"""`nbnumba -h`: the usage lines and every flag by topic, with units and defaults, from the
flags table (args/flags.py), fitted to the terminal."""
import os
import textwrap

from nbnumba.args.flags import FLAGS, PREPASS, TOPICS

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


def help_width(columns=None, fd=None):
    """-h's width: `columns` ($COLUMNS, settings.Settings.columns) or the width of the terminal
    on fd (the run's stdout), at most HELP_WIDTH when fd is not a terminal (None: none)."""
    tty = fd is not None and os.isatty(fd)
    width = columns or (os.get_terminal_size(fd).columns if tty else HELP_WIDTH)
    if not tty:
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


def flag_help_text(width=HELP_WIDTH):
    """`nbnumba -h`: the usage, then the flags by topic, fitted to `width` (help_width())."""
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
