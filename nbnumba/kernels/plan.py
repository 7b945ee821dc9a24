"""RenderPlan: everything the render kernels need, as NumPy arrays and one record (no Python objects)."""
from dataclasses import dataclass

import numpy as np

from nbnumba.kernels.params import PARAMS, VECTORS
from nbnumba.kernels.physics import lattice_table


@dataclass
class RenderPlan:
    params: np.ndarray    # one PARAMS record (kernels/params.py): the render loop's scalars and vectors
    src: np.ndarray       # (sources, 5) X Y Z weight lambda
    cells: np.ndarray     # (2, phisteps, domains, 3, 4): a, b, c per (carry, phi, domain), physics.lattice_table
    lattice: np.ndarray   # the same cell vectors' x, y, z, flat: what the kernels read
    Fhkl: np.ndarray      # (h_range+1, k_range+1, l_range+1)
    mask: np.ndarray      # uint16 (pixels,), empty when there is no -mask
    pixels: int           # the C's int pixels = fpixels*spixels: the length of the image

    @property
    def p(self):
        """The params record (read its fields by name: plan.p.fpixels)."""
        return self.params.view(np.recarray)[0]

    @property
    def tricubic(self):
        """The structure factors for tricubic interpolation, or None when the run does not
        interpolate (the kernels are then compiled without it)."""
        return self.Fhkl if self.p.interpolate else None

    @property
    def fpixels(self):
        return int(self.p.fpixels)

    @property
    def spixels(self):
        return int(self.p.spixels)


def build_plan(s):
    """The plan of the set-up held in `s` (its fields keep the C's names)."""
    g = s.hkl
    known = dict(sources=len(s.sources), hkls=g.hkls, h_min=g.h_min, h_max=g.h_max, h_range=g.h_range,
                 k_min=g.k_min, k_max=g.k_max, k_range=g.k_range, l_min=g.l_min, l_max=g.l_max, l_range=g.l_range,
                 sweep_rotates=any(s.phi0 + s.phistep * phi_tic != 0.0 for phi_tic in range(s.phisteps)))
    vectors = dict(fdet=s.fdet_vector, sdet=s.sdet_vector, odet=s.odet_vector, pix0=s.pix0_vector,
                   beam=s.beam_vector, polar=s.polar_vector, a_star=s.a_star, b_star=s.b_star, c_star=s.c_star)
    for name in VECTORS:
        known.update((name + str(i), vectors[name][i]) for i in (1, 2, 3))
    params = np.zeros(1, dtype=PARAMS)
    for name in PARAMS.names:
        params[name] = known[name] if name in known else getattr(s, name)
    mask = s.maskimage if s.maskimage is not None else np.zeros(0, dtype=np.uint16)
    cells = lattice_table(s.a0, s.b0, s.c0, s.phi0, s.phistep, s.phisteps, s.spindle_vector,
                          s.mosaic_umats, s.mosaic_spread)
    return RenderPlan(params, np.ascontiguousarray(s.sources), cells, np.ascontiguousarray(cells[..., 1:4]).ravel(),
                      np.ascontiguousarray(g.F, dtype=np.float64), mask, s.pixels)
