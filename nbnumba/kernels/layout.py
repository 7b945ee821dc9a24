"""Slot numbers of the flat arrays that carry a RenderPlan into the kernels.

The kernels take a handful of plain arrays (no Python objects) so the same call works
on the CPU, on a GPU and across processes: `fp` float64 scalars, `ip` int64 scalars,
`vec` (N_VEC, 4) float64 vectors in the C's [magnitude, x, y, z] layout, `src` (sources, 5)
rows X Y Z I lambda, `lattice` (2, phisteps, domains, 3, 4) (physics.lattice_table) and the
structure-factor grid `Fhkl`.
"""

# fp: float64 scalars, the C's variable names
FP_PIXEL_SIZE = 0
FP_SUBPIXEL_SIZE = 1
FP_DISTANCE = 2
FP_CLOSE_DISTANCE = 3
FP_DETECTOR_THICK = 4
FP_DETECTOR_THICKSTEP = 5
FP_DETECTOR_MU = 6
FP_POLARIZATION = 7
FP_DMIN = 8
FP_FUDGE = 9
FP_NA = 10
FP_NB = 11
FP_NC = 12
FP_DEFAULT_F = 13
FP_I_BG = 14
FP_WATER_SIZE = 15
FP_PHI0 = 16
FP_PHISTEP = 17
FP_MOSAIC_SPREAD = 18
FP_R_E_SQR = 19
FP_FLUENCE = 20
N_FP = 21

# ip: int64 scalars
IP_FPIXELS = 0
IP_SPIXELS = 1
IP_OVERSAMPLE = 2
IP_THICKSTEPS = 3
IP_SOURCES = 4
IP_PHISTEPS = 5
IP_MOSAIC_DOMAINS = 6
IP_STEPS = 7
IP_CURVED = 8
IP_POINT_PIXEL = 9
IP_NOPOLAR = 10
IP_OVERSAMPLE_THICK = 11
IP_OVERSAMPLE_POLAR = 12
IP_OVERSAMPLE_OMEGA = 13
IP_XTAL_SHAPE = 14
IP_HKLS = 15
IP_H_MIN = 16
IP_H_MAX = 17
IP_H_RANGE = 18
IP_K_MIN = 19
IP_K_MAX = 20
IP_K_RANGE = 21
IP_L_MIN = 22
IP_L_MAX = 23
IP_L_RANGE = 24
IP_ROI_XMIN = 25
IP_ROI_XMAX = 26
IP_ROI_YMIN = 27
IP_ROI_YMAX = 28
IP_INTERPOLATE = 29
IP_SWEEP_ROTATES = 30   # some phi step of the sweep is != 0 (it rotates ap,bp,cp)
N_IP = 31

# vec rows
V_FDET = 0
V_SDET = 1
V_ODET = 2
V_PIX0 = 3
V_BEAM = 4
V_POLAR = 5
V_A_STAR = 6
V_B_STAR = 7
V_C_STAR = 8
N_VEC = 9

# crystal shapes (the C's shapetype)
SHAPE_SQUARE = 0
SHAPE_ROUND = 1
SHAPE_GAUSS = 2
SHAPE_TOPHAT = 3

# what a pixel leaves behind (its last loop values)
L_I = 0
L_POLAR = 1
L_OMEGA = 2
L_OMEGA_SUM = 3
L_CAPTURE = 4
L_FDET = 5
L_SDET = 6
L_AIRPATH = 7
L_STOL = 8
L_H = 9
L_K = 10
L_L = 11
L_H0 = 12
L_K0 = 13
L_L0 = 14
L_F_CELL = 15
L_F_LATT = 16
L_OOR_H = 17
L_OOR_K = 18
L_OOR_L = 19
L_OOR_H0 = 20
L_OOR_K0 = 21
L_OOR_L0 = 22
L_LAT_CARRY = 23   # lattice[carry, phi, mos] the last subpath used (the C's a,b,c)
L_LAT_PHI = 24
L_LAT_MOS = 25
L_POS1 = 26      # pixel_pos of the last subpixel
L_POS2 = 27
L_POS3 = 28
L_INC1 = 29      # incident and diffracted as the last subpath left them
L_INC2 = 30
L_INC3 = 31
L_DIF1 = 32
L_DIF2 = 33
L_DIF3 = 34
N_LAST = 35

# pixel flags
PIX_EXECUTED = 1   # some subpath passed the dmin cut and ran its phi sweep
PIX_OOR = 2        # an interpolation neighbourhood fell outside the HKL grid

# trace buffer: row 0 holds the count, each row is [code, values...]
TR_WIDTH = 32
TR_SUBPIXEL = 1
TR_ROT = 2
TR_FLATT = 3
TR_PHI = 4
TR_FCELL = 5
TR_SOURCE2 = 6
