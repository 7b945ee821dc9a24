"""How a run is carried out, as opposed to what it renders: one record, read once at the edge.

The command line (`args/`) says what to render; `Settings` says where and how: the device,
whether odd input is refused, whether phases are timed, how many threads render, how big a
render chunk is, and which server the launcher hands runs to.  The command and the server
read it from the environment once, with `Settings.from_environ(os.environ)` (or a job's
environment, for a served run), and pass it down; nothing below reads the environment, so
the Python API behaves the same whatever the caller's environment holds:

    nbnumba.Simulation(..., settings=nbnumba.Settings(device="cpu", strict=True))
    nbnumba.Simulation(..., settings=nbnumba.Settings.from_environ())   # as the command would

This module imports the standard library only (the launcher reads `server` before it
decides whether to load NumPy and Numba at all).  Numba's own variables (NUMBA_NUM_THREADS,
NUMBA_CACHE_DIR, NUMBA_ENABLE_CUDASIM, ...) are Numba's, read by Numba when it is imported.
"""
import os
from dataclasses import dataclass
from typing import Optional

from nbnumba.errors import NBError

DEVICES = ("auto", "cpu", "cuda")
OFF = "off"             # server=off: always in-process


def _flag(text):
    """A yes/no variable: set and not "0" means yes."""
    return text not in (None, "", "0")


def _count(name, text):
    """A whole number of at least 0 from variable `name` (unset or empty: 0)."""
    if text in (None, ""):
        return 0
    if not (text.isascii() and text.isdigit()):
        raise NBError(f"ERROR: {name} must be a whole number of at least 0, not '{text}'", 2)
    return int(text)


def _columns(text):
    """$COLUMNS as shutil.get_terminal_size reads it: a positive whole number, else None."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


@dataclass(frozen=True)
class Settings:
    """How a run is carried out (see the module docstring).

    Attributes
    ----------
    device : str
        "auto" (a CUDA GPU when there is one, else the CPU), "cpu" or "cuda"; a run's
        `-device` flag takes precedence.  Environment: NBNUMBA_DEVICE.
    strict : bool
        Refuse odd input instead of warning (as `-strict`).  NBNUMBA_STRICT=1.
    timings : bool
        Report each phase's time on stderr (as `-timings`).  NBNUMBA_TIMINGS=1.
    threads : int or None
        Numba threads for a CPU render (None: all that Numba has, NUMBA_NUM_THREADS).
        NBNUMBA_THREADS.
    chunk_pixels : int
        Pixels per render chunk (0: sized from the measured speed to take about 0.15 s; a
        signal stops a render between chunks).  NBNUMBA_CHUNK_PIXELS.
    debug : bool
        Show the traceback of an internal error instead of one line.  NBNUMBA_DEBUG=1.
    server : str
        Where the launcher hands runs to: "" (the user's server, when one runs), "off"
        (always in-process) or a socket path.  NBNUMBA_SERVER.
    columns : int or None
        The width -h fits (None: the terminal's, or 100).  COLUMNS.
    cuda_max_registers : int or None
        The register cap the CUDA pixel kernels are built with (None: no cap).  128 was the
        fastest cap measured on an H100 for an earlier kernel (docs/performance.md,
        benchmarks/cuda_ptxas.py); re-tune it on a GPU.  NBNUMBA_CUDA_MAX_REGISTERS (0: none).
    cuda_tile_rows : int
        The most detector rows a GPU tile holds (0: as many as fit in its free memory).
        NBNUMBA_CUDA_TILE_ROWS.
    """
    device: str = "auto"
    strict: bool = False
    timings: bool = False
    threads: Optional[int] = None
    chunk_pixels: int = 0
    debug: bool = False
    server: str = ""
    columns: Optional[int] = None
    cuda_max_registers: Optional[int] = 128
    cuda_tile_rows: int = 0

    ENVIRONMENT = {"device": "NBNUMBA_DEVICE", "strict": "NBNUMBA_STRICT", "timings": "NBNUMBA_TIMINGS",
                   "threads": "NBNUMBA_THREADS", "chunk_pixels": "NBNUMBA_CHUNK_PIXELS", "debug": "NBNUMBA_DEBUG",
                   "server": "NBNUMBA_SERVER", "columns": "COLUMNS",
                   "cuda_max_registers": "NBNUMBA_CUDA_MAX_REGISTERS", "cuda_tile_rows": "NBNUMBA_CUDA_TILE_ROWS"}

    def __post_init__(self):
        if self.device not in DEVICES:
            raise NBError(f"ERROR: the device must be auto, cpu or cuda, not '{self.device}'", 2)
        for name, least, optional in (("threads", 1, True), ("cuda_max_registers", 1, True),
                                      ("chunk_pixels", 0, False), ("cuda_tile_rows", 0, False)):
            value = getattr(self, name)
            if (value is None and optional) or (isinstance(value, int) and not isinstance(value, bool)
                                                and value >= least):
                continue
            raise NBError(f"ERROR: {name} must be a whole number of at least {least}, not '{value}'", 2)

    @classmethod
    def from_environ(cls, env=None):
        """The settings an environment (default: this process's) asks for.

        Raises
        ------
        nbnumba.NBError
            A variable holds a value it cannot take (the message names it).
        """
        env = os.environ if env is None else env
        names = cls.ENVIRONMENT
        device = env.get(names["device"]) or "auto"
        if device not in DEVICES:
            raise NBError(f"ERROR: {names['device']} must be auto, cpu or cuda, not '{device}'", 2)
        registers = env.get(names["cuda_max_registers"]) or str(cls.cuda_max_registers)    # unset or empty: 128
        threads = _count(names["threads"], env.get(names["threads"])) or None
        return cls(device=device, strict=_flag(env.get(names["strict"])), timings=_flag(env.get(names["timings"])),
                   threads=threads, chunk_pixels=_count(names["chunk_pixels"], env.get(names["chunk_pixels"])),
                   debug=_flag(env.get(names["debug"])), server=env.get(names["server"], ""),
                   columns=_columns(env.get(names["columns"])),
                   cuda_max_registers=_count(names["cuda_max_registers"], registers) or None,
                   cuda_tile_rows=_count(names["cuda_tile_rows"], env.get(names["cuda_tile_rows"])))
