#!/usr/bin/env python3
"""nbnumba against nanoBragg.c (and optionally nanoBraggCUDA): whole-process wall time, nbnumba's
phases, the warm in-process render, and each image against the serial C's; and the accuracy
of -precision single against the serial C.

    python benchmarks/bench.py --c-bin /path/nanoBragg_openmp --c-serial-bin /path/nanoBragg \\
        [--cuda-bin /path/nanoBraggCUDA] [--threads 2] [--repeat 5] [--cases b2,b3,readme1024] \\
        [--devices cpu,cuda] [--tables timing,accuracy] [--write docs/performance.md]

Cases are benchmarks/cases/<name>.args, run in a fresh folder holding that folder's inputs
(bench.hkl, bench.mat, and tri.hkl from tests/data/golden/inputs), with this checkout's nbnumba
(PYTHONPATH).  Every program runs with OMP_NUM_THREADS and
NUMBA_NUM_THREADS set to --threads; nbnumba runs once untimed first so its compiled kernels
are in Numba's cache, as in everyday use.  Per program: the best and the median wall time of
--repeat runs, and the ratio of medians to the C (OpenMP) binary's.  nbnumba's phases come
from its -timings line (median of each phase); "warm render" is serial_replay.render in one
process after a first render (best of --repeat), what a resident process pays per image.
With --c-serial-bin each program's float image is compared with the serial C's.

The accuracy table: for B2, B3 (references: the --c-serial-bin's images) and every golden
case of tests/data/golden (references: the serial C's images stored there), the correlation
of nbnumba's `-precision single` float image with the C's and its largest relative error over
the pixels above 1e-3 of the maximum (tools/parity.single_precision_errors), on each device.

--write replaces the text between the markers `<!-- bench:begin -->` and `<!-- bench:end -->`
(timing) and `<!-- accuracy:begin -->` and `<!-- accuracy:end -->` (accuracy) of the given
file with the tables, each headed by the machine, the date and this command.  Builds of the C
are the user's: this script only runs them.
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
ROOT = os.path.dirname(HERE)
GOLDEN = os.path.join(ROOT, "tests", "data", "golden")
# each case's input files (tri.hkl is a golden case's input)
INPUTS = (os.path.join(CASES, "bench.hkl"), os.path.join(CASES, "bench.mat"), os.path.join(GOLDEN, "inputs", "tri.hkl"))
sys.path.insert(0, ROOT)          # this checkout's nbnumba, here and (PYTHONPATH) in every run
from nbnumba.tools.parity import SINGLE_CORRELATION, SINGLE_FLOOR, SINGLE_RELATIVE, single_precision_errors  # noqa: E402
PHASES = ("imports", "numba start-up", "set-up", "kernel load", "render", "outputs")

WARM_RENDER = """
import json, sys, time
from nbnumba.kernels import serial_replay
from nbnumba.kernels.targets import select_target
from nbnumba.simulation import Simulation
sim = Simulation.from_args(sys.argv[3:]); sim.setup()
target, device, precision = select_target(sys.argv[2], "double", lambda text: None)
times = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    serial_replay.render(serial_replay.prepare(sim.plan, target))
    times.append(time.perf_counter() - start)
print(json.dumps(times[1:]))
"""


def case_args(name):
    with open(os.path.join(CASES, name + ".args")) as f:
        return shlex.split(f.read())


def input_folder(inputs=None):
    """A fresh folder holding the input files (paths; default: the cases' inputs)."""
    folder = tempfile.mkdtemp(prefix="nbbench_")
    for path in inputs or INPUTS:
        shutil.copy(path, folder)
    return folder


def run_once(cmd, args, env, inputs=None, float_file="floatimage.bin"):
    """Run cmd + args in a fresh folder with the inputs: (wall seconds, stderr, float image)."""
    folder = input_folder(inputs)
    try:
        start = time.perf_counter()
        p = subprocess.run(cmd + args, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        wall = time.perf_counter() - start
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-300:]}")
        image = np.fromfile(os.path.join(folder, float_file), dtype="<f4")
        return wall, p.stderr, image
    finally:
        shutil.rmtree(folder)


def phases_of(stderr):
    """{phase: seconds} from nbnumba's -timings line."""
    line = [x for x in stderr.splitlines() if x.startswith("nbnumba: timings: ")][-1]
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"([a-z -]+?) ([0-9.]+) s(?:, |$)",
                                                                 line[len("nbnumba: timings: "):])}


def measure(cmd, args, env, repeat, timings=False):
    runs = [run_once(cmd, args + (["-timings"] if timings else []), env) for _ in range(repeat)]
    walls = [r[0] for r in runs]
    result = {"best": min(walls), "median": statistics.median(walls), "image": runs[0][2]}
    if timings:
        per_phase = [phases_of(r[1]) for r in runs]
        result["phases"] = {p: statistics.median(x.get(p, 0.0) for x in per_phase) for p in PHASES}
    return result


def warm_render(device, args, env, repeat):
    folder = input_folder()
    try:
        p = subprocess.run([sys.executable, "-c", WARM_RENDER, str(repeat + 1), device, *args], env=env,
                           capture_output=True, text=True, cwd=folder)
    finally:
        shutil.rmtree(folder)
    if p.returncode != 0:
        sys.exit(f"warm render on {device} failed: {p.stderr.strip()[-300:]}")
    return min(json.loads(p.stdout))


def faithfulness(image, serial):
    if serial is None:
        return ""
    if image.shape != serial.shape:
        return "shape differs"
    if np.array_equal(image.view(np.uint32), serial.view(np.uint32)):
        return "bit-identical"
    diff = np.abs(image.astype(np.float64) - serial)
    differ = int(np.count_nonzero(image.view(np.uint32) != serial.view(np.uint32)))
    return f"{differ} px differ, max {diff.max() / np.abs(serial).max():.1e} of max"


def accuracy_cases(serial_bin, env):
    """(name, args, input paths, float file name, reference image) of B2, B3 (with serial_bin)
    and every golden case that renders."""
    found = []
    if serial_bin:
        for case in ("b2", "b3"):
            found.append((case, case_args(case), None, "floatimage.bin", run_once([serial_bin], case_args(case), env)[2]))
    with open(os.path.join(GOLDEN, "cases.json")) as f:
        golden = json.load(f)
    for case in golden:
        if case["exit_code"] != 0:
            continue
        with open(os.path.join(GOLDEN, case["name"], "manifest.json")) as f:
            float_file = json.load(f)["float_file"]
        with gzip.open(os.path.join(GOLDEN, case["name"], float_file + ".gz")) as f:
            ref = np.frombuffer(f.read(), dtype="<f4")
        found.append((case["name"], shlex.split(case["args"]), [os.path.join(GOLDEN, "inputs", x) for x in case["inputs"]],
                      float_file, ref))
    return found


def accuracy_table(nb, devices, serial_bin, env):
    """The -precision single accuracy table's lines, and how many (case, device) pairs miss the bounds."""
    table = ["| case | device | correlation with the serial C | largest relative error (pixels > %g of max) | "
             "within bounds |" % SINGLE_FLOOR, "|---|---|---|---|---|"]
    misses = 0
    for name, args, inputs, float_file, ref in accuracy_cases(serial_bin, env):
        for device in devices:
            image = run_once(nb, args + ["-device", device, "-precision", "single"], env, inputs, float_file)[2]
            correlation, relative = single_precision_errors(image, ref)
            ok = correlation >= SINGLE_CORRELATION and relative <= SINGLE_RELATIVE
            misses += not ok
            table.append(f"| {name} | {device} | {correlation:.9f} | {relative:.2e} | {'yes' if ok else 'NO'} |")
    return table, misses


def headed(text, a, what):
    command = "python benchmarks/bench.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    return (f"Measured {datetime.date.today().isoformat()} on {platform.node() or 'this machine'} "
            f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs), {a.threads} threads, "
            f"{what}, with `{command}`.\n\n" + "\n".join(text) + "\n")


def write_between(path, name, text):
    """Replace the text between <!-- name:begin --> and <!-- name:end --> of the file at path."""
    with open(path) as f:
        doc = f.read()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in doc or end not in doc:
        sys.exit(f"{path} has no {begin} ... {end} markers")
    doc = doc[:doc.index(begin) + len(begin)] + "\n" + text + doc[doc.index(end):]
    with open(path, "w") as f:
        f.write(doc)


def cuda_present(env):
    probe = "from nbnumba.kernels.targets import cuda_available; print(cuda_available())"
    p = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    return p.stdout.strip() == "True"


def timing_table(a, nb, devices, env):
    """The timing tables' lines (whole processes, nbnumba's phases)."""
    rows, phase_rows = [], []
    for case in a.cases.split(","):
        args = case_args(case)
        serial = run_once([a.c_serial_bin], args, env)[2] if a.c_serial_bin else None
        c = measure([a.c_bin], args, env, a.repeat)
        c_setup = measure([a.c_bin], args + ["-roi", "0", "0", "0", "0"], env, a.repeat)
        programs = [("C, OpenMP", c, "")]
        if a.cuda_bin:
            programs.append(("nanoBraggCUDA", measure([a.cuda_bin], args, env, a.repeat), ""))
        for device in devices:
            dev_args = args + ["-device", device]
            run_once(nb, dev_args, env)                          # compile or load the cached kernels
            result = measure(nb, dev_args, env, a.repeat, timings=True)
            warm = warm_render(device, args, env, a.repeat)
            programs.append((f"nbnumba -device {device}", result, f"{warm * 1e3:.1f} ms"))
            phase_rows.append((case, device, result["phases"]))
        for name, r, warm in programs:
            rows.append((case, name, r["best"], r["median"], r["median"] / c["median"], warm,
                         faithfulness(r["image"], serial)))
        rows.append((case, "C, OpenMP, -roi 0 0 0 0 (set-up and output only)", c_setup["best"],
                     c_setup["median"], c_setup["median"] / c["median"], "", ""))
    table = ["| case | program | wall best | wall median | / C median | warm render | image vs serial C |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {case} | {name} | {best:.3f} s | {median:.3f} s | {ratio:.2f} | {warm} | {faith} |"
              for case, name, best, median, ratio, warm, faith in rows]
    table += ["", "nbnumba's phases (median seconds, from -timings):", "",
              "| case | device | " + " | ".join(PHASES) + " |", "|---|---|" + "---|" * len(PHASES)]
    table += [f"| {case} | {device} | " + " | ".join(f"{phases[p]:.3f}" for p in PHASES) + " |"
              for case, device, phases in phase_rows]
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"), help="the C built with -fopenmp")
    ap.add_argument("--c-serial-bin", help="the serial C build: the reference image")
    ap.add_argument("--cuda-bin", help="nanoBraggCUDA")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cases", default="b2,b3,readme1024")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--tables", default="timing,accuracy", help="which tables: timing, accuracy or both")
    ap.add_argument("--write", help="a markdown file whose bench and accuracy markers receive the tables")
    a = ap.parse_args()
    tables = a.tables.split(",")
    if "timing" in tables and not a.c_bin:
        sys.exit("give the C binary with --c-bin or NB_C_BIN")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), NUMBA_NUM_THREADS=str(a.threads),
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    env.pop("NBNUMBA_DEVICE", None)
    nb = [sys.executable, "-m", "nbnumba"]
    devices = [d for d in a.devices.split(",") if d == "cpu" or cuda_present(env)]
    misses = 0
    if "timing" in tables:
        text = headed(timing_table(a, nb, devices, env), a, f"best and median of {a.repeat} runs")
        print(text)
        if a.write:
            write_between(a.write, "bench", text)
    if "accuracy" in tables:
        table, misses = accuracy_table(nb, devices, a.c_serial_bin, env)
        text = headed(table, a, "-precision single against the serial C")
        print(text)
        if a.write:
            write_between(a.write, "accuracy", text)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
