"""RenderPlan: everything the render kernels need, as plain numpy arrays (no Python objects)."""
from dataclasses import dataclass

import numpy as np

from nbnumba.kernels import layout as L
from nbnumba.kernels.physics import lattice_table


@dataclass
class RenderPlan:
    fp: np.ndarray        # float64 scalars, layout.FP_*
    ip: np.ndarray        # int64 scalars, layout.IP_*
    vec: np.ndarray       # (N_VEC, 4) float64, layout.V_*
    src: np.ndarray       # (sources, 5) X Y Z weight lambda
    cells: np.ndarray     # (2, phisteps, domains, 3, 4): a, b, c per (carry, phi, domain), physics.lattice_table
    lattice: np.ndarray   # the same cell vectors' x, y, z, flat: what the kernels read
    Fhkl: np.ndarray      # (h_range+1, k_range+1, l_range+1)
    mask: np.ndarray      # uint16 (pixels,), empty when there is no -mask

    @property
    def tricubic(self):
        """The structure factors for tricubic interpolation, or None when the run does not
        interpolate (the kernels are then compiled without it)."""
        return self.Fhkl if self.ip[L.IP_INTERPOLATE] else None

    @property
    def fpixels(self):
        return int(self.ip[L.IP_FPIXELS])

    @property
    def spixels(self):
        return int(self.ip[L.IP_SPIXELS])


def build_plan(s):
    fp = np.zeros(L.N_FP)
    fp[L.FP_PIXEL_SIZE] = s.pixel_size
    fp[L.FP_SUBPIXEL_SIZE] = s.subpixel_size
    fp[L.FP_DISTANCE] = s.distance
    fp[L.FP_CLOSE_DISTANCE] = s.close_distance
    fp[L.FP_DETECTOR_THICK] = s.detector_thick
    fp[L.FP_DETECTOR_THICKSTEP] = s.detector_thickstep
    fp[L.FP_DETECTOR_MU] = s.detector_mu
    fp[L.FP_POLARIZATION] = s.polarization
    fp[L.FP_DMIN] = s.dmin
    fp[L.FP_FUDGE] = s.fudge
    fp[L.FP_NA] = s.Na
    fp[L.FP_NB] = s.Nb
    fp[L.FP_NC] = s.Nc
    fp[L.FP_DEFAULT_F] = s.default_F
    fp[L.FP_I_BG] = s.I_bg
    fp[L.FP_WATER_SIZE] = s.water_size
    fp[L.FP_PHI0] = s.phi0
    fp[L.FP_PHISTEP] = s.phistep
    fp[L.FP_MOSAIC_SPREAD] = s.mosaic_spread
    fp[L.FP_R_E_SQR] = s.r_e_sqr
    fp[L.FP_FLUENCE] = s.fluence

    g = s.hkl
    sweep_rotates = any(s.phi0 + s.phistep * phi_tic != 0.0 for phi_tic in range(s.phisteps))
    ip = np.zeros(L.N_IP, dtype=np.int64)
    for slot, value in ((L.IP_FPIXELS, s.fpixels), (L.IP_SPIXELS, s.spixels), (L.IP_OVERSAMPLE, s.oversample),
                        (L.IP_THICKSTEPS, s.detector_thicksteps), (L.IP_SOURCES, len(s.sources)),
                        (L.IP_PHISTEPS, s.phisteps), (L.IP_MOSAIC_DOMAINS, s.mosaic_domains), (L.IP_STEPS, s.steps),
                        (L.IP_CURVED, s.curved_detector), (L.IP_POINT_PIXEL, s.point_pixel),
                        (L.IP_NOPOLAR, s.nopolar), (L.IP_OVERSAMPLE_THICK, s.oversample_thick),
                        (L.IP_OVERSAMPLE_POLAR, s.oversample_polar), (L.IP_OVERSAMPLE_OMEGA, s.oversample_omega),
                        (L.IP_XTAL_SHAPE, s.xtal_shape), (L.IP_HKLS, g.hkls),
                        (L.IP_H_MIN, g.h_min), (L.IP_H_MAX, g.h_max), (L.IP_H_RANGE, g.h_range),
                        (L.IP_K_MIN, g.k_min), (L.IP_K_MAX, g.k_max), (L.IP_K_RANGE, g.k_range),
                        (L.IP_L_MIN, g.l_min), (L.IP_L_MAX, g.l_max), (L.IP_L_RANGE, g.l_range),
                        (L.IP_ROI_XMIN, s.roi_xmin), (L.IP_ROI_XMAX, s.roi_xmax),
                        (L.IP_ROI_YMIN, s.roi_ymin), (L.IP_ROI_YMAX, s.roi_ymax),
                        (L.IP_INTERPOLATE, s.interpolate), (L.IP_SWEEP_ROTATES, sweep_rotates)):
        ip[slot] = value

    vec = np.zeros((L.N_VEC, 4))
    for slot, v in ((L.V_FDET, s.fdet_vector), (L.V_SDET, s.sdet_vector), (L.V_ODET, s.odet_vector),
                    (L.V_PIX0, s.pix0_vector), (L.V_BEAM, s.beam_vector), (L.V_POLAR, s.polar_vector),
                    (L.V_A_STAR, s.a_star), (L.V_B_STAR, s.b_star), (L.V_C_STAR, s.c_star)):
        vec[slot] = v
    mask = s.maskimage if s.maskimage is not None else np.zeros(0, dtype=np.uint16)
    cells = lattice_table(s.a0, s.b0, s.c0, s.phi0, s.phistep, s.phisteps, s.spindle_vector,
                          s.mosaic_umats, s.mosaic_spread)
    return RenderPlan(fp, ip, vec, np.ascontiguousarray(s.sources), cells,
                      np.ascontiguousarray(cells[..., 1:4]).ravel(), np.ascontiguousarray(g.F, dtype=np.float64),
                      mask)
