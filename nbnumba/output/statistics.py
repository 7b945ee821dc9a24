"""The C's statistics of the float image (main(), lines ~3040-3110): max_I and where, the mean,
rms and rmsd, over the ROI's rendered pixels in raster order, as the C accumulates them."""
import math
from dataclasses import dataclass

import numpy as np
from numba import njit

import nbnumba.numba_internals  # noqa: F401  (guards Numba's cache before the @njit(cache=True) below)

NO_MASK = np.zeros(0, dtype=np.uint16)     # no -mask: every box pixel is rendered


@dataclass(frozen=True, eq=False)
class Statistics:
    """max_I and the position (metres, Fdet and Sdet of its pixel's last subpixel) the C
    reports it at, mean, rms and rmsd (the PGM's auto-scale)."""
    max_I: float
    max_I_x: float
    max_I_y: float
    avg: float
    rms: float
    rmsd: float


@njit(cache=True, error_model="numpy")
def _stats(image, fpixels, x0, x1, y0, y1, mask):
    """sum, sumsqr, sumn, max_I and its index over the rendered pixels of the ROI box
    (x0..x1, y0..y1: those the mask, if not empty, does not set to 0), in raster order: the
    C's render-loop accumulation."""
    total = 0.0
    sumsqr = 0.0
    sumn = 0
    max_I = 0.0
    max_idx = -1
    for sp in range(y0, y1 + 1):
        for fpix in range(x0, x1 + 1):
            idx = sp * fpixels + fpix
            if mask.size > 0 and mask[idx] == 0:
                continue
            v = np.float64(image[idx])
            if v > max_I:
                max_I = v
                max_idx = idx
            total += v
            sumsqr += np.float64(image[idx] * image[idx])     # a float product in the C
            sumn += 1
    return total, sumsqr, sumn, max_I, max_idx


@njit(cache=True, error_model="numpy")
def _rmsd(image, fpixels, x0, x1, y0, y1, avg):
    """The sum of squared deviations from avg over every pixel of the ROI box (masked or not,
    as the C's second loop), and their count."""
    sumsqr = 0.0
    sumn = 0
    for sp in range(y0, y1 + 1):
        for fpix in range(x0, x1 + 1):
            test = np.float64(image[sp * fpixels + fpix]) - avg
            sumsqr += test * test
            sumn += 1
    return sumsqr, sumn


def statistics(records, image, box):
    """The C's max_I (and where), mean, rms and rmsd of the float image over the pixels the
    render visited: the ROI box (setup.detector.RoiBox) less the masked-off pixels."""
    d, sampling = records.detector, records.sampling
    mask = records.mask if records.mask is not None else NO_MASK
    total, sumsqr, sumn, max_I, max_idx = _stats(image, d.fpixels, *box.bounds, mask)
    max_I_x = max_I_y = 0.0
    if max_idx >= 0:
        fpixel, spixel = max_idx % d.fpixels, max_idx // d.fpixels
        # Fdet,Sdet of the pixel's last subpixel, as the C's loop variables hold them
        oversample, subpixel_size = sampling.oversample, sampling.subpixel_size
        max_I_x = subpixel_size * (fpixel * oversample + oversample - 1) + subpixel_size / 2.0
        max_I_y = subpixel_size * (spixel * oversample + oversample - 1) + subpixel_size / 2.0
    if sumn <= 0:
        sumn = 1
    avg = total / sumn
    if sumn <= 1:
        sumn = 2
    rms = math.sqrt(sumsqr / (sumn - 1))
    sumsqr, sumn = _rmsd(image, d.fpixels, *box.bounds, avg)
    if sumn <= 1:
        sumn = 2
    return Statistics(max_I, max_I_x, max_I_y, avg, rms, math.sqrt(sumsqr / (sumn - 1)))
