"""Mosaic domains: one rotation matrix per domain from the C's RNG (main(), lines ~2372-2395)."""
from dataclasses import dataclass

import numpy as np

from nbnumba.args.options import frozen
from nbnumba.cfuncs.rng import mosaic_rotation_umat


@dataclass(frozen=True, eq=False)
class Mosaic:
    """umats: domains*9 float64, each domain's rotation row-major (domain 0 the identity);
    seed: the mosaic seed after the draws (the C's mosaic_seed)."""
    umats: np.ndarray
    seed: int


def domains(o, steps, rng, out):
    """The mosaic domains' rotations, drawn from the C's ran1 (rng: the shared RNG state) with
    a float mosaicity, as mosaic_rotation_umat() takes it."""
    umats = np.zeros(9 * steps.mosaic_domains)
    seed = np.array([o.mosaic_seed], dtype=np.int64)
    spread = np.float32(steps.mosaic_spread)
    for mos_tic in range(steps.mosaic_domains):
        umats[9 * mos_tic:9 * mos_tic + 9] = mosaic_rotation_umat(spread, seed, rng[0])
        if mos_tic == 0:
            umats[0:9] = np.eye(3).ravel()
    out("  created a total of %d mosaic domains\n" % steps.mosaic_domains)
    return Mosaic(frozen(umats), int(seed[0]))
