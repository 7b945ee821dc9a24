"""Numba's cache never fails a run (nbnumba/numba_internals.py): no writable cache place, a
corrupt or truncated cache file, a full disk under the cache.  Each case runs a real
`python -m nbnumba` and checks its exit code, its one warning line, the images (the C's
bytes) and that no temporary file is left.  Runs that compile everything take ~10 s each.

Before the guards: a read-only package folder with no writable home ended in a traceback at
import ("cannot cache function 'new_state': no locator available for file ..."); a
truncated cache file failed every later run with an UnpicklingError; a full disk under
NUMBA_CACHE_DIR failed the run after its render with OSError.
"""
import os
import shutil
import stat
import subprocess
import types

import numba.core.caching
import pytest

from nbnumba import numba_internals as cache
from oddenv import (OUTPUTS, SMALL, SMALL_SHA256, hidden_temporaries, nbnumba, run, sha256, small_fs, stderr_lines,
                    unprivileged)

PACKAGE = os.path.dirname(cache.__file__)       # .../nbnumba
LOADED = "nbnumba: warning: Numba's cache entry %s could not be loaded ("


def assert_images(folder):
    assert {name: sha256(os.path.join(folder, name)) for name in OUTPUTS} == SMALL_SHA256


def entries(folder):
    """{path: mtime_ns} of every cache file under folder."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            if name.endswith((".nbi", ".nbc")):
                path = os.path.join(root, name)
                found[path] = os.stat(path).st_mtime_ns
    return found


# ---------------------------------------------------------------- the internals relied on

def test_numba_internals_still_there():
    """What numba_internals.py reaches into for the cache guards, in the Numba installed (see
    its docstring)."""
    from nbnumba.output.statistics import _rmsd
    assert numba.core.caching.CacheImpl._locator_classes[-1] is cache._FallbackLocator
    assert numba.core.caching.Cache.load_overload.__wrapped__
    assert numba.core.caching.Cache.save_overload.__wrapped__
    c = _rmsd._cache
    assert isinstance(c, numba.core.caching.Cache)
    assert c._py_func is _rmsd.py_func and os.path.isdir(c._cache_path)
    assert c._cache_file._index_path.startswith(c._cache_path) and c._cache_file._index_path.endswith(".nbi")
    assert c._impl.locator.get_cache_path() == c._cache_path


def test_cache_internals_missing_warn_once(monkeypatch, capsys):
    """A caching module without the private names the guards wrap (another Numba): the guards
    stay off and one warning line says so, however many such modules there are."""
    monkeypatch.setattr(cache, "_warned", set())
    for name in ("first", "second"):
        fake = types.ModuleType("numba.%s.caching" % name)
        fake.CacheImpl = type("CacheImpl", (), {})          # no _locator_classes
        fake.Cache = numba.core.caching.Cache
        cache.guard(fake)
        cache.guard(fake)
    err = capsys.readouterr().err
    assert err.count("nbnumba: warning: ") == 1
    assert "numba.first.caching has no _locator_classes" in err and "guards" in err


def test_fallback_locator_is_for_nbnumba_only():
    def foreign(x):
        return x
    assert cache._FallbackLocator.from_function(foreign, __file__) is None


# ---------------------------------------------------------------- no writable place

@pytest.fixture(scope="module")
def read_only_install(tmp_path_factory):
    """A copy of the package that cannot be written, a home that cannot be written."""
    root = tmp_path_factory.mktemp("install")
    shutil.copytree(PACKAGE, root / "pkg" / "nbnumba", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "home").mkdir()
    for path in (root / "pkg", root / "home"):
        for folder, dirs, names in os.walk(path):
            for name in names:
                os.chmod(os.path.join(folder, name), 0o444)
            os.chmod(folder, 0o555)
    yield root
    for folder, dirs, names in os.walk(root):
        os.chmod(folder, 0o755)


def run_installed(root, cwd, tmpdir):
    """nbnumba SMALL from the read-only copy, as a service account: nothing of the user's."""
    argv, env = nbnumba(SMALL)
    for name in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME"):
        env.pop(name, None)
    env.update(PYTHONPATH=str(root / "pkg"), HOME=str(root / "home"), TMPDIR=str(tmpdir))
    return subprocess.run([*unprivileged(), *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          errors="replace", timeout=600)


@pytest.mark.slow
def test_read_only_install_caches_in_a_private_temporary_folder(read_only_install, tmp_path):
    tmpdir, out = tmp_path / "tmp", tmp_path / "out"
    tmpdir.mkdir()
    out.mkdir()
    folder = tmpdir / ("nbnumba-numba-cache-%d" % os.geteuid())
    warning = ("nbnumba: warning: Numba can write no cache in the nbnumba package folder or the user cache "
               "folder: caching compiled code in %s (set NUMBA_CACHE_DIR to choose)" % folder)
    p = run_installed(read_only_install, out, tmpdir)
    assert p.returncode == 0, p.stderr
    assert stderr_lines(p.stderr) == [warning]
    assert_images(out)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    saved = entries(folder)
    assert any(path.endswith(".nbc") for path in saved)

    p = run_installed(read_only_install, out, tmpdir)       # the next run loads what was saved
    assert p.returncode == 0, p.stderr
    assert stderr_lines(p.stderr) == [warning]
    assert entries(folder) == saved
    assert_images(out)
    assert hidden_temporaries(tmp_path) == []


@pytest.mark.slow
def test_nothing_writable_compiles_without_a_cache(read_only_install, tmp_path):
    tmpdir, out = tmp_path / "tmp", tmp_path / "out"
    tmpdir.mkdir(mode=0o555)
    out.mkdir()
    p = run_installed(read_only_install, out, tmpdir)
    assert p.returncode == 0, p.stderr
    assert stderr_lines(p.stderr) == [
        "nbnumba: warning: Numba can write no cache in the nbnumba package folder, the user cache folder or "
        "%s/nbnumba-numba-cache-%d: compiling without a cache, every run (set NUMBA_CACHE_DIR to a writable "
        "folder)" % (tmpdir, os.geteuid())]
    assert_images(out)
    assert sorted(os.listdir(out)) == sorted(OUTPUTS) and os.listdir(tmpdir) == []


# ---------------------------------------------------------------- corrupt entries, a full disk

@pytest.fixture(scope="module")
def seeded_cache(tmp_path_factory):
    """A NUMBA_CACHE_DIR holding every compiled function of a SMALL run."""
    folder = tmp_path_factory.mktemp("seed")
    p = run(SMALL, folder, NUMBA_CACHE_DIR=str(folder / "cache"))
    assert p.returncode == 0, p.stderr
    return folder / "cache"


def one_entry(folder, pattern):
    """(index, data) paths of the single cache entry whose names start with pattern."""
    index = [p for p in entries(folder) if os.path.basename(p).startswith(pattern) and p.endswith(".nbi")]
    assert len(index) == 1
    return index[0], index[0][:-len(".nbi")] + ".1.nbc"


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated data", "garbage index"])
def test_corrupt_entry_is_dropped_and_compiled_again(seeded_cache, tmp_path, damage):
    cache_dir, out = tmp_path / "cache", tmp_path / "out"
    shutil.copytree(seeded_cache, cache_dir)
    out.mkdir()
    index, data = one_entry(cache_dir, "statistics._rmsd-")
    if damage == "truncated data":
        with open(data, "r+b") as f:
            f.truncate(os.path.getsize(data) // 2)
    else:
        with open(index, "wb") as f:
            f.write(b"\x80\x05 not a pickle")
    p = run(SMALL, out, NUMBA_CACHE_DIR=str(cache_dir))
    assert p.returncode == 0, p.stderr
    lines = stderr_lines(p.stderr)
    assert len(lines) == 1 and lines[0].startswith(LOADED % index), lines
    assert lines[0].endswith("): removed, compiling again")
    assert_images(out)
    assert os.path.getsize(index) > 0       # saved again

    p = run(SMALL, out, NUMBA_CACHE_DIR=str(cache_dir))
    assert p.returncode == 0, p.stderr
    assert stderr_lines(p.stderr) == []
    assert hidden_temporaries(cache_dir) == []


@pytest.mark.slow
def test_full_disk_under_the_cache(seeded_cache, tmp_path):
    """The images go elsewhere: the run completes, one line says the new code was not kept."""
    disk, seen = tmp_path / "disk", tmp_path / "seen"
    disk.mkdir()
    seen.mkdir()
    script = ('cp -a "$SEED/." "$DISK/" && rm "$DISK"/*/statistics._rmsd-* && '
              '{ dd if=/dev/zero of="$DISK/filler" bs=4096 2>/dev/null || true; } && '
              '"$@" 2> "$SEEN/stderr"; echo $? > "$SEEN/rc"; find "$DISK" > "$SEEN/files"')
    p = run(SMALL, tmp_path, (*small_fs(disk, 4 << 20), "sh", "-c", script, "sh"),
            NUMBA_CACHE_DIR=str(disk), SEED=str(seeded_cache), DISK=str(disk), SEEN=str(seen))
    assert p.returncode == 0, p.stderr
    assert (seen / "rc").read_text() == "0\n"
    lines = stderr_lines((seen / "stderr").read_text())
    assert len(lines) == 1 and lines[0].startswith("nbnumba: warning: cannot save compiled code in Numba's cache "
                                                   "%s/" % disk), lines
    assert lines[0].endswith(" (No space left on device): the run goes on, the next one compiles again")
    assert_images(tmp_path)
    cache_files = (seen / "files").read_text().splitlines()
    assert not [f for f in cache_files if ".tmp" in os.path.basename(f) or "statistics._rmsd" in f]
