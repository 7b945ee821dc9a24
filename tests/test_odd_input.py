"""Odd input that nanoBragg.c renders anyway: nbnumba writes the same files with the same exit
code and adds one warning line per oddity on stderr; under -strict it refuses instead.

Each case runs `python -m nbnumba` in an empty folder and checks the exit code, the warning
lines (stderr without the "rendering on" device line), and every file the folder holds
afterwards: exactly the C's outputs (no temporary file left), byte for byte.  The expected
digests are those of the files the serial nanoBragg.c (commit 455534a) wrote for the same
arguments and inputs; it wrote the same bytes on every run, and valgrind found no read of
uninitialised or unallocated memory in these runs.
"""
import hashlib
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from golden import cli_env

BASE = "-default_F 10 -cell 100 100 100 90 90 90 -lambda 6.2 -N 2 -distance 100 -detpixels 16 -seed 1".split()
NO_CELL = "-default_F 10 -lambda 6.2 -N 2 -distance 100 -detpixels 16 -seed 1".split()    # for -mat alone
OUTPUTS = ["floatimage.bin", "image.pgm", "intimage.img", "noiseimage.img"]
DEVICE_LINE = "nbnumba: rendering on "
LOOKS = "nanoBragg.c reads 'h k l F' entries as one stream of numbers up to the first that is not one and keeps"
GEOMETRY = "nbnumba: warning: odd detector geometry: "
RENDERED = ": rendered as nanoBragg.c renders it"


def smv(width, height, pixels):
    """An SMV file: a 512-byte header for width x height pixels, then `pixels` (bytes)."""
    text = ("{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER=little_endian;\nTYPE=unsigned_short;\n"
            f"SIZE1={width};\nSIZE2={height};\nPIXEL_SIZE=0.1;\nDISTANCE=100;\nWAVELENGTH=6.2;\n}}\f")
    return text.encode().ljust(512, b" ") + pixels


MASK16 = smv(16, 16, (np.arange(256) % 3 != 0).astype("<u2").tobytes())
FDUMP = b"-1 2 0 2 1 2\n\f" + struct.pack("<60d", *(1.0 + 1.5 * np.arange(60)))


def warning(text):
    return "nbnumba: warning: " + text


# cases that need changes in code owned elsewhere (kernels/, Simulation.run): a detector of
# negative sides (render nothing, write the C's int pixel count of zeros), phi steps <= 0
# (an empty lattice table, +0.0 pixels as the C's floatimage[i] += -0.0), infinite angles
# (rotate()/rotate_axis() run as plain Python in the set-up, where math.sin(inf) raises)
STEPS = "(check -osc/-phistep/-phisteps and the divergence): nanoBragg.c renders no step and divides by"


# (id, extra arguments, input files, warning lines)
CASES = [
    ("hkl_last_line_not_numbers", BASE + ["-hkl", "a.hkl"], {"a.hkl": b"1 1 1 100\n2 2 2 50\n-1 0 2 30\nend of data\n"},
     [warning(f"HKL file a.hkl (-hkl): line 4 is not 'h k l F' numbers: {LOOKS} the 3 entries it completes")]),
    ("hkl_garbage_mid_file", BASE + ["-hkl", "a.hkl"], {"a.hkl": b"1 1 1 100\n2 2 2 50\n3 x 3 garbage\n4 4 4 10\n"},
     [warning(f"HKL file a.hkl (-hkl): line 3 is not 'h k l F' numbers: {LOOKS} the 2 entries it completes")]),
    ("hkl_three_columns", BASE + ["-hkl", "a.hkl"], {"a.hkl": b"1 1 1\n2 2 2\n3 3 3\n0 0 0\n"},
     [warning(f"HKL file a.hkl (-hkl): line 1 has 3 numbers, not 4 (h k l F): {LOOKS} the 3 entries it completes")]),
    ("hkl_five_columns", BASE + ["-hkl", "a.hkl"], {"a.hkl": b"1 1 1 100 5\n2 2 2 50 5\n3 3 3 20 5\n"},
     [warning("HKL file a.hkl (-hkl): line 1 has 5 numbers, not 4 (h k l F); the file ends inside an 'h k l F' "
              f"entry: {LOOKS} the 3 entries it completes")]),
    ("hkl_index_not_an_integer", BASE + ["-hkl", "a.hkl"], {"a.hkl": b"0 0 0 1\n1 1 1 2\n1e0 0 0 3\n1 0 0 4\n"},
     [warning("HKL file a.hkl (-hkl): line 3 has an index that is not an integer: nanoBragg.c's second pass reads "
              "indices as integers and stops there, storing 2 of the 4 entries")]),
    # F(0 0 0) is NaN: the 16 pixels nearest it render as NaN (0 in the SMV images), the others as usual
    ("hkl_nan_F", BASE + ["-hkl", "a.hkl", "-nointerpolate", "-pixel", "2"],
     {"a.hkl": b"0 0 0 nan\n1 0 0 20\n0 1 0 15\n1 1 1 30\n-1 0 0 12\n"},
     [warning("HKL file a.hkl (-hkl): the structure factor of h k l = 0 0 0 is NaN: the pixels that use it render "
              "as NaN (0 in the SMV images), as in nanoBragg.c")]),
    ("fdump_truncated", BASE + ["-interpolate"], {"Fdump.bin": FDUMP[:14 + 286]},
     [warning("Fdump file Fdump.bin is truncated: 5 x 4 x 3 values need 480 bytes after the header, the file has "
              "286; the missing values read as 0, as in nanoBragg.c")]),
    ("img_truncated", BASE + ["-img", "x.img"], {"x.img": MASK16[:600]},
     [warning("SMV file x.img (-img) is truncated: 16 x 16 pixels need 1024 bytes, the file has 600; the missing "
              "pixels read as 0, as in nanoBragg.c")]),
    ("mask_truncated", BASE + ["-mask", "x.img"], {"x.img": MASK16[:701]},
     [warning("SMV file x.img (-mask) is truncated: 16 x 16 pixels need 1024 bytes, the file has 701; the missing "
              "pixels read as 0, as in nanoBragg.c")]),
    ("img_missing", BASE + ["-img", "missing.img"], {},
     [warning("cannot open -img missing.img: No such file or directory; nanoBragg.c goes on without it")]),
    ("mask_missing", BASE + ["-mask", "missing.img"], {},
     [warning("cannot open -mask missing.img: No such file or directory; nanoBragg.c goes on without it")]),
    ("mask_larger_than_detector", BASE + ["-mask", "m.img", "-detpixels", "8"], {"m.img": MASK16},
     [warning("-mask m.img is 16 x 16 pixels, the detector 8 x 8 (-detpixels/-img): its pixels are read in raster "
              "order, as nanoBragg.c reads them")]),
    ("mask_other_shape", BASE + ["-mask", "m.img", "-detpixels_f", "8"], {"m.img": MASK16},
     [warning("-mask m.img is 16 x 16 pixels, the detector 8 x 16 (-detpixels/-img): its pixels are read in raster "
              "order, as nanoBragg.c reads them")]),
    ("twotheta_90", BASE + ["-twotheta", "90"], {},
     [GEOMETRY + "the detector plane is parallel to the beam (-twotheta/-detector_rot*/-odet_vector/-beam_vector)"
      + RENDERED]),
    ("distance_0", BASE + ["-distance", "0"], {},
     [GEOMETRY + "the detector is at distance 0 m, 0 m at closest (-distance/-close_distance)" + RENDERED]),
    ("distance_not_a_number", BASE + ["-distance", "abc"], {},
     [warning("-distance: 'abc' is not a number; nanoBragg.c reads it as 0"),
      GEOMETRY + "the detector is at distance 0 m, 0 m at closest (-distance/-close_distance)" + RENDERED]),
    ("distance_inf", BASE + ["-distance", "inf"], {},
     [warning("-distance: 'inf' is not a finite number; nanoBragg.c computes with inf"),
      GEOMETRY + "the detector is at distance -nan m, -nan m at closest (-distance/-close_distance)" + RENDERED]),
    ("distance_nan", BASE + ["-distance", "nan"], {},
     [warning("-distance: 'nan' is not a finite number; nanoBragg.c computes with nan"),
      GEOMETRY + "the detector is at distance nan m, nan m at closest (-distance/-close_distance)" + RENDERED]),
    ("close_distance_0", BASE + ["-close_distance", "0"], {},
     [GEOMETRY + "the detector is at distance 0 m, 0 m at closest (-distance/-close_distance)" + RENDERED]),
    ("beam_vector_zero", BASE + ["-beam_vector", "0", "0", "0"], {},
     [GEOMETRY + "-beam_vector is 0 0 0, no direction; the detector plane is parallel to the beam "
      "(-twotheta/-detector_rot*/-odet_vector/-beam_vector); the detector is at distance 0 m, 0 m at closest "
      "(-distance/-close_distance)" + RENDERED]),
    ("detector_normal_perpendicular_to_beam",
     BASE + "-fdet_vector 1 0 0 -sdet_vector 0 1 0 -odet_vector 0 0 1".split(), {},
     [GEOMETRY + "the detector plane is parallel to the beam (-twotheta/-detector_rot*/-odet_vector/-beam_vector); "
      "the detector is at distance 0 m, 0 m at closest (-distance/-close_distance)" + RENDERED]),
    ("cell_nan", BASE + "-cell nan 100 100 90 90 90".split(), {},
     [warning("-cell: 'nan' is not a finite number; nanoBragg.c computes with nan"),
      warning("the unit cell of -cell has a volume of nan A^3 (a zero, singular, infinite or NaN cell)" + RENDERED)]),
    ("mat_zero", NO_CELL + ["-mat", "a.mat"], {"a.mat": b"0 0 0\n0 0 0\n0 0 0\n"},
     [warning("the unit cell of -mat a.mat has a volume of inf A^3 (a zero, singular, infinite or NaN cell)"
              + RENDERED)]),
    ("mat_singular", NO_CELL + ["-mat", "a.mat"], {"a.mat": b"0.01 0.02 0\n0.01 0.02 0\n0 0 0.01\n"},
     [warning("the unit cell of -mat a.mat has a volume of inf A^3 (a zero, singular, infinite or NaN cell)"
              + RENDERED)]),
    ("mat_nan", NO_CELL + ["-mat", "a.mat"], {"a.mat": b"nan 0 0\n0 0.01 0\n0 0 0.01\n"},
     [warning("the unit cell of -mat a.mat has a volume of nan A^3 (a zero, singular, infinite or NaN cell)"
              + RENDERED)]),
    ("mat_missing_with_cell", BASE + ["-mat", "missing.mat"], {},
     [warning("cannot open -mat missing.mat: No such file or directory; nanoBragg.c goes on with the -cell "
              "orientation")]),
    ("mat_malformed_with_cell", BASE + ["-mat", "a.mat"], {"a.mat": b"0.01 0.0 0.0\nfoo bar baz\n0.0 0.0 0.01\n"},
     [warning("-mat a.mat: expected 9 numbers (three rows of a*, b*, c* components), found 3 at line 2: "
              "nanoBragg.c keeps the -cell values for the others")]),
    ("energy_0", BASE + ["-energy", "0"], {},
     [warning("-lambda/-energy give a wavelength of inf A" + RENDERED)]),
    ("detsize_0", BASE + ["-detsize", "0", "-detpixels", "0"], {},
     [warning("the detector is 0 x 0 pixels (-detpixels/-detsize): nanoBragg.c renders no pixel and writes "
              "0 zero pixels")]),
    pytest.param("detpixels_negative", BASE + ["-detpixels", "-10"], {},
                 [warning("the detector is -10 x -10 pixels (-detpixels/-detsize): nanoBragg.c renders no pixel "
                          "and writes 100 zero pixels")]),
    pytest.param("pixel_0", BASE + ["-pixel", "0"], {},
                 [warning("-pixel 0 mm is not a positive size; the detector is -2147483648 x -2147483648 pixels "
                          "(-detpixels/-detsize): nanoBragg.c renders no pixel and writes 0 zero pixels")]),
    ("img_size_zero", BASE[:-4] + ["-img", "x.img"],
     {"x.img": smv(16, 16, b"").replace(b"SIZE1=16;\nSIZE2=16", b"SIZE1=0;\nDETECTOR_DIMENSIONS=0")},
     [warning("SMV file x.img (-img) has no usable SIZE1/SIZE2 (got 0 x 0): nanoBragg.c takes them for the "
              "detector's size"),
      warning("the detector is 0 x 0 pixels (-detpixels/-detsize): nanoBragg.c renders no pixel and writes "
              "0 zero pixels")]),
    pytest.param("mask_negative_sides", BASE[:-4] + ["-mask", "x.img"],
                 {"x.img": smv(-4, -4, MASK16[512:544])},
                 [warning("SMV file x.img (-mask) has no usable SIZE1/SIZE2 (got -4 x -4): nanoBragg.c takes them "
                          "for the detector's size"),
                  warning("the detector is -4 x -4 pixels (-detpixels/-detsize): nanoBragg.c renders no pixel and "
                          "writes 16 zero pixels")]),
    ("no_phi_step", BASE + ["-osc", "0", "-phistep", "0.1"], {},
     [warning(f"1 sources x 1 mosaic domains x 0 phi steps x 1x1 oversampling is 0 steps per pixel {STEPS} 0")]),
    ("no_source", BASE + "-hdivrange 1 -hdivstep 1 -hdivsteps 1 -vdivrange 1 -vdivstep 1 -vdivsteps 1".split(), {},
     [warning(f"0 sources x 1 mosaic domains x 1 phi steps x 1x1 oversampling is 0 steps per pixel {STEPS} 0")]),
    pytest.param("phi_steps_int_min", BASE + ["-osc", "1e300", "-phistep", "1e-300"], {},
                 [warning("1 sources x 1 mosaic domains x -2147483648 phi steps x 1x1 oversampling is -2147483648 "
                          f"steps per pixel {STEPS} -2147483648")]),
    pytest.param("twotheta_inf", BASE + ["-twotheta", "inf"], {},
                 [warning("-twotheta: 'inf' is not a finite number; nanoBragg.c computes with inf"),
                  GEOMETRY + "the detector is at distance -nan m, -nan m at closest (-distance/-close_distance)"
                  + RENDERED]),
]

# exit code and sha256 of every file nanoBragg.c wrote, per case
EXPECTED = {
    'hkl_last_line_not_numbers': {"rc": 0, "files": {
        'Fdump.bin': '909487ed026f4b35d10787a38fe4a50908af5afe58f12c650342893ef4dc0b8d',
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'hkl_garbage_mid_file': {"rc": 0, "files": {
        'Fdump.bin': '64d38aac842f00c84c9b3d386db449a40b253c1ab101dba7e4cc31181c815769',
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'hkl_three_columns': {"rc": 0, "files": {
        'Fdump.bin': 'dc7c05144e9edb343dbc08a5d723c601a8cf098844c99b63a6ced7de89bf8f4f',
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'hkl_five_columns': {"rc": 0, "files": {
        'Fdump.bin': '784059f539835341e7c3bffc9c356a8bf9a3b3c0af45e660d9a8906ad11d3b18',
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'hkl_index_not_an_integer': {"rc": 0, "files": {
        'Fdump.bin': 'a109628dcdd71ece2b8409e745c08c89cc83078d2fc7124f6768d403883d30d6',
        'floatimage.bin': '0af1595d699205b717fb05db0d655202ca6dd81bbb0f0cb41fc0879947a9b711',
        'image.pgm': '4ed76f96f52cdf9f16a663a39521401364e35be463d05b9eb7bcddfdd3b204fd',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '810892953b3b9523407f6764275498232b3bfb346c96a61f9e537de42b2e91b3',
    }},
    'hkl_nan_F': {"rc": 0, "files": {
        'Fdump.bin': '5e3a6a075e9b24238d080507e69253788677d6a85b59857f4ad56f93ce44bb06',
        'floatimage.bin': 'd11c14ed0f02c4a8ead0c411bd3b783952553a0b7a3512a37514ed1f84b06e99',
        'image.pgm': '2f575dd25abdf7cc9630d6aa9ac3d358e7bfdbcd13417fc94d68dcfb48932fd2',
        'intimage.img': '4fcf40d50d6b813250e8b6e8a4411107913307e2216ce41c0a8216e0fa4eeb76',
        'noiseimage.img': 'ff97a812ade0909641322c883ae3223cd1069bea6c9be3be20dce2fc0bc8463e',
    }},
    'fdump_truncated': {"rc": 0, "files": {
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'img_truncated': {"rc": 0, "files": {
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'mask_truncated': {"rc": 0, "files": {
        'floatimage.bin': '988bbc63dcd73ef1f4aee57b59bdf97639b15341b98f4f485f7a7220f4be1186',
        'image.pgm': 'e8f60f566fae6223b6415ad7b0845ae974de7de3ebab4e94dfb9aa86379132a0',
        'intimage.img': '6655c2aa1aa64b664839831d544adada1f36da98bea149720c1c2838133b2b6b',
        'noiseimage.img': '810892953b3b9523407f6764275498232b3bfb346c96a61f9e537de42b2e91b3',
    }},
    'img_missing': {"rc": 0, "files": {
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'mask_missing': {"rc": 0, "files": {
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'mask_larger_than_detector': {"rc": 0, "files": {
        'floatimage.bin': 'c47193e0c9aa83981c062a284216875076b2460dde23577946500c2af96cd925',
        'image.pgm': '09c1346df527ddb69ff2c3bfa819d360b4b270dafaeeafb407d12babadf216ff',
        'intimage.img': '918f5f20232b40479832fa25408587b49f6c80f105c7b17ca8158e1ec95452b8',
        'noiseimage.img': 'f9690d88c9c58ebbdc7cf006793ca967893be11f9aeb4d3c6db402b2198d1a75',
    }},
    'mask_other_shape': {"rc": 0, "files": {
        'floatimage.bin': 'dd205cc52e7f80dfb466884ab0ddc9ee68c4dfef64c9508fc6c63f167eb93282',
        'image.pgm': 'bc31a9c2b8b2296c6c4a5027df7be46f1ad5f89795bcef98a349b4e622456c84',
        'intimage.img': 'ff714f4aec8388f23e99c12c6487ff66b024055fd6f320b177db7710bc69275f',
        'noiseimage.img': 'ded496622f809531eef50f762889c73195a25965859facdbcff5b0ff0fd19588',
    }},
    'twotheta_90': {"rc": 0, "files": {
        'floatimage.bin': '3679be21b77f4bffd1488ede7e5941b0793a292c7b51e04d5703864c8c83f849',
        'image.pgm': '3f3b2e2de4693e77031e2d63772b4fc2461527299d077b1cee1f015635de3bc5',
        'intimage.img': 'd061a390624992b34b1b8f1fc3491b6c0bf3b5347cce27d0030421e4c4f3d7fd',
        'noiseimage.img': '9cde4e39fe05e539c5bd9f6199739aa6b814d02e352e37f08e0d42d6ad508b5a',
    }},
    'distance_0': {"rc": 0, "files": {
        'floatimage.bin': '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '167dcce94b304890240c96d9e11a8802fc9c5dda24f329109c7b6ffcee61dddc',
        'noiseimage.img': '167dcce94b304890240c96d9e11a8802fc9c5dda24f329109c7b6ffcee61dddc',
    }},
    'distance_not_a_number': {"rc": 0, "files": {
        'floatimage.bin': '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '167dcce94b304890240c96d9e11a8802fc9c5dda24f329109c7b6ffcee61dddc',
        'noiseimage.img': '167dcce94b304890240c96d9e11a8802fc9c5dda24f329109c7b6ffcee61dddc',
    }},
    'distance_inf': {"rc": 0, "files": {
        'floatimage.bin': '6f8819c8c021d70237f0186994967cf5861548d42e4e17cb5c20e95937949d52',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '90e026e4a7cd2ade468f9c57c4f70a34b36465cd265e13cadff4261571deb672',
        'noiseimage.img': '90e026e4a7cd2ade468f9c57c4f70a34b36465cd265e13cadff4261571deb672',
    }},
    'distance_nan': {"rc": 0, "files": {
        'floatimage.bin': '1acc0ecb837a5149d3109aff169efc58877cc84412fd50ced7893e2f12f275b2',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '69a2586cae9d892c37f4decc690c6a3ed69d8d93b0ae72dff4c556c04e579edd',
        'noiseimage.img': '69a2586cae9d892c37f4decc690c6a3ed69d8d93b0ae72dff4c556c04e579edd',
    }},
    'close_distance_0': {"rc": 0, "files": {
        'floatimage.bin': '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '167dcce94b304890240c96d9e11a8802fc9c5dda24f329109c7b6ffcee61dddc',
        'noiseimage.img': '167dcce94b304890240c96d9e11a8802fc9c5dda24f329109c7b6ffcee61dddc',
    }},
    'beam_vector_zero': {"rc": 0, "files": {
        'floatimage.bin': '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '1efc449cd8a4a2c828260541f0cff2e36139a8d7bfae839cde88bf29a5b93dd0',
        'noiseimage.img': '1efc449cd8a4a2c828260541f0cff2e36139a8d7bfae839cde88bf29a5b93dd0',
    }},
    'detector_normal_perpendicular_to_beam': {"rc": 0, "files": {
        'floatimage.bin': '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': '64a8baa202d9e5d54c60bc5741745ac472764400790d20dd3f4203aa829640fb',
        'noiseimage.img': '64a8baa202d9e5d54c60bc5741745ac472764400790d20dd3f4203aa829640fb',
    }},
    'cell_nan': {"rc": 0, "files": {
        'floatimage.bin': '1acc0ecb837a5149d3109aff169efc58877cc84412fd50ced7893e2f12f275b2',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
        'noiseimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
    }},
    'mat_zero': {"rc": 0, "files": {
        'floatimage.bin': '6f8819c8c021d70237f0186994967cf5861548d42e4e17cb5c20e95937949d52',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
        'noiseimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
    }},
    'mat_singular': {"rc": 0, "files": {
        'floatimage.bin': '6f8819c8c021d70237f0186994967cf5861548d42e4e17cb5c20e95937949d52',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
        'noiseimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
    }},
    'mat_nan': {"rc": 0, "files": {
        'floatimage.bin': '1acc0ecb837a5149d3109aff169efc58877cc84412fd50ced7893e2f12f275b2',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
        'noiseimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
    }},
    'mat_missing_with_cell': {"rc": 0, "files": {
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'mat_malformed_with_cell': {"rc": 0, "files": {
        'floatimage.bin': '88f8847ad6be8d53abf7f3a92d0aa4ac199509270f9e90fde437c2cf7b8f7dae',
        'image.pgm': '6bed6ac5f76508446a0dfe252e5aaa461b07265c0af63c66c9a53da0011c9cef',
        'intimage.img': '0a9325c36307e3011648f853c98ab3c119b07b92d20e0b86f1e5af1bf349cd29',
        'noiseimage.img': '19786afa3584a5e89700279b5b1d38cd64fb495d714f4c8a34cba9d5d08bf8cf',
    }},
    'energy_0': {"rc": 0, "files": {
        'floatimage.bin': '17404d48113ad934b65ace994a31f3cac8c9b162ee2f6848b1aec8bcf7d2b6e8',
        'image.pgm': '6d44a7b06643baa844cff68dca89e0cb6161c9e443a70f4c873db643cfd0a74d',
        'intimage.img': '32aef7ec8a85d96ef9fe7ed4a54cccfbc2d0a3c15c92214195aa8b1bfef17a87',
        'noiseimage.img': 'b06b759de262980ba4bd477816c0443e2305a17b1f6f36e8540c54223f8f6f6c',
    }},
    'detsize_0': {"rc": 0, "files": {
        'floatimage.bin': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'image.pgm': 'ca5bbc992ebc7ba4092d90a7aa0bf1189948a06090130fc77ec0bb2ba4f43738',
        'intimage.img': '7d26632d21adad0ba9d6899fc3b7ad7ece32afccfdb79bd319647acad39dcf2f',
        'noiseimage.img': '7d26632d21adad0ba9d6899fc3b7ad7ece32afccfdb79bd319647acad39dcf2f',
    }},
    'detpixels_negative': {"rc": 0, "files": {
        'floatimage.bin': '7a12e561363385e9dfeeab326368731c030ed4b374e7f5897ac819159d2884c5',
        'image.pgm': '82284acc62d4dc5f8fe2e9ae646cd2f0f91fef87ae4f8c9776b0a083c404ccfa',
        'intimage.img': '2f299988c72bcb5efc81da6765253339d723c6160ba681055c7286e35be30975',
        'noiseimage.img': '2f299988c72bcb5efc81da6765253339d723c6160ba681055c7286e35be30975',
    }},
    'pixel_0': {"rc": 0, "files": {
        'floatimage.bin': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'image.pgm': 'd5d129446dc0764012fd88ca40877fa2fe7ed764fea58a09072845afe593b6ad',
        'intimage.img': 'd548cd8aeb86ce01be534ab38b9550b48472a4fdf6dd4bddd46239b4fb91b226',
        'noiseimage.img': 'd548cd8aeb86ce01be534ab38b9550b48472a4fdf6dd4bddd46239b4fb91b226',
    }},
    'img_size_zero': {"rc": 0, "files": {
        'floatimage.bin': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'image.pgm': 'ca5bbc992ebc7ba4092d90a7aa0bf1189948a06090130fc77ec0bb2ba4f43738',
        'intimage.img': '7d26632d21adad0ba9d6899fc3b7ad7ece32afccfdb79bd319647acad39dcf2f',
        'noiseimage.img': '7d26632d21adad0ba9d6899fc3b7ad7ece32afccfdb79bd319647acad39dcf2f',
    }},
    'mask_negative_sides': {"rc": 0, "files": {
        'floatimage.bin': 'f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b',
        'image.pgm': 'f34d9bab8c8b7a20b161b158e0bb38f718fe6898a986239d70cfe24b9191cf55',
        'intimage.img': '260cd1e114b993758ba12cb3bf4bd1ea1a9da6f09434e881d0301764efc6c15d',
        'noiseimage.img': '260cd1e114b993758ba12cb3bf4bd1ea1a9da6f09434e881d0301764efc6c15d',
    }},
    'no_phi_step': {"rc": 0, "files": {
        'floatimage.bin': '6f8819c8c021d70237f0186994967cf5861548d42e4e17cb5c20e95937949d52',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
        'noiseimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
    }},
    'no_source': {"rc": 0, "files": {
        'floatimage.bin': '6f8819c8c021d70237f0186994967cf5861548d42e4e17cb5c20e95937949d52',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
        'noiseimage.img': 'f32dd96f4eccc61a2c294e8c6da792e7a86560cda3cabf2ab2e37398dd7369e4',
    }},
    'phi_steps_int_min': {"rc": 0, "files": {
        'floatimage.bin': '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'b140d0675de9afe3897a3fe162e434a34de3cb4c4903eaec22170879817fd842',
        'noiseimage.img': 'b140d0675de9afe3897a3fe162e434a34de3cb4c4903eaec22170879817fd842',
    }},
    'twotheta_inf': {"rc": 0, "files": {
        'floatimage.bin': '6f8819c8c021d70237f0186994967cf5861548d42e4e17cb5c20e95937949d52',
        'image.pgm': '93898da63607bf90732bc0e58d077a8904be975e69c8380255e7b5a15d96abd5',
        'intimage.img': 'bfe13dfc573b83a3d24d0ca2f8e23bb7a13bcb65b847279e999453ed906cb3d6',
        'noiseimage.img': 'bfe13dfc573b83a3d24d0ca2f8e23bb7a13bcb65b847279e999453ed906cb3d6',
    }},
}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def run(folder, argv, **env):
    e = cli_env()
    e.update(env)
    return subprocess.run([sys.executable, "-m", "nbnumba", *argv], cwd=folder, capture_output=True, text=True,
                          errors="replace", timeout=300, env=e)


def setup_folder(folder, files):
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _params(with_marks):
    """CASES as pytest parameters named by their ids; the marks apply to the rendering test only."""
    for case in CASES:
        values, marks = (case.values, case.marks) if hasattr(case, "marks") else (case, ())
        yield pytest.param(*values[1:], id=values[0], marks=marks if with_marks else ())


@pytest.mark.parametrize("argv, files, warnings", _params(with_marks=True))
def test_renders_what_the_c_renders_and_warns(tmp_path, request, argv, files, warnings):
    case = request.node.callspec.id
    setup_folder(tmp_path, files)
    proc = run(tmp_path, argv)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == EXPECTED[case]["rc"], proc.stderr
    assert [line for line in proc.stderr.splitlines() if not line.startswith(DEVICE_LINE)] == warnings
    written = {p.name: sha(p.read_bytes()) for p in tmp_path.iterdir() if p.name not in files}
    assert written == EXPECTED[case]["files"]


@pytest.mark.parametrize("argv, files, warnings", _params(with_marks=False))
def test_strict_refuses_and_writes_nothing(tmp_path, argv, files, warnings):
    setup_folder(tmp_path, files)
    proc = run(tmp_path, argv + ["-strict"])
    assert proc.returncode == 9
    first = warnings[0][len("nbnumba: warning: "):]
    assert proc.stderr.splitlines() == [f"nbnumba: error: {first} (refused under -strict)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)


def test_nan_pixels_are_0_in_the_int_image(tmp_path):
    # -distance nan: every pixel of the float image is NaN; the C's (unsigned short) floorf()
    # goes through a 32-bit int (0x80000000 for a NaN) and keeps its low 16 bits: 0, not 65535
    proc = run(tmp_path, BASE + ["-distance", "nan", "-nonoise", "-nopgm"])
    assert proc.returncode == 0
    floats = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4")
    ints = np.frombuffer((tmp_path / "intimage.img").read_bytes()[512:], dtype="<u2")
    assert floats.size == ints.size == 256 and np.isnan(floats).all()
    assert not ints.any()


def test_nan_structure_factor_renders_nan_pixels_near_its_spot(tmp_path):
    # hkl_nan_F's images: 16 of the 256 pixels NaN in the float image, 0 in intimage.img;
    # the Fdump cache written from that file carries the NaN, and reading it warns again
    (tmp_path / "a.hkl").write_bytes(b"0 0 0 nan\n1 0 0 20\n0 1 0 15\n1 1 1 30\n-1 0 0 12\n")
    common = BASE + ["-nointerpolate", "-pixel", "2", "-nonoise", "-nopgm"]
    assert run(tmp_path, common + ["-hkl", "a.hkl"]).returncode == 0
    floats = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4")
    ints = np.frombuffer((tmp_path / "intimage.img").read_bytes()[512:], dtype="<u2")
    assert np.isnan(floats).sum() == 16 and not ints[np.isnan(floats)].any() and ints[~np.isnan(floats)].all()
    again = run(tmp_path, common)          # no -hkl: Fdump.bin is read
    assert again.returncode == 0
    assert [line for line in again.stderr.splitlines() if not line.startswith(DEVICE_LINE)] == [
        warning("Fdump file Fdump.bin: the structure factor of h k l = 0 0 0 is NaN: the pixels that use it render "
                "as NaN (0 in the SMV images), as in nanoBragg.c")]


def test_statistics_square_floats_as_the_c(tmp_path):
    # -fluence -1: pixels of about -5e-32, whose float squares underflow to 0 in the C
    # (floatimage[i]*floatimage[i] is a float product): its rms is 0
    proc = run(tmp_path, BASE + ["-fluence", "-1", "-nonoise", "-nopgm"])
    assert proc.returncode == 0
    assert "mean= -4.53708e-32 rms= 0 rmsd= 3.48304e-33" in proc.stdout.splitlines()


def test_misset_random_without_its_seed_warns(tmp_path):
    """The C seeds -misset random with -seed's default (the clock) taken before -seed is read:
    two runs draw two orientations.  nbnumba does the same and says so; -misset_seed repeats one."""
    base = ["-default_F", "1", "-cell", "100", "100", "100", "90", "90", "90", "-N", "1", "-detpixels", "4",
            "-nonoise", "-nopgm", "-misset", "random", "-seed", "99"]
    drawn = set()
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        proc = run(tmp_path / str(i), base)
        assert proc.returncode == 0
        assert [line for line in proc.stderr.splitlines() if not line.startswith(DEVICE_LINE)] == [warning(
            "-misset random without -misset_seed: the orientation is drawn from the clock (nanoBragg.c seeds it "
            "with -seed's default, minus the time, taken before -seed is read), so every run draws another; "
            "give -misset_seed N to draw the same one again")]
        drawn.add(next(line for line in proc.stdout.splitlines() if line.startswith("random orientation")))
        time.sleep(1.1)                 # the clock's seconds seed it
    assert len(drawn) == 2
    seeded = run(tmp_path, base + ["-misset_seed", "5"])
    assert seeded.returncode == 0 and "misset" not in seeded.stderr
