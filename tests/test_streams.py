"""stdout closed, a closed pipe, a full device: nbnumba behaves as nanoBragg.c (command/streams.py).

Observed with the serial C (/tmp/ref/nb) on oddenv.SMALL-like runs:

  nb ... >&-              every image written, exit 0, nothing on stderr
  nb ... >/dev/full       every image written, exit 0, nothing on stderr (printf's errors ignored)
  nb ... | true           killed by SIGPIPE (141 in a shell) at its first progress-line fflush:
                          no image written (with -hkl, Fdump.bin is written before that)
  nb -noprogress ... | true   every image written, then killed by SIGPIPE at exit
  nb ... | head -1        the first line, then SIGPIPE at a later fflush (a race with head)
  nb ... 2>&-             every image written, exit 0

"A closed pipe" is a pipe whose read end is closed before the run starts, as `| true` or
`| head -1` become once the reader is gone: that is deterministic, and so are the C's
results above.  nbnumba adds one warning line where its text is lost (an error under
-strict, before any file is written).
"""
import os
import signal
import subprocess

import pytest

from golden import INPUTS
from oddenv import DEVICE_LINE, OUTPUTS, SMALL, SMALL_SHA256, hidden_temporaries, nbnumba, run, sha256, stderr_lines

FIRST_LINE = "nanoBragg nanocrystal diffraction simulator - James Holton and Ken Frankel 5-17-17\n"
CLOSED_WARNING = "standard output is closed: its text is lost (nanoBragg.c ignores that too)"
FULL_WARNING = "cannot write standard output (No space left on device): its text is lost (nanoBragg.c ignores that too)"


def files(folder):
    return sorted(p.name for p in folder.iterdir())


def run_shell(script, args, cwd, **env):
    """sh -c SCRIPT with "$@" = python -m nbnumba ARGS."""
    argv, e = nbnumba(args, **env)
    return subprocess.run(["sh", "-c", script, "sh", *argv], cwd=cwd, env=e, capture_output=True, text=True,
                          errors="replace", timeout=600)


def run_into_closed_pipe(args, cwd):
    """Run with stdout a pipe whose reader has already gone; returns (returncode, stderr)."""
    argv, env = nbnumba(args)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, stdout=write_end, stderr=subprocess.PIPE, text=True,
                           timeout=600)
    finally:
        os.close(write_end)
    return p.returncode, p.stderr


@pytest.mark.parametrize("redirect, warning", [(">&-", CLOSED_WARNING), (">/dev/full", FULL_WARNING)],
                         ids=["closed", "full"])
def test_lost_stdout_warns_and_writes_the_images(tmp_path, redirect, warning):
    p = run_shell('exec "$@" ' + redirect, SMALL, tmp_path)
    assert p.returncode == 0, p.stderr
    assert stderr_lines(p.stderr) == ["nbnumba: warning: " + warning]
    assert files(tmp_path) == sorted(OUTPUTS)
    for name in OUTPUTS:
        assert sha256(tmp_path / name) == SMALL_SHA256[name]


@pytest.mark.parametrize("redirect, warning", [(">&-", CLOSED_WARNING), (">/dev/full", FULL_WARNING)],
                         ids=["closed", "full"])
def test_lost_stdout_is_refused_under_strict(tmp_path, redirect, warning):
    p = run_shell('exec "$@" ' + redirect, SMALL + ["-strict"], tmp_path)
    assert p.returncode == 9
    assert p.stderr.splitlines() == ["nbnumba: error: %s (refused under -strict)" % warning]
    assert files(tmp_path) == []


def test_closed_stderr(tmp_path):
    p = run_shell('exec "$@" 2>&-', SMALL, tmp_path)
    assert p.returncode == 0
    assert p.stdout.startswith(FIRST_LINE)
    assert files(tmp_path) == sorted(OUTPUTS)


def test_closed_pipe_dies_of_sigpipe_at_the_first_progress_line(tmp_path):
    rc, stderr = run_into_closed_pipe(SMALL, tmp_path)
    assert rc == -signal.SIGPIPE
    assert stderr_lines(stderr) == []
    assert files(tmp_path) == []


def test_closed_pipe_without_progress_dies_at_exit(tmp_path):
    rc, stderr = run_into_closed_pipe(SMALL + ["-noprogress"], tmp_path)
    assert rc == -signal.SIGPIPE
    assert stderr_lines(stderr) == []
    assert files(tmp_path) == sorted(OUTPUTS)
    for name in OUTPUTS:
        assert sha256(tmp_path / name) == SMALL_SHA256[name]


def test_closed_pipe_after_the_fdump(tmp_path):
    """The C has written Fdump.bin when it dies of SIGPIPE; a run that does not complete
    writes no file (docs/quirks.md)."""
    (tmp_path / "cubic.hkl").write_bytes((INPUTS / "cubic.hkl").read_bytes())
    rc, stderr = run_into_closed_pipe(["-hkl", "cubic.hkl"] + SMALL[2:], tmp_path)
    assert rc == -signal.SIGPIPE
    assert stderr_lines(stderr) == []
    assert files(tmp_path) == ["cubic.hkl"]


def test_head_one(tmp_path):
    """`| head -1`: the first line; then, as for the C, SIGPIPE (141) at the first write after
    head has gone, or exit 0 if every write came first (a race); never a traceback, and every
    image there is complete."""
    p = run_shell('set -e; "$@" | head -1; exit 0', SMALL, tmp_path)
    assert p.stdout == FIRST_LINE
    assert stderr_lines(p.stderr) == []
    argv, env = nbnumba(SMALL)
    status = subprocess.run(["bash", "-c", '"$@" | head -1 >/dev/null; echo "${PIPESTATUS[0]}"', "bash", *argv],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert status.stdout.strip() in ("141", "0"), status.stderr
    assert stderr_lines(status.stderr) == []
    for name in files(tmp_path):
        assert sha256(tmp_path / name) == SMALL_SHA256[name]
    assert hidden_temporaries(tmp_path) == []


def test_help_into_a_closed_pipe(tmp_path):
    rc, stderr = run_into_closed_pipe(["-h"], tmp_path)
    assert rc == -signal.SIGPIPE
    assert stderr == ""


def test_file_names_are_printed_as_given(tmp_path):
    """A name that is not UTF-8 reaches stdout as its bytes, as the C prints it."""
    argv, env = nbnumba(SMALL)
    env["LC_ALL"] = "C.UTF-8"
    p = subprocess.run(argv + [b"-floatfile", b"\xff.bin"], cwd=tmp_path, env=env, capture_output=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    assert b"writing \xff.bin as 4096 4-byte floats\n" in p.stdout
    assert p.stderr.decode().splitlines() == [DEVICE_LINE]
    assert sha256(os.path.join(os.fsencode(tmp_path), b"\xff.bin")) == SMALL_SHA256["floatimage.bin"]
