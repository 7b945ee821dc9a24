"""Golden parity: every case of tests/data/golden run through `python -m nbnumba`.

Per case:
- test_golden_case: every file the reference wrote, the stdout summary lines and the exit code,
  judged by the README's rules (tests/golden.py; float image within 1e-6 of max|ref|);
- test_float_image_bit_identical: the float image is bit-for-bit the reference's, the project's
  aim; kept apart so that a drift that is still inside the README's tolerance fails loudly here
  while test_golden_case keeps reporting the README's rule on its own;
- test_whole_stdout: every line the reference printed, in order, beyond the README's summary
  lines (the reference's stdout.txt has its progress lines removed; the port's added line
  naming the kernel is removed likewise);
- test_trace_parity (cases with a trace.log): the run again with `-trace_pixel S F` at the
  manifest's pixel; every TRACE_C label must have its TRACE_PY line, numbers within 1e-6.

The first three share one run per case (session cache below).
"""
import numpy as np
import pytest

import golden
from golden import describe, manifest, reference_file, reference_stdout, reference_trace, run_case

CASES = golden.case_names()
TRACED = golden.traced_case_names()


def test_all_golden_cases_are_here():
    # the copy of the golden suite is complete: 49 cases, each with its manifest and outputs
    assert len(CASES) == 49
    for name in CASES:
        m = manifest(name)
        assert m["name"] == name
        for filename in m["outputs"]:
            assert (golden.GOLDEN / name / (filename + ".gz")).exists(), (name, filename)
        for filename in m["inputs"]:
            assert (golden.INPUTS / filename).exists(), (name, filename)


@pytest.fixture(scope="session")
def golden_run(tmp_path_factory):
    """golden_run(name) -> golden.Run of the case, run once per session."""
    runs = {}

    def get(name):
        if name not in runs:
            runs[name] = run_case(name, tmp_path_factory.mktemp(name))
        return runs[name]

    return get


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_golden_case(name, golden_run):
    run = golden_run(name)
    m = manifest(name)
    problems = [f"exit code: {p}" for p in golden.check_exit_code(name, run.rc)]
    if m["exit_code"] == 0:
        problems += golden.check_stdout(reference_stdout(name), run.output)
    for filename in m["outputs"]:
        problems += [f"{filename}: {p}" for p in golden.check_output_file(name, filename, run.files.get(filename))]
    assert not problems, describe(problems, run)


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_float_image_bit_identical(name, golden_run):
    run = golden_run(name)
    filename = manifest(name)["float_file"]
    assert filename in run.files, describe([f"{filename} not written"], run)
    ref = golden.float_image(reference_file(name, filename))
    got = golden.float_image(run.files[filename])
    assert got.shape == ref.shape, f"{got.size} floats, reference has {ref.size}"
    # compare the bit patterns (-0.0 != 0.0, NaN == NaN of the same payload)
    same = ref.view("<u4") == got.view("<u4")
    if not np.all(same):
        idx = int(np.flatnonzero(~same)[0])
        fpixels = manifest(name)["shape_slow_fast"][1]
        pytest.fail(f"{int(np.sum(~same))} of {ref.size} pixels differ in their bits; first at "
                    f"(slow, fast) = {divmod(idx, fpixels)}: port {got[idx]!r}, reference {ref[idx]!r}")
    assert np.array_equal(got, ref)


def _printed_lines(text):
    return [line for line in text.splitlines() if not line.endswith("% done")]


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_whole_stdout(name, golden_run):
    run = golden_run(name)
    want = _printed_lines(reference_stdout(name))
    got = _printed_lines(run.stdout)
    for i, (w, g) in enumerate(zip(want, got)):
        assert g == w, f"stdout line {i + 1}: port {g!r}, reference {w!r}"
    assert len(got) == len(want), f"port printed {len(got)} lines, reference {len(want)}"


@pytest.mark.parametrize("name", TRACED, ids=TRACED)
def test_trace_parity(name, tmp_path):
    slow, fast = manifest(name)["trace_pixel_slow_fast"]
    run = run_case(name, tmp_path, ["-trace_pixel", slow, fast])
    problems = [f"exit code: {p}" for p in golden.check_exit_code(name, run.rc)]
    problems += golden.check_trace(reference_trace(name), run.output)
    assert not problems, describe(problems, run)
