"""`nbnumba compare [OPTIONS] -- ARGS...`: run nanoBragg.c and nbnumba on the same arguments.

Each program runs in its own temporary folder (the input files ARGS name and a `Fdump.bin`
of the current folder are copied in), timed by wall clock. Both float images are read
(`floatimage.bin`, or the `-floatfile`/`-floatimage` name) and shaped by the SIZE1 (fast) /
SIZE2 (slow) fields of the program's SMV int image (`intimage.img`, or the
`-intfile`/`-intimage` name), falling back to a square. Over the compared pixels (all, or
`--roi xmin xmax ymin ymax` in fast/slow pixel indices, inclusive, and pixels where either
image exceeds `--threshold`) it measures correlation, RMSE, max |py-c|, max |py-c| / max|c|,
both sums and their ratio, and the bit-identical fraction; `wall_ratio_c_over_py` is the C's
wall time over the port's (above 1, the port is faster). It writes into
--outdir: `c.png`, `py.png` (shared log-like gray scale), `diff.png` (port minus C,
blue-white-red on a signed square-root scale; all three cropped to --roi when given),
`summary.json`, and both programs' output (`c_stdout.txt`, `py_stdout.txt`).

With `--trace-pixel S F` both programs run again with `-trace_pixel S F` (the C side with
`--c-trace-bin`, an instrumented build, when given); their output is kept as `c_trace.log` /
`py_trace.log` and diffed label by label as `nbnumba trace-diff` does, into the same folder.

Exit status: 0 the images agree (PASS_RULE), 3 they differ (or the traces do), 4 their shapes
differ, 2 a program failed or an input/output could not be read.
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

from nbnumba.png import write_png
from nbnumba.tools.trace_diff import environment, run_trace_diff, write_json

EXIT_OK, EXIT_INPUT, EXIT_DIFFER, EXIT_SHAPE = 0, 2, 3, 4
MIN_CORRELATION = 0.999999
MAX_REL_DIFF = 1e-6
PASS_RULE = {
    "text": f"pass when correlation >= {MIN_CORRELATION} and max_rel_diff <= {MAX_REL_DIFF} "
            "over the compared pixels, with every compared pixel finite; "
            "max_rel_diff = max|py - c| / max|c|",
    "min_correlation": MIN_CORRELATION,
    "max_rel_diff": MAX_REL_DIFF,
}
INPUT_FLAGS = ("-hkl", "-mat", "-sourcefile", "-img", "-mask", "-stol", "-4stol", "-Q", "-dump")
FLOAT_FLAGS, FLOAT_DEFAULT = ("-floatfile", "-floatimage"), "floatimage.bin"
INT_FLAGS, INT_DEFAULT = ("-intfile", "-intimage"), "intimage.img"
FDUMP = "Fdump.bin"
TINY = 1e-300
# diverging map end points (port below C: blue, above: red)
BLUE = np.array([59, 76, 192], float)
RED = np.array([180, 4, 38], float)
WHITE = np.array([255, 255, 255], float)


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
    output: str

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
        code, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, output = "timeout", _text(exc.stdout) + _text(exc.stderr)
    except OSError as exc:
        raise CompareError(f"cannot run {name} command {shlex.join(cmd)}: {exc.strerror or exc}") from None
    return RunResult(name, cmd, folder, code, time.perf_counter() - start, output)


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


def gray(image, vmax):
    """Log-like 8-bit gray: 0 at <= 0, 255 at vmax, 1/1000 of vmax at about a quarter."""
    x = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=vmax, neginf=0.0).clip(0, None)
    if vmax <= 0:
        return np.zeros(image.shape, np.uint8)
    scaled = np.log1p(x / (vmax / 1000.0)) / np.log1p(1000.0)
    return np.round(255 * scaled.clip(0, 1)).astype(np.uint8)


def diff_rgb(c, py):
    """Port minus C as RGB on a signed square-root scale of |py-c| / max|py-c|:
    blue below, white equal, red above, black where not finite."""
    d = py.astype(np.float64) - c.astype(np.float64)
    finite = np.isfinite(d)
    scale = float(np.max(np.abs(d[finite]))) if finite.any() else 0.0
    t = np.where(finite, d, 0.0) / scale if scale > 0 else np.zeros(d.shape)
    t = (np.sign(t) * np.sqrt(np.abs(t).clip(0, 1)))[..., None]
    rgb = np.where(t < 0, WHITE + (-t) * (BLUE - WHITE), WHITE + t * (RED - WHITE))
    rgb[~finite] = 0
    return np.round(rgb).astype(np.uint8), scale


def write_pictures(c, py, outdir, roi):
    """c.png, py.png, diff.png (cropped to roi when given); return their scales."""
    if roi is not None:
        c, py = c[roi_window(roi)], py[roi_window(roi)]
    both = np.concatenate([c.ravel(), py.ravel()]).astype(np.float64)
    both = both[np.isfinite(both)]
    vmax = float(both.max()) if both.size else 0.0
    write_png(os.path.join(outdir, "c.png"), gray(c, vmax))
    write_png(os.path.join(outdir, "py.png"), gray(py, vmax))
    rgb, scale = diff_rgb(c, py)
    write_png(os.path.join(outdir, "diff.png"), rgb)
    return {"c": "c.png", "py": "py.png", "diff": "diff.png", "gray_max": vmax, "diff_abs_max": scale}


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
    """Fill summary with image metrics and write the pictures; return the exit status."""
    c, py = (load_float_image(run, args) for run in runs)
    summary["shape_c"], summary["shape_py"] = list(c.shape), list(py.shape)
    if c.shape != py.shape:
        raise CompareError(f"image shapes differ: C {c.shape[0]}x{c.shape[1]} vs PY "
                           f"{py.shape[0]}x{py.shape[1]} (slow x fast)", EXIT_SHAPE)
    metrics = image_metrics(c, py, selection(c.shape, roi, threshold, c, py))
    summary["metrics"] = metrics
    summary["pass"] = passes(metrics)
    summary["png"] = write_pictures(c, py, outdir, roi)
    return EXIT_OK if summary["pass"] else EXIT_DIFFER


def compare_traces(c_cmd, py_cmd, args, trace_pixel, outdir, workdir, timeout, summary):
    """Render the trace pixel on both sides, keep the logs and diff them; return the exit status."""
    extra = ["-trace_pixel", str(trace_pixel[0]), str(trace_pixel[1])]
    runs = run_both(c_cmd, py_cmd, list(args) + extra, workdir, timeout, tag="_trace")
    summary["trace"] = {"pixel_slow_fast": list(trace_pixel), "c": runs[0].as_json(), "py": runs[1].as_json()}
    for run, filename in zip(runs, ("c_trace.log", "py_trace.log")):
        save_output(outdir, filename, run)
        check_run(run)
    code = run_trace_diff(os.path.join(outdir, "c_trace.log"), os.path.join(outdir, "py_trace.log"),
                          out_dir=outdir, c_cmd=runs[0].as_json()["cmd"], py_cmd=runs[1].as_json()["cmd"])
    summary["trace"]["exit_code"] = code
    summary["trace"]["files"] = ["c_trace.log", "py_trace.log", "summary.md", "metrics.json", "run_metadata.json"]
    return code


def report_lines(summary):
    lines = []
    for side in ("c", "py"):
        run = summary.get(side)
        if run:
            lines.append(f"{side.upper():>2}: exit {run['exit_code']}  {run['wall_s']:.3f} s  {run['cmd']}")
    if summary.get("wall_ratio_c_over_py") is not None:
        lines.append(f"wall time C / PY: {summary['wall_ratio_c_over_py']:.3g} (above 1: the port is faster)")
    for key, value in summary.get("metrics", {}).items():
        lines.append(f"  {key:<24} {value:.10g}" if isinstance(value, float) else f"  {key:<24} {value}")
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
            code = compare_images(runs, list(args), outdir, roi, threshold, summary)
            if trace_pixel:
                c_trace_cmd = [program_path(c_trace_bin or c_bin)]
                trace_code = compare_traces(c_trace_cmd, p_cmd, args, trace_pixel, outdir, workdir, timeout, summary)
                code = code or trace_code
        except CompareError as exc:
            summary["error"] = str(exc)
            code = exc.code
        summary["exit_code"] = code
        write_json(os.path.join(outdir, "summary.json"), _json_safe(summary))
    for line in report_lines(summary):
        click.echo(line)
    if "error" in summary:
        click.echo(f"compare: error: {summary['error']}", err=True)
    else:
        click.echo(f"pass rule: {PASS_RULE['text']}")
        click.echo(f"result: {'PASS' if code == EXIT_OK else 'FAIL'} (exit {code})")
    return code


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


@click.command("compare", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
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
    """Run nanoBragg.c and nbnumba with the same ARGS and compare their float images.

    Exit 0 when they agree (correlation >= 0.999999 and max|py-c|/max|c| <= 1e-6), 3 when they
    differ, 4 when their shapes differ, 2 when a program fails or an image cannot be read."""
    try:
        code = run_compare(c_bin, c_trace_bin, py_cmd, outdir, roi, threshold, trace_pixel, timeout, args)
    except CompareError as exc:
        click.echo(f"compare: error: {exc}", err=True)
        code = exc.code
    ctx.exit(code)
