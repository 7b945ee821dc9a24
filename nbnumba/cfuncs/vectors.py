"""nanoBragg.c's vector helpers (lines ~3311-3410 and ~3972-4050), written once.

The `*3` functions take and return plain (x, y, z) scalars: the render kernels use them
so the hot loop creates no arrays.  The C-style functions below them work on 4-element
float64 arrays [magnitude, x, y, z] for the set-up stages and call the same `*3` math.
All are ``register_jitable``: plain Python, and compiled into the CPU and CUDA kernels.
"""
import math

from numba.extending import register_jitable


@register_jitable
def c_sin(x):
    """glibc sin(): -nan for +-inf, where Python's math.sin (the set-up stages run these
    functions as plain Python) raises; a NaN passes through."""
    return math.sin(x) if not math.isinf(x) else x - x


@register_jitable
def c_cos(x):
    """glibc cos(): -nan for +-inf (see c_sin)."""
    return math.cos(x) if not math.isinf(x) else x - x


@register_jitable
def unit3(x, y, z):
    """unitize(): (|v|, v/|v|), or (0, 0, 0, 0) for a zero vector."""
    mag = math.sqrt(x * x + y * y + z * z)
    if mag != 0.0:
        return mag, x / mag, y / mag, z / mag
    return mag, 0.0, 0.0, 0.0


@register_jitable
def cross3(x1, x2, x3, y1, y2, y3):
    """cross_product()"""
    return x2 * y3 - x3 * y2, x3 * y1 - x1 * y3, x1 * y2 - x2 * y1


@register_jitable
def rotate_axis3(v1, v2, v3, a1, a2, a3, phi):
    """rotate_axis(): Rodrigues rotation of v about the unit vector a by phi."""
    sinphi = c_sin(phi)
    cosphi = c_cos(phi)
    dot = (a1 * v1 + a2 * v2 + a3 * v3) * (1.0 - cosphi)
    return (a1 * dot + v1 * cosphi + (-a3 * v2 + a2 * v3) * sinphi,
            a2 * dot + v2 * cosphi + (+a3 * v1 - a1 * v3) * sinphi,
            a3 * dot + v3 * cosphi + (-a2 * v1 + a1 * v2) * sinphi)


@register_jitable
def rotate_umat3(x, y, z, umat, base):
    """rotate_umat(): U v with U = umat[base:base+9] row-major."""
    return (umat[base + 0] * x + umat[base + 1] * y + umat[base + 2] * z,
            umat[base + 3] * x + umat[base + 4] * y + umat[base + 5] * z,
            umat[base + 6] * x + umat[base + 7] * y + umat[base + 8] * z)


# ---- the C's 4-array forms, for the set-up stages ----

@register_jitable
def magnitude(v):
    """magnitude(): store and return |v|."""
    v[0] = math.sqrt(v[1] * v[1] + v[2] * v[2] + v[3] * v[3])
    return v[0]


@register_jitable
def unitize(v, out):
    """unitize(): out = v/|v| (all zero if |v| == 0); returns |v|.  v and out may alias."""
    mag, x, y, z = unit3(v[1], v[2], v[3])
    v[0] = mag
    if mag == 0.0:
        out[0] = 0.0
    out[1] = x
    out[2] = y
    out[3] = z
    return mag


@register_jitable
def vector_scale(v, out, scale):
    """vector_scale(): out = scale*v; returns |out|."""
    out[1] = scale * v[1]
    out[2] = scale * v[2]
    out[3] = scale * v[3]
    return magnitude(out)


@register_jitable
def vector_rescale(v, out, new_magnitude):
    """vector_rescale(): out = v scaled to new_magnitude; returns |out|."""
    oldmag = magnitude(v)
    if oldmag <= 0.0:
        oldmag = 1.0
    out[1] = new_magnitude / oldmag * v[1]
    out[2] = new_magnitude / oldmag * v[2]
    out[3] = new_magnitude / oldmag * v[3]
    return magnitude(out)


@register_jitable
def cross_product(x, y, z):
    """cross_product(): z = x cross y, z[0] = 0."""
    z[1], z[2], z[3] = cross3(x[1], x[2], x[3], y[1], y[2], y[3])
    z[0] = 0.0


@register_jitable
def dot_product(x, y):
    """dot_product()"""
    return x[1] * y[1] + x[2] * y[2] + x[3] * y[3]


@register_jitable
def rotate(v, newv, phix, phiy, phiz):
    """rotate(): about x, then y, then z; an angle of exactly 0 skips its rotation."""
    new_x = v[1]
    new_y = v[2]
    new_z = v[3]
    if phix != 0:
        ryy = c_cos(phix)
        ryz = -c_sin(phix)
        rzy = c_sin(phix)
        rzz = c_cos(phix)
        rotated_y = new_y * ryy + new_z * ryz
        rotated_z = new_y * rzy + new_z * rzz
        new_y = rotated_y
        new_z = rotated_z
    if phiy != 0:
        rxx = c_cos(phiy)
        rxz = c_sin(phiy)
        rzx = -c_sin(phiy)
        rzz = c_cos(phiy)
        rotated_x = new_x * rxx + new_y * 0.0 + new_z * rxz
        rotated_z = new_x * rzx + new_y * 0.0 + new_z * rzz
        new_x = rotated_x
        new_z = rotated_z
    if phiz != 0:
        rxx = c_cos(phiz)
        rxy = -c_sin(phiz)
        ryx = c_sin(phiz)
        ryy = c_cos(phiz)
        rotated_x = new_x * rxx + new_y * rxy
        rotated_y = new_x * ryx + new_y * ryy
        new_x = rotated_x
        new_y = rotated_y
    newv[1] = new_x
    newv[2] = new_y
    newv[3] = new_z


@register_jitable
def rotate_axis(v, newv, axis, phi):
    """rotate_axis() on 4-arrays."""
    newv[1], newv[2], newv[3] = rotate_axis3(v[1], v[2], v[3], axis[1], axis[2], axis[3], phi)


@register_jitable
def rotate_umat(v, newv, umat, base):
    """rotate_umat() on 4-arrays."""
    newv[1], newv[2], newv[3] = rotate_umat3(v[1], v[2], v[3], umat, base)
