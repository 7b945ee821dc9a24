"""`nbnumba trace-diff C_LOG PY_LOG`: line up a nanoBragg.c trace with an nbnumba trace.

A record's key is its label (`PHI:phi_tic=N` for per-phi lines, `SOURCE2:label` for
per-source lines). Labels repeat (one block per subpixel, detector layer, ...), and the
instrumented C's revisions print some blocks a different number of times (the detector
block `fdet_after_rotz` ... `odet_after_twotheta` once or twice), so the two logs are
aligned by their sequence of keys, as `diff` aligns lines: keys that only one log prints are
set aside, then the longest runs of equal keys are paired, repeated keys in their order.

Values are judged only on paired records: the port's record must carry as many numbers and
the same non-numeric text as the C's, and every number must agree within the tolerance
relative to the largest magnitude on the C line:

    abs = |py - c|        rel = abs / max(max |c_i| over the line, 1e-300)

Unpaired records are reported apart, as labels only one log prints and as extra occurrences
of labels both print. The report names the first divergent record in pipeline order (the
order of the C log), summarises every label over its occurrences and shows the py/C ratio of
the scaling quantities. Exit status: 0 every paired record agrees, 3 a paired record
diverges or the logs share no label, 2 an unreadable or empty log.
"""
import datetime
import difflib
import json
import math
import os
import platform
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional

import click

from nbnumba.tools.tracelog import read_trace

TINY = 1e-300
SCALING_LABELS = ("I_before_scaling", "F_cell", "F_latt", "omega_pixel", "polar",
                  "capture_fraction", "steps", "r_e_sqr", "fluence_photons_per_m2")
EXIT_OK, EXIT_INPUT, EXIT_DIVERGED = 0, 2, 3
LIST_LIMIT = 30  # one-sided labels named on stdout before "... and N more"


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


def record_name(rec):
    """`label` for a key's first record in its log, `label#2`, `label#3`, ... for later ones."""
    return rec.key if rec.occurrence == 0 else f"{rec.key}#{rec.occurrence + 1}"


def _worst(components):
    """The component with the largest relative delta (count/text components first)."""
    if not components:
        return None
    return max(components, key=lambda comp: math.inf if comp.rel is None else comp.rel)


def _largest(values):
    finite = [v for v in values if v is not None]
    return max(finite) if finite else None


@dataclass
class Pair:
    """A C record and the port's record the alignment pairs with it, compared."""

    c: object   # TraceRecord
    py: object  # TraceRecord
    status: str  # ok | divergent
    reason: Optional[str] = None  # values | count | text, when divergent
    components: list = field(default_factory=list)

    @property
    def name(self):
        return record_name(self.c)

    @property
    def worst(self):
        return _worst(self.components)

    @property
    def max_abs(self):
        return _largest([comp.abs for comp in self.components])

    @property
    def max_rel(self):
        return _largest([comp.rel for comp in self.components])


@dataclass
class LabelSummary:
    """Every paired record of one key: how many, how many diverge, the worst component."""

    key: str
    order: int
    pairs: list

    @cached_property
    def divergent(self):
        return [p for p in self.pairs if p.status == "divergent"]

    @property
    def status(self):
        return "divergent" if self.divergent else "ok"

    @property
    def worst_pair(self):
        """The first divergent pair, else the pair holding the worst component."""
        if self.divergent:
            return self.divergent[0]
        return max(self.pairs, key=lambda p: -1.0 if p.max_rel is None else p.max_rel)


@dataclass
class OneSided:
    """The records of one log that the alignment left unpaired."""

    records: list
    other_keys: set

    @property
    def labels(self):
        """{key: count} of the keys the other log never prints, in log order."""
        return dict(Counter(r.key for r in self.records if r.key not in self.other_keys))

    @property
    def extra(self):
        """{key: count} of unpaired occurrences of keys the other log prints too."""
        return dict(Counter(r.key for r in self.records if r.key in self.other_keys))

    @property
    def lines(self):
        return [r.lineno for r in self.records]


@dataclass
class TraceDiff:
    """The paired records in pipeline order, what each log holds alone, the scaling ratios."""

    tolerance: float
    pairs: list
    only_in_c: OneSided
    only_in_py: OneSided
    scaling: dict

    @cached_property
    def divergent(self):
        return [p for p in self.pairs if p.status == "divergent"]

    @property
    def first_divergence(self):
        return self.divergent[0] if self.divergent else None

    @cached_property
    def labels(self):
        """One LabelSummary per paired key, in the order of its first pair."""
        by_key = {}
        for pair in self.pairs:
            by_key.setdefault(pair.c.key, []).append(pair)
        return [LabelSummary(key, order, pairs) for order, (key, pairs) in enumerate(by_key.items())]

    @property
    def exit_code(self):
        return EXIT_DIVERGED if self.divergent or not self.pairs else EXIT_OK


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


def align(c_records, py_records):
    """[(i, j)]: indices of the C and PY records paired by their keys, in log order.

    Keys only one log prints are set aside first; the rest are aligned with difflib (no
    junk heuristic: every key takes part), which pairs the longest runs of equal keys and
    recurses on either side of them, as `diff` pairs equal lines."""
    shared = {r.key for r in c_records} & {r.key for r in py_records}
    c_idx = [i for i, r in enumerate(c_records) if r.key in shared]
    py_idx = [j for j, r in enumerate(py_records) if r.key in shared]
    matcher = difflib.SequenceMatcher(None, [c_records[i].key for i in c_idx],
                                      [py_records[j].key for j in py_idx], autojunk=False)
    return [(c_idx[block.a + n], py_idx[block.b + n])
            for block in matcher.get_matching_blocks() for n in range(block.size)]


def _scaling(pairs):
    """{label: c, py, ratio} of the first pair of each scaling label."""
    first = {}
    for pair in pairs:
        first.setdefault(pair.c.key, pair)
    out = {}
    for label in SCALING_LABELS:
        pair = first.get(label)
        if pair is None or not pair.c.values or not pair.py.values:
            continue
        c, py = pair.c.values[0], pair.py.values[0]
        out[label] = {"c": c, "py": py, "ratio": py / c if c != 0 else None}
    return out


def diff_traces(c_records, py_records, tolerance=1e-6):
    """Align two parsed logs (lists of TraceRecord) and compare their paired records."""
    matched = align(c_records, py_records)
    pairs = [Pair(c_records[i], py_records[j], *compare_records(c_records[i], py_records[j], tolerance))
             for i, j in matched]
    c_paired, py_paired = {i for i, _ in matched}, {j for _, j in matched}
    c_keys, py_keys = {r.key for r in c_records}, {r.key for r in py_records}
    return TraceDiff(
        tolerance=tolerance,
        pairs=pairs,
        only_in_c=OneSided([r for i, r in enumerate(c_records) if i not in c_paired], py_keys),
        only_in_py=OneSided([r for j, r in enumerate(py_records) if j not in py_paired], c_keys),
        scaling=_scaling(pairs),
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


def pair_json(pair, components=True):
    out = {"label": pair.name, "key": pair.c.key, "status": pair.status, "reason": pair.reason,
           "c_line": pair.c.lineno, "py_line": pair.py.lineno,
           "max_abs": _num(pair.max_abs), "max_rel": _num(pair.max_rel)}
    if components:
        out["components"] = [component_json(c) for c in pair.components]
    return out


def first_divergence_json(diff):
    first = diff.first_divergence
    if first is None:
        return None
    worst = first.worst
    return {"label": first.name, "key": first.c.key, "component": worst.name, "c": _num(worst.c),
            "py": _num(worst.py), "abs": _num(worst.abs), "rel": _num(worst.rel),
            "c_line": first.c.lineno, "py_line": first.py.lineno, "reason": first.reason}


def one_sided_json(side):
    return {"labels": side.labels, "extra_occurrences": side.extra, "lines": side.lines}


def label_json(summary):
    worst = summary.worst_pair
    return {"order": summary.order, "status": summary.status, "pairs": len(summary.pairs),
            "divergent": len(summary.divergent), "first_c_line": summary.pairs[0].c.lineno,
            "first_py_line": summary.pairs[0].py.lineno, "worst": pair_json(worst)}


def metrics_json(diff):
    """The content of metrics.json."""
    return {
        "tolerance": diff.tolerance,
        "exit_code": diff.exit_code,
        "first_divergence": first_divergence_json(diff),
        "num_compared": len(diff.pairs),
        "num_divergent": len(diff.divergent),
        "only_in_c": one_sided_json(diff.only_in_c),
        "only_in_py": one_sided_json(diff.only_in_py),
        "scaling": {k: {kk: _num(vv) for kk, vv in v.items()} for k, v in diff.scaling.items()},
        "labels": {s.key: label_json(s) for s in diff.labels},
        "divergent": [pair_json(p) for p in diff.divergent],
    }


def _row(summary):
    pair = summary.worst_pair
    worst = pair.worst
    cells = [worst.name, _fmt(worst.c), _fmt(worst.py), _fmt(worst.abs, ".2e"), _fmt(worst.rel, ".2e")] \
        if worst else ["-"] * 5
    n_div = len(summary.divergent)
    status = f"DIVERGES {n_div}/{len(summary.pairs)}" if n_div else "ok"
    return [str(summary.order), summary.key, str(len(summary.pairs)), status] + cells


HEADER = ["#", "label", "n", "status", "component", "C", "PY", "abs", "rel"]


def _counted(counts, limit=None):
    names = [key if n == 1 else f"{key} (x{n})" for key, n in counts.items()]
    if limit is not None and len(names) > limit:
        names = names[:limit] + [f"... and {len(names) - limit} more"]
    return ", ".join(names)


def _ranges(numbers, limit=None):
    """'1-7, 59, 86' for [1, 2, ..., 7, 59, 86]."""
    spans = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    text = [f"{a}-{b}" if b > a else str(a) for a, b in spans]
    if limit is not None and len(text) > limit:
        text = text[:limit] + ["..."]
    return ", ".join(text)


def _one_sided_lines(diff, limit=None):
    lines = []
    for side, name, other in ((diff.only_in_c, "C", "PY"), (diff.only_in_py, "PY", "C")):
        if side.labels:
            lines.append(f"only in {name} (labels the {other} log does not print): "
                         + _counted(side.labels, limit))
        if side.extra:
            lines.append(f"only in {name} (extra occurrences: the {other} log prints these labels "
                         "fewer times): " + _counted(side.extra, limit))
        if side.records:
            lines.append(f"  at {name} log lines {_ranges(side.lines, limit)}")
    return lines


def _verdict_lines(diff, limit=None):
    first = first_divergence_json(diff)
    lines = [f"tolerance (rel): {diff.tolerance:g}",
             f"compared: {len(diff.pairs)} records of {len(diff.labels)} labels, "
             f"divergent: {len(diff.divergent)}; not compared: {len(diff.only_in_c.records)} "
             f"records only in C, {len(diff.only_in_py.records)} only in PY"]
    if first:
        lines.append(f"first divergence: {first['label']} (component {first['component']}) "
                     f"C={_fmt(first['c'])} PY={_fmt(first['py'])} abs={_fmt(first['abs'], '.3e')} "
                     f"rel={_fmt(first['rel'], '.3e')} (C log line {first['c_line']}, "
                     f"PY log line {first['py_line']})")
    elif diff.pairs:
        lines.append("first divergence: none")
    else:
        lines.append("first divergence: none compared: the logs share no label")
    lines += _one_sided_lines(diff, limit)
    lines.append("result: " + ("PASS" if diff.exit_code == EXIT_OK else "FAIL"))
    return lines


def _scaling_rows(diff):
    return [[label, _fmt(v["c"]), _fmt(v["py"]), _fmt(v["ratio"], ".12g")] for label, v in diff.scaling.items()]


def text_report(diff):
    """The stdout table: one row per paired label (its worst pair), then the verdict."""
    rows = [HEADER] + [_row(s) for s in diff.labels]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    if diff.scaling:
        out.append("")
        out.append("scaling quantities (ratio = PY / C):")
        out += [f"  {r[0]:<24} C={r[1]:<22} PY={r[2]:<22} ratio={r[3]}" for r in _scaling_rows(diff)]
    out.append("")
    return "\n".join(out + _verdict_lines(diff, LIST_LIMIT))


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
    parts += ["", "## Labels in pipeline order (n paired records; worst component per label)", "",
              _md_table(HEADER, [_row(s) for s in diff.labels]), ""]
    return "\n".join(parts)


def _device():
    try:
        from nbnumba.kernels.targets import cuda_available
        if cuda_available():        # numba.cuda is imported only where a driver is installed
            from numba import cuda
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


OUTPUT_FILES = ("summary.md", "metrics.json", "run_metadata.json")


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


@click.command("trace-diff")
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
