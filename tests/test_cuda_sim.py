"""The CUDA kernel (nbnumba.kernels.cuda) under numba's CUDA simulator, on a few pixels.

The simulator runs each GPU thread as Python with the C library's math, so in double
precision a pixel must come out bit-identical to the CPU kernel's and to the golden C
image: the ROI does not change a pixel's value, as long as the pixel's entry state (phi
carryover, interpolation switch-off, see kernels/serial_replay.py) is the one it has in the full run.
NUMBA_ENABLE_CUDASIM must be set before numba.cuda is imported, so every CUDA render here
runs `python -m nbnumba` in a subprocess; the CPU renders run in this process.
"""
import gzip
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from golden import cli_env
from nbnumba.simulation import Simulation

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden"
CASES = {c["name"]: c for c in json.loads((GOLDEN / "cases.json").read_text())}


def golden(name):
    """The reference float image of a case, (slow, fast) float32."""
    manifest = json.loads((GOLDEN / name / "manifest.json").read_text())
    data = gzip.decompress((GOLDEN / name / (manifest["float_file"] + ".gz")).read_bytes())
    return np.frombuffer(data, dtype="<f4").reshape(manifest["shape_slow_fast"])


def roi_at_peak(ref, w=4, h=3):
    """A w x h box (xmin xmax ymin ymax) holding the brightest pixel of ref."""
    s, f = np.unravel_index(np.argmax(ref), ref.shape)
    x0 = int(min(max(f - w // 2, 0), ref.shape[1] - w))
    y0 = int(min(max(s - h // 2, 0), ref.shape[0] - h))
    return x0, x0 + w - 1, y0, y0 + h - 1


def workdir(tmp_path, name, sub):
    d = tmp_path / sub
    d.mkdir()
    for f in CASES[name]["inputs"]:
        shutil.copy(GOLDEN / "inputs" / f, d / f)
    return d


def sim_env(**extra):
    env = cli_env()         # (the nbnumba these tests import, not whichever is installed)
    env.pop("NBNUMBA_DEVICE", None)
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    env.update(extra)
    return env


def run_cli(args, cwd, env):
    return subprocess.run([sys.executable, "-m", "nbnumba", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def render_cuda(tmp_path, name, roi, sub="cuda", precision="double", **env):
    d = workdir(tmp_path, name, sub)
    args = shlex.split(CASES[name]["args"]) + ["-roi", *map(str, roi), "-floatfile", "roi.bin", "-device", "cuda",
                                                "-precision", precision]
    p = run_cli(args, d, sim_env(**env))
    assert p.returncode == 0, p.stderr[-3000:]
    shape = golden(name).shape
    return np.fromfile(d / "roi.bin", dtype="<f4").reshape(shape), p.stdout, p.stderr


def render_cpu(tmp_path, name, roi, monkeypatch):
    d = workdir(tmp_path, name, "cpu")
    monkeypatch.chdir(d)
    out = []
    sim = Simulation.from_args(shlex.split(CASES[name]["args"]) + ["-roi", *map(str, roi), "-device", "cpu"],
                               out=out.append)
    image = sim.run().image
    return image, "".join(out), sim


def omega_line(stdout):
    return next(line for line in stdout.splitlines() if line.startswith("solid angle subtended"))


def box(a, roi):
    x0, x1, y0, y1 = roi
    return a[y0:y1 + 1, x0:x1 + 1]


def check_double(tmp_path, monkeypatch, name, roi=None, skip_first=False, **env):
    """CUDA (simulator) == CPU == golden on the ROI, bit for bit; skip_first leaves out the
    ROI's first pixel from the golden comparison (its phi sweep starts unrotated in an ROI
    run, from the carried lattice in the full run)."""
    ref = golden(name)
    roi = roi or roi_at_peak(ref)
    gpu, gpu_out, gpu_err = render_cuda(tmp_path, name, roi, **env)
    cpu, cpu_out, _ = render_cpu(tmp_path, name, roi, monkeypatch)
    assert "nbnumba: rendering on cuda in double precision\n" in gpu_err
    assert np.array_equal(gpu, cpu)                          # whole image: nothing outside the ROI
    assert omega_line(gpu_out) == omega_line(cpu_out)
    got, want = box(gpu, roi).ravel(), box(ref, roi).ravel()
    assert np.any(want > 0)
    if skip_first:
        got, want = got[1:], want[1:]
    assert np.array_equal(got, want), np.abs(got.astype(float) - want).max()
    return gpu


def test_plain_case_and_tiling(tmp_path, monkeypatch):
    gpu = check_double(tmp_path, monkeypatch, "cubic_defaultF")
    # one detector row per tile: same bits
    roi = roi_at_peak(golden("cubic_defaultF"))
    tiled, _, _ = render_cuda(tmp_path, "cubic_defaultF", roi, sub="tiled", NBNUMBA_CUDA_TILE_ROWS="1")
    assert np.array_equal(tiled, gpu)


def test_phi_sweep_carryover(tmp_path, monkeypatch):
    check_double(tmp_path, monkeypatch, "phi_sweep_carryover", skip_first=True)


def test_mosaic_domains(tmp_path, monkeypatch):
    check_double(tmp_path, monkeypatch, "mosaic_domains", roi=roi_at_peak(golden("mosaic_domains"), 3, 2))


def test_divergence_dispersion(tmp_path, monkeypatch):
    check_double(tmp_path, monkeypatch, "divergence_dispersion", roi=roi_at_peak(golden("divergence_dispersion"), 3, 2))


def test_interpolation_in_range(tmp_path, monkeypatch):
    check_double(tmp_path, monkeypatch, "interpolate_in_range")


def test_interpolation_switch_off(tmp_path, monkeypatch):
    """An ROI holding the pixel at which the C switches interpolation off: dispatch's re-render
    of the pixels after it must give both targets the golden values."""
    name = "interpolate_switch_off_midway"
    monkeypatch.chdir(workdir(tmp_path, name, "full"))
    sim = Simulation.from_args(shlex.split(CASES[name]["args"]) + ["-device", "cpu"])
    sim.run()
    cut = sim.rendering.interp_cut
    fpixels = sim.plan.fpixels
    assert cut < fpixels * sim.plan.spixels     # the case does switch interpolation off
    s, f = divmod(cut, fpixels)
    roi = (max(f - 1, 0), min(f + 2, fpixels - 1), s, s + 1)
    check_double(tmp_path, monkeypatch, name, roi=roi)


def test_absorption_oversample_flags(tmp_path, monkeypatch):
    check_double(tmp_path, monkeypatch, "absorption_oversample", roi=roi_at_peak(golden("absorption_oversample"), 3, 2))


def test_interpolation_switch_off_in_chunks_and_tiles(tmp_path, monkeypatch):
    """The same, the device's first-out-of-range atomic seen through chunks of 3 pixels and
    tiles of one row; the CPU in chunks of 5."""
    name = "interpolate_switch_off_midway"
    monkeypatch.setenv("NBNUMBA_CHUNK_PIXELS", "5")
    check_double(tmp_path, monkeypatch, name, roi=(24, 27, 85, 86), NBNUMBA_CHUNK_PIXELS="3",
                 NBNUMBA_CUDA_TILE_ROWS="1")


def test_first_executed_pixel_found_on_the_device(tmp_path, monkeypatch):
    """-dmin cuts the sweeps of pixels 0-3: the device's atomicMin finds pixel 4 as the first
    executed one, dispatch re-renders it from the unrotated lattice (tests/data/replay)."""
    replay = ROOT / "tests" / "data" / "replay"
    args = (replay / "dmin_phi_sweep.args").read_text().split() + ["-roi", "0", "9", "0", "1"]
    ref = np.frombuffer(gzip.decompress((replay / "dmin_phi_sweep.floatimage.bin.gz").read_bytes()),
                        dtype="<f4").reshape(48, 48)
    outs = {}
    for device, env in (("cuda", sim_env(NBNUMBA_CHUNK_PIXELS="3", NBNUMBA_CUDA_TILE_ROWS="1")),
                        ("cpu", dict(cli_env(), NBNUMBA_CHUNK_PIXELS="2"))):
        d = tmp_path / device
        d.mkdir()
        shutil.copy(GOLDEN / "inputs" / "cubic.hkl", d)
        p = run_cli(args + ["-device", device], d, env)
        assert p.returncode == 0, p.stderr[-3000:]
        got = np.fromfile(d / "floatimage.bin", dtype="<f4").reshape(48, 48)
        assert np.array_equal(got[0:2, 0:10].view(np.uint32), ref[0:2, 0:10].view(np.uint32))
        assert got[0, 4] == np.float32(0.0016427503)      # from the unrotated lattice
        outs[device] = omega_line(p.stdout)
    assert outs["cuda"] == outs["cpu"]


def test_mask(tmp_path, monkeypatch):
    """An ROI across a corner of the mask: masked pixels are skipped (stay 0), the rest render."""
    roi = (28, 31, 19, 21)
    gpu = check_double(tmp_path, monkeypatch, "mask", roi=roi)
    data = (GOLDEN / "inputs" / "mask.img").read_bytes()
    mask = np.frombuffer(data[512:], dtype="<u2").reshape(gpu.shape)
    assert (box(mask, roi) == 0).sum() == 4 and np.all(box(gpu, roi)[box(mask, roi) == 0] == 0)


def test_single_precision(tmp_path):
    name = "divergence_dispersion"
    ref = golden(name)
    roi = roi_at_peak(ref, 3, 2)
    gpu, _, err = render_cuda(tmp_path, name, roi, precision="single")
    assert "nbnumba: rendering on cuda in single precision\n" in err
    got, want = box(gpu, roi).astype(np.float64), box(ref, roi).astype(np.float64)
    assert np.abs(got - want).max() / np.abs(want).max() < 1e-3


def test_auto_and_env_default_pick_cuda(tmp_path):
    d = workdir(tmp_path, "cubic_defaultF", "auto")
    args = shlex.split(CASES["cubic_defaultF"]["args"]) + ["-roi", "0", "0", "0", "0"]
    p = run_cli(args, d, sim_env())
    assert p.returncode == 0, p.stderr[-3000:]
    assert "nbnumba: rendering on cuda in double precision\n" in p.stderr
    p = run_cli(args + ["-precision", "single"], d, sim_env(NBNUMBA_DEVICE="cuda"))
    assert p.returncode == 0, p.stderr[-3000:]
    assert "nbnumba: rendering on cuda in single precision\n" in p.stderr


def test_device_cuda_without_cuda(tmp_path):
    env = cli_env()
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    probe = subprocess.run([sys.executable, "-c", "from numba import cuda; print(cuda.is_available())"],
                           env=env, capture_output=True, text=True)
    if probe.stdout.strip() == "True":
        pytest.skip("a CUDA GPU is available here")
    d = workdir(tmp_path, "cubic_defaultF", "nocuda")
    p = run_cli(shlex.split(CASES["cubic_defaultF"]["args"]) + ["-roi", "0", "0", "0", "0", "-device", "cuda"], d, env)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: -device cuda"), p.stderr


def test_printout_and_trace_come_from_the_cuda_target(tmp_path):
    """-printout_pixel and -trace_pixel on -device cuda print what the CPU prints, from the CUDA
    target's single-pixel kernel (its `pixel`), in double precision to the same digits."""
    name = "stol_coherent_printout"
    args = shlex.split(CASES[name]["args"]) + ["-roi", "40", "42", "40", "41", "-trace_pixel", "41", "41"]
    outs = {}
    for device, env in (("cuda", sim_env()), ("cpu", dict(cli_env(), NBNUMBA_DEVICE="cpu"))):
        d = workdir(tmp_path, name, device)
        p = run_cli(args + ["-device", device], d, env)
        assert p.returncode == 0, p.stderr[-3000:]
        assert "nbnumba: rendering on %s in double precision" % device in p.stderr
        outs[device] = p.stdout
    assert outs["cuda"] == outs["cpu"]
    assert "TRACE_PY: floatimage_accumulated" in outs["cuda"] and "pixel   " in outs["cuda"]
