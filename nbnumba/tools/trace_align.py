"""The engine of `nbnumba trace-diff`: load two trace logs, align them, judge the pairs.

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

Unpaired records are kept apart, as labels only one log prints and as extra occurrences of
labels both print. `diff_traces` returns all of it as a `TraceDiff` (the pairs in pipeline
order, that is the C log's, the first divergent pair, a summary per label, the py/C ratios
of the scaling quantities and the exit status: 0 every paired record agrees, 3 a paired
record diverges or the logs share no label; 2, EXIT_INPUT, is for a log `load_trace`
cannot read). nbnumba.tools.trace_report writes it out.
"""
import difflib
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional

from nbnumba.tools.common import TINY
from nbnumba.tools.tracelog import read_trace

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
