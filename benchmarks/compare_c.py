#!/usr/bin/env python3
"""Wall time of nbnumba against a nanoBragg C binary on the same arguments and thread count.

    python benchmarks/compare_c.py --c-bin /path/to/nanoBragg [--threads 2] [--repeat 3] \
        [--inputs DIR] -- ARGS...

Both programs run in fresh temporary folders holding copies of --inputs (HKL, matrix files),
with OMP_NUM_THREADS and NUMBA_NUM_THREADS set to --threads.  nbnumba runs once untimed first so
its compiled kernels are cached, as in everyday use.  Prints each wall time (best of --repeat),
their ratio, and whether the float images are bit-identical.  The C binary comes from --c-bin or
the environment variable NB_C_BIN.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(cmd, inputs, env):
    d = tempfile.mkdtemp(prefix="nbbench_")
    try:
        if inputs:
            for name in os.listdir(inputs):
                shutil.copy(os.path.join(inputs, name), d)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=d, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.strip()[-300:]}")
        image = np.fromfile(os.path.join(d, "floatimage.bin"), dtype="<f4")
        return wall, image
    finally:
        shutil.rmtree(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--inputs", help="folder whose files are copied into each run folder")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    if not a.c_bin:
        sys.exit("give the C binary with --c-bin or NB_C_BIN")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), NUMBA_NUM_THREADS=str(a.threads))
    py_cmd = [sys.executable, "-m", "nbnumba", *args]
    run(py_cmd, a.inputs, env)   # compile (or load) the cached kernels
    c_runs = [run([os.path.abspath(a.c_bin), *args], a.inputs, env) for _ in range(a.repeat)]
    py_runs = [run(py_cmd, a.inputs, env) for _ in range(a.repeat)]
    c_wall, c_img = min(c_runs, key=lambda r: r[0])
    py_wall, py_img = min(py_runs, key=lambda r: r[0])
    same = c_img.shape == py_img.shape and np.array_equal(c_img, py_img)
    diff = np.abs(c_img.astype(float) - py_img) if c_img.shape == py_img.shape else None
    print(f"threads            {a.threads}")
    print(f"C wall             {c_wall:.3f} s   (best of {a.repeat})")
    print(f"nbnumba wall       {py_wall:.3f} s   (best of {a.repeat}, kernels cached)")
    print(f"ratio C/nbnumba    {c_wall / py_wall:.2f}")
    print(f"float images       {'bit-identical' if same else 'differ'}"
          + ("" if same or diff is None else f" (max |diff| / max |C| = {diff.max() / np.abs(c_img).max():.2e}, "
                                            f"bit-identical fraction {np.mean(c_img == py_img):.6f})"))


if __name__ == "__main__":
    main()
