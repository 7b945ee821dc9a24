"""Numba's on-disk cache keys a compiled function on its own file only; the kernels inline
physics.py, vectors.py and params.py, so an edit there would leave a stale kernel in the cache.
`physics_keyed` puts a digest of those sources into the function's cache name."""
import hashlib
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


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
