"""Bad input on the command line: a clean failure, never a traceback or a clobbered output.

Every case runs `python -m nbnumba` in a folder that already holds a floatimage.bin with known
content.  The run must exit non-zero, print exactly one line on stderr (an ERROR naming the
flag or the file), no Python traceback, and leave the folder as it was: the known
floatimage.bin unchanged and no new file.

What nanoBragg.c does with the same input is noted per case (serial build, same arguments):
it crashes, hangs, or reads memory it never initialised or allocated (valgrind), so its output
is not determined; the port refuses.
"""
import shutil
import subprocess
import sys

import pytest

from golden import INPUTS, cli_env

BASE = "-cell 100 100 100 90 90 90 -lambda 6.2 -N 2 -distance 100 -detpixels 16 -pixel 0.1 -nonoise -nopgm".split()
NO_CELL = BASE[7:]
KNOWN = b"known content, not an image\n"

MASK16 = ("{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER=little_endian;\nTYPE=unsigned_short;\nSIZE1=16;\nSIZE2=16;\n}\f"
          .ljust(512) + "\1\0" * 256)
BAD_MAT = "0.01 0.0 0.0\nfoo bar baz\n0.0 0.0 0.01\n"              # row 2 is not numbers

# (id, arguments, files to create {name: text}, words the error line must name,
#  expected exit code or None for "any non-zero", what the C does).  Where the C renders
#  anyway (odd -hkl/-mat/-img/-mask files, -pixel 0, ...), nbnumba renders and warns: see
#  test_odd_input.py.
CASES = [
    ("missing_hkl", BASE + ["-hkl", "missing.hkl"], {}, ["missing.hkl"], 9,
     "C: 'ERROR: unable to open missing.hkl.' on stdout, exit 9"),
    ("malformed_mat_without_cell", NO_CELL + ["-default_F", "10", "-mat", "bad.mat"], {"bad.mat": BAD_MAT},
     ["bad.mat"], 9, "C: without -cell the components fscanf misses are uninitialised (valgrind), exit 0"),
    ("missing_sourcefile", BASE + ["-default_F", "10", "-sourcefile", "missing.txt"], {}, ["missing.txt"], None,
     "C: 'fopen(): No such file or directory', exit 9"),
    ("mask_smaller_than_detector", BASE + ["-default_F", "10", "-mask", "m.img", "-detpixels", "24"],
     {"m.img": MASK16}, ["m.img", "-detpixels"], 9, "C: reads maskimage[] past its allocation (valgrind), exit 0"),
    ("img_without_size", BASE + ["-default_F", "10", "-img", "x.img"], {"x.img": MASK16.replace("SIZE1", "XSIZE")},
     ["x.img"], 9, "C: (int) of ValueOf's NaN: the -O3 build takes 0 x 0 pixels, an -O0 build INT_MIN x INT_MIN"),
    ("image_too_large", BASE + ["-default_F", "10", "-detpixels", "2000000"], {}, ["-detpixels"], None,
     "C: SIGSEGV (exit 139) after the set-up"),
    ("detpixels_overflow", BASE + ["-default_F", "10", "-detpixels", "3000000000"], {}, ["-detpixels"], 9,
     "C: atoi wraps to -1294967296, the pixel count overflows, SIGSEGV"),
    ("detpixels_one_side_negative", BASE + ["-default_F", "10", "-detpixels_f", "-5"], {}, ["-detpixels"], 9,
     "C: -5 x 16 is a negative pixel count, SIGSEGV"),
    ("divergence_grid_too_large", BASE + ["-default_F", "10", "-divsteps", "100000", "-divergence", "1"], {},
     ["-divsteps"], 9, "C: prints 10^10 divergence lines (hours) before its int source count overflows"),
    ("mosaic_domains_too_many", BASE + ["-default_F", "10", "-mosaic", "1", "-mosaic_dom", "1000000000"], {},
     ["-mosaic_domains"], 9, "C: SIGSEGV allocating the domains"),
    ("steps_overflow", BASE + ["-default_F", "10", "-oversample", "65536"], {}, ["-oversample"], 9,
     "C: 65536^2 sub-steps overflow its int steps (0): renders 4e9 sub-pixels per pixel for hours"),
    ("no_structure_factors", BASE, {}, ["-hkl"], 9,
     "C: 'ERROR: no hkl file and no dump file to read.' and its usage text on stdout, exit 9"),
    ("default_F_zero", BASE + ["-default_F", "0"], {}, ["-hkl"], 9,
     "C: as with no -hkl at all: usage text, exit 9"),
]


def run_cli(folder, argv):
    return subprocess.run([sys.executable, "-m", "nbnumba", *argv], cwd=folder, capture_output=True,
                          text=True, errors="replace", timeout=300, env=cli_env())


@pytest.mark.parametrize("argv, files, names, code, c_does", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly(tmp_path, argv, files, names, code, c_does):
    for name, text in files.items():
        (tmp_path / name).write_bytes(text.encode("latin-1"))
    (tmp_path / "floatimage.bin").write_bytes(KNOWN)
    before = sorted(p.name for p in tmp_path.iterdir())

    proc = run_cli(tmp_path, argv)
    output = proc.stdout + proc.stderr
    context = f"({c_does})\nexit {proc.returncode}\nstderr:\n{proc.stderr[-2000:]}"

    assert "Traceback" not in output, context
    assert proc.returncode != 0, context
    if code is not None:
        assert proc.returncode == code, context
    err_lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(err_lines) == 1, context
    assert "ERROR" in err_lines[0], context
    for word in names:
        assert word in err_lines[0], context
    assert (tmp_path / "floatimage.bin").read_bytes() == KNOWN, context
    assert sorted(p.name for p in tmp_path.iterdir()) == before, context


def test_fdump_next_to_default_F_zero_is_read(tmp_path):
    # the counterpart of default_F_zero: with a readable Fdump.bin the same arguments render
    shutil.copy(INPUTS / "Fdump.bin", tmp_path / "Fdump.bin")
    proc = run_cli(tmp_path, BASE + ["-default_F", "0"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert (tmp_path / "floatimage.bin").stat().st_size == 16 * 16 * 4


def test_nan_index_at_the_interpolation_is_refused(tmp_path):
    # -lambda 0 makes h, k, l NaN; with interpolation on (-N 2) and an HKL grid the C's range
    # test is false for NaN, it interpolates around floor(NaN) = INT_MIN and dies of SIGSEGV
    # (exit 139) after writing Fdump.bin; nbnumba refuses after the render, writing no file
    (tmp_path / "a.hkl").write_text("1 1 1 100\n2 2 2 50\n-1 0 2 30\n0 0 0 5\n")
    proc = run_cli(tmp_path, BASE + ["-hkl", "a.hkl", "-lambda", "0"])
    assert proc.returncode == 9
    assert proc.stderr.splitlines()[-1] == (
        "ERROR: pixel 0 0: a NaN Miller index reaches the tricubic interpolation (from a zero, infinite or NaN "
        "-lambda/-distance/-cell/-mat or detector vector): nanoBragg.c crashes there; -nointerpolate avoids it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.hkl"]
