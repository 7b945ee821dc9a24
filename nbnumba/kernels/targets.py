"""Render targets: what a target provides (`RenderTarget`), which targets there are, and
choosing one (`select_target`, `cuda_available`).

A target is a class whose instances render one plan over its ROI box: cpu.CpuRender (the
CPU, double precision) and cuda.CudaRender / cuda.CudaRender32 (a CUDA GPU, double and
single precision).  serial_replay.prepare makes one and loads its kernels;
serial_replay.render drives it chunk by chunk; output/report.py and output/trace.py render
single pixels again through its `pixel`.
"""
import os
from typing import Protocol, runtime_checkable

import numpy as np

from nbnumba.errors import NBError


@runtime_checkable
class RenderTarget(Protocol):
    """One render of a plan (kernels/plan.py RenderPlan) on one device, in one precision.

    Attributes
    ----------
    name : str
        The device: "cpu" or "cuda".
    precision : str
        "double" (the C's arithmetic) or "single" (float32 physics).
    max_chunk : int
        The most box pixels one `render` call may cover, never crossing a multiple of it
        (a GPU target's tile; params.NO_PIXEL where there is no limit).
    plan : RenderPlan
        The plan being rendered.
    box : setup.detector.RoiBox
        The pixels the C's loop visits; box pixel t is raster pixel box.raster(t).
    """

    name: str
    precision: str
    max_chunk: int
    plan: object
    box: object

    def __init__(self, plan, box):
        """Set up the render of `plan` over `box` (buffers; nothing is rendered yet)."""

    def load(self):
        """Compile the kernels or load them from Numba's cache (the "kernel load" phase)."""

    def render(self, t_lo, t_hi, unrot_idx, interp_cut, count_omega=True):
        """Render box pixels [t_lo, t_hi) from the entry state (unrot_idx, interp_cut:
        params.Entry) into the target's image; with count_omega, add their solid angles to
        their rows' running sums, left to right.  Returns the raster indices of the first
        executed, first out-of-range and first NaN-index pixel among them (params.NO_PIXEL
        where there is none)."""

    def flags_of(self, t_lo, t_hi) -> np.ndarray:
        """The PIX_* flags of box pixels [t_lo, t_hi) as the last render left them."""

    def pixel(self, idx, unrot_idx, interp_cut, tr=None):
        """Raster pixel idx alone, from the given entry state: (value, last), value the
        pixel's float64 value before its float32 store, last the C's loop variables as the
        pixel leaves them (a params.LAST record); a trace buffer tr (params.TRACE_ROW array)
        is filled in place."""

    def finish(self):
        """(float32 image of plan.pixels values, per-row solid-angle sums)."""


def cuda_available():
    """A usable CUDA GPU (or the simulator), without importing numba.cuda where no NVIDIA
    driver is installed (that import alone costs 0.1-0.8 s)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True
    if not any(os.path.exists(p) for p in ("/dev/nvidiactl", "/proc/driver/nvidia", "/dev/dxg")):
        return False
    try:
        from numba import cuda
        return cuda.is_available()
    except Exception:   # a broken CUDA install is "no CUDA" for auto
        return False


def select_target(device, precision, warn):
    """The target class for -device and -precision.

    Parameters
    ----------
    device : str
        "auto" (a CUDA GPU when one is available, else the CPU), "cpu" or "cuda".
    precision : str
        "double" or "single".
    warn : callable
        Receives the warning text when the request is rendered otherwise than asked.

    Returns
    -------
    (type, str, str)
        The target class (a RenderTarget), the device and the precision it renders in.

    -precision single needs a GPU: with -device auto and none present, warn(text) and render
    in double (portable scripts keep working); with an explicit -device cpu it is an error.
    """
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
        if device == "cpu" and precision == "single":
            warn("-precision single needs a CUDA GPU and none is available: rendering in double")
            precision = "double"
    if device == "cuda":
        if not cuda_available():
            raise NBError("ERROR: -device cuda: no CUDA GPU is available (numba.cuda.is_available() is False)", 2)
        from nbnumba.kernels import cuda as target
        return (target.CudaRender32 if precision == "single" else target.CudaRender), "cuda", precision
    if precision == "single":
        raise NBError("ERROR: -precision single is a GPU option; the CPU kernel computes in double, as the C", 2)
    from nbnumba.kernels.cpu import CpuRender
    return CpuRender, "cpu", "double"
