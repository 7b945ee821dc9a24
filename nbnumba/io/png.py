"""A tiny PNG writer and reader (8-bit grayscale and RGB) built on zlib and struct.

`write_png(path, pixels)` takes a uint8 array shaped (height, width) for grayscale or
(height, width, 3) for RGB. `read_png(path)` reads back what `write_png` writes
(8-bit, non-interlaced, filter type 0 rows); it is what the tests use to open the
comparison pictures.
"""
import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type (0 gray, 2 RGB)
CHANNELS = {v: k for k, v in COLOR_TYPES.items()}


def _chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(pixels):
    """Return the PNG file bytes for a uint8 (H, W) or (H, W, 3) array."""
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        raise ValueError(f"PNG pixels must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in COLOR_TYPES or 0 in arr.shape[:2]:
        raise ValueError(f"PNG pixels must be (H, W) or (H, W, 3), got {np.asarray(pixels).shape}")
    height, width, channels = arr.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), arr.reshape(height, width * channels)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPES[channels], 0, 0, 0)
    return (SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(np.ascontiguousarray(rows).tobytes(), 6))
            + _chunk(b"IEND", b""))


def write_png(path, pixels):
    """Write a uint8 (H, W) grayscale or (H, W, 3) RGB array to `path` as PNG."""
    with open(path, "wb") as fh:
        fh.write(encode_png(pixels))


def _chunks(data):
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"PNG chunk {kind!r} has a bad CRC")
        yield kind, body
        pos += 12 + length


def read_png(path):
    """Read an 8-bit gray or RGB PNG written by `write_png`; return (H, W) or (H, W, 3) uint8."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path}: not a PNG file")
    header, idat = None, b""
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    if header is None:
        raise ValueError(f"{path}: PNG has no IHDR chunk")
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in CHANNELS or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced gray/RGB PNGs are supported")
    channels = CHANNELS[color]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    if np.any(rows[:, 0] != 0):
        raise ValueError(f"{path}: only PNG filter type 0 is supported")
    pixels = rows[:, 1:].reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels
