"""Structure factors: the `-hkl` text file and the `Fdump.bin` cache, as nanoBragg.c handles them.

- `read_hkl`: nanoBragg.c lines 2140-2209 (two `fscanf` passes over the HKL file).
- `write_fdump`: lines 2226-2241 (the binary cache written after reading an HKL file).
- `read_fdump`: lines 2105-2128 (reading that cache back when no `-hkl` is given).

An HKL file the C reads only in part (a line that is not numbers, 3 or 5 columns, an index
%d stops at) and a truncated Fdump are read as the C reads them and warned about.  Where the
C would index out of bounds or read uninitialised memory (a pass-2 index outside the pass-1
ranges, an Fdump header of fewer than six integers), or the grid cannot fit in memory, NBError.
"""

import re
from dataclasses import dataclass

import numpy as np

from nbnumba.cfuncs.stdio import Scanner, c_ceil, c_dtoi, c_int, printf_g
from nbnumba.errors import NBError
from nbnumba.folders import WORKING
from nbnumba.memory import require
from nbnumba.io.outfile import bytes_of

# the only bytes a file of plain decimal numbers separated by whitespace can contain
_PLAIN_CHARS = b"0123456789+-.eE \t\n\v\f\r"
_NOT_PLAIN = re.compile(b"[^" + re.escape(_PLAIN_CHARS) + b"]")
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


class _Text:
    """Byte-level facts about an HKL file, computed once with numpy: where each
    whitespace-separated token starts, where the lines end."""

    def __init__(self, data):
        self.data = data
        self.bytes = np.frombuffer(data, dtype=np.uint8)
        b = self.bytes
        space = (b == 32) | ((b - np.uint8(9)) <= 4)      # isspace(): " \t\n\v\f\r"
        start = ~space
        start[1:] &= space[:-1]
        self.starts = np.flatnonzero(start)
        self.newlines = np.flatnonzero(b == 10)

    def line_of(self, pos):
        """The line (1-based) of byte `pos`."""
        return int(np.searchsorted(self.newlines, pos)) + 1

    def token_at(self, index):
        """Byte position of token `index`, or the end of the data past the last token."""
        return int(self.starts[index]) if index < len(self.starts) else len(self.data)

    def odd_line(self, end):
        """(line, count) of the first line before byte `end` holding a number of tokens other
        than 4 (blank lines aside), or None."""
        ntokens = np.searchsorted(self.starts, end)
        ends = np.append(np.searchsorted(self.starts, self.newlines[self.newlines < end]), ntokens)
        counts = np.diff(ends, prepend=0)
        odd = np.flatnonzero((counts != 0) & (counts != 4))
        return (int(odd[0]) + 1, int(counts[odd[0]])) if odd.size else None


def _plain_prefix(text):
    """(records, end): the whole 'h k l F' records of plain decimal numbers that open the
    file, up to the line holding its first other byte, as float64 rows, and the byte where
    the record after them starts.  glibc's %lg reads such tokens exactly as Python's float()
    and numpy's parser do, so pass 1 runs on whole columns there; the fscanf emulation takes
    over at `end` for the rest (normally nothing).  Indices that are not finite or not
    inside the int range leave no prefix (the emulation reads everything)."""
    data = text.data
    odd = _NOT_PLAIN.search(data) if data.translate(None, _PLAIN_CHARS) else None
    cut = data.rfind(b"\n", 0, odd.start()) + 1 if odd else len(data)
    ntokens = int(np.searchsorted(text.starts, cut))
    nothing = np.zeros((0, 4)), 0
    if ntokens < 4:
        return nothing
    try:
        values = np.fromstring(data[:cut], dtype=np.float64, sep=" ")
    except ValueError:          # a token such as "1-2" that is not one number
        return nothing
    if len(values) != ntokens:
        return nothing
    records = values[:ntokens - ntokens % 4].reshape(-1, 4)
    hkl = records[:, :3]
    if not (np.isfinite(hkl).all() and (np.abs(hkl) < _INT32).all()):
        return nothing
    return records, text.token_at(len(records) * 4)


def _indices_are_plain_ints(text, nrecords):
    """True when every h, k, l token of the first `nrecords` records is a sign and digits,
    so that %d reads each of them whole (no ".", "e" or "E" in them)."""
    b = text.bytes[:text.token_at(4 * nrecords)]
    stops = np.flatnonzero((b == 46) | ((b | np.uint8(32)) == 101))     # ".", "e", "E"
    token = np.searchsorted(text.starts, stops, side="right") - 1
    return not (token % 4 != 3).any()


def _first_pass_plain(records, out):
    """Pass 1 on whole records: the warnings and bounds of the sequential loop
    (`_first_pass_scan`), computed on whole columns."""
    hkl = records[:, :3]
    bad = hkl != np.ceil(hkl - 0.4)
    for row, col in zip(*np.nonzero(bad)):
        out(f"WARNING: non-integer value for {'hkl'[col]} ({printf_g(hkl[row, col])}) at line {row}\n")
    bounds = [1000000000, -1000000000] * 3
    for col in range(3):
        if len(hkl):
            # h_min starts at 1e9 and only moves below it (likewise h_max from -1e9), taking
            # the truncated value each time; truncation is monotonic, so the result is trunc(min)
            lo, hi = hkl[:, col].min(), hkl[:, col].max()
            bounds[2 * col: 2 * col + 2] = [int(lo) if lo < 1e9 else 1000000000, int(hi) if hi > -1e9 else -1000000000]
    return bounds


def _first_pass_scan(scanner, bounds, hkls, out):
    """Pass 1 exactly as the C loop runs it (lines 2152-2164), from the scanner's position
    with the bounds and count so far: (bounds, hkls, fscanf's last return)."""
    h_min, h_max, k_min, k_max, l_min, l_max = bounds
    while True:
        count, values = scanner.scanf("%lg%lg%lg%lg")
        if count != 4:
            break
        h, k, l, _ = values
        if h != c_ceil(h - 0.4):
            out(f"WARNING: non-integer value for h ({printf_g(h)}) at line {hkls}\n")
        if k != c_ceil(k - 0.4):
            out(f"WARNING: non-integer value for k ({printf_g(k)}) at line {hkls}\n")
        if l != c_ceil(l - 0.4):
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


def _layout_warning(path, text, stop, last, hkls):
    """The one warning about an HKL file the C reads other than line by line (None if it
    reads as 'h k l F' lines to its end): lines of 3 or 5 numbers, where reading stopped."""
    odd = []
    garbage = last != -1 and text.data[stop:].strip(b" \t\n\v\f\r")
    columns = text.odd_line(text.data.rfind(b"\n", 0, stop) + 1 if garbage else stop)
    if columns is not None:
        odd.append("line %d has %d numbers, not 4 (h k l F)" % columns)
    if garbage:
        odd.append("line %d is not 'h k l F' numbers" % text.line_of(stop))
    elif last > 0:
        odd.append("the file ends inside an 'h k l F' entry")
    if not odd:
        return None
    return (f"HKL file {path} (-hkl): {'; '.join(odd)}: nanoBragg.c reads 'h k l F' entries as one stream "
            f"of numbers up to the first that is not one and keeps the {hkls} entr{'y' if hkls == 1 else 'ies'} "
            f"it completes")


def _second_pass_scan(scanner, text, path, bounds, F):
    """Pass 2 exactly as the C loop runs it (lines 2196-2198), from the scanner's position:
    `%d%d%d%lg` records stored in F until one fails; returns how many it stored.  An index
    outside the pass-1 bounds, where the C writes out of bounds, raises NBError naming its line."""
    h_min, h_max, k_min, k_max, l_min, l_max = bounds
    ranges = [n - 1 for n in F.shape]
    stored = 0
    while True:
        at = scanner.pos
        count, values = scanner.scanf("%d%d%d%lg")
        if count != 4:
            return stored
        h0, k0, l0, F_cell = values
        index = (c_int(h0 - h_min), c_int(k0 - k_min), c_int(l0 - l_min))
        if not all(0 <= i <= r for i, r in zip(index, ranges)):
            where = text.line_of(text.token_at(int(np.searchsorted(text.starts, at))))
            raise NBError(f"ERROR: HKL file {path} (-hkl): line {where} reads as {h0} {k0} {l0} on the second "
                          f"pass, outside the ranges h {h_min}..{h_max} k {k_min}..{k_max} l {l_min}..{l_max}")
        F[index] = F_cell
        stored += 1


def read_hkl(path, default_F, out, warn=lambda text: None, data=None, folder=WORKING):
    """Read an HKL text file the way nanoBragg.c does (lines 2140-2209); messages go to `out`,
    one warning per oddity to `warn` (an errors.Warner); `data`: the file's bytes, if the
    caller has read them already, else a relative `path` is read in `folder` (folders.Folder).

    Pass 1 reads `%lg%lg%lg%lg` records (line breaks do not matter, so a file of 3 or 5
    columns is read as a stream of 4-number records), warns about non-integer indices, and
    takes the bounds by assigning doubles to ints (truncation toward zero); it stops silently
    at the first record fscanf cannot complete, keeping what it read (warned about, with the
    line).  The grid is zero, or `default_F` on indices below each range when default_F != 0.
    Pass 2 re-reads with `%d%d%d%lg` and stores F; it stops at the first record %d cannot
    read, so an index written "1.0" ends pass 2 there (every later F keeps its initial value)
    -- a C quirk kept on purpose, and warned about.  Raises NBError (code 9) for an
    unopenable file, no entries ("not enough HKL indices"), a grid too large for memory, and a
    pass-2 index outside the pass-1 bounds (where the C writes out of bounds)."""
    if data is None:
        try:
            data = folder.read(path)
        except OSError as err:
            raise NBError(f"ERROR: unable to open {path}. (-hkl file: {err.strerror})") from None
    out(f"counting entries in {path}\n")
    text = _Text(data)
    records, end = _plain_prefix(text)
    scanner = Scanner(data)
    scanner.pos = end
    bounds, hkls, last = _first_pass_scan(scanner, _first_pass_plain(records, out), len(records), out)
    layout = _layout_warning(path, text, scanner.pos, last, hkls)
    if layout is not None:
        warn(layout)
    h_min, h_max, k_min, k_max, l_min, l_max = bounds
    h_range, k_range, l_range = _ranges(bounds)
    if h_range < 0 or k_range < 0 or l_range < 0:
        out(f"h: {h_min} - {h_max}\n")
        out(f"k: {k_min} - {k_max}\n")
        out(f"l: {l_min} - {l_max}\n")
        raise NBError(f"ERROR: not enough HKL indices in {path}")
    F = _grid(h_range, k_range, l_range, f"the structure factors of {path}", f"the indices in {path} (-hkl)")
    if default_F != 0.0:
        out(f"initializing to default_F = {printf_g(default_F)}:\n")
        F[:h_range, :k_range, :l_range] = default_F
        out("done initializing:\n")

    out(f"re-reading {path}\n")
    stored = 0
    scanner.rewind()
    if len(records) and _indices_are_plain_ints(text, len(records)):
        # %d reads each index token whole, exactly what pass 1 read
        idx = records[:, :3].astype(np.int64) - np.array([h_min, k_min, l_min])
        flat = np.ravel_multi_index(idx.T, F.shape)
        # later entries overwrite earlier ones, as in the sequential C loop
        last_first, where = np.unique(flat[::-1], return_index=True)
        F.flat[last_first] = records[::-1, 3][where]
        stored, scanner.pos = len(records), end
    stored += _second_pass_scan(scanner, text, path, bounds, F)
    if stored < hkls:
        warn(f"HKL file {path} (-hkl): line {text.line_of(scanner.pos)} has an index that is not an integer: "
             f"nanoBragg.c's second pass reads indices as integers and stops there, storing {stored} of the "
             f"{hkls} entries")
    _warn_nan(F, bounds[::2], f"HKL file {path} (-hkl)", warn)
    return HKLGrid(h_min, h_max, k_min, k_max, l_min, l_max, h_range, k_range, l_range, F, hkls)


def _warn_nan(F, lowest, what, warn):
    """Warn about NaN structure factors ("nan" in an HKL file, which fscanf reads): the C
    renders the pixels that use them as NaN, 0 in its SMV images; `lowest` is (h_min, k_min,
    l_min)."""
    nan = np.isnan(F)
    count = int(np.count_nonzero(nan))
    if count:
        h, k, l = (int(i) + low for i, low in zip(np.argwhere(nan)[0], lowest))
        more = f" and {count - 1} more" if count > 1 else ""
        warn(f"{what}: the structure factor of h k l = {h} {k} {l}{more} is NaN: the pixels that use it render as "
             "NaN (0 in the SMV images), as in nanoBragg.c")


def _ranges(bounds):
    """The C's h_range, k_range, l_range (ints: max - min + 1) of (h_min, h_max, ..., l_max)."""
    h_min, h_max, k_min, k_max, l_min, l_max = bounds
    return c_int(h_max - h_min + 1), c_int(k_max - k_min + 1), c_int(l_max - l_min + 1)


def _grid(h_range, k_range, l_range, what, check):
    """The C's Fhkl calloc: (h_range+1) x (k_range+1) x (l_range+1) zeros, refused up front
    when it cannot fit in memory."""
    shape = (h_range + 1, k_range + 1, l_range + 1)
    require(8 * shape[0] * shape[1] * shape[2], "a %d x %d x %d grid of %s" % (*shape, what), check)
    return np.zeros(shape, dtype=np.float64)


def fdump_file(grid):
    """The chunks of the Fdump cache (lines 2226-2241): "%d %d %d %d %d %d\\n\\f" with the six
    bounds, then all (h_range+1)*(k_range+1)*(l_range+1) doubles, little-endian, h-major."""
    header = (f"{grid.h_min} {grid.h_max} {grid.k_min} {grid.k_max} "
              f"{grid.l_min} {grid.l_max}\n\f").encode("ascii")
    return [header, bytes_of(np.ascontiguousarray(grid.F, dtype="<f8"))]


def write_fdump(path, grid, out, outputs=None):
    """Write the Fdump cache (fdump_file) as the C does: into `outputs` (an outfile.Outputs),
    printing "writing dump file for next time: PATH"; like the C, a file that cannot be
    written only prints a WARNING.  With no outputs (the Python API without an output
    folder) it prints what the C prints and writes nothing."""
    try:
        if outputs is not None:
            outputs.add(path, fdump_file(grid), "fdump")
    except NBError:
        out(f"WARNING: unable to open dump file: {path}\n")
        return
    out(f"writing dump file for next time: {path}\n")


def read_fdump(path, out, warn=lambda text: None, folder=WORKING):
    """Read an Fdump cache back (lines 2105-2128), printing "reading Fs from <path>".

    The header is read with `fscanf("%d%d%d%d%d%d\\n\\f")`, whose whitespace directives skip
    every whitespace byte that follows -- including leading bytes of the binary payload that
    happen to be 9-13 or 32.  The C then reads the doubles from there, shifted, with zeros
    where the file runs out (its rows are calloc()ed and fread() fills what it can); that is
    reproduced.  A file shorter than the grid its header announces (counting the payload from
    just after the header's "\\n\\f") is warned about through `warn` and read the same way.
    A header that is not six integers (the C then reads uninitialised bounds), ranges below 0
    or a grid too large for memory raise NBError.  A relative `path` is read in `folder` (a
    folders.Folder)."""
    out(f"reading Fs from {path}\n")
    try:
        data = folder.read(path)
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
    h_range, k_range, l_range = _ranges(values)
    if h_range < 0 or k_range < 0 or l_range < 0:
        raise NBError(f"ERROR: Fdump file {path} has empty index ranges "
                      f"h {h_min}..{h_max} k {k_min}..{k_max} l {l_min}..{l_max}")
    F = _grid(h_range, k_range, l_range, f"structure factors in {path}", f"the header of {path}")
    needed = 8 * F.size
    if len(data) - nominal < needed:
        warn(f"Fdump file {path} is truncated: {' x '.join(map(str, F.shape))} values need {needed} bytes after "
             f"the header, the file has {len(data) - nominal}; the missing values read as 0, as in nanoBragg.c")
    # fread() also copies the bytes of a last, incomplete double into its zeroed row
    payload = data[start:start + needed]
    payload += b"\0" * (-len(payload) % 8)
    F.reshape(-1)[:len(payload) // 8] = np.frombuffer(payload, dtype="<f8")
    _warn_nan(F, values[::2], f"Fdump file {path}", warn)
    hkls = c_int(h_range * k_range * l_range)
    return HKLGrid(h_min, h_max, k_min, k_max, l_min, l_max, h_range, k_range, l_range, F, hkls)
