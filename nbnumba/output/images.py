"""After the render: the float / SMV / PGM / noise images and their stdout lines (main(),
lines ~3120-3290)."""
from dataclasses import dataclass

import numpy as np
from numba import njit

import nbnumba.numba_internals  # noqa: F401  (guards Numba's cache before the @njit(cache=True) below)
from nbnumba.cfuncs.rng import noise_image
from nbnumba.cfuncs.stdio import c_format
from nbnumba.io.images import float_file, pgm_file, smv_file, smv_header_bytes
from nbnumba.output.datasets import write_datasets
from nbnumba.setup.detector import RoiBox


@njit(cache=True, error_model="numpy")
def _int_image(image, fpixels, x0, x1, y0, y1, scale, adc):
    """The C's int image: the ROI box's pixels scaled, offset and rounded, 0 elsewhere."""
    out = np.zeros(image.size, dtype=np.uint16)     # the C's pixel count (-detpixels -10: 100)
    for sp in range(y0, y1 + 1):
        for fpix in range(x0, x1 + 1):
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
def pgm_pixels(image, fpixels, x0, x1, y0, y1, scale):
    """The C's PGM pixels: the ROI box's pixels scaled, clipped at 255, 0 elsewhere."""
    out = np.zeros(image.size, dtype=np.uint8)
    for sp in range(y0, y1 + 1):
        for fpix in range(x0, x1 + 1):
            idx = sp * fpixels + fpix
            test = np.float64(image[idx]) * scale
            if test > 255.0:
                test = 255.0
            out[idx] = np.uint8(np.int64(test) & 0xFF)   # (unsigned char) test
    return out


def smv_values(records):
    """The C variables the SMV header prints (io.images.smv_header_bytes), from the set-up."""
    d = records.detector
    return dict(fpixels=d.fpixels, spixels=d.spixels, pixel_size=d.pixel_size, distance=d.distance,
                lambda0=records.options.lambda0, Xbeam=d.Xbeam, Ybeam=d.Ybeam, Fbeam=d.Fbeam, Sbeam=d.Sbeam,
                detsize_s=d.detsize_s, dials_origin=tuple(d.dials_origin[1:4]), ORGX=d.ORGX, ORGY=d.ORGY,
                close_distance=d.close_distance, phi0=records.options.phi0, osc=records.steps.osc,
                detector_twotheta=d.detector_twotheta)


def scales(options, stats):
    """(intfile_scale, pgm_scale): -scale and -pgmscale, or the C's automatic ones (55000 /
    max_I; 250 / (5 rmsd), else the int scale)."""
    intfile_scale = options.intfile_scale
    if intfile_scale <= 0.0:
        intfile_scale = 1.0
        if stats.max_I > 0.0:
            intfile_scale = 55000.0 / stats.max_I
    pgm_scale = options.pgm_scale
    if pgm_scale <= 0.0:
        pgm_scale = intfile_scale
        if stats.rmsd > 0.0:
            pgm_scale = 250.0 / (5.0 * stats.rmsd)
    return intfile_scale, pgm_scale


@dataclass(frozen=True, eq=False)
class Images:
    """The images the C writes after the render: the int (SMV) image, the PGM (None with
    -nopgm) and the noise image (None with -nonoise)."""
    intimage: np.ndarray
    pgm: object
    noiseimage: object


def write_outputs(records, stats, image, rng, out, outputs=None):
    """Float, int, PGM and noise images with the C's messages and auto-scales (lines
    ~3120-3290), each added to `outputs` (an io.outfile.Outputs: written when the run
    commits it; None writes nothing); rng: the shared RNG state (the noise draws from it).
    Returns Images."""
    options, d = records.options, records.detector
    box = RoiBox.of(d).bounds
    out("writing %s as %d %d-byte floats\n" % (options.floatfilename, d.pixels, 4))
    if outputs is not None:
        outputs.add(options.floatfilename, float_file(image), "float")
    out(c_format("max_I = %g  at %g %g\n", (stats.max_I, stats.max_I_x, stats.max_I_y)))
    out(c_format("mean= %g rms= %g rmsd= %g\n", (stats.avg, stats.rms, stats.rmsd)))
    intfile_scale, pgm_scale = scales(options, stats)
    out(c_format("intfile_scale = %g\n", (intfile_scale,)))
    header = smv_values(records)
    ints = _int_image(image, d.fpixels, *box, intfile_scale, options.adc_offset)
    out("writing %s as %d-byte integers\n" % (options.intfilename, 2))
    if outputs is not None:
        outputs.add(options.intfilename, smv_file(smv_header_bytes(header, noise=False), ints), "int")

    pgm = None
    if options.write_pgm:
        out(c_format("pgm_scale = %g\n", (pgm_scale,)))
        pgm = pgm_pixels(image, d.fpixels, *box, pgm_scale)
        out("writing %s as %d-byte integers\n" % (options.pgmfilename, 1))
        if outputs is not None:
            outputs.add(options.pgmfilename, pgm_file(d.fpixels, d.spixels, pgm_scale, pgm), "pgm")

    seed = np.array([options.seed], dtype=np.int64)
    if not options.calculate_noise:
        return _with_datasets(records, Images(ints, pgm, None), outputs)
    noise = ints.copy()     # the C reuses the int image's buffer: pixels outside the ROI stay as they are there
    total, overloads = noise_image(image, d.fpixels, *box, float(options.adc_offset), noise, seed, rng[0], rng[1])
    out(c_format("%.0f photons on noise image (%d overloads)\n", (total, overloads)))
    out("writing %s as %d-byte integers\n" % (options.noisefilename, 2))
    if outputs is not None:
        outputs.add(options.noisefilename, smv_file(smv_header_bytes(header, noise=True), noise), "noise")
    return _with_datasets(records, Images(ints, pgm, noise), outputs)


def _with_datasets(records, images, outputs):
    """The images, once the data sets the run asks for (-nexusfile, -cbffile, -pngfile:
    output/datasets.py) are added to `outputs` after the C's files."""
    if outputs is not None:
        write_datasets(records, images.intimage, images.noiseimage, outputs)
    return images
