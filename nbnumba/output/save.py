"""`Result.save(path)`: one image of a finished run in the format its file name's extension
names, written as the command writes it (outfile.write_output: never half-written)."""
import os

from nbnumba.errors import NBError
from nbnumba.io.images import float_file, pgm_file, smv_file, smv_header_bytes
from nbnumba.io.outfile import write_output
from nbnumba.output.datasets import BUILDERS, refuse_inexpressible
from nbnumba.output.images import pgm_pixels, scales, smv_values
from nbnumba.setup.detector import RoiBox

# extension -> the command's flag for the same file
FLAGS = {".img": "-intfile", ".bin": "-floatfile", ".pgm": "-pgmfile", ".h5": "-nexusfile", ".nxs": "-nexusfile",
         ".cbf": "-cbffile", ".png": "-pngfile"}


def save(result, path):
    """Write `result`'s image to `path` (see simulation.Result.save)."""
    records = result.setup
    d = records.detector
    flag = FLAGS.get(os.path.splitext(os.fspath(path))[1].lower())
    if flag is None:
        raise NBError("ERROR: cannot tell the format of %s: name it .img, .bin, .pgm, .h5, .nxs, .cbf or .png"
                      % os.fspath(path))
    if flag == "-floatfile":
        write_output(path, float_file(result.image))
    elif flag == "-intfile":
        noise = result.noiseimage is not None
        pixels = result.noiseimage if noise else result.intimage
        write_output(path, smv_file(smv_header_bytes(smv_values(records), noise=noise), pixels))
    elif flag == "-pgmfile":
        _, pgm_scale = scales(records.options, result.statistics)
        pgm = result.pgm if result.pgm is not None else \
            pgm_pixels(result.image.ravel(), d.fpixels, *RoiBox.of(d).bounds, pgm_scale)
        write_output(path, pgm_file(d.fpixels, d.spixels, pgm_scale, pgm))
    else:
        refuse_inexpressible(records.options, d, records.steps, [flag])
        write_output(path, [BUILDERS[flag](records, result.intimage, result.noiseimage)])
