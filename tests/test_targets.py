"""The render targets provide what kernels/targets.py declares (RenderTarget), with the
declared signatures, so serial_replay, the live report and the trace can drive any of them."""
import inspect

import numpy as np

from nbnumba.kernels import cpu, cuda
from nbnumba.kernels.targets import RenderTarget
from nbnumba.simulation import Simulation

METHODS = ("__init__", "load", "render", "flags_of", "pixel", "finish")


def test_every_target_has_the_declared_methods():
    for target in (cpu.CpuRender, cuda.CudaRender, cuda.CudaRender32):
        for name in METHODS:
            assert (inspect.signature(getattr(target, name)).parameters.keys()
                    == inspect.signature(getattr(RenderTarget, name)).parameters.keys()), (target, name)
        assert target.name in ("cpu", "cuda") and target.precision in ("double", "single")


def test_a_cpu_render_is_a_render_target():
    sim = Simulation.from_args("-default_F 1 -cell 10 10 10 90 90 90 -lambda 1 -N 1 -distance 100 -detpixels 4 "
                               "-pixel 0.1 -roi 1 2 0 3".split(), out=lambda text: None)
    sim.setup()
    from nbnumba.kernels import serial_replay
    run = serial_replay.prepare(sim.plan, cpu.CpuRender)
    assert isinstance(run, RenderTarget)
    assert (run.box.x0, run.box.width, run.box.rows) == (1, 2, 4)
    result = serial_replay.render(run)
    image = result.image.reshape(4, 4)
    assert np.all(image[:, 1:3] > 0) and not image[:, [0, 3]].any()
