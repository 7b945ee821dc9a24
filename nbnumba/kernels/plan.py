"""RenderPlan: everything the render kernels need, as NumPy arrays and one record (no Python objects)."""
from dataclasses import dataclass

import numpy as np

from nbnumba.kernels.params import FINE, PARAMS, PARAMS32, VECTORS
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

    def arrays(self, single=False):
        """(params, src, lattice, Fhkl, tricubic, mask): what the kernels read, in float64, or for
        the single-precision physics (physics32.py; made once per plan) in float32 with the
        float-float low parts it needs: params.PARAMS32's <name>_lo fields, src's columns 5-9
        (the low parts of columns 0-4) and the lattice table's second half (its low parts)."""
        if not single:
            return self.params, self.src, self.lattice, self.Fhkl, self.tricubic, self.mask
        if "_single" not in self.__dict__:
            params = np.zeros(1, dtype=PARAMS32)
            for name in PARAMS.names:
                params[name] = self.params[name]
            for name in FINE:
                params[name + "_lo"] = _low_part(self.params[name])
            F = self.Fhkl.astype(np.float32)
            self._single = (params, np.hstack([self.src, _low_part(self.src)]).astype(np.float32),
                            np.concatenate([self.lattice, _low_part(self.lattice)]).astype(np.float32), F,
                            F if self.tricubic is not None else None, self.mask)
        return self._single

    @property
    def fpixels(self):
        return int(self.p.fpixels)

    @property
    def spixels(self):
        return int(self.p.spixels)


def _low_part(x):
    """x - float32(x): with float32(x), x as a float-float pair (to about 48 bits)."""
    x = np.asarray(x, dtype=np.float64)
    return x - x.astype(np.float32)


def build_plan(records):
    """The plan of a set-up (setup.records.Setup): the records' values under the C's names.
    Arrays are copied writable: the kernels are compiled (and cached) for writable arrays."""
    options, d, st, cr = records.options, records.detector, records.steps, records.crystal
    cell, g = cr.cell, records.structure_factors.grid
    known = dict(
        pixel_size=d.pixel_size, subpixel_size=records.sampling.subpixel_size, distance=d.distance,
        close_distance=d.close_distance, detector_thick=st.detector_thick, detector_thickstep=st.detector_thickstep,
        detector_mu=st.detector_mu, polarization=options.polarization, dmin=options.dmin, fudge=options.fudge,
        Na=cr.Na, Nb=cr.Nb, Nc=cr.Nc, default_F=options.default_F, I_bg=records.exposure.I_bg,
        water_size=options.water_size, phi0=options.phi0,
        phistep=st.phistep, r_e_sqr=options.r_e_sqr, fluence=records.exposure.fluence,
        fpixels=d.fpixels, spixels=d.spixels, oversample=records.sampling.oversample,
        detector_thicksteps=st.detector_thicksteps, sources=len(records.sources.table), phisteps=st.phisteps,
        mosaic_domains=st.mosaic_domains, steps=records.sampling.steps, curved_detector=options.curved_detector,
        point_pixel=options.point_pixel, nopolar=options.nopolar, oversample_thick=options.oversample_thick,
        oversample_polar=options.oversample_polar, oversample_omega=options.oversample_omega,
        xtal_shape=options.xtal_shape,
        hkls=g.hkls, h_min=g.h_min, h_max=g.h_max, h_range=g.h_range, k_min=g.k_min, k_max=g.k_max,
        k_range=g.k_range, l_min=g.l_min, l_max=g.l_max, l_range=g.l_range, roi_xmin=d.roi_xmin,
        roi_xmax=d.roi_xmax, roi_ymin=d.roi_ymin, roi_ymax=d.roi_ymax,
        interpolate=records.structure_factors.interpolate,
        sweep_rotates=any(options.phi0 + st.phistep * phi_tic != 0.0 for phi_tic in range(st.phisteps)))
    vectors = dict(fdet=d.fdet_vector, sdet=d.sdet_vector, odet=d.odet_vector, pix0=d.pix0_vector,
                   beam=d.beam_vector, polar=d.polar_vector, a_star=cell.a_star, b_star=cell.b_star,
                   c_star=cell.c_star)
    for name in VECTORS:
        known.update((name + str(i), vectors[name][i]) for i in (1, 2, 3))
    params = np.zeros(1, dtype=PARAMS)
    for name in PARAMS.names:
        params[name] = known[name]
    mask = np.array(records.mask) if records.mask is not None else np.zeros(0, dtype=np.uint16)
    cells = lattice_table(cell.a0, cell.b0, cell.c0, options.phi0, st.phistep, st.phisteps, d.spindle_vector,
                          records.mosaic.umats, st.mosaic_spread)
    return RenderPlan(params, np.array(records.sources.table), cells, np.ascontiguousarray(cells[..., 1:4]).ravel(),
                      np.array(g.F, dtype=np.float64), mask, d.pixels)
