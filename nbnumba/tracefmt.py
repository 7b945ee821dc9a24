"""Number formatting of the instrumented C's TRACE lines (`%.15g`), with the port's prefix."""

PREFIX = "TRACE_PY"


def g15(x):
    return "%.15g" % x


def trace_line(label, *values):
    """`TRACE_PY:label=v1 v2 v3`: the C's trace_vec()/trace_scalar() form (set-up stages)."""
    return "%s:%s=%s" % (PREFIX, label, " ".join(g15(v) for v in values))


def pixel_line(label, *values, ints=False):
    """`TRACE_PY: label v1 v2`: the form of the C's per-pixel printf lines."""
    fmt = "%d" if ints else "%.15g"
    return "%s: %s %s" % (PREFIX, label, " ".join(fmt % v for v in values))
