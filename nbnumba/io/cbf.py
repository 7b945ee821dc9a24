"""miniCBF files: a CIF header with the detector's "# Keyword value" lines, then the pixels as
32-bit integers in CBF's byte-offset compression, as Dectris detectors write them.

What the header must say and how readers parse it is in docs/formats.md (taken from dxtbx's
FormatCBFMini and fabio's cbfimage); `minicbf_bytes` writes it.
"""
import base64
import hashlib

import numpy as np

STARTER = b"\x0c\x1a\x04\xd5"       # the binary section's start marker
PADDING = 4095                      # zero bytes after the data, as Pilatus files have


def byte_offset(values):
    """CBF byte-offset compression of integers (taken in raster order): each value as its
    difference from the one before (the first from 0) in 1 byte if it is within +-127, else
    the byte 0x80 and 2 little-endian bytes if within +-32767, else 0x80, 0x00 0x80 and 4
    bytes (the difference of two 32-bit values must fit in 32 bits)."""
    v = np.asarray(values, dtype=np.int64).ravel()
    delta = np.diff(v, prepend=np.int64(0))
    if np.any(np.abs(delta) > 2 ** 31 - 1):
        raise ValueError("byte_offset: a difference does not fit in 32 bits")
    short = np.abs(delta) <= 127
    middle = ~short & (np.abs(delta) <= 32767)
    wide = ~short & ~middle
    lengths = np.where(short, 1, np.where(middle, 3, 7))
    starts = np.cumsum(lengths) - lengths
    out = np.zeros(int(lengths.sum()), dtype=np.uint8)
    out[starts[short]] = delta[short].astype(np.int8).view(np.uint8)
    out[starts[~short]] = 0x80
    pairs = delta[middle].astype("<i2").view(np.uint8).reshape(-1, 2)
    for k in range(2):
        out[starts[middle] + 1 + k] = pairs[:, k]
    out[starts[wide] + 2] = 0x80             # the 2-byte escape 0x8000 (-32768)
    quads = delta[wide].astype("<i4").view(np.uint8).reshape(-1, 4)
    for k in range(4):
        out[starts[wide] + 3 + k] = quads[:, k]
    return out.tobytes()


def minicbf_bytes(name, convention, header_lines, pixels):
    """The bytes of a miniCBF file.

    Parameters
    ----------
    name : str
        The CIF data block's name (``data_NAME``).
    convention : str
        ``_array_data.header_convention`` (the word readers choose their class by).
    header_lines : sequence of str
        The header's lines without their "# " (``"Wavelength 1 A"``).
    pixels : numpy.ndarray
        The (slow, fast) image; written as signed 32-bit integers.
    """
    slow, fast = pixels.shape
    data = byte_offset(pixels)
    digest = base64.b64encode(hashlib.md5(data).digest()).decode("ascii")
    head = [
        "###CBF: VERSION 1.5, nbnumba miniCBF",
        "",
        "data_" + name,
        "",
        "_array_data.header_convention \"%s\"" % convention,
        "_array_data.header_contents",
        ";",
        *("# " + line for line in header_lines),
        ";",
        "",
        "_array_data.data",
        ";",
        "--CIF-BINARY-FORMAT-SECTION--",
        "Content-Type: application/octet-stream;",
        "     conversions=\"x-CBF_BYTE_OFFSET\"",
        "Content-Transfer-Encoding: BINARY",
        "X-Binary-Size: %d" % len(data),
        "X-Binary-ID: 1",
        "X-Binary-Element-Type: \"signed 32-bit integer\"",
        "X-Binary-Element-Byte-Order: LITTLE_ENDIAN",
        "Content-MD5: " + digest,
        "X-Binary-Number-of-Elements: %d" % (slow * fast),
        "X-Binary-Size-Fastest-Dimension: %d" % fast,
        "X-Binary-Size-Second-Dimension: %d" % slow,
        "X-Binary-Size-Padding: %d" % PADDING,
        "",
        "",
    ]
    tail = "\r\n--CIF-BINARY-FORMAT-SECTION----\r\n;\r\n\r\n"
    return ("\r\n".join(head).encode("ascii") + STARTER + data + bytes(PADDING) + tail.encode("ascii"))
