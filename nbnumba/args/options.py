"""Settings: the variables of nanoBragg.c's main() that the command line can reach.

Names and units are the C's (metres, radians, SI); defaults are the C's initialisers
(nanoBragg.c lines ~183-400).  Vectors are 4-element float64 arrays [magnitude, x, y, z].
"""
import math
import time

import numpy as np

RTD = 180.0 * 0.31830988618379067154   # the C's 180.0*M_1_PI

SAMPLE, BEAM = "SAMPLE", "BEAM"
CUSTOM, ADXV, MOSFLM, XDS, DIALS, DENZO = "CUSTOM", "ADXV", "MOSFLM", "XDS", "DIALS", "DENZO"
SQUARE, ROUND, GAUSS, TOPHAT = 0, 1, 2, 3   # shapetype, same numbers as kernels.params


def vec4(x=0.0, y=0.0, z=0.0, mag=0.0):
    return np.array([mag, x, y, z], dtype=np.float64)


class Settings:
    """The C's state, filled by interpret.interpret() and completed by the set-up stages."""

    def __init__(self):
        # output control
        self.progress_meter = 1
        self.printout = 0
        self.printout_spixel = -1
        self.printout_fpixel = -1
        self.trace_spixel = -1
        self.trace_fpixel = -1
        self.calculate_noise = 1
        self.write_pgm = 1
        # beam
        self.beam_vector = vec4(1, 0, 0)
        self.coherent = 0
        self.round_div = 1
        self.mosaic_spread = -1.0
        self.dispersion = 0.0
        self.dispstep = -1.0
        self.lambda0 = 1.0e-10
        self.hdivstep = -1.0
        self.hdivrange = -1.0
        self.vdivstep = -1.0
        self.vdivrange = -1.0
        self.source_distance = 10.0
        self.hdivsteps = -1
        self.vdivsteps = -1
        self.dispsteps = -1
        self.mosaic_domains = -1
        self.r_e_sqr = 7.94079248018965e-30
        self.fluence = 125932015286227086360700780544.0
        self.flux = 0.0
        self.exposure = 1.0
        self.beamsize = 1e-4
        # crystal
        self.Na = 1.0
        self.Nb = 1.0
        self.Nc = 1.0
        self.xtal_shape = SQUARE
        self.fudge = 1.0
        self.sample_x = 0.0
        self.sample_y = 0.0
        self.sample_z = 0.0
        self.density = 1.0e6
        self.molecular_weight = 18.0
        self.water_size = 0.0
        self.water_F = 2.57
        self.water_MW = 18.0
        self.user_cell = 0
        self.a = vec4()
        self.b = vec4()
        self.c = vec4()
        self.alpha = 0.0
        self.beta = 0.0
        self.gamma = 0.0
        self.misset = np.zeros(4)
        # detector
        self.pixel_size = 0.1e-3
        self.fpixels = 0
        self.spixels = 0
        self.distance = 100.0e-3
        self.detsize_f = 102.4e-3
        self.detsize_s = 102.4e-3
        self.detector_mu = -1.0
        self.detector_thick = 0.0
        self.detector_thickstep = -1.0
        self.detector_thicksteps = -1
        self.fdet_vector = vec4(0, 0, 1)
        self.sdet_vector = vec4(0, -1, 0)
        self.odet_vector = vec4(1, 0, 0)
        self.pix0_vector = vec4()
        self.detector_rotx = 0.0
        self.detector_roty = 0.0
        self.detector_rotz = 0.0
        self.twotheta_axis = vec4(0, 1, 0)
        self.detector_pivot = BEAM
        self.beam_convention = MOSFLM
        self.detector_twotheta = 0.0
        self.twotheta = 0.0            # set only by an -img/-mask header, never used (as in the C)
        self.curved_detector = 0
        self.point_pixel = 0
        self.Xbeam = math.nan
        self.Ybeam = math.nan
        self.Fbeam = math.nan
        self.Sbeam = math.nan
        self.Xclose = math.nan
        self.Yclose = math.nan
        self.close_distance = math.nan
        self.Fclose = math.nan
        self.Sclose = math.nan
        self.ORGX = math.nan
        self.ORGY = math.nan
        self.dials_origin = np.zeros(4)
        self.adc_offset = 40.0
        self.dmin = 0.0
        # polarization
        self.polar_vector = vec4(0, 0, 1)
        self.polarization = 0.0
        self.nopolar = 0
        # sampling
        self.roi_xmin = -1
        self.roi_xmax = -1
        self.roi_ymin = -1
        self.roi_ymax = -1
        self.oversample = -1
        self.oversample_thick = 0
        self.oversample_polar = 0
        self.oversample_omega = 0
        # spindle
        self.phi0 = 0.0
        self.phistep = -1.0
        self.osc = -1.0
        self.phisteps = -1
        self.spindle_vector = vec4(0, 0, 1)
        # structure factors
        self.default_F = 0.0
        self.stol_file_mult = 1.0e10
        self.interpolate = 2
        # scales
        self.intfile_scale = 0.0
        self.pgm_scale = 0.0
        # random seeds (the C: seed = -time(0); misset_seed = seed)
        self.seed = -int(time.time())
        self.mosaic_seed = -12345678
        self.misset_seed = self.seed
        # file names (the C's globals)
        self.matfilename = None
        self.hklfilename = None
        self.dumpfilename = "Fdump.bin"
        self.stolfilename = None
        self.imginfilename = None
        self.maskfilename = None
        self.stoloutfilename = "output.stol"
        self.sourcefilename = None
        self.floatfilename = "floatimage.bin"
        self.intfilename = "intimage.img"
        self.pgmfilename = "image.pgm"
        self.noisefilename = "noiseimage.img"
        # nbnumba's own options
        self.device = None
        self.precision = "double"
        self.strict = False
        self.timings = False
