"""The data sets nbnumba writes beside nanoBragg.c's files, for the programs people process
simulated images with: `-nexusfile` (NeXus NXmx, for DIALS), `-cbffile` (miniCBF, for DIALS
and XDS) and `-pngfile` (a picture to look at).  docs/formats.md describes each.

All three carry the image the run's data sets carry: the noise image when the run computes
one, otherwise the int image (the pixels of noiseimage.img or intimage.img).  Each file is
built as bytes and added to the run's outfile.Outputs (committed with the C's files, never
half-written); `write_datasets`, called once the C's images are added, is the one place that
adds them.  The set-up
calls `refuse_inexpressible` as soon as the detector is oriented, so a run whose geometry a
requested format cannot carry stops with one line before any file is touched.
"""
import datetime
import shlex
from dataclasses import dataclass

import numpy as np

from nbnumba import __version__
from nbnumba.constants import ADXV, CUSTOM, DIALS
from nbnumba.errors import NBError
from nbnumba.io.cbf import minicbf_bytes
from nbnumba.io.nexus import nxmx_bytes, require_h5py
from nbnumba.io.png import encode_png
from nbnumba.output.geometry import geometry, oriented
from nbnumba.setup.detector import RoiBox

SATURATION = 65535          # the C clamps every int and noise pixel to 0..65535
PROGRAM = "nbnumba"
STANDARD_AXES = 1e-9        # how far from DIALS's standard axes a miniCBF geometry may be
DESCRIPTIONS = {
    "noise": "nanoBragg.c's noise image (noiseimage.img): Poisson photon counts plus the ADC offset "
             "(-adc; data_offset takes it off), clamped to 0..65535",
    "int": "nanoBragg.c's int image (intimage.img): the noiseless photons times intfile_scale plus the ADC "
           "offset (-adc; data_offset takes it off), rounded and clamped to 0..65535",
}
MARK = np.array([255, 0, 0], dtype=np.uint8)     # the beam centre's colour in the picture


def data_image(records, intimage, noiseimage):
    """(pixels (slow, fast), kind): the noise image if the run computed one, else the int image."""
    pixels, kind = (noiseimage, "noise") if noiseimage is not None else (intimage, "int")
    d = records.detector
    return np.asarray(pixels).reshape(d.spixels, d.fpixels), kind


def requests(options):
    """[(flag, file name)] of the data sets the options ask for."""
    return [(flag, name) for flag, name in (("-nexusfile", options.nexusfilename), ("-cbffile", options.cbffilename),
                                            ("-pngfile", options.pngfilename)) if name is not None]


def standard_axes(g):
    """Whether a miniCBF header says it all: a flat detector facing the beam, its fast axis
    along the rotation axis (DIALS's +x) and its slow axis along -y."""
    return (not g.curved and np.abs(g.fast_axis - (1.0, 0.0, 0.0)).max() <= STANDARD_AXES
            and np.abs(g.slow_axis - (0.0, -1.0, 0.0)).max() <= STANDARD_AXES
            and np.abs(g.rotation_axis - (1.0, 0.0, 0.0)).max() <= STANDARD_AXES)


def _obstacles(options):
    """The flags that take a detector off miniCBF's standard axes."""
    named = ["-curved_det"] if options.curved_detector else []
    named += ["-twotheta"] if options.detector_twotheta != 0.0 else []
    named += ["-detector_rot" + a for a in "xyz" if getattr(options, "detector_rot" + a) != 0.0]
    named += {ADXV: ["-adxv"], DIALS: ["-dials"],
              CUSTOM: ["the custom vectors (-fdet_vector -sdet_vector -odet_vector -beam_vector -spindle_axis)"]
              }.get(options.beam_convention, [])
    return ", ".join(named) or "its detector axes"


def refuse_inexpressible(options, detector, steps, wanted=None):
    """Raise NBError, one line naming the flag, where a requested data set (`wanted`: the
    flags; default: those of the options) cannot carry the run: a detector without pixels; a
    geometry with no direction; -curved_det in a NeXus file; a geometry off the standard axes
    in a miniCBF (-nexusfile carries every flat one); -nexusfile without the nexus extra."""
    wanted = [flag for flag, _ in requests(options)] if wanted is None else wanted
    if wanted and (detector.fpixels <= 0 or detector.spixels <= 0):
        raise NBError("ERROR: %s: the detector has %d x %d pixels, no image to write (-detpixels/-detsize/-pixel)"
                      % (wanted[0], detector.fpixels, detector.spixels))
    carriers = [flag for flag in wanted if flag != "-pngfile"]
    if not carriers:
        return
    try:
        g = geometry(options, detector, steps)
    except NBError as error:
        raise NBError(error.message.replace("ERROR: ", "ERROR: %s: " % carriers[0], 1)) from None
    if not (all(np.isfinite(v).all() for v in (g.origin, g.fast_axis, g.slow_axis, g.rotation_axis))
            and np.abs(g.rotation_axis).max() > 0.0):
        raise NBError("ERROR: %s: the run's geometry is not finite or has no spindle axis (-spindle_axis, "
                      "-distance and the detector vectors)" % carriers[0])
    if "-nexusfile" in wanted:
        if g.curved:
            raise NBError("ERROR: -nexusfile cannot carry -curved_det: NXmx describes flat detector modules, and "
                          "-curved_det puts every pixel at the same distance from the crystal")
        try:
            require_h5py("-nexusfile", options.nexus_compression)
        except ImportError as missing:
            raise NBError(str(missing)) from None
    if "-cbffile" in wanted and not standard_axes(g):
        raise NBError("ERROR: -cbffile cannot carry this geometry (%s): a miniCBF header describes a flat detector "
                      "facing the beam with its fast axis along the spindle; use -nexusfile" % _obstacles(options))


def rendered(records):
    """(slow, fast) bool array: the pixels the C renders (inside the ROI box, and the -mask's)."""
    d = records.detector
    inside = np.zeros((d.spixels, d.fpixels), dtype=bool)
    box = RoiBox.of(d)
    inside[box.y0:box.y0 + box.rows, box.x0:box.x0 + box.width] = True
    if records.mask is not None:
        inside &= (records.mask[:d.pixels] != 0).reshape(d.spixels, d.fpixels)
    return inside


@dataclass(frozen=True, eq=False)
class NexusImage:
    """One run's data image and what an NXmx file says of it (what a batch worker sends the
    writer of a series file).

    Attributes
    ----------
    pixels : numpy.ndarray
        (slow, fast) uint16: the noise image, else the int image (data_image).
    kind : str
        "noise" or "int".
    mask : numpy.ndarray
        (slow, fast) uint32 NXmx pixel mask: 1 where no pixel was rendered.
    geometry : nbnumba.output.geometry.Geometry
    data_offset : float
        Minus the ADC offset.
    """
    pixels: np.ndarray
    kind: str
    mask: np.ndarray
    geometry: object
    data_offset: float


def nexus_image(records, intimage, noiseimage):
    """The NexusImage of a run (its set-up records and images)."""
    pixels, kind = data_image(records, intimage, noiseimage)
    return NexusImage(pixels, kind, (~rendered(records)).astype(np.uint32),
                      geometry(records.options, records.detector, records.steps), -records.options.adc_offset)


def nexus_fields(image, command_line):
    """The io.nexus.create_nxmx keywords of a NexusImage but the compression, the file's start
    time now."""
    start = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return dict(kind=image.kind, description=DESCRIPTIONS[image.kind], saturation=SATURATION,
                data_offset=image.data_offset, mask=image.mask, program=PROGRAM, version=__version__,
                command_line=command_line, start_time=start)


def series_geometry(options):
    """The Geometry of a run with these Options (geometry.oriented: nothing read or printed),
    refused as its -nexusfile would be (refuse_inexpressible: -curved_det, no frame, no
    h5py): what nbnumba batch checks of a NeXus series file before its frames render."""
    det, sweep = oriented(options)
    refuse_inexpressible(options, det, sweep, ["-nexusfile"])
    return geometry(options, det, sweep)


def nexus_file(records, intimage, noiseimage):
    """The bytes of the run's -nexusfile (an NXmx file of one image)."""
    options = records.options
    image = nexus_image(records, intimage, noiseimage)
    g = image.geometry
    return nxmx_bytes(g, image.pixels[np.newaxis], [g.phi_start], compression=options.nexus_compression,
                      **nexus_fields(image, shlex.join([PROGRAM, *options.argv])))


def cbf_header(g):
    """The miniCBF header lines (without "# ") for a standard geometry: the keywords and units
    dxtbx's FormatCBFMini and fabio's PilatusHeader read (docs/formats.md)."""
    r = lambda x: "%.15g" % x      # noqa: E731  (15 digits: the double, less the C's last-bit noise)
    lines = ["Detector: %s simulated pixel array, S/N 0" % PROGRAM,
             "Pixel_size %s m x %s m" % (r(g.pixel_size[0] / 1000.0), r(g.pixel_size[1] / 1000.0))]
    if g.thickness > 0:     # none: dxtbx takes the sensor as thin (an infinitely thin one is refused)
        lines.append("Silicon sensor, thickness %s m" % r(g.thickness / 1000.0))
    bx, by = -g.origin[0] / g.pixel_size[0], g.origin[1] / g.pixel_size[1]
    return lines + ["Exposure_time %s s" % r(g.exposure), "Exposure_period %s s" % r(g.exposure), "Tau = 0 s",
                    "Count_cutoff %d counts" % SATURATION, "Wavelength %s A" % r(g.wavelength),
                    "Detector_distance %s m" % r(-g.origin[2] / 1000.0), "Beam_xy (%s, %s) pixels" % (r(bx), r(by)),
                    "Start_angle %s deg." % r(g.phi_start), "Angle_increment %s deg." % r(g.oscillation),
                    "Detector_2theta 0 deg.", "Phi %s deg." % r(g.phi_start)]


def cbf_file(records, intimage, noiseimage):
    """The bytes of the run's -cbffile (a miniCBF of the GENERIC_MINI convention, which dxtbx
    gives simulated detectors of any size; its Pilatus class wants real module layouts)."""
    g = geometry(records.options, records.detector, records.steps)
    pixels, _ = data_image(records, intimage, noiseimage)
    return minicbf_bytes(PROGRAM, "GENERIC_MINI", cbf_header(g), pixels)


def picture(pixels, beam_px):
    """An RGB picture of an image as one views it in adxv: white background, darker with the
    log of the value above the median (the background), black at the maximum, and the beam
    centre's pixel marked red with a cross (where it is on the detector)."""
    v = np.asarray(pixels, dtype=np.float64)
    lo, hi = np.median(v), v.max()
    shade = np.log1p(np.clip(v - lo, 0.0, None)) / np.log1p(hi - lo) if hi > lo else np.zeros_like(v)
    gray = np.round(255.0 * (1.0 - shade)).astype(np.uint8)
    rgb = np.repeat(gray[:, :, np.newaxis], 3, axis=2)
    height, width = gray.shape
    fx, sy = (int(np.floor(c)) if np.isfinite(c) else -1 for c in beam_px)
    if 0 <= fx < width and 0 <= sy < height:
        arm = max(2, min(width, height) // 64)
        rgb[sy, max(fx - arm, 0):fx + arm + 1] = MARK
        rgb[max(sy - arm, 0):sy + arm + 1, fx] = MARK
    return rgb


def png_file(records, intimage, noiseimage):
    """The bytes of the run's -pngfile."""
    d = records.detector
    pixels, _ = data_image(records, intimage, noiseimage)
    return encode_png(picture(pixels, (np.float64(d.Fbeam) / d.pixel_size, np.float64(d.Sbeam) / d.pixel_size)))


BUILDERS = {"-nexusfile": nexus_file, "-cbffile": cbf_file, "-pngfile": png_file}
KINDS = {"-nexusfile": "nexus", "-cbffile": "cbf", "-pngfile": "png"}     # their names in Result.paths


def write_datasets(records, intimage, noiseimage, outputs):
    """Add the data sets the run asks for (-nexusfile, -cbffile, -pngfile) to `outputs` (an
    outfile.Outputs, committed with the C's own files)."""
    for flag, name in requests(records.options):
        outputs.add(name, [BUILDERS[flag](records, intimage, noiseimage)], KINDS[flag])
