"""Numba start-up for the command line (one of nbnumba's reaches into Numba internals).

Numba initialises its CPU target the first time a compiled function is loaded.  Part of that
is importing numba.np.arraymath, which probes SciPy's BLAS (`_HAVE_BLAS = _check_blas()`) and
so imports scipy.linalg: 0.2-0.3 s of a run whose kernels use no BLAS.  `start_cpu_target`
imports arraymath with scipy.linalg's BLAS/LAPACK modules masked (np.dot and np.linalg are then
unavailable to *Numba* in this process; SciPy itself still imports normally afterwards) and
builds the CPU target's contexts.  Only the `nbnumba` command calls it: a program that imports
nbnumba as a library keeps Numba's usual start-up.
"""
import sys

_BLAS_MODULES = ("scipy.linalg.cython_blas", "scipy.linalg.cython_lapack")


def start_cpu_target():
    """Initialise Numba's CPU target without its SciPy BLAS probe (idempotent)."""
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
