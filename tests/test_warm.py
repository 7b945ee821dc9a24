"""A process that runs job after job (a batch worker, the server) keeps what it parsed: an HKL
file read before gives the same grid and prints the same lines, warnings included; a file
whose content changed is read again (setup/structure_factors.py)."""
import numpy as np

from golden import CPU

from nbnumba import Simulation
from nbnumba.setup import structure_factors

ARGS = "-hkl my.hkl -cell 100 100 100 90 90 90 -lambda 1 -N 3 -distance 100 -detpixels 24 -nonoise -nopgm".split()



def test_a_parsed_file_is_reused_with_its_lines_and_read_again_when_it_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hkl = tmp_path / "my.hkl"
    hkl.write_text("0 0 1 10\n1 0 0 20\n0 1 0 30\n1 1 0.5 40\n")     # a non-integer index: the C warns
    structure_factors._PARSED.clear()
    first = Simulation.from_args(ARGS, settings=CPU).run()
    assert len(structure_factors._PARSED) == 1
    again = Simulation.from_args(ARGS, settings=CPU).run()
    assert again.stdout == first.stdout                                 # said again on a reuse
    assert "counting entries in my.hkl" in again.stdout
    assert "WARNING: non-integer value for l (0.5) at line 3" in again.stdout
    assert np.array_equal(again.image, first.image)
    assert again.setup.structure_factors.grid is first.setup.structure_factors.grid

    hkl.write_text("0 0 1 10\n1 0 0 20\n0 1 0 30\n1 1 0 80\n")        # same size class, new content
    changed = Simulation.from_args(ARGS, settings=CPU).run()
    assert changed.setup.structure_factors.grid is not first.setup.structure_factors.grid
    assert changed.setup.structure_factors.grid.F[1, 1, 0] == 80.0
