"""The single-precision physics (-precision single): physics.py in float32, with the
functions of this module in place of their namesakes there.

`single` holds it: clones of the functions of cfuncs/vectors.py, physics.py, floatfloat.py and
this module made from their own bytecode, in which every float literal, math.pi and float()
are float32 (numba_internals.retype_functions), fed with the float32 plan
(RenderPlan.arrays(single=True)).  The CPU (kernels/cpu.py) and CUDA (kernels/cuda.py)
single-precision kernels compile the same clones, so anyone can check on a CPU what a GPU
computes.

Where float32 cannot follow the C's formula, this module computes the same quantity another
way, with float32 operations only:

- The lattice factor of a SQUARE crystal, sincg(pi*h, N) = sin(N*pi*h)/sin(pi*h), takes
  sin() of 10^3-10^5 radians, of which a float keeps only a few bits of the position within
  the turn.  `grating` evaluates it from the offset dh = h - h0 of h from its nearest integer
  (exact argument reduction: sin(N*pi*h)/sin(pi*h) = +-sin(N*pi*dh)/sin(pi*dh)).
- That offset must itself be right to ~1e-7, where h is up to ~10^2: more than float32's 24
  bits.  The scattering vector is therefore computed in float-float (floatfloat.py) from the
  detector geometry (`fine_direction`, `fine_scattering`; the plan carries the float-float low
  parts of the geometry, the sources and the lattice table), and h, k, l and their offsets
  from it (`miller_indices`).  Everything else (the solid angle, polarization, F_cell, the
  sums) keeps float32's relative precision and stays physics.py's.
- sinc3 (the round crystal) loses its precision to cancellation near x = 0 in float32: its
  Taylor series there.

The other float32 quantities with a large range need nothing more: the Gaussian crystal's
exp(-x) has relative error ~x*2^-24 (x < 7 above 1e-3 of the peak), its argument and the
round and tophat crystals' come from the offsets above; polarization's atan2 and cos(2 psi)
are bounded; and the running sum of a pixel's subpaths (positive terms, at most
sources x phi steps x domains x subpixels x layers of them) loses at most n*2^-24 of its
value (B2's 200 terms: 2e-6 measured), so it needs no compensation.  Measured against the
serial C (docs/performance.md): every golden case, B2 and B3 within 1e-5 relative over the
pixels above 1e-3 of the maximum (curved detector: 3.8e-4).

On a curved detector the pixel positions are rotations whose float-float sines this module
does not compute: the float32 direction is used there (docs/quirks.md).
"""
import math
import sys

import numpy as np
from numba.extending import register_jitable

from nbnumba.cfuncs import vectors
from nbnumba.kernels import floatfloat, physics
from nbnumba.kernels.floatfloat import fast_two_sum, ff_add, ff_div, ff_mul, ff_mul_f, ff_sqrt, two_prod, two_sum
from nbnumba.kernels.physics import sincg
from nbnumba.numba_internals import retype_functions


@register_jitable
def grating(h, h0, dh, N):
    """The C's sincg(pi*h, N) from dh = h - h0 (h0 the nearest integer): for integer N (the C's
    N always is), sin(N*pi*h)/sin(pi*h) = (-1)^(h0*(N-1)) sin(N*pi*dh)/sin(pi*dh)."""
    F = sincg(math.pi * dh, N)
    if h0 % 2 != 0 and int(N) % 2 == 0:
        return -F
    return F


@register_jitable
def sinc3(x):
    """sinc3() = 3*(sin(x)/x - cos(x))/x^2, from its Taylor series below x = 1 (where float32
    loses up to all its bits to cancellation), else the C's formula."""
    if abs(x) < 1.0:
        x2 = x * x
        return 1.0 - x2 * (1.0 / 10.0 - x2 * (1.0 / 280.0 - x2 * (1.0 / 15120.0 - x2 / 1330560.0)))
    return 3.0 * (math.sin(x) / x - math.cos(x)) / (x * x)


@register_jitable
def _ff_position(p, Fh, Fl, Sh, Sl, Oh, Ol, axis):
    """Component `axis` of Fdet*fdet + Sdet*sdet + Odet*odet + pix0, in float-float."""
    if axis == 1:
        fh, fl, sh, sl, oh, ol, ph, pl = (p.fdet1, p.fdet1_lo, p.sdet1, p.sdet1_lo, p.odet1, p.odet1_lo,
                                          p.pix01, p.pix01_lo)
    elif axis == 2:
        fh, fl, sh, sl, oh, ol, ph, pl = (p.fdet2, p.fdet2_lo, p.sdet2, p.sdet2_lo, p.odet2, p.odet2_lo,
                                          p.pix02, p.pix02_lo)
    else:
        fh, fl, sh, sl, oh, ol, ph, pl = (p.fdet3, p.fdet3_lo, p.sdet3, p.sdet3_lo, p.odet3, p.odet3_lo,
                                          p.pix03, p.pix03_lo)
    xh, xl = ff_mul(Fh, Fl, fh, fl)
    yh, yl = ff_mul(Sh, Sl, sh, sl)
    xh, xl = ff_add(xh, xl, yh, yl)
    yh, yl = ff_mul(Oh, Ol, oh, ol)
    xh, xl = ff_add(xh, xl, yh, yl)
    return ff_add(xh, xl, ph, pl)


@register_jitable
def fine_direction(p, spixel, fpixel, subS, subF, thick_tic, d1, d2, d3):
    """The subpixel's diffracted direction pixel_pos/|pixel_pos| in float-float, as
    (d1, d2, d3, d1_lo, d2_lo, d3_lo): physics.subpixel_position's Fdet, Sdet, Odet and
    pixel_pos from the float-float geometry (on a curved detector: d, with no low parts)."""
    if p.curved_detector:
        return d1, d2, d3, 0.0 * d1, 0.0 * d2, 0.0 * d3
    half_h, half_l = p.subpixel_size * 0.5, p.subpixel_size_lo * 0.5
    Fh, Fl = ff_mul_f(p.subpixel_size, p.subpixel_size_lo, float(fpixel * p.oversample + subF))
    Fh, Fl = ff_add(Fh, Fl, half_h, half_l)
    Sh, Sl = ff_mul_f(p.subpixel_size, p.subpixel_size_lo, float(spixel * p.oversample + subS))
    Sh, Sl = ff_add(Sh, Sl, half_h, half_l)
    Oh, Ol = ff_mul_f(p.detector_thickstep, p.detector_thickstep_lo, float(thick_tic))
    x1, y1 = _ff_position(p, Fh, Fl, Sh, Sl, Oh, Ol, 1)
    x2, y2 = _ff_position(p, Fh, Fl, Sh, Sl, Oh, Ol, 2)
    x3, y3 = _ff_position(p, Fh, Fl, Sh, Sl, Oh, Ol, 3)
    rh, rl = ff_mul(x1, y1, x1, y1)
    th, tl = ff_mul(x2, y2, x2, y2)
    rh, rl = ff_add(rh, rl, th, tl)
    th, tl = ff_mul(x3, y3, x3, y3)
    rh, rl = ff_add(rh, rl, th, tl)
    rh, rl = ff_sqrt(rh, rl)
    x1, y1 = ff_div(x1, y1, rh, rl)
    x2, y2 = ff_div(x2, y2, rh, rl)
    x3, y3 = ff_div(x3, y3, rh, rl)
    return x1, x2, x3, y1, y2, y3


@register_jitable
def fine_scattering(fine_d, src, source):
    """The scattering vector (d - i)/lambda in float-float, as (s1, s2, s3, s1_lo, s2_lo,
    s3_lo), from fine_direction's d and the source's float-float direction and wavelength
    (src columns 0-4 and their low parts 5-9; i = -src[source, 0:3])."""
    d1, d2, d3, e1, e2, e3 = fine_d
    lh, ll = src[source, 4], src[source, 9]
    xh, xl = ff_add(d1, e1, src[source, 0], src[source, 5])
    x1, y1 = ff_div(xh, xl, lh, ll)
    xh, xl = ff_add(d2, e2, src[source, 1], src[source, 6])
    x2, y2 = ff_div(xh, xl, lh, ll)
    xh, xl = ff_add(d3, e3, src[source, 2], src[source, 7])
    x3, y3 = ff_div(xh, xl, lh, ll)
    return x1, x2, x3, y1, y2, y3


@register_jitable
def _ff_index(lattice, lo, base, fine_s):
    """a.s in float-float for the cell axis a at lattice[base:base + 3] (low parts at lo + base)
    and fine_scattering's s: products by two_prod, sums by two_sum, the rounding errors and
    the low parts' products added to the low part."""
    s1, s2, s3, t1, t2, t3 = fine_s
    a1, a2, a3 = lattice[base], lattice[base + 1], lattice[base + 2]
    p1, e1 = two_prod(a1, s1)
    p2, e2 = two_prod(a2, s2)
    p3, e3 = two_prod(a3, s3)
    x, f = two_sum(p1, p2)
    x, g = two_sum(x, p3)
    low = ((e1 + e2) + (e3 + f)) + g + (a1 * t1 + a2 * t2 + a3 * t3) + (
        lattice[lo + base] * s1 + lattice[lo + base + 1] * s2 + lattice[lo + base + 2] * s3)
    return fast_two_sum(x, low)


@register_jitable
def _nearest(x, y):
    """The C's ceil(h - 0.5) of the float-float h = x + y, and h minus it as one float."""
    t = x - 0.5
    n = float(math.ceil(t))
    if n == t and y > 0.0:
        n += 1.0
    return int(n), (x - n) + y


@register_jitable
def miller_indices(lattice, base, s1, s2, s3, fine_s):
    """physics.miller_indices from fine_scattering's float-float s: h, k, l (float32), h0, k0, l0
    and the offsets h - h0, ... to ~1e-7 (the lattice table's low parts are its second half)."""
    lo = lattice.size // 2
    h, x = _ff_index(lattice, lo, base, fine_s)
    k, y = _ff_index(lattice, lo, base + 3, fine_s)
    l, z = _ff_index(lattice, lo, base + 6, fine_s)
    h0, dh = _nearest(h, x)
    k0, dk = _nearest(k, y)
    l0, dl = _nearest(l, z)
    return h, k, l, h0, k0, l0, dh, dk, dl


single = retype_functions(np.float32, (vectors, physics, floatfloat, sys.modules[__name__]))
