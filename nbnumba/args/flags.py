"""The flags table: every option nanoBragg.c understands, in the order the C tests them.

One row per `if(...)` of the C's option loop (nanoBragg.c lines ~540-1120).  A row says how
argv[i] is matched (the C's `strstr` substring test, an exact `strcmp`, or `strstr` with a
`strlen` guard), how many following arguments it needs (`argc > i+n`), what it sets, whether
the C `continue`s after it, and its units, default and help text.  `interpret.py` applies the
rows in order to each argument exactly as the C does (substring side effects included), and
the help text and docs/flags.md are generated from the same rows.  `nbnumba -h` groups the
rows by `topic`, under the words a user types (`shown`, each one an argument the row
matches), one entry per flag: rows with the same effect `join` the first one's entry.
"""
from dataclasses import dataclass
from typing import Callable

from nbnumba.cfuncs.stdio import atof, atoi
from nbnumba.constants import ADXV, BEAM, CUSTOM, DENZO, DIALS, GAUSS, MOSFLM, ROUND, RTD, SAMPLE, SQUARE, TOPHAT, XDS

SUB, EXACT = "sub", "exact"
READS, WRITES, CACHE = "reads", "writes", "cache"     # Flag.file: what the run does with the file named
NEXUS_COMPRESSIONS = ("gzip", "bitshuffle", "none")

# the topics of `nbnumba -h`, in the order it lists them
T_GEOMETRY, T_CONVENTIONS, T_CRYSTAL, T_BEAM, T_MOSAIC, T_SAMPLE, T_OUTPUT, T_NBNUMBA = (
    "Detector geometry", "Conventions and pivots", "Crystal", "Beam and sources", "Mosaicity and phi",
    "Sample and background", "Noise and output files", "nbnumba-only options")
TOPICS = (T_GEOMETRY, T_CONVENTIONS, T_CRYSTAL, T_BEAM, T_MOSAIC, T_SAMPLE, T_OUTPUT, T_NBNUMBA)
UNIT_METAVARS = ("mm", "deg", "um", "mrad", "eV")   # -h writes `-distance MM` rather than `-distance X`


@dataclass
class Rule:
    name: str
    how: str = SUB            # SUB: strstr(arg, name); EXACT: strcmp
    length: int = 0           # >0: also strlen(arg) == length; <0: strlen(arg) > -length


@dataclass
class Flag:
    rules: list                       # any rule matching fires the row
    nargs: int                        # the C's guard argc > i+nargs (0: always)
    action: Callable                  # action(settings, values) ; values = argv[i+1:]
    help: str
    units: str = ""
    default: str = ""
    stop: bool = False                # the C `continue`s to the next argv after this row
    reads: int = -1                   # values the action reads (defaults to nargs)
    sets: str = ""                    # the C variables it sets (for the docs)
    file: str = ""                    # its value names a file the run READS, WRITES, or both (CACHE)
    # for `nbnumba -h` only (matching never reads these):
    topic: str = ""                   # one of TOPICS
    shown: tuple = ()                 # the words -h shows, each one an argument this row matches
    metavar: str = None               # what -h shows after them (default: from units and nread)
    joins: str = ""                   # -h lists this row with the one showing this word (same effect)

    @property
    def names(self):
        return [r.name for r in self.rules]

    @property
    def display_names(self):
        """What a user types for this row: `shown`, else the rule names."""
        return list(self.shown) or self.names

    @property
    def argument_text(self):
        """The values -h shows after the names: X per number, X Y Z for a vector, FILE, N."""
        if self.metavar is not None:
            return self.metavar
        if self.nread == 0:
            return ""
        if self.units == "file":
            return "FILE"
        if self.nread == 1 and self.units in UNIT_METAVARS:
            return self.units.upper()
        return "X Y Z" if self.nread == 3 else " ".join(["X"] * self.nread)

    @property
    def nread(self):
        return self.nargs if self.reads < 0 else self.reads

    def matches(self, arg):
        for r in self.rules:
            if r.how == EXACT:
                hit = arg == r.name
            else:
                hit = r.name in arg
                if hit and r.length > 0:
                    hit = len(arg) == r.length
                elif hit and r.length < 0:
                    hit = len(arg) > -r.length
            if hit:
                return True
        return False


def R(*names, how=SUB, length=0):
    return [Rule(n, how, length) for n in names]


# ---- actions (each mirrors the body of one C branch) ----

def _reads(conv, act):
    """Mark `act` as converting its values with `conv` (atof or atoi): interpret() warns about
    a value that is not wholly a number."""
    act.conv = conv
    return act


def _set(attr, conv, scale=1.0, div=None):
    def act(s, v):
        x = conv(v[0])
        if div is not None:
            x = x / div
        elif scale != 1.0:
            x = x * scale
        setattr(s, attr, x)
    return _reads(conv, act)


def _setmany(attrs, conv, div=None):
    def act(s, v):
        x = conv(v[0])
        if div is not None:
            x = x / div
        for a in attrs:
            setattr(s, a, x)
    return _reads(conv, act)


def _flag(attr, value):
    def act(s, v):
        setattr(s, attr, value)
    return act


def _with_pivot(act, pivot):
    def both(s, v):
        act(s, v)
        s.detector_pivot = pivot
    return _reads(act.conv, both)


def _cell(s, v):
    # -cell a b c alpha beta gamma: stops at the first missing or '-'-prefixed value
    s.user_cell = 1
    targets = (("a", 1.0), ("b", 1.0), ("c", 1.0), ("alpha", RTD), ("beta", RTD), ("gamma", RTD))
    for j, (name, div) in enumerate(targets):
        if j >= len(v) or v[j][:1] == "-":
            return
        x = atof(v[j])
        if name in ("a", "b", "c"):
            getattr(s, name)[0] = x
        else:
            setattr(s, name, x / div)


def _misset_random(s, v):
    if "rand" in v[0]:
        s.misset[0] = -1
        return True          # the C's `continue`
    return False


def _misset_angles(s, v):
    s.misset[0] = 1
    s.misset[1] = atof(v[0]) / RTD
    s.misset[2] = atof(v[1]) / RTD
    s.misset[3] = atof(v[2]) / RTD


def _vector(attr, custom=True, pix0=False):
    def act(s, v):
        if custom:
            s.beam_convention = CUSTOM
        vec = getattr(s, attr)
        if pix0:
            vec[0] = 1.0
        vec[1] = atof(v[0])
        vec[2] = atof(v[1])
        vec[3] = atof(v[2])
    return _reads(atof, act)


def _convention(conv, pivot):
    def act(s, v):
        s.beam_convention = conv
        s.detector_pivot = pivot
    return act


def _pivot(s, v):
    if "sample" in v[0]:
        s.detector_pivot = SAMPLE
    if "beam" in v[0]:
        s.detector_pivot = BEAM


def _detector_abs(s, v):
    if "inf" in v[0] or atof(v[0]) == 0.0:
        s.detector_thick = 0.0
        s.detector_mu = 0.0
    else:
        s.detector_mu = 1.0 / (atof(v[0]) * 1e-6)


def _polar(s, v):
    s.polarization = atof(v[0])
    s.nopolar = 0


def _roi(s, v):
    s.roi_xmin, s.roi_xmax, s.roi_ymin, s.roi_ymax = (atoi(x) for x in v[:4])


def _energy(s, v):
    s.lambda0 = (12398.42 / atof(v[0])) / 1.0e10


def _stol(mult):
    def act(s, v):
        s.stolfilename = v[0]
        s.stol_file_mult = mult
    return act


def _pgmfile(s, v):
    s.pgmfilename = v[0]
    s.write_pgm = 1


def _noisefile(s, v):
    s.noisefilename = v[0]
    s.calculate_noise = 1


def _pgmscale(s, v):
    s.pgm_scale = atof(v[0])
    s.write_pgm = 1


def _printout_pixel(s, v):
    s.printout_fpixel = atoi(v[0])
    s.printout_spixel = atoi(v[1])


def _trace_pixel(s, v):
    s.trace_spixel = atoi(v[0])
    s.trace_fpixel = atoi(v[1])


def _negseed(attr):
    def act(s, v):
        setattr(s, attr, -atoi(v[0]))
    return _reads(atoi, act)


def _str(attr):
    def act(s, v):
        setattr(s, attr, v[0])
    return act


def _choice(attr, choices):
    def act(s, v):
        if v[0] not in choices:
            from nbnumba.errors import NBError
            raise NBError(f"ERROR: {attr} must be one of {', '.join(choices)}, not '{v[0]}'", 2)
        setattr(s, attr, v[0])
    return act



for _act, _conv in ((_cell, atof), (_misset_angles, atof), (_polar, atof), (_roi, atoi), (_energy, atof),
                    (_pgmscale, atof), (_printout_pixel, atoi), (_trace_pixel, atoi)):
    _reads(_conv, _act)
_cell.dash_ends = True      # -cell reads its values up to the first one starting with "-"


# The rows, in the C's order.  Help texts follow the C's usage() where it has one.
FLAGS = [
    Flag(R("-Na"), 1, _set("Na", atoi), "number of unit cells along a", "cells", "1", stop=True, sets="Na",
         topic=T_CRYSTAL, metavar="N"),
    Flag(R("-Nb"), 1, _set("Nb", atoi), "number of unit cells along b", "cells", "1", stop=True, sets="Nb",
         topic=T_CRYSTAL, metavar="N"),
    Flag(R("-Nc"), 1, _set("Nc", atoi), "number of unit cells along c", "cells", "1", stop=True, sets="Nc",
         topic=T_CRYSTAL, metavar="N"),
    Flag(R("-N", how=EXACT), 1, _setmany(("Na", "Nb", "Nc"), atoi),
         "number of unit cells in all directions. may also use -Na -Nb or -Nc", "cells", "1", stop=True,
         sets="Na Nb Nc", topic=T_CRYSTAL, metavar="N"),
    Flag(R("-cell"), 1, _cell, "alternative to mat file: specify crystal unit cell (Angstroms and degrees)",
         "A A A deg deg deg", "none", reads=6, sets="a b c alpha beta gamma user_cell",
         topic=T_CRYSTAL, metavar="A B C AL BE GA"),
    Flag(R("-misset"), 1, _misset_random, "-misset random: random orientation (seeded by -misset_seed)",
         "", "0 0 0", sets="misset", topic=T_CRYSTAL, joins="-misset"),
    Flag(R("-misset"), 3, _misset_angles,
         "crystal rotations about x,y,z axes, applied to the reciprocal cell (degrees); or random", "deg deg deg",
         "0 0 0", sets="misset", topic=T_CRYSTAL, metavar="X Y Z | random"),
    Flag(R("-samplesize", "-sample_size"), 1, _setmany(("sample_x", "sample_y", "sample_z"), atof, 1000),
         "crystal size in all three directions (sets -N from the cell)", "mm", "0 (use -N)",
         sets="sample_x sample_y sample_z", topic=T_CRYSTAL),
    Flag(R("-sample_thick", "-sample_x"), 1, _set("sample_x", atof, div=1000), "crystal size along x",
         "mm", "0", sets="sample_x", topic=T_CRYSTAL),
    Flag(R("-sample_width", "-sample_y", "-width"), 1, _set("sample_y", atof, div=1000),
         "crystal size along y", "mm", "0", sets="sample_y", topic=T_CRYSTAL),
    Flag(R("-sample_heigh", "-sample_z", "-heigh"), 1, _set("sample_z", atof, div=1000),
         "crystal size along z", "mm", "0", sets="sample_z",
         topic=T_CRYSTAL, shown=("-sample_height", "-sample_z", "-height")),
    Flag(R("-xtalsize", "-xtal_size"), 1, _setmany(("sample_x", "sample_y", "sample_z"), atof, 1000),
         "alternative to -N: specify crystal full width", "mm", "0", sets="sample_x sample_y sample_z",
         topic=T_CRYSTAL, joins="-samplesize"),
    Flag(R("-xtal_thick", "-xtal_x"), 1, _set("sample_x", atof, div=1000), "crystal size along x",
         "mm", "0", sets="sample_x", topic=T_CRYSTAL, joins="-sample_thick"),
    Flag(R("-xtal_width", "-xtal_y", "-width"), 1, _set("sample_y", atof, div=1000), "crystal size along y",
         "mm", "0", sets="sample_y", topic=T_CRYSTAL, joins="-sample_width"),
    Flag(R("-xtal_heigh", "-xtal_z", "-heigh"), 1, _set("sample_z", atof, div=1000), "crystal size along z",
         "mm", "0", sets="sample_z",
         topic=T_CRYSTAL, shown=("-xtal_height", "-xtal_z", "-height"), joins="-sample_height"),
    Flag(R("-density", "-sample_den"), 1, _set("density", atof, 1e6),
         "sample density (reset to 1.2 g/cm^3 by the set-up, as in the C)", "g/cm^3", "1", sets="density",
         topic=T_SAMPLE, shown=("-density", "-sample_density")),
    Flag(R("-MW", how=EXACT) + R("-molec"), 1, _set("molecular_weight", atof),
         "molecular weight (recomputed by the set-up, as in the C)", "g/mol", "18", sets="molecular_weight",
         topic=T_SAMPLE, shown=("-MW", "-molecular_weight")),
    Flag(R("-Xbeam"), 1, _with_pivot(_set("Xbeam", atof, div=1000.0), BEAM),
         "image fast coordinate of direct-beam spot; pivot BEAM", "mm", "center", sets="Xbeam detector_pivot",
         topic=T_GEOMETRY),
    Flag(R("-Ybeam"), 1, _with_pivot(_set("Ybeam", atof, div=1000.0), BEAM),
         "image slow coordinate of direct-beam spot; pivot BEAM", "mm", "center", sets="Ybeam detector_pivot",
         topic=T_GEOMETRY),
    Flag(R("-Xclose"), 1, _with_pivot(_set("Xclose", atof, div=1000.0), SAMPLE),
         "fast coordinate of the point of closest approach; pivot SAMPLE", "mm", "center",
         sets="Xclose detector_pivot", topic=T_GEOMETRY),
    Flag(R("-Yclose"), 1, _with_pivot(_set("Yclose", atof, div=1000.0), SAMPLE),
         "slow coordinate of the point of closest approach; pivot SAMPLE", "mm", "center",
         sets="Yclose detector_pivot", topic=T_GEOMETRY),
    Flag(R("-ORGX"), 1, _with_pivot(_set("ORGX", atof), SAMPLE), "XDS-convention beam center (fast); pivot SAMPLE",
         "pixels", "center", sets="ORGX detector_pivot", topic=T_GEOMETRY),
    Flag(R("-ORGY"), 1, _with_pivot(_set("ORGY", atof), SAMPLE), "XDS-convention beam center (slow); pivot SAMPLE",
         "pixels", "center", sets="ORGY detector_pivot", topic=T_GEOMETRY),
    Flag(R("-pivot"), 1, _pivot, "detector pivot: sample or beam", "", "beam", sets="detector_pivot",
         topic=T_CONVENTIONS, metavar="sample|beam"),
    Flag(R("-mosflm"), 0, _convention(MOSFLM, BEAM), "use MOSFLM's direct-beam convention (default)",
         reads=0, sets="beam_convention detector_pivot", topic=T_CONVENTIONS),
    Flag(R("-xds"), 0, _convention(XDS, SAMPLE), "use XDS detector origin convention",
         reads=0, sets="beam_convention detector_pivot", topic=T_CONVENTIONS),
    Flag(R("-adxv"), 0, _convention(ADXV, BEAM), "use ADXV detector convention",
         reads=0, sets="beam_convention detector_pivot", topic=T_CONVENTIONS),
    Flag(R("-denzo"), 0, _convention(DENZO, BEAM), "use DENZO detector convention",
         reads=0, sets="beam_convention detector_pivot", topic=T_CONVENTIONS),
    Flag(R("-dials"), 0, _convention(DIALS, BEAM), "use DIALS detector convention",
         reads=0, sets="beam_convention detector_pivot", topic=T_CONVENTIONS),
    Flag(R("-fdet_vector"), 3, _vector("fdet_vector"),
         "unit vector of increasing fast-axis detector pixel coordinate; CUSTOM convention", "", "0 0 1",
         sets="fdet_vector beam_convention", topic=T_CONVENTIONS),
    Flag(R("-sdet_vector"), 3, _vector("sdet_vector"),
         "unit vector of increasing slow-axis detector pixel coordinate; CUSTOM convention", "", "0 -1 0",
         sets="sdet_vector beam_convention", topic=T_CONVENTIONS),
    Flag(R("-odet_vector"), 3, _vector("odet_vector"),
         "unit vector of increasing detector distance; CUSTOM convention", "", "1 0 0",
         sets="odet_vector beam_convention", topic=T_CONVENTIONS),
    Flag(R("-beam_vector"), 3, _vector("beam_vector"), "unit vector of x-ray beam direction; CUSTOM convention",
         "", "1 0 0", sets="beam_vector beam_convention", topic=T_CONVENTIONS),
    Flag(R("-polar_vector"), 3, _vector("polar_vector"),
         "unit vector of x-ray E-vector polarization; CUSTOM convention", "", "0 0 1",
         sets="polar_vector beam_convention", topic=T_CONVENTIONS),
    Flag(R("-spindle_axis"), 3, _vector("spindle_vector"),
         "unit vector of right-handed phi rotation axis; CUSTOM convention", "", "0 0 1",
         sets="spindle_vector beam_convention", topic=T_CONVENTIONS),
    Flag(R("-twotheta_axis"), 3, _vector("twotheta_axis"),
         "rotation axis of -twotheta; CUSTOM convention (also fires -twotheta, as in the C)", "", "0 0 -1",
         sets="twotheta_axis beam_convention", topic=T_CONVENTIONS),
    Flag(R("-pix0_vector"), 3, _vector("pix0_vector", pix0=True),
         "vector from crystal to first pixel; CUSTOM convention (-pix0_vector_mm fires this row too; the "
         "geometry stage recomputes pix0 from the pivot, as in the C)", "m", "beam centered",
         sets="pix0_vector beam_convention", topic=T_CONVENTIONS, shown=("-pix0_vector", "-pix0_vector_mm")),
    Flag(R("-distance"), 1, _with_pivot(_set("distance", atof, div=1000.0), BEAM),
         "distance from origin to detector center; pivot BEAM", "mm", "100", sets="distance detector_pivot",
         topic=T_GEOMETRY),
    Flag(R("-close_distance"), 1, _with_pivot(_set("close_distance", atof, div=1000.0), SAMPLE),
         "distance from origin to the detector plane's nearest point; pivot SAMPLE", "mm", "from -distance",
         sets="close_distance detector_pivot", topic=T_GEOMETRY),
    Flag(R("-detector_abs"), 0, _detector_abs,
         "detector sensor material attenuation depth (\"inf\" or 0 to save time)", "um", "inf", reads=1,
         sets="detector_mu detector_thick", topic=T_GEOMETRY, shown=("-detector_absorb",), metavar="UM|inf"),
    Flag(R("-detector_thick", length=15), 0, _set("detector_thick", atof, 1e-6), "detector sensor thickness",
         "um", "0", reads=1, sets="detector_thick", topic=T_GEOMETRY),
    Flag(R("-detector_thicksteps"), 0, _set("detector_thicksteps", atoi),
         "number of layers of detector sensor material", "", "1", reads=1, sets="detector_thicksteps",
         topic=T_GEOMETRY, metavar="N"),
    Flag(R("-thicksteps"), 0, _set("detector_thicksteps", atoi), "synonym of -detector_thicksteps", "", "1",
         reads=1, sets="detector_thicksteps", topic=T_GEOMETRY, metavar="N", joins="-detector_thicksteps"),
    Flag(R("-twotheta"), 1, _with_pivot(_set("detector_twotheta", atof, div=RTD), SAMPLE),
         "rotation of detector about the twotheta axis; pivot SAMPLE", "deg", "0",
         sets="detector_twotheta detector_pivot", topic=T_GEOMETRY),
    Flag(R("-detector_rotx"), 1, _set("detector_rotx", atof, div=RTD), "detector rotation about x", "deg", "0",
         sets="detector_rotx", topic=T_GEOMETRY),
    Flag(R("-detector_roty"), 1, _set("detector_roty", atof, div=RTD), "detector rotation about y", "deg", "0",
         sets="detector_roty", topic=T_GEOMETRY),
    Flag(R("-detector_rotz"), 1, _set("detector_rotz", atof, div=RTD), "detector rotation about z", "deg", "0",
         sets="detector_rotz", topic=T_GEOMETRY),
    Flag(R("-detsize", length=8), 1, _setmany(("detsize_f", "detsize_s"), atof, 1000.0),
         "detector size. may also use -detsize_f -detsize_s", "mm", "102.4", sets="detsize_f detsize_s",
         topic=T_GEOMETRY),
    Flag(R("-detsize_f"), 1, _set("detsize_f", atof, div=1000.0), "detector size along fast axis", "mm",
         "102.4", sets="detsize_f", topic=T_GEOMETRY),
    Flag(R("-detsize_s"), 1, _set("detsize_s", atof, div=1000.0), "detector size along slow axis", "mm",
         "102.4", sets="detsize_s", topic=T_GEOMETRY),
    Flag(R("-detpixels", length=10), 1, _setmany(("fpixels", "spixels"), atoi),
         "detector size in pixels. may also use -detpixels_x -detpixels_y", "pixels", "1024",
         sets="fpixels spixels", topic=T_GEOMETRY, metavar="N"),
    Flag(R("-detpixels_f", "-detpixels_x"), 1, _set("fpixels", atoi), "detector pixels along fast axis",
         "pixels", "1024", sets="fpixels", topic=T_GEOMETRY, metavar="N"),
    Flag(R("-detpixels_s", "-detpixels_y"), 1, _set("spixels", atoi), "detector pixels along slow axis",
         "pixels", "1024", sets="spixels", topic=T_GEOMETRY, metavar="N"),
    Flag(R("-curved_det"), 1, _flag("curved_detector", 1), "all pixels same distance from crystal",
         reads=0, sets="curved_detector", topic=T_GEOMETRY),
    Flag(R("-pixel"), 1, _set("pixel_size", atof, div=1000.0), "detector pixel size", "mm", "0.1",
         sets="pixel_size", topic=T_GEOMETRY),
    Flag(R("-point_pixel"), 0, _flag("point_pixel", 1), "turn off the pixel solid angle correction",
         reads=0, sets="point_pixel", topic=T_GEOMETRY),
    Flag(R("-polar", length=6), 1, _polar, "specify Kahn polarization factor", "", "0", sets="polarization nopolar",
         topic=T_BEAM),
    Flag(R("-nopolar"), 0, _flag("nopolar", 1), "turn off the polarization correction", reads=0, sets="nopolar",
         topic=T_BEAM),
    Flag(R("-oversample_thick"), 0, _flag("oversample_thick", 1),
         "re-calculate thickness effect for sub-pixels", reads=0, stop=True, sets="oversample_thick", topic=T_GEOMETRY),
    Flag(R("-oversample_polar"), 0, _flag("oversample_polar", 1),
         "re-calculate polarization effect for sub-pixels", reads=0, stop=True, sets="oversample_polar",
         topic=T_GEOMETRY),
    Flag(R("-oversample_omega"), 0, _flag("oversample_omega", 1),
         "re-calculate solid-angle effect for sub-pixels", reads=0, stop=True, sets="oversample_omega",
         topic=T_GEOMETRY),
    Flag(R("-oversample"), 1, _set("oversample", atoi), "number of sub-pixels per pixel", "", "auto",
         sets="oversample", topic=T_GEOMETRY, metavar="N"),
    Flag(R("-roi"), 4, _roi, "only render part of the image: xmin xmax ymin ymax", "pixels", "whole image",
         sets="roi_xmin roi_xmax roi_ymin roi_ymax", topic=T_GEOMETRY, metavar="XMIN XMAX YMIN YMAX"),
    Flag(R("-lambda", "-wave"), 1, _set("lambda0", atof, div=1.0e10), "incident x-ray wavelength", "A", "1",
         sets="lambda0", topic=T_BEAM),
    Flag(R("-energy"), 1, _energy, "incident x-ray photon energy (alternative to -lambda)", "eV", "12398.42",
         sets="lambda0", topic=T_BEAM),
    Flag(R("-fluence"), 1, _set("fluence", atof), "incident beam intensity for photon-counting statistics",
         "photons/m^2", "1.25932e+29", sets="fluence", topic=T_BEAM),
    Flag(R("-flux"), 1, _set("flux", atof), "alternative to -fluence, with -beamsize and -exposure",
         "photons/s", "0", sets="flux", topic=T_BEAM),
    Flag(R("-exposure"), 1, _set("exposure", atof), "exposure time, with -flux and -beamsize", "s", "1",
         sets="exposure", topic=T_BEAM),
    Flag(R("-beamsize"), 1, _set("beamsize", atof, div=1000), "beam size, with -flux and -exposure", "mm",
         "0.1", sets="beamsize", topic=T_BEAM),
    Flag(R("-mosaic", length=7) + R("-mosaici", "-mosaic_spr"), 1, _set("mosaic_spread", atof, div=RTD),
         "isotropic mosaic spread (use 90 for powder)", "deg", "0", sets="mosaic_spread",
         topic=T_MOSAIC, shown=("-mosaic", "-mosaicity", "-mosaic_spread")),
    Flag(R("-mosaic_dom"), 1, _set("mosaic_domains", atoi), "number of randomly-oriented mosaic domains",
         "", "1 (10 with -mosaic)", sets="mosaic_domains", topic=T_MOSAIC, shown=("-mosaic_domains",), metavar="N"),
    Flag(R("-dispersion"), 1, _set("dispersion", atof, div=100.0), "spectral dispersion: delta-lambda/lambda",
         "percent", "0", sets="dispersion", topic=T_BEAM),
    Flag(R("-dispsteps"), 1, _set("dispsteps", atoi), "number of wavelengths in above range", "", "auto",
         sets="dispsteps", topic=T_BEAM, metavar="N"),
    Flag(R("-divergence"), 1, _setmany(("hdivrange", "vdivrange"), atof, 1000.0),
         "horizontal and vertical angular spread of source points", "mrad", "0", sets="hdivrange vdivrange",
         topic=T_BEAM),
    Flag(R("-hdivrange"), 1, _set("hdivrange", atof, div=1000.0), "horizontal angular spread of source points",
         "mrad", "0", sets="hdivrange", topic=T_BEAM),
    Flag(R("-vdivrange"), 1, _set("vdivrange", atof, div=1000.0), "vertical angular spread of source points",
         "mrad", "0", sets="vdivrange", topic=T_BEAM),
    Flag(R("-hdivstep", length=9), 1, _set("hdivstep", atof, div=1000.0), "horizontal divergence step", "mrad",
         "auto", sets="hdivstep", topic=T_BEAM),
    Flag(R("-hdivsteps"), 1, _set("hdivsteps", atoi), "number of source points in the horizontal", "", "auto",
         sets="hdivsteps", topic=T_BEAM, metavar="N"),
    Flag(R("-vdivstep", length=9), 1, _set("vdivstep", atof, div=1000.0), "vertical divergence step", "mrad",
         "auto", sets="vdivstep", topic=T_BEAM),
    Flag(R("-vdivsteps"), 1, _set("vdivsteps", atoi), "number of source points in the vertical", "", "auto",
         sets="vdivsteps", topic=T_BEAM, metavar="N"),
    Flag(R("-divsteps"), 1, _setmany(("hdivsteps", "vdivsteps"), atoi),
         "number of source points in both directions", "", "auto", sets="hdivsteps vdivsteps",
         topic=T_BEAM, metavar="N"),
    Flag(R("-round_div"), 0, _flag("round_div", 1), "cut divergence grid to an ellipse (default)", reads=0,
         sets="round_div", topic=T_BEAM),
    Flag(R("-square_div"), 0, _flag("round_div", 0), "full divergence grid", reads=0, sets="round_div", topic=T_BEAM),
    Flag(R("-adc"), 1, _set("adc_offset", atof), "offset to apply to output img file pixels", "ADU", "40",
         sets="adc_offset", topic=T_OUTPUT),
    Flag(R("-phi", length=4), 1, _set("phi0", atof, div=RTD), "starting rotation value about spindle axis",
         "deg", "0", sets="phi0", topic=T_MOSAIC),
    Flag(R("-osc"), 1, _set("osc", atof, div=RTD), "rotation range about spindle axis", "deg", "auto",
         sets="osc", topic=T_MOSAIC),
    Flag(R("-phistep", length=8), 1, _set("phistep", atof, div=RTD), "rotation step", "deg", "auto",
         sets="phistep", topic=T_MOSAIC),
    Flag(R("-phisteps"), 1, _set("phisteps", atoi), "number of rotation steps to render", "", "auto",
         sets="phisteps", topic=T_MOSAIC, metavar="N"),
    Flag(R("-dmin"), 1, _set("dmin", atof, 1e-10), "skip subpaths at resolution better than this", "A", "0",
         sets="dmin", topic=T_CRYSTAL),
    Flag(R("-mat"), 1, _str("matfilename"), "mosflm-style matrix file containing three reciprocal unit cell vectors",
         "file", "none", sets="matfilename", file=READS, topic=T_CRYSTAL),
    Flag(R("-hkl"), 1, _str("hklfilename"), "text file containing h, k, l and F for P1 unit cell", "file",
         "none", sets="hklfilename", file=READS, topic=T_CRYSTAL),
    Flag(R("-default_F"), 1, _set("default_F", atof),
         "alternative to -hkl: assign all unspecified structure factors", "electrons", "0", sets="default_F",
         topic=T_CRYSTAL),
    Flag(R("-dump"), 1, _str("dumpfilename"), "name of the binary structure-factor cache", "file", "Fdump.bin",
         sets="dumpfilename", file=CACHE, topic=T_CRYSTAL),
    Flag(R("-img"), 1, _str("imginfilename"), "initialize camera parameters from an ADSC img header", "file",
         "none", sets="imginfilename", file=READS, topic=T_GEOMETRY),
    Flag(R("-stolout", length=-7), 1, _str("stoloutfilename"), "name of the stol output file (never written, as in the C)",
         "file", "output.stol", sets="stoloutfilename", topic=T_SAMPLE),
    Flag(R("-stol", length=5), 1, _stol(1e10), "amorphous structure factors: sin(theta)/lambda vs F", "file",
         "none", sets="stolfilename stol_file_mult", file=READS, topic=T_SAMPLE),
    Flag(R("-4stol", length=6), 1, _stol(1e10 / 4), "amorphous structure factors: 4*stol vs F", "file", "none",
         sets="stolfilename stol_file_mult", file=READS, topic=T_SAMPLE),
    Flag(R("-Q", length=2), 1, _stol(1e10 / 3.14159265358979323846 / 4), "amorphous structure factors: Q vs F",
         "file", "none", sets="stolfilename stol_file_mult", file=READS, topic=T_SAMPLE),
    Flag(R("-sourcefile"), 1, _str("sourcefilename"),
         "text file of sources: X Y Z weight lambda per line", "file", "none", sets="sourcefilename", file=READS, topic=T_BEAM),
    Flag(R("-floatfile", "-floatimage"), 1, _str("floatfilename"), "name of binary output file (4-byte floats)",
         "file", "floatimage.bin", sets="floatfilename", file=WRITES, topic=T_OUTPUT),
    Flag(R("-intfile", "-intimage"), 1, _str("intfilename"),
         "name of noiseless smv-formatted output file (not on absolute scale by default)", "file",
         "intimage.img", sets="intfilename", file=WRITES, topic=T_OUTPUT),
    Flag(R("-pgmfile", "-pgmimage"), 1, _pgmfile, "name of 8-bit portable greymap format output file", "file",
         "image.pgm", sets="pgmfilename write_pgm", file=WRITES, topic=T_OUTPUT),
    Flag(R("-noisefile", "-noiseimage"), 1, _noisefile,
         "name of photon-scale smv-formatted output file (with Poisson noise)", "file", "noiseimage.img",
         sets="noisefilename calculate_noise", file=WRITES, topic=T_OUTPUT),
    Flag(R("-nonoise"), 0, _flag("calculate_noise", 0), "disable generating the noisefile", reads=0,
         sets="calculate_noise", topic=T_OUTPUT),
    Flag(R("-nopgm"), 0, _flag("write_pgm", 0), "do not write pgm file", reads=0, sets="write_pgm", topic=T_OUTPUT),
    Flag(R("-scale"), 1, _set("intfile_scale", atof), "scale factor to apply to intfile", "", "auto",
         sets="intfile_scale", topic=T_OUTPUT),
    Flag(R("-pgmscale"), 1, _pgmscale, "relative scale of pgm file", "", "auto", sets="pgm_scale write_pgm",
         topic=T_OUTPUT),
    Flag(R("-coherent"), 0, _flag("coherent", 1), "turn off incoherent addition (no effect, as in the C)",
         reads=0, sets="coherent", topic=T_BEAM),
    Flag(R("-printout"), 0, _flag("printout", 1), "print pixel values out to the screen", reads=0,
         sets="printout", topic=T_OUTPUT),
    Flag(R("-noprogress"), 0, _flag("progress_meter", 0), "turn off the progress meter", reads=0,
         sets="progress_meter", topic=T_OUTPUT),
    Flag(R("-progress"), 0, _flag("progress_meter", 1), "turn on the progress meter", reads=0,
         sets="progress_meter", topic=T_OUTPUT),
    Flag(R("-interpolate"), 0, _flag("interpolate", 1),
         "force inter-Bragg peak structure factor interpolation (default: on if < 3 cells wide)", reads=0,
         sets="interpolate", topic=T_CRYSTAL),
    Flag(R("-nointerpolate"), 0, _flag("interpolate", 0),
         "disable inter-Bragg peak structure factor interpolation", reads=0, sets="interpolate", topic=T_CRYSTAL),
    Flag(R("-round_xtal"), 0, _flag("xtal_shape", ROUND), "specify ellipsoidal crystal shape (sort of)",
         reads=0, sets="xtal_shape", topic=T_CRYSTAL),
    Flag(R("-square_xtal"), 0, _flag("xtal_shape", SQUARE), "specify parallelpiped crystal shape (default)",
         reads=0, sets="xtal_shape", topic=T_CRYSTAL),
    Flag(R("-gauss_xtal"), 0, _flag("xtal_shape", GAUSS), "Gaussian-shaped spots: no inter-Bragg maxima",
         reads=0, sets="xtal_shape", topic=T_CRYSTAL),
    Flag(R("-binary_spots", "-tophat_spots"), 0, _flag("xtal_shape", TOPHAT),
         "clip lattice transform at fwhm: no inter-Bragg maxima", reads=0, sets="xtal_shape", topic=T_CRYSTAL),
    Flag(R("-fudge"), 1, _set("fudge", atof), "shape fudge factor for round/gauss/tophat spots", "", "1",
         sets="fudge", topic=T_CRYSTAL),
    Flag(R("-printout_pixel"), 2, _printout_pixel, "print the values of one pixel: fast slow (also fires -printout)",
         "pixels", "none", sets="printout_fpixel printout_spixel", topic=T_OUTPUT, metavar="F S"),
    Flag(R("-seed"), 1, _negseed("seed"), "random-number seed for the noise image", "", "-time",
         sets="seed", topic=T_OUTPUT, metavar="N"),
    Flag(R("-mosaic_seed"), 1, _negseed("mosaic_seed"), "random-number seed for mosaic domain generation", "",
         "12345678", sets="mosaic_seed", topic=T_MOSAIC, metavar="N"),
    Flag(R("-misset_seed"), 1, _negseed("misset_seed"),
         "random-number seed for -misset random (also fires -misset, as in the C)", "",
         "the clock: -seed's default, taken before -seed is read",
         sets="misset_seed", topic=T_CRYSTAL, metavar="N"),
    Flag(R("-water"), 1, _set("water_size", atof, div=1e6), "add contribution of this much water around the crystal",
         "um", "0", sets="water_size", topic=T_SAMPLE),
    # nbnumba's own options (not in nanoBragg.c)
    Flag(R("-trace_pixel", how=EXACT), 2, _trace_pixel,
         "print TRACE_PY lines for pixel: slow fast (the instrumented C's -trace_pixel)", "pixels", "none",
         sets="trace_spixel trace_fpixel", topic=T_NBNUMBA, metavar="S F"),
    Flag(R("-device", how=EXACT), 1, _choice("device", ("auto", "cpu", "cuda")),
         "render on: auto (CUDA when available), cpu or cuda; env NBNUMBA_DEVICE sets the default", "", "auto",
         sets="device", topic=T_NBNUMBA, metavar="auto|cpu|cuda"),
    Flag(R("-precision", how=EXACT), 1, _choice("precision", ("double", "single")),
         "kernel arithmetic: double (the C's) or single (float32, faster on GPUs)", "", "double",
         sets="precision", topic=T_NBNUMBA, metavar="double|single"),
    Flag(R("-timings", how=EXACT), 0, _flag("timings", True),
         "print how long each phase took (imports, set-up, kernel load, render, outputs) on stderr "
         "(env NBNUMBA_TIMINGS=1)", "", "off", reads=0, sets="timings", topic=T_NBNUMBA),
    Flag(R("-strict", how=EXACT), 0, _flag("strict", True),
         "refuse odd input instead of warning about it (env NBNUMBA_STRICT=1)", "", "off", reads=0,
         sets="strict", topic=T_NBNUMBA),
    # nbnumba's data sets for data-processing programs (docs/formats.md); EXACT names, so no
    # argv the C reads changes meaning and none of the C's substring rows fires on them
    Flag(R("-nexusfile", how=EXACT), 1, _str("nexusfilename"),
         "also write the image as a NeXus NXmx file with the run's geometry, for DIALS (needs the nexus extra)",
         "file", "none", sets="nexusfilename", file=WRITES, topic=T_NBNUMBA, metavar="NAME.h5"),
    Flag(R("-nexus_compression", how=EXACT), 1, _choice("nexus_compression", NEXUS_COMPRESSIONS),
         "compression of the -nexusfile image: gzip, bitshuffle (LZ4, Dectris-style) or none", "", "gzip",
         sets="nexus_compression", topic=T_NBNUMBA, metavar="gzip|bitshuffle|none"),
    Flag(R("-cbffile", how=EXACT), 1, _str("cbffilename"),
         "also write the image as a miniCBF file (byte offset), for DIALS and XDS; standard geometry only",
         "file", "none", sets="cbffilename", file=WRITES, topic=T_NBNUMBA, metavar="NAME.cbf"),
    Flag(R("-pngfile", how=EXACT), 1, _str("pngfilename"),
         "also write a picture of the image (log scale, beam centre marked in red)", "file", "none",
         sets="pngfilename", file=WRITES, topic=T_NBNUMBA, metavar="NAME.png"),
]

# where the C takes -img and -mask: a first pass over argv, before every other option
PREPASS = [
    Flag(R("-img"), 1, _str("imginfilename"), "initialize camera parameters from an ADSC img header", "file",
         file=READS, topic=T_GEOMETRY),
    Flag(R("-mask"), 1, _str("maskfilename"), "use ADSC img file full of 0 or non-0 values as a mask", "file",
         file=READS, topic=T_GEOMETRY),
]
