#!/usr/bin/env python3
"""nbnumba through its server (`nbnumba serve`) against nbnumba in-process and the C: wall time
per call of a whole command, as a script calling it image after image sees it.

    python benchmarks/serve_bench.py [--c-bin /path/nanoBragg_openmp] [--cases readme1024,b2,b3]
        [--repeat 10] [--threads N] [--device auto|cpu|cuda] [--workers 1,2] [--command nbnumba]

Each case (benchmarks/cases/<name>.args) runs in a fresh folder holding the cases' inputs.
The server runs in a private runtime folder (XDG_RUNTIME_DIR in a temporary folder) and is
stopped at the end; one untimed call first loads its kernels (and compiles them if Numba's
cache lacks them).  Rows: the C (with --c-bin), nbnumba in-process (NBNUMBA_SERVER=off) and
nbnumba through a server of the first --workers count: best and median of --repeat calls.
"same files" compares every file a call through the server wrote with the in-process
call's, byte for byte.  Then, per --workers count, two clients each make --repeat calls at
once: seconds per image of the pair (which worker count is faster for concurrent scripts).
--command times another client command (the installed console script, say) instead of
`python -m nbnumba`.  Every program runs with OMP_NUM_THREADS and NUMBA_NUM_THREADS set to
--threads.
"""
import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench import case_args, input_folder


def call(cmd, folder, env):
    """Run cmd in folder: (wall seconds, {file: bytes} of what it wrote)."""
    before = set(os.listdir(folder))
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    files = {}
    for name in sorted(set(os.listdir(folder)) - before):
        with open(os.path.join(folder, name), "rb") as f:
            files[name] = f.read()
        os.unlink(os.path.join(folder, name))
    return wall, files


def calls(cmd, env, repeat):
    """--repeat calls of cmd in a folder of inputs: (walls, the first call's files)."""
    folder = input_folder()
    try:
        runs = [call(cmd, folder, env) for _ in range(repeat)]
    finally:
        shutil.rmtree(folder)
    return [r[0] for r in runs], runs[0][1]


class Server:
    def __init__(self, nb, env, device, workers):
        self.nb = nb
        self.env = dict(env, XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="nbserve_"))
        p = subprocess.run(nb + ["serve", "--device", device, "--workers", str(workers)], env=self.env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("nbnumba serve failed: " + (p.stdout + p.stderr).strip())

    def stop(self):
        subprocess.run(self.nb + ["serve", "--stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.env["XDG_RUNTIME_DIR"], ignore_errors=True)


def concurrent(cmd, env, repeat, clients=2):
    """Seconds per image when `clients` scripts each make `repeat` calls at once."""
    def script():
        calls(cmd, env, repeat)

    threads = [threading.Thread(target=script) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - start) / (clients * repeat)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"), help="the C (OpenMP build) for comparison")
    ap.add_argument("--cases", default="readme1024")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--workers", default="1,2", help="worker counts to compare with two concurrent clients")
    ap.add_argument("--command", help="the client command (default: python -m nbnumba)")
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), NUMBA_NUM_THREADS=str(a.threads))
    for name in ("NBNUMBA_SERVER", "NBNUMBA_DEVICE", "NBNUMBA_TIMINGS"):
        env.pop(name, None)
    nb = shlex.split(a.command) if a.command else [sys.executable, "-m", "nbnumba"]
    counts = [int(x) for x in a.workers.split(",")]
    rows, pairs = [], []
    servers = {n: Server(nb, env, a.device, n) for n in counts}
    try:
        for case in a.cases.split(","):
            args = case_args(case) + ["-device", a.device]
            served_env = servers[counts[0]].env
            calls(nb + args, served_env, 1)                         # the workers load the kernels
            served, served_files = calls(nb + args, served_env, a.repeat)
            alone, alone_files = calls(nb + args, dict(env, NBNUMBA_SERVER="off"), a.repeat)
            same = "yes" if served_files == alone_files else "NO: " + ", ".join(
                n for n in sorted(set(served_files) | set(alone_files)) if served_files.get(n) != alone_files.get(n))
            if a.c_bin:
                c, _ = calls([a.c_bin] + case_args(case), env, a.repeat)
                rows.append((case, "C (--c-bin)", c, ""))
            rows.append((case, "nbnumba in-process", alone, ""))
            rows.append((case, "nbnumba through the server (%d worker(s))" % counts[0], served, same))
            for n in counts:
                calls(nb + args, servers[n].env, n)                 # each worker loads the kernels
                pairs.append((case, n, concurrent(nb + args, servers[n].env, a.repeat)))
    finally:
        for s in servers.values():
            s.stop()
    print(f"{a.threads} threads, {os.cpu_count()} CPUs, device {a.device}, best and median of {a.repeat} calls, "
          f"client `{shlex.join(nb)}`\n")
    print("| case | program | wall best | wall median | same files as in-process |\n|---|---|---|---|---|")
    for case, name, walls, same in rows:
        print(f"| {case} | {name} | {min(walls):.3f} s | {statistics.median(walls):.3f} s | {same} |")
    print("\nTwo scripts calling at once, seconds per image:\n\n| case | workers | s per image |\n|---|---|---|")
    for case, n, per_image in pairs:
        print(f"| {case} | {n} | {per_image:.3f} s |")


if __name__ == "__main__":
    main()
