"""SIGINT, SIGTERM and SIGHUP in the write phase: the process dies of the signal, as
nanoBragg.c does (a shell reports 130, 143, 129), and the outputs are either all their old
files or all the complete new ones, with no temporary file left (interrupt.py, io/outfile.py).

The C installs no handlers: a signal kills it where it is, so a signal during an fwrite
leaves a truncated image (nbnumba does not, docs/quirks.md), and a signal the process was
started ignoring (nohup, `cmd &` in a script) changes nothing.

The first tests send real signals to this process at the exact step that matters (just
after the rename, while the temporary file is created, in the middle of an in-place write);
the others send them to a real `python -m nbnumba` writing 144 MB of images.  A signal while
the files are prepared (temporary files written, space reserved) leaves every old file; one
while they are committed (renamed, written in place) waits for the commit to end.
"""
import os
import signal
import subprocess
import time

import pytest

from nbnumba import interrupt
from nbnumba.io import outfile
from nbnumba.io.outfile import write_output
from oddenv import OUTPUTS, SMALL, hidden_temporaries, nbnumba, sha256, stderr_lines

OLD = b"old\n"
# 4000 x 4000 pixels, 4 of them rendered: 144 MB of images written in about a second
BIG = SMALL[:-6] + ["-detpixels", "4000", "-pixel", "0.1", "-seed", "1", "-roi", "0", "1", "0", "1"]


@pytest.fixture
def handlers():
    """The command's handlers in this process, the test runner's restored afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in interrupt.SIGNALS}
    interrupt.install()
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


# ---------------------------------------------------------------- in this process, exact steps

def test_deferred_block_runs_whole(handlers):
    steps = []
    with pytest.raises(interrupt.Interrupted) as stop:
        with interrupt.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("after the signal")
    assert steps == ["after the signal"]
    assert stop.value.signum == signal.SIGTERM


def signal_after(monkeypatch, owner, name, signum):
    """Make owner.name send signum to this process each time it has run."""
    real = getattr(owner, name)

    def then_signal(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signum)
        return result

    monkeypatch.setattr(owner, name, then_signal)


@pytest.mark.parametrize("owner, step, signum, kept", [
    (outfile, "_temporary", signal.SIGHUP, True),   # the temporary file has just been made
    (os, "fchmod", signal.SIGTERM, True),           # ... and is about to be written
    (os, "replace", signal.SIGINT, False)],         # it has just been renamed: no "unable to write"
    ids=["made", "writing", "renamed"])
def test_signal_at_each_step_of_a_renamed_write(handlers, tmp_path, monkeypatch, owner, step, signum, kept):
    target = tmp_path / "out.bin"
    target.write_bytes(OLD)
    signal_after(monkeypatch, owner, step, signum)
    with pytest.raises(interrupt.Interrupted) as stop:
        write_output(target, [b"new"])
    assert stop.value.signum == signum
    assert target.read_bytes() == (OLD if kept else b"new")
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("step, kept", [("posix_fallocate", True), ("pwrite", False)],
                         ids=["reserved", "writing"])
def test_signal_during_an_in_place_write(handlers, tmp_path, monkeypatch, step, kept):
    """A hard-linked file is overwritten in place: a signal just after its space is reserved
    (the file is prepared) gives the space back, the file as it was; one during the write
    (the commit) waits for the write to complete."""
    target, link = tmp_path / "out.bin", tmp_path / "link.bin"
    target.write_bytes(OLD)
    os.link(target, link)
    signal_after(monkeypatch, os, step, signal.SIGTERM)
    with pytest.raises(interrupt.Interrupted) as stop:
        write_output(target, [b"a" * 5000, b"b" * 5000])
    assert stop.value.signum == signal.SIGTERM
    assert link.read_bytes() == (OLD if kept else b"a" * 5000 + b"b" * 5000)
    assert target.stat().st_nlink == 2
    assert sorted(os.listdir(tmp_path)) == ["link.bin", "out.bin"]


def test_signal_inside_a_c_callback_is_not_lost(handlers, capfd):
    """A signal that lands while C code calls back into Python (llvmlite's object cache does,
    as Numba loads a compiled function) raises inside the callback, where ctypes swallows the
    exception: the signal stays pending, nothing is printed, and the next checkpoint acts on it."""
    import ctypes
    import ctypes.util

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    def compare(a, b):                       # qsort's comparison, called from libc
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)                     # the handler runs here, inside the callback
        return 0

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    values = (ctypes.c_int * 2)(2, 1)
    libc.qsort(values, 2, ctypes.sizeof(ctypes.c_int), compare)
    assert capfd.readouterr().err == ""      # no "Exception ignored on calling ctypes callback" traceback
    with pytest.raises(interrupt.Interrupted) as stop:
        interrupt.checkpoint()
    assert stop.value.signum == signal.SIGTERM


# ---------------------------------------------------------------- a real nbnumba process

@pytest.fixture(scope="module")
def big_outputs(tmp_path_factory):
    """sha256 of each image of an uninterrupted BIG run."""
    folder = tmp_path_factory.mktemp("big")
    argv, env = nbnumba(BIG)
    subprocess.run(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True, timeout=600)
    return {name: sha256(folder / name) for name in OUTPUTS}


def _wait_for(condition, proc, timeout=300):
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the run ended before the write phase was seen"
        assert time.monotonic() < end
        time.sleep(0.0005)


@pytest.mark.slow
@pytest.mark.parametrize("signum, in_place, after", [
    (signal.SIGTERM, False, None), (signal.SIGHUP, False, "floatimage.bin"), (signal.SIGINT, False, "intimage.img"),
    (signal.SIGTERM, True, None), (signal.SIGINT, True, "intimage.img")],
    ids=["TERM-renamed", "HUP-renamed-later", "INT-renamed-later", "TERM-in-place", "INT-in-place-later"])
def test_signal_in_the_write_phase(tmp_path, big_outputs, signum, in_place, after):
    """Old outputs are in the folder (hard-linked for in_place: overwritten in place).  The
    signal goes out as soon as the write phase is seen to begin (a temporary file appears, or
    the in-place file grows as its space is reserved) or, with `after`, as soon as that output
    is seen written (renamed into place: the commit is under way) or reserved (in place).
    Every output is then old, or every one new."""
    for name in OUTPUTS:
        (tmp_path / name).write_bytes(OLD)
        if in_place:
            os.link(tmp_path / name, tmp_path / (name + ".link"))
    argv, env = nbnumba(BIG)
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    if in_place:
        _wait_for(lambda: (tmp_path / (after or "floatimage.bin")).stat().st_size != len(OLD), proc)
    elif after:
        _wait_for(lambda: (tmp_path / after).read_bytes() != OLD, proc)
    else:
        _wait_for(lambda: hidden_temporaries(tmp_path), proc)
    proc.send_signal(signum)
    stderr = proc.communicate(timeout=300)[1]

    if after and not in_place:      # the commit is under way: the run may end before the signal lands
        assert proc.returncode in (-signum, 0), stderr
    else:
        assert proc.returncode == -signum, stderr   # 128 + signum in a shell
    assert stderr_lines(stderr) == []
    assert hidden_temporaries(tmp_path) == []
    states = {}
    for name in OUTPUTS:
        data = (tmp_path / name).read_bytes()
        assert data == OLD or sha256(tmp_path / name) == big_outputs[name], name
        states[name] = "old" if data == OLD else "new"
        if in_place:
            assert os.path.samefile(tmp_path / name, tmp_path / (name + ".link"))
    assert len(set(states.values())) == 1, states              # all or nothing
    if after and not in_place:
        assert states[after] == "new"               # the commit it cut into went through


def test_shell_sees_the_signal_status(tmp_path):
    """sh reports 143 for a SIGTERM, as for the C; nothing is half-written."""
    argv, env = nbnumba(BIG)
    script = '"$@" >/dev/null & echo $! > pid; wait $!; echo "status $?"'
    sh = subprocess.Popen(["sh", "-c", script, "sh", *argv], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (tmp_path / "pid").exists() and (tmp_path / "pid").read_text().strip(), sh)
    time.sleep(0.5)
    os.kill(int((tmp_path / "pid").read_text()), signal.SIGTERM)
    out, err = sh.communicate(timeout=300)
    assert out == "status 143\n", err
    assert hidden_temporaries(tmp_path) == []
    assert set(os.listdir(tmp_path)) <= {"pid", *OUTPUTS}


@pytest.mark.slow
def test_ignored_signals_stay_ignored(tmp_path, big_outputs):
    """Started with SIGINT and SIGHUP ignored (`nohup cmd &`): the C runs to the end, so does nbnumba."""
    def ignore():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    argv, env = nbnumba(BIG)
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=ignore)
    _wait_for(lambda: hidden_temporaries(tmp_path), proc)
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGINT)
    stderr = proc.communicate(timeout=300)[1]
    assert proc.returncode == 0, stderr
    assert {name: sha256(tmp_path / name) for name in OUTPUTS} == big_outputs
    assert hidden_temporaries(tmp_path) == []
