"""The CPU render kernel: physics.render_pixels over the detector rows, in parallel."""
import numpy as np
from numba import njit, prange

from nbnumba.kernels.cache import physics_keyed
from nbnumba.kernels.layout import (IP_FPIXELS, IP_ROI_XMAX, IP_ROI_XMIN, IP_ROI_YMAX, IP_ROI_YMIN, IP_SPIXELS,
                                    L_I, N_LAST)
from nbnumba.kernels.physics import pixel_value, render_pixels


@njit(parallel=True, cache=True, error_model="numpy")
@physics_keyed
def _render_range(fp, ip, vec, src, lattice, Fhkl, mask, first_idx, last_idx, unrot_idx, interp_cut,
                  image, flags, omega_rows):
    fpixels = ip[IP_FPIXELS]
    f_first = max(ip[IP_ROI_XMIN], 0)
    f_last = min(fpixels, ip[IP_ROI_XMAX] + 1)
    for spixel in prange(ip[IP_SPIXELS]):
        if spixel < ip[IP_ROI_YMIN] or spixel > ip[IP_ROI_YMAX]:
            continue
        if (spixel + 1) * fpixels <= first_idx or spixel * fpixels > last_idx:
            continue
        last = np.zeros(N_LAST)
        omega_rows[spixel] += render_pixels(spixel, f_first, f_last, first_idx, last_idx, unrot_idx, interp_cut,
                                            fp, ip, vec, src, lattice, Fhkl, mask, image, flags, 0, last, None)


@njit(cache=True, error_model="numpy")
@physics_keyed
def render_one(fpixel, spixel, unrot_idx, interp_cut, fp, ip, vec, src, lattice, Fhkl, tr):
    """One pixel, serially, from the entry state the serial C gives it: returns its value and
    the loop's last state (for -printout, the interpolation warning and -trace_pixel, which
    passes a trace buffer as tr)."""
    idx = spixel * ip[IP_FPIXELS] + fpixel
    image = np.zeros(1, dtype=np.float32)
    flags = np.zeros(1, dtype=np.uint8)
    last = np.zeros(N_LAST)
    render_pixels(spixel, fpixel, fpixel + 1, idx, idx, unrot_idx, interp_cut, fp, ip, vec, src, lattice, Fhkl,
                  np.zeros(0, dtype=np.uint16), image, flags, idx, last, tr)
    return pixel_value(last[L_I], last, fp, ip), flags[0], last


def render_range(plan, first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows):
    """Target interface (see dispatch.render): render the ROI pixels with raster index in
    [first_idx, last_idx] into image (float32); unrot_idx and interp_cut give each pixel the
    serial C's entry state (physics.render_pixels)."""
    _render_range(plan.fp, plan.ip, plan.vec, plan.src, plan.lattice, plan.Fhkl, plan.mask,
                  first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows)


def render_pixel(plan, result, idx, tr=None):
    """Render pixel idx alone as it is in the serial C's run described by result."""
    return render_one(idx % plan.fpixels, idx // plan.fpixels, result.unrot_idx, result.interp_cut,
                      plan.fp, plan.ip, plan.vec, plan.src, plan.lattice, plan.Fhkl, tr)
