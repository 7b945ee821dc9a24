"""The CPU render kernel: physics.render_pixel over pixels, parallel over detector rows."""
import numpy as np
from numba import njit, prange

from nbnumba.kernels.cache import physics_keyed
from nbnumba.kernels.layout import (IP_FPIXELS, IP_INTERPOLATE, IP_ROI_XMAX, IP_ROI_XMIN, IP_ROI_YMAX,
                                    IP_ROI_YMIN, IP_SPIXELS, L_OMEGA_SUM, N_LAST)
from nbnumba.kernels.physics import pixel_value, render_pixel


@njit(parallel=True, cache=True, error_model="numpy")
@physics_keyed
def _render_range(fp, ip, vec, src, lattice, Fhkl, mask, first_idx, last_idx, unrot_idx, interp_cut,
                 image, flags, omega_rows):
    """Render the ROI pixels with raster index in [first_idx, last_idx] into image (float32).

    unrot_idx: the pixel whose sweep is the first the serial C runs (it starts from the
    unrotated lattice; later pixels start from the carried one).  interp_cut: the last pixel
    that starts with interpolation on (the C's switch-off; see dispatch.render)."""
    fpixels = ip[IP_FPIXELS]
    spixels = ip[IP_SPIXELS]
    interpolate = ip[IP_INTERPOLATE]
    has_mask = mask.size > 0
    for spixel in prange(spixels):
        if spixel < ip[IP_ROI_YMIN] or spixel > ip[IP_ROI_YMAX]:
            continue
        last = np.zeros(N_LAST)
        omega = 0.0
        for fpixel in range(ip[IP_ROI_XMIN], min(fpixels, ip[IP_ROI_XMAX] + 1)):
            idx = spixel * fpixels + fpixel
            if idx < first_idx or idx > last_idx:
                continue
            if has_mask and mask[idx] == 0:
                continue
            I, f = render_pixel(fpixel, spixel, idx > unrot_idx, interpolate if idx <= interp_cut else 0,
                                fp, ip, vec, src, lattice, Fhkl, last, None)
            image[idx] = np.float32(pixel_value(I, last, fp, ip))
            flags[idx] = f
            omega += last[L_OMEGA_SUM]
        omega_rows[spixel] += omega


@njit(cache=True, error_model="numpy")
@physics_keyed
def render_one(fpixel, spixel, start_rotated, interpolate, fp, ip, vec, src, lattice, Fhkl, tr):
    """One pixel, serially, returning the value and the loop's last state (for -printout,
    the interpolation warning and -trace_pixel, which passes a trace buffer as tr)."""
    last = np.zeros(N_LAST)
    I, f = render_pixel(fpixel, spixel, start_rotated, interpolate, fp, ip, vec, src, lattice, Fhkl, last, tr)
    return pixel_value(I, last, fp, ip), f, last


def render_range(plan, first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows):
    """Target interface (see dispatch.render): render a raster range of plan into image."""
    _render_range(plan.fp, plan.ip, plan.vec, plan.src, plan.lattice, plan.Fhkl, plan.mask,
                 first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows)
