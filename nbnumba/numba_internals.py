"""Every reach of nbnumba into Numba's internals, in one module, each documented and tested
(tests/test_numba_internals.py, tests/test_numba_cache.py).

1. Cache freshness (`physics_keyed`).  Numba keys a compiled function on its own file only;
   the kernels inline physics.py, params.py and cfuncs/vectors.py, so an edit there would leave a
   stale kernel in the cache.  `physics_keyed` puts a digest of those sources into the
   function's __qualname__, which names its cache entry.
2. Cache robustness (`guard`, `guard_loaded`): Numba's cache never fails a run (below).
3. Start-up (`start_cpu_target`): the command initialises Numba's CPU target without the
   SciPy BLAS probe of numba.np.arraymath (0.2-0.3 s).
4. Float32 clones (`retype_functions`): copies of register_jitable functions whose float
   literals, math.pi and float() are float32, registered with the options the originals were
   registered with (read from Numba's typing registry): -precision single on a GPU.
5. No multiply-add contraction (`no_fma_contraction`): NVVM's compile call gets fma=0 for the
   IR of the named CUDA kernels (Numba has no public option for it).

When a private name is not where this module looks (another Numba version), nothing degrades
silently: the cache guards and the clones' registration options go with one warning line
each (a run still renders the same image), and `no_fma_contraction` raises `MissingInternal`
(the double CUDA kernel refuses to run rather than round differently from the C:
kernels/cuda.py).  setup.cfg pins Numba to the versions this was tested with.

Cache robustness.  Numba's cache can fail a run that does not need it; for nbnumba's
functions (those of the nbnumba package: everything else in the process sees Numba unchanged):

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

The internals touched: numba.core.caching (and numba-cuda's copy of it,
numba.cuda.core.caching): `CacheImpl._locator_classes` (the places tried, in order:
`_FallbackLocator` is appended), `Cache.load_overload` and `Cache.save_overload` (wrapped), and
a cache's `_impl.locator`, `_py_func`, `_cache_path` and `_cache_file._index_path` (read by
the wrappers); numba.np.arraymath's import-time `_check_blas`; the typing registry's
`builtin_registry.globals` and a template's `_jit_options` and `_inline`; numba.cuda's
`cudadrv.nvvm.compile_ir`.  `guard_loaded()` applies the cache guards to the caching modules
imported so far; it runs when this module is imported, before the decorators of the modules
that import it.
"""
import contextlib
import functools
import hashlib
import math
import os
import stat
import sys
import tempfile
import types

import numba.core.caching
import numpy as np

from nbnumba import interrupt

class MissingInternal(RuntimeError):
    """A private Numba name nbnumba relies on is missing (a Numba outside the tested range)."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "nbnumba"
FALLBACK_NAME = "nbnumba-numba-cache-%d"      # % the effective user id


# ---- 1. cache freshness ----

PHYSICS_SOURCES = (os.path.join("kernels", "physics.py"), os.path.join("kernels", "params.py"),
                   os.path.join("cfuncs", "vectors.py"), "constants.py")


def physics_digest(folder=_PACKAGE):
    """A digest of the physics sources under the package folder `folder` (the kernels' cache key)."""
    h = hashlib.sha1()
    for name in PHYSICS_SOURCES:
        with open(os.path.join(folder, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


DIGEST = physics_digest()


def physics_keyed(func):
    """Rename func's cache entry after the physics sources it compiles in (apply before @njit)."""
    func.__qualname__ = "%s_%s" % (func.__qualname__, DIGEST)
    return func


# ---- 2. cache robustness ----

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
    """Put the fallback locator and the load/save guards on a Numba caching module (once).
    Where its private names are missing, the guards are left off with one warning line."""
    if getattr(caching, "_nbnumba_guarded", False):
        return
    caching._nbnumba_guarded = True
    try:
        locators = caching.CacheImpl._locator_classes
        load, save = caching.Cache.load_overload, caching.Cache.save_overload
    except AttributeError as err:
        _warn_once("guards", "Numba's %s has no %s (a Numba version nbnumba was not tested with): the guards "
                   "that keep a missing, corrupt or unwritable cache from failing a run are off"
                   % (caching.__name__, err.name))
        return
    locators.append(_FallbackLocator)
    caching.Cache.load_overload = _guarded_load(load)
    caching.Cache.save_overload = _guarded_save(save)


def guard_loaded():
    """Guard every Numba caching module imported so far (numba-cuda brings its own copy)."""
    for name in ("numba.core.caching", "numba.cuda.core.caching"):
        if name in sys.modules:
            guard(sys.modules[name])


guard_loaded()


# ---- 3. start-up ----

_BLAS_MODULES = ("scipy.linalg.cython_blas", "scipy.linalg.cython_lapack")


def start_cpu_target():
    """Initialise Numba's CPU target without its SciPy BLAS probe (idempotent).

    Numba initialises its CPU target the first time a compiled function is loaded.  Part of
    that is importing numba.np.arraymath, which probes SciPy's BLAS (`_HAVE_BLAS =
    _check_blas()`) and so imports scipy.linalg: 0.2-0.3 s of a run whose kernels use no BLAS.
    arraymath is imported here with scipy.linalg's BLAS/LAPACK modules masked (np.dot and
    np.linalg are then unavailable to *Numba* in this process; SciPy itself still imports
    normally afterwards).  Only the `nbnumba` command calls this: a program that imports
    nbnumba as a library keeps Numba's usual start-up."""
    if "numba.np.arraymath" not in sys.modules:
        masked = [name for name in _BLAS_MODULES if name not in sys.modules]
        for name in masked:
            sys.modules[name] = None        # `import` of a None entry raises ImportError
        try:
            import numba.np.arraymath  # noqa: F401  (registers its implementations)
        finally:
            for name in masked:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]
    from numba.core.registry import cpu_target
    cpu_target.target_context.refresh()


_ARRAY_TYPES = {}      # (class, dtype, ndim, layout flags, writeable) -> Numba type


def argument_types(args):
    """numba.typeof of each argument, NumPy arrays' types kept per class, dtype, dimensions,
    layout and writeability: typing a record array anew (the kernel parameters) costs about
    1 ms, which each job of a warm process (batch, server) would pay when loading its kernels."""
    types_ = []
    for a in args:
        if type(a) is np.ndarray:
            f = a.flags
            key = (a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.aligned, f.writeable)
            if key not in _ARRAY_TYPES:
                _ARRAY_TYPES[key] = numba.typeof(a)
            types_.append(_ARRAY_TYPES[key])
        else:
            types_.append(numba.typeof(a))
    return tuple(types_)


# ---- 4. float32 clones ----

def jit_options(fn):
    """register_jitable's options of fn (inline=...), read back from Numba's typing registry;
    {} if fn is not registered.  Where the registry's private names are missing: {} and one
    warning line (the clones are then plain register_jitable: the same arithmetic, perhaps
    inlined differently)."""
    try:
        from numba.core.typing.templates import builtin_registry
        for f, ty in builtin_registry.globals:
            if f is fn:
                tmpl = ty.templates[0]
                opts = {k: v for k, v in tmpl._jit_options.items() if k not in ("nopython", "no_cpython_wrapper")}
                if tmpl._inline.value != "never":
                    opts["inline"] = tmpl._inline.value
                return opts
    except (ImportError, AttributeError, IndexError, TypeError) as err:
        _warn_once("jit_options", "cannot read register_jitable's options from Numba's typing registry (%s: %s; a "
                   "Numba version nbnumba was not tested with): the float32 clones are registered without them"
                   % (type(err).__name__, err))
    return {}


def retype_functions(ftype, modules):
    """Clones of every function of `modules` whose float literals, math.pi and float() are
    `ftype`; each clone is register_jitable (with its original's options) and calls the other
    clones.  Returns the last module's namespace of clones (a SimpleNamespace)."""
    from numba.extending import register_jitable
    fmath = types.ModuleType("math_" + np.dtype(ftype).name)
    fmath.__dict__.update(math.__dict__)
    fmath.pi = ftype(math.pi)
    fmath.e = ftype(math.e)
    originals = [fn for m in modules for fn in vars(m).values()
                 if isinstance(fn, types.FunctionType) and fn.__module__ == m.__name__]
    clones = {}
    spaces = {}
    for m in modules:
        g = dict(vars(m))
        g["math"] = fmath
        g["float"] = ftype
        spaces[m.__name__] = g
    for fn in originals:
        code = fn.__code__
        consts = tuple(ftype(c) if type(c) is float else c for c in code.co_consts)
        clone = types.FunctionType(code.replace(co_consts=consts), spaces[fn.__module__], fn.__name__,
                                   fn.__defaults__, fn.__closure__)
        clone.__qualname__ = fn.__qualname__
        clone.__doc__ = fn.__doc__
        clones[fn] = clone
    for g in spaces.values():
        for name, value in list(g.items()):
            if isinstance(value, types.FunctionType) and value in clones:
                g[name] = clones[value]
    for fn, clone in clones.items():
        opts = jit_options(fn)
        (register_jitable(**opts)(clone) if opts else register_jitable(clone))
    return types.SimpleNamespace(**spaces[modules[-1].__name__])


# ---- 5. no multiply-add contraction ----

def no_fma_contraction(*kernel_names):
    """Compile the IR of CUDA kernels whose names contain one of `kernel_names` with NVVM's fma=0.

    NVVM fuses a*b+c into one fma by default (-fma=1), which the C does not do (gcc -O3 for
    baseline x86-64 has no fma instruction to contract into).  libNVVM's compile call is
    wrapped (once; later calls add names).  Under the CUDA simulator (no NVVM: kernels run as
    Python) there is nothing to do.  Raises MissingInternal where numba.cuda has no
    cudadrv.nvvm.compile_ir to wrap."""
    if numba.config.ENABLE_CUDASIM:
        return
    try:
        from numba.cuda.cudadrv import nvvm
        orig = nvvm.compile_ir
    except (ImportError, AttributeError) as err:
        raise MissingInternal("this numba.cuda has no cudadrv.nvvm.compile_ir (%s), through which nbnumba compiles "
                              "the double kernel without multiply-add contraction" % err) from err
    names = getattr(orig, "_nbnumba_no_fma", None)
    if names is not None:
        names.update(kernel_names)
        return
    names = set(kernel_names)

    def compile_ir(llvmir, **options):
        irs = [llvmir] if isinstance(llvmir, (str, bytes)) else llvmir
        if not options.get("fastmath") and "fma" not in options and any(
                isinstance(ir, str) and any(name in ir for name in names) for ir in irs):
            options["fma"] = False
        return orig(llvmir, **options)

    compile_ir._nbnumba_no_fma = names
    compile_ir.__wrapped__ = orig
    nvvm.compile_ir = compile_ir
