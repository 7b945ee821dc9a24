"""The reports of `nbnumba trace-diff`: the stdout table, summary.md and the JSON files.

`text_report` is what the command prints: one row per paired label (its worst pair), the
scaling ratios, then the verdict (`first divergence:`, what only one log holds, `result:`).
`markdown_report` is the same as summary.md, `metrics_json` the content of metrics.json;
`write_outputs` writes those two and run_metadata.json (the process's environment, both
logs and commands) into a folder.
"""
import os

from nbnumba.tools.common import environment, json_number, json_safe, write_json
from nbnumba.tools.trace_align import EXIT_OK

LIST_LIMIT = 30  # one-sided labels named on stdout before "... and N more"
OUTPUT_FILES = ("summary.md", "metrics.json", "run_metadata.json")


def _fmt(x, spec=".15g"):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x if len(x) <= 40 else x[:37] + "..."
    return format(x, spec)


def component_json(comp):
    return {"name": comp.name, "c": json_number(comp.c), "py": json_number(comp.py),
            "abs": json_number(comp.abs), "rel": json_number(comp.rel)}


def pair_json(pair, components=True):
    out = {"label": pair.name, "key": pair.c.key, "status": pair.status, "reason": pair.reason,
           "c_line": pair.c.lineno, "py_line": pair.py.lineno,
           "max_abs": json_number(pair.max_abs), "max_rel": json_number(pair.max_rel)}
    if components:
        out["components"] = [component_json(c) for c in pair.components]
    return out


def first_divergence_json(diff):
    first = diff.first_divergence
    if first is None:
        return None
    worst = first.worst
    return {"label": first.name, "key": first.c.key, "component": worst.name, "c": json_number(worst.c),
            "py": json_number(worst.py), "abs": json_number(worst.abs), "rel": json_number(worst.rel),
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
        "scaling": json_safe(diff.scaling),
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
