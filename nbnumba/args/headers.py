"""-mask and -img: SMV headers that set the detector geometry (main(), lines ~420-520).

The mask is read first, then the image; each header's keywords overwrite the defaults
before any other option is interpreted.  The mask's BEAM_CENTER_Y is measured from the
other edge (the C writes `detsize_s - value` for the mask only).
"""
import math

import numpy as np

from nbnumba.io.images import read_smv, value_of
from nbnumba.constants import RTD


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


def apply_frame_headers(s, out, warn, indir):
    """Read -mask then -img (if given) from the folder indir (folders.Folder) into s; the
    mask's pixels become s.maskimage.

    A file that cannot be opened is skipped with a warning, as the C skips it (perror and
    on); so is the missing end of truncated pixel data (read as 0, the C's calloc)."""
    s.maskimage = None
    if s.maskfilename is not None:
        frame = read_smv(s.maskfilename, out, warn, "-mask", folder=indir)
        if frame is not None:
            _apply_header(s, frame, from_mask=True)
            s.maskimage = np.ascontiguousarray(frame.data.ravel(), dtype=np.uint16)
            s.mask_width, s.mask_height = frame.width, frame.height
    if s.imginfilename is not None:
        frame = read_smv(s.imginfilename, out, warn, "-img", pixels=False, folder=indir)
        if frame is not None:
            _apply_header(s, frame, from_mask=False)
