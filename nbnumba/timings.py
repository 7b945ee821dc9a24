"""-timings (or NBNUMBA_TIMINGS=1): how long each phase of a run took, as one stderr line.

    nbnumba: timings: imports 0.21 s, numba start-up 0.12 s, set-up 0.03 s, kernel load 0.01 s,
    render 1.42 s, outputs 0.04 s, total 1.83 s

"imports" runs from the process's start (the interpreter's own start-up included) to the
first line of the run; the other phases are measured around the code that does them.
"""
import os
import time
from contextlib import contextmanager


def process_age():
    """Seconds since this process started (from /proc), or None where there is no /proc."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")     # field 22, starttime, in ticks after boot
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(uptime - started, 0.0)


class PhaseClock:
    """Seconds spent per named phase, in the order the phases first ran."""

    def __init__(self):
        self.seconds = {}

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def phase(self, name):
        """Time the block as (part of) phase `name`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def line(self):
        """The report: "nbnumba: timings: name 0.12 s, ..., total T s"."""
        parts = ["%s %.3f s" % (name, sec) for name, sec in self.seconds.items()]
        parts.append("total %.3f s" % sum(self.seconds.values()))
        return "nbnumba: timings: " + ", ".join(parts)
