"""`nbnumba trace-diff C_LOG PY_LOG`: line up a nanoBragg.c trace with an nbnumba trace.

Records are matched by key (label; `PHI:phi_tic=N` for per-phi lines; `SOURCE2:label` for
per-source lines), on the first occurrence of each key (the golden checker's rule) or, with
`--all-occurrences`, occurrence by occurrence. For every C record the port's record must
carry the same number of numbers and the same non-numeric text, and every number must agree
within the tolerance relative to the largest magnitude on the C line:

    abs = |py - c|        rel = abs / max(max |c_i| over the line, 1e-300)

The report names the first divergent quantity in pipeline order (the order of the C log),
counts the divergent labels, lists labels missing on either side and shows the py/C ratio
of the scaling quantities. Exit status: 0 all within tolerance, 3 a divergence or a C label
missing from the port's log, 2 an unreadable or empty log.
"""
import datetime
import json
import math
import os
import platform
import sys
from dataclasses import dataclass, field
from typing import Optional

import click

from nbnumba.tracelog import all_occurrences, first_occurrences, read_trace

TINY = 1e-300
SCALING_LABELS = ("I_before_scaling", "F_cell", "F_latt", "omega_pixel", "polar",
                  "capture_fraction", "steps", "r_e_sqr", "fluence_photons_per_m2")
EXIT_OK, EXIT_INPUT, EXIT_DIVERGED = 0, 2, 3


class TraceInputError(Exception):
    """A log that cannot be read or holds no trace lines."""


@dataclass
class Component:
    """One compared number (or the count / text of a line when those differ)."""

    name: str
    c: object
    py: object
    abs: Optional[float]
    rel: Optional[float]


@dataclass
class LabelDiff:
    """The comparison of one C record with the port's record of the same key."""

    key: str
    order: int
    c_line: int
    py_line: Optional[int]
    status: str  # ok | divergent | missing_in_py
    reason: Optional[str] = None  # values | count | text, when divergent
    components: list = field(default_factory=list)

    @property
    def worst(self):
        """The component with the largest relative delta (count/text components first)."""
        if not self.components:
            return None
        return max(self.components, key=lambda comp: math.inf if comp.rel is None else comp.rel)

    @property
    def max_abs(self):
        finite = [comp.abs for comp in self.components if comp.abs is not None]
        return max(finite) if finite else None

    @property
    def max_rel(self):
        finite = [comp.rel for comp in self.components if comp.rel is not None]
        return max(finite) if finite else None


@dataclass
class TraceDiff:
    """Every C key's comparison in pipeline order, plus the keys only one side has."""

    tolerance: float
    labels: list
    missing_in_py: list
    missing_in_c: list
    scaling: dict

    @property
    def divergent(self):
        return [d for d in self.labels if d.status == "divergent"]

    @property
    def first_divergence(self):
        return self.divergent[0] if self.divergent else None

    @property
    def exit_code(self):
        return EXIT_DIVERGED if self.divergent or self.missing_in_py else EXIT_OK


def _delta(c, py, scale):
    if c == py or (math.isnan(c) and math.isnan(py)):
        return 0.0, 0.0
    diff = abs(py - c)
    if not math.isfinite(diff):
        return math.inf, math.inf
    return diff, diff / scale


def compare_records(c_rec, py_rec, tolerance):
    """(status, reason, components) of one C record against the port's record."""
    if len(c_rec.values) != len(py_rec.values):
        n_c, n_py = len(c_rec.values), len(py_rec.values)
        return "divergent", "count", [Component("count", n_c, n_py, float(abs(n_c - n_py)), None)]
    if c_rec.skeleton != py_rec.skeleton:
        return "divergent", "text", [Component("text", c_rec.text, py_rec.text, None, None)]
    scale = max([abs(v) for v in c_rec.values if math.isfinite(v)] + [TINY])
    comps = [Component(name, c, py, *_delta(c, py, scale))
             for name, c, py in zip(c_rec.names, c_rec.values, py_rec.values)]
    if any(comp.rel > tolerance for comp in comps):
        return "divergent", "values", comps
    return "ok", None, comps


def _keyed(records, every):
    if every:
        return {f"{key}#{occ}": rec for (key, occ), rec in all_occurrences(records).items()}
    return first_occurrences(records)


def _scaling(c_map, py_map):
    out = {}
    for label in SCALING_LABELS:
        c_rec, py_rec = c_map.get(label), py_map.get(label)
        if c_rec is None or not c_rec.values:
            continue
        c = c_rec.values[0]
        py = py_rec.values[0] if py_rec is not None and py_rec.values else None
        ratio = py / c if py is not None and c != 0 else None
        out[label] = {"c": c, "py": py, "ratio": ratio}
    return out


def diff_traces(c_records, py_records, tolerance=1e-6, every_occurrence=False):
    """Compare two parsed logs (lists of TraceRecord); return a TraceDiff."""
    c_map, py_map = _keyed(c_records, every_occurrence), _keyed(py_records, every_occurrence)
    labels = []
    for order, (key, c_rec) in enumerate(sorted(c_map.items(), key=lambda kv: kv[1].lineno)):
        py_rec = py_map.get(key)
        if py_rec is None:
            labels.append(LabelDiff(key, order, c_rec.lineno, None, "missing_in_py"))
            continue
        status, reason, comps = compare_records(c_rec, py_rec, tolerance)
        labels.append(LabelDiff(key, order, c_rec.lineno, py_rec.lineno, status, reason, comps))
    return TraceDiff(
        tolerance=tolerance,
        labels=labels,
        missing_in_py=[d.key for d in labels if d.status == "missing_in_py"],
        missing_in_c=[key for key in py_map if key not in c_map],
        scaling=_scaling(first_occurrences(c_records), first_occurrences(py_records)),
    )


def load_trace(path, prefix=None):
    """Parsed records of a log; TraceInputError when unreadable or without trace lines."""
    try:
        records = read_trace(path, prefix)
    except OSError as exc:
        raise TraceInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not records:
        what = f"{prefix} lines" if prefix else "trace lines (TRACE_<NAME>...)"
        raise TraceInputError(f"no {what} in {path}")
    return records


# ---------------------------------------------------------------- reporting


def _num(x):
    """A JSON-safe number: non-finite floats become the strings 'inf', '-inf', 'nan'."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def _fmt(x, spec=".15g"):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x if len(x) <= 40 else x[:37] + "..."
    return format(x, spec)


def component_json(comp):
    return {"name": comp.name, "c": _num(comp.c), "py": _num(comp.py),
            "abs": _num(comp.abs), "rel": _num(comp.rel)}


def first_divergence_json(diff):
    first = diff.first_divergence
    if first is None:
        return None
    worst = first.worst
    return {"label": first.key, "component": worst.name, "c": _num(worst.c), "py": _num(worst.py),
            "abs": _num(worst.abs), "rel": _num(worst.rel), "c_line": first.c_line,
            "py_line": first.py_line, "reason": first.reason}


def metrics_json(diff):
    """The content of metrics.json."""
    return {
        "tolerance": diff.tolerance,
        "exit_code": diff.exit_code,
        "first_divergence": first_divergence_json(diff),
        "num_divergent": len(diff.divergent),
        "num_compared": sum(d.status != "missing_in_py" for d in diff.labels),
        "missing_in_py": diff.missing_in_py,
        "missing_in_c": diff.missing_in_c,
        "scaling": {k: {kk: _num(vv) for kk, vv in v.items()} for k, v in diff.scaling.items()},
        "labels": {d.key: {"order": d.order, "status": d.status, "reason": d.reason,
                           "c_line": d.c_line, "py_line": d.py_line,
                           "max_abs": _num(d.max_abs), "max_rel": _num(d.max_rel),
                           "components": [component_json(c) for c in d.components]}
                   for d in diff.labels},
    }


STATUS_TEXT = {"ok": "ok", "divergent": "DIVERGES", "missing_in_py": "MISSING"}


def _row(d):
    worst = d.worst
    cells = [worst.name, _fmt(worst.c), _fmt(worst.py), _fmt(worst.abs, ".2e"), _fmt(worst.rel, ".2e")] \
        if worst else ["-"] * 5
    return [str(d.order), d.key, STATUS_TEXT[d.status]] + cells


HEADER = ["#", "label", "status", "component", "C", "PY", "abs", "rel"]


def _verdict_lines(diff):
    first = first_divergence_json(diff)
    lines = [f"tolerance (rel): {diff.tolerance:g}",
             f"compared labels: {sum(d.status != 'missing_in_py' for d in diff.labels)}, "
             f"divergent: {len(diff.divergent)}, missing in PY: {len(diff.missing_in_py)}, "
             f"missing in C: {len(diff.missing_in_c)}"]
    if first:
        lines.append(f"first divergence: {first['label']} (component {first['component']}) "
                     f"C={_fmt(first['c'])} PY={_fmt(first['py'])} abs={_fmt(first['abs'], '.3e')} "
                     f"rel={_fmt(first['rel'], '.3e')} (C log line {first['c_line']})")
    else:
        lines.append("first divergence: none")
    if diff.missing_in_py:
        lines.append("missing in PY: " + ", ".join(diff.missing_in_py))
    if diff.missing_in_c:
        lines.append("missing in C: " + ", ".join(diff.missing_in_c))
    lines.append("result: " + ("PASS" if diff.exit_code == EXIT_OK else "FAIL"))
    return lines


def _scaling_rows(diff):
    return [[label, _fmt(v["c"]), _fmt(v["py"]), _fmt(v["ratio"], ".12g")] for label, v in diff.scaling.items()]


def text_report(diff):
    """The stdout table: one row per C key (its worst component), then the verdict."""
    rows = [HEADER] + [_row(d) for d in diff.labels]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    if diff.scaling:
        out.append("")
        out.append("scaling quantities (ratio = PY / C):")
        out += [f"  {r[0]:<24} C={r[1]:<22} PY={r[2]:<22} ratio={r[3]}" for r in _scaling_rows(diff)]
    out.append("")
    return "\n".join(out + _verdict_lines(diff))


def _md_table(header, rows):
    esc = [[cell.replace("|", "\\|") for cell in r] for r in rows]
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(r) + " |" for r in esc])


def markdown_report(diff, c_log, py_log, commands):
    """The content of summary.md."""
    parts = ["# Trace diff", "", f"- C log: `{c_log}`", f"- PY log: `{py_log}`"]
    parts += [f"- {name} command: `{cmd}`" for name, cmd in commands.items() if cmd]
    parts += [f"- {line}" for line in _verdict_lines(diff)]
    if diff.scaling:
        parts += ["", "## Scaling quantities", "",
                  _md_table(["label", "C", "PY", "PY / C"], _scaling_rows(diff))]
    parts += ["", "## Labels in pipeline order (worst component per label)", "",
              _md_table(HEADER, [_row(d) for d in diff.labels]), ""]
    return "\n".join(parts)


def _device():
    try:
        from numba import cuda
        if cuda.is_available():
            name = cuda.get_current_device().name
            return "cuda: " + (name.decode() if isinstance(name, bytes) else str(name))
    except Exception:  # no numba, no CUDA driver, or a broken toolkit: all mean "cpu"
        pass
    return "cpu"


def _version(module):
    try:
        return __import__(module).__version__
    except Exception:
        return None


def environment():
    """Versions, platform and compute device of this process."""
    return {"python": sys.version.split()[0], "numpy": _version("numpy"), "numba": _version("numba"),
            "nbnumba": _version("nbnumba"), "platform": platform.platform(),
            "machine": platform.machine(), "device": _device(),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def write_json(path, data):
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1, allow_nan=False)
        fh.write("\n")


def write_outputs(diff, out_dir, c_log, py_log, c_cmd=None, py_cmd=None):
    """Write summary.md, metrics.json and run_metadata.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    commands = {"C": c_cmd, "PY": py_cmd}
    with open(os.path.join(out_dir, "summary.md"), "w") as fh:
        fh.write(markdown_report(diff, c_log, py_log, commands))
    write_json(os.path.join(out_dir, "metrics.json"), metrics_json(diff))
    write_json(os.path.join(out_dir, "run_metadata.json"),
               dict(environment(), c_log=os.path.abspath(c_log), py_log=os.path.abspath(py_log),
                    c_cmd=c_cmd, py_cmd=py_cmd, tolerance=diff.tolerance))


def run_trace_diff(c_log, py_log, tolerance=1e-6, out_dir=None, every_occurrence=False,
                   c_prefix=None, py_prefix=None, c_cmd=None, py_cmd=None, echo=click.echo):
    """Diff two logs, print the report, write the outputs; return the exit status."""
    try:
        c_records = load_trace(c_log, c_prefix)
        py_records = load_trace(py_log, py_prefix)
    except TraceInputError as exc:
        echo(f"trace-diff: error: {exc}", err=True)
        return EXIT_INPUT
    diff = diff_traces(c_records, py_records, tolerance, every_occurrence)
    echo(text_report(diff))
    if out_dir:
        try:
            write_outputs(diff, out_dir, c_log, py_log, c_cmd, py_cmd)
        except OSError as exc:
            echo(f"trace-diff: error: cannot write to {out_dir}: {exc.strerror or exc}", err=True)
            return EXIT_INPUT
    return diff.exit_code


@click.command("trace-diff")
@click.argument("c_log")
@click.argument("py_log")
@click.option("--tolerance", default=1e-6, show_default=True, type=float,
              help="Largest relative delta (|py-c| / max|c| of the line) that still agrees.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Write summary.md, metrics.json and run_metadata.json here.")
@click.option("--all-occurrences", is_flag=True,
              help="Match every occurrence of a label in order, not just the first.")
@click.option("--c-prefix", default=None, help="Trace prefix of C_LOG (default: detected, e.g. TRACE_C).")
@click.option("--py-prefix", default=None, help="Trace prefix of PY_LOG (default: detected, e.g. TRACE_PY).")
@click.option("--c-cmd", default=None, help="The command that produced C_LOG (recorded in run_metadata.json).")
@click.option("--py-cmd", default=None, help="The command that produced PY_LOG (recorded in run_metadata.json).")
@click.pass_context
def trace_diff_cmd(ctx, c_log, py_log, tolerance, out_dir, all_occurrences, c_prefix, py_prefix, c_cmd, py_cmd):
    """Compare a TRACE_C log of nanoBragg.c with a TRACE_PY log of nbnumba, label by label.

    Exit 0 when every number agrees within the tolerance, 3 on a divergence or a C label
    missing from PY_LOG, 2 when a log is unreadable or holds no trace lines."""
    ctx.exit(run_trace_diff(c_log, py_log, tolerance, out_dir, all_occurrences, c_prefix, py_prefix,
                            c_cmd, py_cmd))
