"""Structure factors: the `-hkl` text file and the `Fdump.bin` cache, as nanoBragg.c handles them.

- `read_hkl`: nanoBragg.c lines 2140-2209 (two `fscanf` passes over the HKL file).
- `write_fdump`: lines 2226-2241 (the binary cache written after reading an HKL file).
- `read_fdump`: lines 2105-2128 (reading that cache back when no `-hkl` is given).

Beyond the C (which would index out of bounds or read garbage), a malformed HKL file, a
pass-2 index outside the pass-1 ranges, and a truncated or unreadable Fdump raise NBError.
"""

import math
from dataclasses import dataclass

import numpy as np

from .cscan import Scanner, c_dtoi, c_int, printf_g
from .errors import NBError
from .outfile import write_output

# the only bytes a file of plain decimal numbers separated by whitespace can contain
_PLAIN_CHARS = b"0123456789+-.eE \t\n\v\f\r"
_INT32 = 2.0 ** 31


@dataclass
class HKLGrid:
    """`Fhkl` and its bounds: F[h-h_min, k-k_min, l-l_min].  F has shape
    (h_range+1, k_range+1, l_range+1) like the C's calloc; the last plane of each axis is
    normally zero (default_F fills only indices below the ranges).  `hkls` is the C's count:
    entries read from an HKL file, or h_range*k_range*l_range after reading an Fdump."""

    h_min: int
    h_max: int
    k_min: int
    k_max: int
    l_min: int
    l_max: int
    h_range: int
    k_range: int
    l_range: int
    F: np.ndarray
    hkls: int


def _ceil(x):
    return float(math.ceil(x)) if math.isfinite(x) else x


def _line_of(data, pos):
    return data.count(b"\n", 0, pos) + 1


def _plain_records(data):
    """(tokens, values) when `data` is whole 'h k l F' records of plain decimal numbers
    separated by whitespace, with finite indices inside the int range: then Python's float()
    reads each token exactly as glibc's %lg does and pass 1 can run on whole columns.
    None otherwise (the fscanf emulation handles everything else)."""
    if data.translate(None, _PLAIN_CHARS):
        return None
    tokens = data.split()
    if not tokens or len(tokens) % 4:
        return None
    try:
        values = np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        return None
    hkl = values.reshape(-1, 4)[:, :3]
    if not (np.isfinite(hkl).all() and (np.abs(hkl) < _INT32).all()):
        return None
    return tokens, values


def _indices_are_plain_ints(tokens):
    """True when every h, k, l token (all but each fourth) is an optional sign and digits."""
    indices = b" ".join(t for i, t in enumerate(tokens) if i % 4 != 3)
    return not indices.translate(None, b"0123456789+- ")


def _first_pass_plain(values, out):
    """Pass 1 on the values of `_plain_records`: the warnings and bounds of the sequential
    loop (`_first_pass_scan`), computed on whole columns."""
    hkl = values.reshape(-1, 4)[:, :3]
    bad = hkl != np.ceil(hkl - 0.4)
    for row, col in zip(*np.nonzero(bad)):
        out(f"WARNING: non-integer value for {'hkl'[col]} ({printf_g(hkl[row, col])}) at line {row}\n")
    bounds = []
    for col in range(3):
        lo, hi = hkl[:, col].min(), hkl[:, col].max()
        # h_min starts at 1e9 and only moves below it (likewise h_max from -1e9), taking
        # the truncated value each time; truncation is monotonic, so the result is trunc(min)
        bounds += [int(lo) if lo < 1e9 else 1000000000, int(hi) if hi > -1e9 else -1000000000]
    return bounds


def _first_pass_scan(scanner, out):
    """Pass 1 exactly as the C loop runs it (lines 2152-2164): (bounds, hkls, fscanf's last return)."""
    h_min = k_min = l_min = 1000000000
    h_max = k_max = l_max = -1000000000
    hkls = 0
    while True:
        count, values = scanner.scanf("%lg%lg%lg%lg")
        if count != 4:
            break
        h, k, l, _ = values
        if h != _ceil(h - 0.4):
            out(f"WARNING: non-integer value for h ({printf_g(h)}) at line {hkls}\n")
        if k != _ceil(k - 0.4):
            out(f"WARNING: non-integer value for k ({printf_g(k)}) at line {hkls}\n")
        if l != _ceil(l - 0.4):
            out(f"WARNING: non-integer value for l ({printf_g(l)}) at line {hkls}\n")
        # int = double assignments truncate
        if h_min > h:
            h_min = c_dtoi(h)
        if k_min > k:
            k_min = c_dtoi(k)
        if l_min > l:
            l_min = c_dtoi(l)
        if h_max < h:
            h_max = c_dtoi(h)
        if k_max < k:
            k_max = c_dtoi(k)
        if l_max < l:
            l_max = c_dtoi(l)
        hkls += 1
    return [h_min, h_max, k_min, k_max, l_min, l_max], hkls, count


def read_hkl(path, default_F, out):
    """Read an HKL text file the way nanoBragg.c does (lines 2140-2209); messages go to `out`.

    Pass 1 reads `%lg%lg%lg%lg` records (line breaks do not matter), warns about non-integer
    indices, and takes the bounds by assigning doubles to ints (truncation toward zero).  The
    grid is zero, or `default_F` on indices below each range when default_F != 0.  Pass 2
    re-reads with `%d%d%d%lg` and stores F; it stops at the first record %d cannot read, so an
    index written "1.0" ends pass 2 there (every later F keeps its initial value) -- a C quirk
    kept on purpose.  Raises NBError (code 9) for an unopenable file, a file whose pass 1 stops
    before the end (naming the line), no entries ("not enough HKL indices"), and a pass-2 index
    outside the pass-1 bounds (where the C writes out of bounds)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise NBError(f"ERROR: unable to open {path}. (-hkl file: {err.strerror})") from None
    out(f"counting entries in {path}\n")
    scanner = Scanner(data)
    plain = _plain_records(data)
    if plain is not None:
        bounds = _first_pass_plain(plain[1], out)
        hkls = len(plain[1]) // 4
    else:
        bounds, hkls, last = _first_pass_scan(scanner, out)
        if last != -1:
            # the C stops here silently and goes on with what it read; refuse instead
            rest = data[scanner.pos:]
            if rest.strip(b" \t\n\v\f\r"):
                where = _line_of(data, scanner.pos)
                raise NBError(f"ERROR: malformed HKL file {path} (-hkl): line {where} "
                              f"is not a list of 'h k l F' numbers")
            where = _line_of(data, len(data.rstrip(b" \t\n\v\f\r")) - 1)
            raise NBError(f"ERROR: malformed HKL file {path} (-hkl): incomplete 'h k l F' "
                          f"entry at line {where}, the end of the file")
    h_min, h_max, k_min, k_max, l_min, l_max = bounds
    h_range = c_int(h_max - h_min + 1)
    k_range = c_int(k_max - k_min + 1)
    l_range = c_int(l_max - l_min + 1)
    if h_range < 0 or k_range < 0 or l_range < 0:
        out(f"h: {h_min} - {h_max}\n")
        out(f"k: {k_min} - {k_max}\n")
        out(f"l: {l_min} - {l_max}\n")
        raise NBError(f"ERROR: not enough HKL indices in {path}")
    try:
        F = np.zeros((h_range + 1, k_range + 1, l_range + 1), dtype=np.float64)
    except (MemoryError, ValueError):
        raise NBError(f"ERROR: HKL file {path} spans {h_range} x {k_range} x {l_range} indices, "
                      f"too many to hold in memory") from None
    if default_F != 0.0:
        out(f"initializing to default_F = {printf_g(default_F)}:\n")
        F[:h_range, :k_range, :l_range] = default_F
        out("done initializing:\n")

    out(f"re-reading {path}\n")
    if plain is not None and _indices_are_plain_ints(plain[0]):
        # %d reads each index token whole, exactly what pass 1 read
        rows = plain[1].reshape(-1, 4)
        idx = rows[:, :3].astype(np.int64) - np.array([h_min, k_min, l_min])
        flat = np.ravel_multi_index(idx.T, F.shape)
        # later entries overwrite earlier ones, as in the sequential C loop
        last_first, where = np.unique(flat[::-1], return_index=True)
        F.flat[last_first] = rows[::-1, 3][where]
    else:
        scanner.rewind()
        ranges = (h_range, k_range, l_range)
        entry = 0
        while True:
            count, values = scanner.scanf("%d%d%d%lg")
            if count != 4:
                break
            h0, k0, l0, F_cell = values
            index = (c_int(h0 - h_min), c_int(k0 - k_min), c_int(l0 - l_min))
            if not all(0 <= i <= r for i, r in zip(index, ranges)):
                raise NBError(f"ERROR: HKL file {path} (-hkl): entry {entry} read as "
                              f"{h0} {k0} {l0} on the second pass, outside the ranges "
                              f"h {h_min}..{h_max} k {k_min}..{k_max} l {l_min}..{l_max}")
            F[index] = F_cell
            entry += 1
    return HKLGrid(h_min, h_max, k_min, k_max, l_min, l_max, h_range, k_range, l_range, F, hkls)


def write_fdump(path, grid, out):
    """Write the Fdump cache (lines 2226-2241): "%d %d %d %d %d %d\\n\\f" with the six bounds,
    then all (h_range+1)*(k_range+1)*(l_range+1) doubles, little-endian, h-major.  Like the C,
    a file that cannot be written only prints a WARNING."""
    header = (f"{grid.h_min} {grid.h_max} {grid.k_min} {grid.k_max} "
              f"{grid.l_min} {grid.l_max}\n\f").encode("ascii")
    try:
        write_output(path, [header, np.ascontiguousarray(grid.F, dtype="<f8").tobytes()])
    except NBError:
        out(f"WARNING: unable to open dump file: {path}\n")
        return
    out(f"writing dump file for next time: {path}\n")


def read_fdump(path, out):
    """Read an Fdump cache back (lines 2105-2128), printing "reading Fs from <path>".

    The header is read with `fscanf("%d%d%d%d%d%d\\n\\f")`, whose whitespace directives skip
    every whitespace byte that follows -- including leading bytes of the binary payload that
    happen to be 9-13 or 32.  The C then reads the doubles from there, shifted, with zeros
    where the file runs out; that is reproduced.  A file too short for the grid its header
    announces (counting the payload from just after the header's "\\n\\f") or whose header
    is not six integers with ranges >= 0 raises NBError."""
    out(f"reading Fs from {path}\n")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise NBError(f"ERROR: unable to read dump file {path}: {err.strerror}") from None
    scanner = Scanner(data)
    count, values = scanner.scanf("%d%d%d%d%d%d")
    if count != 6:
        raise NBError(f"ERROR: {path} is not an Fdump file: its header is not six integers")
    nominal = scanner.pos + 2 if data.startswith(b"\n\f", scanner.pos) else None
    scanner.scanf("\n\f")
    start = scanner.pos
    if nominal is None:
        nominal = start
    h_min, h_max, k_min, k_max, l_min, l_max = values
    h_range = c_int(h_max - h_min + 1)
    k_range = c_int(k_max - k_min + 1)
    l_range = c_int(l_max - l_min + 1)
    if h_range < 0 or k_range < 0 or l_range < 0:
        raise NBError(f"ERROR: Fdump file {path} has empty index ranges "
                      f"h {h_min}..{h_max} k {k_min}..{k_max} l {l_min}..{l_max}")
    shape = (h_range + 1, k_range + 1, l_range + 1)
    needed = 8 * shape[0] * shape[1] * shape[2]
    if len(data) - nominal < needed:
        raise NBError(f"ERROR: Fdump file {path} is truncated: {shape[0]} x {shape[1]} x {shape[2]} "
                      f"values need {needed} bytes after the header, the file has {len(data) - nominal}")
    payload = data[start:start + needed]
    payload += b"\0" * (needed - len(payload))
    F = np.frombuffer(payload, dtype="<f8").astype(np.float64).reshape(shape)
    hkls = c_int(h_range * k_range * l_range)
    return HKLGrid(h_min, h_max, k_min, k_max, l_min, l_max, h_range, k_range, l_range, F, hkls)
