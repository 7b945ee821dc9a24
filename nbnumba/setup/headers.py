"""-mask and -img: SMV headers that set the detector geometry (main(), lines ~420-520).

The mask is read first, then the image; each header's keywords overwrite the defaults
before any other option is interpreted.  The mask's BEAM_CENTER_Y is measured from the
other edge (the C writes `detsize_s - value` for the mask only).
"""
import math

import numpy as np

from nbnumba.errors import NBError
from nbnumba.io.images import read_smv, value_of
from nbnumba.args.options import RTD


def _apply_header(s, frame, from_mask):
    s.fpixels = frame.width
    s.spixels = frame.height
    test = value_of(frame.header, "PIXEL_SIZE")
    if not math.isnan(test):
        s.pixel_size = test / 1000.0
    s.detsize_f = s.pixel_size * s.fpixels
    s.detsize_s = s.pixel_size * s.spixels
    for key, attr, scale in (("DISTANCE", "distance", 1000.0), ("CLOSE_DISTANCE", "close_distance", 1000.0),
                             ("WAVELENGTH", "lambda0", 1e10)):
        test = value_of(frame.header, key)
        if not math.isnan(test):
            setattr(s, attr, test / scale)
    test = value_of(frame.header, "BEAM_CENTER_X")
    if not math.isnan(test):
        s.Xbeam = test / 1000.0
    test = value_of(frame.header, "BEAM_CENTER_Y")
    if not math.isnan(test):
        s.Ybeam = s.detsize_s - test / 1000.0 if from_mask else test / 1000.0
    for key, attr in (("ORGX", "ORGX"), ("ORGY", "ORGY")):
        test = value_of(frame.header, key)
        if not math.isnan(test):
            setattr(s, attr, test)
    for key, attr in (("PHI", "phi0"), ("OSC_RANGE", "osc"), ("TWOTHETA", "twotheta")):
        test = value_of(frame.header, key)
        if not math.isnan(test):
            setattr(s, attr, test / RTD)


def apply_frame_headers(s, out, warn):
    """Read -mask then -img (if given) into s; the mask's pixels become s.maskimage.

    A file that cannot be opened is skipped with a warning, as the C skips it (perror and
    on); so is the missing end of truncated pixel data (read as 0, the C's calloc)."""
    s.maskimage = None
    if s.maskfilename is not None:
        frame = read_smv(s.maskfilename, out, warn, "-mask")
        if frame is not None:
            _apply_header(s, frame, from_mask=True)
            s.maskimage = np.ascontiguousarray(frame.data.ravel(), dtype=np.uint16)
            s.mask_width, s.mask_height = frame.width, frame.height
    if s.imginfilename is not None:
        frame = read_smv(s.imginfilename, out, warn, "-img", pixels=False)
        if frame is not None:
            _apply_header(s, frame, from_mask=False)


def fit_mask(s, warn):
    """The mask as the render reads it: nanoBragg.c keeps the mask file's pixels (plus 10
    zeros of calloc padding) and reads maskimage[spixel*fpixels + fpixel] for every ROI pixel,
    whatever the detector's final size.  A detector of another size than the mask (-detpixels,
    -img) is warned about and gets the mask's pixels in raster order; one whose ROI reads
    past the padding is refused (the C reads past its allocation there)."""
    mask = s.maskimage
    if mask is None:
        return
    x0, x1 = max(s.roi_xmin, 0), min(s.roi_xmax, s.fpixels - 1)
    y0, y1 = max(s.roi_ymin, 0), min(s.roi_ymax, s.spixels - 1)
    last = y1 * s.fpixels + x1 if x0 <= x1 and y0 <= y1 else -1
    shape = "%d x %d" % (s.mask_width, s.mask_height)
    if last >= mask.size + 10:
        raise NBError("ERROR: -mask %s is %s pixels, too few for the %d x %d pixel detector (check -detpixels/-roi): "
                      "nanoBragg.c would read past the end of its mask" % (s.maskfilename, shape, s.fpixels,
                                                                          s.spixels))
    if (s.mask_width, s.mask_height) != (s.fpixels, s.spixels):
        warn("-mask %s is %s pixels, the detector %d x %d (-detpixels/-img): its pixels are read in raster "
             "order, as nanoBragg.c reads them" % (s.maskfilename, shape, s.fpixels, s.spixels))
    fitted = np.zeros(max(s.pixels, 0), dtype=np.uint16)
    n = min(mask.size, fitted.size)
    fitted[:n] = mask[:n]
    s.maskimage = fitted
