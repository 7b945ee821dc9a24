"""nbnumba.args.interpret.interpret(): nanoBragg.c's option loop, substring side effects included.

The C tests every argument that starts with '-' against each `if(...)` of main()'s option loop
(nanoBragg.c lines ~540-1120) in order: mostly `strstr(argv[i], "-name")` (a substring test),
some with a `strlen` guard, `-N` and `-MW` with `strcmp`; a few branches `continue`.  So one
argument can fire several branches, and a value can be read by a branch it was not meant for.

Each test states the Settings the C would hold (the comment names the C branch) and, where the
C shows it, the lines the reference binary printed for the same arguments: the quoted
"C stdout" lines below were printed by the serial nanoBragg.c (upstream 455534a, gcc -O3)
run in a folder holding tests/data/golden/inputs (no Fdump.bin); the port must print them too
(its set-up stage, Simulation.setup(), prints the same summary).
"""
import math
import shutil

import pytest

from nbnumba.args.interpret import interpret
from nbnumba.args.flags import FLAGS, PREPASS
from nbnumba.constants import BEAM, CUSTOM, RTD, SAMPLE
from nbnumba.errors import NBError
from nbnumba.simulation import Simulation

from golden import INPUTS, cases

# a small render the C accepts; 16x16 pixels
BASE = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -distance 100 -detpixels 16 -pixel 0.1 "
        "-seed 11 -nonoise -nopgm").split()
NOCELL = ("-default_F 100 -lambda 6.2 -distance 100 -detpixels 16 -pixel 0.1 -seed 11 -nonoise -nopgm").split()
NOPIXELS = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -distance 100 -pixel 0.1 -seed 11 "
            "-nonoise -nopgm -roi 0 1 0 1").split()


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch):
    """Every test runs in a fresh folder holding the golden inputs (no Fdump.bin)."""
    for f in INPUTS.iterdir():
        if f.name != "Fdump.bin":
            shutil.copy(f, tmp_path / f.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def interp(*argv):
    """(Options, warnings, printed text) of interpret(argv)."""
    if len(argv) == 1 and isinstance(argv[0], (list, tuple)):
        argv = argv[0]
    warnings, printed = [], []
    s = interpret([str(a) for a in argv], printed.append, warnings.append)
    return s, warnings, "".join(printed)


def setup_stdout(argv):
    """What the port prints up to the render (Simulation.setup), whitespace-normalised lines."""
    printed = []
    Simulation.from_args([str(a) for a in argv], out=printed.append).setup()
    return [" ".join(line.split()) for line in "".join(printed).splitlines()]


def assert_prints(argv, *c_lines):
    """The port's set-up prints each of the reference's lines (compared word for word)."""
    got = setup_stdout(argv)
    missing = [l for l in c_lines if " ".join(l.split()) not in got]
    assert not missing, f"missing {missing}\nport printed:\n" + "\n".join(got)
    return got


# ---------------------------------------------------------------- -twotheta_axis fires -twotheta

def test_twotheta_axis_also_fires_twotheta():
    # "-twotheta_axis" branch: CUSTOM + axis; then strstr(argv[i], "-twotheta") also matches
    # and sets detector_twotheta = atof(argv[i+1])/RTD (the axis's x) and pivot SAMPLE
    s, warns, _ = interp(BASE + "-twotheta_axis 5 0 1".split())
    assert s.beam_convention == CUSTOM
    assert list(s.twotheta_axis[1:]) == [5.0, 0.0, 1.0]
    assert s.detector_twotheta == 5.0 / RTD
    assert s.detector_pivot == SAMPLE
    assert warns == []
    # C stdout: the detector is swung 5 degrees about the axis (distance grows from 0.1)
    assert_prints(BASE + "-twotheta_axis 5 0 1".split(),
                  "custom convention selected.",
                  "pivoting detector around sample",
                  "distance=0.119894 detsize=0.0016x0.0016  pixel=0.0001 meters (16x16 pixels)",
                  "Fbeam=0.00305237 Sbeam=0.0114014",
                  "Fclose=0.000771208 Sclose=0.000951922")


def test_twotheta_axis_after_twotheta_overwrites_the_angle():
    # the -twotheta_axis line re-fires the -twotheta branch with its first component (0)
    s, _, _ = interp(BASE + "-twotheta 5 -twotheta_axis 0 0 -1".split())
    assert s.detector_twotheta == 0.0
    assert s.detector_pivot == SAMPLE
    # C stdout: no rotation left
    assert_prints(BASE + "-twotheta 5 -twotheta_axis 0 0 -1".split(),
                  "custom convention selected.",
                  "pivoting detector around sample",
                  "distance=0.1 detsize=0.0016x0.0016  pixel=0.0001 meters (16x16 pixels)",
                  "Fbeam=0.0008 Sbeam=0.0008")


# ---------------------------------------------------------------- -misset_seed fires -misset

def test_misset_seed_also_fires_misset():
    # "-misset_seed 777 -N 4": strstr(.., "-misset") matches; argv[i+1] has no "rand", so the
    # second -misset branch (argc > i+3) takes the next three words as angles: 777, atof("-N")=0, 4.
    # -misset_seed sets misset_seed = -777; "-seed" is not a substring of "-misset_seed".
    argv = BASE + "-misset random -misset_seed 777 -N 4".split()
    s, warns, _ = interp(argv)
    assert s.misset[0] == 1
    assert s.misset[1] == 777 / RTD
    assert s.misset[2] == 0.0
    assert s.misset[3] == 4 / RTD
    assert s.misset_seed == -777
    assert s.seed == -11
    assert (s.Na, s.Nb, s.Nc) == (4, 4, 4)         # "-N" is still an option of its own
    # the value the -misset row reads that is not a number (it is -N's name) is warned about
    assert warns == ["nbnumba: warning: -misset_seed (matched as -misset): '-N' is not a number; "
                     "nanoBragg.c reads it as 0"]
    # C stdout: identical to "-misset 777 0 4 -N 4", and no random orientation is drawn
    lines = assert_prints(argv, "X: 99.75640503 -3.79920985 5.85027015",
                          "parallelpiped xtal: 4x4x4 cells")
    assert not any(l.startswith("random orientation misset angles") for l in lines)
    assert lines == setup_stdout(BASE + "-misset 777 0 4 -N 4".split())


def test_misset_random_after_misset_seed_stays_random():
    # "-misset_seed 777 -N 4" first sets misset[0] = 1 (as above), then "-misset random" sets
    # misset[0] = -1 and continues: the orientation is random, drawn from misset_seed = -777
    argv = BASE + "-misset_seed 777 -N 4 -misset random".split()
    s, _, _ = interp(argv)
    assert s.misset[0] == -1
    assert s.misset_seed == -777
    # C stdout
    assert_prints(argv, "random orientation misset angles: 2.946208 1.690512 5.060313 deg",
                  "parallelpiped xtal: 4x4x4 cells")


# ---------------------------------------------------------------- other substring synonyms

def test_pix0_vector_mm_fires_pix0_vector():
    # the C has no -pix0_vector_mm branch: strstr(.., "-pix0_vector") fires with the values as
    # given (no mm -> m), pix0_vector[0] = 1, convention CUSTOM; the pivot is untouched
    s, warns, _ = interp(BASE + "-pix0_vector_mm 0.1 0.2 0.3".split())
    assert s.beam_convention == CUSTOM
    assert list(s.pix0_vector) == [1.0, 0.1, 0.2, 0.3]
    assert s.detector_pivot == BEAM
    assert warns == []
    # C stdout
    assert_prints(BASE + "-pix0_vector_mm 0.1 0.2 0.3".split(),
                  "custom convention selected.", "pivoting detector around direct beam spot")


def test_printout_pixel_also_fires_printout():
    # "-printout" branch (strstr) sets printout = 1; "-printout_pixel" then takes fast, slow
    s, warns, _ = interp(BASE + "-printout_pixel 3 4".split())
    assert s.printout == 1
    assert (s.printout_fpixel, s.printout_spixel) == (3, 4)
    assert warns == []


def test_printout_pixel_prints_only_that_pixel():
    # C stdout: the per-pixel block for fast 3, slow 4 and no other
    printed = []
    Simulation.from_args(BASE + "-printout_pixel 3 4".split(), out=printed.append).run()
    blocks = [" ".join(l.split()) for l in "".join(printed).splitlines() if ": stol =" in l]
    assert blocks == ["3 4 : stol = 5.73081e+06 or 0.000573081"]


def test_matrix_is_mat():
    # strstr(.., "-mat") matches "-matrix"
    s, warns, _ = interp(BASE + "-matrix cubic_rot.mat".split())
    assert s.matfilename == "cubic_rot.mat"
    assert warns == []
    # C stdout: the matrix was read
    assert_prints(BASE + "-matrix cubic_rot.mat".split(), "reading cubic_rot.mat",
                  "X: 85.07781848 -52.55021593 0.49030832")


def test_detector_absorb_is_detector_abs():
    # strstr(.., "-detector_abs") matches "-detector_absorb": mu = 1/(320 um)
    # "-detector_thick" has strlen == 15 guard, so "-detector_thicksteps" does not set the thickness
    s, warns, _ = interp(BASE + "-detector_absorb 320 -detector_thick 100 -detector_thicksteps 2".split())
    assert s.detector_mu == 1.0 / (320 * 1e-6)
    assert s.detector_thick == 100 * 1e-6
    assert s.detector_thicksteps == 2
    assert warns == []
    s, _, _ = interp(BASE + "-detector_thick 100 -detector_absorb inf".split())
    assert (s.detector_mu, s.detector_thick) == (0.0, 0.0)        # "inf": thick and mu zeroed
    # C stdout (thicksteps auto-selected as 2)
    assert_prints(BASE + "-detector_absorb 320 -detector_thick 100".split(),
                  "sensor is 0.0001 m thick in 2 layers with mu= 3125")


# ---------------------------------------------------------------- continue, exact and strlen guards

def test_Na_continues_so_later_branches_do_not_fire():
    # "-Nc-Na 3": the -Na branch (tested first) sets Na and `continue`s, so the -Nc branch that
    # would also match is never reached
    s, warns, _ = interp(BASE + "-Nc-Na 3".split())
    assert (s.Na, s.Nb, s.Nc) == (3, 1, 1)
    assert warns == []
    # C stdout
    assert_prints(BASE + "-Nc-Na 3".split(), "parallelpiped xtal: 3x1x1 cells")


def test_oversample_thick_continues_before_oversample():
    # "-oversample_thick" sets its flag and `continue`s: the "-oversample" branch (which would
    # read oversample = atoi("-oversample") = 0 from the next word) does not fire
    s, _, _ = interp(BASE + "-oversample_thick -oversample 2".split())
    assert s.oversample_thick == 1
    assert s.oversample == 2
    # C stdout
    assert_prints(BASE + "-oversample_thick -oversample 2".split(), "2x2 pixel oversample steps +thick")


def test_N_is_an_exact_match():
    # 0==strcmp(argv[i], "-N"): "-Nx" matches nothing (and is ignored, value and all)
    s, warns, _ = interp(BASE + "-Nx 5".split())
    assert (s.Na, s.Nb, s.Nc) == (1, 1, 1)
    assert len(warns) == 2 and "'-Nx'" in warns[0] and "'5'" in warns[1]
    s, _, _ = interp(BASE + "-N 5".split())
    assert (s.Na, s.Nb, s.Nc) == (5, 5, 5)
    # C stdout
    assert_prints(BASE + "-Nx 5".split(), "parallelpiped xtal: 1x1x1 cells")


def test_detsize_needs_strlen_8():
    # "-detsize" fires only when strlen(argv[i]) == 8; "-detsize_f" is its own branch
    s, _, _ = interp(NOPIXELS + "-detsize 2".split())
    assert (s.detsize_f, s.detsize_s) == (0.002, 0.002)
    s, _, _ = interp(NOPIXELS + "-detsize_f 2".split())
    assert (s.detsize_f, s.detsize_s) == (0.002, 102.4e-3)
    s, _, _ = interp(NOPIXELS + "-detsize_s 3 -detsize_f 2".split())
    assert (s.detsize_f, s.detsize_s) == (0.002, 0.003)
    # C stdout
    assert_prints(NOPIXELS + "-detsize 2".split(),
                  "distance=0.1 detsize=0.002x0.002  pixel=0.0001 meters (20x20 pixels)")
    assert_prints(NOPIXELS + "-detsize_f 2".split(),
                  "distance=0.1 detsize=0.002x0.1024  pixel=0.0001 meters (20x1024 pixels)")


def test_mosaic_needs_strlen_7():
    # "-mosaic" && strlen == 7 (or "-mosaici"/"-mosaic_spr"): the spread; "-mosaic_dom": domains;
    # "-mosaic_seed": mosaic_seed only (neither the spread nor, "_seed" not being "-seed", the seed)
    s, _, _ = interp(BASE + "-mosaic 0.5".split())
    assert s.mosaic_spread == 0.5 / RTD
    s, _, _ = interp(BASE + "-mosaic_dom 3".split())
    assert (s.mosaic_domains, s.mosaic_spread) == (3, -1.0)
    s, _, _ = interp(BASE + "-mosaic_seed 9".split())
    assert (s.mosaic_seed, s.seed, s.mosaic_spread, s.mosaic_domains) == (-9, -11, -1.0, -1)
    s, _, _ = interp(BASE + "-mosaici 0.25 -mosaic_spr 0.5".split())
    assert s.mosaic_spread == 0.5 / RTD
    # C stdout
    assert_prints(BASE + "-mosaic 0.5 -mosaic_dom 3".split(), "3 mosaic domains over mosaic spread of 0.5 degrees")
    assert_prints(BASE + "-mosaic_dom 3".split(), "1 mosaic domains over mosaic spread of 0 degrees")
    assert_prints(BASE + "-mosaic_seed 9 -mosaic 1 -mosaic_dom 2".split(),
                  "2 mosaic domains over mosaic spread of 1 degrees")


def test_phi_phistep_phisteps():
    # "-phi" && strlen == 4; "-phistep" && strlen == 8; "-phisteps" (plain strstr)
    s, _, _ = interp(BASE + "-phi 10".split())
    assert (s.phi0, s.phistep, s.phisteps) == (10 / RTD, -1.0, -1)
    s, _, _ = interp(BASE + "-phistep 0.5".split())
    assert (s.phi0, s.phistep, s.phisteps) == (0.0, 0.5 / RTD, -1)
    s, _, _ = interp(BASE + "-phisteps 3".split())
    assert (s.phi0, s.phistep, s.phisteps) == (0.0, -1.0, 3)
    # C stdout (step + steps without -osc: the C takes osc = step and 2 steps)
    assert_prints(BASE + "-phi 10 -phistep 0.5 -phisteps 3".split(),
                  "phi0 = 10", "phi1 = 10.5", "2 phi steps from 10 to 10.5 degrees")
    assert_prints(BASE + "-phisteps 3 -osc 1.5".split(), "phi0 = 0", "phi2 = 1",
                  "3 phi steps from 0 to 1.5 degrees")
    assert_prints(BASE + "-phistep 0.5 -osc 1.5".split(), "phi0 = 0", "phi2 = 1",
                  "3 phi steps from 0 to 1.5 degrees")


def test_stol_stolout_4stol_Q():
    # "-stolout" && strlen > 7; "-stol" && strlen == 5; "-4stol" && strlen == 6; "-Q" && strlen == 2
    s, _, _ = interp(BASE + "-stol my.stol".split())
    assert (s.stolfilename, s.stol_file_mult, s.stoloutfilename) == ("my.stol", 1e10, "output.stol")
    s, _, _ = interp(BASE + "-stolout x.stol".split())
    assert (s.stolfilename, s.stoloutfilename) == (None, "x.stol")
    s, _, _ = interp(BASE + "-4stol my.stol".split())
    assert (s.stolfilename, s.stol_file_mult) == ("my.stol", 1e10 / 4)
    s, _, _ = interp(BASE + "-Q my.stol".split())
    assert (s.stolfilename, s.stol_file_mult) == ("my.stol", 1e10 / math.pi / 4)
    s, warns, _ = interp(BASE + "-Qx my.stol".split())
    assert s.stolfilename is None and len(warns) == 2
    # C stdout: -stol, -4stol and -Q read the file, -stolout does not
    for flag in ("-stol", "-4stol", "-Q"):
        assert_prints(BASE + [flag, "my.stol"], "reading my.stol")
    assert not any(l.startswith("reading") for l in setup_stdout(BASE + "-stolout x.stol".split()))


# ---------------------------------------------------------------- atof / atoi

def test_atof_atoi_read_a_prefix():
    # atoi("5x") = 5, atof("abc") = 0, atof("1.5A") = 1.5, atoi("16.9") = 16
    s, _, _ = interp(BASE + "-N 5x".split())
    assert (s.Na, s.Nb, s.Nc) == (5, 5, 5)
    s, _, _ = interp(BASE + "-lambda abc".split())
    assert s.lambda0 == 0.0          # (the C then renders with lambda 0 and dies of SIGSEGV)
    s, _, _ = interp(BASE + "-lambda 1.5A".split())
    assert s.lambda0 == 1.5 / 1e10
    s, _, _ = interp(BASE + "-detpixels 16.9".split())
    assert (s.fpixels, s.spixels) == (16, 16)
    # C stdout
    assert_prints(BASE + "-N 5x".split(), "parallelpiped xtal: 5x5x5 cells")


# ---------------------------------------------------------------- -cell

def test_cell_stops_at_a_dash_value():
    # -cell: `if(argv[i+k][0] == '-') continue;` before each of the six values
    s, _, _ = interp(NOCELL + "-cell 40 50 60 90 -90 90".split())
    assert s.user_cell == 1
    assert (s.a[0], s.b[0], s.c[0]) == (40, 50, 60)
    assert (s.alpha, s.beta, s.gamma) == (90 / RTD, 0.0, 0.0)
    s, _, _ = interp(NOCELL + "-cell 40 50 60 80 -mat cubic_rot.mat".split())
    assert (s.a[0], s.b[0], s.c[0], s.alpha, s.beta, s.gamma) == (40, 50, 60, 80 / RTD, 0.0, 0.0)
    assert s.matfilename == "cubic_rot.mat"
    # ... and at the end of argv (argc <= i+k)
    s, _, _ = interp(NOCELL + "-cell 40 50".split())
    assert (s.a[0], s.b[0], s.c[0]) == (40, 50, 0.0)
    # C stdout: unset angles become 90 degrees in the cell set-up
    assert_prints(NOCELL + "-cell 40 50 60 90 -90 90".split(),
                  "Unit Cell: 40 50 60 90 90 90", "volume = 120000 A^3")
    assert_prints(NOCELL + "-cell 40 50 60 80 85 -95".split(),
                  "Unit Cell: 40 50 60 80.0012 85.0006 90.0002",
                  "Recp Cell: 0.0250986 0.020311 0.0169904 100.037 95.0768 89.1161")
    assert_prints(NOCELL + "-cell 40 50 60 80 -mat cubic_rot.mat".split(),
                  "reading cubic_rot.mat", "Unit Cell: 40 50 60 90 90 90",
                  "Recp Cell: 0.0253857 0.0203085 0.0169238 90 90 90")


# ---------------------------------------------------------------- pivots

def test_Xbeam_pivots_beam_Xclose_pivots_sample_last_wins():
    # -Xbeam/-Ybeam set pivot BEAM, -Xclose/-Yclose (and -ORGX/-ORGY) SAMPLE; the last one wins
    s, _, _ = interp(BASE + "-Xclose 0.5 -Xbeam 0.5".split())
    assert s.detector_pivot == BEAM
    assert (s.Xclose, s.Xbeam) == (0.5 / 1000.0, 0.5 / 1000.0)
    s, _, _ = interp(BASE + "-Xbeam 0.5 -Xclose 0.5".split())
    assert s.detector_pivot == SAMPLE
    s, _, _ = interp(BASE + "-Ybeam 1 -ORGX 3".split())
    assert s.detector_pivot == SAMPLE
    # C stdout: the MOSFLM convention resets the pivot to BEAM after the loop, so it shows
    # under the CUSTOM convention (-beam_vector), which keeps the loop's pivot
    custom = BASE + "-beam_vector 1 0 0".split()
    assert_prints(custom + "-Xclose 0.5 -Xbeam 0.5".split(),
                  "custom convention selected.", "pivoting detector around direct beam spot",
                  "Xbeam=0.0005 Ybeam=0.0008")
    assert_prints(custom + "-Xbeam 0.5 -Xclose 0.5".split(),
                  "custom convention selected.", "pivoting detector around sample",
                  "Xbeam=0.0005 Ybeam=0.0008")
    assert_prints(BASE + "-Xbeam 0.5 -Xclose 0.5".split(), "mosflm convention selected.",
                  "pivoting detector around direct beam spot")


# ---------------------------------------------------------------- -img / -mask first pass

def test_img_header_is_read_before_the_options():
    # the C reads -mask and -img in a first pass over argv (lines ~400-520), so the option loop's
    # values override the header wherever -img stands on the command line
    s, warns, printed = interp("-default_F 100 -cell 100 100 100 90 90 90 -N 1 -lambda 1 "
                               "-img header.img -nonoise -nopgm".split())
    assert s.imginfilename == "header.img"
    assert s.lambda0 == 1e-10                       # command line (header: WAVELENGTH=1.3)
    assert (s.fpixels, s.spixels) == (96, 80)        # header SIZE1, SIZE2
    assert s.pixel_size == 0.15 / 1000.0
    assert (s.Xbeam, s.Ybeam) == (7.5 / 1000.0, 6.1 / 1000.0)
    assert (s.distance, s.close_distance) == (0.12, 0.12)
    assert (s.phi0, s.osc) == (3 / RTD, 0.5 / RTD)
    assert "reading header.img" in printed
    assert warns == []
    # C stdout ("-distance 50" loses to the header's CLOSE_DISTANCE in the geometry set-up)
    assert_prints("-default_F 100 -cell 100 100 100 90 90 90 -N 1 -seed 11 -nonoise -nopgm "
                  "-distance 50 -lambda 1 -img header.img".split(),
                  "reading header.img",
                  "wave=1e-10 meters +/- 0% in 1 steps",
                  "distance=0.12 detsize=0.0144x0.012  pixel=0.00015 meters (96x80 pixels)",
                  "Xbeam=0.0075 Ybeam=0.0061",
                  "2 phi steps from 3 to 3.5 degrees")


def test_mask_then_img():
    # the mask's BEAM_CENTER_Y is measured from the far edge (detsize_s - value); -img is read
    # after -mask and overwrites it; -mask has no branch in the option loop and is not "ignored"
    s, warns, _ = interp("-default_F 100 -cell 100 100 100 90 90 90 -mask mask.img".split())
    assert s.maskfilename == "mask.img"
    assert math.isclose(s.Ybeam, 0.012 - 0.0061, rel_tol=1e-15)
    assert s.maskimage is not None and s.maskimage.size == 96 * 80
    assert warns == []
    head = "-default_F 100 -cell 100 100 100 90 90 90 -N 1 -seed 11 -nonoise -nopgm ".split()
    # C stdout
    assert_prints(head + "-mask mask.img".split(), "reading mask.img", "Xbeam=0.0075 Ybeam=0.0059")
    lines = assert_prints(head + "-mask mask.img -img header.img -pixel 0.1".split(),
                          "reading mask.img", "reading header.img", "Xbeam=0.0075 Ybeam=0.0061",
                          "distance=0.12 detsize=0.0096x0.008  pixel=0.0001 meters (96x80 pixels)",
                          "Xclose=0.00411667 Yclose=0.00505")
    assert lines.index("reading mask.img") < lines.index("reading header.img")


# ---------------------------------------------------------------- ignored arguments

def test_ignored_arguments_warn_once_each():
    # the C silently skips what no branch uses; the port says so, one line per word, via warn
    s, warns, printed = interp(BASE + ["-foo"])
    assert len(warns) == 1 and "'-foo'" in warns[0]
    assert "-foo" not in printed                      # warnings never go to stdout
    _, warns, _ = interp(BASE + "-foo 3".split())
    assert len(warns) == 2 and "'-foo'" in warns[0] and "'3'" in warns[1]
    _, warns, _ = interp(BASE + "-nonoise stray".split())
    assert len(warns) == 1 and "'stray'" in warns[0]
    _, warns, _ = interp(BASE + ["-foo", "-nopgm"])
    assert len(warns) == 1 and "'-foo'" in warns[0]


def test_consumed_values_do_not_warn():
    # a negative number taken as a value is used, though it also went through the loop as "-5"
    s, warns, _ = interp(BASE + "-phi -5".split())
    assert s.phi0 == -5 / RTD
    assert warns == []
    s, warns, _ = interp(BASE + "-beam_vector -1 0 0 -Xbeam -0.5".split())
    assert list(s.beam_vector[1:]) == [-1.0, 0.0, 0.0] and s.Xbeam == -0.5 / 1000.0
    assert warns == []
    _, warns, _ = interp(BASE)
    assert warns == []


# ---------------------------------------------------------------- nbnumba's own data-set flags

DATASET_FLAGS = {"-nexusfile": "nexusfilename", "-cbffile": "cbffilename", "-pngfile": "pngfilename",
                 "-nexus_compression": "nexus_compression"}


def test_dataset_flags_fire_only_their_own_rows_and_change_no_c_argument():
    for word, attr in DATASET_FLAGS.items():
        assert [f.sets for f in PREPASS + FLAGS if f.matches(word)] == [attr]
    # no argument of the golden cases (the C's words) fires them: exact names
    ours = [f for f in FLAGS if f.sets in DATASET_FLAGS.values()]
    for case in cases():
        for word in case["args"].split():
            assert not any(f.matches(word) for f in ours), word
        assert interp(case["args"].split())[0].nexusfilename is None
    s, warns, _ = interp(BASE + "-nexusfile a.h5 -cbffile b.cbf -pngfile c.png -nexus_compression none".split())
    assert (s.nexusfilename, s.cbffilename, s.pngfilename, s.nexus_compression) == ("a.h5", "b.cbf", "c.png", "none")
    assert warns == [] and s.argv == tuple(BASE) + ("-nexusfile", "a.h5", "-cbffile", "b.cbf", "-pngfile", "c.png",
                                                    "-nexus_compression", "none")
    defaults = interp(BASE)[0]
    assert (defaults.nexusfilename, defaults.cbffilename, defaults.pngfilename, defaults.nexus_compression) == \
        (None, None, None, "gzip")
    with pytest.raises(NBError, match="nexus_compression must be one of gzip, bitshuffle, none, not 'lzf'"):
        interp(BASE + "-nexus_compression lzf".split())
