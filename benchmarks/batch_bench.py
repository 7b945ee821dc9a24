#!/usr/bin/env python3
"""A rotation series with `nbnumba batch` against shell loops over nanoBragg.c and nbnumba.

    python benchmarks/batch_bench.py --c-bin /path/nanoBragg_openmp [--case small|b3] [--frames 100]
        [--workers default,1,2] [--loop-frames 10] [--cuda-bin /path/nanoBraggCUDA] [--repeat 1] [--json FILE]

The series is `--rotation 0 STEP FRAMES` on top of the case's arguments: `small` is the
issue's 2-core target (-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5
-distance 100 -detpixels 256 -pixel 0.1 -osc 0.5, STEP 0.5), `b3` benchmarks/cases/b3.args
(STEP 0.1).  Timed, each as a whole process from a fresh folder holding the cases' inputs:

- `nbnumba batch PLAN --outdir DIR` with each --workers value ("default": no --workers, the
  embedded default); images per second = FRAMES / wall time, start-up included;
- a shell script running the series' frames one command after another (the frames'
  argument lists, from the batch's manifest.json): with the C binary for all FRAMES (and
  with --cuda-bin), and with `python -m nbnumba` for the first --loop-frames frames;
  seconds per image = wall / frames.

Every frame the nbnumba loop rendered is compared byte for byte, every file, with the same
frame from each batch run.  The environment is passed on as it is (NBNUMBA_DEVICE,
NUMBA_NUM_THREADS, OMP_NUM_THREADS); the C's OpenMP build uses every core unless told.
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import case_args as bench_case, input_folder  # noqa: E402  (the cases and their inputs)

SMALL = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 256 "
         "-pixel 0.1 -osc 0.5")
STEPS = {"small": "0.5", "b3": "0.1"}
NBNUMBA = [sys.executable, "-m", "nbnumba"]


def case_args(case):
    return SMALL if case == "small" else shlex.join(bench_case(case))


def timed(cmd, cwd, env):
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} ... failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    return wall


def run_batch(plan_text, workers, env):
    """(wall seconds, output folder, manifest) of one `nbnumba batch`."""
    folder = input_folder()
    with open(os.path.join(folder, "series.plan"), "w") as f:
        f.write(plan_text)
    cmd = NBNUMBA + ["batch", "series.plan", "--outdir", "frames"]
    if workers != "default":
        cmd += ["--workers", str(workers)]
    wall = timed(cmd, folder, env)
    with open(os.path.join(folder, "frames", "manifest.json")) as f:
        return wall, os.path.join(folder, "frames"), json.load(f)


def run_loop(program, frames, env):
    """(wall seconds, folder) of a shell script running each frame's command in turn."""
    folder = input_folder()
    script = os.path.join(folder, "loop.sh")
    with open(script, "w") as f:
        for job in frames:
            f.write(shlex.join(program + job["args"]) + " > /dev/null\n")
    return timed(["bash", "-e", script], folder, env), folder


def same_frames(batch_dir, loop_dir, frames):
    """How many of these frames have every output file byte-identical in both folders."""
    same = 0
    for job in frames:
        names = job["outputs"].values()
        same += all(open(os.path.join(batch_dir, n), "rb").read() == open(os.path.join(loop_dir, n), "rb").read()
                    for n in names)
    return same


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--c-bin", required=True, help="nanoBragg.c's OpenMP build")
    ap.add_argument("--cuda-bin", help="nanoBraggCUDA, for a shell loop over it too")
    ap.add_argument("--case", default="small", choices=sorted(STEPS))
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--workers", default="default,1,2", help="comma-separated --workers values ('default': none)")
    ap.add_argument("--loop-frames", type=int, default=10, help="frames of the shell loop over nbnumba")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each batch and loop (the best is kept)")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(HERE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    plan_text = "--rotation 0 %s %d %s\n" % (STEPS[a.case], a.frames, case_args(a.case))

    # warm Numba's cache (a first run compiles), then time
    run_batch("--rotation 0 %s 1 %s\n" % (STEPS[a.case], case_args(a.case)), 1, env)
    rows, batches = [], []
    for w in a.workers.split(","):
        best = min((run_batch(plan_text, w, env) for _ in range(a.repeat)), key=lambda r: r[0])
        batches.append((w, best))
        rows.append(("nbnumba batch" + ("" if w == "default" else " --workers %s" % w), a.frames, best[0]))
    frames = batches[0][1][2]["jobs"]
    loops = [("C shell loop (%s)" % os.path.basename(a.c_bin), [a.c_bin], frames)]
    if a.cuda_bin:
        loops.append(("nanoBraggCUDA shell loop", [a.cuda_bin], frames))
    loops.append(("nbnumba shell loop (python -m nbnumba)", NBNUMBA, frames[:a.loop_frames]))
    loop_dirs = {}
    for name, program, jobs in loops:
        wall, folder = min((run_loop(program, jobs, env) for _ in range(a.repeat)), key=lambda r: r[0])
        rows.append((name, len(jobs), wall))
        loop_dirs[name] = folder
    nb_loop = loop_dirs[loops[-1][0]]
    identical = {w: same_frames(b[1], nb_loop, frames[:a.loop_frames]) for w, b in batches}

    print("Measured %s on %s (%s, %d CPUs), case %s, %d-frame rotation series, with `%s`.\n" % (
        time.strftime("%Y-%m-%d"), platform.node(), platform.machine(), os.cpu_count(), a.case, a.frames,
        " ".join(["python"] + sys.argv)))
    print("| program | frames | wall | images/s | s per image |")
    print("|---|---|---|---|---|")
    for name, n, wall in rows:
        print("| %s | %d | %.2f s | %.1f | %.4f |" % (name, n, wall, n / wall, wall / n))
    for w, same in identical.items():
        print("\nnbnumba batch%s: %d of %d frames byte-identical (every file) to `python -m nbnumba FRAME` alone" % (
            "" if w == "default" else " --workers " + w, same, min(a.loop_frames, a.frames)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"case": a.case, "frames": a.frames, "rows": rows, "identical": identical}, f, indent=1)


if __name__ == "__main__":
    main()
