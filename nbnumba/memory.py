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
