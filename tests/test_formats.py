"""File formats and C parsing against the reference: nanoBragg.c's golden outputs and glibc.

Numbers marked "glibc" were printed by scratch C programs (glibc 2.36, gcc 12, x86-64) that
call strtod/atoi/fscanf/printf directly, or that run nanoBragg.c's own read_text_file() and
HKL/Fdump reading code on the same input; they are recorded here, not computed by the port.
"""

import gzip
import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from nbnumba.cfuncs.stdio import Scanner, atof, atoi, c_dtoi, printf_g, read_text_file, strtod
from nbnumba.errors import NBError
from nbnumba.io.hkl import read_fdump, read_hkl, write_fdump
from nbnumba.io.images import RTD, float_file, pgm_file, read_smv, smv_file, smv_header_bytes, value_of
from nbnumba.io.outfile import Outputs, write_output

GOLDEN = Path(__file__).parent / "data" / "golden"
INPUTS = GOLDEN / "inputs"


def gunzip(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def hexfloat(text):
    return float(text) if text.lstrip("-") in ("inf", "nan") else float.fromhex(text)


def same_float(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


# ---------------------------------------------------------------- atof / atoi / strtod

# (input, strtod value as printed by %a, strtod end offset, atoi) -- glibc
GLIBC_NUMBERS = [
    (b'', '0x0p+0', 0, 0),
    (b'   ', '0x0p+0', 0, 0),
    (b'42', '0x1.5p+5', 2, 42),
    (b'  -17.5e2xyz', '-0x1.b58p+10', 9, -17),
    (b'+.5', '0x1p-1', 3, 0),
    (b'5.', '0x1.4p+2', 2, 5),
    (b'.', '0x0p+0', 0, 0),
    (b'-', '0x0p+0', 0, 0),
    (b'1e', '0x1p+0', 1, 1),
    (b'1e+', '0x1p+0', 1, 1),
    (b'1e+5', '0x1.86ap+16', 4, 1),
    (b'1.5E-3,7', '0x1.89374bc6a7efap-10', 6, 1),
    (b'0x1p3', '0x1p+3', 5, 0),
    (b'0X1.8P1', '0x1.8p+1', 7, 0),
    (b'0x', '0x0p+0', 1, 0),
    (b'0x.8', '0x1p-1', 4, 0),
    (b'0xg', '0x0p+0', 1, 0),
    (b'inf', 'inf', 3, 0),
    (b'-Infinity', '-inf', 9, 0),
    (b'infinit', 'inf', 3, 0),
    (b'nan', 'nan', 3, 0),
    (b'NaN(123)', 'nan', 8, 0),
    (b'nan(', 'nan', 3, 0),
    (b'1e400', 'inf', 5, 1),
    (b'-1e-400', '-0x0p+0', 7, -1),
    (b'4.9406564584124654e-324', '0x0.0000000000001p-1022', 23, 4),
    (b'\t\n\x0b\x0c\r 12', '0x1.8p+3', 8, 12),
    (b'2147483647', '0x1.fffffffcp+30', 10, 2147483647),
    (b'2147483648', '0x1p+31', 10, -2147483648),
    (b'-2147483649', '-0x1.00000002p+31', 11, 2147483647),
    (b'4294967297', '0x1.00000001p+32', 10, 1),
    (b'99999999999999999999', '0x1.5af1d78b58c4p+66', 20, -1),
    (b'-99999999999999999999', '-0x1.5af1d78b58c4p+66', 21, 0),
    (b'0012', '0x1.8p+3', 4, 12),
    (b'1,5', '0x1p+0', 1, 1),
    (b'1_000', '0x1p+0', 1, 1),
    (b'abc', '0x0p+0', 0, 0),
]


@pytest.mark.parametrize("text,value,end,int_value", GLIBC_NUMBERS)
def test_strtod_atof_atoi_match_glibc(text, value, end, int_value):
    got, got_end = strtod(text)
    assert same_float(got, hexfloat(value))
    assert got_end == end
    assert same_float(atof(text), hexfloat(value))
    assert same_float(atof(text.decode("latin-1")), hexfloat(value))
    assert atoi(text) == int_value


def test_atof_stops_at_nul_like_a_c_string():
    assert atof(b"1\x002") == 1.0
    assert atoi("7\x009") == 7


def test_printf_g_matches_glibc():
    # glibc printf("%g") of these bit patterns / expressions
    nan_bits = struct.unpack("<d", bytes.fromhex("000000000000f87f"))[0]
    neg_nan_bits = struct.unpack("<d", bytes.fromhex("000000000000f8ff"))[0]
    assert printf_g(nan_bits) == "nan"
    assert printf_g(neg_nan_bits) == "-nan"
    assert printf_g(-0.0) == "-0"
    assert printf_g(math.inf) == "inf"
    assert printf_g(1000 * 0.1) == "100"
    assert printf_g(180.0 * 0.31830988618379067154 * 0.5) == "28.6479"


def test_c_dtoi_is_x86_truncation():
    assert c_dtoi(-0.7) == 0
    assert c_dtoi(2.9) == 2
    assert c_dtoi(-2147483648.9) == -2147483648
    assert c_dtoi(2147483648.0) == -2147483648
    assert c_dtoi(math.nan) == -2147483648
    assert c_dtoi(math.inf) == -2147483648


# ---------------------------------------------------------------- fscanf

# (format, input, successive fscanf calls as (return, assigned values, ftell afterwards)) -- glibc
# (fmemopen stream); %d values are ints, %lg values floats
GLIBC_SCANF = [
    ("%d%d%d%lg", b"1.0 2.0 3.0 4.0\n", [(1, [1], 1), (0, [], 1)]),
    ("%d%d%d%lg", b"1 2 3 4.5\n-1 0 2 7\n", [(4, [1, 2, 3, 4.5], 9), (4, [-1, 0, 2, 7.0], 18), (-1, [], 19)]),
    ("%lg%lg%lg%lg", b"1 2 3 4\n5 6 7", [(4, [1.0, 2.0, 3.0, 4.0], 7), (3, [5.0, 6.0, 7.0], 13), (-1, [], 13)]),
    ("%lg%lg%lg%lg", b"1 2 3 abc\n", [(3, [1.0, 2.0, 3.0], 6), (0, [], 6)]),
    ("%lg", b"1e+x", [(1, [1.0], 3), (0, [], 3)]),
    ("%lg", b"-x", [(0, [], 1)]),
    ("%lg", b"0x", [(0, [], 2), (-1, [], 2)]),
    ("%lg", b"0x1p", [(1, [1.0], 4), (-1, [], 4)]),
    ("%lg", b"nan(1)", [(1, [math.nan], 3), (0, [], 3)]),
    ("%lg", b"infinityx", [(1, [math.inf], 8), (0, [], 8)]),
    ("%lg", b"infinx", [(0, [], 6), (-1, [], 6)]),
    ("%lg", b"   ", [(-1, [], 3)]),
    ("%d", b"99999999999", [(1, [1215752191], 11), (-1, [], 11)]),
    ("%d", b"-0x10", [(1, [0], 2), (0, [], 2)]),
    ("%d", b"+ 5", [(0, [], 1), (1, [5], 3), (-1, [], 3)]),
    # the Fdump header: "\n\f" skips every whitespace byte, here also " \t\v" of the payload
    ("%d%d%d%d%d%d\n\f", b"-6 6 -6 6 -6 6\n\f \t\x0b\x00\x01", [(6, [-6, 6, -6, 6, -6, 6], 19), (0, [], 19)]),
    ("%d%d%d%d%d%d\n\f", b"1 2 3\n\f", [(3, [1, 2, 3], 7), (-1, [], 7)]),
]


@pytest.mark.parametrize("fmt,data,calls", GLIBC_SCANF)
def test_scanner_matches_glibc_fscanf(fmt, data, calls):
    scanner = Scanner(data)
    for count, values, pos in calls:
        got_count, got_values = scanner.scanf(fmt)
        assert got_count == count
        assert len(got_values) == len(values)
        for got, want in zip(got_values, values):
            assert type(got) is type(want)
            assert same_float(float(got), float(want))
        assert scanner.pos == pos


def test_scanner_rewind_and_unsupported_directive():
    scanner = Scanner(b"3 4")
    assert scanner.scanf("%d%d") == (2, [3, 4])
    scanner.rewind()
    assert scanner.scanf("%d") == (1, [3])
    with pytest.raises(ValueError):
        scanner.scanf("%s")


# ---------------------------------------------------------------- read_text_file

def test_read_text_file_sources_matches_c():
    # nanoBragg.c read_text_file(sources.txt, 5, ...) -- glibc harness, %a
    want = [
        "-0x1.4p+3 0x0p+0 0x0p+0 0x1p+0 0x1.b7cdfd9d7bdbbp-34",
        "-0x1.4p+3 0x1.47ae147ae147bp-7 0x0p+0 0x1p-1 0x1.b7cdfd9d7bdbbp-34",
        "-0x1.4p+3 0x0p+0 -0x1.47ae147ae147bp-7 0x1p-1 0x1.bc33e3fdc7563p-34",
        "-0x1.4p+3 -0x1.0624dd2f1a9fcp-7 0x1.89374bc6a7efap-8 0x1p-2 0x1.b368173d30612p-34",
    ]
    columns = read_text_file(INPUTS / "sources.txt", 5)
    assert len(columns) == 5 and all(c.dtype == np.float64 and len(c) == 4 for c in columns)
    for line, row in enumerate(want):
        for col, text in enumerate(row.split()):
            assert same_float(columns[col][line], hexfloat(text))


def test_read_text_file_stol_matches_c():
    columns = read_text_file(INPUTS / "my.stol", 2)
    # the C returns 26 lines; first two rows as it read them (%a)
    assert [len(c) for c in columns] == [26, 26]
    assert columns[0][0] == 0.0 and columns[1][0] == float.fromhex("0x1.48f5c28f5c28fp+1")
    assert columns[0][1] == float.fromhex("0x1.47ae147ae147bp-6")
    assert columns[1][1] == float.fromhex("0x1.47a43fe5c91d1p+1")
    # every row is the two numbers of its line
    lines = [l.split() for l in (INPUTS / "my.stol").read_text().splitlines() if l.strip()]
    assert [float(a) for a, _ in lines] == list(columns[0])
    assert [float(b) for _, b in lines] == list(columns[1])


def test_read_text_file_quirks_match_c(tmp_path):
    path = tmp_path / "tricky.txt"
    path.write_bytes(b"# comment\n1 2\n \t,;\n3,4;5\r\n\n6 x 7\n8")
    # nanoBragg.c read_text_file(path, 3, ...) -- glibc harness: 5 lines; a missing field is
    # NaN only when the line ends in "\n" (the last line, without one, gets zeros)
    want = [[0.0, 0.0, 0.0], [1.0, 2.0, math.nan], [3.0, 4.0, 5.0], [6.0, 0.0, 7.0], [8.0, 0.0, 0.0]]
    columns = read_text_file(path, 3)
    assert [len(c) for c in columns] == [5, 5, 5]
    for line, row in enumerate(want):
        for col, value in enumerate(row):
            assert same_float(columns[col][line], value)


def test_read_text_file_unreadable(tmp_path):
    with pytest.raises(NBError) as err:
        read_text_file(tmp_path / "missing.txt", 2)
    assert "missing.txt" in err.value.message


# ---------------------------------------------------------------- HKL and Fdump

def test_read_hkl_then_write_fdump_is_byte_identical(tmp_path):
    printed = []
    grid = read_hkl(str(INPUTS / "cubic.hkl"), 0.0, printed.append)
    name = str(INPUTS / "cubic.hkl")
    assert printed == [f"counting entries in {name}\n", f"re-reading {name}\n"]
    assert (grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max) == (-6, 6, -6, 6, -6, 6)
    assert (grid.h_range, grid.k_range, grid.l_range) == (13, 13, 13)
    assert grid.F.shape == (14, 14, 14)
    assert grid.hkls == 2197  # stdout.txt: "2197 initialized hkls (all others =0)"
    dump = tmp_path / "Fdump.bin"
    with Outputs() as outputs:
        write_fdump(str(dump), grid, printed.append, outputs)
        assert not dump.exists()        # written at the commit, with the run's other files
        assert outputs.commit() == {"fdump": str(dump)}
    assert printed[-1] == f"writing dump file for next time: {dump}\n"
    assert dump.read_bytes() == gunzip(GOLDEN / "absorption_layers" / "Fdump.bin.gz")


def test_read_fdump_round_trip():
    printed = []
    grid = read_fdump(str(INPUTS / "Fdump.bin"), printed.append)
    assert printed == [f"reading Fs from {INPUTS / 'Fdump.bin'}\n"]
    from_hkl = read_hkl(str(INPUTS / "cubic.hkl"), 0.0, lambda text: None)
    assert (grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max) == (-6, 6, -6, 6, -6, 6)
    assert np.array_equal(grid.F, from_hkl.F)
    assert grid.hkls == 13 * 13 * 13
    assert grid.F[0, 0, 0] == 86.152  # first line of cubic.hkl: -6 -6 -6 86.152
    assert not grid.F[13].any() and not grid.F[:, 13].any() and not grid.F[:, :, 13].any()


def test_read_fdump_eats_whitespace_payload_like_c(tmp_path):
    # payload doubles 1.5..8.5 whose first two bytes were overwritten by " \t": the C's
    # "\n\f" directive skips them and reads the doubles shifted (glibc harness, %a)
    payload = bytearray(struct.pack("<8d", 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5))
    payload[0:2] = b" \t"
    path = tmp_path / "ws.bin"
    path.write_bytes(b"0 0 0 0 0 0\n\f" + bytes(payload))
    want = ["0x0.03ff8p-1022", "0x0.04004p-1022", "0x0.0400cp-1022", "0x0.04012p-1022",
            "0x0.04016p-1022", "0x0.0401ap-1022", "0x0.0401ep-1022", "0x0.04021p-1022"]
    grid = read_fdump(str(path), lambda text: None)
    assert grid.F.shape == (2, 2, 2)
    assert list(grid.F.ravel()) == [float.fromhex(t) for t in want]


def test_read_fdump_truncated_reads_zeros_and_warns(tmp_path):
    # the C callocs each row and freads what is there: the missing doubles are 0, and the
    # bytes of a last, incomplete double land in its zeroed row
    full = gunzip(GOLDEN / "absorption_layers" / "Fdump.bin.gz")
    complete = read_fdump(str(INPUTS / "Fdump.bin"), lambda text: None)
    path = tmp_path / "short.bin"
    path.write_bytes(full[:-8 * 100 - 3])
    warned = []
    grid = read_fdump(str(path), lambda text: None, warned.append)
    assert warned == [f"Fdump file {path} is truncated: 14 x 14 x 14 values need 21952 bytes after the header, "
                      f"the file has 21149; the missing values read as 0, as in nanoBragg.c"]
    flat, want = grid.F.ravel(), complete.F.ravel().copy()
    want[-101:] = 0.0
    want[-101] = struct.unpack("<d", full[-8 * 101:-8 * 100 - 3] + b"\0\0\0")[0]
    assert np.array_equal(flat, want) and grid.hkls == 13 * 13 * 13
    with pytest.raises(NBError) as err:       # a header of five integers: the sixth is uninitialised in the C
        path.write_bytes(b"-6 6 -6 6 -6")
        read_fdump(str(path), lambda text: None, warned.append)
    assert err.value.message == f"ERROR: {path} is not an Fdump file: its header is not six integers"


def test_read_hkl_pass2_stops_at_decimal_index_like_c(tmp_path):
    # "1.0" as an index: %lg reads it in pass 1, %d reads "1" then fails on ".0" in pass 2,
    # so the rest of the file is never stored (glibc harness running nanoBragg.c's code)
    path = tmp_path / "q.hkl"
    path.write_bytes(b"0 0 0 10\n1.0 1 1 20\n1 0 0 30\n")
    printed = []
    grid = read_hkl(str(path), 5.0, printed.append)
    assert printed == [f"counting entries in {path}\n", "initializing to default_F = 5:\n",
                       "done initializing:\n", f"re-reading {path}\n"]
    assert (grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max, grid.hkls) == (0, 1, 0, 1, 0, 1, 3)
    want = np.zeros((3, 3, 3))
    want[:2, :2, :2] = 5.0
    want[0, 0, 0] = 10.0
    assert np.array_equal(grid.F, want)


def test_read_hkl_warnings_and_truncated_bounds(tmp_path):
    path = tmp_path / "frac.hkl"
    path.write_bytes(b"-0.5 0 0 1\n0 2.6 0 2\n")
    printed = []
    grid = read_hkl(str(path), 0.0, printed.append)
    # C: warnings as printf prints them; h_min = (int)-0.5 = 0, k_max = (int)2.6 = 2
    assert printed[1:3] == ["WARNING: non-integer value for h (-0.5) at line 0\n",
                            "WARNING: non-integer value for k (2.6) at line 1\n"]
    assert (grid.h_min, grid.h_max, grid.k_min, grid.k_max) == (0, 0, 0, 2)


def test_read_hkl_errors(tmp_path):
    with pytest.raises(NBError) as err:
        read_hkl(str(tmp_path / "nope.hkl"), 0.0, lambda text: None)
    assert err.value.code == 9
    assert f"ERROR: unable to open {tmp_path / 'nope.hkl'}." in err.value.message
    assert "-hkl" in err.value.message

    empty = tmp_path / "empty.hkl"
    empty.write_bytes(b"\n  \n")
    printed = []
    with pytest.raises(NBError) as err:
        read_hkl(str(empty), 0.0, printed.append)
    assert err.value.message == f"ERROR: not enough HKL indices in {empty}"
    assert printed[1:] == ["h: 1000000000 - -1000000000\n", "k: 1000000000 - -1000000000\n",
                           "l: 1000000000 - -1000000000\n"]


@pytest.mark.parametrize("text, entries, oddity", [
    # pass 1 stops at the first record fscanf cannot complete ("seven": it reads 5, 6 and stops)
    (b"1 2 3 4\n2 2 2 5\n5 6 seven 8\n9 9 9 9\n", [(1, 2, 3, 4), (2, 2, 2, 5)], "line 3 is not 'h k l F' numbers"),
    # fscanf("%lg%lg%lg%lg") ignores line breaks: 3 or 5 columns are read four numbers at a time
    (b"1 1 1\n2 2 2\n3 3 3\n0 0 0\n", [(1, 1, 1, 2), (2, 2, 3, 3), (3, 0, 0, 0)],
     "line 1 has 3 numbers, not 4 (h k l F)"),
    (b"1 1 1 100 5\n2 2 2 50 5\n3 3 3 20 5\n", [(1, 1, 1, 100), (5, 2, 2, 2), (50, 5, 3, 3)],
     "line 1 has 5 numbers, not 4 (h k l F); the file ends inside an 'h k l F' entry"),
    (b"1 1 1 7\n2 2 2 8\n3 3 3\n", [(1, 1, 1, 7), (2, 2, 2, 8)],
     "line 3 has 3 numbers, not 4 (h k l F); the file ends inside an 'h k l F' entry"),
])
def test_read_hkl_keeps_what_the_c_reads_and_warns(tmp_path, text, entries, oddity):
    path = tmp_path / "odd.hkl"
    path.write_bytes(text)
    warned = []
    grid = read_hkl(str(path), 0.0, lambda text: None, warned.append)
    assert warned == [f"HKL file {path} (-hkl): {oddity}: nanoBragg.c reads 'h k l F' entries as one stream of "
                      f"numbers up to the first that is not one and keeps the {len(entries)} entries it completes"]
    assert grid.hkls == len(entries) and np.count_nonzero(grid.F) == sum(1 for entry in entries if entry[3])
    for h, k, l, F in entries:
        assert grid.F[h - grid.h_min, k - grid.k_min, l - grid.l_min] == F


def test_read_hkl_second_pass_stop_names_the_line(tmp_path):
    # "1e0" is 1 for pass 1 (%lg) but "1" then a failure for %d: pass 2 stops there
    path = tmp_path / "exp.hkl"
    path.write_bytes(b"0 0 0 1\n1 1 1 2\n1e0 0 0 3\n1 0 0 4\n")
    warned = []
    grid = read_hkl(str(path), 0.0, lambda text: None, warned.append)
    assert warned == [f"HKL file {path} (-hkl): line 3 has an index that is not an integer: nanoBragg.c's second "
                      f"pass reads indices as integers and stops there, storing 2 of the 4 entries"]
    assert grid.F[1, 0, 0] == 0.0 and grid.F[1, 1, 1] == 2.0


def test_read_hkl_slow_and_fast_paths_agree(tmp_path):
    rng = np.random.default_rng(4)
    rows = [(int(h), int(k), int(l), float(F)) for h, k, l, F in
            zip(*rng.integers(-4, 5, (3, 300)), rng.uniform(0, 100, 300))]
    plain = tmp_path / "plain.hkl"
    plain.write_text("".join(f"{h} {k} {l} {F:.3f}\n" for h, k, l, F in rows))
    # the same entries, the last F written as a hex float: the bulk path reads the plain lines
    # before it, the fscanf emulation the last one
    odd = tmp_path / "odd.hkl"
    odd.write_text("".join(f"{h} {k} {l} {F:.3f}\n" for h, k, l, F in rows[:-1])
                   + "{} {} {} 0x{}\n".format(*rows[-1][:3], float(f"{rows[-1][3]:.3f}").hex()[2:]))
    a = read_hkl(str(plain), 3.0, lambda text: None)
    b = read_hkl(str(odd), 3.0, lambda text: None)
    assert np.array_equal(a.F, b.F) and a.hkls == b.hkls == 300


def test_write_fdump_unwritable_only_warns(tmp_path):
    grid = read_fdump(str(INPUTS / "Fdump.bin"), lambda text: None)
    printed = []
    target = tmp_path / "no_such_dir" / "Fdump.bin"
    with Outputs() as outputs:
        write_fdump(str(target), grid, printed.append, outputs)
        assert outputs.commit() == {}
    assert printed == [f"WARNING: unable to open dump file: {target}\n"]
    assert not target.exists()


# ---------------------------------------------------------------- SMV headers

def mosflm_header_values(args):
    """The C's header variables for a MOSFLM-convention run with no detector rotation, derived
    from the command line the way nanoBragg.c does: -pixel/-distance/-lambda (lines 731, 812,
    855), detpixels -> detsize (1118-1126), MOSFLM default beam centre (1188-1202), beam pivot
    (1739-1743), then Fclose/Sclose/close_distance, Fbeam/Sbeam, ORGX/ORGY, dials_origin
    (1746-1770).  Zero rotation angles leave the detector vectors as set."""
    words = args.split()
    arg = {w: words[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("-")}

    def dot(x, y):
        return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]

    pixel_size = atof(arg["-pixel"]) / 1000.0
    distance = atof(arg["-distance"]) / 1000.0
    lambda0 = atof(arg["-lambda"]) / 1.0e10
    fpixels = spixels = atoi(arg["-detpixels"])
    detsize_f = pixel_size * fpixels
    detsize_s = pixel_size * spixels
    fpixels = math.ceil(detsize_f / pixel_size - 0.5)
    spixels = math.ceil(detsize_s / pixel_size - 0.5)
    Xbeam = (detsize_s + pixel_size) / 2.0
    Ybeam = (detsize_f + pixel_size) / 2.0
    beam, odet, fdet, sdet = (1.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0)
    Fbeam = Ybeam + 0.5 * pixel_size
    Sbeam = Xbeam + 0.5 * pixel_size
    ratio = dot(beam, odet)
    close_distance = abs(ratio * distance)
    distance = close_distance / ratio
    pix0 = [-Fbeam * fdet[i] - Sbeam * sdet[i] + distance * beam[i] for i in range(3)]
    Fclose = -dot(pix0, fdet)
    Sclose = -dot(pix0, sdet)
    close_distance = dot(pix0, odet)
    newvector = [close_distance / ratio * beam[i] - pix0[i] for i in range(3)]
    Fbeam = dot(fdet, newvector)
    Sbeam = dot(sdet, newvector)
    distance = close_distance / ratio
    return dict(
        fpixels=fpixels, spixels=spixels, pixel_size=pixel_size, distance=distance, lambda0=lambda0,
        Xbeam=Xbeam, Ybeam=Ybeam, Fbeam=Fbeam, Sbeam=Sbeam, detsize_s=detsize_s,
        dials_origin=(1000.0 * dot(pix0, (0, 0, 1)), 1000.0 * dot(pix0, (0, 1, 0)), 1000.0 * dot(pix0, (-1, 0, 0))),
        ORGX=Fclose / pixel_size + 0.5, ORGY=Sclose / pixel_size + 0.5, close_distance=close_distance,
        phi0=0.0, osc=0.0,  # no -phi/-osc: phi0 = 0 (line 304), osc = 0.0 (line 1388)
        detector_twotheta=0.0,
    )


@pytest.mark.parametrize("case,name,noise", [
    ("cubic_defaultF", "intimage.img.gz", False),
    ("cubic_defaultF", "noiseimage.img.gz", True),
    ("mosaic_seed_with_noise", "intimage.img.gz", False),
    ("mosaic_seed_with_noise", "noiseimage.img.gz", True),
    ("noise_autoscale_pgm", "noiseimage.img.gz", True),
])
def test_smv_header_bytes_match_golden(case, name, noise):
    manifest = json.loads((GOLDEN / case / "manifest.json").read_text())
    h = mosflm_header_values(manifest["args"])
    header = smv_header_bytes(h, noise)
    assert len(header) == 512
    assert header == gunzip(GOLDEN / case / name)[:512]


def test_smv_header_denzo_lines_differ_on_negative_zero():
    h = mosflm_header_values("-pixel 0.1 -distance 100 -lambda 1 -detpixels 8")
    h["Sbeam"] = -0.0
    # C: (Sbeam-0.0*pixel_size)*1000.0 prints "-0", (Sbeam+0.0*pixel_size)*1000.0 prints "0"
    assert b"DENZO_X_BEAM=-0;" in smv_header_bytes(h, noise=False)
    assert b"DENZO_X_BEAM=0;" in smv_header_bytes(h, noise=True)


def test_smv_header_longer_than_512_is_not_padded():
    h = mosflm_header_values("-pixel 0.1 -distance 100 -lambda 1 -detpixels 8")
    for key in ("Xbeam", "Ybeam", "Fbeam", "Sbeam", "ORGX", "ORGY", "phi0", "osc"):
        h[key] = -1.23456e-300
    h["dials_origin"] = (-1.23456e-300,) * 3
    header = smv_header_bytes(h, noise=False)
    assert len(header) > 512 and header.endswith(b"BEAMLINE=fake;\n}\f")


def test_rtd_is_180_times_m_1_pi():
    assert RTD == 180.0 * 0.31830988618379067154
    assert RTD == 57.29577951308232


# ---------------------------------------------------------------- reading SMV

def test_read_smv_header_img():
    printed = []
    frame = read_smv(str(INPUTS / "header.img"), printed.append)
    assert printed == [f"reading {INPUTS / 'header.img'}\n"]
    raw = (INPUTS / "header.img").read_bytes()
    assert frame.header_size == 512 and frame.header == raw[:512].decode("latin-1")
    assert (frame.width, frame.height) == (96, 80)
    assert frame.data.dtype == np.uint16 and frame.data.shape == (80, 96)
    assert np.array_equal(frame.data.ravel(), np.frombuffer(raw, dtype=np.uint16, offset=512))
    # the values written in the header text (see inputs/header.img)
    for key, text in [("PIXEL_SIZE", "PIXEL_SIZE=0.15;"), ("WAVELENGTH", "WAVELENGTH=1.3;"),
                      ("BEAM_CENTER_X", "BEAM_CENTER_X=7.5;"), ("BEAM_CENTER_Y", "BEAM_CENTER_Y=6.1;"),
                      ("OSC_RANGE", "OSC_RANGE=0.5;"), ("PHI", "PHI=3;"), ("TWOTHETA", "TWOTHETA=0;"),
                      ("CLOSE_DISTANCE", "CLOSE_DISTANCE=120;")]:
        assert text in frame.header
        assert value_of(frame.header, key) == float(text.split("=")[1].rstrip(";"))
    # substring matches, last occurrence wins: "ORGX" is XDS_ORGX, "DISTANCE" is CLOSE_DISTANCE
    assert value_of(frame.header, "ORGX") == 41.6667
    assert value_of(frame.header, "DISTANCE") == 120.0
    assert math.isnan(value_of(frame.header, "NO_SUCH_KEY"))


def test_value_of_c_string_rules():
    assert value_of("A=1;\nA=2;", "A") == 2.0
    assert value_of("KEY without equals", "KEY") == 0.0
    assert value_of("K=5;\0K=6;", "K") == 5.0  # strstr stops at the NUL
    # successive strstr() calls resume after the previous match, so overlapping matches are
    # skipped: the last match found is at 0, and atof("A=5") after its "=" is 0
    assert value_of("A=A=A=5", "A=A") == 0.0


def test_read_smv_mask_img():
    frame = read_smv(str(INPUTS / "mask.img"))
    assert (frame.width, frame.height, frame.header_size) == (96, 80, 512)
    assert set(np.unique(frame.data)) <= {0, 1}
    assert frame.header == (INPUTS / "header.img").read_bytes()[:512].decode("latin-1")


def test_read_smv_size_fallback_and_errors(tmp_path):
    raw = (INPUTS / "header.img").read_bytes()
    header = raw[:512].replace(b"SIZE1=96;", b"SIZE1=0; ").replace(b"SIZE2=80;", b"DETECTOR_DIMENSIONS=8;")
    square = tmp_path / "square.img"
    square.write_bytes(header + raw[512:512 + 128])
    frame = read_smv(str(square))
    assert (frame.width, frame.height) == (8, 8)

    cases = {
        "missing.img": None,
        "short.img": raw[:100],
        "notsmv.img": b"P5" + raw[2:],
        "truncated.img": raw[:-2],
        "nosize.img": raw[:512].replace(b"SIZE1=96;", b"XXXXX=96;") + raw[512:],
    }
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(NBError) as err:
            read_smv(str(path))
        assert name in err.value.message and "\n" not in err.value.message
    with pytest.raises(NBError) as err:
        read_smv(str(tmp_path / "notsmv.img"))
    assert err.value.message == f"ERROR: {tmp_path / 'notsmv.img'} does not look like an ADSC frame!"


# ---------------------------------------------------------------- writers

def test_writers_reproduce_golden_files(tmp_path):
    smv = gunzip(GOLDEN / "cubic_defaultF" / "intimage.img.gz")
    pixels = np.frombuffer(smv, dtype=np.uint16, offset=512).reshape(128, 128)
    write_output(tmp_path / "intimage.img", smv_file(smv[:512], pixels))
    assert (tmp_path / "intimage.img").read_bytes() == smv

    pgm = gunzip(GOLDEN / "cubic_defaultF" / "image.pgm.gz")
    header = b"P5\n128 128\n# pixels scaled by 2.41062\n255\n"  # stdout.txt: pgm_scale = 2.41062
    assert pgm.startswith(header)
    write_output(tmp_path / "image.pgm",
                 pgm_file(128, 128, 2.41062, np.frombuffer(pgm, dtype=np.uint8, offset=len(header))))
    assert (tmp_path / "image.pgm").read_bytes() == pgm

    image = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    write_output(tmp_path / "floatimage.bin", float_file(image))
    assert (tmp_path / "floatimage.bin").read_bytes() == image.astype("<f4").tobytes()

