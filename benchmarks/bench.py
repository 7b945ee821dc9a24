#!/usr/bin/env python3
"""nbnumba against nanoBragg.c (and optionally nanoBraggCUDA): whole-process wall time, nbnumba's
phases, the warm in-process render, and each image against the serial C's.

    python benchmarks/bench.py --c-bin /path/nanoBragg_openmp --c-serial-bin /path/nanoBragg \\
        [--cuda-bin /path/nanoBraggCUDA] [--threads 2] [--repeat 5] [--cases b2,b3,readme1024] \\
        [--devices cpu,cuda] [--write docs/performance.md]

Cases are benchmarks/cases/<name>.args, run in a fresh folder holding that folder's inputs
(bench.hkl, bench.mat, and tri.hkl from tests/data/golden/inputs).  Every program runs with OMP_NUM_THREADS and
NUMBA_NUM_THREADS set to --threads; nbnumba runs once untimed first so its compiled kernels
are in Numba's cache, as in everyday use.  Per program: the best and the median wall time of
--repeat runs, and the ratio of medians to the C (OpenMP) binary's.  nbnumba's phases come
from its -timings line (median of each phase); "warm render" is serial_replay.render in one
process after a first render (best of --repeat), what a resident process pays per image.
With --c-serial-bin each program's float image is compared with the serial C's.  --write
replaces the text between the markers `<!-- bench:begin -->` and `<!-- bench:end -->` of
the given file with the tables, headed by the machine, the date and this command.
Builds of the C are the user's: this script only runs them.
"""
import argparse
import datetime
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
# each case's input files, where they are kept (tri.hkl is a golden case's input)
INPUTS = {"bench.hkl": CASES, "bench.mat": CASES,
          "tri.hkl": os.path.join(HERE, os.pardir, "tests", "data", "golden", "inputs")}
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


def input_folder():
    """A fresh folder holding the cases' input files."""
    folder = tempfile.mkdtemp(prefix="nbbench_")
    for name, where in INPUTS.items():
        shutil.copy(os.path.join(where, name), folder)
    return folder


def run_once(cmd, args, env):
    """Run cmd + args in a fresh folder with the inputs: (wall seconds, stderr, float image)."""
    folder = input_folder()
    try:
        start = time.perf_counter()
        p = subprocess.run(cmd + args, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        wall = time.perf_counter() - start
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-300:]}")
        image = np.fromfile(os.path.join(folder, "floatimage.bin"), dtype="<f4")
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


def cuda_present(env):
    probe = "from nbnumba.kernels.targets import cuda_available; print(cuda_available())"
    p = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    return p.stdout.strip() == "True"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"), help="the C built with -fopenmp")
    ap.add_argument("--c-serial-bin", help="the serial C build: the reference image")
    ap.add_argument("--cuda-bin", help="nanoBraggCUDA")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cases", default="b2,b3,readme1024")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--write", help="a markdown file whose bench markers receive the tables")
    a = ap.parse_args()
    if not a.c_bin:
        sys.exit("give the C binary with --c-bin or NB_C_BIN")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), NUMBA_NUM_THREADS=str(a.threads))
    env.pop("NBNUMBA_DEVICE", None)
    nb = [sys.executable, "-m", "nbnumba"]
    devices = [d for d in a.devices.split(",") if d == "cpu" or cuda_present(env)]
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
    command = "python benchmarks/bench.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    head = [f"Measured {datetime.date.today().isoformat()} on {platform.node() or 'this machine'} "
            f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs), {a.threads} threads, "
            f"best and median of {a.repeat} runs, with `{command}`.", ""]
    text = "\n".join(head + table) + "\n"
    print(text)
    if a.write:
        with open(a.write) as f:
            doc = f.read()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        if begin not in doc or end not in doc:
            sys.exit(f"{a.write} has no {begin} ... {end} markers")
        doc = doc[:doc.index(begin) + len(begin)] + "\n" + text + doc[doc.index(end):]
        with open(a.write, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
