"""-strict and NBNUMBA_STRICT=1 turn warnings about odd input into refusals; the device line
goes to stderr so that stdout is the C's; -precision single with -device auto and no GPU falls
back to double, with -device cpu it renders single precision on the CPU."""
import os
import subprocess
import sys

import numpy as np
from golden import cli_env

BASE = "-default_F 10 -cell 100 100 100 90 90 90 -lambda 6.2 -N 2 -distance 100 -detpixels 8 -nonoise -nopgm".split()


def run(args, cwd, **env):
    e = cli_env()
    e.update(env)
    return subprocess.run([sys.executable, "-m", "nbnumba", *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=300)


def test_ignored_argument_warns_and_renders(tmp_path):
    p = run(BASE + ["stray"], tmp_path)
    assert p.returncode == 0
    assert "nbnumba: warning: ignoring argument 'stray' (nanoBragg.c ignores it too)" in p.stderr.splitlines()
    assert (tmp_path / "floatimage.bin").stat().st_size == 8 * 8 * 4


def test_strict_refuses_and_writes_nothing(tmp_path):
    for args, env in ((BASE + ["stray", "-strict"], {}), (BASE + ["stray"], {"NBNUMBA_STRICT": "1"})):
        p = run(args, tmp_path, **env)
        assert p.returncode == 9
        assert p.stderr.strip().splitlines() == [
            "nbnumba: error: ignoring argument 'stray' (nanoBragg.c ignores it too) (refused under -strict)"]
        assert list(tmp_path.iterdir()) == []


def test_device_line_on_stderr_and_single_falls_back_without_gpu(tmp_path):
    env = {"NBNUMBA_DEVICE": "auto", "NUMBA_ENABLE_CUDASIM": "0"}
    probe = run(BASE, tmp_path, **env)
    if "rendering on cuda" in probe.stderr:
        return      # a GPU is present: -device auto renders single precision on it
    assert "rendering on" not in probe.stdout
    p = run(BASE + ["-precision", "single"], tmp_path, **env)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [
        "nbnumba: warning: -precision single: no CUDA GPU is available: rendering on the CPU in double (faster "
        "there; -device cpu -precision single renders single precision on the CPU)",
        "nbnumba: rendering on cpu in double precision"]
    double = (tmp_path / "floatimage.bin").read_bytes()
    p = run(BASE + ["-precision", "single", "-device", "cpu"], tmp_path, **env)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == ["nbnumba: rendering on cpu in single precision"]
    single = np.frombuffer((tmp_path / "floatimage.bin").read_bytes(), dtype="<f4")
    assert single.tobytes() != double      # the float32 physics: other bits, the same image to ~1e-5
    assert np.allclose(single, np.frombuffer(double, dtype="<f4"), rtol=1e-5, atol=0)
