"""Golden-case helpers for the tests: run `python -m nbnumba` on a case and judge what it wrote.

The reference data lives in tests/data/golden (a copy of the project's golden suite: 49 runs of
the serial nanoBragg.c, see tests/data/golden/README.md).  The rules below are the README's
"How parity is judged" table, the same rules the project's golden checker applies:

  float image   same size, finite, max|port-ref| / max|ref| <= 1e-6
  SMV image     header bytes identical, pixel values equal in >= 99.99% of pixels (noise: 99.9%)
  PGM           bytes equal in >= 99.99%
  Fdump.bin     byte-identical (so is any other file)
  stdout        every summary line of the reference appears word for word
  exit code     zero exactly where the reference's is zero
  trace         every TRACE_C label has a TRACE_PY line with the same label and the same count
                of numbers, each within 1e-6 of the line's largest magnitude

Each `check_*` function returns a list of problems (empty: the rule holds), so a failing test
names every broken rule at once.  The SMV, PGM and stdout rules live in nbnumba.tools.parity,
which `nbnumba compare` applies too.
"""
import gzip
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

import nbnumba
from nbnumba.settings import Settings
from nbnumba.tools.parity import FLOAT_TOL, SMV_EQUAL, SMV_NOISE_EQUAL, check_pgm, check_smv
from nbnumba.tools.parity import check_stdout  # noqa: F401  (test_golden calls golden.check_stdout)
from nbnumba.tools.tracelog import first_values, parse_trace

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
INPUTS = GOLDEN / "inputs"

# the in-process tests' settings: bit-identity with the C is a property of the CPU kernel
# (-device auto would pick CUDA on a GPU)
CPU = Settings(device="cpu")
TRACE_TOL = 1e-6          # |port-ref| / (largest magnitude of the reference line)
RUN_TIMEOUT = 600         # seconds for one nbnumba run


# ------------------------------------------------------------------ the reference data

@lru_cache(maxsize=None)
def cases():
    """Every case of cases.json: dicts with name, args, inputs, exit_code."""
    return tuple(json.loads((GOLDEN / "cases.json").read_text()))


def case_names():
    return [c["name"] for c in cases()]


@lru_cache(maxsize=None)
def manifest(name):
    return json.loads((GOLDEN / name / "manifest.json").read_text())


def reference_file(name, filename):
    """The bytes the reference wrote to `filename` in case `name`."""
    with gzip.open(GOLDEN / name / (filename + ".gz"), "rb") as fh:
        return fh.read()


def reference_stdout(name):
    return (GOLDEN / name / "stdout.txt").read_text(errors="replace")


def reference_trace(name):
    """The case's TRACE_C log, or None where the case has none."""
    path = GOLDEN / name / "trace.log"
    return path.read_text(errors="replace") if path.exists() else None


def traced_case_names():
    return [n for n in case_names() if (GOLDEN / n / "trace.log").exists()]


# ------------------------------------------------------------------ running the port

@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    files: dict               # name -> bytes, every file the run left that is not an input

    @property
    def output(self):
        return self.stdout + self.stderr


def cli_env():
    """The environment for `python -m nbnumba` subprocesses: the nbnumba these tests import
    comes first on PYTHONPATH, so the command runs the same code from any folder.  The kernel is
    the CPU one unless NBNUMBA_DEVICE says otherwise (bit-identity is a property of the CPU path;
    run the suite with NBNUMBA_DEVICE=cuda on a GPU machine to check the CUDA kernel).  The
    command runs in-process (NBNUMBA_SERVER=off), whatever server the user has running: these
    tests check the in-process command, tests/test_serve.py the server.  NBNUMBA_SERVER=PATH
    sends their runs to the server at PATH instead: a check of the server against every
    in-process test (those that time the command's own process or probe its imports do not
    apply then)."""
    env = dict(os.environ)
    env.setdefault("NBNUMBA_DEVICE", "cpu")
    env.setdefault("NBNUMBA_SERVER", "off")
    root = str(Path(nbnumba.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_case(case, tmp_path, extra_args=(), inputs=INPUTS):
    """Copy the case's inputs (from the folder `inputs`) into tmp_path and run
    `python -m nbnumba ARGS... extra_args` there.

    `case` is a case name or a cases.json entry.  Returns a Run: exit code, stdout, stderr and
    the files the run wrote (inputs excluded)."""
    if isinstance(case, str):
        case = next(c for c in cases() if c["name"] == case)
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in case["inputs"]:
        shutil.copy(Path(inputs) / name, tmp_path / name)
    argv = [sys.executable, "-m", "nbnumba", *shlex.split(case["args"]), *map(str, extra_args)]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, errors="replace",
                          timeout=RUN_TIMEOUT, env=cli_env())
    inputs = set(case["inputs"])
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name not in inputs}
    return Run(proc.returncode, proc.stdout, proc.stderr, files)


# ------------------------------------------------------------------ the rules

def float_image(data):
    return np.frombuffer(data, dtype="<f4")


def noise_file_names(args):
    """The name the noise image goes to: -noisefile/-noiseimage NAME, else noiseimage.img."""
    argv = shlex.split(args)
    for flag in ("-noisefile", "-noiseimage"):
        if flag in argv:
            return {argv[argv.index(flag) + 1]}
    return {"noiseimage.img"}


def check_float_image(ref, got):
    r = float_image(ref).astype(np.float64)
    g = float_image(got).astype(np.float64)
    if r.size != g.size:
        return [f"{g.size} floats, reference has {r.size}"]
    problems = []
    if not np.all(np.isfinite(g)):
        problems.append(f"{int(np.sum(~np.isfinite(g)))} non-finite pixels")
    scale = max(float(np.abs(r).max()) if r.size else 0.0, 1e-300)
    err = float(np.abs(g - r).max()) / scale if r.size else 0.0
    if not err <= FLOAT_TOL:
        problems.append(f"max|port-ref|/max|ref| = {err:.3e} > {FLOAT_TOL:g}")
    return problems


def check_output_file(name, filename, got):
    """Problems with the port's `filename` of case `name` (got: bytes, or None when missing)."""
    if got is None:
        return ["not written"]
    ref = reference_file(name, filename)
    m = manifest(name)
    if filename == m.get("float_file"):
        return check_float_image(ref, got)
    if filename == "Fdump.bin":
        return [] if got == ref else ["not byte-identical"]
    if ref[:1] == b"{":
        need = SMV_NOISE_EQUAL if filename in noise_file_names(m["args"]) else SMV_EQUAL
        return check_smv(ref, got, need)
    if ref[:2] == b"P5":
        return check_pgm(ref, got)
    return [] if got == ref else ["not byte-identical"]


def check_exit_code(name, rc):
    want = manifest(name)["exit_code"]
    return [] if (rc == 0) == (want == 0) else [f"exit code {rc}, reference {want}"]


def trace_values(text, prefix):
    """{key: numbers} of the first line of each trace label (nbnumba.tools.tracelog's parser, which
    keys and counts numbers as the golden checker does)."""
    return first_values(parse_trace(text, prefix))


def check_trace(c_text, py_text):
    c = trace_values(c_text, "TRACE_C")
    p = trace_values(py_text, "TRACE_PY")
    problems = []
    if not c:
        return ["the reference trace has no TRACE_C lines"]
    for key, cv in c.items():
        if key not in p:
            problems.append(f"no TRACE_PY line for {key!r}")
            continue
        pv = p[key]
        if len(pv) != len(cv):
            problems.append(f"{key!r}: {len(pv)} numbers, reference has {len(cv)}")
            continue
        scale = max([abs(a) for a in cv] + [1e-300])
        worst = max((abs(a - b) / scale for a, b in zip(cv, pv) if a != b), default=0.0)
        if not worst <= TRACE_TOL:
            problems.append(f"{key!r}: relative difference {worst:.3e} > {TRACE_TOL:g} "
                            f"(port {list(pv)}, reference {list(cv)})")
    return problems


def describe(problems, run=None, limit=20):
    """A failure message: the problems, and the tail of the run's output."""
    text = "\n".join(problems[:limit])
    if len(problems) > limit:
        text += f"\n... and {len(problems) - limit} more"
    if run is not None:
        tail = "\n".join(run.output.strip().splitlines()[-8:])
        text += f"\n--- exit {run.rc}; output tail:\n{tail}"
    return text
