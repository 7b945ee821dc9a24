"""nbnumba: James Holton's nanoBragg.c, ported to Python faithfully, fast on CPUs and GPUs.

    import nbnumba
    result = nbnumba.Simulation(default_F=100, cell=(100, 100, 100, 90, 90, 90), lambda_=6.2, N=5,
                                detpixels=256).run()
    result.image            # float32 (256, 256): nanoBragg.c's floatimage.bin, bit for bit
    result.intimage, result.noiseimage, result.statistics, result.stdout

`Simulation` (also `Simulation.from_args(argv)`), `Result`, `Settings` (how a run is carried
out: device, strict, threads...; the environment is read only by `Settings.from_environ()`),
`NBError` (bad input, a ValueError) and `NBWarning` (odd input) are imported on first use:
`import nbnumba` itself loads nothing heavy.
"""
__version__ = "0.1.0"
__all__ = ["Simulation", "Result", "Settings", "NBError", "NBWarning", "__version__"]

_LAZY = {"Simulation": "nbnumba.simulation", "Result": "nbnumba.simulation", "Settings": "nbnumba.settings",
         "NBError": "nbnumba.errors", "NBWarning": "nbnumba.errors"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError("module 'nbnumba' has no attribute %r" % name)


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
