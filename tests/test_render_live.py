"""The render runs in chunks (kernels/serial_replay.py): whatever the chunk size, the image is the
serial C's and stdout is the C's, progress lines, -printout blocks and the interpolation
warning in the C's order; progress lines appear while the render runs; SIGINT and SIGTERM stop
a render within a second, and the process dies of the signal as the C does, leaving no file.

tests/data/progress/<case>.stdout is the complete stdout of the serial C (upstream 455534a)
on that golden case, progress lines included (the golden copies strip them), less its
`mmap(...)` pointer lines.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import golden
from golden import cli_env, run_case

PROGRESS = Path(__file__).resolve().parent / "data" / "progress"
CASES = sorted(p.stem for p in PROGRESS.glob("*.stdout"))

# a render of several seconds at 2 threads: 65k pixels x 16 subpixels x 40 phi steps x 10 domains
LONG = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 256 -pixel 0.1 "
        "-oversample 4 -phisteps 40 -osc 1 -mosaic 1 -mosaic_dom 10 -seed 1").split()


@pytest.mark.parametrize("chunk", ["", "7", "1000"], ids=["adaptive", "7px", "1000px"])
@pytest.mark.parametrize("name", CASES)
def test_stdout_and_image_whatever_the_chunks(name, chunk, tmp_path, monkeypatch):
    monkeypatch.setenv("NBNUMBA_CHUNK_PIXELS", chunk)
    run = run_case(name, tmp_path)
    assert run.rc == 0, run.stderr
    assert run.stdout == (PROGRESS / f"{name}.stdout").read_text()
    m = golden.manifest(name)
    ref = golden.float_image(golden.reference_file(name, m["float_file"]))
    got = golden.float_image(run.files[m["float_file"]])
    assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))


REPLAY = Path(__file__).resolve().parent / "data" / "replay"


@pytest.mark.parametrize("chunk", ["", "1", "3", "50"])
def test_first_executed_pixel_is_replayed_whatever_the_chunks(chunk, tmp_path, monkeypatch):
    """-dmin keeps the first pixels from running a sweep: the chunk holding the first pixel that
    does re-renders it from the unrotated lattice (tests/data/replay/README.md)."""
    import gzip
    import shutil
    monkeypatch.setenv("NBNUMBA_CHUNK_PIXELS", chunk)
    shutil.copy(golden.INPUTS / "cubic.hkl", tmp_path)
    p = subprocess.run([sys.executable, "-m", "nbnumba", *(REPLAY / "dmin_phi_sweep.args").read_text().split()],
                       cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout == (REPLAY / "dmin_phi_sweep.stdout").read_text()
    ref = np.frombuffer(gzip.decompress((REPLAY / "dmin_phi_sweep.floatimage.bin.gz").read_bytes()), dtype="<u4")
    assert np.array_equal(np.fromfile(tmp_path / "floatimage.bin", dtype="<u4"), ref)


def start_long_render(cwd, *extra):
    env = cli_env()
    env.pop("NBNUMBA_CHUNK_PIXELS", None)
    return subprocess.Popen([sys.executable, "-m", "nbnumba", *LONG, *extra], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(proc, text, timeout=120):
    """Read stdout until a line containing text; return (line, seconds waited)."""
    start = time.monotonic()
    for line in proc.stdout:
        if text in line:
            return line, time.monotonic() - start
        assert time.monotonic() - start < timeout
    pytest.fail("the run ended before printing %r" % text)


def test_progress_lines_arrive_while_the_render_runs(tmp_path):
    proc = start_long_render(tmp_path)
    try:
        wait_for_line(proc, "0% done")
        line, _ = wait_for_line(proc, "5% done")
        assert line == "5% done\n"
        assert proc.poll() is None          # still rendering: the lines came live, not at the end
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_stops_the_render_within_a_second(sig, tmp_path):
    proc = start_long_render(tmp_path)
    try:
        wait_for_line(proc, "1% done")
        time.sleep(0.2)
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=30)
        stopped = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == -sig              # died of the signal, as the C does
    assert stopped < 1.0, "took %.2f s to stop" % stopped
    assert sorted(p.name for p in tmp_path.iterdir()) == []      # no image, no temporary file
    assert "Traceback" not in proc.stderr.read()


def shell_interrupts(tmp_path, args, job_control):
    """Start nbnumba as a background job of a bash script, send it SIGINT after 1.5 s; the status."""
    script = ("set -m; " if job_control else "") + '"$@" >/dev/null & pid=$!; sleep 1.5; kill -INT $pid; wait $pid; echo "status $?"'
    proc = subprocess.run(["bash", "-c", script, "sh", sys.executable, "-m", "nbnumba", *args], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=300)
    return proc.stdout.splitlines()[-1]


def test_shell_reports_130_for_ctrl_c(tmp_path):
    """What a shell script sees: 128 + SIGINT, as for the C (checked: the C gives 130 too)."""
    assert shell_interrupts(tmp_path, LONG, job_control=True) == "status 130"
    assert list(tmp_path.iterdir()) == []


def test_an_ignored_sigint_stays_ignored(tmp_path):
    """A background job of a script without job control starts with SIGINT ignored: the C runs
    on to the end (status 0, images written), and so does nbnumba."""
    args = [a if a != "40" else "4" for a in LONG]      # a render of a few seconds
    assert shell_interrupts(tmp_path, args, job_control=False) == "status 0"
    assert (tmp_path / "floatimage.bin").stat().st_size == 256 * 256 * 4


def test_timings_line(tmp_path):
    run = run_case("cubic_defaultF", tmp_path, ["-timings"])
    assert run.rc == 0
    line = run.stderr.splitlines()[-1]
    assert line.startswith("nbnumba: timings: imports ")
    names = [part.rsplit(" ", 2)[0] for part in line[len("nbnumba: timings: "):].split(", ")]
    assert names == ["imports", "numba start-up", "set-up", "kernel load", "render", "outputs", "total"]
    assert run.stdout == run_case("cubic_defaultF", tmp_path / "plain").stdout   # stdout stays the C's


def test_cpu_run_imports_neither_numba_cuda_nor_scipy_linalg(tmp_path):
    """Start-up: a CPU run does not pay for the CUDA bindings or SciPy's BLAS (see numba_internals.py)."""
    env = cli_env()
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    env["NBNUMBA_DEVICE"] = "cpu"
    small = "-default_F 100 -cell 100 100 100 90 90 90 -N 5 -detpixels 8".split()
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "nbnumba", *small],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert "numba.np.arraymath" in imported
    assert not {"numba.cuda", "scipy.linalg"} & imported
