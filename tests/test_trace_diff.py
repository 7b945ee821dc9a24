"""Trace parsing (nbnumba.tools.tracelog) and `nbnumba trace-diff` on the reference C traces."""
import gzip
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from golden import run_case
from nbnumba.tools.trace_align import diff_traces
from nbnumba.tools.trace_diff import trace_diff_cmd
from nbnumba.tracefmt import c_d
from nbnumba.tools.tracelog import detect_prefix, first_values, parse_trace, read_trace

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden"
CASES = ["cubic_defaultF", "phi_sweep_carryover", "xds_close_rot", "sourcefile"]
LAYOUTS = ROOT / "tests" / "data" / "trace_layouts"
DETECTOR_BLOCK = ["fdet_after_rotz", "sdet_after_rotz", "odet_after_rotz", "twotheta_axis",
                  "fdet_after_twotheta", "sdet_after_twotheta", "odet_after_twotheta"]


def reference(case):
    """The C trace of a golden case (the instrumented serial reference)."""
    return GOLDEN / case / "trace.log"


def ref_text(case):
    return reference(case).read_text()


def as_py(text):
    """The port's version of a C trace: TRACE_C -> TRACE_PY on every trace line."""
    return re.sub(r"^TRACE_C(?=[_: ])", "TRACE_PY", text, flags=re.M)


def set_value(text, prefix_label, new_value, which=0):
    """Replace the number of the `which`-th single-number line starting with prefix_label."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.startswith(prefix_label + " ")]
    lines[hits[which]] = f"{prefix_label} {new_value!r}"
    return "\n".join(lines) + "\n"


def value_of(text, prefix_label):
    line = next(l for l in text.splitlines() if l.startswith(prefix_label + " "))
    return float(line.split()[-1])


def run(tmp_path, c_text, py_text, *extra):
    c_log, py_log = tmp_path / "c.log", tmp_path / "py.log"
    c_log.write_text(c_text)
    py_log.write_text(py_text)
    return CliRunner().invoke(trace_diff_cmd, [str(c_log), str(py_log), *extra])


def metrics(out_dir):
    return json.loads((out_dir / "metrics.json").read_text())


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("case", CASES)
def test_reference_traces_parse_with_either_prefix(case):
    c = read_trace(reference(case))
    py = parse_trace(as_py(ref_text(case)))
    assert c and [r.prefix for r in c] == ["TRACE_C"] * len(c)
    assert [r.prefix for r in py] == ["TRACE_PY"] * len(py)
    assert [(r.key, r.values, r.occurrence) for r in c] == [(r.key, r.values, r.occurrence) for r in py]


def test_record_fields():
    recs = first_values(read_trace(reference("phi_sweep_carryover")))
    assert recs["fdet_after_rotz"] == (0.0, 0.0, 1.0)
    assert recs["Rx"] == (1.0, 0.0, 0.0, 0.0, 1.0, -0.0, 0.0, 0.0, 1.0)
    assert recs["F_cell"] == (300.0,)
    assert recs["steps"] == (40.0,)
    assert [k for k in recs if k.startswith("PHI:")] == [f"PHI:phi_tic={i}" for i in range(10)]
    assert recs["PHI:phi_tic=3"][:2] == (3.0, 0.3)
    assert recs["detector_convention"] == ()


def test_named_components_text_and_sources():
    records = read_trace(reference("sourcefile"))
    first = {r.key: r for r in records if r.occurrence == 0}
    angles = first["angles_rad"]
    assert angles.names == ("rotx", "roty", "rotz", "twotheta")
    assert first["detector_convention"].skeleton == "MOSFLM"
    assert first["PHI:phi_tic=0"].names == ("phi_tic", "phi_deg", "k_frac", "F_latt_b", "F_latt")
    source = first["SOURCE2:F_cell"]
    assert (source.channel, source.label, source.source, source.values) == ("SOURCE2", "F_cell", 2, (300.0,))
    pixel_blocks = [r for r in records if r.key == "pixel_pos_meters"]
    assert [r.occurrence for r in pixel_blocks] == list(range(len(pixel_blocks))) and len(pixel_blocks) > 1


def test_parser_skips_non_trace_lines_and_reads_special_numbers():
    text = "\n".join([
        "pivoting detector around direct beam spot",
        "TRACE: Before misset rotation:",
        "TRACE_CONFIG: tracing pixel (spixel=1, fpixel=2)",
        "DETECTOR_FAST_AXIS 0 0 1",
        "",
        "TRACE_PY: F_cell 100",
        "TRACE_PY: I_pixel_final -nan",
        "TRACE_PY: polar inf",
        "TRACE_PY:pix0_vector=1e-3 -0 2.5E+2",
        "\udcff garbage",
        "TRACE_PY: F_cell 101",
    ])
    assert detect_prefix(text) == "TRACE_PY"
    records = parse_trace(text)
    assert [r.key for r in records] == ["F_cell", "I_pixel_final", "polar", "pix0_vector", "F_cell"]
    assert math.isnan(records[1].values[0]) and records[2].values == (math.inf,)
    assert records[3].values == (1e-3, -0.0, 250.0)
    assert [r.occurrence for r in records] == [0, 0, 0, 0, 1]
    assert [r.lineno for r in records] == [6, 7, 8, 9, 11]
    assert parse_trace(text, prefix="TRACE_C") == []


# ---------------------------------------------------------------- trace-diff


@pytest.mark.parametrize("case", CASES)
def test_reference_against_itself_passes(tmp_path, case):
    result = run(tmp_path, ref_text(case), as_py(ref_text(case)), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    m = metrics(tmp_path / "out")
    assert m["first_divergence"] is None
    assert m["num_divergent"] == 0 and m["num_compared"] == len(read_trace(reference(case)))
    assert m["only_in_c"] == m["only_in_py"] == {"labels": {}, "extra_occurrences": {}, "lines": []}
    assert "result: PASS" in result.output


def test_planted_divergence_names_first_label_in_pipeline_order(tmp_path):
    c_text = ref_text("cubic_defaultF")
    f_cell = value_of(c_text, "TRACE_C: F_cell")
    final = value_of(c_text, "TRACE_C: I_pixel_final")
    py = set_value(as_py(c_text), "TRACE_PY: I_pixel_final", final * 1.5)
    py = set_value(py, "TRACE_PY: F_cell", f_cell * (1 + 1e-3))
    out = tmp_path / "out"
    result = run(tmp_path, c_text, py, "--out", str(out))
    assert result.exit_code == 3, result.output
    m = metrics(out)
    first = m["first_divergence"]
    assert first["label"] == "F_cell" and first["component"] == "[0]"
    assert first["c"] == f_cell and first["rel"] == pytest.approx(1e-3, rel=1e-6)
    assert first["abs"] == pytest.approx(f_cell * 1e-3, rel=1e-6)
    assert m["num_divergent"] == 2 and [d["label"] for d in m["divergent"]] == ["F_cell", "I_pixel_final"]
    assert m["labels"]["I_pixel_final"]["status"] == "divergent"
    assert m["labels"]["F_cell"]["order"] < m["labels"]["I_pixel_final"]["order"]
    assert m["scaling"]["F_cell"]["ratio"] == pytest.approx(1 + 1e-3)
    assert "first divergence: F_cell" in result.output and "DIVERGES 1/1" in result.output


def test_a_line_out_of_order_is_not_paired(tmp_path):
    """Records pair in the order of both logs: a line the port prints elsewhere is reported as
    one-sided on both sides, not compared with a record further on."""
    c_text = ref_text("cubic_defaultF")
    lines = as_py(c_text).splitlines()
    moved = next(l for l in lines if l.startswith("TRACE_PY: I_pixel_final"))
    py = "\n".join([moved] + [l for l in lines if l != moved]) + "\n"
    out = tmp_path / "out"
    result = run(tmp_path, c_text, py, "--out", str(out))
    assert result.exit_code == 0, result.output
    m = metrics(out)
    assert m["only_in_c"]["extra_occurrences"] == m["only_in_py"]["extra_occurrences"] == {"I_pixel_final": 1}
    assert m["only_in_py"]["lines"] == [1] and "I_pixel_final" not in m["labels"]
    assert "only in C (extra occurrences" in result.output


def test_within_tolerance_and_custom_tolerance(tmp_path):
    c_text = ref_text("cubic_defaultF")
    py = set_value(as_py(c_text), "TRACE_PY: F_cell", value_of(c_text, "TRACE_C: F_cell") * (1 + 1e-8))
    assert run(tmp_path, c_text, py).exit_code == 0
    assert run(tmp_path, c_text, py, "--tolerance", "1e-9").exit_code == 3


def test_per_phi_divergence_is_keyed_by_phi_tic(tmp_path):
    c_text = ref_text("phi_sweep_carryover")
    py = as_py(c_text).replace("TRACE_PY_PHI phi_tic=3 phi_deg=0.3 k_frac=-0.024999623018937",
                               "TRACE_PY_PHI phi_tic=3 phi_deg=0.3 k_frac=-0.03")
    out = tmp_path / "out"
    assert run(tmp_path, c_text, py, "--out", str(out)).exit_code == 3
    first = metrics(out)["first_divergence"]
    assert first["label"] == "PHI:phi_tic=3" and first["component"] == "k_frac"


def test_labels_only_one_log_prints_are_reported_apart(tmp_path):
    c_text = ref_text("cubic_defaultF")
    py = "\n".join(l for l in as_py(c_text).splitlines() if not l.startswith("TRACE_PY: polar "))
    py += "\nTRACE_PY: port_only_label 1\nTRACE_PY: port_only_label 2\n"
    out = tmp_path / "out"
    result = run(tmp_path, c_text, py, "--out", str(out))
    # values are judged where both logs have the label: the one-sided labels are listed, not failed
    assert result.exit_code == 0, result.output
    m = metrics(out)
    assert m["only_in_c"]["labels"] == {"polar": 1} and m["only_in_c"]["extra_occurrences"] == {}
    assert m["only_in_py"]["labels"] == {"port_only_label": 2}
    assert m["first_divergence"] is None and "polar" not in m["labels"]
    assert "only in C (labels the PY log does not print): polar" in result.output
    assert "only in PY (labels the C log does not print): port_only_label (x2)" in result.output
    assert "result: PASS" in result.output


def test_logs_with_no_label_in_common_fail(tmp_path):
    result = run(tmp_path, "TRACE_C: F_cell 1\n", "TRACE_PY: F_latt 1\n")
    assert result.exit_code == 3
    assert "first divergence: none compared: the logs share no label" in result.output


def test_text_and_count_mismatches_diverge(tmp_path):
    c_text = ref_text("xds_close_rot")
    py = as_py(c_text).replace("detector_convention=XDS", "detector_convention=MOSFLM")
    out = tmp_path / "out"
    assert run(tmp_path, c_text, py, "--out", str(out)).exit_code == 3
    first = metrics(out)["first_divergence"]
    assert (first["label"], first["component"], first["c"], first["py"]) == \
        ("detector_convention", "text", "XDS", "MOSFLM")
    py = as_py(c_text).replace("TRACE_PY: hkl_rounded 6 -1 0", "TRACE_PY: hkl_rounded 6 -1")
    assert run(tmp_path, c_text, py, "--out", str(out)).exit_code == 3
    first = metrics(out)["first_divergence"]
    assert (first["label"], first["component"], first["c"], first["py"]) == ("hkl_rounded", "count", 3, 2)


def test_later_blocks_are_compared(tmp_path):
    c_text = ref_text("sourcefile")
    lines = as_py(c_text).splitlines()
    second = [i for i, l in enumerate(lines) if l.startswith("TRACE_PY: pixel_pos_meters")][1]
    lines[second] = "TRACE_PY: pixel_pos_meters 0.2 0.2 0.2"
    out = tmp_path / "out"
    assert run(tmp_path, c_text, "\n".join(lines) + "\n", "--out", str(out)).exit_code == 3
    first = metrics(out)["first_divergence"]
    assert first["label"] == "pixel_pos_meters#2" and first["key"] == "pixel_pos_meters"
    assert first["py_line"] == second + 1
    assert metrics(out)["labels"]["pixel_pos_meters"]["divergent"] == 1


def test_source_channel_is_compared(tmp_path):
    c_text = ref_text("sourcefile")
    py = as_py(c_text).replace("TRACE_PY_SOURCE2: lambda_angstroms 1.01", "TRACE_PY_SOURCE2: lambda_angstroms 1.02", 1)
    out = tmp_path / "out"
    assert run(tmp_path, c_text, py, "--out", str(out)).exit_code == 3
    assert metrics(out)["first_divergence"]["label"] == "SOURCE2:lambda_angstroms"


@pytest.mark.parametrize("bad", ["missing", "empty", "no_trace_lines", "directory", "binary"])
def test_unreadable_or_empty_input_exits_2(tmp_path, bad):
    good = tmp_path / "good.log"
    good.write_text(ref_text("cubic_defaultF"))
    path = tmp_path / "bad.log"
    if bad == "empty":
        path.write_text("")
    elif bad == "no_trace_lines":
        path.write_text("max_I = 154.652\nmean= 20.2467\n")
    elif bad == "directory":
        path.mkdir()
    elif bad == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    for args in ([str(good), str(path)], [str(path), str(good)]):
        result = CliRunner().invoke(trace_diff_cmd, args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("trace-diff: error:")
        assert "Traceback" not in result.output


def test_output_files(tmp_path):
    c_text = ref_text("cubic_defaultF")
    py = set_value(as_py(c_text), "TRACE_PY: omega_pixel", 2e-6)
    out = tmp_path / "deep" / "out"
    result = run(tmp_path, c_text, py, "--out", str(out), "--c-cmd", "nb -default_F 100 -trace_pixel 64 64",
                 "--py-cmd", "nbnumba -default_F 100 -trace_pixel 64 64")
    assert result.exit_code == 3
    m = metrics(out)
    assert set(m) >= {"tolerance", "first_divergence", "num_divergent", "only_in_c", "only_in_py",
                      "labels", "scaling", "divergent"}
    assert m["tolerance"] == 1e-6
    assert set(m["first_divergence"]) >= {"label", "component", "c", "py", "abs", "rel"}
    assert m["first_divergence"]["label"] == "omega_pixel"
    assert list(m["labels"])[:2] == ["fdet_after_rotz", "sdet_after_rotz"]
    entry = m["labels"]["omega_pixel"]["worst"]
    assert entry["components"][0]["c"] == pytest.approx(9.99999250000469e-07) and entry["components"][0]["py"] == 2e-6
    assert m["scaling"]["omega_pixel"]["ratio"] == pytest.approx(2e-6 / 9.99999250000469e-07)

    summary = (out / "summary.md").read_text()
    assert summary.startswith("# Trace diff")
    assert "| # | label | n | status | component | C | PY | abs | rel |" in summary
    assert "| omega_pixel | 1 | DIVERGES 1/1 | [0] |" in summary
    assert "first divergence: omega_pixel" in summary

    meta = json.loads((out / "run_metadata.json").read_text())
    assert set(meta) >= {"python", "numpy", "numba", "platform", "device", "c_cmd", "py_cmd"}
    assert meta["python"] == sys.version.split()[0]
    assert meta["device"] == "cpu" or meta["device"].startswith("cuda")
    assert meta["c_cmd"] == "nb -default_F 100 -trace_pixel 64 64"
    assert meta["py_cmd"].startswith("nbnumba")


def test_diff_traces_api():
    c = read_trace(reference("cubic_defaultF"))
    diff = diff_traces(c, parse_trace(as_py(ref_text("cubic_defaultF"))))
    assert diff.exit_code == 0 and diff.first_divergence is None
    assert [d.key for d in diff.labels][:3] == ["fdet_after_rotz", "sdet_after_rotz", "odet_after_rotz"]


def test_trace_diff_through_the_nbnumba_command(tmp_path):
    c_log, py_log = tmp_path / "c.log", tmp_path / "py.log"
    c_log.write_text(ref_text("cubic_defaultF"))
    py_log.write_text(as_py(ref_text("cubic_defaultF")))
    proc = subprocess.run([sys.executable, "-m", "nbnumba", "trace-diff", str(c_log), str(py_log)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "result: PASS" in proc.stdout


# ---------------------------------------------------------------- the instrumented C's two layouts


def layout_cases():
    return json.loads((LAYOUTS / "cases.json").read_text())


@pytest.fixture(scope="module")
def port_traces(tmp_path_factory):
    """{case: (float image bytes, TRACE_PY log)} of nbnumba on every case of trace_layouts/."""
    out = {}
    for case in layout_cases():
        folder = tmp_path_factory.mktemp(case["name"])
        run = run_case(case, folder, ["-trace_pixel", *case["trace_pixel_slow_fast"]], inputs=LAYOUTS)
        assert run.rc == 0, run.output
        out[case["name"]] = (run.files["floatimage.bin"], run.stdout)
    return out


def c_layout(case, layout):
    return (LAYOUTS / f"{case}.{layout}.log").read_text()


@pytest.mark.parametrize("layout", ["once", "twice"])
@pytest.mark.parametrize("case", ["beam_rotx_twotheta", "xds_sample_pivot", "nan_index"])
def test_bit_identical_runs_pass_with_either_layout(tmp_path, port_traces, case, layout):
    image, py = port_traces[case]
    with gzip.open(LAYOUTS / f"{case}.floatimage.bin.gz") as fh:
        assert image == fh.read()  # the same image, byte for byte (NaN included)
    out = tmp_path / "out"
    result = run(tmp_path, c_layout(case, layout), py, "--out", str(out))
    assert result.exit_code == 0, result.output
    m = metrics(out)
    assert m["num_divergent"] == 0 and m["only_in_c"]["lines"] == []
    if layout == "twice":  # nbnumba prints this layout
        assert m["only_in_py"]["lines"] == []
        assert m["num_compared"] == len(parse_trace(py))


def test_once_layout_pairs_the_detector_block_with_the_later_one(tmp_path, port_traces):
    _, py = port_traces["beam_rotx_twotheta"]
    diff = diff_traces(parse_trace(c_layout("beam_rotx_twotheta", "once")), parse_trace(py))
    assert diff.exit_code == 0
    assert diff.only_in_py.extra == {label: 1 for label in DETECTOR_BLOCK}
    assert diff.only_in_py.labels == {f"PHI:phi_tic={i}": 4 for i in range(3)}
    block = [p for p in diff.pairs if p.c.key in DETECTOR_BLOCK]
    assert [p.py.occurrence for p in block] == [1] * 7  # the port's second block, after all rotations
    assert block[0].c.values == block[0].py.values == (-0.0151344359013386, -0.0858316511774313, 0.996194698091746)


@pytest.mark.parametrize("layout, name", [("once", "fdet_after_twotheta"), ("twice", "fdet_after_twotheta#2")])
def test_planted_divergence_is_named_first_in_either_layout(tmp_path, port_traces, layout, name):
    _, py = port_traces["beam_rotx_twotheta"]
    lines = py.splitlines()
    block = [i for i, l in enumerate(lines) if l.startswith("TRACE_PY:fdet_after_twotheta=")][1]
    lines[block] = "TRACE_PY:fdet_after_twotheta=-0.0151 -0.0858316511774313 0.996194698091746"
    late = [i for i, l in enumerate(lines) if l.startswith("TRACE_PY: F_cell ")][2]
    lines[late] = "TRACE_PY: F_cell 101"
    out = tmp_path / "out"
    result = run(tmp_path, c_layout("beam_rotx_twotheta", layout), "\n".join(lines) + "\n", "--out", str(out))
    assert result.exit_code == 3, result.output
    m = metrics(out)
    first = m["first_divergence"]
    assert (first["label"], first["component"], first["py_line"]) == (name, "[0]", block + 1)
    assert first["rel"] == pytest.approx((0.0151344359013386 - 0.0151) / 0.996194698091746, rel=1e-9)
    assert [d["label"] for d in m["divergent"]] == [name, "F_cell#3"]
    assert f"first divergence: {name} (component [0])" in result.output


def test_rounded_indices_print_as_the_c_int(port_traces):
    """h0 = (int) ceil(h - 0.5) of a NaN is INT_MIN in the C, not the 64-bit minimum."""
    _, py = port_traces["nan_index"]
    c = c_layout("nan_index", "twice")
    assert "TRACE_C: hkl_rounded -2147483648 -2147483648 -2147483648" in c.splitlines()
    assert py.count("TRACE_PY: hkl_rounded -2147483648 -2147483648 -2147483648\n") == 4
    assert "TRACE_PY: hkl_frac -nan -nan -nan\n" in py  # glibc keeps the NaN's sign
    # the whole trace is the C's, text for text
    assert [l for l in py.splitlines() if l.startswith("TRACE_PY") and not l.startswith("TRACE_PY_CONFIG")] == \
        [l for l in as_py(c).splitlines() if l.startswith("TRACE_PY")]


def test_c_int_text():
    assert c_d(float("nan")) == c_d(-9.223372036854776e18) == c_d(3e9) == c_d(float("inf")) == "-2147483648"
    assert (c_d(-1.0), c_d(np.float64(2147483647.0)), c_d(np.int64(7))) == ("-1", "2147483647", "7")
    assert (c_d(2 ** 32 + 5), c_d(2 ** 31)) == ("5", "-2147483648")  # an int keeps its low 32 bits
