"""What the validation tools share: JSON output, the record of the machine, the click settings.

`trace-diff` and `compare` both write JSON files that must stay valid JSON whatever the
numbers (`json_safe`, `write_json`) and record the versions and compute device of the
process that ran them (`environment`, whose `device` is the tools' one device probe).
`CONTEXT_SETTINGS` makes a click subcommand answer `-h` as well as `--help` (compare, whose
ARGS are nanoBragg's flags, maps a lone `-h` itself: see compare.PassThroughCommand).
"""
import datetime
import json
import math
import platform
import sys

TINY = 1e-300   # the floor of a relative difference's denominator (|py - c| / max(max|c|, TINY))
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def json_number(x):
    """A JSON-safe number: non-finite floats become the strings 'inf', '-inf', 'nan'."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def json_safe(value):
    """`value` with every non-finite float in its dicts, lists and tuples made JSON-safe."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return json_number(value)


def write_json(path, data):
    """Write data as indented JSON (strict: a non-finite float raises ValueError)."""
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1, allow_nan=False)
        fh.write("\n")


def device():
    """'cuda: NAME' when this process would find a CUDA GPU, else 'cpu' (the one device probe
    of the tools; kernels' cuda_available decides, without importing numba.cuda on a machine
    with no NVIDIA driver)."""
    try:
        from nbnumba.kernels.targets import cuda_available
        if cuda_available():
            from numba import cuda
            name = cuda.get_current_device().name
            return "cuda: " + (name.decode() if isinstance(name, bytes) else str(name))
    except Exception:  # no numba, no CUDA driver, or a broken toolkit: all mean "cpu"
        pass
    return "cpu"


def _version(module):
    try:
        return __import__(module).__version__
    except Exception:
        return None


def environment():
    """Versions, platform and compute device of this process, and the time (UTC)."""
    return {"python": sys.version.split()[0], "numpy": _version("numpy"), "numba": _version("numba"),
            "nbnumba": _version("nbnumba"), "platform": platform.platform(),
            "machine": platform.machine(), "device": device(),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
