"""Parse the per-pixel trace logs of nanoBragg.c (`TRACE_C`) and of nbnumba (`TRACE_PY`).

A trace line is `PREFIX[_CHANNEL]` followed by `:` or a space, then either `label=values`
or `label values`:

    TRACE_C:fdet_after_rotz=0 0 1              channel '',        label fdet_after_rotz
    TRACE_C: F_cell 100                        channel '',        label F_cell
    TRACE_C:angles_rad=rotx:0 roty:0 ...       components named rotx, roty, ...
    TRACE_C_PHI phi_tic=3 phi_deg=0.3 ...      channel 'PHI',     key 'PHI:phi_tic=3'
    TRACE_C_SOURCE2: F_cell 300                channel 'SOURCE2', key 'SOURCE2:F_cell', source 2

The prefix is given or detected (the most frequent `TRACE_<NAME>` of the log); lines that
are not trace lines of that prefix (program output, `TRACE:` debug lines, `TRACE_CONFIG:`)
are skipped. Labels repeat (one block per subpixel, layer, source, ...), so every record
carries its occurrence index among records of the same key; `first_occurrences` gives the
view the golden checker uses (the first record of each key); `nbnumba trace-diff` aligns
the whole sequences instead.
"""
import re
from collections import Counter
from dataclasses import dataclass
from typing import Optional

_NUMBER = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?:inf(?:inity)?|nan)(?!\w))"
NUMBER = re.compile(r"(?<![\w.])" + _NUMBER, re.I)
COMPONENT = re.compile(r"(?:(?P<name>[A-Za-z_]\w*)\s*[=:]\s*)?(?<![\w.])(?P<num>" + _NUMBER + ")", re.I)
ANY_PREFIX = re.compile(r"^(?P<prefix>TRACE_[A-Z]+?)(?:_(?P<channel>[A-Z0-9_]+))?(?=[:\s])")
PHI_TIC = re.compile(r"phi_tic\s*=\s*(-?\d+)")
SOURCE_CHANNEL = re.compile(r"SOURCE(\d+)$")
SKIPPED_CHANNELS = ("CONFIG",)


@dataclass(frozen=True)
class TraceRecord:
    """One trace line: where it came from, what it names and the numbers it carries."""

    prefix: str
    channel: str
    label: str
    key: str
    values: tuple
    names: tuple
    text: str
    raw: str
    lineno: int
    occurrence: int
    source: Optional[int] = None
    phi_tic: Optional[int] = None

    @property
    def skeleton(self):
        """The value text with every number replaced by '#': the non-numeric part to compare."""
        return " ".join(NUMBER.sub("#", self.text).split())


def _line_pattern(prefix):
    """The lines of one prefix (and its channels)."""
    return re.compile(r"^(?P<prefix>" + re.escape(prefix) + r")(?:_(?P<channel>[A-Z0-9_]+))?(?=[:\s])")


def detect_prefix(text):
    """The most frequent `TRACE_<NAME>` prefix of the text (ties: first seen), or None."""
    counts = Counter()
    for line in text.splitlines():
        m = ANY_PREFIX.match(line)
        if m and m.group("channel") not in SKIPPED_CHANNELS:
            counts[m.group("prefix")] += 1
    return counts.most_common(1)[0][0] if counts else None


def _components(text):
    values, names = [], []
    for i, m in enumerate(COMPONENT.finditer(text)):
        values.append(float(m.group("num")))
        names.append(m.group("name") or f"[{i}]")
    return tuple(values), tuple(names)


def _split_label(rest, channel):
    """(label, key suffix, value text, phi_tic) of the text after the prefix and channel."""
    phi = PHI_TIC.match(rest)
    if phi and "PHI" in channel:
        return channel, f"phi_tic={phi.group(1)}", rest, int(phi.group(1))
    first = rest.split(None, 1)[0]
    if "=" in first:
        label, text = rest.split("=", 1)
    else:
        label, text = first, rest[len(first):]
    return label.strip(), label.strip(), text.strip(), None


def parse_line(line, pattern):
    """Parse one line; return the fields of a TraceRecord (without occurrence) or None."""
    m = pattern.match(line)
    if not m:
        return None
    channel = m.group("channel") or ""
    rest = line[m.end():].lstrip(": \t").rstrip()
    if channel in SKIPPED_CHANNELS or not rest:
        return None
    label, suffix, text, phi_tic = _split_label(rest, channel)
    values, names = _components(text)
    source = SOURCE_CHANNEL.match(channel)
    return dict(prefix=m.group("prefix"), channel=channel, label=label,
                key=f"{channel}:{suffix}" if channel else suffix, values=values, names=names,
                text=text, raw=line.rstrip("\n"), source=int(source.group(1)) if source else None,
                phi_tic=phi_tic)


def parse_trace(text, prefix=None):
    """All trace records of `text` for `prefix` (detected when None), in log order."""
    prefix = prefix or detect_prefix(text)
    if prefix is None:
        return []
    pattern = _line_pattern(prefix)
    seen = Counter()
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = parse_line(line, pattern)
        if fields is None:
            continue
        records.append(TraceRecord(lineno=lineno, occurrence=seen[fields["key"]], **fields))
        seen[fields["key"]] += 1
    return records


def read_trace(path, prefix=None):
    """Parse the trace log at `path` (undecodable bytes are replaced, never fatal)."""
    with open(path, "rb") as fh:
        return parse_trace(fh.read().decode("utf-8", "replace"), prefix)


def first_occurrences(records):
    """{key: first record of that key}, in the order the keys first appear."""
    out = {}
    for rec in records:
        out.setdefault(rec.key, rec)
    return out


def first_values(records):
    """{key: values of the first record of that key}: the golden checker's view of a log."""
    return {key: rec.values for key, rec in first_occurrences(records).items()}
