"""`nbnumba compare`, its image metrics and the PNG writer.

CI has no nanoBragg.c binary, so nbnumba itself stands in for the C runner: `--c-bin` points
at a wrapper script that execs `python -m nbnumba "$@"` (or runs it and then alters its
output, to plant a difference). A few tests use a tiny fake simulator instead, to exercise
failures that do not involve the port.
"""
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nbnumba.io.png import encode_png, read_png, write_png
from nbnumba.tools import parity
from nbnumba.tools.compare import (clock_seeded, compare_cmd, copy_inputs, correlation, flag_value, image_metrics,
                                   input_files, passes, selection, smv_shape)
from nbnumba.tools.pictures import LOG_FLOOR, diff_rgb, gray, legend_lines, strength, with_colour_bar

ROOT = Path(__file__).resolve().parent.parent
TINY_CASE = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-lambda", "6.2",
             "-N", "5", "-distance", "100", "-detpixels", "32", "-pixel", "0.1", "-nonoise", "-nopgm"]


def executable(path, *parts):
    """Write an executable script made of the dedented parts, one after the other."""
    path.write_text("\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def port_wrapper(tmp_path):
    """A stand-in 'C binary' that is nbnumba itself."""
    return executable(tmp_path / "nb_wrapper.sh", "#!/bin/sh", f'exec "{sys.executable}" -m nbnumba "$@"')


def altered_port(tmp_path, name, before="", after=""):
    """A stand-in 'C binary' running nbnumba with `before` run on argv first and `after` on its output."""
    return executable(tmp_path / name, f"#!{sys.executable}", "import subprocess, sys",
                      "import numpy as np", "args = sys.argv[1:]", before,
                      'code = subprocess.call([sys.executable, "-m", "nbnumba", *args])', after,
                      "sys.exit(code)")


FAKE_HEADER = r"""
    import sys
    import numpy as np
    args = sys.argv[1:]
    def smv(path, slow, fast):
        head = f"{{\nHEADER_BYTES=512;\nSIZE1={fast};\nSIZE2={slow};\n}}\n".encode()
        open(path, "wb").write(head.ljust(512, b" ") + bytes(2 * slow * fast))
"""


def fake_simulator(tmp_path, name, body):
    """A tiny stand-in simulator (no nbnumba): `body` runs with np, sys, args and smv() at hand."""
    return executable(tmp_path / name, f"#!{sys.executable}", FAKE_HEADER, body)


def invoke(tmp_path, monkeypatch, *options, args=TINY_CASE):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(compare_cmd, ["--outdir", str(out), *options, "--", *args])
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
    return result, out, summary


# ---------------------------------------------------------------- against the port


def test_port_against_itself_passes_with_traces(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_C_BIN", port_wrapper(tmp_path))
    result, out, summary = invoke(tmp_path, monkeypatch, "--trace-pixel", "10", "12")
    assert result.exit_code == 0, result.output
    assert summary["pass"] is True and summary["exit_code"] == 0
    assert summary["pass_rule"]["min_correlation"] == 0.999999 and summary["pass_rule"]["max_rel_diff"] == 1e-6
    m = summary["metrics"]
    assert m["correlation"] == 1.0 and m["max_abs_diff"] == 0.0 and m["bit_identical_fraction"] == 1.0
    assert m["n_pixels"] == 32 * 32 and m["sum_ratio_py_over_c"] == 1.0 and m["sum_c"] > 0
    assert summary["shape_c"] == summary["shape_py"] == [32, 32]
    assert summary["c"]["exit_code"] == summary["py"]["exit_code"] == 0
    assert summary["c"]["wall_s"] > 0 and summary["wall_ratio_c_over_py"] > 0
    assert summary["c"]["cmd"].endswith(" ".join(TINY_CASE)) and "-m nbnumba" in summary["py"]["cmd"]
    assert read_png(out / "c.png").shape == read_png(out / "py.png").shape == (32, 32)
    diff_png = read_png(out / "diff.png")
    assert diff_png.shape[0] > 32 and diff_png.shape[1] >= 32  # the map, with the colour bar under it
    assert (diff_png[:32, :32] == 255).all()
    assert summary["png"]["diff_abs_max"] == 0.0 and summary["png"]["diff_rel_max"] == 0.0
    # every output: the float and int images (-nonoise -nopgm), and the stdout summary lines
    assert {name: f["status"] for name, f in summary["files"].items()} == \
        {"floatimage.bin": "pass", "intimage.img": "pass"}
    assert summary["files"]["intimage.img"]["detail"] == "header identical; 1024 of 1024 pixels equal"
    # every line of the C's stdout (the cell vectors too) but its progress meter
    c_stdout = [l for l in (out / "c_stdout.txt").read_text().splitlines() if not l.startswith("nbnumba: ")]
    progress = [l for l in c_stdout if l.endswith("% done")]
    assert summary["stdout"] == {"status": "pass", "lines": len(c_stdout) - len(progress), "not_compared": progress,
                                 "missing": []}
    assert summary["stdout"]["lines"] > 50 and len(progress) > 20
    # the trace pass: both logs kept, diffed with the trace-diff rules
    assert summary["trace"]["exit_code"] == 0
    assert "-trace_pixel 10 12" in summary["trace"]["c"]["cmd"]
    assert "TRACE_PY" in (out / "c_trace.log").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["first_divergence"] is None and metrics["labels"]
    assert (out / "summary.md").exists() and (out / "run_metadata.json").exists()


def test_perturbed_image_exits_3_with_pictures(tmp_path, monkeypatch):
    c_bin = altered_port(tmp_path, "perturbed.py", after="""
        img = np.fromfile("floatimage.bin", "<f4")
        img[::5] *= np.float32(1.01)
        img.tofile("floatimage.bin")
    """)
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c_bin)
    assert result.exit_code == 3, result.output
    assert summary["pass"] is False and summary["exit_code"] == 3
    m = summary["metrics"]
    assert m["max_rel_diff"] > 1e-6 and m["bit_identical_fraction"] < 1.0
    assert m["sum_ratio_py_over_c"] != 1.0
    c_png, py_png, diff_png = (read_png(out / f"{n}.png") for n in ("c", "py", "diff"))
    assert c_png.shape == py_png.shape == (32, 32) and diff_png.shape[2] == 3
    assert len(np.unique(diff_png[:32, :32].reshape(-1, 3), axis=0)) > 1
    assert summary["files"]["floatimage.bin"]["status"] == "FAIL"
    assert c_png.max() == 255 or py_png.max() == 255
    assert "result: FAIL (exit 3)" in result.output


def test_shape_mismatch_exits_4(tmp_path, monkeypatch):
    c_bin = altered_port(tmp_path, "smaller.py", before="""
        args[args.index("-detpixels") + 1] = "24"
    """)
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c_bin)
    assert result.exit_code == 4, result.output
    assert summary["shape_c"] == [24, 24] and summary["shape_py"] == [32, 32]
    assert "shapes differ" in summary["error"] and summary["exit_code"] == 4


def test_planted_difference_in_the_smv_int_image_alone_fails(tmp_path, monkeypatch):
    c_bin = altered_port(tmp_path, "int_pixel.py", after="""
        data = bytearray(open("intimage.img", "rb").read())
        data[512 + 2 * 100] ^= 1   # one pixel's low byte: one ADU
        open("intimage.img", "wb").write(bytes(data))
    """)
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c_bin)
    assert result.exit_code == 3, result.output
    assert summary["pass"] is False and summary["exit_code"] == 3
    assert summary["float_image_pass"] is True and summary["metrics"]["bit_identical_fraction"] == 1.0
    entry = summary["files"]["intimage.img"]
    assert (entry["status"], entry["kind"], entry["header_equal"], entry["n_equal"], entry["max_abs_diff"]) == \
        ("FAIL", "SMV image", True, 1023, 1)
    assert entry["detail"] == "header identical; 1023 of 1024 pixels equal; max |py-c| = 1 ADU"
    assert summary["files"]["floatimage.bin"]["status"] == "pass" and summary["stdout"]["status"] == "pass"
    assert "intimage.img    SMV image    FAIL" in result.output and "result: FAIL (exit 3)" in result.output


def test_header_extra_file_fdump_and_pgm_differences(tmp_path, monkeypatch):
    args = [a for a in TINY_CASE if a != "-nopgm"] + ["-pgmfile", "p.pgm"]
    c_bin = altered_port(tmp_path, "others.py", after="""
        data = open("intimage.img", "rb").read()
        open("intimage.img", "wb").write(data.replace(b"PIXEL_SIZE=0.1", b"PIXEL_SIZE=0.2"))
        open("extra.txt", "w").write("C only")
        pgm = bytearray(open("p.pgm", "rb").read())
        pgm[-1] ^= 0xFF
        open("p.pgm", "wb").write(bytes(pgm))
    """)
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c_bin, args=args)
    assert result.exit_code == 3, result.output
    files = summary["files"]
    assert files["intimage.img"]["detail"].startswith("header DIFFERS; 1024 of 1024 pixels equal")
    assert files["intimage.img"]["status"] == "FAIL"
    assert (files["extra.txt"]["status"], files["extra.txt"]["detail"]) == ("FAIL", "written by C only")
    # one byte of 1024 pixels: 99.9% equal, below the 99.99% rule
    assert files["p.pgm"]["kind"] == "PGM" and files["p.pgm"]["status"] == "FAIL"


def test_stdout_summary_lines_are_compared(tmp_path, monkeypatch):
    body = """
        print({line!r})
        np.ones(16, '<f4').tofile('floatimage.bin')
    """
    c = fake_simulator(tmp_path, "c.py", body.format(line="max_I = 152.3  at 0.001 0.002"))
    py = fake_simulator(tmp_path, "py.py", body.format(line="max_I = 152.4  at 0.001 0.002"))
    result, _, summary = invoke(tmp_path, monkeypatch, "--c-bin", c, "--py-cmd", py, args=[])
    assert result.exit_code == 3, result.output
    assert summary["float_image_pass"] is True
    assert summary["stdout"] == {"status": "FAIL", "lines": 1, "not_compared": [],
                                 "missing": ["max_I = 152.3 at 0.001 0.002"]}
    assert "stdout: FAIL  0 of 1 lines of the C found in the port's stdout" in result.output
    assert "  missing: max_I = 152.3 at 0.001 0.002" in result.output


def test_a_changed_cell_vector_line_is_caught(tmp_path, monkeypatch):
    """One digit changed in the C's reciprocal-cell block (no summary line) fails the stdout check."""
    c_bin = executable(tmp_path / "cell_vector.py", f"#!{sys.executable}", r"""
        import subprocess, sys
        run = subprocess.run([sys.executable, "-m", "nbnumba", *sys.argv[1:]], stdout=subprocess.PIPE, text=True)
        lines = run.stdout.splitlines(keepends=True)
        i = lines.index("reciprocal-space cell vectors (Angstrom^-1):\n") + 2
        assert lines[i] == "X:  0.01000000 -0.00000000 -0.00000000\n"
        lines[i] = "X:  0.01000001 -0.00000000 -0.00000000\n"
        sys.stdout.write("".join(lines))
        sys.exit(run.returncode)
    """)
    result, _, summary = invoke(tmp_path, monkeypatch, "--c-bin", c_bin, args=TINY_CASE + ["-seed", "3"])
    assert result.exit_code == 3, result.output
    assert summary["float_image_pass"] is True and summary["files"]["intimage.img"]["status"] == "pass"
    out = summary["stdout"]
    assert out["status"] == "FAIL" and all(line.endswith("% done") for line in out["not_compared"])
    assert out["missing"] == ["X: 0.01000001 -0.00000000 -0.00000000"]
    assert f"stdout: FAIL  {out['lines'] - 1} of {out['lines']} lines of the C found" in result.output
    assert "  missing: X: 0.01000001 -0.00000000 -0.00000000" in result.output


def test_stdout_lines_a_port_need_not_print():
    text = ("mmap(header.img) = 0x7f12\n  seed: -1718000000\n X:  1.0   2\n14% done\n"
            "12 photons on noise image (0 overloads)\n")
    assert parity.stdout_lines(text) == (["seed: -1718000000", "X: 1.0 2", "12 photons on noise image (0 overloads)"],
                                         ["mmap(header.img) = 0x7f12", "14% done"])
    assert parity.stdout_lines(text, clock_seeded=True) == \
        (["X: 1.0 2"], ["mmap(header.img) = 0x7f12", "seed: -1718000000", "14% done",
                        "12 photons on noise image (0 overloads)"])
    assert parity.missing_lines(["a b", "a b", "c"], "a  b\nc\n") == ["a b"]


def test_noise_image_seeded_from_the_clock_is_listed_not_compared(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_C_BIN", port_wrapper(tmp_path))
    noisy = [a for a in TINY_CASE if a != "-nonoise"]
    result, _, summary = invoke(tmp_path, monkeypatch, args=noisy)
    assert result.exit_code == 0, result.output
    assert summary["files"]["noiseimage.img"]["status"] == "skipped"
    assert "pass -seed N" in summary["files"]["noiseimage.img"]["detail"]
    # the clock's seed and the noise drawn with it are left out of the stdout check, and said so
    progress = [line for line in summary["stdout"]["not_compared"] if line.endswith("% done")]
    seed, photons = [line for line in summary["stdout"]["not_compared"] if line not in progress]
    assert seed.startswith("seed: -") and photons.endswith(" photons on noise image (0 overloads)")
    assert summary["stdout"]["status"] == "pass" and f"({len(progress) + 2} not compared)" in result.output
    result, _, summary = invoke(tmp_path, monkeypatch, args=noisy + ["-seed", "5"])
    assert result.exit_code == 0, result.output
    assert summary["files"]["noiseimage.img"]["status"] == "pass"
    assert all(line.endswith("% done") for line in summary["stdout"]["not_compared"])
    assert clock_seeded(["-mosaic_seed", "3"]) and not clock_seeded(["-seed", "3"])


def test_trace_pixel_with_a_plain_c_binary(tmp_path, monkeypatch):
    """The plain C prints no trace: one note says how to pass the instrumented build, the images
    still decide, and summary.json agrees with the exit status."""
    plain = altered_port(tmp_path, "plain.py", before="""
        i = args.index("-trace_pixel") if "-trace_pixel" in args else None
        if i is not None:
            del args[i:i + 3]
    """)
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", plain, "--trace-pixel", "10", "12")
    assert result.exit_code == 0, result.output
    assert summary["pass"] is True and summary["exit_code"] == 0
    trace = summary["trace"]
    assert trace["status"] == "no C trace" and trace["files"] == ["c_trace.log", "py_trace.log"]
    assert all((out / name).exists() for name in trace["files"]) and not (out / "metrics.json").exists()
    note = [l for l in result.stderr.splitlines() if "trace" in l]
    assert len(note) == 1 and note[0].startswith("compare: note: ") and "--c-trace-bin PATH" in note[0]
    assert "printed no trace lines (the plain nanoBragg prints none)" in note[0]
    assert "result: PASS (exit 0)" in result.stdout


# ---------------------------------------------------------------- failures (no port needed)


def test_no_c_binary_exits_2(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    result, _, _ = invoke(tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.strip() == "compare: error: no C binary: pass --c-bin PATH or set NB_C_BIN"


def test_failing_runner_exits_2(tmp_path, monkeypatch):
    ok = fake_simulator(tmp_path, "ok.py", "np.ones(16, '<f4').tofile('floatimage.bin')")
    broken = fake_simulator(tmp_path, "broken.py", "print('cannot read cubic.hkl'); sys.exit(9)")
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", broken, "--py-cmd", ok)
    assert result.exit_code == 2
    assert summary["c"]["exit_code"] == 9 and "cannot read cubic.hkl" in summary["error"]
    assert (out / "c_stdout.txt").read_text().strip() == "cannot read cubic.hkl"
    assert "Traceback" not in result.output


def test_missing_output_exits_2(tmp_path, monkeypatch):
    silent = fake_simulator(tmp_path, "silent.py", "pass")
    result, _, summary = invoke(tmp_path, monkeypatch, "--c-bin", silent, "--py-cmd", silent)
    assert result.exit_code == 2
    assert "float image unreadable" in summary["error"]


def test_fake_simulators_roi_threshold_and_nonsquare_shape(tmp_path, monkeypatch):
    body = """
        img = np.arange(6 * 10, dtype='<f4').reshape(6, 10)
        {change}
        img.tofile(args[args.index('-floatfile') + 1]); smv('ints.img', 6, 10)
    """
    c = fake_simulator(tmp_path, "c.py", body.format(change=""))
    py = fake_simulator(tmp_path, "py.py", body.format(change="img[0, 0] = 5"))
    args = ["-floatfile", "f.bin", "-intfile", "ints.img"]
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c, "--py-cmd", py, args=args)
    assert result.exit_code == 3 and summary["shape_c"] == [6, 10]
    assert summary["metrics"]["max_abs_diff"] == 5.0
    assert read_png(out / "diff.png")[:6, :10].shape == (6, 10, 3)
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c, "--py-cmd", py, "--roi", "1", "9", "0", "5",
                                  args=args)
    assert result.exit_code == 0 and summary["metrics"]["n_pixels"] == 9 * 6
    assert read_png(out / "c.png").shape == (6, 9)
    result, _, summary = invoke(tmp_path, monkeypatch, "--c-bin", c, "--py-cmd", py, "--threshold", "5.5",
                                args=args)
    assert result.exit_code == 0 and summary["metrics"]["n_pixels"] == 60 - 6


def test_inputs_are_copied_into_each_run_folder(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "my.hkl").write_text("0 0 0 100\n")
    (tmp_path / "Fdump.bin").write_bytes(b"cache")
    sim = fake_simulator(tmp_path, "sim.py", """
        assert open('data/my.hkl').read() == '0 0 0 100\\n' and open('Fdump.bin').read() == 'cache'
        np.ones(16, '<f4').tofile('floatimage.bin')
    """)
    result, _, summary = invoke(tmp_path, monkeypatch, "--c-bin", sim, "--py-cmd", sim, args=["-hkl", "data/my.hkl"])
    assert result.exit_code == 0, result.output
    assert summary["shape_c"] == [4, 4]  # no SMV image: square fallback


def test_lone_h_is_help_and_a_flag_starting_with_h_is_an_argument(tmp_path, monkeypatch):
    """`-h` alone asks for the help (before `--`); `-hkl` without `--` is nanoBragg's flag, not `-h`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.hkl").write_text("0 0 0 100\n")
    sim = fake_simulator(tmp_path, "sim.py", "np.ones(16, '<f4').tofile('floatimage.bin')")
    options = ["--c-bin", sim, "--py-cmd", sim, "--outdir", "out"]
    help_run = CliRunner().invoke(compare_cmd, options + ["-h"])
    assert help_run.exit_code == 0 and help_run.output.startswith("Usage: ") and not (tmp_path / "out").exists()
    result = CliRunner().invoke(compare_cmd, options + ["-hkl", "my.hkl", "-N", "5"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["args"] == "-hkl my.hkl -N 5"


# ---------------------------------------------------------------- helpers


def test_argument_helpers(tmp_path):
    args = ["-hkl", "a.hkl", "-floatfile", "x.bin", "-floatimage", "y.bin", "-mat", "gone.mat", "-N", "5"]
    assert flag_value(args, ("-floatfile", "-floatimage"), "floatimage.bin") == "y.bin"
    assert flag_value(args, ("-intfile",), "intimage.img") == "intimage.img"
    (tmp_path / "a.hkl").write_text("")
    assert input_files(args, str(tmp_path)) == ["a.hkl"]
    dest = tmp_path / "run"
    dest.mkdir()
    copy_inputs(["a.hkl"], str(tmp_path), str(dest))
    assert (dest / "a.hkl").exists()


def test_smv_shape(tmp_path):
    path = tmp_path / "i.img"
    path.write_bytes(b"{\nHEADER_BYTES=512;\nDIM=2;\nSIZE1=40;\nSIZE2=160;\n}".ljust(512) + bytes(2 * 40 * 160))
    assert smv_shape(path) == (160, 40)
    assert smv_shape(tmp_path / "absent.img") is None


def test_metrics_and_selection():
    c = np.arange(12, dtype=np.float32).reshape(3, 4)
    py = c.copy()
    py[2, 3] += np.float32(0.5)
    mask = selection(c.shape)
    m = image_metrics(c, py, mask)
    assert m["max_abs_diff"] == 0.5 and m["max_rel_diff"] == pytest.approx(0.5 / 11)
    assert m["bit_identical_fraction"] == pytest.approx(11 / 12)
    assert m["sum_ratio_py_over_c"] == pytest.approx(66.5 / 66) and not passes(m)
    assert passes(image_metrics(c, c.copy(), mask))
    assert selection(c.shape, roi=(1, 2, 0, 1)).sum() == 4
    assert selection(c.shape, threshold=9.5, c=c, py=py).sum() == 2
    bad = py.copy()
    bad[0, 0] = np.nan
    assert not passes(image_metrics(c, bad, mask))
    assert correlation(np.ones(4), np.ones(4)) == 1.0 and correlation(np.ones(4), np.arange(4.0)) == 0.0


def test_picture_scales():
    img = np.array([[0, 1e-3, 1, 1000]], np.float32)
    g = gray(img, 1000.0)
    assert g[0, 0] == 0 and g[0, -1] == 255 and list(g[0]) == sorted(g[0])
    rgb, scale = diff_rgb(np.zeros((1, 3)), np.array([[-2.0, 0.0, 2.0]]), 0.0)
    assert scale == 2.0
    assert tuple(rgb[0, 1]) == (255, 255, 255)
    assert tuple(rgb[0, 0]) == (59, 76, 192) and tuple(rgb[0, 2]) == (180, 4, 38)  # full blue, full red
    # the log scale: the floor and below at the palest strength, a decade = an equal step, top = 1
    assert list(strength(np.array([1e-20, LOG_FLOOR, 1e-12, 1e-8]), 1e-8)) == pytest.approx([0.25, 0.25, 0.625, 1.0])


def test_colour_bar_gives_the_absolute_and_relative_scale():
    """A 1e-13 difference on an image whose maximum is 150 is labelled as such."""
    assert legend_lines(1.25e-13, 150.0, 0) == (("-1.25e-13", "0", "+1.25e-13"),
                                               ["abs: max|py-c| = 1.25e-13", "rel: max|py-c|/max|c| = 8.33e-16",
                                                "log: palest at |py-c| <= 1.5e-14"])
    assert legend_lines(0.0, 150.0, 2) == (("", "0", ""), ["identical: max|py-c| = 0", "black: 2 not finite"])
    c = np.full((20, 30), 150, np.float32)
    py = c.copy()
    py[5, 5] += np.float32(1e-4)
    rgb, scale = diff_rgb(c, py, 150.0)
    picture = with_colour_bar(rgb, scale, 150.0)
    assert (picture[:20, :30] == rgb).all()  # the map, pixel for pixel, at the top left
    assert picture.shape[1] > 200 and picture.shape[0] > 20 + 3 * 9
    bar = picture[25]  # a row through the colour bar: blue at the left end, red at the right
    left, right = bar[4], bar[4 + 36 * 6 - 1]
    assert left[2] > left[0] and right[0] > right[2]
    middle = bar[4:4 + 36 * 6][36 * 3 - 1:36 * 3 + 2]  # white (equal) only in the middle column
    assert (middle != 255).any(axis=-1).tolist() == [True, False, True]
    legend = picture[21:]
    assert (legend == 0).all(axis=-1).sum() > 100  # black text drawn


def test_diff_png_marks_every_differing_pixel_however_small(tmp_path, monkeypatch):
    """Pixels 1.2e-12 (relative to max|c|) apart in half the image, and 1e-2 apart in five: every
    one of them is coloured in diff.png, the equal pixels are white, and the colour bar keeps its
    absolute and relative scales."""
    body = """
        img = np.ones((40, 50), '<f4'); img[1, 0] = 1e5
        {change}
        img.tofile('floatimage.bin'); smv('intimage.img', 40, 50)
    """
    change = """
        img[::2] = np.nextafter(np.float32(1), np.float32(2))   # + 1.19e-7 = 1.19e-12 max|c|
        img[20, 10:15] += 1e3
    """
    c = fake_simulator(tmp_path, "c.py", body.format(change=""))
    py = fake_simulator(tmp_path, "py.py", body.format(change=change))
    result, out, summary = invoke(tmp_path, monkeypatch, "--c-bin", c, "--py-cmd", py, args=[])
    assert result.exit_code == 3, result.output
    differs = np.zeros((40, 50), bool)
    differs[::2] = True
    differs[20, 10:15] = True
    assert summary["metrics"]["bit_identical_fraction"] == pytest.approx(1 - differs.mean())
    picture = read_png(out / "diff.png")
    pixels = picture[:40, :50]
    white = (pixels == 255).all(axis=-1)
    assert not white[differs].any() and white[~differs].all()
    red = pixels[differs]
    assert (red[:, 0] > red[:, 2]).all()                                    # the port above the C: red
    assert (pixels[20, 10:15] == (180, 4, 38)).all()                        # the largest: full red
    assert pixels[0, 0].tolist() == [220, 137, 153]   # 1.19e-12: 4.1 of the 14 decades above the palest
    assert summary["png"]["diff_abs_max"] == 1e3 and summary["png"]["diff_rel_max"] == 1e-2


def test_png_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    gray_img = rng.integers(0, 256, (7, 5), dtype=np.uint8)
    rgb_img = rng.integers(0, 256, (3, 9, 3), dtype=np.uint8)
    write_png(tmp_path / "g.png", gray_img)
    write_png(tmp_path / "c.png", rgb_img)
    assert np.array_equal(read_png(tmp_path / "g.png"), gray_img)
    assert np.array_equal(read_png(tmp_path / "c.png"), rgb_img)
    assert encode_png(gray_img).startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError):
        encode_png(gray_img.astype(np.float32))


def test_compare_through_the_nbnumba_command(tmp_path):
    env = dict(os.environ, NB_C_BIN=port_wrapper(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "nbnumba", "compare", "--outdir", "out", "--", *TINY_CASE],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["pass"] is True
