"""nbnumba.cfuncs.rng against values printed by the reference nanoBragg.c RNG functions.

tests/data/crandom_reference.json holds the output of a scratch C harness that
compiled the reference functions (gcc -O3) and ran each scenario in a fresh
process, so every scenario here starts from ``new_state()``.  Floats were
printed with %.9g (round-trips float32), doubles with %.17g; comparisons are
exact.
"""
import json
import pathlib

import numba
import numpy as np
import pytest

from nbnumba.cfuncs import rng as cr

REF = json.loads((pathlib.Path(__file__).parent / "data" / "crandom_reference.json").read_text())


def seed(value):
    return np.array([value], dtype=np.int64)


def assert_f32_exact(got, want):
    """got must equal the C's float values bit-for-bit (and be float32-representable)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float32).astype(np.float64)
    np.testing.assert_array_equal(got, want)


def assert_f64_exact(got, want):
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64))


def test_new_state_layout():
    st, fst = cr.new_state()
    assert st.dtype == np.int64 and st.shape == (40,) and not st.any()
    assert fst.dtype == np.float32 and fst.shape == (8,)
    assert fst[cr.FST_OLDM] == -1.0 and fst.sum() == -1.0


def test_ran1_sequences_and_shared_table():
    ref = REF["ran1"]
    st, _ = cr.new_state()
    idum = seed(-12345678)
    assert_f32_exact([cr.ran1(idum, st) for _ in range(2000)], ref["a"])
    assert idum[0] == ref["idum_a"]
    idum[0] = -5
    assert_f32_exact([cr.ran1(idum, st) for _ in range(500)], ref["b"])
    assert idum[0] == ref["idum_b"]
    # a positive seed skips initialisation and draws from the shuffle table of seed -5
    idum2 = seed(12345)
    pairs = [(cr.ran1(idum, st), cr.ran1(idum2, st)) for _ in range(300)]
    assert_f32_exact([p[0] for p in pairs], ref["c1"])
    assert_f32_exact([p[1] for p in pairs], ref["c2"])
    assert (idum[0], idum2[0]) == (ref["idum_c1"], ref["idum_c2"])


def test_ran1_positive_first_seed_becomes_one():
    ref = REF["ran1_pos"]
    st, _ = cr.new_state()
    idum = seed(7)
    assert_f32_exact([cr.ran1(idum, st) for _ in range(100)], ref["a"])
    idum[0] = 0
    assert_f32_exact([cr.ran1(idum, st) for _ in range(100)], ref["b"])
    assert ref["a"] == ref["b"] and idum[0] == ref["idum"]


def test_gaussdev_spare_deviate_survives_reseed():
    ref = REF["gauss"]
    st, fst = cr.new_state()
    idum = seed(-1)
    assert_f32_exact([cr.gaussdev(idum, st, fst) for _ in range(1001)], ref["a"])
    idum[0] = -99
    assert_f32_exact([cr.gaussdev(idum, st, fst) for _ in range(500)], ref["b"])
    assert idum[0] == ref["idum"]


def test_gammln():
    ref = REF["gammln"]
    assert_f32_exact([cr.gammln(np.float32(x)) for x in ref["xx"]], ref["v"])


def test_poidev_all_regimes_with_oldm_cache():
    ref = REF["poidev"]
    st, fst = cr.new_state()
    idum = seed(-5)
    got = [cr.poidev(np.float32(xm), idum, st, fst) for xm in ref["xm"]]
    assert_f32_exact(got, ref["v"])
    assert idum[0] == ref["idum"]


@numba.njit
def _poidev_loop(xms, idum, st, fst):
    out = np.empty(xms.size, dtype=np.float32)
    for i in range(xms.size):
        out[i] = cr.poidev(xms[i], idum, st, fst)
    return out


def test_poidev_from_nopython_caller():
    ref = REF["poidev"]
    st, fst = cr.new_state()
    idum = seed(-5)
    assert_f32_exact(_poidev_loop(np.array(ref["xm"], dtype=np.float32), idum, st, fst), ref["v"])


def test_single_precision_return_types():
    st, fst = cr.new_state()
    idum = seed(-3)
    cr.ran1(idum, st)
    cr.gaussdev(idum, st, fst)
    cr.poidev(np.float32(3.0), idum, st, fst)
    cr.gammln(np.float32(3.0))
    cr.uniform3Ddev(idum, st)
    for fn in (cr.ran1, cr.gaussdev, cr.poidev, cr.gammln):
        assert all(sig.return_type == numba.float32 for sig in fn.nopython_signatures), fn
    (sig,) = cr.uniform3Ddev.nopython_signatures
    assert sig.return_type == numba.types.UniTuple(numba.float32, 4)


def test_uniform3Ddev():
    ref = REF["uniform"]
    st, _ = cr.new_state()
    idum = seed(-31)
    got = np.array([cr.uniform3Ddev(idum, st) for _ in range(300)])
    for col, key in enumerate(("dr", "dx", "dy", "dz")):
        assert_f32_exact(got[:, col], ref[key])
    assert idum[0] == ref["idum"]


def test_mosaic_rotation_umat_half_degree():
    ref = REF["mosaic"]
    mosaicity = np.float32(0.5 / (180.0 / np.pi))
    assert_f32_exact(mosaicity, ref["mosaicity"])
    st, _ = cr.new_state()
    idum = seed(-4242)
    umats, missets = [], []
    for _ in range(12):
        umat = cr.mosaic_rotation_umat(mosaicity, idum, st)
        umats.extend(umat)
        missets.extend(cr.umat2misset(umat))
    assert_f64_exact(umats, ref["umat"])
    assert_f64_exact(missets, ref["mis"])
    assert idum[0] == ref["idum"]


def test_random_misset_path():
    ref = REF["misset"]
    umats, missets = [], []
    for s in ref["seed"]:
        st, _ = cr.new_state()
        idum = seed(s)
        for _ in range(4):
            umat = cr.mosaic_rotation_umat(np.float32(90.0), idum, st)
            umats.extend(umat)
            missets.extend(cr.umat2misset(umat))
    assert_f64_exact(umats, ref["umat"])
    assert_f64_exact(missets, ref["mis"])


def test_umat2misset_degenerate_matrices():
    ref = REF["umat2misset"]
    mats = np.array(ref["umat"], dtype=np.float64).reshape(-1, 9)
    got = [v for m in mats for v in cr.umat2misset(m)]
    assert_f64_exact(got, ref["mis"])


@pytest.mark.parametrize("case, shape, roi, start", [
    ("noise_small", (7, 5), (1, 3, 1, 5), -5),
    ("noise_full", (12, 16), (0, 15, 0, 11), -12345678),
])
def test_noise_image(case, shape, roi, start):
    ref = REF[case]
    spixels, fpixels = shape
    xmin, xmax, ymin, ymax = roi
    floatimage = np.array(ref["img"], dtype=np.float32)
    sentinel = 7
    intimage = np.full(floatimage.size, sentinel, dtype=np.uint16)
    st, fst = cr.new_state()
    idum = seed(start)
    total, overloads = cr.noise_image(floatimage, fpixels, xmin, xmax, ymin, ymax, 40.0, intimage, idum, st, fst)
    f, s = np.meshgrid(np.arange(fpixels), np.arange(spixels))
    inside = ((f >= xmin) & (f <= xmax) & (s >= ymin) & (s <= ymax)).ravel()
    expected = np.where(inside, np.array(ref["int"]), sentinel)
    np.testing.assert_array_equal(intimage, expected)
    assert total == ref["sum"]
    assert overloads == ref["overloads"]
    assert idum[0] == ref["seed_out"]


def test_states_are_independent():
    ref = REF["ran1"]["a"]
    st_a, _ = cr.new_state()
    st_b, fst_b = cr.new_state()
    idum_a, idum_b = seed(-12345678), seed(-9)
    got = []
    for _ in range(200):
        got.append(cr.ran1(idum_a, st_a))
        cr.gaussdev(idum_b, st_b, fst_b)
    assert_f32_exact(got, ref[:200])
