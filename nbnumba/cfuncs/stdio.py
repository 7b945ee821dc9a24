"""C stdio/stdlib text parsing, reproduced byte for byte as glibc (x86-64, "C" locale) does it.

nanoBragg.c reads its inputs with `atof`/`atoi` (command line, SMV headers, text tables) and
with `fscanf` (HKL files, matrix files, the Fdump header).  These differ from Python's `float`
and `int` in ways that change results: `atof` takes the longest numeric prefix and gives 0 when
there is none, `%d` stops at the "." of "1.0", `%lg` swallows a dangling exponent ("1e" reads
1 and consumes the "e"), and a whitespace directive skips *any* whitespace bytes, binary or not.

- `strtod`, `atof`, `strtol`, `atoi`: glibc `stdlib/strtod_l.c` / `strtol_l.c` semantics.
- `Scanner`: a byte stream with `fscanf` for the `%lg`, `%d` and whitespace directives the C uses,
  following glibc `stdio-common/vfscanf-internal.c` (what it consumes, what it pushes back, what
  it returns).
- `read_text_file`: nanoBragg.c `read_text_file()` (lines 3867-3967).
- `c_format`, `printf_g`, `c_int`, `c_dtoi`: the printf and integer-conversion details (a NaN
  prints with its sign, "-nan"; casts wrap or saturate as on x86-64).
- `c_ceil`, `c_dtoi_ceil`, `c_atan2`, `c_sqrt`: libm where Python's `math` raises (sin and cos:
  cfuncs/vectors.py, which the kernels share)
  or drops a NaN's sign (infinities, NaN, negative roots) and the C goes on with inf or NaN.
"""

import math
import re

import numpy as np

from nbnumba.errors import NBError
from nbnumba.folders import WORKING

# isspace() in the C locale
_SPACE = frozenset(b" \t\n\v\f\r")
_DIGITS = frozenset(b"0123456789")
_XDIGITS = frozenset(b"0123456789abcdefABCDEF")
_EOF = -1

_LONG_MIN = -(1 << 63)
_LONG_MAX = (1 << 63) - 1

# a plain decimal number followed by whitespace or the end: fscanf's %lg and strtod agree
# on it character for character, so it can skip the character-level emulation
_PLAIN_FLOAT = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?=[ \t\n\v\f\r]|\Z)")
_PLAIN_INT = re.compile(rb"[+-]?[0-9]+(?=[ \t\n\v\f\r]|\Z)")
_DEC_MANTISSA = re.compile(rb"[0-9]*\.?[0-9]*")
_DEC_EXPONENT = re.compile(rb"[eE][+-]?[0-9]+")
_HEX_MANTISSA = re.compile(rb"[0-9a-fA-F]*\.?[0-9a-fA-F]*")
_HEX_EXPONENT = re.compile(rb"[pP][+-]?[0-9]+")
_NAN_CHARS = re.compile(rb"\([0-9A-Za-z_]*\)")


def _as_bytes(s):
    """Command-line text reaches the C as bytes; map a Python str back the way os.fsencode does."""
    if isinstance(s, str):
        return s.encode("utf-8", "surrogateescape")
    return bytes(s)


def _lower(c):
    return c | 0x20 if 65 <= c <= 90 else c


def _c_string(b):
    """What a C string function sees of a byte buffer: everything before the first NUL."""
    nul = b.find(b"\0")
    return b if nul < 0 else b[:nul]


def strtod(b, pos=0):
    """glibc `strtod` on bytes `b` from index `pos`: (value, end index); end == pos when no number.

    Leading whitespace, an optional sign, then "inf"/"infinity", "nan" with an optional
    "(n-char-sequence)", a hex float ("0x1.8p3"), or a decimal float; all correctly rounded,
    overflow to +-inf and underflow to 0 as glibc does."""
    n = len(b)
    i = pos
    while i < n and b[i] in _SPACE:
        i += 1
    negative = False
    if i < n and b[i] in b"+-":
        negative = b[i] == 0x2D
        i += 1
    head = b[i:i + 8].lower()
    if head.startswith(b"inf"):
        value, end = math.inf, i + (8 if head == b"infinity" else 3)
    elif head.startswith(b"nan"):
        value, end = math.nan, i + 3
        m = _NAN_CHARS.match(b, end)
        if m:
            end = m.end()
    elif head[:2] == b"0x" and i + 2 < n and (b[i + 2] in _XDIGITS
                                               or (b[i + 2] == 0x2E and i + 3 < n and b[i + 3] in _XDIGITS)):
        m = _HEX_MANTISSA.match(b, i + 2)
        end = m.end()
        e = _HEX_EXPONENT.match(b, end)
        if e:
            end = e.end()
        try:
            value = float.fromhex(b[i:end].decode("ascii"))
        except OverflowError:
            value = math.inf
    else:
        m = _DEC_MANTISSA.match(b, i)
        if not any(c in _DIGITS for c in b[i:m.end()]):
            return 0.0, pos
        end = m.end()
        e = _DEC_EXPONENT.match(b, end)
        if e:
            end = e.end()
        value = float(b[i:end])
    return (-value if negative else value), end


def atof(s):
    """C `atof(s)` = `strtod(s, NULL)`: the longest numeric prefix after whitespace, 0.0 if none.

    Like C, reading stops at the first NUL byte.  The value is a numpy float64, so that the
    arithmetic done with it divides by zero as C doubles do (inf, NaN) where a Python float
    raises ZeroDivisionError (-energy 0, -pixel 0, ...)."""
    return np.float64(strtod(_c_string(_as_bytes(s)))[0])


def strtol(b, pos=0):
    """glibc `strtol(b+pos, &end, 10)` on x86-64: (value clamped to the 64-bit long range, end)."""
    n = len(b)
    i = pos
    while i < n and b[i] in _SPACE:
        i += 1
    j = i + 1 if i < n and b[i] in b"+-" else i
    k = j
    while k < n and b[k] in _DIGITS:
        k += 1
    if k == j:
        return 0, pos
    return min(max(int(b[i:k]), _LONG_MIN), _LONG_MAX), k


def c_int(value):
    """Convert a Python int to C `int` the way x86-64 truncates a `long`: keep the low 32 bits."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= (1 << 31) else value


def c_dtoi(x):
    """C `(int) x` for a double on x86-64 (cvttsd2si): truncation toward zero; NaN, +-inf and
    values outside the int range give INT_MIN (-2147483648), which is what the C gets in
    practice for these undefined conversions."""
    if math.isfinite(x) and -2147483649.0 < x < 2147483648.0:
        return int(x)
    return -2147483648


def c_dtoi_ceil(x):
    """C `int n = ceil(x);` -- the assignment the C makes for every step and pixel count."""
    return c_dtoi(c_ceil(x))


# the NaN x86-64 produces for an invalid operation (inf - inf, sqrt(-1)): sign bit set, "-nan"
_DEFAULT_NAN = math.inf - math.inf


def c_ceil(x):
    """libm `ceil(x)` as a double: infinities and NaN pass through (math.ceil raises)."""
    return float(math.ceil(x)) if math.isfinite(x) else x


def c_atan2(y, x):
    """glibc `atan2(y, x)`: with a NaN argument it returns x + y, i.e. x's NaN if x is one,
    else y's (math.atan2 returns a positive NaN, losing the sign the C prints)."""
    if x != x:
        return x
    if y != y:
        return y
    return math.atan2(y, x)


def c_sqrt(x):
    """glibc `sqrt(x)`: -nan below zero (math.sqrt raises), NaN passes through."""
    return math.sqrt(x) if not x < 0.0 else _DEFAULT_NAN


# one printf conversion: flags, width, precision, length modifier, conversion
_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\d*)(?:\.\d*)?[hlL]*([diouxXeEfFgGcs%])")


def _negative_nan(x):
    return isinstance(x, (float, np.floating)) and x != x and math.copysign(1.0, x) < 0


def c_format(fmt, args):
    """C `printf(fmt, args...)` (glibc) for the conversions nanoBragg.c uses: Python's `%`
    formatting, except that a NaN with its sign bit set prints "-nan" ("-NAN" for %G/%E/%F),
    space-padded to the field width, where Python prints "nan"."""
    args = tuple(args)
    if not any(_negative_nan(a) for a in args):
        return fmt % args
    pieces, pos, i = [], 0, 0
    for m in _PRINTF_SPEC.finditer(fmt):
        pieces.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, conv = m.groups()
        if conv == "%":
            pieces.append("%")
            continue
        value, i = args[i], i + 1
        if _negative_nan(value):
            text = "-NAN" if conv.isupper() else "-nan"
            pieces.append(("%" + flags.replace("0", "") + width + "s") % text)
        else:
            pieces.append(m.group() % value)
    pieces.append(fmt[pos:])
    return "".join(pieces)


def printf_g(x, fmt="%g"):
    """C `printf("%g", x)` (glibc), or another `%g` format such as "%.15g": Python's formatting
    except that a NaN keeps its sign ("-nan")."""
    return c_format(fmt, (x,))


def whole_number(s, integer=False):
    """True when `atof(s)` (`atoi(s)` if `integer`) reads all of `s` but trailing whitespace:
    no prefix left unread ("5x", "1.5" as an int) and not a text that reads as 0 ("abc")."""
    b = _c_string(_as_bytes(s))
    end = (strtol if integer else strtod)(b)[1]
    return end > 0 and not b[end:].strip(b" \t\n\v\f\r")


def atoi(s):
    """glibc `atoi(s)` = `(int) strtol(s, NULL, 10)`: sign and digits after whitespace, 0 if none.

    Out-of-range text first clamps to the 64-bit `long` range, then the low 32 bits are kept
    ("4294967297" -> 1, "99999999999999999999" -> -1), as glibc on x86-64 does."""
    return c_int(strtol(_c_string(_as_bytes(s)))[0])


class Scanner:
    """A read-only byte stream with glibc `fscanf` semantics for the directives nanoBragg.c uses.

    `scanf(fmt)` accepts whitespace (skip any whitespace bytes, lazily, as glibc does),
    `%lg`/`%lf`/`%le` and `%d`.  It returns `(count, values)` where `count` is what fscanf
    returns (conversions assigned, or -1 when the input ended before the first one) and
    `values` the assigned values in order.  `pos` is the stream position afterwards, exactly
    where glibc leaves it (it can push back only one character, so a failed conversion may
    have consumed input: "-x" loses the "-", "1e+x" reads 1 and loses "e+")."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def rewind(self):
        """C `rewind()`."""
        self.pos = 0

    def _getc(self):
        if self.pos < len(self.data):
            self.pos += 1
            return self.data[self.pos - 1]
        return _EOF

    def _ungetc(self, c):
        if c != _EOF:
            self.pos -= 1

    def _skip_space(self):
        data, n, p = self.data, len(self.data), self.pos
        while p < n and data[p] in _SPACE:
            p += 1
        self.pos = p

    def _scan_int(self):
        """%d after the whitespace skip, stream not at EOF: the int, or None on a matching failure."""
        m = _PLAIN_INT.match(self.data, self.pos)
        if m:
            self.pos = m.end()
            return c_int(min(max(int(m.group()), _LONG_MIN), _LONG_MAX))
        buf = bytearray()
        c = self._getc()
        if c in (0x2B, 0x2D):
            buf.append(c)
            c = self._getc()
        while c in _DIGITS:
            buf.append(c)
            c = self._getc()
        self._ungetc(c)
        if not buf or buf in (b"+", b"-"):
            return None
        return c_int(min(max(int(buf), _LONG_MIN), _LONG_MAX))

    def _expect(self, buf, letters):
        """Read `letters` case-insensitively into buf; False (the mismatching byte consumed) if not there."""
        for want in letters:
            c = self._getc()
            if c == _EOF or _lower(c) != want:
                return False
            buf.append(c)
        return True

    def _scan_float(self):
        """%lg after the whitespace skip, stream not at EOF: the double, or None on a matching failure."""
        m = _PLAIN_FLOAT.match(self.data, self.pos)
        if m:
            self.pos = m.end()
            return float(m.group())
        buf = bytearray()
        c = self._getc()
        negative = False
        if c in (0x2B, 0x2D):
            negative = c == 0x2D
            c = self._getc()
            if c == _EOF:
                return None
        if _lower(c) == ord("n"):
            buf.append(c)
            if not self._expect(buf, b"an"):
                return None
        elif _lower(c) == ord("i"):
            buf.append(c)
            if not self._expect(buf, b"nf"):
                return None
            c = self._getc()
            if c != _EOF and _lower(c) == ord("i"):
                buf.append(c)
                if not self._expect(buf, b"nity"):
                    return None
            else:
                self._ungetc(c)
        else:
            hexa = got_digit = got_dot = got_e = False
            exp_char = ord("e")
            if c == ord("0"):
                buf.append(c)
                c = self._getc()
                if c != _EOF and _lower(c) == ord("x"):
                    buf.append(c)
                    hexa = True
                    exp_char = ord("p")
                    c = self._getc()
                else:
                    got_digit = True
            while True:
                if c in _DIGITS or (hexa and not got_e and c in _XDIGITS):
                    buf.append(c)
                    got_digit = True
                elif got_e and buf[-1] == exp_char and c in (0x2B, 0x2D):
                    buf.append(c)
                elif got_digit and not got_e and c != _EOF and _lower(c) == exp_char:
                    buf.append(exp_char)
                    got_e = got_dot = True
                elif not got_dot and c == ord("."):
                    buf.append(c)
                    got_dot = True
                else:
                    self._ungetc(c)
                    break
                c = self._getc()
                if c == _EOF:
                    break
            if not buf or (hexa and len(buf) == 2):
                return None
        value, end = strtod(bytes(buf))
        if end == 0:
            return None
        return -value if negative else value

    def scanf(self, fmt):
        """`fscanf(stream, fmt, ...)` -> (return value, assigned values)."""
        values = []
        skip = False
        i = 0
        while i < len(fmt):
            ch = fmt[i]
            if ch.isspace():
                skip = True
                i += 1
                continue
            if fmt.startswith(("%lg", "%lf", "%le"), i):
                scan, i = self._scan_float, i + 3
            elif fmt.startswith("%d", i):
                scan, i = self._scan_int, i + 2
            else:
                raise ValueError(f"unsupported scanf directive in {fmt!r}")
            # every numeric conversion skips leading whitespace; EOF here is an input failure
            self._skip_space()
            skip = False
            if self.pos >= len(self.data):
                return (len(values) if values else -1), values
            value = scan()
            if value is None:
                return len(values), values
            values.append(value)
        if skip:
            self._skip_space()
        return len(values), values


def _fgets_lines(data, size=10240):
    """The successive buffers `fgets(text, size, f)` fills: up to size-1 bytes, ending after a newline."""
    lines = []
    pos, n = 0, len(data)
    while pos < n:
        nl = data.find(b"\n", pos, pos + size - 1)
        end = nl + 1 if nl >= 0 else min(pos + size - 1, n)
        lines.append(data[pos:end])
        pos = end
    return lines


def _strspn(b, i, accept):
    n = len(b)
    while i < n and b[i] in accept:
        i += 1
    return i


def _strcspn(b, i, reject):
    n = len(b)
    while i < n and b[i] not in reject:
        i += 1
    return i


_DELIMITERS = frozenset(b" \t,;:!")
_NUMBERSTUF = frozenset(b"0123456789-+.EGeg")


def read_text_file(path, nargs, folder=WORKING):
    """nanoBragg.c `read_text_file(filename, nargs, ...)` (lines 3867-3967): `nargs` float64 columns.

    Returns a list of `nargs` arrays of length `lines`, the count the C returns.  As in the C:
    lines are the buffers of `fgets(text, 10240)` (so a line longer than 10239 bytes is split,
    and bytes after a NUL are ignored); a line that is only delimiters " \\t,;:!" followed by
    "\\n" is skipped; each field is `atof` of the text at the cursor, the cursor then skips
    "0123456789-+.EGeg" characters, then non-delimiters, then delimiters; a line stops at "\\n"
    or after `nargs` fields.  Missing fields stay NaN -- except on a line that does not end in
    exactly "\\n" (the last line of a file without a final newline, a "\\r\\n" line, a split
    long line): the C never sees "\\n" there and fills the remaining fields with 0.0.

    The C returns 0 when the file cannot be opened; here that raises NBError (both callers
    exit with code 9 on 0 lines anyway).  A relative `path` is read in `folder` (folders.Folder)."""
    try:
        data = folder.read(path)
    except OSError as err:
        raise NBError(f"ERROR: unable to read {path}: {err.strerror}") from None
    rows = []
    for text in _fgets_lines(data):
        text = _c_string(text)
        token = _strspn(text, 0, _DELIMITERS)
        if text[token:] == b"\n":
            continue
        row = [math.nan] * nargs
        i = 0
        while True:
            row[i] = strtod(text, token)[0]
            token = _strspn(text, token, _NUMBERSTUF)
            if text[token:] == b"\n":
                break
            token = _strcspn(text, token, _DELIMITERS)
            token = _strspn(text, token, _DELIMITERS)
            if text[token:] == b"\n":
                break
            i += 1
            if i >= nargs:
                break
        rows.append(row)
    table = np.array(rows, dtype=np.float64).reshape(len(rows), nargs)
    return [np.ascontiguousarray(table[:, j]) for j in range(nargs)]
