"""nanoBragg.c's constants and named choices, in one place.

Numbers are the C's own literals (nanoBragg.c lines ~340-360 and where it uses them); the
named choices are the C's #defines and enums (detector conventions, pivots, crystal shapes).
"""
from enum import IntEnum

# double RTD = 180.0*M_1_PI (line 349), with M_1_PI the double nearest 1/pi
M_1_PI = 0.31830988618379067154
RTD = 180.0 * M_1_PI
AVOGADRO = 6.02214179e23            # the C's Avogadro's number (molecular weight estimate, water)
DBL_MIN = 2.2250738585072014e-308   # <float.h>'s DBL_MIN: the C's stand-in for a zero divisor
R_E_SQR = 7.94079248018965e-30      # classical electron radius squared, m^2 (r_e_sqr)

# beam_convention
CUSTOM, ADXV, MOSFLM, XDS, DIALS, DENZO = "CUSTOM", "ADXV", "MOSFLM", "XDS", "DIALS", "DENZO"
# detector_pivot
SAMPLE, BEAM = "SAMPLE", "BEAM"


class CrystalShape(IntEnum):
    """xtal_shape, the C's shapetype: the lattice factor's form (-square_xtal, -round_xtal,
    -gauss_xtal, -tophat_spots)."""
    SQUARE = 0          # parallelepiped: the sincg product
    ROUND = 1           # ellipsoidal: sinc3
    GAUSS = 2           # Gaussian spots, no inter-Bragg maxima
    TOPHAT = 3          # spots clipped at their FWHM


class Interpolation(IntEnum):
    """The C's `interpolate` as the command line leaves it: -nointerpolate, -interpolate, or
    neither (the set-up then chooses: on when any of Na, Nb, Nc <= 2)."""
    OFF = 0
    ON = 1
    AUTO = 2


# the numbers the kernels compare xtal_shape with (a kernel cache key source)
SQUARE, ROUND, GAUSS, TOPHAT = (int(shape) for shape in CrystalShape)
