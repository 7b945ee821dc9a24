"""Structure factors (main(), lines ~1340-1395 and ~2060-2245): whether there is anything to
render, the interpolation's auto-selection, the HKL file or the Fdump cache, the unused -stol
table."""
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from nbnumba.args.usage import usage
from nbnumba.cfuncs.stdio import read_text_file
from nbnumba.constants import Interpolation
from nbnumba.errors import NBError
from nbnumba.io.hkl import HKLGrid, read_fdump, read_hkl, write_fdump


@dataclass(frozen=True, eq=False)
class StructureFactors:
    """The grid of F (io.hkl.HKLGrid: F[h-h_min, k-k_min, l-l_min]) and the C's final
    `interpolate` (tricubic interpolation between Bragg spots: 1, or 0; off without HKLs)."""
    grid: HKLGrid
    interpolate: int


def fdump_to_read(o, frame, out, indir, read_cache=True):
    """Whether the Fdump cache will be read from the folder indir (folders.Folder): no -hkl
    and a readable file (the C reads it even with -default_F); with neither, nor -default_F,
    or with no cell at all, the C prints its usage and exits 9.  read_cache False (the Python
    API, unless asked) ignores the file."""
    readable = False
    if o.hklfilename is None:
        readable = read_cache and indir.isfile(o.dumpfilename) and indir.access(o.dumpfilename, os.R_OK)
        if not readable and o.default_F == 0.0:
            out("ERROR: no hkl file and no dump file to read.")
    if (o.hklfilename is None and not readable and o.default_F == 0.0) or (o.matfilename is None and o.a[0] == 0.0):
        usage(o, frame, out)
        raise NBError("ERROR: nothing to render: give -hkl (or a readable %s, or -default_F) and -cell or -mat"
                      % o.dumpfilename, 9)
    return readable


def interpolation(o, out):
    """The C's `interpolate`: as given (-interpolate 1, -nointerpolate 0) or auto-selected (on
    when any of Na, Nb, Nc <= 2: the spots are then broader than the HKL grid's spacing)."""
    if o.interpolate != Interpolation.AUTO:
        return int(o.interpolate)
    if o.Na <= 2 or o.Nb <= 2 or o.Nc <= 2:
        out("auto-selected tricubic interpolation of structure factors\n")
        return 1
    out("auto-selected no interpolation\n")
    return 0


def _empty_grid():
    return HKLGrid(h_min=0, h_max=0, k_min=0, k_max=0, l_min=0, l_max=0, h_range=0, k_range=0, l_range=0,
                   F=np.zeros((1, 1, 1)), hkls=0)


# HKL files parsed in this process (a batch worker, the server): (path as given, content digest,
# default_F) -> (grid, what reading it printed and warned); the least recently used go first
_PARSED = OrderedDict()
PARSED_KEPT = 8


def _read_hkl(path, default_F, out, warn, indir):
    """io.hkl.read_hkl of `path` in the folder indir, remembered: a file read before with the
    same content and default_F gives the same grid, and its lines and warnings are printed
    again, as the C prints them."""
    try:
        data = indir.read(path)
    except OSError:
        return read_hkl(path, default_F, out, warn, folder=indir)      # its error message names the file
    key = (path, hashlib.sha1(data).hexdigest(), default_F)
    if key in _PARSED:
        _PARSED.move_to_end(key)
        grid, said = _PARSED[key]
        for to_out, text in said:
            (out if to_out else warn)(text)
        return grid
    said = []
    grid = read_hkl(path, default_F, lambda text: (said.append((True, text)), out(text)),
                    lambda text: (said.append((False, text)), warn(text)), data=data)
    grid.F.setflags(write=False)
    _PARSED[key] = (grid, said)
    while len(_PARSED) > PARSED_KEPT:
        _PARSED.popitem(last=False)
    return grid


def structure_factors(o, fdump_readable, interpolate, out, warn, indir, outputs=None):
    """Read -hkl (and write the Fdump cache into `outputs`, an outfile.Outputs, as the C does)
    or the cache, in the folder indir (folders.Folder); interpolation is off when there are
    no HKLs."""
    if o.hklfilename is None:
        grid = read_fdump(o.dumpfilename, out, warn, indir) if fdump_readable else _empty_grid()
    else:
        grid = _read_hkl(o.hklfilename, o.default_F, out, warn, indir)
        write_fdump(o.dumpfilename, grid, out, outputs)
    return StructureFactors(grid, 0 if grid.hkls == 0 else interpolate)


def read_stol(o, out, indir):
    """-stol/-4stol/-Q: read in the folder indir and checked as the C does (it never uses
    them in the render)."""
    if o.stolfilename is None:
        return
    out("reading %s\n" % o.stolfilename)
    stol_of, F_of = read_text_file(o.stolfilename, 2, indir)
    if len(stol_of) == 0:
        raise NBError("ERROR: -stol %s: no data in input file" % o.stolfilename)
