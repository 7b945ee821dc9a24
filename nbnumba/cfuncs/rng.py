"""Random-number functions of nanoBragg.c, ported bit-for-bit.

Mirrors ``ran1``, ``gaussdev``, ``poidev``, ``gammln``, ``uniform3Ddev``,
``mosaic_rotation_umat`` and ``umat2misset`` plus the Poisson-noise loop at the
end of ``main()``.  The C computes in single precision wherever it declares
``float``; here every such intermediate is ``np.float32``, every ``double`` is
``np.float64``, and the C's implicit promotions (``float*double -> double``,
then stored to ``float``) are spelled out as casts.  Libm calls take float64
arguments as in the C (``sqrt(xm)`` is the double ``sqrt`` of a float), except
``powf`` which is the single-precision ``**``.

The C keeps its generator state in ``static`` variables; here it is an explicit
``RNGState`` tuple ``(st, fst)`` from :func:`new_state`, so that independent
runs in one process do not disturb each other.  As in the C, the ``ran1``
shuffle table is shared by every seed that uses the same state.  Seeds are
1-element int64 arrays, updated in place like the C's ``long *idum``.

Called from plain Python, functions declared to return ``np.float32`` come back
as Python floats holding exactly the float32 value.
"""
import math

import numba
import numpy as np

from nbnumba.numba_internals import physics_keyed   # (importing it guards Numba's cache before the @njit below)
from nbnumba.cfuncs.vectors import cross3, unit3

# ran1 constants (Numerical Recipes "minimal standard" with Bays-Durham shuffle)
IA = 16807
IM = 2147483647
AM = 1.0 / IM
IQ = 127773
IR = 2836
NTAB = 32
NDIV = 1 + (IM - 1) // NTAB
EPS = 1.2e-7
RNMX = 1.0 - EPS

# layout of the RNGState arrays
ST_IY = 0        # st[0]: ran1 static long iy
ST_IV = 1        # st[1:33]: ran1 static long iv[NTAB]
ST_ISET = 33     # st[33]: gaussdev static int iset
ST_LEN = 40
FST_GSET = 0     # fst[0]: gaussdev static float gset
FST_SQ = 1       # fst[1..4]: poidev static float sq, alxm, g, oldm
FST_ALXM = 2
FST_G = 3
FST_OLDM = 4
FST_LEN = 8

GAMMLN_COF = np.array([76.18009172947146, -86.50532032941677,
                       24.01409824083091, -1.231739572450155,
                       0.1208650973866179e-2, -0.5395239384953e-5])


@numba.njit(cache=True, error_model="numpy")
def new_state():
    """Fresh RNGState ``(st, fst)``: the C statics at program start."""
    st = np.zeros(ST_LEN, dtype=np.int64)
    fst = np.zeros(FST_LEN, dtype=np.float32)
    fst[FST_OLDM] = np.float32(-1.0)
    return st, fst


@numba.njit(cache=True, error_model="numpy")
def ran1(idum, st):
    """C ``float ran1(long *idum)``: uniform deviate on (0, 1)."""
    if idum[0] <= 0 or st[ST_IY] == 0:
        # first time around: a non-negative seed becomes 1, a negative one is negated
        if -idum[0] < 1:
            idum[0] = 1
        else:
            idum[0] = -idum[0]
        # load the shuffle table (idum > 0 here, so // matches C's truncating /)
        for j in range(NTAB + 7, -1, -1):
            k = idum[0] // IQ
            idum[0] = IA * (idum[0] - k * IQ) - IR * k
            if idum[0] < 0:
                idum[0] += IM
            if j < NTAB:
                st[ST_IV + j] = idum[0]
        st[ST_IY] = st[ST_IV]
    k = idum[0] // IQ
    idum[0] = IA * (idum[0] - k * IQ) - IR * k
    if idum[0] < 0:
        idum[0] += IM
    j = st[ST_IY] // NDIV
    st[ST_IY] = st[ST_IV + j]
    st[ST_IV + j] = idum[0]
    temp = np.float32(AM * np.float64(st[ST_IY]))
    if np.float64(temp) > RNMX:
        return np.float32(RNMX)
    return temp


@numba.njit(cache=True, error_model="numpy")
def gaussdev(idum, st, fst):
    """C ``float gaussdev(long *idum)``: unit-rms Gaussian deviate (Box-Muller pairs)."""
    if st[ST_ISET] == 0:
        while True:
            v1 = np.float32(2.0 * np.float64(ran1(idum, st)) - 1.0)
            v2 = np.float32(2.0 * np.float64(ran1(idum, st)) - 1.0)
            rsq = v1 * v1 + v2 * v2
            if not (rsq >= 1.0 or rsq == 0):
                break
        fac = np.float32(math.sqrt(-2.0 * math.log(np.float64(rsq)) / np.float64(rsq)))
        fst[FST_GSET] = v1 * fac
        st[ST_ISET] = 1
        return v2 * fac
    st[ST_ISET] = 0
    return fst[FST_GSET]


@numba.njit(cache=True, error_model="numpy")
def gammln(xx):
    """C ``float gammln(float xx)``: ln Gamma(xx), computed in double, returned as float."""
    x = np.float64(xx)
    y = x
    tmp = x + 5.5
    tmp -= (x + 0.5) * math.log(tmp)
    ser = 1.000000000190015
    for j in range(6):
        y += 1.0
        ser += GAMMLN_COF[j] / y
    return np.float32(-tmp + math.log(2.5066282746310005 * ser / x))


@numba.njit(cache=True, error_model="numpy")
def poidev(xm, idum, st, fst):
    """C ``float poidev(float xm, long *idum)``: Poisson deviate with mean xm."""
    xmf = np.float32(xm)
    if xmf > 1.0e6:
        return np.float32(np.float64(xmf)
                          + math.sqrt(np.float64(xmf)) * np.float64(gaussdev(idum, st, fst)))
    if xmf < 12.0:
        return poidev_direct(xmf, idum, st, fst)
    return poidev_rejection(xmf, idum, st, fst)


@numba.njit(cache=True, error_model="numpy")
def poidev_direct(xmf, idum, st, fst):
    """poidev's branch for xm < 12: multiply uniform deviates until below exp(-xm)."""
    if xmf != fst[FST_OLDM]:
        fst[FST_OLDM] = xmf
        fst[FST_G] = np.float32(math.exp(-np.float64(xmf)))
    g = fst[FST_G]
    em = np.float32(-1.0)
    t = np.float32(1.0)
    while True:
        em += np.float32(1.0)
        t *= ran1(idum, st)
        if not (t > g):
            break
    return em


@numba.njit(cache=True, error_model="numpy")
def poidev_rejection(xmf, idum, st, fst):
    """poidev's branch for 12 <= xm <= 1e6: rejection with a Lorentzian comparison function."""
    if xmf != fst[FST_OLDM]:
        fst[FST_OLDM] = xmf
        fst[FST_SQ] = np.float32(math.sqrt(2.0 * np.float64(xmf)))
        fst[FST_ALXM] = np.float32(math.log(np.float64(xmf)))
        fst[FST_G] = xmf * fst[FST_ALXM] - gammln(np.float32(np.float64(xmf) + 1.0))
    sq = fst[FST_SQ]
    alxm = fst[FST_ALXM]
    g = fst[FST_G]
    while True:
        while True:
            y = np.float32(math.tan(math.pi * np.float64(ran1(idum, st))))
            em = sq * y + xmf
            if not (em < 0.0):
                break
        em = np.float32(np.floor(np.float64(em)))
        t = np.float32(0.9 * (1.0 + np.float64(y * y))
                       * math.exp(np.float64(em * alxm - gammln(np.float32(np.float64(em) + 1.0)) - g)))
        if not (ran1(idum, st) > t):
            break
    return em


@numba.njit(cache=True, error_model="numpy")
def uniform3Ddev(idum, st):
    """C ``float uniform3Ddev(float *dx, float *dy, float *dz, long *idum)``.

    Returns ``(dr, dx, dy, dz)``: a random unit vector and the radius (within
    [0.01, 1]) of the point in the unit sphere it was cut from.
    """
    dr = np.float32(0.0)
    dx = np.float32(0.0)
    dy = np.float32(0.0)
    dz = np.float32(0.0)
    while dr > 1 or dr < 1e-2:
        dx = np.float32(2.1 * (np.float64(ran1(idum, st)) - 0.5))
        dy = np.float32(2.1 * (np.float64(ran1(idum, st)) - 0.5))
        dz = np.float32(2.1 * (np.float64(ran1(idum, st)) - 0.5))
        dr = np.float32(math.sqrt(np.float64(dx * dx + dy * dy + dz * dz)))
    return dr, dx / dr, dy / dr, dz / dr


@numba.njit(cache=True, error_model="numpy")
def mosaic_rotation_umat(mosaicity, idum, st):
    """C ``double *mosaic_rotation_umat(float mosaicity, double umat[9], long *idum)``.

    Random rotation on a spherical cap of diameter ``mosaicity`` (radians,
    float; 90.0 gives a full sphere).  Returns umat[0..8], row-major.
    """
    mos = np.float32(mosaicity)
    r1 = 2.0 * np.float64(ran1(idum, st)) - 1.0
    r2 = 2.0 * np.float64(ran1(idum, st)) - 1.0
    r3 = 2.0 * np.float64(ran1(idum, st)) - 1.0

    xyrad = math.sqrt(1.0 - r2 * r2)
    # float * powf(float, float), stored to double
    rot = np.float64(mos * (np.float32(1.0 - r3 * r3) ** np.float32(1.0 / 3.0)))

    v1 = xyrad * math.sin(math.pi * r1)
    v2 = xyrad * math.cos(math.pi * r1)
    v3 = r2

    t1 = math.cos(rot)
    t2 = 1.0 - t1
    t3 = v1 * v1
    t6 = t2 * v1
    t7 = t6 * v2
    t8 = math.sin(rot)
    t9 = t8 * v3
    t11 = t6 * v3
    t12 = t8 * v2
    t15 = v2 * v2
    t19 = t2 * v2 * v3
    t20 = t8 * v1
    t24 = v3 * v3

    umat = np.empty(9, dtype=np.float64)
    umat[0] = t1 + t2 * t3
    umat[1] = t7 - t9
    umat[2] = t11 + t12
    umat[3] = t7 + t9
    umat[4] = t1 + t2 * t15
    umat[5] = t19 - t20
    umat[6] = t11 - t12
    umat[7] = t19 + t20
    umat[8] = t1 + t2 * t24
    return umat


@numba.njit(cache=True, error_model="numpy")
@physics_keyed      # it compiles in cfuncs/vectors.py
def umat2misset(umat):
    """C ``double *umat2misset(double umat[9], double *missets)``.

    Returns ``(rotx, roty, rotz)`` in radians (the C's missets[1..3]).
    """
    uxx = umat[0]
    uxy = umat[1]
    uxz = umat[2]
    uyx = umat[3]
    uyy = umat[4]
    uyz = umat[5]
    uzx = umat[6]
    uzy = umat[7]
    uzz = umat[8]

    # make sure it is unitary (rows scaled only where their length is > 0)
    mx, uxx, uxy, uxz = unit3(uxx, uxy, uxz)
    my, uyx, uyy, uyz = unit3(uyx, uyy, uyz)
    mz, uzx, uzy, uzz = unit3(uzx, uzy, uzz)

    if mx >= 0 and my <= 0 and mz <= 0:
        uyx, uyy, uyz = 0.0, 1.0, 0.0
        uzx, uzy, uzz = 0.0, 0.0, 1.0
    if mx <= 0 and my >= 0 and mz <= 0:
        uxx, uxy, uxz = 1.0, 0.0, 0.0
        uzx, uzy, uzz = 0.0, 0.0, 1.0
    if mx <= 0 and my <= 0 and mz >= 0:
        uxx, uxy, uxz = 1.0, 0.0, 0.0
        uyx, uyy, uyz = 0.0, 1.0, 0.0

    # the C performs this cross-product repair twice, verbatim
    for _ in range(2):
        _, xcy_x, xcy_y, xcy_z = unit3(*cross3(uxx, uxy, uxz, uyx, uyy, uyz))
        _, ycz_x, ycz_y, ycz_z = unit3(*cross3(uyx, uyy, uyz, uzx, uzy, uzz))
        _, zcx_x, zcx_y, zcx_z = unit3(*cross3(uzx, uzy, uzz, uxx, uxy, uxz))
        # substitute any empty vectors for cross-product of other two
        if mx <= 0:
            uxx, uxy, uxz = ycz_x, ycz_y, ycz_z
        if my <= 0:
            uyx, uyy, uyz = zcx_x, zcx_y, zcx_z
        if mz <= 0:
            uzx, uzy, uzz = xcy_x, xcy_y, xcy_z

    # make sure it is unitary
    mx, uxx, uxy, uxz = unit3(uxx, uxy, uxz)
    my, uyx, uyy, uyz = unit3(uyx, uyy, uyz)
    mz, uzx, uzy, uzz = unit3(uzx, uzy, uzz)

    if uzx * uzx < 1.0:
        rotx = math.atan2(uzy, uzz)
        roty = math.atan2(-uzx, math.sqrt(uzy * uzy + uzz * uzz))
        rotz = math.atan2(uyx, uxx)
    else:
        rotx = math.atan2(1.0, 1.0) * 4
        roty = math.atan2(1.0, 1.0) * 2
        rotz = math.atan2(uxy, -uyy)
    return rotx, roty, rotz


@numba.njit(cache=True, error_model="numpy")
def noise_image(floatimage, fpixels, x0, x1, y0, y1, adc_offset, intimage, idum, st, fst):
    """Poisson-noise loop at the end of C ``main()``.

    Fills the flat uint16 ``intimage`` over the ROI box (columns x0..x1 of rows y0..y1, in
    raster order; pixels outside are untouched) and returns ``(sum, overloads)``.  The store
    is C's ``(unsigned short) test``: truncation toward zero, low 16 bits.
    """
    total = 0.0
    overloads = 0
    for spixel in range(y0, y1 + 1):
        for fpixel in range(x0, x1 + 1):
            imgidx = spixel * fpixels + fpixel
            xm = np.float32(floatimage[imgidx])
            # poidev's own xm < 12 branch, called here: LLVM then inlines it and ran1 into this
            # loop (1M pixels of mean 0.9: 18 ms, against 50 ms through poidev)
            deviate = poidev_direct(xm, idum, st, fst) if xm < 12.0 else poidev(xm, idum, st, fst)
            test = np.float64(deviate)
            total += test
            test += adc_offset
            if test > 65535.0:
                test = 65535.0
                overloads += 1
            intimage[imgidx] = np.uint16(np.int64(test) & 0xFFFF)
    return total, overloads
