"""Up-front size checks: a table that cannot fit in memory is refused before it is built.

nanoBragg.c allocates its tables as it goes (the image, the structure-factor grid, the
sources, the mosaic domains) and crashes, or prints divergence lines for hours, when one of
them is absurdly large.  nbnumba estimates each one first and refuses with one line naming
the flag or file that made it large.
"""
from nbnumba.errors import NBError


def available_memory():
    """MemAvailable from /proc/meminfo (bytes), or None where there is no such file."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def require(nbytes, what, check):
    """Refuse (NBError, exit 9) when `nbytes` exceeds the available memory.

    `what` says what would be built ("a 16x16 pixel image"), `check` which flags or file to
    look at ("-detpixels/-detsize/-pixel").  Sizes of 2**50 bytes and more are refused even
    where the available memory is unknown."""
    avail = available_memory()
    if nbytes >= 2 ** 50 or (avail is not None and nbytes > avail):
        raise NBError("ERROR: %s needs about %.3g GB of memory; %s available (check %s)"
                      % (what, nbytes / 1e9, "%.3g GB is" % (avail / 1e9) if avail is not None else "less is",
                         check))


WORKER_BYTES = 512 * 2**20      # a warm render process: Python, NumPy, Numba and LLVM, and a job's images


def worker_cap(requested, per_worker=WORKER_BYTES):
    """How many worker processes of about `per_worker` bytes each this machine can run:
    (count, why) with count = min(requested, its cores, what its available memory holds) and
    why None when nothing was cut, else a phrase saying what limited it."""
    import os
    cores = len(os.sched_getaffinity(0))
    avail = available_memory()
    by_memory = max(1, avail // per_worker) if avail is not None else requested
    count = max(1, min(requested, cores, by_memory))
    if count == requested:
        return count, None
    reason = "%d core%s" % (cores, "s" if cores != 1 else "") if count == cores else \
        "%.1f GiB of memory available (about %d MiB each)" % (avail / 2**30, per_worker // 2**20)
    return count, reason
