"""Mosaic domains: one rotation matrix per domain from the C's RNG (main(), lines ~2372-2395)."""
import numpy as np

from nbnumba.cfuncs.rng import mosaic_rotation_umat


def make_domains(s, out):
    """s.mosaic_umats: domains*9 float64, row-major; domain 0 is forced to the identity."""
    umats = np.zeros(9 * s.mosaic_domains)
    seed = np.array([s.mosaic_seed], dtype=np.int64)
    spread = np.float32(s.mosaic_spread)     # mosaic_rotation_umat() takes a float
    for mos_tic in range(s.mosaic_domains):
        umats[9 * mos_tic:9 * mos_tic + 9] = mosaic_rotation_umat(spread, seed, s.rng[0])
        if mos_tic == 0:
            umats[0:9] = np.eye(3).ravel()
    s.mosaic_seed = int(seed[0])
    s.mosaic_umats = umats
    out("  created a total of %d mosaic domains\n" % s.mosaic_domains)
