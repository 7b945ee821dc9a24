"""pytest-benchmark of the render kernel (run: pytest benchmarks --benchmark-enable).

Times serial_replay.render() alone, with the plan built once and the kernel compiled, on a
few representative set-ups; the whole-program comparison with the C is bench.py."""
import pytest

from nbnumba.kernels import serial_replay
from nbnumba.kernels.targets import select_target
from nbnumba.simulation import Simulation

CASES = {
    "cubic_256_N5": "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 256",
    "triclinic_mosaic_phi_256": "-default_F 100 -cell 70 80 90 75 85 95 -misset 10 5 3 -lambda 1.5 -N 8 "
                                "-mosaic 0.5 -mosaic_dom 4 -phisteps 5 -osc 0.5 -oversample 2 -detpixels 256",
    "interpolated_N2_256": "-default_F 100 -cell 100 100 100 90 90 90 -lambda 2.5 -N 2 -interpolate "
                           "-distance 100 -detpixels 256",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_kernel(benchmark, name):
    sim = Simulation.from_args((CASES[name] + " -nonoise -nopgm").split())
    sim.setup()
    target, _, _ = select_target("cpu", "double", lambda text: None)
    serial_replay.render(serial_replay.prepare(sim.plan, target))      # compile or load from cache
    result = benchmark(lambda: serial_replay.render(serial_replay.prepare(sim.plan, target)))
    assert result.image.max() > 0
