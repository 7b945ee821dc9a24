"""Numba's on-disk cache of nbnumba's compiled functions: kept fresh, and never the reason a
run fails.

Freshness.  Numba keys a compiled function on its own file only; the kernels inline
physics.py, vectors.py and params.py, so an edit there would leave a stale kernel in the
cache.  `physics_keyed` puts a digest of those sources into the function's cache name.

Robustness.  Numba's cache can fail a run that does not need it; for nbnumba's functions
(those of the nbnumba package: everything else in the process sees Numba unchanged):

- No place to cache (a read-only package folder, no writable home or cache folder: service
  accounts).  Numba raises "cannot cache function ...: no locator available" as the
  `@njit(cache=True)` decorator runs, i.e. at import.  `_FallbackLocator`, consulted after
  all of Numba's own places, caches in a private folder in $TMPDIR or /tmp (FALLBACK_NAME,
  owned by this user and writable by nobody else: the cache holds pickles, which run code
  when loaded); failing that, the functions are compiled without a cache.  One warning line
  says which.
- A corrupt or truncated cache file (an interrupted copy, a full disk in an earlier run).
  Numba raises its unpickling error on every later run.  The load is guarded: an entry that
  cannot be loaded is dropped (its index file removed) and the function compiled again,
  with one warning line; the new entry then replaces it.
- A cache that cannot be written (a full disk, a read-only cache folder).  Numba fails the
  run after compiling.  The save is guarded: the compiled code is used, one warning line
  says it could not be kept.  Saves run with SIGINT/SIGTERM/SIGHUP deferred, so Numba's own
  temporary file is never left half-written in the cache folder.

Reaches into Numba internals (numba.core.caching, and numba-cuda's copy of it,
numba.cuda.core.caching), all here: `CacheImpl._locator_classes` (the places tried, in
order: `_FallbackLocator` is appended), `Cache.load_overload` and `Cache.save_overload`
(wrapped), and a cache's `_impl.locator`, `_py_func`, `_cache_path` and
`_cache_file._index_path` (read by the wrappers).  tests/test_numba_cache.py checks each
against the Numba installed.  `guard_loaded()` applies them to the caching modules imported
so far; it runs when this module is imported, before the decorators of the modules that
import it.
"""
import contextlib
import functools
import hashlib
import os
import stat
import sys
import tempfile

import numba.core.caching

from nbnumba import interrupt

_HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "nbnumba"
FALLBACK_NAME = "nbnumba-numba-cache-%d"      # % the effective user id


def _digest():
    h = hashlib.sha1()
    for name in ("physics.py", "vectors.py", "params.py"):
        with open(os.path.join(_HERE, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


DIGEST = _digest()


def physics_keyed(func):
    """Rename func's cache entry after the physics sources it compiles in (apply before @njit)."""
    func.__qualname__ = "%s_%s" % (func.__qualname__, DIGEST)
    return func


# ---- robustness ----

_warned = set()


def _warn_once(kind, text):
    """One "nbnumba: warning: ..." line on stderr per kind of trouble and process."""
    if kind in _warned:
        return
    _warned.add(kind)
    stream = sys.stderr         # None when fd 2 was closed at start-up
    with contextlib.suppress(AttributeError, OSError, ValueError):
        stream.write("nbnumba: warning: %s\n" % text)
        stream.flush()


def _ours(py_func):
    return getattr(py_func, "__module__", "").split(".")[0] == PACKAGE


@functools.lru_cache(maxsize=None)
def fallback_folder():
    """The private cache folder of `_FallbackLocator`, FALLBACK_NAME in $TMPDIR (default /tmp),
    created 0700; None when that cannot be had safely (then nbnumba's functions are compiled
    without a cache).  Says which once, on stderr."""
    folder = os.path.join(os.environ.get("TMPDIR") or "/tmp", FALLBACK_NAME % os.geteuid())
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        st = os.lstat(folder)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise PermissionError("%s is not a private folder of this user" % folder)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        _warn_once("locator", "Numba can write no cache in the nbnumba package folder, the user cache "
                   "folder or %s: compiling without a cache, every run (set NUMBA_CACHE_DIR to a writable "
                   "folder)" % folder)
        return None
    _warn_once("locator", "Numba can write no cache in the nbnumba package folder or the user cache "
               "folder: caching compiled code in %s (set NUMBA_CACHE_DIR to choose)" % folder)
    return folder


class _FallbackLocator:
    """A Numba cache locator (the interface of numba.core.caching._CacheLocator) for
    nbnumba's functions when Numba's own places cannot be written: `fallback_folder()`,
    one subfolder per package folder (two copies of nbnumba do not share entries).
    With no fallback folder, `folder` is None and the guards neither load nor save."""

    def __init__(self, py_func, py_file, folder):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self.folder = folder
        source_dir = os.path.dirname(os.path.abspath(py_file))
        self._cache_path = os.path.join(folder or "", "%s_%s" % (
            os.path.basename(source_dir), hashlib.sha1(os.fsencode(source_dir)).hexdigest()[:16]))

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _ours(py_func) or not os.path.isfile(py_file):
            return None
        return cls(py_func, py_file, fallback_folder())

    def ensure_cache_path(self):
        os.makedirs(self._cache_path, mode=0o700, exist_ok=True)

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        with open(self._py_file, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def get_disambiguator(self):
        return str(self._lineno)


def _uncached(cache):
    locator = cache._impl.locator
    return isinstance(locator, _FallbackLocator) and locator.folder is None


def _guarded_load(load_overload):
    @functools.wraps(load_overload)
    def guarded(self, sig, target_context):
        if not _ours(self._py_func):
            return load_overload(self, sig, target_context)
        if _uncached(self):
            return None
        try:
            return load_overload(self, sig, target_context)
        except Exception as err:    # unpickling, truncated data, a stale object: drop, recompile
            index = self._cache_file._index_path
            with contextlib.suppress(OSError):
                os.unlink(index)
            _warn_once("load", "Numba's cache entry %s could not be loaded (%s: %s): removed, compiling "
                       "again" % (index, type(err).__name__, err))
            return None
    return guarded


def _guarded_save(save_overload):
    @functools.wraps(save_overload)
    def guarded(self, sig, data):
        if not _ours(self._py_func):
            return save_overload(self, sig, data)
        if _uncached(self):
            return None
        try:
            with interrupt.deferred():
                save_overload(self, sig, data)
        except OSError as err:
            _warn_once("save", "cannot save compiled code in Numba's cache %s (%s): the run goes on, "
                       "the next one compiles again" % (self._cache_path, err.strerror))
        return None
    return guarded


def guard(caching):
    """Put the fallback locator and the load/save guards on a Numba caching module (once)."""
    if getattr(caching, "_nbnumba_guarded", False):
        return
    caching._nbnumba_guarded = True
    caching.CacheImpl._locator_classes.append(_FallbackLocator)
    caching.Cache.load_overload = _guarded_load(caching.Cache.load_overload)
    caching.Cache.save_overload = _guarded_save(caching.Cache.save_overload)


def guard_loaded():
    """Guard every Numba caching module imported so far (numba-cuda brings its own copy)."""
    for name in ("numba.core.caching", "numba.cuda.core.caching"):
        if name in sys.modules:
            guard(sys.modules[name])


guard_loaded()
