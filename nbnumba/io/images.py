"""Image files as nanoBragg.c reads and writes them: SMV (ADSC) frames, raw float images, PGM.

- `read_smv` / `value_of`: nanoBragg.c `GetFrame()` and `ValueOf()` (lines 4124-4263), used by
  `-img` and `-mask` (lines 418-501).
- `smv_header_bytes`: the SMV header text written for the int image (lines 3167-3184) and
  the noise image (lines 3266-3283).
- `smv_file`, `float_file`, `pgm_file`: the bytes the `fwrite`s of lines 3122-3130,
  3161-3187, 3214-3224 and 3260-3286 write (a run hands them to `outfile.Outputs`, which
  writes them where the C's `fopen`s do, never truncated by a failed run).
"""

import math
import sys
from dataclasses import dataclass

import numpy as np

from nbnumba.cfuncs.stdio import atof, c_dtoi, c_int, printf_g
from nbnumba.constants import RTD
from nbnumba.errors import NBError
from nbnumba.folders import WORKING
from nbnumba.memory import require
from nbnumba.io.outfile import bytes_of


SMV_HEADER_BYTES = 512


def byte_order():
    """nanoBragg.c `get_byte_order()`: the BYTE_ORDER value naming this machine's order."""
    return "little_endian" if sys.byteorder == "little" else "big_endian"


@dataclass
class SMVFrame:
    """What `GetFrame()` keeps of an SMV file.

    `header` is the first `header_size` bytes decoded as latin-1; `data` holds `height` x
    `width` pixels (slow, fast) read as native unsigned shorts at byte offset
    `2*(header_size//2)`, with no byte swapping whatever BYTE_ORDER says (the C computes
    `swap_bytes` but never uses it); flat when a side is not positive (the C's int count of
    width*height pixels); None when only the header was read."""

    path: str
    header: str
    header_size: int
    width: int
    height: int
    data: np.ndarray


def value_of(header, keyword):
    """nanoBragg.c `ValueOf()`: `atof` of the text after the first "=" that follows the LAST
    occurrence of `keyword` (a plain substring search, so "DISTANCE" also matches
    "CLOSE_DISTANCE"); NaN if `keyword` is absent, 0.0 if no "=" follows it.  Like the C
    string functions it sees only the header text before any NUL byte."""
    text = header.split("\0", 1)[0]
    # successive strstr() calls, each starting just past the previous match
    end = -1
    found = text.find(keyword)
    while found >= 0:
        end = found + len(keyword)
        found = text.find(keyword, end)
    if end < 0:
        return math.nan
    equals = text.find("=", end)
    if equals < 0:
        return 0.0
    return atof(text[equals + 1:].encode("latin-1"))


def read_smv(path, out=None, warn=None, flag="-img", pixels=True, folder=WORKING):
    """nanoBragg.c `GetFrame(path)`: the header, its size and dimensions, and the pixels.

    Follows the C: the first 512 bytes must start with "{\\nHEADER_BYT"; HEADER_BYTES (as
    `(int)` of `ValueOf`) replaces the 512-byte header when it differs; SIZE1/SIZE2 give the
    width/height, and only when SIZE1 reads as 0 does DETECTOR_DIMENSIONS give both.  Prints
    "reading <path>" through `out` where the C does.  Where the C would exit, crash or read
    uninitialised memory (short header, not an ADSC frame, no BYTE_ORDER, unusable size) this
    raises NBError with a one-line message naming the file and `flag`.

    Given `warn` (an errors.Warner), the two cases the C goes through are warned about instead:
    a file that cannot be opened (the C prints perror() and goes on without it: None is
    returned) and pixel data shorter than the header says (the C's buffer is calloc()ed, the
    missing pixels read as 0).  Without `warn` they raise NBError too.  `pixels=False` skips
    the pixel data (-img uses only the header).  A relative `path` is read in `folder` (a
    folders.Folder)."""
    try:
        raw = folder.read(path)
    except IsADirectoryError:
        # fopen() succeeds on a folder; the header fread() then fails: perror, exit(9)
        raise NBError(f"ERROR: SMV file {path} ({flag}) is a folder") from None
    except OSError as err:
        if warn is None:
            raise NBError(f"ERROR: unable to read SMV file {path} ({flag}): {err.strerror}") from None
        warn(f"cannot open {flag} {path}: {err.strerror}; nanoBragg.c goes on without it")
        return None
    if len(raw) < SMV_HEADER_BYTES:
        raise NBError(f"ERROR: SMV file {path} ({flag}) is shorter than a {SMV_HEADER_BYTES}-byte header")
    if raw[:12] != b"{\nHEADER_BYT":
        raise NBError(f"ERROR: {path} does not look like an ADSC frame!")
    header_size = c_dtoi(value_of(raw[:SMV_HEADER_BYTES].decode("latin-1"), "HEADER_BYTES"))
    if header_size <= 0 or header_size > len(raw):
        raise NBError(f"ERROR: SMV file {path} ({flag}) has an unusable HEADER_BYTES ({header_size}) "
                      f"for its {len(raw)} bytes")
    header = raw[:header_size].decode("latin-1")
    if "BYTE_ORDER=" not in header.split("\0", 1)[0]:
        raise NBError(f"ERROR: SMV file {path} ({flag}) has no BYTE_ORDER in its header")
    sizes = [value_of(header, "SIZE1"), value_of(header, "SIZE2")]
    if c_dtoi(sizes[0]) == 0:
        sizes = [value_of(header, "DETECTOR_DIMENSIONS")] * 2
    if not all(-2.0 ** 31 <= x < 2.0 ** 31 for x in sizes):
        # (int) of NaN or of a value out of range is undefined: optimised builds of the C differ
        raise NBError(f"ERROR: SMV file {path} ({flag}) has no usable SIZE1/SIZE2 (got {sizes[0]:g} x {sizes[1]:g})")
    width, height = (c_dtoi(x) for x in sizes)
    # the C's int pixel count and buffer size (2*count+header_size): a count below 0, or one
    # that overflows where the C's loops run, crashes it; a count of 0 (INT_MIN^2 wraps to it)
    # is a detector of no pixels, rendered as such (warned)
    count = c_int(width * height)
    if count < 0 or (width > 0 and height > 0 and count != width * height) or \
            c_int(2 * count + header_size) != 2 * count + header_size:
        raise NBError(f"ERROR: SMV file {path} ({flag}) has no usable SIZE1/SIZE2 (got {width} x {height})")
    if width <= 0 or height <= 0:
        if warn is None:
            raise NBError(f"ERROR: SMV file {path} ({flag}) has no usable SIZE1/SIZE2 (got {width} x {height})")
        warn(f"SMV file {path} ({flag}) has no usable SIZE1/SIZE2 (got {width} x {height}): nanoBragg.c takes "
             f"them for the detector's size")
    if out is not None:
        out(f"reading {path}\n")
    # the C indexes the pixels as mmapdata[header_size/2 + i], i.e. unsigned shorts
    offset = 2 * (header_size // 2)
    if len(raw) < offset + 2 * count:
        message = (f"SMV file {path} ({flag}) is truncated: {width} x {height} pixels need "
                   f"{offset + 2 * count} bytes, the file has {len(raw)}")
        if warn is None:
            raise NBError("ERROR: " + message)
        warn(message + "; the missing pixels read as 0, as in nanoBragg.c")
    data = None
    if pixels:
        require(2 * count, f"the {width} x {height} pixels of {path}", flag)
        # the bytes there are, then the zeros of the C's calloc()ed buffer
        buffer = bytearray(2 * count)
        chunk = raw[offset:offset + 2 * count]
        buffer[:len(chunk)] = chunk
        data = np.frombuffer(buffer, dtype=np.uint16)
        if width > 0 and height > 0:
            data = data.reshape(height, width)
    return SMVFrame(path=path, header=header, header_size=header_size, width=width, height=height, data=data)


def smv_header_bytes(h, noise):
    """The SMV header nanoBragg.c writes, padded with spaces to 512 bytes (not truncated if longer).

    `h` maps the C variable names to their values in the C's units (metres, radians; ORGX/ORGY
    in pixels; `dials_origin` the three mm values of `dials_origin[1..3]`).  `noise` selects the
    noise-image variant (lines 3266-3283), whose DENZO lines add `0.0*pixel_size` where the int
    image's (lines 3167-3184) subtract it: they differ only when the sum is -0.0 or NaN."""
    g = printf_g
    pixel_size = h["pixel_size"]
    Fbeam, Sbeam = h["Fbeam"], h["Sbeam"]
    if noise:
        denzo_x, denzo_y = (Sbeam + 0.0 * pixel_size) * 1000.0, (Fbeam + 0.0 * pixel_size) * 1000
    else:
        denzo_x, denzo_y = (Sbeam - 0.0 * pixel_size) * 1000.0, (Fbeam - 0.0 * pixel_size) * 1000
    d1, d2, d3 = h["dials_origin"]
    phi_deg = h["phi0"] * RTD
    text = (
        "{\nHEADER_BYTES=512;\nDIM=2;\n"
        f"BYTE_ORDER={byte_order()};\nTYPE=unsigned_short;\n"
        f"SIZE1={int(h['fpixels'])};\nSIZE2={int(h['spixels'])};\n"
        f"PIXEL_SIZE={g(pixel_size * 1000.0)};\nDISTANCE={g(h['distance'] * 1000.0)};\n"
        f"WAVELENGTH={g(h['lambda0'] * 1e10)};\n"
        f"BEAM_CENTER_X={g(h['Xbeam'] * 1000.0)};\nBEAM_CENTER_Y={g(h['Ybeam'] * 1000)};\n"
        f"ADXV_CENTER_X={g(Fbeam * 1000.0)};\nADXV_CENTER_Y={g((h['detsize_s'] - Sbeam) * 1000)};\n"
        f"MOSFLM_CENTER_X={g((Sbeam - 0.5 * pixel_size) * 1000.0)};\n"
        f"MOSFLM_CENTER_Y={g((Fbeam - 0.5 * pixel_size) * 1000)};\n"
        f"DENZO_X_BEAM={g(denzo_x)};\nDENZO_Y_BEAM={g(denzo_y)};\n"
        f"DIALS_ORIGIN={g(d1)},{g(d2)},{g(d3)}\n"
        f"XDS_ORGX={g(h['ORGX'])};\nXDS_ORGY={g(h['ORGY'])};\n"
        f"CLOSE_DISTANCE={g(h['close_distance'] * 1000.0)};\n"
        f"PHI={g(phi_deg)};\nOSC_START={g(phi_deg)};\nOSC_RANGE={g(h['osc'] * RTD)};\n"
        f"TWOTHETA={g(h['detector_twotheta'] * RTD)};\n"
        "DETECTOR_SN=000;\nBEAMLINE=fake;\n}\f"
    )
    header = text.encode("ascii")
    return header + b" " * (SMV_HEADER_BYTES - len(header))


def smv_file(header_bytes, image):
    """The chunks of an SMV file: `header_bytes` (from `smv_header_bytes`) then the uint16
    pixels in native order."""
    if image.dtype != np.uint16:
        raise TypeError(f"SMV pixels must be uint16, not {image.dtype}")
    return [header_bytes, bytes_of(image)]


def float_file(image):
    """The chunks of the raw float image: float32 pixels in native order, no header."""
    if image.dtype != np.float32:
        raise TypeError(f"float image must be float32, not {image.dtype}")
    return [bytes_of(image)]


def pgm_file(fpixels, spixels, pgm_scale, pixels):
    """The chunks of the PGM file: "P5\\n<fpixels> <spixels>\\n", the "# pixels scaled by %lg"
    comment, "255\\n", then the uint8 pixels."""
    if pixels.dtype != np.uint8:
        raise TypeError(f"PGM pixels must be uint8, not {pixels.dtype}")
    header = f"P5\n{int(fpixels)} {int(spixels)}\n# pixels scaled by {printf_g(pgm_scale)}\n255\n"
    return [header.encode("ascii"), bytes_of(pixels)]
