"""`nbnumba compare [OPTIONS] -- ARGS...`: run nanoBragg.c and nbnumba on the same arguments.

Each program runs in its own temporary folder (the input files ARGS name and a `Fdump.bin`
of the current folder are copied in), timed by wall clock. Then every output is compared:

- the float images (`floatimage.bin`, or the `-floatfile`/`-floatimage` name), shaped by the
  SIZE1 (fast) / SIZE2 (slow) fields of the program's SMV int image (`intimage.img`, or the
  `-intfile`/`-intimage` name), falling back to a square. Over the compared pixels (all, or
  `--roi xmin xmax ymin ymax` in fast/slow pixel indices, inclusive, and pixels where either
  image exceeds `--threshold`) it measures correlation, RMSE, max |py-c|, max |py-c| / max|c|,
  both sums and their ratio, and the bit-identical fraction;
- every other file either program wrote (copies of the inputs left unchanged excepted), by
  the parity rules of nbnumba.tools.parity: SMV images (header bytes and pixels; a noise image
  seeded from the clock, with no `-seed`, is listed but not compared), PGM, `Fdump.bin` and
  anything else byte for byte; a file only one program wrote fails;
- the C's stdout: every line of it (the summary, the cell-vector and geometry blocks, the
  file lines) must appear in the port's stdout, whitespace aside, as many times as in the
  C's; only lines a port need not reproduce are left out (parity.stdout_lines: the progress
  meter, the C's `mmap(...) = 0x...` pointers and, when the noise is seeded from the clock,
  its `seed:` and photon-count lines).

`wall_ratio_c_over_py` is the C's wall time over the port's (above 1, the port is faster). It
writes into --outdir: `c.png`, `py.png` (shared log-like gray scale), `diff.png` (port minus C
on a log scale of |py-c| / max|c| on which every differing pixel shows, with a colour bar
giving its absolute and relative scale, see nbnumba.tools.pictures; all three cropped to
--roi when given), `summary.json`, and both programs' output (`c_stdout.txt`,
`py_stdout.txt`).

With `--trace-pixel S F` both programs run again with `-trace_pixel S F`, the C side with
`--c-trace-bin` (an instrumented build, compiled with -DTRACING) when given, else with
`--c-bin`; their output is kept as `c_trace.log` / `py_trace.log` and diffed label by label as
`nbnumba trace-diff` does, into the same folder. A plain nanoBragg prints no trace: then a
one-line note says how to pass the instrumented build, and the trace is left out of the verdict.

Exit status: 0 every output agrees (PASS_RULE), 3 an output differs (or the traces do), 4 the
float images' shapes differ, 2 a program failed or an input/output could not be read.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import click
import numpy as np

from nbnumba.tools import parity
from nbnumba.tools.common import TINY, environment, json_safe, write_json
from nbnumba.tools.pictures import write_pictures
from nbnumba.tools.trace_diff import run_trace_diff
from nbnumba.tools.trace_report import OUTPUT_FILES
from nbnumba.tools.tracelog import read_trace

EXIT_OK, EXIT_INPUT, EXIT_DIFFER, EXIT_SHAPE = 0, 2, 3, 4
MIN_CORRELATION = 0.999999
MAX_REL_DIFF = parity.FLOAT_TOL
PASS_RULE = {
    "text": f"pass when the float images have correlation >= {MIN_CORRELATION} and max_rel_diff <= "
            f"{MAX_REL_DIFF} over the compared pixels, every compared pixel finite (max_rel_diff = "
            f"max|py - c| / max|c|); both programs wrote the same files; SMV images have identical "
            f"headers and >= {parity.SMV_EQUAL:.2%} equal pixels (noise image {parity.SMV_NOISE_EQUAL:.1%}); "
            f"PGM files >= {parity.PGM_EQUAL:.2%} equal bytes; other files (Fdump.bin) are byte-identical; "
            "and every line of the C's stdout appears in the port's stdout (less its progress meter and mmap "
            "pointer lines, and its seed and photon-count lines when the noise is seeded from the clock)",
    "min_correlation": MIN_CORRELATION,
    "max_rel_diff": MAX_REL_DIFF,
    "smv_equal": parity.SMV_EQUAL,
    "smv_noise_equal": parity.SMV_NOISE_EQUAL,
    "pgm_equal": parity.PGM_EQUAL,
}
INPUT_FLAGS = ("-hkl", "-mat", "-sourcefile", "-img", "-mask", "-stol", "-4stol", "-Q", "-dump")
FLOAT_FLAGS, FLOAT_DEFAULT = ("-floatfile", "-floatimage"), "floatimage.bin"
INT_FLAGS, INT_DEFAULT = ("-intfile", "-intimage"), "intimage.img"
NOISE_FLAGS, NOISE_DEFAULT = ("-noisefile", "-noiseimage"), "noiseimage.img"
FDUMP = "Fdump.bin"
LIST_LIMIT = 30   # missing stdout lines printed before "... and N more"


class CompareError(Exception):
    """A failure that ends the comparison with `code` and a one-line message."""

    def __init__(self, message, code=EXIT_INPUT):
        super().__init__(message)
        self.code = code


@dataclass
class RunResult:
    """One program run: its command line, folder, exit status, wall time and output."""

    name: str
    cmd: list
    folder: str
    returncode: object  # int, or "timeout"
    wall_s: float
    output: str   # stdout then stderr
    stdout: str

    def as_json(self):
        return {"cmd": shlex.join(self.cmd), "exit_code": self.returncode, "wall_s": round(self.wall_s, 6)}


# ---------------------------------------------------------------- arguments and inputs


def flag_value(args, flags, default=None):
    """The value after the last of `flags` in args, or default."""
    value = default
    for i, arg in enumerate(args[:-1]):
        if arg in flags:
            value = args[i + 1]
    return value


def input_files(args, cwd):
    """Existing files of cwd that ARGS name as inputs, plus Fdump.bin when present."""
    names = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in INPUT_FLAGS]
    names.append(FDUMP)
    return sorted({n for n in names if os.path.isfile(os.path.join(cwd, n))})


def stage_args(args, cwd):
    """Args for a run in another folder: input paths outside cwd's tree become absolute."""
    staged = list(args)
    for i, arg in enumerate(args[:-1]):
        path = args[i + 1]
        if arg in INPUT_FLAGS and not os.path.isabs(path) and _escapes(path):
            staged[i + 1] = os.path.abspath(os.path.join(cwd, path))
    return staged


def _escapes(path):
    return os.path.normpath(path).startswith("..")


def copy_inputs(names, cwd, folder):
    for name in names:
        if os.path.isabs(name) or _escapes(name):
            continue
        dest = os.path.join(folder, name)
        os.makedirs(os.path.dirname(dest) or folder, exist_ok=True)
        shutil.copy(os.path.join(cwd, name), dest)


def child_env():
    """The environment for both programs: this checkout importable as `nbnumba`."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def run_program(name, cmd, folder, timeout):
    """Run cmd in folder; return a RunResult (never raises on a failing program)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=folder, env=child_env(), capture_output=True, text=True,
                              errors="replace", timeout=timeout)
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, stdout, stderr = "timeout", _text(exc.stdout), _text(exc.stderr)
    except OSError as exc:
        raise CompareError(f"cannot run {name} command {shlex.join(cmd)}: {exc.strerror or exc}") from None
    return RunResult(name, cmd, folder, code, time.perf_counter() - start, stdout + stderr, stdout)


def _text(data):
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def check_run(run):
    if run.returncode != 0:
        tail = run.output.strip().splitlines()[-1:] or ["(no output)"]
        raise CompareError(f"{run.name} run failed (exit {run.returncode}): {tail[0][:300]}")


# ---------------------------------------------------------------- images


def smv_shape(path):
    """(slow, fast) from an SMV header's SIZE2 / SIZE1, or None when absent or unreadable."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("latin-1")
    except OSError:
        return None
    size = {k: int(v) for k, v in re.findall(r"\b(SIZE[12])\s*=\s*(\d+)", head)}
    if "SIZE1" in size and "SIZE2" in size:
        return size["SIZE2"], size["SIZE1"]
    return None


def load_float_image(run, args):
    """The run's float image as float32 (slow, fast) and the shape's origin."""
    path = os.path.join(run.folder, flag_value(args, FLOAT_FLAGS, FLOAT_DEFAULT))
    try:
        pixels = np.fromfile(path, dtype="<f4")
    except OSError as exc:
        raise CompareError(f"{run.name} float image unreadable: {path}: {exc.strerror or exc}") from None
    if pixels.size == 0:
        raise CompareError(f"{run.name} float image is empty: {path}")
    shape = smv_shape(os.path.join(run.folder, flag_value(args, INT_FLAGS, INT_DEFAULT)))
    if shape is None:
        side = int(round(pixels.size ** 0.5))
        if side * side != pixels.size:
            raise CompareError(f"{run.name} float image has {pixels.size} pixels, no SMV header "
                               "to shape it and is not square")
        shape = (side, side)
    if shape[0] * shape[1] != pixels.size:
        raise CompareError(f"{run.name} float image has {pixels.size} pixels but its SMV header says "
                           f"{shape[0]}x{shape[1]}")
    return pixels.reshape(shape)


def roi_window(roi):
    """(slow slice, fast slice) of an roi given as xmin xmax ymin ymax (fast, slow; inclusive)."""
    xmin, xmax, ymin, ymax = roi
    return slice(max(ymin, 0), ymax + 1), slice(max(xmin, 0), xmax + 1)


def selection(shape, roi=None, threshold=None, c=None, py=None):
    """Boolean mask of the compared pixels: inside roi and where either image exceeds threshold."""
    mask = np.ones(shape, bool)
    if roi is not None:
        inside = np.zeros(shape, bool)
        inside[roi_window(roi)] = True
        mask &= inside
    if threshold is not None:
        mask &= (c > threshold) | (py > threshold)
    return mask


def correlation(a, b):
    """Pearson correlation; for a constant image 1.0 when both are equal, else 0.0."""
    da, db = a - a.mean(), b - b.mean()
    denom = np.sqrt(np.dot(da, da) * np.dot(db, db))
    if denom == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.dot(da, db) / denom)


def image_metrics(c32, py32, mask):
    """Agreement metrics of the masked pixels of two float32 images."""
    if not mask.any():
        raise CompareError("no pixels selected for comparison (check --roi / --threshold)")
    c, py = c32[mask].astype(np.float64), py32[mask].astype(np.float64)
    finite = bool(np.all(np.isfinite(py)) and np.all(np.isfinite(c)))
    diff = py - c
    max_abs = float(np.max(np.abs(diff))) if finite else float("inf")
    sum_c, sum_py = float(c.sum()), float(py.sum())
    return {
        "n_pixels": int(mask.sum()),
        "all_finite": finite,
        "correlation": correlation(c, py) if finite else 0.0,
        "rmse": float(np.sqrt(np.mean(diff * diff))) if finite else float("inf"),
        "max_abs_diff": max_abs,
        "max_rel_diff": max_abs / max(float(np.max(np.abs(c))), TINY) if finite else float("inf"),
        "sum_c": sum_c,
        "sum_py": sum_py,
        "sum_ratio_py_over_c": sum_py / sum_c if sum_c != 0 else None,
        "max_c": float(c.max()),
        "max_py": float(py.max()),
        "bit_identical_fraction": float(np.mean(c32[mask].view(np.uint32) == py32[mask].view(np.uint32))),
    }


def passes(metrics):
    return (metrics["all_finite"] and metrics["correlation"] >= MIN_CORRELATION
            and metrics["max_rel_diff"] <= MAX_REL_DIFF)


# ---------------------------------------------------------------- every other output


def written_files(folder, inputs, cwd):
    """{path relative to folder: bytes} of every file a run left in its folder, less the
    copies of its inputs that it left unchanged."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            with open(path, "rb") as fh:
                data = fh.read()
            if rel in inputs and _same_bytes(os.path.join(cwd, rel), data):
                continue
            out[rel] = data
    return out


def _same_bytes(path, data):
    try:
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def clock_seeded(args):
    """True when no argument holds `-seed` (the C's strstr test): the noise is seeded from the clock."""
    return not any("-seed" in arg for arg in args)


def _equal_text(details, what):
    if "n_equal" not in details:
        return f"sizes differ: {details[what + '_c']} vs {details[what + '_py']} {what}"
    return f"{details['n_equal']} of {details[what + '_c']} {what} equal"


def file_entry(name, c_data, py_data, args, image_summary):
    """{kind, status (pass | FAIL | skipped), detail, ...} of one file of the two runs."""
    data = c_data if c_data is not None else py_data
    float_name = os.path.normpath(flag_value(args, FLOAT_FLAGS, FLOAT_DEFAULT))
    noise = name == os.path.normpath(flag_value(args, NOISE_FLAGS, NOISE_DEFAULT))
    kind = ("float image" if name == float_name else "SMV noise image" if noise and parity.is_smv(data)
            else "SMV image" if parity.is_smv(data) else "PGM" if data[:2] == b"P5" else "bytes")
    if c_data is None or py_data is None:
        return {"kind": kind, "status": "FAIL", "detail": f"written by {'PY' if c_data is None else 'C'} only"}
    if kind == "float image":
        m = image_summary["metrics"]
        return {"kind": kind, "status": "pass" if image_summary["float_image_pass"] else "FAIL",
                "detail": f"{m['bit_identical_fraction']:.4%} of compared pixels bit-identical, "
                          f"max|py-c|/max|c| = {m['max_rel_diff']:.3g} (see the float image metrics)"}
    if kind == "SMV noise image" and clock_seeded(args):
        return {"kind": kind, "status": "skipped",
                "detail": "not compared: the noise is seeded from the clock (pass -seed N to compare it)"}
    if kind.startswith("SMV"):
        details = parity.smv_details(c_data, py_data)
        problems = parity.smv_problems(details, parity.SMV_NOISE_EQUAL if noise else parity.SMV_EQUAL)
        text = ["header " + ("identical" if details["header_equal"] else "DIFFERS"), _equal_text(details, "pixels")]
        if details.get("max_abs_diff"):
            text.append(f"max |py-c| = {details['max_abs_diff']} ADU")
    else:
        details = parity.bytes_details(c_data, py_data)
        problems = parity.pgm_problems(details) if kind == "PGM" else \
            ([] if details["identical"] else ["not byte-identical"])
        text = ["byte-identical" if details["identical"] else _equal_text(details, "bytes")]
    return dict(details, kind=kind, status="FAIL" if problems else "pass", detail="; ".join(text),
                problems=problems)


def compare_files(runs, args, inputs, summary):
    """Fill summary["files"] with every file either run wrote; return the exit status."""
    cwd = os.getcwd()
    c_files, py_files = (written_files(run.folder, inputs, cwd) for run in runs)
    files = {name: file_entry(name, c_files.get(name), py_files.get(name), args, summary)
             for name in sorted(set(c_files) | set(py_files))}
    summary["files"] = files
    return EXIT_DIFFER if any(f["status"] == "FAIL" for f in files.values()) else EXIT_OK


def compare_stdout(runs, args, summary):
    """Fill summary["stdout"]: how many lines of the C's stdout were checked, those left out
    and those the port's stdout lacks; return the exit status."""
    checked, skipped = parity.stdout_lines(runs[0].stdout, clock_seeded(args))
    missing = parity.missing_lines(checked, runs[1].stdout)
    summary["stdout"] = {"status": "FAIL" if missing else "pass", "lines": len(checked),
                         "not_compared": skipped, "missing": missing}
    return EXIT_DIFFER if missing else EXIT_OK


# ---------------------------------------------------------------- the command


def program_path(path):
    """A relative program path (one with a slash) made absolute, as runs happen elsewhere."""
    return os.path.abspath(path) if os.sep in path and not os.path.isabs(path) else path


def py_command(py_cmd):
    if not py_cmd:
        return [sys.executable, "-m", "nbnumba"]
    cmd = shlex.split(py_cmd)
    return [program_path(cmd[0])] + cmd[1:]


def run_both(c_cmd, py_cmd, args, workdir, timeout, tag=""):
    """Run C then the port, each in a fresh folder under workdir with the inputs copied in."""
    cwd = os.getcwd()
    names, staged = input_files(args, cwd), stage_args(args, cwd)
    runs = []
    for name, cmd in (("C", c_cmd), ("PY", py_cmd)):
        folder = tempfile.mkdtemp(prefix=f"{name.lower()}{tag}_", dir=workdir)
        copy_inputs(names, cwd, folder)
        runs.append(run_program(name, cmd + staged, folder, timeout))
    return runs


def save_output(outdir, filename, run):
    with open(os.path.join(outdir, filename), "w") as fh:
        fh.write(run.output)


def compare_images(runs, args, outdir, roi, threshold, summary):
    """Fill summary with the float images' metrics and write the pictures; return the exit status."""
    c, py = (load_float_image(run, args) for run in runs)
    summary["shape_c"], summary["shape_py"] = list(c.shape), list(py.shape)
    if c.shape != py.shape:
        raise CompareError(f"image shapes differ: C {c.shape[0]}x{c.shape[1]} vs PY "
                           f"{py.shape[0]}x{py.shape[1]} (slow x fast)", EXIT_SHAPE)
    metrics = image_metrics(c, py, selection(c.shape, roi, threshold, c, py))
    summary["metrics"] = metrics
    summary["float_image_pass"] = passes(metrics)
    summary["png"] = write_pictures(c, py, outdir, roi_window(roi) if roi is not None else None)
    return EXIT_OK if summary["float_image_pass"] else EXIT_DIFFER


def no_trace_note(c_cmd):
    return (f"compare: note: {c_cmd[0]} printed no trace lines (the plain nanoBragg prints none), so the "
            "trace was not compared: build the instrumented C with -DTRACING and pass it as "
            "--c-trace-bin PATH (or set NB_C_TRACE_BIN)")


def compare_traces(c_cmd, py_cmd, args, trace_pixel, outdir, workdir, timeout, summary):
    """Render the trace pixel on both sides, keep the logs and diff them; return the exit status
    (0 with a note in summary["trace"] when the C printed no trace at all)."""
    extra = ["-trace_pixel", str(trace_pixel[0]), str(trace_pixel[1])]
    runs = run_both(c_cmd, py_cmd, list(args) + extra, workdir, timeout, tag="_trace")
    trace = summary["trace"] = {"pixel_slow_fast": list(trace_pixel), "c": runs[0].as_json(),
                                "py": runs[1].as_json(), "files": []}
    for run, filename in zip(runs, ("c_trace.log", "py_trace.log")):
        save_output(outdir, filename, run)
        trace["files"].append(filename)
    check_run(runs[1])
    c_log = os.path.join(outdir, "c_trace.log")
    if not read_trace(c_log):   # a plain C, whatever it made of -trace_pixel (it contains "-pixel")
        trace.update(status="no C trace", exit_code=EXIT_OK, note=no_trace_note(c_cmd))
        return EXIT_OK
    check_run(runs[0])
    code = run_trace_diff(c_log, os.path.join(outdir, "py_trace.log"), out_dir=outdir,
                          c_cmd=trace["c"]["cmd"], py_cmd=trace["py"]["cmd"])
    trace["files"] += [name for name in OUTPUT_FILES if os.path.exists(os.path.join(outdir, name))]
    trace.update(status="pass" if code == EXIT_OK else "FAIL", exit_code=code)
    return code


def report_lines(summary):
    lines = []
    for side in ("c", "py"):
        run = summary.get(side)
        if run:
            lines.append(f"{side.upper():>2}: exit {run['exit_code']}  {run['wall_s']:.3f} s  {run['cmd']}")
    if summary.get("wall_ratio_c_over_py") is not None:
        lines.append(f"wall time C / PY: {summary['wall_ratio_c_over_py']:.3g} (above 1: the port is faster)")
    if summary.get("metrics"):
        lines.append("float image metrics:")
    for key, value in summary.get("metrics", {}).items():
        lines.append(f"  {key:<24} {value:.10g}" if isinstance(value, float) else f"  {key:<24} {value}")
    if summary.get("files"):
        lines.append("files:")
        width = max(len(name) for name in summary["files"])
        kind_w = max(len(f["kind"]) for f in summary["files"].values())
        lines += [f"  {name:<{width}}  {f['kind']:<{kind_w}}  {f['status']:<7}  {f['detail']}"
                  for name, f in summary["files"].items()]
    out = summary.get("stdout")
    if out:
        lines.append(f"stdout: {out['status']}  {out['lines'] - len(out['missing'])} of {out['lines']} "
                     f"lines of the C found in the port's stdout"
                     + (f" ({len(out['not_compared'])} not compared)" if out["not_compared"] else ""))
        lines += [f"  missing: {m}" for m in out["missing"][:LIST_LIMIT]]
        if len(out["missing"]) > LIST_LIMIT:
            lines.append(f"  ... and {len(out['missing']) - LIST_LIMIT} more (summary.json lists them all)")
    trace = summary.get("trace")
    if trace and trace.get("status"):
        lines.append(f"trace of pixel {trace['pixel_slow_fast'][0]} {trace['pixel_slow_fast'][1]}: {trace['status']}")
    return lines


def run_compare(c_bin, c_trace_bin, py_cmd, outdir, roi, threshold, trace_pixel, timeout, args):
    """The whole comparison; writes summary.json and returns the exit status."""
    if not c_bin:
        raise CompareError("no C binary: pass --c-bin PATH or set NB_C_BIN")
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as exc:
        raise CompareError(f"cannot create --outdir {outdir}: {exc.strerror or exc}") from None
    c_cmd, p_cmd = [program_path(c_bin)], py_command(py_cmd)
    summary = {"args": shlex.join(args), "roi": list(roi) if roi else None, "threshold": threshold,
               "pass_rule": PASS_RULE, "pass": False, "environment": environment(), "trace": None}
    with tempfile.TemporaryDirectory(prefix="nbcompare_") as workdir:
        try:
            runs = run_both(c_cmd, p_cmd, list(args), workdir, timeout)
            for run, filename, key in zip(runs, ("c_stdout.txt", "py_stdout.txt"), ("c", "py")):
                save_output(outdir, filename, run)
                summary[key] = run.as_json()
            c_wall, py_wall = runs[0].wall_s, runs[1].wall_s
            summary["wall_ratio_c_over_py"] = c_wall / py_wall if py_wall > 0 else None
            for run in runs:
                check_run(run)
            codes = [compare_images(runs, list(args), outdir, roi, threshold, summary),
                     compare_files(runs, list(args), input_files(list(args), os.getcwd()), summary),
                     compare_stdout(runs, list(args), summary)]
            if trace_pixel:
                c_trace_cmd = [program_path(c_trace_bin or c_bin)]
                codes.append(compare_traces(c_trace_cmd, p_cmd, args, trace_pixel, outdir, workdir, timeout,
                                            summary))
            code = next((c for c in codes if c != EXIT_OK), EXIT_OK)
        except CompareError as exc:
            summary["error"] = str(exc)
            code = exc.code
        summary["exit_code"] = code
        summary["pass"] = code == EXIT_OK
        write_json(os.path.join(outdir, "summary.json"), json_safe(summary))
    for line in report_lines(summary):
        click.echo(line)
    if "error" in summary:
        click.echo(f"compare: error: {summary['error']}", err=True)
    else:
        click.echo(f"pass rule: {PASS_RULE['text']}")
        click.echo(f"result: {'PASS' if code == EXIT_OK else 'FAIL'} (exit {code})")
    if summary["trace"] and summary["trace"].get("note"):
        click.echo(summary["trace"]["note"], err=True)
    return code


class PassThroughCommand(click.Command):
    """A command whose ARGS are nanoBragg's flags: `-h` alone (before any `--`) asks for help as
    `--help` does. `-h` is not declared as click's short option, which would also take the `h`
    of a nanoBragg flag such as `-hkl` or `-hdivrange` and print the help instead of running."""

    def parse_args(self, ctx, args):
        end = args.index("--") if "--" in args else len(args)
        return super().parse_args(ctx, ["--help" if a == "-h" else a for a in args[:end]] + args[end:])

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "Show this message and exit (so does -h)."
        return option


@click.command("compare", cls=PassThroughCommand,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--c-bin", envvar="NB_C_BIN", default=None, help="The nanoBragg.c binary (default: $NB_C_BIN).")
@click.option("--c-trace-bin", envvar="NB_C_TRACE_BIN", default=None,
              help="Instrumented (-DTRACING) C build for --trace-pixel (default: $NB_C_TRACE_BIN, else --c-bin).")
@click.option("--py-cmd", default=None, help="The port's command line (default: python -m nbnumba).")
@click.option("--outdir", default="compare_out", show_default=True, type=click.Path(file_okay=False))
@click.option("--roi", nargs=4, type=int, default=None, help="xmin xmax ymin ymax: fast/slow pixel ranges, inclusive.")
@click.option("--threshold", type=float, default=None, help="Compare only pixels where either image exceeds this.")
@click.option("--trace-pixel", nargs=2, type=int, default=None, help="S F: also run and diff traces of this pixel.")
@click.option("--timeout", type=float, default=3600, show_default=True, help="Seconds allowed per program run.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def compare_cmd(ctx, c_bin, c_trace_bin, py_cmd, outdir, roi, threshold, trace_pixel, timeout, args):
    """Run nanoBragg.c and nbnumba with the same ARGS and compare every output.

    Compares the float images (correlation, max|py-c|/max|c|, ...), every other file both
    wrote (SMV header and pixels, PGM, Fdump.bin) and every line of the C's stdout; --trace-pixel
    also diffs the traces (the C side needs an instrumented build: --c-trace-bin). Exit 0 when
    everything agrees, 3 when an output differs, 4 when the image shapes differ, 2 when a
    program fails or an image cannot be read."""
    try:
        code = run_compare(c_bin, c_trace_bin, py_cmd, outdir, roi, threshold, trace_pixel, timeout, args)
    except CompareError as exc:
        click.echo(f"compare: error: {exc}", err=True)
        code = exc.code
    ctx.exit(code)
