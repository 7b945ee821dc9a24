"""Choose the render target and reproduce the serial C's carried state around parallel kernels.

Both targets render every pixel independently from an entry state.  The serial C carries
two things from pixel to pixel (see docs/quirks.md); this module restores them exactly:
- phi carryover: the first pixel whose phi sweep runs starts from the unrotated lattice,
  every later pixel from the lattice the sweep leaves (kernel argument unrot_idx);
- interpolation switch-off: after the first out-of-range tricubic neighbourhood the C
  interpolates no more; pixels after that one are rendered again with it off.
"""
import os

import numpy as np

from nbnumba.errors import NBError
from nbnumba.kernels.layout import (IP_INTERPOLATE, IP_ROI_XMAX, IP_ROI_XMIN, IP_ROI_YMAX, IP_ROI_YMIN, PIX_EXECUTED,
                                    PIX_OOR)

NO_LIMIT = np.iinfo(np.int64).max


def cuda_available():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True
    try:
        from numba import cuda
        return cuda.is_available()
    except Exception:   # a broken CUDA install is "no CUDA" for auto
        return False


def select_target(device, precision, warn):
    """Return (target module, device, precision) for -device auto|cpu|cuda and -precision.

    -precision single needs a GPU: with -device auto and none present, warn(text) and render
    in double (portable scripts keep working); with an explicit -device cpu it is an error."""
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
        if device == "cpu" and precision == "single":
            warn("-precision single needs a CUDA GPU and none is available: rendering in double")
            precision = "double"
    if device == "cuda":
        if not cuda_available():
            raise NBError("ERROR: -device cuda: no CUDA GPU is available (numba.cuda.is_available() is False)", 2)
        from nbnumba.kernels import cuda as target
        return (target.SINGLE if precision == "single" else target), "cuda", precision
    if precision == "single":
        raise NBError("ERROR: -precision single is a GPU option; the CPU kernel computes in double, as the C", 2)
    from nbnumba.kernels import cpu as target
    return target, "cpu", "double"


def first_active_pixel(plan):
    """Raster index of the first ROI pixel not masked off, or -1."""
    ip = plan.ip
    x0, x1 = max(int(ip[IP_ROI_XMIN]), 0), min(int(ip[IP_ROI_XMAX]), plan.fpixels - 1)
    y0, y1 = max(int(ip[IP_ROI_YMIN]), 0), min(int(ip[IP_ROI_YMAX]), plan.spixels - 1)
    if x0 > x1 or y0 > y1:
        return -1
    if not plan.mask.size:
        return y0 * plan.fpixels + x0
    box = plan.mask.reshape(plan.spixels, plan.fpixels)[y0:y1 + 1, x0:x1 + 1]
    hits = np.flatnonzero(box)
    if not hits.size:
        return -1
    row, col = divmod(int(hits[0]), x1 - x0 + 1)
    return (y0 + row) * plan.fpixels + x0 + col


class RenderResult:
    def __init__(self, image, flags, omega_sum, unrot_idx, interp_cut):
        self.image = image            # float32 (pixels,)
        self.flags = flags            # uint8 (pixels,), layout.PIX_*
        self.omega_sum = omega_sum    # the C's omega_sum
        self.unrot_idx = unrot_idx    # the pixels' entry state (physics.render_pixels),
        self.interp_cut = interp_cut  # to render one of them again

def render(plan, target):
    pixels = plan.fpixels * plan.spixels
    image = np.zeros(pixels, dtype=np.float32)
    flags = np.zeros(pixels, dtype=np.uint8)
    omega_rows = np.zeros(plan.spixels)
    scratch_rows = np.zeros(plan.spixels)
    unrot = first_active_pixel(plan)
    target.render_range(plan, 0, NO_LIMIT, unrot, NO_LIMIT, image, flags, omega_rows)

    executed = np.flatnonzero(flags & PIX_EXECUTED)
    if executed.size and executed[0] != unrot:
        unrot = int(executed[0])
        target.render_range(plan, unrot, unrot, unrot, NO_LIMIT, image, flags, scratch_rows)
    interp_cut = NO_LIMIT
    oor = np.flatnonzero(flags & PIX_OOR)
    if plan.ip[IP_INTERPOLATE] and oor.size:
        interp_cut = int(oor[0])
        target.render_range(plan, interp_cut + 1, NO_LIMIT, unrot, interp_cut, image, flags, scratch_rows)
    return RenderResult(image, flags, float(omega_rows.sum()), unrot, interp_cut)
