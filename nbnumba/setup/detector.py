"""Detector geometry (main(), lines ~1120-1270 and ~1700-1790), in three stages:

- `raster`: the size in pixels (a `Raster`);
- `frame`: default beam centres, the ROI, the convention's axes and pivot, unit vectors (a
  `Frame`: the detector before it is oriented);
- `orient`: rotations, the pivot, pix0 and the distances (the `Detector` record: every
  geometric value the render, the summary and the image headers use), with the
  instrumented C's TRACE lines for the geometry block.
"""
import math
from dataclasses import dataclass

import numpy as np

from nbnumba.cfuncs.stdio import c_dtoi_ceil, c_format, c_int
from nbnumba.cfuncs.vectors import cross_product, dot_product, rotate, rotate_axis, unitize
from nbnumba.constants import ADXV, BEAM, DBL_MIN, DENZO, DIALS, MOSFLM, SAMPLE, XDS
from nbnumba.errors import NBError
from nbnumba.memory import require
from nbnumba.setup.records import record, workspace
from nbnumba.tracefmt import g15, trace_line

# convention -> (beam, fdet, sdet, odet, twotheta_axis, polar, spindle); CUSTOM keeps the user's
_CONVENTION_VECTORS = {
    ADXV: ((0, 0, 1), (1, 0, 0), (0, -1, 0), (0, 0, 1), (-1, 0, 0), (1, 0, 0), (1, 0, 0)),
    MOSFLM: ((1, 0, 0), (0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 0, -1), (0, 0, 1), (0, 0, 1)),
    DENZO: ((1, 0, 0), (0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 0, -1), (0, 0, 1), (0, 0, 1)),
    XDS: ((0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0), (1, 0, 0), (1, 0, 0)),
    DIALS: ((0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 0), (0, 1, 0), (0, 1, 0)),
}
_VECTOR_NAMES = ("beam_vector", "fdet_vector", "sdet_vector", "odet_vector", "twotheta_axis",
                 "polar_vector", "spindle_vector")


# bytes each detector pixel costs a run: float image, flags, solid angle, int image, PGM, ROI mask, statistics
BYTES_PER_PIXEL = 4 + 1 + 8 + 2 + 1 + 1 + 8


@dataclass(frozen=True, eq=False)
class Raster:
    """The detector's size: fpixels x spixels pixels of pixel_size metres (`pixels` is the
    C's int product, which wraps as the C's does)."""
    fpixels: int
    spixels: int
    pixels: int
    pixel_size: float
    detsize_f: float
    detsize_s: float


@dataclass(frozen=True, eq=False)
class Frame:
    """The detector before it is oriented: default beam centres (metres), the ROI, the
    convention's pivot and unit axes ([magnitude, x, y, z])."""
    Xbeam: float
    Ybeam: float
    Fbeam: float
    Sbeam: float
    Xclose: float
    Yclose: float
    Fclose: float
    Sclose: float
    roi_xmin: int
    roi_xmax: int
    roi_ymin: int
    roi_ymax: int
    progress_pixels: int
    detector_pivot: str
    beam_vector: np.ndarray
    fdet_vector: np.ndarray
    sdet_vector: np.ndarray
    odet_vector: np.ndarray
    twotheta_axis: np.ndarray
    polar_vector: np.ndarray
    spindle_vector: np.ndarray
    vert_vector: np.ndarray


@dataclass(frozen=True, eq=False)
class Detector(Raster, Frame):
    """The oriented detector: every geometric value of the render, the summary and the image
    headers (the Raster's and Frame's fields, with the beam centres, axes and distances as
    orientation leaves them, and what orientation adds)."""
    beam_convention: str
    ORGX: float
    ORGY: float
    distance: float
    close_distance: float
    detector_twotheta: float
    pix0_vector: np.ndarray
    dials_origin: np.ndarray


class RoiBox:
    """The rectangle of pixels the C's loops visit: the ROI (inclusive bounds), clamped to the
    detector; x0..x1 and y0..y1 the columns and rows (empty when x1 < x0 or y1 < y0).  Box
    pixel t is (y0 + t // width, x0 + t % width): box order is raster order.  The one place
    the ROI test is written: the render, the statistics, the images and the progress all
    loop over the box."""

    def __init__(self, fpixels, spixels, roi_xmin, roi_xmax, roi_ymin, roi_ymax):
        self.fpixels = int(fpixels)
        self.x0, self.x1 = max(int(roi_xmin), 0), min(int(roi_xmax), int(fpixels) - 1)
        self.y0, self.y1 = max(int(roi_ymin), 0), min(int(roi_ymax), int(spixels) - 1)
        self.width = max(self.x1 - self.x0 + 1, 0)
        self.rows = max(self.y1 - self.y0 + 1, 0) if self.width else 0
        self.size = self.width * self.rows

    @classmethod
    def of(cls, d):
        """The box of a Detector (or any record with its fpixels, spixels and roi_* fields)."""
        return cls(d.fpixels, d.spixels, d.roi_xmin, d.roi_xmax, d.roi_ymin, d.roi_ymax)

    @property
    def bounds(self):
        """(x0, x1, y0, y1): what the output loops take."""
        return self.x0, self.x1, self.y0, self.y1

    def raster(self, t):
        """Raster index of box pixel t (an int or an array)."""
        return (self.y0 + t // self.width) * self.fpixels + self.x0 + t % self.width

    def window(self, flat):
        """The box's (rows, width) view of a raster-ordered per-pixel array."""
        return flat.reshape(-1, self.fpixels)[self.y0:self.y0 + self.rows, self.x0:self.x0 + self.width]

    def index(self, idx):
        """Box index of the pixel with raster index idx (inside the box)."""
        spixel, fpixel = divmod(idx, self.fpixels)
        return (spixel - self.y0) * self.width + fpixel - self.x0


def raster(o, warn):
    """The detector's size in pixels (lines ~1120-1130), refused where the C crashes on it."""
    s = workspace(fpixels=o.fpixels, spixels=o.spixels, pixel_size=o.pixel_size, detsize_f=o.detsize_f,
                  detsize_s=o.detsize_s, lambda0=o.lambda0)
    _size_in_pixels(s, warn)
    return record(Raster, s)


def frame(o, raster, out):
    """Default beam centres, the ROI, the convention's axes and pivot, unit vectors (lines
    ~1150-1270); prints the C's "auto-generating odet_vector" warning."""
    s = workspace(raster, **{name: getattr(o, name) for name in (
        "ORGX", "ORGY", "Xbeam", "Ybeam", "Fbeam", "Sbeam", "Xclose", "Yclose", "Fclose", "Sclose",
        "roi_xmin", "roi_xmax", "roi_ymin", "roi_ymax", "beam_convention", "detector_pivot", "beam_vector",
        "fdet_vector", "sdet_vector", "odet_vector", "twotheta_axis", "polar_vector", "spindle_vector")})
    _centres_and_convention(s, out)
    return record(Frame, s)


def orient(o, raster, frame, out, warn, trace=None):
    """Pivot the detector and place pix0; Fclose, Sclose, ORGX/ORGY, the dials origin
    (lines ~1700-1790).  A geometry that makes no sense (`_odd_geometry`) is warned about
    once, then rendered as the C renders it.  trace(line), when given, receives the
    instrumented C's TRACE lines of this stage."""
    s = workspace(raster, frame, **{name: getattr(o, name) for name in (
        "beam_convention", "detector_rotx", "detector_roty", "detector_rotz", "detector_twotheta",
        "distance", "close_distance", "pix0_vector", "dials_origin")})
    _orient(s, out, warn, trace)
    return record(Detector, s)


def _size_in_pixels(s, warn):
    """fpixels, spixels and pixels as the C computes them (ints from ceil(), their int product),
    refusing where the C's int product overflows or goes negative (it then crashes) or the
    image cannot fit in memory, and warning about a wavelength, pixel size or detector size
    the C renders with although it makes no sense."""
    if s.fpixels:
        s.detsize_f = s.pixel_size * s.fpixels
    if s.spixels:
        s.detsize_s = s.pixel_size * s.spixels
    s.fpixels = c_dtoi_ceil(s.detsize_f / s.pixel_size - 0.5)
    s.spixels = c_dtoi_ceil(s.detsize_s / s.pixel_size - 0.5)
    product = s.fpixels * s.spixels
    s.pixels = c_int(product)
    size = "%dx%d pixel" % (s.fpixels, s.spixels)
    # the C's int product wraps: harmless when a side is <= 0 (its loops never run, the files
    # get that many zero pixels), fatal when the loops run or the count is below 0 (fwrite)
    if s.pixels < 0 or (s.pixels != product and s.fpixels > 0 and s.spixels > 0):
        raise NBError("ERROR: a %s detector overflows or goes below nanoBragg.c's pixel count, on which it "
                      "crashes (check -detpixels/-detsize/-pixel)" % size)
    require(s.pixels * BYTES_PER_PIXEL, "a %s image" % size, "-detpixels/-detsize/-pixel")
    if not 0.0 < s.lambda0 < math.inf:
        warn(c_format("-lambda/-energy give a wavelength of %g A: rendered as nanoBragg.c renders it",
                      (s.lambda0 * 1e10,)))
    odd = []
    if not 0.0 < s.pixel_size < math.inf:
        odd.append(c_format("-pixel %g mm is not a positive size", (s.pixel_size * 1000,)))
    if s.fpixels <= 0 or s.spixels <= 0:
        odd.append("the detector is %d x %d pixels (-detpixels/-detsize): nanoBragg.c renders no pixel "
                   "and writes %d zero pixels" % (s.fpixels, s.spixels, s.pixels))
    elif odd:
        odd.append("rendered as nanoBragg.c renders it")
    if odd:
        warn("; ".join(odd))


def _centres_and_convention(s, out):
    if not math.isnan(s.ORGX):
        s.Fclose = (s.ORGX - 0.5) * s.pixel_size
    if not math.isnan(s.ORGY):
        s.Sclose = (s.ORGY - 0.5) * s.pixel_size
    if math.isnan(s.Fclose):
        s.Fclose = (s.detsize_f - 0 * s.pixel_size) / 2.0
    if math.isnan(s.Sclose):
        s.Sclose = (s.detsize_s + 0 * s.pixel_size) / 2.0
    if math.isnan(s.Xclose):
        s.Xclose = s.Fclose
    if math.isnan(s.Yclose):
        s.Yclose = s.Sclose
    if math.isnan(s.Fbeam):
        s.Fbeam = s.Fclose
    if math.isnan(s.Sbeam):
        s.Sbeam = s.Sclose
    if s.roi_xmin < 0:
        s.roi_xmin = 0
    if s.roi_xmax < 0:
        s.roi_xmax = s.fpixels
    if s.roi_ymin < 0:
        s.roi_ymin = 0
    if s.roi_ymax < 0:
        s.roi_ymax = s.spixels
    s.progress_pixels = (s.roi_xmax - s.roi_xmin + 1) * (s.roi_ymax - s.roi_ymin + 1)

    conv = s.beam_convention
    if conv == ADXV:
        if math.isnan(s.Xbeam):
            s.Xbeam = (s.detsize_f + s.pixel_size) / 2.0
        if math.isnan(s.Ybeam):
            s.Ybeam = (s.detsize_s - s.pixel_size) / 2.0
    elif conv in (MOSFLM, DENZO):
        if math.isnan(s.Xbeam):
            s.Xbeam = (s.detsize_s + s.pixel_size) / 2.0
        if math.isnan(s.Ybeam):
            s.Ybeam = (s.detsize_f + s.pixel_size) / 2.0
    else:   # XDS, DIALS, CUSTOM
        if math.isnan(s.Xbeam):
            s.Xbeam = s.Xclose
        if math.isnan(s.Ybeam):
            s.Ybeam = s.Yclose
    if conv in _CONVENTION_VECTORS:
        for name, v in zip(_VECTOR_NAMES, _CONVENTION_VECTORS[conv]):
            getattr(s, name)[1:4] = v
    if conv == ADXV:
        s.Fbeam = s.Xbeam
        s.Sbeam = s.detsize_s - s.Ybeam
        s.detector_pivot = BEAM
    elif conv == MOSFLM:
        s.Fbeam = s.Ybeam + 0.5 * s.pixel_size
        s.Sbeam = s.Xbeam + 0.5 * s.pixel_size
        s.detector_pivot = BEAM
    elif conv == DENZO:
        s.Fbeam = s.Ybeam + 0.0 * s.pixel_size
        s.Sbeam = s.Xbeam + 0.0 * s.pixel_size
        s.detector_pivot = BEAM
    elif conv in (XDS, DIALS):
        s.Fbeam = s.Xbeam
        s.Sbeam = s.Ybeam
        s.detector_pivot = SAMPLE
    else:
        s.Fbeam = s.Xbeam
        s.Sbeam = s.Ybeam
        s.Fclose = s.Xbeam
        s.Sclose = s.Ybeam

    unitize(s.beam_vector, s.beam_vector)
    unitize(s.fdet_vector, s.fdet_vector)
    unitize(s.sdet_vector, s.sdet_vector)
    if unitize(s.odet_vector, s.odet_vector) != 1.0:
        out("WARNING: auto-generating odet_vector\n")
        cross_product(s.fdet_vector, s.sdet_vector, s.odet_vector)
        unitize(s.odet_vector, s.odet_vector)
    unitize(s.polar_vector, s.polar_vector)
    unitize(s.spindle_vector, s.spindle_vector)
    s.vert_vector = np.zeros(4)
    cross_product(s.beam_vector, s.polar_vector, s.vert_vector)
    unitize(s.vert_vector, s.vert_vector)


def _tvec(trace, label, v):
    trace(trace_line(label, v[1], v[2], v[3]))


def _tmat(trace, label, M):
    body = "; ".join(" ".join(g15(x) for x in row) for row in M)
    trace("TRACE_PY:%s=[%s]" % (label, body))


def _odd_geometry(s, parallel):
    """What makes no sense in the oriented detector (the C renders it anyway): a zero vector,
    a detector plane parallel to the beam (before the rotations, `parallel`, or
    after them), a distance of 0, inf or NaN."""
    odd = []
    for name, flag in (("beam_vector", "-beam_vector"), ("fdet_vector", "-fdet_vector"),
                       ("sdet_vector", "-sdet_vector"), ("odet_vector", "-odet_vector"),
                       ("polar_vector", "-polar_vector"), ("spindle_vector", "-spindle_axis")):
        v = getattr(s, name)[1:4]
        if not v.any():
            odd.append(c_format("%s is %g %g %g, no direction", (flag, *v)))
    if parallel or abs(dot_product(s.beam_vector, s.odet_vector)) < 1e-9:
        odd.append("the detector plane is parallel to the beam (-twotheta/-detector_rot*/-odet_vector/-beam_vector)")
    if not math.isfinite(s.distance) or s.close_distance == 0.0 or not math.isfinite(s.close_distance):
        odd.append(c_format("the detector is at distance %g m, %g m at closest (-distance/-close_distance)",
                            (s.distance, s.close_distance)))
    return odd


def _orient(s, out, warn, trace):
    out("%s convention selected.\n" % s.beam_convention.lower())
    vector = np.zeros(4)
    rotate(s.odet_vector, vector, s.detector_rotx, s.detector_roty, s.detector_rotz)
    ratio = dot_product(s.beam_vector, vector)
    parallel = ratio == 0.0
    if parallel:
        ratio = DBL_MIN
    if math.isnan(s.close_distance):
        s.close_distance = abs(ratio * s.distance)
    s.distance = s.close_distance / ratio

    pix0 = s.pix0_vector
    if s.detector_pivot == SAMPLE:
        out("pivoting detector around sample\n")
        if trace:
            trace("TRACE_PY:detector_convention=%s" % s.beam_convention)
            trace("TRACE_PY:angles_rad=rotx:%s roty:%s rotz:%s twotheta:%s" % tuple(
                g15(x) for x in (s.detector_rotx, s.detector_roty, s.detector_rotz, s.detector_twotheta)))
            trace("TRACE_PY:beam_center_m=Xclose:%s Yclose:%s pixel_mm:%s" % (
                g15(s.Xclose / 1000.0), g15(s.Yclose / 1000.0), g15(s.pixel_size * 1000.0)))
            _tvec(trace, "initial_fdet", s.fdet_vector)
            _tvec(trace, "initial_sdet", s.sdet_vector)
            _tvec(trace, "initial_odet", s.odet_vector)
            for label, x in (("Fclose_m", s.Fclose), ("Sclose_m", s.Sclose),
                             ("close_distance_m", s.close_distance), ("ratio", ratio), ("distance_m", s.distance)):
                trace(trace_line(label, x))
            trace(trace_line("term_fast_before_rot", *(-s.Fclose * s.fdet_vector[1:4])))
            trace(trace_line("term_slow_before_rot", *(-s.Sclose * s.sdet_vector[1:4])))
            trace(trace_line("term_close_before_rot", *(s.close_distance * s.odet_vector[1:4])))
        for i in (1, 2, 3):
            pix0[i] = -s.Fclose * s.fdet_vector[i] - s.Sclose * s.sdet_vector[i] + s.close_distance * s.odet_vector[i]
        if trace:
            _tvec(trace, "pix0_before_rotation", pix0)
        rotate(pix0, pix0, s.detector_rotx, s.detector_roty, s.detector_rotz)
        if trace:
            _tvec(trace, "pix0_after_rotz", pix0)
        rotate_axis(pix0, pix0, s.twotheta_axis, s.detector_twotheta)
        if trace:
            _tvec(trace, "pix0_after_twotheta", pix0)
    for v in (s.fdet_vector, s.sdet_vector, s.odet_vector):
        rotate(v, v, s.detector_rotx, s.detector_roty, s.detector_rotz)
    if trace:
        _tvec(trace, "fdet_after_rotz", s.fdet_vector)
        _tvec(trace, "sdet_after_rotz", s.sdet_vector)
        _tvec(trace, "odet_after_rotz", s.odet_vector)
    for v in (s.fdet_vector, s.sdet_vector, s.odet_vector):
        rotate_axis(v, v, s.twotheta_axis, s.detector_twotheta)
    if trace:
        _tvec(trace, "twotheta_axis", s.twotheta_axis)
        _tvec(trace, "fdet_after_twotheta", s.fdet_vector)
        _tvec(trace, "sdet_after_twotheta", s.sdet_vector)
        _tvec(trace, "odet_after_twotheta", s.odet_vector)

    if s.detector_pivot == BEAM:
        out("pivoting detector around direct beam spot\n")
        if trace:
            _trace_beam_pivot(s, trace)
        for i in (1, 2, 3):
            pix0[i] = -s.Fbeam * s.fdet_vector[i] - s.Sbeam * s.sdet_vector[i] + s.distance * s.beam_vector[i]
        if trace:
            _tvec(trace, "pix0_vector", pix0)

    s.Fclose = -dot_product(pix0, s.fdet_vector)
    s.Sclose = -dot_product(pix0, s.sdet_vector)
    s.close_distance = dot_product(pix0, s.odet_vector)
    newvector = np.zeros(4)
    for i in (1, 2, 3):
        newvector[i] = s.close_distance / ratio * s.beam_vector[i] - pix0[i]
    s.Fbeam = dot_product(s.fdet_vector, newvector)
    s.Sbeam = dot_product(s.sdet_vector, newvector)
    s.distance = s.close_distance / ratio
    s.ORGX = s.Fclose / s.pixel_size + 0.5
    s.ORGY = s.Sclose / s.pixel_size + 0.5
    s.dials_origin[1] = 1000.0 * dot_product(pix0, np.array([0.0, 0, 0, 1]))
    s.dials_origin[2] = 1000.0 * dot_product(pix0, np.array([0.0, 0, 1, 0]))
    s.dials_origin[3] = 1000.0 * dot_product(pix0, np.array([0.0, -1, 0, 0]))
    out(c_format("XDS incident beam: %g %g %g\n", (dot_product(s.beam_vector, s.fdet_vector),
                                                   dot_product(s.beam_vector, s.sdet_vector),
                                                   dot_product(s.beam_vector, s.odet_vector))))
    odd = _odd_geometry(s, parallel)
    if odd:
        warn("odd detector geometry: %s: rendered as nanoBragg.c renders it" % "; ".join(odd))


def _trace_beam_pivot(s, trace):
    """The instrumented C's BEAM-pivot block (it hard-codes the MOSFLM label and initial axes)."""
    trace("TRACE_PY:detector_convention=MOSFLM")
    trace("TRACE_PY:angles_rad=rotx:%s roty:%s rotz:%s twotheta:%s" % tuple(
        g15(x) for x in (s.detector_rotx, s.detector_roty, s.detector_rotz, s.detector_twotheta)))
    trace("TRACE_PY:beam_center_m=X:%s Y:%s pixel_mm:%s" % (
        g15(s.Xbeam / 1000.0), g15(s.Ybeam / 1000.0), g15(s.pixel_size * 1000.0)))
    trace(trace_line("initial_fdet", 0.0, 0.0, 1.0))
    trace(trace_line("initial_sdet", 0.0, -1.0, 0.0))
    trace(trace_line("initial_odet", 1.0, 0.0, 0.0))
    cx, sx = math.cos(s.detector_rotx), math.sin(s.detector_rotx)
    cy, sy = math.cos(s.detector_roty), math.sin(s.detector_roty)
    cz, sz = math.cos(s.detector_rotz), math.sin(s.detector_rotz)
    Rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]]
    Ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]
    Rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]
    Tmp = [[sum(Ry[i][k] * Rx[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
    Rt = [[sum(Rz[i][k] * Tmp[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
    for label, M in (("Rx", Rx), ("Ry", Ry), ("Rz", Rz), ("R_total", Rt)):
        _tmat(trace, label, M)
    _tvec(trace, "fdet_after_rotz", s.fdet_vector)
    _tvec(trace, "sdet_after_rotz", s.sdet_vector)
    _tvec(trace, "odet_after_rotz", s.odet_vector)
    _tvec(trace, "twotheta_axis", s.twotheta_axis)
    _tvec(trace, "fdet_after_twotheta", s.fdet_vector)
    _tvec(trace, "sdet_after_twotheta", s.sdet_vector)
    _tvec(trace, "odet_after_twotheta", s.odet_vector)
    trace("TRACE_PY:convention_mapping=Fbeam←Ybeam_mm(+0.5px),Sbeam←Xbeam_mm(+0.5px),beam_vec=[1 0 0]")
    trace(trace_line("Fbeam_m", s.Fbeam))
    trace(trace_line("Sbeam_m", s.Sbeam))
    trace(trace_line("distance_m", s.distance))
    trace(trace_line("term_fast", *(-s.Fbeam * s.fdet_vector[1:4])))
    trace(trace_line("term_slow", *(-s.Sbeam * s.sdet_vector[1:4])))
    trace(trace_line("term_beam", *(s.distance * s.beam_vector[1:4])))


def mask(o, raster, frame, warn):
    """The mask as the render reads it (a uint16 array of the C's pixel count), or None: nanoBragg.c keeps the mask file's pixels (plus 10
    zeros of calloc padding) and reads maskimage[spixel*fpixels + fpixel] for every ROI pixel,
    whatever the detector's final size.  A detector of another size than the mask (-detpixels,
    -img) is warned about and gets the mask's pixels in raster order; one whose ROI reads
    past the padding is refused (the C reads past its allocation there)."""
    pixels = o.maskimage
    if pixels is None:
        return None
    fpixels, spixels = raster.fpixels, raster.spixels
    box = RoiBox(fpixels, spixels, frame.roi_xmin, frame.roi_xmax, frame.roi_ymin, frame.roi_ymax)
    last = box.y1 * fpixels + box.x1 if box.size else -1
    shape = "%d x %d" % (o.mask_width, o.mask_height)
    if last >= pixels.size + 10:
        raise NBError("ERROR: -mask %s is %s pixels, too few for the %d x %d pixel detector (check -detpixels/-roi): "
                      "nanoBragg.c would read past the end of its mask" % (o.maskfilename, shape, fpixels, spixels))
    if (o.mask_width, o.mask_height) != (fpixels, spixels):
        warn("-mask %s is %s pixels, the detector %d x %d (-detpixels/-img): its pixels are read in raster "
             "order, as nanoBragg.c reads them" % (o.maskfilename, shape, fpixels, spixels))
    fitted = np.zeros(max(raster.pixels, 0), dtype=np.uint16)
    n = min(pixels.size, fitted.size)
    fitted[:n] = pixels[:n]
    fitted.setflags(write=False)
    return fitted
