"""The Python API: Simulation.from_args / from_params render the golden image in memory."""
import shlex

import numpy as np
import pytest

import golden
from nbnumba.simulation import Simulation

CASE = "cubic_defaultF"


def reference_image():
    m = golden.manifest(CASE)
    spixels, fpixels = m["shape_slow_fast"]
    return golden.float_image(golden.reference_file(CASE, m["float_file"])).reshape(spixels, fpixels)


def case_args():
    return shlex.split(next(c["args"] for c in golden.cases() if c["name"] == CASE))


def assert_bit_identical(image, ref):
    assert isinstance(image, np.ndarray)
    assert image.dtype == np.float32
    assert image.shape == ref.shape == (128, 128)
    assert np.array_equal(image.view(np.uint32), ref.view(np.uint32))


@pytest.fixture(autouse=True)
def cpu_kernel(monkeypatch):
    # bit-identity with the C is a property of the CPU kernel; -device auto picks CUDA on a GPU
    monkeypatch.setenv("NBNUMBA_DEVICE", "cpu")


def test_from_args_returns_the_golden_image_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image = Simulation.from_args(case_args()).run().image
    assert_bit_identical(image, reference_image())
    assert list(tmp_path.iterdir()) == []


def test_from_params_gives_the_same_image(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sim = Simulation(default_F=100, cell=(100, 100, 100, 90, 90, 90), lambda_=6.2, N=5,
                     distance=100, detpixels=128, pixel=0.1, seed=11)
    image = sim.run().image
    assert_bit_identical(image, reference_image())
    assert list(tmp_path.iterdir()) == []
