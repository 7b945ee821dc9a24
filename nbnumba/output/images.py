"""After the render: statistics, the float / SMV / PGM / noise images and their stdout lines
(main(), lines ~3060-3290).  Statistics run over ROI pixels in raster order, as the C's do."""
import math

import numpy as np
from numba import njit

import nbnumba.kernels.numba_internals  # noqa: F401  (guards Numba's cache before the @njit(cache=True) below)
from nbnumba.cfuncs.rng import noise_image
from nbnumba.cfuncs.stdio import c_format
from nbnumba.io.images import smv_header_bytes, write_float, write_pgm, write_smv


@njit(cache=True, error_model="numpy")
def _stats(image, fpixels, spixels, xmin, xmax, ymin, ymax, mask, rendered):
    """sum, sumsqr, sumn, max_I and its index over rendered pixels (the C's render-loop
    accumulation, in raster order), then rmsd about the mean over all ROI pixels."""
    total = 0.0
    sumsqr = 0.0
    sumn = 0
    max_I = 0.0
    max_idx = -1
    for sp in range(spixels):
        for fpix in range(fpixels):
            if fpix < xmin or fpix > xmax or sp < ymin or sp > ymax:
                continue
            idx = sp * fpixels + fpix
            if not rendered[idx]:
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
def _rmsd(image, fpixels, spixels, xmin, xmax, ymin, ymax, avg):
    sumsqr = 0.0
    sumn = 0
    for sp in range(spixels):
        for fpix in range(fpixels):
            if fpix < xmin or fpix > xmax or sp < ymin or sp > ymax:
                continue
            test = np.float64(image[sp * fpixels + fpix]) - avg
            sumsqr += test * test
            sumn += 1
    return sumsqr, sumn


@njit(cache=True, error_model="numpy")
def _int_image(image, fpixels, spixels, xmin, xmax, ymin, ymax, scale, adc):
    out = np.zeros(image.size, dtype=np.uint16)     # the C's pixel count (-detpixels -10: 100)
    for sp in range(spixels):
        for fpix in range(fpixels):
            if fpix < xmin or fpix > xmax or sp < ymin or sp > ymax:
                continue
            idx = sp * fpixels + fpix
            test = np.float64(image[idx]) * scale + adc
            if test > 65535.0:
                test = 65535.0
            if test < 0.0:
                test = 0.0
            rounded = np.floor(np.float32(test + 0.5))   # floorf()
            # (unsigned short) of a float goes through a 32-bit int on x86-64: a NaN pixel
            # (NaN passes both clamps) becomes 0x80000000, whose low 16 bits are 0
            out[idx] = np.uint16(np.int64(rounded) & 0xFFFF) if rounded == rounded else 0
    return out


@njit(cache=True, error_model="numpy")
def _pgm_image(image, fpixels, spixels, xmin, xmax, ymin, ymax, scale):
    out = np.zeros(image.size, dtype=np.uint8)
    for sp in range(spixels):
        for fpix in range(fpixels):
            if fpix < xmin or fpix > xmax or sp < ymin or sp > ymax:
                continue
            idx = sp * fpixels + fpix
            test = np.float64(image[idx]) * scale
            if test > 255.0:
                test = 255.0
            out[idx] = np.uint8(np.int64(test) & 0xFF)   # (unsigned char) test
    return out


def smv_values(s):
    return dict(fpixels=s.fpixels, spixels=s.spixels, pixel_size=s.pixel_size, distance=s.distance,
                lambda0=s.lambda0, Xbeam=s.Xbeam, Ybeam=s.Ybeam, Fbeam=s.Fbeam, Sbeam=s.Sbeam,
                detsize_s=s.detsize_s, dials_origin=tuple(s.dials_origin[1:4]), ORGX=s.ORGX, ORGY=s.ORGY,
                close_distance=s.close_distance, phi0=s.phi0, osc=s.osc, detector_twotheta=s.detector_twotheta)


def statistics(s, image, rendered):
    """The C's max_I (and where), mean, rms and rmsd."""
    roi = (s.roi_xmin, s.roi_xmax, s.roi_ymin, s.roi_ymax)
    total, sumsqr, sumn, max_I, max_idx = _stats(image, s.fpixels, s.spixels, *roi, s.maskimage, rendered)
    if max_idx >= 0:
        fpixel, spixel = max_idx % s.fpixels, max_idx // s.fpixels
        # Fdet,Sdet of the pixel's last subpixel, as the C's loop variables hold them
        s.max_I_x = s.subpixel_size * (fpixel * s.oversample + s.oversample - 1) + s.subpixel_size / 2.0
        s.max_I_y = s.subpixel_size * (spixel * s.oversample + s.oversample - 1) + s.subpixel_size / 2.0
    else:
        s.max_I_x = s.max_I_y = 0.0
    s.max_I = max_I
    if sumn <= 0:
        sumn = 1
    s.avg = total / sumn
    if sumn <= 1:
        sumn = 2
    s.rms = math.sqrt(sumsqr / (sumn - 1))
    sumsqr, sumn = _rmsd(image, s.fpixels, s.spixels, *roi, s.avg)
    if sumn <= 1:
        sumn = 2
    s.rmsd = math.sqrt(sumsqr / (sumn - 1))


def write_outputs(s, image, out, write_files=True):
    """Float, int, PGM and noise images with the C's messages and auto-scales."""
    roi = (s.roi_xmin, s.roi_xmax, s.roi_ymin, s.roi_ymax)
    out("writing %s as %d %d-byte floats\n" % (s.floatfilename, s.pixels, 4))
    if write_files:
        write_float(s.floatfilename, image)
    out(c_format("max_I = %g  at %g %g\n", (s.max_I, s.max_I_x, s.max_I_y)))
    out(c_format("mean= %g rms= %g rmsd= %g\n", (s.avg, s.rms, s.rmsd)))
    if s.intfile_scale <= 0.0:
        s.intfile_scale = 1.0
        if s.max_I > 0.0:
            s.intfile_scale = 55000.0 / s.max_I
    out(c_format("intfile_scale = %g\n", (s.intfile_scale,)))
    header = smv_values(s)
    ints = _int_image(image, s.fpixels, s.spixels, *roi, s.intfile_scale, s.adc_offset)
    out("writing %s as %d-byte integers\n" % (s.intfilename, 2))
    if write_files:
        write_smv(s.intfilename, smv_header_bytes(header, noise=False), ints)

    if s.write_pgm:
        if s.pgm_scale <= 0.0:
            s.pgm_scale = s.intfile_scale
            if s.rmsd > 0.0:
                s.pgm_scale = 250.0 / (5.0 * s.rmsd)
        out(c_format("pgm_scale = %g\n", (s.pgm_scale,)))
        pgm = _pgm_image(image, s.fpixels, s.spixels, *roi, s.pgm_scale)
        out("writing %s as %d-byte integers\n" % (s.pgmfilename, 1))
        if write_files:
            write_pgm(s.pgmfilename, s.fpixels, s.spixels, s.pgm_scale, pgm)

    if not s.calculate_noise:
        return
    seed = np.array([s.seed], dtype=np.int64)
    total, overloads = noise_image(image, s.fpixels, s.spixels, *roi, float(s.adc_offset), ints, seed,
                                   s.rng[0], s.rng[1])
    s.seed = int(seed[0])
    out(c_format("%.0f photons on noise image (%d overloads)\n", (total, overloads)))
    out("writing %s as %d-byte integers\n" % (s.noisefilename, 2))
    if write_files:
        write_smv(s.noisefilename, smv_header_bytes(header, noise=True), ints)
