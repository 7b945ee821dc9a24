"""The Python API: nbnumba.Simulation from typed keywords or an argument list, checked keywords,
a Result with every image the C writes (against the golden files), warnings as Python
warnings, bad input as an exception, nothing read or written behind the caller's back."""
import hashlib
import os
import shlex
import subprocess
import sys
import threading

import numpy as np
import pytest

import golden
import nbnumba
from golden import CPU
from oddenv import OUTPUTS, SMALL, SMALL_SHA256, nbnumba as command
from nbnumba import NBError, NBWarning, Simulation

CASE = "cubic_defaultF"          # -default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 ... -seed 11
NOISY = "noise_autoscale_pgm"    # -hkl cubic.hkl ... -seed 777 -pgmscale 2.5: every image, seeded noise


def reference_image(case=CASE):
    m = golden.manifest(case)
    return golden.float_image(golden.reference_file(case, m["float_file"])).reshape(m["shape_slow_fast"])


def case_args(case=CASE):
    return shlex.split(next(c["args"] for c in golden.cases() if c["name"] == case))


def assert_bit_identical(image, ref):
    assert isinstance(image, np.ndarray) and image.dtype == np.float32
    assert image.shape == ref.shape
    assert np.array_equal(image.view(np.uint32), ref.view(np.uint32))



def test_import_is_light_and_names_the_api():
    code = "import sys, nbnumba; print('numba' in sys.modules, sorted(nbnumba.__all__))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.split(" ", 1)[0] == "False"
    assert nbnumba.Simulation is Simulation and issubclass(NBError, ValueError)


def test_from_args_list_or_string_gives_the_golden_image_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv in (case_args(), " ".join(case_args())):
        result = Simulation.from_args(argv, settings=CPU).run()
        assert_bit_identical(result.image, reference_image())
    assert list(tmp_path.iterdir()) == []


def test_typed_keywords_give_the_same_image(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = Simulation(default_F=100, cell=(100, 100, 100, 90, 90, 90), lambda_=6.2, N=5, distance=100,
                        detpixels=128, pixel=0.1, seed=11, misset=None, nonoise=False, settings=CPU).run()
    assert_bit_identical(result.image, reference_image())
    assert result.noiseimage is not None           # nonoise=False means noise, not "-nonoise False"
    assert list(tmp_path.iterdir()) == []


def test_booleans_mean_what_they_say():
    base = dict(default_F=100, cell=(100, 100, 100, 90, 90, 90), N=5, detpixels=16, seed=1)
    assert Simulation(nonoise=True, **base, settings=CPU).run().noiseimage is None
    assert Simulation(nopgm=True, **base, settings=CPU).run().pgm is None
    on = Simulation(nonoise=False, nopgm=False, **base, settings=CPU).run()
    assert on.noiseimage is not None and on.pgm is not None


@pytest.mark.parametrize("params, words", [
    (dict(detpixel=16), ["'detpixel'", "-detpixel"]),                # misspelt: named, not ignored
    (dict(nonoise="yes"), ["nonoise"]),                              # a switch takes True/False
    (dict(detpixels=(16, 16)), ["detpixels", "1 value"]),            # one value, not two
    (dict(cell=True), ["cell"]),
    (dict(misset=(1, 2)), ["misset", "1 or 3"]),
])
def test_bad_keywords_raise_type_error_naming_them(params, words):
    with pytest.raises(TypeError) as err:
        Simulation(default_F=100, cell=(100, 100, 100, 90, 90, 90), **params) if "cell" not in params \
            else Simulation(default_F=100, **params)
    for word in words:
        assert word in str(err.value)


def test_result_holds_every_image_the_c_writes(tmp_path, monkeypatch):
    """The int, PGM and noise images of a seeded case, against the files the C wrote."""
    monkeypatch.chdir(tmp_path)
    golden.run_case(NOISY, tmp_path)                     # copies cubic.hkl in (and writes the files)
    result = Simulation.from_args(case_args(NOISY), settings=CPU).run()
    shape = tuple(golden.manifest(NOISY)["shape_slow_fast"])
    assert_bit_identical(result.image, reference_image(NOISY))
    for array, name, offset, dtype in ((result.intimage, "intimage.img", 512, "<u2"),
                                       (result.noiseimage, "noiseimage.img", 512, "<u2")):
        ref = np.frombuffer(golden.reference_file(NOISY, name)[offset:], dtype=dtype).reshape(shape)
        assert array.shape == shape and np.array_equal(array, ref), name
    pgm = golden.reference_file(NOISY, "image.pgm")
    assert np.array_equal(result.pgm.ravel(), np.frombuffer(pgm[-shape[0] * shape[1]:], dtype=np.uint8))
    assert result.statistics.max_I > 0
    printed = [line for line in result.stdout.splitlines() if not line.endswith("% done")]
    assert printed == [line for line in golden.reference_stdout(NOISY).splitlines() if not line.endswith("% done")]


def test_odd_input_is_a_python_warning_and_refusal_an_exception():
    with pytest.warns(NBWarning, match="ignoring argument 'stray'"):
        Simulation.from_args(case_args()[:-2] + ["-detpixels", "8", "stray"], settings=CPU).run()
    with pytest.raises(NBError) as err:
        Simulation.from_args(["-cell", "100", "100", "100", "90", "90", "90"], settings=CPU).run()  # nothing to render
    assert isinstance(err.value, ValueError) and err.value.code == 9
    with pytest.raises(NBError):
        Simulation.from_args(case_args() + ["-strict", "stray"], settings=CPU).run()


def test_a_fdump_in_the_folder_is_read_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    golden.run_case("fdump_reuse", tmp_path)            # leaves the C's Fdump.bin-equivalent cache here
    assert (tmp_path / "Fdump.bin").exists()
    argv = ["-default_F", "1", "-cell", "100", "100", "100", "90", "90", "90", "-N", "2", "-detpixels", "8"]
    plain = Simulation.from_args(argv, settings=CPU).run()
    asked = Simulation.from_args(argv, read_fdump=True, settings=CPU).run()
    assert plain.setup.structure_factors.grid.hkls == 0 and "reading Fs from" not in plain.stdout
    assert asked.setup.structure_factors.grid.hkls > 0 and "reading Fs from Fdump.bin" in asked.stdout


def test_two_runs_in_two_threads_write_what_two_processes_write(tmp_path):
    """Simulation.run(outdir=...) writes there without changing the working folder, so two
    runs in two threads into two folders write exactly the files of two separate processes."""
    args = {"a": SMALL, "b": SMALL[:-1] + ["2"]}            # -seed 1, -seed 2
    here = os.getcwd()
    results, threads = {}, []
    for name, argv in args.items():
        def run(name=name, argv=argv):
            results[name] = Simulation.from_args(argv, settings=CPU).run(outdir=tmp_path / name)
        threads.append(threading.Thread(target=run))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert os.getcwd() == here
    for name, argv in args.items():
        (tmp_path / (name + "-process")).mkdir()
        cmd, env = command(argv)
        subprocess.run(cmd, cwd=tmp_path / (name + "-process"), env=env, capture_output=True, check=True)
        for output in OUTPUTS:
            assert (tmp_path / name / output).read_bytes() == (tmp_path / (name + "-process") / output).read_bytes()
        assert results[name].paths == {kind: str(tmp_path / name / output) for kind, output in
                                        zip(("float", "int", "pgm", "noise"), OUTPUTS)}
    assert {o: hashlib.sha256((tmp_path / "a" / o).read_bytes()).hexdigest() for o in OUTPUTS} == SMALL_SHA256


def test_a_result_says_how_it_was_made():
    result = Simulation.from_args(case_args() + ["-misset", "random", "-misset_seed", "5"], settings=CPU).run()
    assert (result.device, result.precision) == ("cpu", "double")
    assert result.seeds == {"seed": -11, "misset_seed": -5, "mosaic_seed": -12345678}
    assert len(result.misset_deg) == 3
    printed = next(line for line in result.stdout.splitlines() if line.startswith("random orientation misset"))
    assert printed == "random orientation misset angles: %f %f %f deg" % result.misset_deg
    assert result.paths == {}                                       # no outdir: nothing written
    assert {"set-up", "kernel load", "render", "outputs"} <= set(result.timings)


def test_the_environment_is_read_only_when_asked(monkeypatch):
    """The API runs as its settings say, whatever the environment holds; Settings.from_environ
    reads the command's variables."""
    monkeypatch.setenv("NBNUMBA_STRICT", "1")
    odd = case_args()[:-2] + ["-detpixels", "8", "stray"]
    with pytest.warns(NBWarning, match="ignoring argument 'stray'"):
        Simulation.from_args(odd, settings=CPU).run()
    with pytest.raises(NBError, match="refused under -strict"):
        Simulation.from_args(odd, settings=nbnumba.Settings.from_environ()).run()
    monkeypatch.setenv("NBNUMBA_DEVICE", "gpu")
    with pytest.raises(NBError, match="NBNUMBA_DEVICE must be auto, cpu or cuda, not 'gpu'"):
        nbnumba.Settings.from_environ()


def test_two_threads_under_numba_workqueue_layer(tmp_path):
    """Numba's workqueue threading layer aborts a process in which two threads launch parallel
    kernels at once; the CPU target makes them take turns there (kernels/cpu.py)."""
    code = ("import sys, threading; from nbnumba import Settings, Simulation\n"
            "argv = sys.argv[1:]\n"
            "runs = [threading.Thread(target=lambda d=d: Simulation.from_args(argv, settings=Settings(device='cpu'))"
            ".run(outdir=d)) for d in ('a', 'b')]\n"
            "[t.start() for t in runs]; [t.join() for t in runs]\n"
            "import numba; print(numba.threading_layer())\n")
    env = dict(golden.cli_env(), NUMBA_THREADING_LAYER="workqueue")
    p = subprocess.run([sys.executable, "-c", code, *SMALL], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    assert (p.returncode, p.stdout) == (0, "workqueue\n"), p.stderr
    for folder in ("a", "b"):
        assert {o: hashlib.sha256((tmp_path / folder / o).read_bytes()).hexdigest() for o in OUTPUTS} == SMALL_SHA256


def test_threads_setting_renders_the_same_image():
    one = Simulation.from_args(case_args(), settings=nbnumba.Settings(device="cpu", threads=1)).run()
    assert_bit_identical(one.image, reference_image())
