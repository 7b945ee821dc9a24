"""Bad input on the command line: a clean failure, never a traceback or a clobbered output.

Every case runs `python -m nbnumba` in a folder that already holds a floatimage.bin with known
content.  The run must exit non-zero, print exactly one line on stderr (an ERROR naming the
flag or the file), no Python traceback, and leave the folder as it was: the known
floatimage.bin unchanged and no new file.

What nanoBragg.c does with the same input is noted per case (serial build, same arguments):
it is not always an error there (the C often reads garbage silently); the port refuses.
"""
import shutil
import subprocess
import sys

import pytest

from golden import INPUTS, cli_env

BASE = "-cell 100 100 100 90 90 90 -lambda 6.2 -N 2 -distance 100 -detpixels 16 -pixel 0.1 -nonoise -nopgm".split()
KNOWN = b"known content, not an image\n"

BAD_HKL = "1 1 1 100\n2 2 2 50\n3 x 3 garbage\n4 4 4 10\n"        # garbage on line 3
BAD_MAT = "0.01 0.0 0.0\nfoo bar baz\n0.0 0.0 0.01\n"              # row 2 is not numbers

# (id, extra arguments, files to create {name: text}, words the error line must name,
#  expected exit code or None for "any non-zero", what the C does)
CASES = [
    ("missing_hkl", ["-hkl", "missing.hkl"], {}, ["missing.hkl"], None,
     "C: 'ERROR: unable to open missing.hkl.' on stdout, exit 9"),
    ("malformed_hkl", ["-hkl", "bad.hkl"], {"bad.hkl": BAD_HKL}, ["bad.hkl"], None,
     "C: stops reading at line 3 without a word, renders a blank image, exit 0"),
    ("missing_mat", ["-default_F", "10", "-mat", "missing.mat"], {}, ["missing.mat"], None,
     "C: ignores the missing file, renders with the -cell orientation, exit 0"),
    ("malformed_mat", ["-default_F", "10", "-mat", "bad.mat"], {"bad.mat": BAD_MAT}, ["bad.mat"], None,
     "C: 'fscanf: Invalid argument' on stderr, renders anyway, exit 0"),
    ("missing_sourcefile", ["-default_F", "10", "-sourcefile", "missing.txt"], {}, ["missing.txt"], None,
     "C: 'fopen(): No such file or directory', exit 9"),
    ("missing_img", ["-default_F", "10", "-img", "missing.img"], {}, ["missing.img"], None,
     "C: 'missing.img: No such file or directory', renders without the header, exit 0"),
    ("missing_mask", ["-default_F", "10", "-mask", "missing.img"], {}, ["missing.img"], None,
     "C: 'missing.img: No such file or directory', renders unmasked, exit 0"),
    ("pixel_zero", ["-default_F", "10", "-pixel", "0"], {}, ["-pixel"], None,
     "C: renders 0 x 0 pixels, writes an empty floatimage.bin, exit 0"),
    ("image_too_large", ["-default_F", "10", "-detpixels", "2000000"], {}, ["-detpixels"], None,
     "C: SIGSEGV (exit 139) after the set-up"),
    ("no_structure_factors", [], {}, ["-hkl"], 9,
     "C: 'ERROR: no hkl file and no dump file to read.' and its usage text on stdout, exit 9"),
    ("default_F_zero", ["-default_F", "0"], {}, ["-hkl"], 9,
     "C: as with no -hkl at all: usage text, exit 9"),
]


def run_cli(folder, argv):
    return subprocess.run([sys.executable, "-m", "nbnumba", *argv], cwd=folder, capture_output=True,
                          text=True, errors="replace", timeout=300, env=cli_env())


@pytest.mark.parametrize("extra, files, names, code, c_does", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly(tmp_path, extra, files, names, code, c_does):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "floatimage.bin").write_bytes(KNOWN)
    before = sorted(p.name for p in tmp_path.iterdir())

    proc = run_cli(tmp_path, BASE + extra)
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
