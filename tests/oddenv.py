"""Odd environments for the drop-in tests (files, signals, pipes, caches): `python -m nbnumba`
as a real process in a folder, as a process that obeys file permissions, or on a small file
system that fills up.

- `nbnumba(args, cwd, ...)`: the argv and environment of a run (tests/golden.py's cli_env).
- `unprivileged()`: the prefix that makes a process obey permission bits.  Nothing for a
  non-root user; for root, `setpriv` without CAP_DAC_OVERRIDE and CAP_FOWNER (root ignores
  permission bits otherwise; CAP_DAC_READ_SEARCH stays, so the interpreter under /root can
  still be read).  Skips the test where neither works.
- `with_mounts(commands, ...)`, `small_fs(folder, size)`: the prefix that runs a command
  after mounting something (a tmpfs of `size` bytes on `folder`) in a private mount
  namespace, so nothing is left mounted.  Skips where mounting is refused.
- `hidden_temporaries(folder)`: the temporary files nbnumba or Numba could leave behind.
"""
import functools
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from golden import cli_env

# a small render whose images are written in well under a second
SMALL = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 64 "
         "-pixel 0.1 -seed 1").split()
OUTPUTS = ("floatimage.bin", "intimage.img", "image.pgm", "noiseimage.img")
# what nanoBragg.c (serial build) writes for SMALL: nbnumba must write the same bytes
SMALL_SHA256 = {
    "floatimage.bin": "ed6a0606e8ce1b391bc7854fd3ae985c55734994b1e1aa15d173a2c3347b879a",
    "intimage.img": "e326be8c6f656e808d35c017b79bdbae67ef1fbfe6bda4d405891a19ba4a4944",
    "image.pgm": "0cca2e41a0d93870ee4de405484b09c3a0fefdde66c065e1a4e0599054eba512",
    "noiseimage.img": "b0d05890f8c2b86bce9c204eace136cc8123606137eef18a8509fe4c5d3d5441",
}
DEVICE_LINE = "nbnumba: rendering on cpu in double precision"


def nbnumba(args, **env):
    """(argv, environment) of `python -m nbnumba ARGS` with env added to cli_env()."""
    e = cli_env()
    e.update(env)
    return [sys.executable, "-m", "nbnumba", *map(str, args)], e


def run(args, cwd, prefix=(), timeout=600, **env):
    """Run nbnumba ARGS in cwd (behind the command prefix); a CompletedProcess with text output."""
    argv, e = nbnumba(args, **env)
    return subprocess.run([*prefix, *argv], cwd=cwd, env=e, capture_output=True, text=True,
                          errors="replace", timeout=timeout)


def _works(prefix):
    try:
        return subprocess.run([*prefix, "true"], capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


@functools.lru_cache(maxsize=None)
def _unprivileged_prefix():
    if os.geteuid() != 0:
        return ()
    prefix = ("setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-fowner,-linux_immutable")
    return prefix if shutil.which("setpriv") and _works(prefix) else None


def unprivileged():
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot be enforced")
    return prefix


def with_mounts(mounts, *args):
    """Prefix: run the command in a private mount namespace (`unshare -m` as root, `unshare
    -rm` in a user namespace otherwise: nothing stays mounted) after the shell commands
    `mounts`, which see args as $1, $2 ...  Skips the test where mounting is refused."""
    unshare = ("unshare", "-m") if os.geteuid() == 0 else ("unshare", "-rm")
    prefix = (*unshare, "sh", "-c", '%s && shift %d && exec "$@"' % (mounts, len(args)), "sh", *map(str, args))
    if not _works(prefix):
        pytest.skip("cannot mount in a private mount namespace here")
    return prefix


def small_fs(folder, size):
    """Prefix: run the command with a tmpfs of `size` bytes on `folder` (which must exist)."""
    return with_mounts('mount -t tmpfs -o size="$1" tmpfs "$2"', size, folder)


def hidden_temporaries(folder):
    """Every file under folder that looks like a temporary: nbnumba's ".NAME.XXXXXX.tmp",
    Numba's "NAME.tmp.UID"."""
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names if n.endswith(".tmp") or ".tmp." in n]
    return found


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stderr_lines(stderr):
    """The stderr lines of a run, less the device line every run prints."""
    return [l for l in stderr.splitlines() if l.strip() and l != DEVICE_LINE]
