"""The command line as nanoBragg.c holds it after its option loop: the `Options` record.

Every variable of the C's main() that the command line can reach (and the -img/-mask headers
read before it), with the C's names, units (metres, radians, SI) and initialisers (nanoBragg.c
lines ~183-400).  `interpret` (args/interpret.py) fills a draft, `Options.draft()`, row by row
of the flags table, then freezes it with `Options.freeze(draft)`: the set-up stages only read
it.  Read as the C reads them:

- Vectors are 4-element float64 arrays [magnitude, x, y, z] in the C's lab frame (the beam
  along +x by default, MOSFLM; the convention flags choose others); magnitude is the C's
  [0] slot, 0 until the set-up computes it.  `Result.geometry` gives the detector and beam
  in DIALS's frame and millimetres.
- The C's yes/no ints are booleans here (calculate_noise, write_pgm, nopolar, ...);
  xtal_shape is a constants.CrystalShape and interpolate a constants.Interpolation (AUTO: the
  set-up decides).
- -1 means "the set-up chooses" for the step counts and ranges (hdivsteps, dispsteps,
  mosaic_domains, oversample, detector_thicksteps, phisteps, phistep, osc, ...), as in the C;
  `misset_random` says whether -misset random was given (the C's misset[0] == -1).
- Na, Nb, Nc are whole numbers (read with atoi) held as doubles, as in the C.
"""
import math
import time
import types
from dataclasses import dataclass, field, fields
from typing import Optional

import numpy as np

from nbnumba.constants import BEAM, MOSFLM, R_E_SQR, CrystalShape, Interpolation

# the C's yes/no ints, booleans in the record
BOOLEANS = ("progress_meter", "printout", "calculate_noise", "write_pgm", "coherent", "round_div", "user_cell",
            "curved_detector", "point_pixel", "nopolar", "oversample_thick", "oversample_polar", "oversample_omega",
            "strict", "timings")


def _vector(x=0.0, y=0.0, z=0.0, mag=0.0):
    return np.array([mag, x, y, z], dtype=np.float64)


def frozen(array):
    """A read-only copy of an array (what a record keeps)."""
    copy = np.array(array)
    copy.setflags(write=False)
    return copy


@dataclass(frozen=True, eq=False)
class Options:
    """nanoBragg.c's command-line variables after its option loop (see the module docstring)."""

    # output control
    progress_meter: bool = True
    printout: bool = False
    printout_spixel: int = -1
    printout_fpixel: int = -1
    trace_spixel: int = -1
    trace_fpixel: int = -1
    calculate_noise: bool = True
    write_pgm: bool = True
    # beam
    beam_vector: np.ndarray = field(default_factory=lambda: _vector(1, 0, 0))
    coherent: bool = False
    round_div: bool = True
    mosaic_spread: float = -1.0
    dispersion: float = 0.0
    dispstep: float = -1.0
    lambda0: float = 1.0e-10
    hdivstep: float = -1.0
    hdivrange: float = -1.0
    vdivstep: float = -1.0
    vdivrange: float = -1.0
    source_distance: float = 10.0
    hdivsteps: int = -1
    vdivsteps: int = -1
    dispsteps: int = -1
    mosaic_domains: int = -1
    r_e_sqr: float = R_E_SQR
    fluence: float = 125932015286227086360700780544.0
    flux: float = 0.0
    exposure: float = 1.0
    beamsize: float = 1e-4
    # crystal
    Na: float = 1.0
    Nb: float = 1.0
    Nc: float = 1.0
    xtal_shape: CrystalShape = CrystalShape.SQUARE
    fudge: float = 1.0
    sample_x: float = 0.0
    sample_y: float = 0.0
    sample_z: float = 0.0
    density: float = 1.0e6
    molecular_weight: float = 18.0
    water_size: float = 0.0
    water_F: float = 2.57
    water_MW: float = 18.0
    user_cell: bool = False
    a: np.ndarray = field(default_factory=lambda: _vector())
    b: np.ndarray = field(default_factory=lambda: _vector())
    c: np.ndarray = field(default_factory=lambda: _vector())
    alpha: float = 0.0
    beta: float = 0.0
    gamma: float = 0.0
    misset: np.ndarray = field(default_factory=lambda: _vector())
    # detector
    pixel_size: float = 0.1e-3
    fpixels: int = 0
    spixels: int = 0
    distance: float = 100.0e-3
    detsize_f: float = 102.4e-3
    detsize_s: float = 102.4e-3
    detector_mu: float = -1.0
    detector_thick: float = 0.0
    detector_thickstep: float = -1.0
    detector_thicksteps: int = -1
    fdet_vector: np.ndarray = field(default_factory=lambda: _vector(0, 0, 1))
    sdet_vector: np.ndarray = field(default_factory=lambda: _vector(0, -1, 0))
    odet_vector: np.ndarray = field(default_factory=lambda: _vector(1, 0, 0))
    pix0_vector: np.ndarray = field(default_factory=lambda: _vector())
    detector_rotx: float = 0.0
    detector_roty: float = 0.0
    detector_rotz: float = 0.0
    twotheta_axis: np.ndarray = field(default_factory=lambda: _vector(0, 1, 0))
    detector_pivot: str = BEAM
    beam_convention: str = MOSFLM
    detector_twotheta: float = 0.0
    twotheta: float = 0.0  # set only by an -img/-mask header, never used (as in the C)
    curved_detector: bool = False
    point_pixel: bool = False
    Xbeam: float = math.nan
    Ybeam: float = math.nan
    Fbeam: float = math.nan
    Sbeam: float = math.nan
    Xclose: float = math.nan
    Yclose: float = math.nan
    close_distance: float = math.nan
    Fclose: float = math.nan
    Sclose: float = math.nan
    ORGX: float = math.nan
    ORGY: float = math.nan
    dials_origin: np.ndarray = field(default_factory=lambda: _vector())
    adc_offset: float = 40.0
    dmin: float = 0.0
    # polarization
    polar_vector: np.ndarray = field(default_factory=lambda: _vector(0, 0, 1))
    polarization: float = 0.0
    nopolar: bool = False
    # sampling
    roi_xmin: int = -1
    roi_xmax: int = -1
    roi_ymin: int = -1
    roi_ymax: int = -1
    oversample: int = -1
    oversample_thick: bool = False
    oversample_polar: bool = False
    oversample_omega: bool = False
    # spindle
    phi0: float = 0.0
    phistep: float = -1.0
    osc: float = -1.0
    phisteps: int = -1
    spindle_vector: np.ndarray = field(default_factory=lambda: _vector(0, 0, 1))
    # structure factors
    default_F: float = 0.0
    stol_file_mult: float = 1.0e10
    interpolate: Interpolation = Interpolation.AUTO
    # scales
    intfile_scale: float = 0.0
    pgm_scale: float = 0.0
    # random seeds (the C: seed = -time(0); misset_seed = seed)
    seed: int = field(default_factory=lambda: -int(time.time()))
    mosaic_seed: int = -12345678
    misset_seed: Optional[int] = None     # the initial noise seed unless -misset_seed (Options.freeze)
    # file names (the C's globals)
    matfilename: Optional[str] = None
    hklfilename: Optional[str] = None
    dumpfilename: str = "Fdump.bin"
    stolfilename: Optional[str] = None
    imginfilename: Optional[str] = None
    maskfilename: Optional[str] = None
    stoloutfilename: str = "output.stol"
    sourcefilename: Optional[str] = None
    floatfilename: str = "floatimage.bin"
    intfilename: str = "intimage.img"
    pgmfilename: str = "image.pgm"
    noisefilename: str = "noiseimage.img"
    # nbnumba's own options
    device: Optional[str] = None
    precision: str = "double"
    strict: bool = False
    timings: bool = False
    nexusfilename: Optional[str] = None
    nexus_compression: str = "gzip"
    cbffilename: Optional[str] = None
    pngfilename: Optional[str] = None
    # the arguments as given (the NeXus file records the command line)
    argv: tuple = ()
    # the -mask pixels (a read-only uint16 array, the file's raster) and the file's size
    maskimage: np.ndarray = None
    mask_width: int = 0
    mask_height: int = 0

    @classmethod
    def draft(cls):
        """A mutable namespace holding the C's initialisers, for the flag actions to set."""
        defaults = cls()
        draft = types.SimpleNamespace(**{f.name: getattr(defaults, f.name) for f in fields(cls)})
        draft.initial_seed = defaults.seed      # the C: seed = -time(0); misset_seed = seed
        return draft

    @classmethod
    def freeze(cls, draft):
        """The record of a finished draft: arrays copied read-only; misset_seed defaults to the
        initial seed, as the C's `misset_seed = seed` before its option loop."""
        values = {f.name: getattr(draft, f.name) for f in fields(cls)}
        if values["misset_seed"] is None:
            values["misset_seed"] = draft.initial_seed
        extra = set(vars(draft)) - set(values) - {"initial_seed"}
        if extra:
            raise AttributeError("options not in the record: %s" % ", ".join(sorted(extra)))
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                values[name] = frozen(value)
        for name in BOOLEANS:
            values[name] = bool(values[name])
        values["xtal_shape"] = CrystalShape(values["xtal_shape"])
        values["interpolate"] = Interpolation(values["interpolate"])
        return cls(**values)

    @property
    def misset_random(self):
        """Whether -misset random was given (the C's misset[0] == -1)."""
        return self.misset[0] == -1.0
