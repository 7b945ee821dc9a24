"""Number formatting of the instrumented C's TRACE lines, with the port's prefix.

Doubles are printed `%.15g` as glibc prints them (a NaN keeps its sign: "-nan"), integers
`%d` as the C's `int` would hold them: the C's `h0 = (int) ceil(h-0.5)` of a NaN or of a huge
h is INT_MIN (-2147483648), where the port computes a 64-bit index.
"""
import numbers

from nbnumba.cfuncs.stdio import c_dtoi, c_int, printf_g

PREFIX = "TRACE_PY"


def g15(x):
    """`printf("%.15g", x)`."""
    return printf_g(x, "%.15g")


def c_d(x):
    """`printf("%d", x)` of a C `int` that holds `x`: a float (an index the kernel computed
    in floating point or int64 and handed over in its float64 trace buffer) converts as the
    C's `(int)` cast does; an integer keeps its low 32 bits."""
    if isinstance(x, numbers.Integral):
        return "%d" % c_int(int(x))
    return "%d" % c_dtoi(float(x))


def trace_line(label, *values):
    """`TRACE_PY:label=v1 v2 v3`: the C's trace_vec()/trace_scalar() form (set-up stages)."""
    return "%s:%s=%s" % (PREFIX, label, " ".join(g15(v) for v in values))


def pixel_line(label, *values, ints=False):
    """`TRACE_PY: label v1 v2`: the form of the C's per-pixel printf lines (`%d` when ints)."""
    fmt = c_d if ints else g15
    return "%s: %s %s" % (PREFIX, label, " ".join(fmt(v) for v in values))
