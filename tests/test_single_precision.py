"""-precision single (the float32 physics of kernels/physics32.py) on the CPU, against the serial
C's double-precision images: every golden case and a B3 window holding its brightest pixels
correlate >= 0.999999 with the C's, and no pixel above 1e-3 of the maximum is off by more than
1e-3 of its value (tools/parity.single_precision_errors).  Then the pieces that make it so:
the exact argument reduction of the lattice factor, the float-float arithmetic, sinc3 near 0.
(The CUDA single kernel against this CPU build: tests/test_cuda_sim.py.)"""
import gzip
import math
import shlex
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import golden
from nbnumba.kernels.physics32 import single
from nbnumba.simulation import Simulation
from nbnumba.tools.parity import SINGLE_CORRELATION, SINGLE_RELATIVE, single_precision_errors

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "benchmarks" / "cases"
B3_ROI = (1225, 1352, 1353, 1480)       # xmin xmax ymin ymax: tests/data/single/README.md


def render_single(args, folder, monkeypatch):
    """The float image of `args` rendered in single precision on the CPU, in `folder`."""
    monkeypatch.chdir(folder)
    sim = Simulation.from_args(list(args) + ["-device", "cpu", "-precision", "single"], out=lambda text: None,
                               warn=lambda text: None, read_fdump=True)
    result = sim.run()
    assert sim.rendering.render.precision == "single"
    return result.image


def assert_accurate(got, ref):
    correlation, relative = single_precision_errors(got, ref)
    assert correlation >= SINGLE_CORRELATION and relative <= SINGLE_RELATIVE, (correlation, relative)


@pytest.mark.parametrize("name", [c["name"] for c in golden.cases() if c["exit_code"] == 0])
def test_golden_case(name, tmp_path, monkeypatch):
    case = next(c for c in golden.cases() if c["name"] == name)
    for f in case["inputs"]:
        shutil.copy(golden.INPUTS / f, tmp_path / f)
    image = render_single(shlex.split(case["args"]), tmp_path, monkeypatch)
    assert_accurate(image, golden.float_image(golden.reference_file(name, golden.manifest(name)["float_file"])))


def test_b3_window_of_its_brightest_pixels(tmp_path, monkeypatch):
    """B3 (Pilatus 6M, N = 36 x 47 x 29: sincg arguments of 10^3-10^5 radians) in a window of its
    brightest pixels: the float32 kernel without the argument reduction was off by up to 29%."""
    for f in ("bench.hkl", "bench.mat"):
        shutil.copy(CASES / f, tmp_path / f)
    x0, x1, y0, y1 = B3_ROI
    args = shlex.split((CASES / "b3.args").read_text()) + ["-roi", *map(str, B3_ROI)]
    image = render_single(args, tmp_path, monkeypatch).reshape(2527, 2463)
    ref = np.frombuffer(gzip.decompress((ROOT / "tests" / "data" / "single" / "b3_roi.floatimage.bin.gz")
                                        .read_bytes()), dtype="<f4").reshape(y1 - y0 + 1, x1 - x0 + 1)
    assert not image[:y0].any() and not image[y1 + 1:].any()
    window = image[y0:y1 + 1, x0:x1 + 1]
    assert ref.max() == ref[1417 - y0, 1289 - x0] and (ref > 1e-3 * ref.max()).sum() == 21
    assert_accurate(window, ref)


# ---- the pieces, compiled in float32 as the kernels compile them ----

grating32 = single.grating
sincg32 = single.sincg
sinc3_32 = single.sinc3


@njit
def _grating(h, N):
    h0 = int(math.ceil(h - np.float32(0.5)))
    return grating32(h, h0, h - np.float32(h0), N), sincg32(np.float32(math.pi) * h, N)


def test_grating_reduces_the_argument_exactly():
    """For h far from 0 (10^2-10^4: sincg arguments to 10^5 radians) the reduced grating matches
    sin(N*pi*h)/sin(pi*h) at that float32 h (computed in double from the exact offset d = h - n:
    (-1)^(n*(N-1)) sin(N*pi*d)/sin(pi*d), or +-N at d = 0) to float32's precision; the C's
    formula evaluated in float32 is off by far more (the reason for the reduction)."""
    worst_reduced = worst_naive = 0.0
    for N in (5, 36, 47, 29):
        for h in np.float32([123.3, 1234.05, 4567.49, 9999.99, -876.125, 10000.5, 2048.0]):
            reduced, naive = _grating(h, np.float32(N))
            n = math.floor(float(h) + 0.5)
            d = float(h) - n
            exact = (-1) ** (n * (N - 1)) * (N if d == 0 else math.sin(N * math.pi * d) / math.sin(math.pi * d))
            worst_reduced = max(worst_reduced, abs(reduced - exact) / N)
            worst_naive = max(worst_naive, abs(naive - exact) / N)
    assert worst_reduced < 2e-6 and worst_naive > 1e-2


@njit
def _sinc3(x):
    return sinc3_32(x)


def test_sinc3_near_zero():
    """The round crystal's sinc3 at small arguments: the C's formula in float32 loses its bits to
    cancellation (3*(sin(x)/x - cos(x))/x^2 with both terms near 1); the series does not."""
    for x in (1e-4, 1e-3, 0.01, 0.1, 0.5, 0.999, 1.0, 2.0, 4.0):
        exact = 3.0 * (math.sin(x) / x - math.cos(x)) / (x * x)
        assert abs(_sinc3(np.float32(x)) - exact) <= 2e-6 * abs(exact), x
    naive = 3.0 * (np.sin(np.float32(0.01)) / np.float32(0.01) - np.cos(np.float32(0.01))) / np.float32(1e-4)
    assert abs(naive - (1.0 - 1e-5)) > 1e-4       # 50 times the series' bound


ff_add, ff_mul, ff_div, ff_sqrt = single.ff_add, single.ff_mul, single.ff_div, single.ff_sqrt


@njit
def _ff(op, ah, al, bh, bl):
    if op == 0:
        return ff_add(ah, al, bh, bl)
    if op == 1:
        return ff_mul(ah, al, bh, bl)
    if op == 2:
        return ff_div(ah, al, bh, bl)
    return ff_sqrt(ah, al)


def test_float_float_arithmetic():
    """float32 hi + lo pairs: sums, products, quotients and square roots to 2^-44 relative."""
    rng = np.random.default_rng(7)

    def pair(x):
        hi = np.float32(x)
        return hi, np.float32(x - float(hi))

    def value(hi, lo):
        return Fraction(float(hi)) + Fraction(float(lo))

    for _ in range(300):
        a, b = rng.uniform(0.1, 10.0, 2) * rng.choice([-1.0, 1.0], 2)
        (ah, al), (bh, bl) = pair(a), pair(b)
        fa, fb = value(ah, al), value(bh, bl)
        for op, exact in ((0, fa + fb), (1, fa * fb), (2, fa / fb)):
            assert abs(value(*_ff(op, ah, al, bh, bl)) - exact) <= abs(exact) / 2 ** 44, (op, a, b)
        ch, cl = pair(abs(a))
        root = Fraction(math.sqrt(float(value(ch, cl))))        # (to float64's 2^-53)
        assert abs(value(*_ff(3, ch, cl, ch, cl)) - root) <= root / 2 ** 44, a
