"""Float-float arithmetic: a number as the unevaluated sum hi + lo of two floats with
|lo| <= ulp(hi)/2, about twice the precision of one float, from error-free transformations
(Knuth's two_sum; two_prod by one fused multiply-add).  Written once; the single-precision
physics (physics32.py) clones it with float32 literals, so every operation is a float32 one.

The results do not depend on whether a compiler fuses a*b + c elsewhere: two_sum has no
product, and the fused multiply-add of two_prod is explicit.
"""
import math

from numba.extending import register_jitable

from nbnumba.kernels.fma import fma


@register_jitable
def two_sum(a, b):
    """(s, e): s = fl(a + b) and s + e = a + b exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@register_jitable
def fast_two_sum(a, b):
    """two_sum for |a| >= |b| (or a == 0)."""
    s = a + b
    return s, b - (s - a)


@register_jitable
def two_prod(a, b):
    """(p, e): p = fl(a*b) and p + e = a*b exactly."""
    p = a * b
    return p, fma(a, b, -p)


@register_jitable
def ff_add(ah, al, bh, bl):
    """(ah + al) + (bh + bl)."""
    s, e = two_sum(ah, bh)
    t, f = two_sum(al, bl)
    s, e = fast_two_sum(s, e + t)
    return fast_two_sum(s, e + f)


@register_jitable
def ff_mul(ah, al, bh, bl):
    """(ah + al) * (bh + bl)."""
    p, e = two_prod(ah, bh)
    return fast_two_sum(p, e + (ah * bl + al * bh))


@register_jitable
def ff_mul_f(ah, al, b):
    """(ah + al) * b for one float b."""
    p, e = two_prod(ah, b)
    return fast_two_sum(p, e + al * b)


@register_jitable
def ff_div(ah, al, bh, bl):
    """(ah + al) / (bh + bl): a quotient corrected once by its remainder."""
    q = ah / bh
    p, e = two_prod(q, bh)
    return fast_two_sum(q, (((ah - p) - e) + al - q * bl) / bh)


@register_jitable
def ff_sqrt(ah, al):
    """sqrt(ah + al) for ah + al >= 0: a square root corrected once by its remainder."""
    x = math.sqrt(ah)
    if x == 0.0:
        return x, x
    p, e = two_prod(x, x)
    return fast_two_sum(x, (((ah - p) - e) + al) / (2.0 * x))
