"""nanoBragg.c's constants and named choices, in one place.

Numbers are the C's own literals (nanoBragg.c lines ~340-360 and where it uses them); the
named choices are the C's #defines and enums (detector conventions, pivots, crystal shapes).
"""

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
# xtal_shape (the C's shapetype): the numbers the kernels compare with (a kernel cache key source)
SQUARE, ROUND, GAUSS, TOPHAT = 0, 1, 2, 3
